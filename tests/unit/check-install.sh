#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# make install DESTDIR=... puts the bundle where pcscd loads it: the
# generated Info.plist, the driver, and the reader.conf link.  (automake
# test: exit 0 pass, 1 fail)
set -u
: "${top_builddir:?}"
dest=$(mktemp -d)
trap 'rm -rf "$dest"' EXIT
make -s -C "$top_builddir" install DESTDIR="$dest" >"$dest.log" 2>&1 || { cat "$dest.log"; rm -f "$dest.log"; exit 1; }
rm -f "$dest.log"
# usbdropdir as make expands it (make distcheck configures ${libdir}/...);
# a clean MAKEFLAGS: the caller's -w would mix "Entering directory" in
drop=$(printf 'ol-print-usbdropdir:\n\t@echo $(usbdropdir)\n' |
	MAKEFLAGS= MAKELEVEL= make -s --no-print-directory -C "$top_builddir" -f Makefile -f - ol-print-usbdropdir)
b="$dest$drop/ifd-openloop.bundle/Contents"
fail=0
for f in "$b/Info.plist" "$b/Linux/libifdopenloop.so"; do
	[ -f "$f" ] && echo "ok - ${f#$dest}" || { echo "not ok - missing ${f#$dest}"; fail=1; }
done
[ ! -e "$b/Linux/libifdopenloop.la" ] && echo "ok - no libtool archive in the bundle" || { echo "not ok - .la installed"; fail=1; }
link="$dest$drop/serial/libifdopenloop.so"
[ -L "$link" ] && [ "$(readlink -f "$link")" = "$(readlink -f "$b/Linux/libifdopenloop.so")" ] &&
	echo "ok - ${link#$dest} points into the bundle" || { echo "not ok - serial link"; fail=1; }
grep -q '<string>libifdopenloop.so</string>' "$b/Info.plist" && echo "ok - CFBundleExecutable" || { echo "not ok - CFBundleExecutable"; fail=1; }
[ -x "$(find "$dest" -name openloop-sim -type f)" ] && echo "ok - openloop-sim installed" || { echo "not ok - openloop-sim"; fail=1; }
exit $fail
