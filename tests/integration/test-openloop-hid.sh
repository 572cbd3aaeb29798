#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# openloop-hid, the diagnostic tool, against openloop-sim (info, wink,
# ping, apdu through the real transport) and against this machine, which
# has no Openloop hardware: 'list' must say so.  Fake sysfs trees
# (OPENLOOP_HID_SYSFS_ROOT) cover what only hardware would show: a FIDO
# node, a device with its USB HID setting off, two devices, no permission.
# No pcscd needed.
. "$top_srcdir/tests/integration/lib.sh"
ol_setup
trap ol_cleanup EXIT

HID="$top_builddir/openloop-hid"

ol_start_sim --serial OLHID0001 || exit 1
DEV="unix:$OL_SOCK"

check_grep "--help shows the subcommands" 'ping \[DEVICE\].*--count' "$HID" --help
check_grep "--version" '^openloop-hid [0-9]' "$HID" --version
check_grep "info: firmware 0.91.0" '^firmware: +0\.91\.0$' "$HID" info "$DEV"
echo "$OUT" | sed 's/^/    | /'
check_grep "info: capabilities 05 (WINK CBOR: CTAP2 and U2F)" '^capabilities: +0x05 WINK CBOR$' \
	printf '%s\n' "$OUT"
check_grep "info: CTAPHID protocol 2" '^CTAPHID protocol: 2$' printf '%s\n' "$OUT"
check_grep "info: serial from the socket's .serial file" '^serial: +OLHID0001$' \
	printf '%s\n' "$OUT"

check_grep "wink" 'wink sent' "$HID" wink "$DEV"

check_grep "ping: 10 pings, latency and throughput, 0 errors" \
	'PING 57 bytes: 10 sent, 10 ok, 0 errors' "$HID" ping "$DEV"
ping_out=$OUT
echo "$ping_out" | sed 's/^/    | /'
check_grep "ping prints min/median/max round trip" \
	'round trip: min [0-9.]+ ms, median [0-9.]+ ms, max [0-9.]+ ms' printf '%s\n' "$ping_out"
check_grep "ping prints throughput" 'throughput: [1-9][0-9]* bytes/s each way' \
	printf '%s\n' "$ping_out"
check_grep "ping of several sizes up to the largest message (7609)" \
	'PING 7609 bytes: 3 sent, 3 ok, 0 errors' "$HID" ping "$DEV" --count 3 --size 0,1024,7609
echo "$OUT" | sed 's/^/    | /'

check_grep "apdu: SELECT PIV answers 9000" '^SW: 9000' \
	"$HID" apdu "$DEV" 00A4040009A0000003080000100000
apdu_out=$OUT
echo "$apdu_out" | sed 's/^/    | /'
check_grep "apdu: the response is the 61 template" \
	'^response data \([0-9]+ bytes\):$' printf '%s\n' "$apdu_out"
check "apdu: response data starts with 61" \
	sh -c 'printf "%s\n" "$1" | sed -n "/^response data/{n;p;}" | grep -q "^  61 "' _ "$apdu_out"
# 256 bytes + SW: an init packet and four continuation packets
check_grep "apdu: response over continuation packets (GET CHALLENGE 256)" \
	'^response data \(256 bytes\):$' "$HID" apdu "$DEV" 00 84 00 00 00
check_grep "apdu: extended, 4096 bytes (70 packets)" \
	'^response data \(4096 bytes\):$' "$HID" apdu "$DEV" '00 84 00 00 00 10 00'
# a PIN is never taken from the command line (ps, shell history)
check_grep "apdu: a VERIFY with its PIN on the command line is refused (2), with the way to give it" \
	'give it on standard input' sh -c '"$1" apdu "$2" 00 20 00 80 08 31 32 33 34 35 36 FF FF; test $? -eq 2' _ "$HID" "$DEV"
printf '00 20 00 80 08 31 32 33 34 35 36 FF FF\n' >"$OL_W/verify.hex"
check_grep "apdu: the VERIFY from standard input; -v logs the exchange, PIN hidden" 'C: 00 20 00 80 08 <8 bytes hidden>' \
	sh -c '"$1" -v apdu "$2" - <"$3"' _ "$HID" "$DEV" "$OL_W/verify.hex"
verify_out=$OUT
check "apdu: neither the log nor the output shows the PIN bytes" \
	sh -c '! printf "%s\n" "$1" | grep -q "31 32 33 34"' _ "$verify_out"
check_grep "apdu: the command is printed back redacted" '^command \(13 bytes\): 00 20 00 80 08 <8 bytes hidden>$' \
	printf '%s\n' "$verify_out"
check "apdu: bad hex is a usage error (2)" \
	sh -c '"$1" apdu "$2" 00A; test $? -eq 2' _ "$HID" "$DEV"

check "nonexistent socket: exit status is not 0" \
	sh -c '! "$1" info unix:/nonexistent/openloop.sock' _ "$HID"
check_grep "nonexistent socket: 'no such device'" 'no such device' \
	sh -c '"$1" info unix:/nonexistent/openloop.sock; true' _ "$HID"
echo "$OUT" | sed 's/^/    | /'

# This machine: no Openloop hardware (and possibly no USB bus at all).
check "list on this machine exits 1" sh -c '"$1" list; test $? -eq 1' _ "$HID"
check_grep "list on this machine: 'no Openloop device found'" \
	'no Openloop device found' sh -c '"$1" list; true' _ "$HID"
echo "$OUT" | sed 's/^/    | /'
check_grep "info without DEVICE: 'no Openloop device found', exit 1" \
	'no Openloop device found' sh -c '"$1" info; test $? -eq 1' _ "$HID"

# --- fake sysfs trees ------------------------------------------------------
# hidraw report descriptor of a CTAPHID interface (usage page F1D0, usage 1)
FIDO_DESC='\x06\xd0\xf1\x09\x01\xa1\x01\x09\x20\x15\x00\x26\xff\x00\x75\x08\x95\x40\x81\x02\x09\x21\x15\x00\x26\xff\x00\x75\x08\x95\x40\x91\x02\xc0'
# a keyboard's (generic desktop, usage 6)
KBD_DESC='\x05\x01\x09\x06\xa1\x01\x05\x07\x19\xe0\x29\xe7\x15\x00\x25\x01\x75\x01\x95\x08\x81\x02\xc0'

# fake_usb ROOT PORT VID PID DEVNUM SERIAL: a USB device under ROOT
fake_usb() {
	d="$1/sys/devices/pci0000:00/usb1/$2"
	mkdir -p "$d" "$1/sys/bus/usb/devices"
	echo "$3" >"$d/idVendor"; echo "$4" >"$d/idProduct"
	echo 1 >"$d/busnum"; echo "$5" >"$d/devnum"
	echo "$6" >"$d/serial"; echo "Openloop" >"$d/product"
	ln -sfn "../../../devices/pci0000:00/usb1/$2" "$1/sys/bus/usb/devices/$2"
}

# fake_iface ROOT PORT IFACE CLASS: an interface of that device
fake_iface() {
	d="$1/sys/devices/pci0000:00/usb1/$2/$2:1.$3"
	mkdir -p "$d"
	printf '%02x\n' "$3" >"$d/bInterfaceNumber"; echo "$4" >"$d/bInterfaceClass"
	ln -sfn "../../../devices/pci0000:00/usb1/$2/$2:1.$3" "$1/sys/bus/usb/devices/$2:1.$3"
}

# fake_hidraw ROOT PORT IFACE N VID PID SERIAL DESC: hidrawN on that interface
fake_hidraw() {
	hd="$1/sys/devices/pci0000:00/usb1/$2/$2:1.$3/0003:$5:$6.000$4"
	mkdir -p "$hd" "$1/sys/class/hidraw/hidraw$4" "$1/dev"
	printf 'DRIVER=hid-generic\nHID_ID=0003:0000%s:0000%s\nHID_NAME=Openloop Security Key\nHID_PHYS=usb-0000:00:14.0-%s/input%s\nHID_UNIQ=%s\n' \
		"$5" "$6" "$2" "$3" "$7" >"$hd/uevent"
	printf "$8" >"$hd/report_descriptor"
	ln -sfn "../../../devices/pci0000:00/usb1/$2/$2:1.$3/0003:$5:$6.000$4" \
		"$1/sys/class/hidraw/hidraw$4/device"
	: >"$1/dev/hidraw$4"
	chmod 0600 "$1/dev/hidraw$4"
}

# one Openloop with a keyboard interface 0 and the FIDO interface 1
R1="$OL_W/root1"
fake_usb "$R1" 1-1 1209 0001 4 OLSERIAL1
fake_iface "$R1" 1-1 0 03; fake_iface "$R1" 1-1 1 03
fake_hidraw "$R1" 1-1 0 0 1209 0001 OLSERIAL1 "$KBD_DESC"
fake_hidraw "$R1" 1-1 1 1 1209 0001 OLSERIAL1 "$FIDO_DESC"
check_grep "fake sysfs: list finds the FIDO node (exit 0)" \
	"$R1/dev/hidraw1: Openloop device" env OPENLOOP_HID_SYSFS_ROOT="$R1" "$HID" list
list1=$OUT
echo "$list1" | sed 's/^/    | /'
check_grep "fake sysfs: serial, interface, FIDO page, access" \
	'serial: +OLSERIAL1' printf '%s\n' "$list1"
check_grep "fake sysfs: interface number 1 on bus 001 device 004" \
	'interface: +1 \(USB bus 001 device 004\)' printf '%s\n' "$list1"
check_grep "fake sysfs: FIDO usage page yes" 'FIDO usage page 0xF1D0: yes' printf '%s\n' "$list1"
check_grep "fake sysfs: keyboard interface shown without the FIDO page" \
	'hidraw0: Openloop USB ID, but no FIDO interface' printf '%s\n' "$list1"
check_grep "fake sysfs: access ok for root" 'access: +ok' printf '%s\n' "$list1"
check "fake sysfs: no 'USB HID' warning when the FIDO node is there" \
	sh -c '! printf "%s\n" "$1" | grep -q "offers no FIDO"' _ "$list1"
# info without DEVICE picks the one node; the fake node is a plain file,
# so the transport refuses it as not a hidraw node
check_grep "fake sysfs: info without DEVICE picks hidraw1" \
	"$R1/dev/hidraw1: no such device" \
	sh -c 'OPENLOOP_HID_SYSFS_ROOT="$1" "$2" info; true' _ "$R1" "$HID"

# permission denied, seen by an unprivileged user
if command -v setpriv >/dev/null && [ "$(id -u)" -eq 0 ]; then
	chmod 0755 "$OL_W"
	nobody="setpriv --reuid=65534 --regid=65534 --clear-groups"
	check_grep "fake sysfs: list shows permission denied for nobody" \
		'access: +permission denied: install the udev rule 70-openloop.rules' \
		sh -c 'OPENLOOP_HID_SYSFS_ROOT="$1" $2 "$3" list; true' _ "$R1" "$nobody" "$HID"
	check_grep "permission denied names the rule, pcscd, udevadm trigger" \
		'70-openloop.rules.*' \
		sh -c 'OPENLOOP_HID_SYSFS_ROOT="$1" $2 "$3" info 2>&1; true' _ "$R1" "$nobody" "$HID"
	perm=$OUT
	echo "$perm" | sed 's/^/    | /'
	check "permission message: group pcscd, uaccess, replug/udevadm trigger" \
		sh -c 'printf "%s\n" "$1" | grep -q "group pcscd" &&
		       printf "%s\n" "$1" | grep -q uaccess &&
		       printf "%s\n" "$1" | grep -q "udevadm trigger"' _ "$perm"
	chmod 0700 "$OL_W"
else
	ol_skip "permission tests" "need root and setpriv"
fi

# a device whose USB HID setting is off: a CCID interface, no HID at all
R2="$OL_W/root2"
fake_usb "$R2" 1-2 1209 0001 7 OLSERIAL2
fake_iface "$R2" 1-2 0 0b
check_grep "fake sysfs: USB HID off is reported with the fix" \
	'plugged in, but offers no FIDO HID interface: turn Settings > USB > USB HID on, on the device' \
	sh -c 'OPENLOOP_HID_SYSFS_ROOT="$1" "$2" list; test $? -eq 1' _ "$R2" "$HID"
echo "$OUT" | sed 's/^/    | /'
check "fake sysfs: ... and not as 'no device'" \
	sh -c '! printf "%s\n" "$1" | grep -q "no Openloop device found"' _ "$OUT"
check_grep "fake sysfs: info without DEVICE gives the same fix" \
	'turn Settings > USB > USB HID on' \
	sh -c 'OPENLOOP_HID_SYSFS_ROOT="$1" "$2" info; test $? -eq 1' _ "$R2" "$HID"

# two devices: without DEVICE, the tool names both and stops
R3="$OL_W/root3"
fake_usb "$R3" 1-1 1209 0001 4 OLSERIAL1; fake_iface "$R3" 1-1 0 03
fake_hidraw "$R3" 1-1 0 2 1209 0001 OLSERIAL1 "$FIDO_DESC"
fake_usb "$R3" 1-3 1209 0001 9 OLSERIAL3; fake_iface "$R3" 1-3 0 03
fake_hidraw "$R3" 1-3 0 5 1209 0001 OLSERIAL3 "$FIDO_DESC"
check_grep "fake sysfs: two devices, info without DEVICE names both" \
	'2 Openloop devices found; name one' \
	sh -c 'OPENLOOP_HID_SYSFS_ROOT="$1" "$2" info; test $? -eq 1' _ "$R3" "$HID"
echo "$OUT" | sed 's/^/    | /'
check_grep "... with their serials" 'hidraw5 +serial OLSERIAL3' printf '%s\n' "$OUT"

# another vendor's FIDO key is shown, but never picked
R4="$OL_W/root4"
fake_usb "$R4" 1-4 1050 0407 3 YK123; fake_iface "$R4" 1-4 0 03
fake_hidraw "$R4" 1-4 0 0 1050 0407 YK123 "$FIDO_DESC"
check_grep "fake sysfs: another vendor's FIDO key is listed as such" \
	'FIDO device, not an ID this build claims' \
	sh -c 'OPENLOOP_HID_SYSFS_ROOT="$1" "$2" list; test $? -eq 1' _ "$R4" "$HID"
# ... until the installed bundle's Info.plist claims its ID (what
# openloop-usb-ids add does; the package's build claims none itself)
drop=$(sed -n 's/^usbdropdir = //p' "$top_builddir/Makefile")
mkdir -p "$R4$drop/ifd-openloop.bundle/Contents"
sh "$top_builddir/openloop-usb-ids" render-plist "$top_srcdir/Info.plist.in" 1050:0407 0.0 libifdopenloop.so \
	>"$R4$drop/ifd-openloop.bundle/Contents/Info.plist"
check_grep "fake sysfs: an ID the installed Info.plist claims counts as Openloop's" \
	"$R4/dev/hidraw0: Openloop device" env OPENLOOP_HID_SYSFS_ROOT="$R4" "$HID" list

# a device whose serial string carries a terminal escape sequence: shown
# with '?' in place of the control bytes, never sent to the terminal
R5="$OL_W/root5"
esc_serial=$(printf 'OL\033[2J\033]0;x\007')
fake_usb "$R5" 1-5 1209 0001 6 "$esc_serial"; fake_iface "$R5" 1-5 0 03
fake_hidraw "$R5" 1-5 0 0 1209 0001 "$esc_serial" "$FIDO_DESC"
check_grep "fake sysfs: control bytes of a device's serial are shown as '?'" \
	'serial: +OL\?\[2J\?\]0;x\?' env OPENLOOP_HID_SYSFS_ROOT="$R5" "$HID" list
check "... and no escape byte reaches the terminal" \
	sh -c '! printf "%s" "$1" | od -An -c | grep -q "033"' _ "$OUT"

ol_summary
