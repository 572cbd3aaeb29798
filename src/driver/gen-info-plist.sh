#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# ifd-openloop: write the bundle's Info.plist to stdout.
#
#   gen-info-plist.sh IN USB_IDS VERSION EXECUTABLE
#
# IN          the template (Info.plist.in)
# USB_IDS     VID:PID[,VID:PID...] in hex, e.g. 1209:0001,20a0:42b2, or
#             none: the three lists are written empty (a distribution's
#             package; the admin adds IDs with openloop-usb-ids)
# VERSION     the package version (CFBundleVersion)
# EXECUTABLE  the shared object's file name (CFBundleExecutable)
#
# In IN, @EXECUTABLE@ and @VERSION@ are replaced, and the line holding
# only @USB_DEVICE_LISTS@ becomes the three parallel lists pcscd reads:
# ifdVendorID, ifdProductID, ifdFriendlyName.  pcscd's parser is line
# based, so every <key> and <string> is written on a line of its own.
#
# POSIX sh and awk only: this runs on build machines without python.
# Any bad argument is an error; a half-right Info.plist would make pcscd
# ignore the device without saying why.

set -u

me=gen-info-plist.sh

die() {
	echo "$me: $*" >&2
	exit 1
}

[ $# -eq 4 ] || die "usage: $me IN USB_IDS VERSION EXECUTABLE"
in=$1
usb_ids=$2
version=$3
executable=$4

if [ ! -f "$in" ] || [ ! -r "$in" ]; then
	die "cannot read template '$in'"
fi

# Each entry: exactly 4 hex digits, ':', 4 hex digits; entries separated
# by single commas, no spaces, no empty entries.
hex4='[0-9A-Fa-f][0-9A-Fa-f][0-9A-Fa-f][0-9A-Fa-f]'
[ -n "$usb_ids" ] || die "USB_IDS is empty; want VID:PID[,VID:PID...] or none"
if [ "$usb_ids" = none ]; then
	usb_ids=
else
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
	case $usb_ids in
	*,) die "bad USB_IDS '$usb_ids': trailing comma" ;;
	esac
fi

# The values go into XML text and into awk's gsub(): allow only
# characters that mean nothing to either.
case $version in
'' | *[!A-Za-z0-9._+~-]*) die "bad VERSION '$version'" ;;
esac
case $executable in
'' | *[!A-Za-z0-9._+-]*) die "bad EXECUTABLE '$executable'" ;;
esac

awk -v ids="$usb_ids" -v version="$version" -v executable="$executable" '
function lists(    n, i, a, vp, vid, pid, out) {
	# ids "" (none): n = 0, three empty arrays, which pcscd accepts
	n = split(ids, a, ",")
	for (i = 1; i <= n; i++) {
		split(a[i], vp, ":")
		vid[i] = "0x" toupper(vp[1])
		pid[i] = "0x" toupper(vp[2])
	}
	out = "\t<key>ifdVendorID</key>\n\t<array>\n"
	for (i = 1; i <= n; i++)
		out = out "\t\t<string>" vid[i] "</string>\n"
	out = out "\t</array>\n\n\t<key>ifdProductID</key>\n\t<array>\n"
	for (i = 1; i <= n; i++)
		out = out "\t\t<string>" pid[i] "</string>\n"
	out = out "\t</array>\n\n\t<key>ifdFriendlyName</key>\n\t<array>\n"
	for (i = 1; i <= n; i++)
		out = out "\t\t<string>Openloop</string>\n"
	out = out "\t</array>"
	return out
}
$0 == "@USB_DEVICE_LISTS@" {
	print lists()
	markers++
	next
}
{
	gsub(/@EXECUTABLE@/, executable)
	gsub(/@VERSION@/, version)
	if ($0 ~ /@[A-Z_]+@/) {
		printf "%s: line %d: unknown placeholder: %s\n", "'"$me"'", NR, $0 | "cat 1>&2"
		bad = 1
	}
	print
}
END {
	if (markers != 1) {
		printf "%s: the template needs exactly one @USB_DEVICE_LISTS@ line, found %d\n", "'"$me"'", markers | "cat 1>&2"
		bad = 1
	}
	exit bad
}
' "$in" || die "failed to expand '$in'"
