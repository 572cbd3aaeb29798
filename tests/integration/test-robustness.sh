#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The unpleasant parts, through a real pcscd: a device that is slow and
# sends keepalives, one that never finishes (CANCEL), another CTAPHID
# client hammering the same device, two devices at once, and a device
# that disappears while idle and during an exchange.
. "$top_srcdir/tests/integration/lib.sh"
ol_setup
trap ol_cleanup EXIT
PROBE="$top_builddir/tests/integration/pcsc-probe"
NOISE="$top_builddir/tests/integration/ctaphid-noise"
ms() { date +%s%3N; }

# --- 1. keepalive: every APDU takes 700 ms; the driver waits through the
#        device's KEEPALIVE packets (3 s of silence would be a time-out).
ol_set_plist ifdUserConfirmationTimeout 2
ol_start_sim --processing-delay 700 || exit 1
ol_start_pcscd "Openloop Virtual" || exit 1
t0=$(ms)
check_grep "slow APDU (700 ms of KEEPALIVE) succeeds" 'sw: 9000' "$PROBE" Openloop apdu '00 84 00 00 08'
t1=$(ms)
check "it took the device's time ($((t1 - t0)) ms >= 700)" test $((t1 - t0)) -ge 700
ol_stop_all

# --- 2. user-confirmation limit: the device keeps saying "processing" for
#        5 s, the limit is 2 s: the driver sends CANCEL and fails cleanly.
: > "$OL_W/pcscd.log"
ol_start_sim --processing-delay 5000 --verbose || exit 1
ol_start_pcscd "Openloop Virtual" || exit 1
t0=$(ms)
check_grep "APDU past the confirmation limit fails with an error, not a hang" \
	'SCardTransmit' sh -c "! '$PROBE' Openloop apdu '00 84 00 00 08'"
t1=$(ms)
check "the failure came after the 2 s limit, before the device finished ($((t1 - t0)) ms)" \
	sh -c "[ $((t1 - t0)) -ge 2000 ] && [ $((t1 - t0)) -lt 5000 ]"
check_grep "pcscd's log says why" 'no confirmation on the device within 2 s; cancelling' cat "$OL_W/pcscd.log"
check_grep "the simulator received the CANCEL" 'CANCEL' cat "$OL_SOCK.log"
check "pcscd is still running" kill -0 "$OL_PCSCD_PID"
check_grep "the reader still answers attribute requests" 'vendor: Openloop' "$PROBE" Openloop attrs
ol_stop_all

# --- 3. sharing: a second CTAPHID client (a browser) sends 150 PINGs of up
#        to 7609 bytes on its own channel while 100 APDUs go through pcscd.
: > "$OL_W/pcscd.log"
ol_start_sim || exit 1
ol_start_pcscd "Openloop Virtual" || exit 1
"$NOISE" "unix:$OL_SOCK" 150 > "$OL_W/noise.out" 2>&1 &
noise_pid=$!
apdus=$(for i in $(seq 100); do echo "00 84 00 00 00"; done)
IFS=$'\n' read -r -d '' -a apdu_args <<< "$apdus"
check_grep "100 APDUs through pcscd while another client pings" \
	'^sw: 9000$' "$PROBE" Openloop apdu "${apdu_args[@]}"
ok_count=$(printf '%s\n' "$OUT" | grep -c '^sw: 9000$')
check "all 100 answered 9000 ($ok_count)" test "$ok_count" -eq 100
wait $noise_pid; noise_rc=$?
check_grep "the other client saw every echo intact" 'noise: 150 pings, 0 errors' cat "$OL_W/noise.out"
check "the other client exited cleanly" test "$noise_rc" -eq 0
ol_stop_all

# --- 4. two devices at once: two readers, each its own serial.
rm -f "$OL_W"/reader.conf.d/*
: > "$OL_W/pcscd.log"
ol_start_sim_at "$OL_W/a.sock" --serial OLAAAA0001 || exit 1
ol_start_sim_at "$OL_W/b.sock" --serial OLBBBB0002 || exit 1
ol_add_reader "Openloop A" "$OL_W/a.sock"
ol_add_reader "Openloop B" "$OL_W/b.sock"
ol_start_pcscd || exit 1
check_grep "opensc-tool -l lists both readers" 'Openloop A' opensc-tool -l
printf '%s\n' "$OUT" | grep -q 'Openloop B' || ol_not_ok "second reader missing"
echo "$OUT" | sed 's/^/    | /'
check_grep "reader A is device A" 'serial: OLAAAA0001' "$PROBE" "Openloop A" attrs
check_grep "reader B is device B" 'serial: OLBBBB0002' "$PROBE" "Openloop B" attrs
check_grep "APDUs on both" 'sw: 9000' sh -c "'$PROBE' 'Openloop A' apdu '00 84 00 00 10' && '$PROBE' 'Openloop B' apdu '00 84 00 00 10'"
ol_stop_all
rm -f "$OL_W"/reader.conf.d/*

# --- 5. the device disappears while idle, and comes back.
: > "$OL_W/pcscd.log"
ol_start_sim || exit 1
sim_pid=$OL_SIM_PID
ol_start_pcscd "Openloop Virtual" || exit 1
ol_stop_pid "$sim_pid"
sleep 1.5
check_grep "card reported absent once the device is gone" 'Openloop Virtual' opensc-tool -l
if printf '%s\n' "$OUT" | grep -E '^[0-9]+ +No ' >/dev/null; then
	ol_ok "card column says No"
else
	ol_not_ok "card column"; printf '%s\n' "$OUT" | sed 's/^/    # /'
fi
check "APDU to the vanished device fails cleanly" sh -c "! '$PROBE' Openloop apdu '00 84 00 00 08'"
check "pcscd survived" kill -0 "$OL_PCSCD_PID"
ol_start_sim || exit 1
sleep 1.5
check_grep "device back: APDUs work again" 'sw: 9000' "$PROBE" Openloop apdu '00 84 00 00 08'

# --- 6. the device disappears in the middle of an exchange.
sim_pid=$OL_SIM_PID
ol_stop_pid "$sim_pid"
ol_start_sim --processing-delay 3000 || exit 1
sim_pid=$OL_SIM_PID
sleep 1.5
"$PROBE" Openloop apdu '00 84 00 00 08' > "$OL_W/mid.out" 2>&1 &
probe_pid=$!
sleep 0.8
kill -KILL "$sim_pid"; wait "$sim_pid" 2>/dev/null; rm -f "$OL_SOCK" "$OL_SOCK.lock" "$OL_SOCK.serial"
t0=$(ms)
wait $probe_pid; probe_rc=$?
t1=$(ms)
check "the client got an error, not a hang ($((t1 - t0)) ms after unplug)" sh -c "[ $probe_rc -ne 0 ] && [ $((t1 - t0)) -lt 4000 ]"
cat "$OL_W/mid.out" | sed 's/^/    | /'
check "pcscd survived the unplug mid-exchange" kill -0 "$OL_PCSCD_PID"
ol_start_sim || exit 1
sleep 1.5
check_grep "replugged: APDUs work again" 'sw: 9000' "$PROBE" Openloop apdu '00 84 00 00 08'

# --- 7. an application that keeps going: pcsc-probe's loop (GET CHALLENGE
# in a transaction, reconnecting after an error) across an unplug and a
# replug.  Errors while the device is away, never a wrong answer, and
# answers again once it is back.
"$PROBE" Openloop loop 0 '00 84 00 00 08' > "$OL_W/loop.out" 2>&1 &
loop_pid=$!
sleep 1
ol_stop_pid "$OL_SIM_PID"
sleep 1.5
ol_start_sim || exit 1
sleep 2
kill -TERM "$loop_pid"; wait "$loop_pid"; loop_rc=$?
sed 's/^/    | /' "$OL_W/loop.out"
loop_ok() { # the outcome sequence: ok, then errors, then ok again
	grep '^event: ' "$OL_W/loop.out" | awk '{ $1 = ""; $2 = ""; sub(/^  /, ""); print }' >"$OL_W/loop.seq" &&
	[ "$(head -1 "$OL_W/loop.seq")" = ok ] && [ "$(tail -1 "$OL_W/loop.seq")" = ok ] &&
	[ "$(grep -vc '^ok$' "$OL_W/loop.seq")" -ge 1 ]
}
check "loop client: ok, errors while unplugged, ok after the replug" loop_ok
check "loop client: no wrong status word, and it exited cleanly" \
	sh -c "[ $loop_rc -eq 0 ] && ! grep -q '^outcome: [0-9]* sw ' '$OL_W/loop.out'"
check "no driver crash or sanitizer report in pcscd's log" sh -c "! grep -Eq 'Segmentation|AddressSanitizer|runtime error' '$OL_W/pcscd.log'"
ol_summary
