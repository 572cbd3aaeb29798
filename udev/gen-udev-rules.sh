#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# ifd-openloop: write the udev rules to stdout.
#
#   gen-udev-rules.sh IN USB_IDS
#
# IN       the template (udev/70-openloop.rules.in)
# USB_IDS  VID:PID[,VID:PID...] in hex, as for gen-info-plist.sh
#
# The line holding only @OPENLOOP_DEVICE_RULES@ becomes one rule per ID.
# udev compares ATTRS{idVendor} as a string, and sysfs writes it as four
# lower-case hex digits, so the IDs are lower-cased here: "1209", not
# "0x1209" nor "120A".  POSIX sh and awk only, like gen-info-plist.sh.

set -u

me=gen-udev-rules.sh

die() {
	echo "$me: $*" >&2
	exit 1
}

[ $# -eq 2 ] || die "usage: $me IN USB_IDS"
in=$1
usb_ids=$2

if [ ! -f "$in" ] || [ ! -r "$in" ]; then
	die "cannot read template '$in'"
fi

hex4='[0-9A-Fa-f][0-9A-Fa-f][0-9A-Fa-f][0-9A-Fa-f]'
[ -n "$usb_ids" ] || die "USB_IDS is empty; want VID:PID[,VID:PID...]"
case $usb_ids in
*,) die "bad USB_IDS '$usb_ids': trailing comma" ;;
esac
rest=$usb_ids
while :; do
	case $rest in
	*,*)	item=${rest%%,*}; rest=${rest#*,} ;;
	*)	item=$rest; rest= ;;
	esac
	# $hex4 unquoted on purpose: it is a pattern.
	# shellcheck disable=SC2254
	case $item in
	$hex4:$hex4) ;;
	*) die "bad USB ID '$item' in '$usb_ids'; want VID:PID[,VID:PID...] in hex, e.g. 1209:0001" ;;
	esac
	[ -n "$rest" ] || break
done

awk -v ids="$usb_ids" '
$0 == "@OPENLOOP_DEVICE_RULES@" {
	n = split(tolower(ids), a, ",")
	for (i = 1; i <= n; i++) {
		split(a[i], vp, ":")
		printf "SUBSYSTEMS==\"usb\", ATTRS{idVendor}==\"%s\", ATTRS{idProduct}==\"%s\", GROUP=\"pcscd\", MODE=\"0660\", TAG+=\"uaccess\"\n", vp[1], vp[2]
	}
	markers++
	next
}
{
	if ($0 ~ /@[A-Z_]+@/) {
		printf "%s: line %d: unknown placeholder: %s\n", "'"$me"'", NR, $0 | "cat 1>&2"
		bad = 1
	}
	print
}
END {
	if (markers != 1) {
		printf "%s: the template needs exactly one @OPENLOOP_DEVICE_RULES@ line, found %d\n", "'"$me"'", markers | "cat 1>&2"
		bad = 1
	}
	exit bad
}
' "$in" || die "failed to expand '$in'"
