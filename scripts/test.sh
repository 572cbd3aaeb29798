#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Quick start, part 2: set up, then run every test: unit tests (cmocka),
# fuzz-target replays and install/export checks (make check), integration
# tests against a real pcscd, and make check again under AddressSanitizer
# + UndefinedBehaviorSanitizer, every fuzz target under libFuzzer for
# FUZZ_SECONDS (30) each, the Debian packages, and the full-system test in
# a QEMU guest (make check-vm); make distcheck checks the source tarball.
# The integration tests print TAP, which automake's TAP driver reads:
# their checks are counted from its PASS:/FAIL:/ERROR: lines.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
"$here/scripts/setup.sh" --tests

passed=0
failed=0

# run_check DIR: make check in DIR, print one line per test program
run_check() {
	if make -C "$1" -j"$(nproc)" check >"$1/check.out" 2>&1; then :; else
		echo "   make check failed in $1:"; cat "$1/test-suite.log" 2>/dev/null || tail -30 "$1/check.out"
	fi
	grep -E '^(PASS|FAIL|ERROR|XPASS):' "$1/check.out" | sed 's/^/   /'
	p=$(grep -cE '^PASS:' "$1/check.out" || true)
	f=$(grep -cE '^(FAIL|ERROR|XPASS):' "$1/check.out" || true)
	# a build failure leaves no PASS line at all: count it as a failure
	if [ "$p" -eq 0 ] && [ "$f" -eq 0 ]; then f=1; fi
	cases=$(cat "$1"/tests/unit/*.log 2>/dev/null | sed -n 's/^\[  PASSED  \] \([0-9]*\) test(s)\./\1/p' | awk '{s+=$1} END {print s+0}')
	echo "   $p programs passed ($cases cmocka test cases), $f failed"
	passed=$((passed + p)); failed=$((failed + f))
}

# run_tap DIR [VAR=VALUE...]: make check-integration in DIR (the TAP
# tests, through automake's TAP driver) and count automake's results: one
# line per check that did not pass, a line per test file, and the checks
# added to passed/failed.  A file that ends in an ERROR (no plan, an exit
# status, a bail-out) with no failed check counts as one failure.
run_tap() {
	dir=$1; shift
	rc=0
	env "$@" make -C "$dir" check-integration >"$dir/integration.out" 2>&1 || rc=$?
	res=$(awk '
	/^(PASS|FAIL|XFAIL|XPASS|SKIP|ERROR): / {
		r = substr($1, 1, length($1) - 1); f = $2; sub(/.*\//, "", f)
		if (!(f in seen)) { seen[f] = 1; order[++n] = f }
		c[f, r]++
		if (r == "FAIL" || r == "XPASS") bad[f] = bad[f] "   " $0 "\n"
		# an exit status after failed checks says nothing new
		if (r == "ERROR") err[f] = err[f] "   " $0 "\n"
	}
	END {
		for (i = 1; i <= n; i++) {
			f = order[i]; p = c[f, "PASS"] + 0; x = c[f, "FAIL"] + c[f, "XPASS"]
			printf "%s", bad[f]
			if (x == 0 && c[f, "ERROR"] > 0) { x = 1; printf "%s", err[f] }
			s = c[f, "SKIP"] + c[f, "XFAIL"]
			printf "   %s: %d passed, %d failed%s\n", f, p, x, s ? ", " s " skipped" : ""
			tp += p; tf += x
		}
		printf "= %d %d\n", tp, tf
	}' "$dir/integration.out")
	printf '%s\n' "$res" | sed '$d'
	# shellcheck disable=SC2046
	set -- $(printf '%s\n' "$res" | tail -1)
	p=$2; f=$3
	if [ "$rc" -ne 0 ]; then
		echo "   make check-integration failed: the logs of the failed tests are in $dir/tests/integration/test-suite.log"
	fi
	# make failed with no failed check (a build error, no root): one failure
	if { [ "$rc" -ne 0 ] || [ "$p" -eq 0 ]; } && [ "$f" -eq 0 ]; then
		f=1
		grep -vE '^(PASS|FAIL|XFAIL|XPASS|SKIP|ERROR): |^make|^# |^=+$|^(Testsuite summary|See|Please report) ' \
			"$dir/integration.out" | tail -15 | sed 's/^/   /'
	fi
	echo "   $p checks passed, $f failed"
	passed=$((passed + p)); failed=$((failed + f))
}

echo "== unit tests, fuzz replays, install and export checks (make check)"
run_check "$here/build"

echo "== the source tarball: make distcheck (build, make check, install, uninstall from the tarball)"
if make -C "$here/build" -j"$(nproc)" distcheck >"$here/build/distcheck.out" 2>&1; then
	grep -E '^ifd-openloop-.* archives ready for distribution' "$here/build/distcheck.out" | sed 's/^/   /'
	passed=$((passed + 1))
else
	echo "   make distcheck failed:"; tail -40 "$here/build/distcheck.out" | sed 's/^/   /'
	failed=$((failed + 1))
fi

echo "== integration tests (real pcscd + driver + openloop-sim + stock tools)"
run_tap "$here/build"

echo "== the benchmark, once and briefly so that it cannot rot (make bench BENCH_ARGS=--quick; no time asserted)"
rm -f "$here/build/bench.json"
bench_rc=0
make -C "$here/build" bench BENCH_ARGS=--quick >"$here/build/bench.out" 2>&1 || bench_rc=$?
if [ "$bench_rc" -eq 0 ] && [ -s "$here/build/bench.json" ]; then
	echo "   ok - openloop-bench --quick ran and wrote build/bench.json"
	passed=$((passed + 1))
else
	echo "   not ok - openloop-bench --quick (exit $bench_rc)"; tail -30 "$here/build/bench.out"
	failed=$((failed + 1))
fi

echo "== make check under AddressSanitizer and UndefinedBehaviorSanitizer"
mkdir -p "$here/build-asan"
san="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer"
if [ ! -f "$here/build-asan/Makefile" ]; then
	(cd "$here/build-asan" && ../configure --enable-werror CFLAGS="-g -O1 $san" LDFLAGS="$san" >/dev/null)
fi
run_check "$here/build-asan"

fuzz_seconds=${FUZZ_SECONDS:-30}
echo "== coverage-guided fuzzing: each fuzz target $fuzz_seconds s under libFuzzer, ASan and UBSan (make fuzz-run)"
mkdir -p "$here/build-fuzz"
if [ ! -f "$here/build-fuzz/Makefile" ]; then
	(cd "$here/build-fuzz" && ../configure --enable-werror --enable-fuzzing CC=clang >/dev/null) || true
fi
if make -C "$here/build-fuzz" -j"$(nproc)" fuzz >"$here/build-fuzz/fuzz-build.out" 2>&1; then
	make -C "$here/build-fuzz" fuzz-run FUZZ_SECONDS="$fuzz_seconds" >"$here/build-fuzz/fuzz-run.out" 2>&1 || true
	grep -E '^(ok|not ok|# )' "$here/build-fuzz/fuzz-run.out" | sed 's/^/   /'
	p=$(grep -c '^ok - ' "$here/build-fuzz/fuzz-run.out" || true)
	f=$(grep -c '^not ok - ' "$here/build-fuzz/fuzz-run.out" || true)
	grep -q '^# fuzz-run: .* 0 failed' "$here/build-fuzz/fuzz-run.out" || [ "$f" -gt 0 ] || { f=1; tail -30 "$here/build-fuzz/fuzz-run.out"; }
else
	echo "   make fuzz failed in $here/build-fuzz:"; tail -30 "$here/build-fuzz/fuzz-build.out"
	p=0; f=1
fi
passed=$((passed + p)); failed=$((failed + f))

echo "== integration tests with the sanitized driver inside the real pcscd"
preload="$(gcc -print-file-name=libasan.so) $(gcc -print-file-name=libubsan.so)"
run_tap "$here/build-asan" OL_PCSCD_PRELOAD="$preload" ASAN_OPTIONS=detect_leaks=0

echo "== Debian packages: build, lintian, install, integration against the installed driver, purge"
pkg_rc=0
"$here/scripts/test-packages.sh" >"$here/build/packages.out" 2>&1 || pkg_rc=$?
grep -E '^(ok|not ok|# )' "$here/build/packages.out" | sed 's/^/   /'
if [ "$pkg_rc" -eq 0 ]; then
	passed=$((passed + 1))
elif [ "$pkg_rc" -ne 77 ]; then
	failed=$((failed + 1)); tail -40 "$here/build/packages.out"
fi

echo "== full-system test: a USB device in a QEMU guest, udev, pcscd hotplug, FIDO side by side, unplug (make check-vm)"
make -C "$here/build" check-vm >"$here/build/vm.out" 2>&1 || true
grep -E '^(ok|not ok|# )' "$here/build/vm.out" | grep -v '^#   ' | sed 's/^/   /'
p=$(grep -c '^ok - ' "$here/build/vm.out" || true)
f=$(grep -c '^not ok - ' "$here/build/vm.out" || true)
grep -q '^# run-vm.sh: [0-9]* passed, 0 failed' "$here/build/vm.out" || [ "$f" -gt 0 ] || { f=1; tail -30 "$here/build/vm.out"; }
passed=$((passed + p)); failed=$((failed + f))

echo "all tests: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
