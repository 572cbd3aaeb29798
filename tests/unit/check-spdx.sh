#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# ifd-openloop: every source file says its licence in its first lines, as
# an SPDX identifier that matches COPYING (LGPL 2.1 or later).
#
# automake test protocol: exit 0 pass, 1 fail.

set -u
top=${top_srcdir:-.}
cd "$top" || exit 1
want='SPDX-License-Identifier: LGPL-2.1-or-later'
missing=0
count=0
for f in $(find src tests scripts udev debian .ci bench \
	    \( -path tests/fuzz/corpus -o -path '*/build*' \) -prune -o \
	    -type f \( -name '*.[ch]' -o -name '*.sh' -o -name '*.py' \
	    -o -name '*.in' -o -name run -o -name rules -o -name '*.postinst' \
	    -o -name '*.postrm' \) -print 2>/dev/null) \
	    Makefile.am configure.ac; do
	[ -f "$f" ] || continue
	count=$((count + 1))
	if ! head -n 3 "$f" | grep -q "$want"; then
		echo "FAIL: $f has no '$want' in its first 3 lines"
		missing=$((missing + 1))
	fi
done
if [ $missing -eq 0 ]; then
	echo "PASS: $count source files carry the SPDX identifier"
	exit 0
fi
exit 1
