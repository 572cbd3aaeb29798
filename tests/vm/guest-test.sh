#!/bin/bash
# Stage 2 of the VM test: runs as PID 1 in the guest, on the overlay over
# the host's root (see guest-init.sh), with the host's own binaries.  Prints
# TAP lines ("ok - ..." / "not ok - ...") on /dev/ttyS1 for run-vm.sh,
# copies logs to /ol-out, ends with the marker OL-VM-END and powers off.
#
# Stages (OL_STAGE is the last one run):
#   boot   the overlay root, the build tree visible, systemd-udevd running
#   udev   the USB gadget (dummy_hcd + configfs HID, Openloop VID/PID, serial,
#          FIDO report descriptor) as a real /dev/hidraw0; the project's udev
#          rule applied: owner, group pcscd, mode 0660, no world access
#   pcscd  openloop-sim on /dev/hidg0; pcscd with libudev hotplug and no
#          reader.conf loads the installed bundle; pcsc_scan sees the reader
#          with the serial in its name
#   piv    provisioning, pkcs11-tool signature, openssl verification

set -u
. /run/ol.conf
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root LANG=C.UTF-8
OUT=/ol-out
SERIAL=OLVM0001
PIN=123456
PASS=0
FAIL=0
STAGES="boot udev pcscd piv"

tap() { echo "$*" >/dev/ttyS1; echo "$*" >/dev/console; }
ok() { PASS=$((PASS + 1)); tap "ok - $*"; }
notok() { FAIL=$((FAIL + 1)); tap "not ok - $*"; }
diag() { printf '%s\n' "$@" | sed 's/^/# /' | while IFS= read -r l; do tap "$l"; done; }

# check NAME CMD...: CMD's output goes to $OUT/check.out and into the TAP
# diagnostics when it fails
check() {
	local name=$1; shift
	if "$@" >"$OUT/check.out" 2>&1; then ok "$name"; return 0; fi
	notok "$name"; diag "$(tail -20 "$OUT/check.out")"; return 1
}

finish() {
	sync
	diag "guest: $PASS passed, $FAIL failed"
	tap "OL-VM-END"
	sync
	echo o >/proc/sysrq-trigger
	sleep 10
}
trap finish EXIT

# stage_on NAME: true while NAME is not after OL_STAGE
stage_on() {
	local s
	diag "stage $1 at $(cut -d' ' -f1 /proc/uptime) s"
	for s in $STAGES; do
		[ "$s" = "$1" ] && return 0
		[ "$s" = "$OL_STAGE" ] && return 1
	done
	return 1
}

wait_for() { # CMD... ; up to 10 s
	local n=0
	until "$@" >/dev/null 2>&1; do
		n=$((n + 1)); [ "$n" -gt 100 ] && return 1; sleep 0.1
	done
}

# ---------------------------------------------------------------- boot --
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t tmpfs -o mode=1777 tmpfs /dev/shm
hostname olvm

check "boot: root is the host's (pcscd, systemd-udevd, the build tree at $OL_BUILDDIR)" \
	test -x /usr/sbin/pcscd -a -x /lib/systemd/systemd-udevd -a -r "$OL_BUILDDIR/.libs/libifdopenloop.so"
check "boot: the overlay is writable" sh -c 'echo x > /etc/.olvm && rm /etc/.olvm'
check "boot: the guest kernel's modules at /lib/modules/$(uname -r)" \
	test -r "/lib/modules/$(uname -r)/modules.dep"

udevd_start() {
	/lib/systemd/systemd-udevd --daemon --debug >"$OUT/udevd.log" 2>&1 || return 1
	udevadm trigger --action=add --type=subsystems && udevadm trigger --action=add --type=devices &&
		udevadm settle --timeout=60
}
check "boot: systemd-udevd started, coldplug settled" udevd_start || exit 1
stage_on udev || exit 0

# ---------------------------------------------------------------- udev --
# the project's udev rule and bundle, as `make install` puts them
RULE="$OL_BUILDDIR/udev/70-openloop.rules"
DROP=/usr/lib/pcsc/drivers
install_project() {
	if [ ! -r "$RULE" ]; then
		echo "$RULE missing (make udev/70-openloop.rules in the build tree)"
		return 1
	fi
	install -D -m 644 "$OL_BUILDDIR/Info.plist" "$DROP/ifd-openloop.bundle/Contents/Info.plist" &&
	install -D -m 644 "$OL_BUILDDIR/.libs/libifdopenloop.so" \
		"$DROP/ifd-openloop.bundle/Contents/Linux/libifdopenloop.so" &&
	install -D -m 644 "$RULE" /etc/udev/rules.d/70-openloop.rules &&
	{ getent group pcscd >/dev/null || groupadd --system pcscd; } &&
	udevadm control --reload
}
check "udev: bundle in $DROP, rule in /etc/udev/rules.d, group pcscd" install_project || exit 1
if [ -d "$DROP/ifd-ccid.bundle" ]; then
	ok "udev: libccid's bundle is installed beside ours"
else
	diag "libccid not installed on the host: the side-by-side check is not made"
fi

# the gadget, as in shared/vm-gadget.md
G=/sys/kernel/config/usb_gadget/ol
gadget_create() {
	modprobe dummy_hcd && modprobe usb_f_hid && modprobe libcomposite &&
	modprobe hid-generic && modprobe usbhid || return 1
	mountpoint -q /sys/kernel/config || mount -t configfs none /sys/kernel/config || return 1
	mkdir "$G" && cd "$G" || return 1
	echo 0x1209 >idVendor; echo 0x0001 >idProduct
	mkdir strings/0x409
	echo "$SERIAL" >strings/0x409/serialnumber
	echo Openloop >strings/0x409/product
	mkdir functions/hid.usb0
	echo 0 >functions/hid.usb0/protocol
	echo 0 >functions/hid.usb0/subclass
	echo 64 >functions/hid.usb0/report_length
	# FIDO: usage page F1D0, usage 01; 64-byte input (20) and output (21) reports
	printf '\x06\xd0\xf1\x09\x01\xa1\x01\x09\x20\x15\x00\x26\xff\x00\x75\x08\x95\x40\x81\x02\x09\x21\x15\x00\x26\xff\x00\x75\x08\x95\x40\x91\x02\xc0' \
		>functions/hid.usb0/report_desc
	mkdir configs/c.1
	ln -s functions/hid.usb0 configs/c.1/
	cd /
	gadget_bind
}
gadget_bind() { ls /sys/class/udc >"$G/UDC" && udevadm settle --timeout=30; }
gadget_unbind() { echo "" >"$G/UDC" && udevadm settle --timeout=30; }

check "udev: USB gadget 1209:0001 serial $SERIAL bound to dummy_hcd" gadget_create || exit 1
check "udev: /dev/hidraw0 and /dev/hidg0 appear" wait_for test -c /dev/hidraw0 -a -c /dev/hidg0 || exit 1
# devtmpfs makes the node before udevd has processed the event: wait for
# udevd's record of it (the USB enumeration runs after gadget_bind's settle)
udev_done() { udevadm settle --timeout=5 && udevadm info /dev/hidraw0 | grep -q '^E: SUBSYSTEM=hidraw' &&
	udevadm info /dev/hidraw0 | grep -q '^E: ID_'; }
wait_for udev_done
udevadm settle --timeout=30
udevadm info /dev/hidraw0 >"$OUT/hidraw0.udev" 2>&1
cat /sys/class/hidraw/hidraw0/device/uevent >"$OUT/hidraw0.uevent" 2>&1
diag "$(grep -E 'HID_(ID|NAME|UNIQ)|DRIVER' "$OUT/hidraw0.uevent")"
check "udev: hidraw0 is HID 0003:00001209:00000001 with HID_UNIQ=$SERIAL" \
	sh -c "grep -qx HID_ID=0003:00001209:00000001 $OUT/hidraw0.uevent && grep -qx HID_UNIQ=$SERIAL $OUT/hidraw0.uevent"
check "udev: 60-fido-id.rules marks it ID_FIDO_TOKEN=1" grep -qx 'E: ID_FIDO_TOKEN=1' "$OUT/hidraw0.udev"
perm=$(stat -c '%U %G %a' /dev/hidraw0)
diag "/dev/hidraw0: $perm"
check "udev: /dev/hidraw0 is root pcscd 660 (the project's rule applied)" test "$perm" = "root pcscd 660"
if command -v getfacl >/dev/null; then
	getfacl -p /dev/hidraw0 >"$OUT/hidraw0.acl" 2>&1
	diag "$(grep -v '^#' "$OUT/hidraw0.acl" | grep .)"
	check "udev: ACL of /dev/hidraw0 gives others nothing" grep -qx 'other::---' "$OUT/hidraw0.acl"
else
	diag "getfacl missing (acl package): ACL not checked"
fi
check "udev: the rule's TAG uaccess is on the device (no seat here to act on it)" \
	grep -Eq '^E: (CURRENT_)?TAGS=.*:uaccess:' "$OUT/hidraw0.udev"
stage_on pcscd || exit 0

# --------------------------------------------------------------- pcscd --
# Without a simulator on /dev/hidg0 (openloop-sim --hidg), pcscd still
# loads our bundle by VID/PID; the driver then finds no CTAPHID device
# answering, so only the hotplug load is checked and the stage ends there.
SIM=${OL_SIM:-$OL_BUILDDIR/openloop-sim}
HAVE_SIM=0
"$SIM" --help 2>&1 | grep -q -- '--hidg' && HAVE_SIM=1
if [ "$HAVE_SIM" = 1 ]; then
	"$SIM" --hidg /dev/hidg0 --serial "$SERIAL" --pin "$PIN" >"$OUT/sim.log" 2>&1 &
	SIM_PID=$!
	sleep 0.5
	check "pcscd: openloop-sim serves /dev/hidg0" kill -0 "$SIM_PID" || exit 1
else
	diag "SKIP $SIM has no --hidg: nothing serves /dev/hidg0, only pcscd's hotplug load is checked"
	# asked for more than the load (the default): that is a failure
	[ "$OL_STAGE" = pcscd ] || notok "pcscd: openloop-sim --hidg, needed for stage $OL_STAGE"
fi

rm -f /etc/reader.conf.d/* 2>/dev/null
mkdir -p /run/pcscd
IFDOPENLOOP_ifdLogLevel=0x07 pcscd -f -d >"$OUT/pcscd.log" 2>&1 &
PCSCD_PID=$!
check "pcscd: started with no reader.conf (libudev hotplug only)" wait_for test -S /run/pcscd/pcscd.comm
reader_up() { grep -q 'reader on /dev/hidraw0 ready' "$OUT/pcscd.log"; }
# the hotplug add ends in one of these; one grep a second (TCG forks slowly)
n=0; until grep -Eq 'reader on /dev/hidraw0 ready|Failed adding USB device' "$OUT/pcscd.log" ||
	[ "$n" -gt 60 ]; do n=$((n + 1)); sleep 0.5; done
diag "pcscd's hotplug lines:" \
	"$(grep -E 'Looking for a driver for VID: 0x1209|Adding USB device|Failed adding|ifd-openloop|reader on|ol_|Openloop' "$OUT/pcscd.log" | head -20)"
hotplug_add() {
	grep -q 'Looking for a driver for VID: 0x1209, PID: 0x0001' "$OUT/pcscd.log" &&
	grep -q 'Adding USB device: Openloop' "$OUT/pcscd.log"
}
check "pcscd: looked for a driver for 1209:0001 and added the USB device" hotplug_add
check "pcscd: loaded the bundle from $DROP/ifd-openloop.bundle" grep -q 'ifd-openloop' "$OUT/pcscd.log"
[ "$HAVE_SIM" = 1 ] || exit 0
check "pcscd: our driver says 'reader on /dev/hidraw0 ready'" reader_up
timeout 20 pcsc_scan -t 3 >"$OUT/pcsc_scan.log" 2>&1
diag "$(grep -iE 'openloop|Card state' "$OUT/pcsc_scan.log" | sort -u | head -5)"
check "pcscd: pcsc_scan shows 'Openloop ... ($SERIAL)'" \
	grep -Eq "Openloop.*\($SERIAL\)" "$OUT/pcsc_scan.log"
stage_on piv || exit 0

# ----------------------------------------------------------------- piv --
# tests/integration/piv-lib.sh as the PIV tests use it (it needs only
# OL_W; lib.sh is not sourced: its check() would replace the TAP one here)
. "$OL_SRCDIR/tests/integration/piv-lib.sh"
OL_W=/tmp/piv; mkdir -p "$OL_W"
piv_init
check "piv: provision 9A, P-256 key and certificate (piv_provision)" piv_provision 9A 11 "/CN=Openloop VM 9A"
head -c 1000 /dev/urandom >"$OL_W/data.bin"
check "piv: pkcs11-tool --login signs with 9A (ECDSA)" \
	piv_p11 --login --pin "$PIN" --sign --id 01 -m ECDSA-SHA256 --signature-format openssl \
		-i "$OL_W/data.bin" -o "$OL_W/sig-9a.bin"
check "piv: openssl verifies the signature" \
	openssl dgst -sha256 -verify "$OL_W/pub-9A.pem" -signature "$OL_W/sig-9a.bin" "$OL_W/data.bin"
exit 0
