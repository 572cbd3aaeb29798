#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# ifd-openloop: the driver must export the ten IFDH entry points pcscd
# resolves by name, and nothing else: any other global symbol could bind
# to a same-named symbol of another driver or library loaded into pcscd.
#
# automake test protocol: exit 0 pass, 1 fail, 77 skip.

set -u

so=${top_builddir:-.}/.libs/libifdopenloop.so

expected='IFDHCloseChannel
IFDHControl
IFDHCreateChannel
IFDHCreateChannelByName
IFDHGetCapabilities
IFDHICCPresence
IFDHPowerICC
IFDHSetCapabilities
IFDHSetProtocolParameters
IFDHTransmitToICC'

if [ ! -f "$so" ]; then
	echo "SKIP: $so not built"
	exit 77
fi
if ! command -v nm >/dev/null 2>&1; then
	echo "SKIP: nm not found"
	exit 77
fi

tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT

if ! nm -D --defined-only "$so" > "$tmp/nm"; then
	echo "FAIL: nm -D --defined-only $so failed"
	exit 1
fi

# "ADDR TYPE NAME[@VERSION]".  Keep code and data symbols (text, data,
# bss, read-only, weak, unique, indirect functions); drop absolute ones
# (A, e.g. version nodes) and anything else that is not a function or
# an object.
awk 'NF >= 3 && $2 ~ /^[TtDdBbRrWwVvGgSsiu]$/ { sub(/@.*/, "", $3); print $3 }' \
	"$tmp/nm" | LC_ALL=C sort -u > "$tmp/actual"
printf '%s\n' "$expected" | LC_ALL=C sort -u > "$tmp/expected"

missing=$(LC_ALL=C comm -13 "$tmp/actual" "$tmp/expected")
extra=$(LC_ALL=C comm -23 "$tmp/actual" "$tmp/expected")

status=0
if [ -n "$missing" ]; then
	echo "FAIL: not exported by $so:"
	printf '%s\n' "$missing" | sed 's/^/  /'
	status=1
fi
if [ -n "$extra" ]; then
	echo "FAIL: exported by $so but should be hidden:"
	printf '%s\n' "$extra" | sed 's/^/  /'
	status=1
fi
if [ $status -eq 0 ]; then
	echo "PASS: $so exports exactly the ten IFDH entry points"
fi
exit $status
