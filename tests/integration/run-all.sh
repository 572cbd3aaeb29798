#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Runs every tests/integration/test-*.sh inside a private mount namespace
# with a tmpfs on /run/pcscd, so the private pcscd and its clients never
# meet the machine's pcscd.  Needs root (unshare -m).
set -u
: "${top_builddir:?}" "${top_srcdir:?}"
export top_builddir top_srcdir

if [ "$(id -u)" -ne 0 ]; then
	echo "integration tests need root (a private pcscd in a mount namespace); skipped"
	exit 77
fi
for tool in pcscd opensc-tool pcsc_scan unshare; do
	command -v "$tool" >/dev/null || { echo "missing $tool: apt-get install pcscd opensc pcsc-tools util-linux"; exit 1; }
done

if [ -z "${OL_IN_NAMESPACE:-}" ]; then
	OL_IN_NAMESPACE=1 exec unshare -m --propagation private sh "$0" "$@"
fi
mkdir -p /run/pcscd
mount -t tmpfs -o mode=0755 tmpfs /run/pcscd || exit 1

pass=0; fail=0; failed=""
for t in "$top_srcdir"/tests/integration/test-*.sh; do
	[ -n "${1:-}" ] && case "$t" in *"$1"*) ;; *) continue ;; esac
	echo "=== $(basename "$t")"
	if bash "$t"; then pass=$((pass + 1)); else fail=$((fail + 1)); failed="$failed $(basename "$t")"; fi
done
echo "integration: $pass passed, $fail failed"
[ -z "$failed" ] || echo "failed:$failed"
[ "$fail" -eq 0 ]
