#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Runs openloop-bench (docs/performance.md): simulated Openloops with USB
# pacing (--report-interval 1, the default: one input report per 1 ms
# frame) and without (0), three more paced ones for 1, 2, 4 devices at
# once, one that logs its packets to count each operation's APDUs, and,
# if installed, vsmartcard's vpcd with bench/vpcd-relay as its card; a
# private pcscd with the built driver reading them, inside a mount
# namespace with a tmpfs on /run/pcscd as the integration tests do
# (tests/integration/lib.sh), so the machine's pcscd and other people's
# simulators are never touched.  As root.
#
#   run-bench.sh [--quick] [-n ROUNDS] [--warmup ROUNDS] [--cpu-apdus N]
#                [--op-runs N] [--scale-apdus N] [--timing device|instant]
#                [--json FILE] [--sessions N] [--starve-seconds S]
#                [--idle-seconds S]
#
# Then openloop-bench-fairness on the paced device: a libfido2-like
# client against a PC/SC loop both ways (--sessions, --starve-seconds),
# and pcscd's CPU while idle (--idle-seconds, 60); JSON beside the other
# as bench-fairness.json.
# --timing: the simulators' (device: signatures and key generation take
# as long as on the secure element, the default; instant: --quick's).  The
# counting device is always instant: counts do not depend on it.
# --quick: a few iterations, for CI (proves it still builds and runs; the
# figures mean nothing).  Default JSON: $top_builddir/bench.json.
# A benchmark, not a test: exit 0 unless something failed to run.
set -u
: "${top_builddir:?top_builddir not set}"
: "${top_srcdir:?top_srcdir not set}"
export top_builddir top_srcdir

B_N=50 B_CPU=1000 B_WARMUP=5 B_OPS=10 B_SCALE=500 B_TIMING=device B_JSON=$top_builddir/bench.json
B_SESSIONS=20 B_STARVE=5 B_IDLE=60
while [ $# -gt 0 ]; do
	case "$1" in
	--quick) B_N=5 B_CPU=100 B_WARMUP=1 B_OPS=2 B_SCALE=20 B_TIMING=instant
		B_SESSIONS=3 B_STARVE=1 B_IDLE=2 ;;
	--idle-seconds) B_IDLE=$2; shift ;;
	-n) B_N=$2; shift ;;
	--cpu-apdus) B_CPU=$2; shift ;;
	--warmup) B_WARMUP=$2; shift ;;
	--op-runs) B_OPS=$2; shift ;;
	--scale-apdus) B_SCALE=$2; shift ;;
	--timing) B_TIMING=$2; shift ;;
	--json) B_JSON=$2; shift ;;
	--sessions) B_SESSIONS=$2; shift ;;
	--starve-seconds) B_STARVE=$2; shift ;;
	*) echo "usage: run-bench.sh [--quick] [-n N] [--warmup N] [--cpu-apdus N] [--op-runs N] [--scale-apdus N] [--timing device|instant] [--json FILE] [--sessions N] [--starve-seconds S] [--idle-seconds S]" >&2; exit 2 ;;
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
		sh "$0" -n "$B_N" --warmup "$B_WARMUP" --cpu-apdus "$B_CPU" \
		--op-runs "$B_OPS" --scale-apdus "$B_SCALE" --timing "$B_TIMING" \
		--json "$B_JSON" --sessions "$B_SESSIONS" \
		--starve-seconds "$B_STARVE" --idle-seconds "$B_IDLE"
fi
mkdir -p /run/pcscd
mount -t tmpfs -o mode=0755 tmpfs /run/pcscd || exit 1

. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/piv-lib.sh"
ol_setup
trap ol_cleanup EXIT
piv_init
PIN=123456

# pcscd as the tests start it, but without debug logging and with the
# driver logging only critical errors: logging every APDU would be
# measured too.  BENCH_READERS: its reader.conf directory.
BENCH_READERS=$OL_W/reader.conf.d
bench_start_pcscd() {
	rm -f /run/pcscd/pcscd.comm
	IFDOPENLOOP_ifdLogLevel=0x01 pcscd -f --error -c "$BENCH_READERS" \
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

ol_start_sim_at "$OL_W/paced.sock" --report-interval 1 --serial OLBENCH00001 \
	--pin "$PIN" --touch approve --timing "$B_TIMING" || exit 1
ol_start_sim_at "$OL_W/unpaced.sock" --report-interval 0 --serial OLBENCH00002 \
	--pin "$PIN" --touch approve --timing "$B_TIMING" || exit 1
ol_add_reader "Openloop bench paced" "$OL_W/paced.sock"
ol_add_reader "Openloop bench unpaced" "$OL_W/unpaced.sock"
# three more paced devices: with the first, 1, 2 and 4 used at once
for d in 2 3 4; do
	ol_start_sim_at "$OL_W/d$d.sock" --serial "OLBENCH0000$((d + 1))" \
		--pin "$PIN" --touch approve --timing "$B_TIMING" || exit 1
	ol_add_reader "Openloop bench d$d" "$OL_W/d$d.sock"
done
# one more, paced, logging every packet: the APDUs and reports of each
# operation are counted there, apart from the timed devices
ol_start_sim_at "$OL_W/count.sock" --serial OLBENCH00006 --verbose \
	--pin "$PIN" --touch approve --timing instant || exit 1
ol_add_reader "Openloop bench count" "$OL_W/count.sock"
# the peer a user could pick instead: vsmartcard's vpcd in the same
# pcscd, with an unpaced simulator behind bench/vpcd-relay acting as its
# virtual card (vpcd listens on a TCP port of 127.0.0.1)
VPCD_LIB=/usr/lib/pcsc/drivers/serial/libifdvpcd.so
VPCD=""
if [ -e "$VPCD_LIB" ] && VPCD_PORT=$(free_port 36163); then
	VPCD=1
	ol_start_sim_at "$OL_W/vpcd.sock" --report-interval 0 --serial OLBENCH00007 \
		--pin "$PIN" --touch approve --timing "$B_TIMING" || exit 1
	cat >"$OL_W/reader.conf.d/openloop-bench-vpcd" <<CONF
FRIENDLYNAME "Openloop bench vpcd"
DEVICENAME /dev/null:$VPCD_PORT
LIBPATH $VPCD_LIB
CONF
else
	echo "# no vpcd ($VPCD_LIB: apt-get install vsmartcard-vpcd): the peer is not measured"
fi
bench_start_pcscd "Openloop bench paced" "Openloop bench unpaced" \
	"Openloop bench d2" "Openloop bench d3" "Openloop bench d4" \
	"Openloop bench count" ${VPCD:+"Openloop bench vpcd"} || exit 1
if [ -n "$VPCD" ]; then
	"$top_builddir/bench/vpcd-relay" "$VPCD_PORT" "unix:$OL_W/vpcd.sock" \
		>"$OL_W/vpcd-relay.log" 2>&1 &
	OL_PIDS="$OL_PIDS $!"
	i=0
	until opensc-tool -l 2>/dev/null | grep -q 'Yes.*Openloop bench vpcd'; do
		i=$((i + 1))
		[ "$i" -gt 50 ] && { echo "vpcd shows no card:"; cat "$OL_W/vpcd-relay.log"; exit 1; }
		sleep 0.1
	done
fi

# OpenSC sees one device at a time (the others' readers ignored) and
# takes the PIN from the command line (PIN mode: no PIN pad, no touch)
for s in paced unpaced count; do
	ign='"Openloop bench d", "Openloop bench vpcd"'
	for o in paced unpaced count; do
		[ "$o" = "$s" ] || ign="$ign, \"Openloop bench $o\""
	done
	cat >"$OL_W/opensc-$s.conf" <<CONF
app default {
	ignored_readers = $ign;
	reader_driver pcsc {
		enable_pinpad = false;
	}
}
CONF
done

# 9A P-256 and 9C RSA-2048 with certificates, as the vendor's guide has
# them, on the three devices the operations use
for s in paced unpaced count; do
	export OPENSC_CONF="$OL_W/opensc-$s.conf"
	{ piv_provision 9A 11 "/CN=bench 9A" && piv_provision 9C 07 "/CN=bench 9C"; } \
		>"$OL_W/provision-$s.log" 2>&1 ||
		{ echo "provisioning the $s device failed:"; cat "$OL_W/provision-$s.log"; exit 1; }
done
unset OPENSC_CONF
head -c 32 /dev/urandom >"$OL_W/data.sha256"
head -c 100 /dev/urandom >"$OL_W/data.bin"
# the commands land in the JSON: they name the PIN's file, not the PIN
printf '%s\n' "$PIN" >"$OL_W/pin"

# bench_op_cmd CASE OP: the command of a whole operation on that device
bench_op_cmd() {
	p11="OPENSC_CONF=$OL_W/opensc-$1.conf XDG_CACHE_HOME=$XDG_CACHE_HOME pkcs11-tool --module $PIV_P11"
	case $2 in
	list) echo "$p11 -L" ;;
	login) echo "$p11 --login --pin \$(cat $OL_W/pin) -O --type privkey" ;;
	read-cert) echo "$p11 --read-object --type cert --id 01 -o $OL_W/cert.der" ;;
	sign-p256) echo "$p11 --login --pin \$(cat $OL_W/pin) --sign --id 01 -m ECDSA -i $OL_W/data.sha256 -o $OL_W/sig-ec.bin" ;;
	sign-rsa2048) echo "$p11 --login --pin \$(cat $OL_W/pin) --sign --id 02 -m SHA256-RSA-PKCS -i $OL_W/data.bin -o $OL_W/sig-rsa.bin" ;;
	esac
}
OPS="list login read-cert sign-p256 sign-rsa2048"

# APDUs and reports (both ways, CTAPHID INIT included) of each operation,
# from the counting device's packet log: the second of two runs, as the
# timed runs follow one unmeasured run
bench_count() { # OP -> "APDUS/REPORTS"
	sh -c "$(bench_op_cmd count "$1")" >/dev/null 2>&1 || return 1
	from=$(wc -l <"$OL_W/count.sock.log")
	sh -c "$(bench_op_cmd count "$1")" >/dev/null 2>&1 || return 1
	sleep 0.2
	tail -n +"$((from + 1))" "$OL_W/count.sock.log" | awk '
		function reports(n) { return n <= 57 ? 1 : 1 + int((n - 57 + 58) / 59) }
		/ rx [0-9a-f]+ OPENLOOP_APDU\(70\) bcnt / { apdus++ }
		/ (rx|tx) [0-9a-f]+ [A-Z_]+\([0-9a-f]+\) bcnt / {
			for (i = 1; i < NF; i++) if ($i == "bcnt") r += reports($(i + 1) + 0)
		}
		END { printf "%d/%d\n", apdus, r }'
}
COUNTS=""
for op in $OPS; do
	c=$(bench_count "$op") || { echo "counting $op failed: $(bench_op_cmd count "$op")"; exit 1; }
	COUNTS="$COUNTS $op=$c"
done

echo "# simulators' timing: $B_TIMING; $(uname -n): $(nproc) CPUs, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1), load $(cut -d' ' -f1-3 /proc/loadavg)"
set -- -n "$B_N" --warmup "$B_WARMUP" --cpu-apdus "$B_CPU" \
	--pcscd-pid "$OL_PCSCD_PID" --json "$B_JSON" --op-runs "$B_OPS" \
	--scale-apdus "$B_SCALE" --scale-reader "Openloop bench paced" \
	--scale-reader "Openloop bench d2" --scale-reader "Openloop bench d3" \
	--scale-reader "Openloop bench d4"
for c in $COUNTS; do set -- "$@" --op-count "$c"; done
for s in paced unpaced; do
	case $s in paced) label=pacing-on ms=1 ;; *) label=pacing-off ms=0 ;; esac
	set -- "$@" --case "$label" --reader "Openloop bench $s" \
		--device "unix:$OL_W/$s.sock" --report-interval "$ms"
	for op in $OPS; do set -- "$@" --op "$op=$(bench_op_cmd "$s" "$op")"; done
done
[ -z "$VPCD" ] || set -- "$@" --case vpcd --reader "Openloop bench vpcd" \
	--device "unix:$OL_W/vpcd.sock" --report-interval 0
"$top_builddir/bench/openloop-bench" "$@"
rc=$?
if [ "$rc" -ne 0 ]; then
	echo "openloop-bench failed ($rc); pcscd log:"; tail -20 "$OL_W/pcscd.log"
	for s in paced unpaced d2 d3 d4 count; do echo "$s simulator:"; tail -10 "$OL_W/$s.sock.log"; done
	exit "$rc"
fi
fair_json=${B_JSON%.json}-fairness.json
echo
"$top_builddir/bench/openloop-bench-fairness" --reader "Openloop bench paced" \
	--device "unix:$OL_W/paced.sock" --sessions "$B_SESSIONS" \
	--starve-seconds "$B_STARVE" --idle-seconds "$B_IDLE" \
	--pcscd-pid "$OL_PCSCD_PID" --json "$fair_json"
rc=$?
if [ "$rc" -ne 0 ]; then
	echo "openloop-bench-fairness failed ($rc); pcscd log:"; tail -20 "$OL_W/pcscd.log"
	exit "$rc"
fi
# idle: a pcscd with this driver's six readers and not vpcd, whose
# reader pcscd must poll
kill "$OL_PCSCD_PID" 2>/dev/null; wait "$OL_PCSCD_PID" 2>/dev/null
BENCH_READERS=$OL_W/reader-idle.conf.d
mkdir -p "$BENCH_READERS"
cp "$OL_W"/reader.conf.d/openloop-* "$BENCH_READERS"/
rm -f "$BENCH_READERS/openloop-bench-vpcd"
bench_start_pcscd "Openloop bench paced" || exit 1
# past pcscd's start: it powers each card up, and down again after its
# grace period of 5 s
sleep 6
"$top_builddir/bench/openloop-bench-fairness" --idle-only \
	--pcscd-pid "$OL_PCSCD_PID" --idle-seconds "$B_IDLE" || exit 1
echo "JSON: $B_JSON $fair_json"
