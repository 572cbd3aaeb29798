#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# openloop-hid list's USB walk through the real libusb-1.0, on USB devices
# umockdev fakes (sysfs, udev and /dev under LD_PRELOAD): what tells "USB
# HID is switched off on the device" from "no device".  The devices, in
# tests/unit/umockdev/, written by hand (descriptors: device, configuration,
# interfaces, HID, endpoints, as the kernel's sysfs "descriptors" holds them):
#   openloop-fido      1209:0001 bus 1 dev 5, interface 0 the FIDO HID
#                      interface with /dev/hidraw0 ("USB HID" on)
#   openloop-hid-off   1209:0001 bus 1 dev 7, one CCID interface, no HID
#   openloop-keyboard  1209:0001 bus 1 dev 11, a HID interface, no FIDO node
#   other-mouse        046d:c077, another vendor's mouse
# Skipped (77) without umockdev-run, or in a build that does not claim
# 1209:0001 (--with-usb-ids=none).  (automake test: exit 0 pass, 1 fail)
set -u
: "${top_builddir:?}"
: "${top_srcdir:?}"

hid=$top_builddir/openloop-hid
dev=$top_srcdir/tests/unit/umockdev
fail=0
ok() { echo "ok - $*"; }
notok() { echo "not ok - $*"; fail=1; }

command -v umockdev-run >/dev/null 2>&1 ||
	{ echo "SKIP: umockdev-run missing (apt-get install umockdev)"; exit 77; }
grep -q '^#define OL_USB_IDS ".*1209:0001' "$top_builddir/config.h" ||
	{ echo "SKIP: this build does not claim 1209:0001, the devices' ID"; exit 77; }
[ -x "$hid" ] || { echo "not ok - $hid missing (make builds it)"; exit 1; }
# the fake tree is reached through umockdev's preload, not this variable
unset OPENLOOP_HID_SYSFS_ROOT
# a sanitized build: the preload library comes before the ASan runtime
ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0
export ASAN_OPTIONS

# list WANT-STATUS DEVICE...: openloop-hid list on those devices
list() {
	want=$1; shift
	args=
	for d in "$@"; do args="$args --device $dev/$d.umockdev"; done
	# shellcheck disable=SC2086
	out=$(umockdev-run $args -- "$hid" list 2>&1)
	rc=$?
	label="list on $*"
	if [ "$rc" -ne "$want" ]; then
		notok "$label: exit $rc, want $want"; echo "$out" | sed 's/^/    # /'
	fi
}
has() { # NAME FIXED-STRING
	if printf '%s\n' "$out" | grep -qF -- "$2"; then ok "$label: $1"
	else notok "$label: $1: no '$2' in"; echo "$out" | sed 's/^/    # /'; fi
}
lacks() { # NAME FIXED-STRING
	if printf '%s\n' "$out" | grep -qF -- "$2"; then
		notok "$label: $1: '$2' in"; echo "$out" | sed 's/^/    # /'
	else ok "$label: $1"; fi
}

list 0 openloop-fido
has "the FIDO node is the Openloop" "/dev/hidraw0: Openloop device"
has "tied to its USB device" "interface:  0 (USB bus 001 device 005)"
lacks "and the device is not reported without one" "offers no FIDO HID interface"

list 1 openloop-hid-off
has "the device with HID off is found on the bus" \
	"USB bus 001 device 007: 1209:0001 Openloop (serial OL0002)"
has "... and said to offer no FIDO HID interface" \
	"plugged in, but offers no FIDO HID interface: turn Settings > USB > USB HID on"
lacks "... with no HID interface counted" "HID interface,"
lacks "not \"no device\"" "no Openloop device found"

list 1 openloop-keyboard
has "a HID interface without a FIDO node is counted" \
	"(it has 1 HID interface, none with the FIDO usage page"
has "... on the right device" "USB bus 001 device 011: 1209:0001 Openloop (serial OL0003)"

list 1 other-mouse
has "another vendor's device only: no device" "no Openloop device found"
lacks "... and the bus was walked" "could not be walked"
lacks "... the mouse is not listed" "046d"

list 0 openloop-fido openloop-hid-off openloop-keyboard other-mouse
has "all together: the Openloop with HID on" "/dev/hidraw0: Openloop device"
has "... the one with HID off" "USB bus 001 device 007: 1209:0001"
has "... the one without a FIDO node" "USB bus 001 device 011: 1209:0001"
lacks "... only those two are reported without a node" "device 005: 1209:0001"
lacks "... not the mouse" "046d"

exit $fail
