#!/bin/sh
# Quick start, part 2: set up, then run every test: unit tests (cmocka),
# the driver's export check, integration tests against a real pcscd, and
# the unit tests again under AddressSanitizer + UndefinedBehaviorSanitizer.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
"$here/scripts/setup.sh"
cd "$here/build"

status=0
echo "== unit tests (make check)"
make -j"$(nproc)" check >/dev/null 2>&1 || status=1
grep -h -E '^(PASS|FAIL|ERROR|SKIP|XFAIL|XPASS):' test-suite.log tests/unit/*.log 2>/dev/null | sort | uniq -c | sed 's/^/   /' || true
sed -n '/^# TOTAL/,/^# ERROR/p' test-suite.log 2>/dev/null || true
[ $status -eq 0 ] || { cat test-suite.log; }

echo "== integration tests (real pcscd + driver + openloop-sim + stock tools)"
make check-integration || status=1

echo "== unit tests under AddressSanitizer and UndefinedBehaviorSanitizer"
mkdir -p "$here/build-asan"
cd "$here/build-asan"
san="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer"
[ -f Makefile ] || ../configure --enable-werror CFLAGS="-g -O1 $san" LDFLAGS="$san" >/dev/null
if make -j"$(nproc)" check >/dev/null 2>&1; then
	sed -n '/^# TOTAL/,/^# ERROR/p' test-suite.log
else
	status=1; cat test-suite.log
fi

if [ $status -eq 0 ]; then echo "all tests: passed"; else echo "all tests: FAILED"; fi
exit $status
