#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The soak: two PC/SC clients, a CTAPHID PING client and (with libfido2)
# a FIDO client making assertions, each in a session of its own with
# libfido2's lock, on one simulated device (its --state keeps the FIDO
# credential across restarts) while tests/integration/soak injects
# random faults (seeded, the seed is printed) for SOAK_SECONDS (default
# 120).  Every answer must be
# the right one or an error the client is told of: none wrong, none lost.
# SOAK_SEED=N replays a run's fault sequence.  See docs/robustness.md.
. "$top_srcdir/tests/integration/lib.sh"
ol_setup
trap ol_cleanup EXIT
SOAK="$top_builddir/tests/integration/soak"
secs=${SOAK_SECONDS:-120}

# the limits the faults are measured against (docs/robustness.md)
ol_set_plist ifdUserConfirmationTimeout 2
ol_set_plist ifdBusyTimeout 3
# the soak starts the simulator, and again after each "unplug"
"$SOAK" -t "$secs" -s "${SOAK_SEED:-0}" Openloop "$OL_SOCK" "$OL_SOCK.fault" -- \
	"$OL_SIM" --socket "$OL_SOCK" --fault-control "$OL_SOCK.fault" \
	--state "$OL_W/soak-state" \
	>"$OL_W/soak.out" 2>"$OL_W/soak.err" &
soak_pid=$!
ol_wait_for "$OL_SOCK" 100 || { echo "the soak did not start the simulator"; cat "$OL_W/soak.err"; exit 1; }
# a quieter driver log: a long soak makes many exchanges
IFDOPENLOOP_ifdLogLevel=${IFDOPENLOOP_ifdLogLevel:-0x03} ol_start_pcscd "Openloop Virtual" || { kill "$soak_pid"; exit 1; }
wait "$soak_pid"; soak_rc=$?
sed 's/^/    | /' "$OL_W/soak.out"
grep -E '^soak: (WRONG|LOST)|^  (got |want)|never returned|ended unexpectedly|did not' "$OL_W/soak.err" | head -60 | sed 's/^/    ! /'
grep -c 'fault: ' "$OL_W/soak.err" | sed 's/^/    # faults the simulator logged: /'
check "soak exited 0 ($soak_rc): every client got right answers, none wrong, none lost" test "$soak_rc" -eq 0
check_grep "soak: N right, 0 wrong, 0 lost" '^soak: [1-9][0-9]* right, 0 wrong, 0 lost$' cat "$OL_W/soak.out"
check "pcscd survived the soak" kill -0 "$OL_PCSCD_PID"
check "no driver crash or sanitizer report in pcscd's log" sh -c "! grep -Eq 'Segmentation|AddressSanitizer|runtime error' '$OL_W/pcscd.log'"
[ -n "${OL_KEEP:-}" ] && echo "# kept: $OL_W"
ol_summary
