#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Runs integration tests inside a private mount namespace with a tmpfs on
# /run/pcscd, so the private pcscd and its clients never meet the machine's
# pcscd.  Needs root (unshare -m).  Each test prints TAP (lib.sh).
#
#   run-all.sh [NAME]     every tests/integration/test-*.sh (whose name
#                         contains NAME), one after the other in one
#                         namespace; "=== test-x.sh" before each, then
#                         "integration: P passed, F failed" (test files);
#                         by hand, and scripts/test-packages.sh
#   run-all.sh --one FILE one test in a namespace of its own, its TAP on
#                         stdout: the LOG_COMPILER of `make
#                         check-integration`, which feeds it to automake's
#                         TAP driver
set -u
: "${top_builddir:?}" "${top_srcdir:?}"
export top_builddir top_srcdir

one=""
if [ "${1:-}" = --one ]; then
	one=${2:?usage: run-all.sh --one FILE}
fi

if [ "$(id -u)" -ne 0 ]; then
	why="integration tests need root (a private pcscd in a mount namespace)"
	# TAP has no exit status 77: a skip is a plan of nothing
	[ -n "$one" ] && { echo "1..0 # SKIP $why"; exit 0; }
	echo "$why; skipped"
	exit 77
fi
for tool in pcscd opensc-tool pcsc_scan unshare; do
	command -v "$tool" >/dev/null && continue
	why="missing $tool: apt-get install pcscd opensc pcsc-tools util-linux"
	[ -n "$one" ] && echo "Bail out! $why"
	echo "$why"
	exit 1
done

if [ -z "${OL_IN_NAMESPACE:-}" ]; then
	OL_IN_NAMESPACE=1 exec unshare -m --propagation private sh "$0" "$@"
fi
mkdir -p /run/pcscd
if ! mount -t tmpfs -o mode=0755 tmpfs /run/pcscd; then
	[ -n "$one" ] && echo "Bail out! cannot mount a tmpfs on /run/pcscd"
	exit 1
fi

if [ -n "$one" ]; then
	exec bash "$one"
fi

pass=0; fail=0; failed=""
for t in "$top_srcdir"/tests/integration/test-*.sh; do
	[ -n "${1:-}" ] && case "$t" in *"$1"*) ;; *) continue ;; esac
	echo "=== $(basename "$t")"
	if bash "$t"; then pass=$((pass + 1)); else fail=$((fail + 1)); failed="$failed $(basename "$t")"; fi
done
echo "integration: $pass passed, $fail failed"
[ -z "$failed" ] || echo "failed:$failed"
[ "$fail" -eq 0 ]
