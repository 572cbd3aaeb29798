#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# ifd-openloop: the folders under src/ are layers (docs/layout.md), and
# their #include lines must say so:
#   src/common     includes only src/common
#   src/transport  src/common and itself
#   src/driver, src/tools, src/sim/*   src/common, src/transport and
#                  themselves; never each other
# and no two modules (a module: X.c with X.h) depend on each other, nor
# does any longer circle of modules exist.  Header names are unique in
# src/, so that one flat include path per layer finds the right file.
#
# automake test protocol: exit 0 pass, 1 fail.

set -u
src=${top_srcdir:-.}/src
[ -d "$src" ] || { echo "FAIL: no $src"; exit 1; }
work=$(mktemp -d) || exit 1
trap 'rm -rf "$work"' EXIT
cd "$src" || exit 1

# layer of a path below src/: common, transport, driver, tools, sim
layer() {
	case $1 in
	sim/*) echo sim ;;
	*) echo "${1%%/*}" ;;
	esac
}

find . -name '*.[ch]' | sed 's|^\./||' | sort >"$work/files"
fail=0

# every header name once
sed 's|.*/||' "$work/files" | grep '\.h$' | sort | uniq -d >"$work/dups"
if [ -s "$work/dups" ]; then
	echo "FAIL: header names used twice in src/: $(tr '\n' ' ' <"$work/dups")"
	fail=1
fi

# "file included-file" for every #include "..." of a file in src/
while read -r f; do
	sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$f" |
	while read -r inc; do
		[ "$inc" = config.h ] && continue
		target=$(grep -E "(^|/)${inc}\$" "$work/files" | head -n 1)
		if [ -z "$target" ]; then
			echo "$f ?$inc"
		else
			echo "$f $target"
		fi
	done
done <"$work/files" >"$work/edges"

while read -r from to; do
	case $to in
	\?*) echo "FAIL: $from includes ${to#\?}, which is not in src/"; fail=1; continue ;;
	esac
	lf=$(layer "$from"); lt=$(layer "$to")
	ok=0
	case $lf:$lt in
	common:common) ok=1 ;;
	transport:common | transport:transport) ok=1 ;;
	driver:common | driver:transport | driver:driver) ok=1 ;;
	tools:common | tools:transport | tools:tools) ok=1 ;;
	sim:common | sim:transport | sim:sim) ok=1 ;;
	esac
	if [ $ok -eq 0 ]; then
		echo "FAIL: $from ($lf) includes $to ($lt)"
		fail=1
	fi
done <"$work/edges"

# module graph: X.c and X.h are module X; an edge per include of
# another module's header
sed 's/\.[ch]\( \)/\1/; s/\.[ch]$//' "$work/edges" | awk '$1 != $2' |
	sort -u >"$work/modules"
awk '{ print $2, $1 }' "$work/modules" | sort >"$work/reverse"
comm -12 "$work/modules" "$work/reverse" | awk '$1 < $2' >"$work/mutual"
if [ -s "$work/mutual" ]; then
	while read -r a b; do
		echo "FAIL: $a and $b include each other"
	done <"$work/mutual"
	fail=1
fi
if ! tsort "$work/modules" >/dev/null 2>"$work/loop"; then
	echo "FAIL: a circle of modules:"
	sed 's/^/  /' "$work/loop"
	fail=1
fi

n=$(wc -l <"$work/edges")
if [ $fail -eq 0 ]; then
	echo "PASS: $n include lines in $(wc -l <"$work/files") files keep to the layers; no circle"
fi
exit $fail
