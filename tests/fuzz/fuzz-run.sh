#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Runs the libFuzzer builds of the fuzz targets (--enable-fuzzing):
#
#   fuzz-run.sh SECONDS PROGRAM...
#
# SECONDS > 0 (make fuzz-run): each target fuzzes that long on a copy of
# its seeds in $FUZZ_OUT/X/corpus, never in the source tree; a crash, leak,
# time-out or out-of-memory leaves its input in $FUZZ_OUT/X/.
# SECONDS = 0 (make check): each seed runs once.
# One line per target (TAP style, which scripts/test.sh counts); the exit
# status is 1 if any target failed.
#
# From Makefile.am: FUZZ_CORPUS (the seeds of fuzz_X are $FUZZ_CORPUS/X)
# and FUZZ_OUT.  Optional: FUZZ_TIMEOUT (seconds one input
# may take, 25), FUZZ_RSS_MB (2048), FUZZ_JOBS (targets at once; the
# number of CPUs).
set -u
seconds=$1
shift
timeout=${FUZZ_TIMEOUT:-25}
rss=${FUZZ_RSS_MB:-2048}
jobs=${FUZZ_JOBS:-$(nproc 2>/dev/null || echo 1)}

# Leaks fail the run whatever the caller's environment says (scripts/test.sh
# turns them off for pcscd).  OpenSSL's one-time set-up stays reachable
# from its globals, so LeakSanitizer needs no suppressions for it.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=1"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}print_stacktrace=1"

# run_one PROGRAM: the run's output in $FUZZ_OUT/X/log, its status in rc
run_one() {
	name=${1##*/}
	x=${name#fuzz_}
	out=$FUZZ_OUT/$x
	seeds=$FUZZ_CORPUS/$x
	rm -rf "$out"
	mkdir -p "$out"
	if [ ! -d "$seeds" ]; then
		echo "no seed corpus $seeds: every fuzz target needs one" >"$out/log"
		echo 1 >"$out/rc"
		return
	fi
	if [ "$seconds" -eq 0 ]; then
		"$1" -timeout="$timeout" -rss_limit_mb="$rss" \
			-artifact_prefix="$out/" "$seeds"/* >"$out/log" 2>&1
	else
		cp -R "$seeds" "$out/corpus"
		"$1" -max_total_time="$seconds" -timeout="$timeout" \
			-rss_limit_mb="$rss" -print_final_stats=1 \
			-artifact_prefix="$out/" "$out/corpus" >"$out/log" 2>&1
	fi
	echo $? >"$out/rc"
}

# report PROGRAM: one line, and for a failure where its input is
report() {
	name=${1##*/}
	out=$FUZZ_OUT/${name#fuzz_}
	log=$out/log
	rc=$(cat "$out/rc")
	if [ "$seconds" -eq 0 ]; then
		execs=$(grep -c '^Running: ' "$log")
	else
		execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
	fi
	if [ "$rc" -eq 0 ]; then
		if [ "$seconds" -eq 0 ]; then
			echo "ok - $name: $execs seed input(s), each run once"
		else
			cov=$(sed -n 's/^#[0-9]*[[:space:]]*DONE[[:space:]]*cov: \([0-9]*\).*/\1/p' "$log" | tail -n 1)
			echo "ok - $name: ${execs:-?} executions in $seconds s, coverage ${cov:-?}, corpus $(ls "$FUZZ_CORPUS/${name#fuzz_}" | wc -l) -> $(ls "$out/corpus" | wc -l) inputs"
		fi
		return 0
	fi
	if grep -q 'ERROR: LeakSanitizer' "$log"; then
		why="memory leak"
	elif grep -q 'ERROR: libFuzzer: timeout' "$log"; then
		why="time-out (an input took more than $timeout s)"
	elif grep -q 'ERROR: libFuzzer: out-of-memory' "$log"; then
		why="out of memory (more than $rss MB)"
	elif grep -q 'runtime error:' "$log"; then
		why="undefined behaviour: $(grep -m 1 -o 'runtime error:.*' "$log")"
	elif grep -q 'ERROR: AddressSanitizer' "$log"; then
		why=$(grep -m 1 -o 'AddressSanitizer: [^ ]*' "$log")
	elif grep -q 'no seed corpus' "$log"; then
		why=$(cat "$log")
	else
		why="crash (exit status $rc)"
	fi
	echo "not ok - $name: $why after ${execs:-?} executions"
	artifact=$(sed -n 's/.*Test unit written to //p' "$log" | tail -n 1)
	# replaying seeds, libFuzzer writes no copy: the seed is the input
	[ -n "$artifact" ] || artifact=$(sed -n 's/^Running: //p' "$log" | tail -n 1)
	if [ -n "$artifact" ]; then
		echo "#   input:  $artifact"
		echo "#   replay: $1 $artifact"
		echo "#           (or tests/fuzz/$name FILE in a default build, as make check runs it)"
	fi
	echo "#   log:    $log"
	return 1
}

i=0
for p in "$@"; do
	run_one "$p" &
	i=$((i + 1))
	if [ "$i" -ge "$jobs" ]; then
		wait
		i=0
	fi
done
wait

failed=0
for p in "$@"; do
	report "$p" || failed=$((failed + 1))
done
if [ "$seconds" -gt 0 ]; then
	echo "# fuzz-run: $# targets, $((${#} - failed)) passed, $failed failed; output in $FUZZ_OUT"
fi
[ "$failed" -eq 0 ]
