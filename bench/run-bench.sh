#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Runs openloop-bench (docs/performance.md): two simulated Openloops, one
# with USB pacing (--report-interval 1, the default: one input report per
# 1 ms frame) and one without (0), a private pcscd with the built driver
# reading both, inside a mount namespace with a tmpfs on /run/pcscd as the
# integration tests do (tests/integration/lib.sh), so the machine's pcscd
# and other people's simulators are never touched.  As root.
#
#   run-bench.sh [--quick] [-n N] [--warmup N] [--cpu-apdus N] [--json FILE]
#
# --quick: a few iterations, for CI (proves it still builds and runs; the
# figures mean nothing).  Default JSON: $top_builddir/bench.json.
# A benchmark, not a test: exit 0 unless something failed to run.
set -u
: "${top_builddir:?top_builddir not set}"
: "${top_srcdir:?top_srcdir not set}"
export top_builddir top_srcdir

B_N=200 B_CPU=1000 B_WARMUP=5 B_JSON=$top_builddir/bench.json
while [ $# -gt 0 ]; do
	case "$1" in
	--quick) B_N=5 B_CPU=100 B_WARMUP=1 ;;
	-n) B_N=$2; shift ;;
	--cpu-apdus) B_CPU=$2; shift ;;
	--warmup) B_WARMUP=$2; shift ;;
	--json) B_JSON=$2; shift ;;
	*) echo "usage: run-bench.sh [--quick] [-n N] [--warmup N] [--cpu-apdus N] [--json FILE]" >&2; exit 2 ;;
	esac
	shift
done
case "$B_JSON" in /*) ;; *) B_JSON=$PWD/$B_JSON ;; esac

if [ "$(id -u)" -ne 0 ]; then
	echo "run-bench.sh needs root (a private pcscd in a mount namespace); skipped"
	exit 77
fi
for tool in pcscd opensc-tool unshare; do
	command -v "$tool" >/dev/null || { echo "missing $tool: apt-get install pcscd opensc util-linux"; exit 1; }
done
if [ -z "${OL_IN_NAMESPACE:-}" ]; then
	OL_IN_NAMESPACE=1 exec unshare -m --propagation private \
		sh "$0" -n "$B_N" --warmup "$B_WARMUP" --cpu-apdus "$B_CPU" --json "$B_JSON"
fi
mkdir -p /run/pcscd
mount -t tmpfs -o mode=0755 tmpfs /run/pcscd || exit 1

. "$top_srcdir/tests/integration/lib.sh"
ol_setup
trap ol_cleanup EXIT

# pcscd as the tests start it, but without debug logging and with the
# driver logging only critical errors: logging every APDU would be
# measured too
bench_start_pcscd() {
	rm -f /run/pcscd/pcscd.comm
	IFDOPENLOOP_ifdLogLevel=0x01 pcscd -f --error -c "$OL_W/reader.conf.d" \
		>"$OL_W/pcscd.log" 2>&1 &
	OL_PCSCD_PID=$!
	OL_PIDS="$OL_PIDS $OL_PCSCD_PID"
	ol_wait_for /run/pcscd/pcscd.comm 50 || { echo "pcscd did not start:"; cat "$OL_W/pcscd.log"; return 1; }
	for name in "$@"; do
		i=0
		until opensc-tool -l 2>/dev/null | grep -q "$name"; do
			i=$((i + 1))
			[ "$i" -gt 50 ] && { echo "reader '$name' did not appear:"; tail -20 "$OL_W/pcscd.log"; return 1; }
			sleep 0.1
		done
	done
}

ol_start_sim_at "$OL_W/paced.sock" --report-interval 1 --serial OLBENCH00001 || exit 1
ol_start_sim_at "$OL_W/unpaced.sock" --report-interval 0 --serial OLBENCH00002 || exit 1
ol_add_reader "Openloop bench paced" "$OL_W/paced.sock"
ol_add_reader "Openloop bench unpaced" "$OL_W/unpaced.sock"
bench_start_pcscd "Openloop bench paced" "Openloop bench unpaced" || exit 1

echo "# $(uname -n): $(nproc) CPUs, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1), load $(cut -d' ' -f1-3 /proc/loadavg)"
"$top_builddir/bench/openloop-bench" -n "$B_N" --warmup "$B_WARMUP" \
	--cpu-apdus "$B_CPU" --pcscd-pid "$OL_PCSCD_PID" --json "$B_JSON" \
	--case pacing-on --reader "Openloop bench paced" \
		--device "unix:$OL_W/paced.sock" --report-interval 1 \
	--case pacing-off --reader "Openloop bench unpaced" \
		--device "unix:$OL_W/unpaced.sock" --report-interval 0
rc=$?
if [ "$rc" -ne 0 ]; then
	echo "openloop-bench failed ($rc); pcscd log:"; tail -20 "$OL_W/pcscd.log"
	for s in paced unpaced; do echo "$s simulator:"; tail -10 "$OL_W/$s.sock.log"; done
	exit "$rc"
fi
echo "JSON: $B_JSON"
