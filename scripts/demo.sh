#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Quick start, part 1: set up, then show the whole path working: the
# virtual Openloop device, a private pcscd with our driver, stock tools.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
"$here/scripts/setup.sh"
export top_srcdir="$here" top_builddir="$here/build"
exec unshare -m --propagation private sh -c '
	mkdir -p /run/pcscd && mount -t tmpfs -o mode=0755 tmpfs /run/pcscd &&
	exec bash "$top_srcdir/scripts/demo-run.sh"'
