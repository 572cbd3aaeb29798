#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Faults on cue, through the real pcscd and the driver just built: the
# simulator takes a fault written into its control file
# (openloop-sim --fault-control) and applies it to the next APDU
# (docs/robustness.md).  One case each:
#   a. a reply that arrives after the host gave up, during the next exchange
#   b. an unanswered APDU while other channels send a report every ms
#   c. CHANNEL_BUSY for a while: shorter and longer than ifdBusyTimeout
#   d. keepalives that never end: ifdUserConfirmationTimeout, then CANCEL
#   e. truncated and over-long replies (BCNT lies, a continuation missing,
#      extra packets)
#   f. the device restarts (INVALID_CHANNEL): a card reset for the
#      application, never an answer from the new session
#   g. unplugged in the middle of a reply
# After each: an error to the application (not a hang, not a wrong
# answer), pcscd alive, and the reader works again.
. "$top_srcdir/tests/integration/lib.sh"
ol_setup
trap ol_cleanup EXIT
PROBE="$top_builddir/tests/integration/pcsc-probe"
FAULT="$OL_SOCK.fault"
ms() { date +%s%3N; }
sleep_ms() { sleep "$(awk "BEGIN { print $1 / 1000 }")"; }
fault() { printf '%s\n' "$1" >"$FAULT.tmp" && mv "$FAULT.tmp" "$FAULT"; }
# probe HEX...: one PC/SC connection sending the APDUs.  A fault that ends
# the card session makes the reader report the card removed once (then
# present again: docs/transport.md, "The card session"); like any
# application, probe connects again while the card is being reinserted
# (bounded: 3 s).  Failures after connecting are never retried.
probe() {
	for _i in $(seq 30); do
		"$PROBE" Openloop apdu "$@" >"$OL_W/probe.try" 2>&1
		_rc=$?
		grep -Eq '^SCardConnect: (No smart card inserted|Card was removed)' \
			"$OL_W/probe.try" || break
		sleep 0.1
	done
	cat "$OL_W/probe.try"
	return $_rc
}
SELECT='00 A4 04 00 09 A0 00 00 03 08 00 00 10 00 00'
CHUID='00 CB 3F FF 05 5C 03 5F C1 02 00'
CHAL8='00 84 00 00 08'      # answer: 8 bytes + SW, one report
CHAL64='00 84 00 00 40'     # answer: 64 bytes + SW, two reports
# run_timed OUTFILE CMD...: CMD's status in $rc, its time in $took (ms)
run_timed() {
	out=$1; shift
	t0=$(ms); "$@" >"$out" 2>&1; rc=$?; took=$(($(ms) - t0))
	sed 's/^/    | /' "$out"
}
# works NAME: the reader answers a fresh APDU with its own answer, once
# the card the fault removed is back (a new session; bounded: 5 s)
works_now() {
	for _j in $(seq 25); do
		probe "$CHAL8" >"$OL_W/works.out" 2>&1
		grep -qx 'response-length: 10' "$OL_W/works.out" && return 0
		sleep 0.2
	done
	cat "$OL_W/works.out"
	return 1
}
works() { check_here "$1" works_now; }

ol_set_plist ifdUserConfirmationTimeout 2
ol_set_plist ifdBusyTimeout 2
ol_start_sim --fault-control "$FAULT" --verbose || exit 1
ol_start_pcscd "Openloop Virtual" || exit 1
check_grep "the reader works before any fault" '^sw: 9000$' probe "$SELECT" "$CHUID"

# --- a. the reply to a request the host gave up on (3 s of silence) comes
#        when the next request is sent.  The next request must get its
#        own answer (GET CHALLENGE: 10 bytes), never the stale SELECT's.
fault late:8000
run_timed "$OL_W/a1.out" probe "$SELECT"
check "a: the silent APDU fails after the reply time-out ($took ms)" \
	sh -c "[ $rc -ne 0 ] && [ $took -ge 2900 ] && [ $took -lt 7000 ]"
run_timed "$OL_W/a2.out" probe "$CHAL8"
# (the driver ends the card session after a time-out, since the channel
# may still deliver the late answer: the next APDU is then refused, and
# the application hears it, or it gets its own answer; never the stale)
check "a: the next APDU never gets the stale SELECT answer: its own, or an error" \
	sh -c "! grep -q 'response-length: 51' '$OL_W/a2.out' && { grep -qx 'response-length: 10' '$OL_W/a2.out' || grep -q '^SCardTransmit: ' '$OL_W/a2.out'; }"
if grep -q 'late reply to .* sent as its next request arrives' "$OL_SOCK.log"; then
	echo "    # the stale reply did cross the next request"
else
	echo "    # the stale reply was dropped before the next request (resync)"
fi
works "a: the reader works afterwards"

# --- b. no answer at all, while another channel's reports arrive every
#        millisecond: those must not keep the host waiting.
fault mute:6000,noise
t_fault=$(ms)
run_timed "$OL_W/b.out" probe "$CHAL8"
check "b: the unanswered APDU fails at the time-out despite the noise ($took ms)" \
	sh -c "[ $rc -ne 0 ] && [ $took -ge 2900 ] && [ $took -lt 5500 ]"
check_grep "b: the device did send the other channel's reports meanwhile" \
	'PING\(01\) bcnt 57' sh -c "grep -A60 'fault: mute,noise' '$OL_SOCK.log'"
left=$((6500 - ($(ms) - t_fault))); [ "$left" -gt 0 ] && sleep_ms "$left"
works "b: the reader works afterwards"

# --- c. CHANNEL_BUSY: 1 s is waited out; 5 s is longer than
#        ifdBusyTimeout (2 s): a clear error at the limit.
fault busy:1000
run_timed "$OL_W/c1.out" probe "$CHAL8"
check "c: CHANNEL_BUSY for 1 s is waited out ($took ms)" \
	sh -c "[ $rc -eq 0 ] && [ $took -ge 900 ] && grep -qx 'response-length: 10' '$OL_W/c1.out'"
mark=$(wc -l <"$OL_W/pcscd.log")
fault busy:5000
t_fault=$(ms)
run_timed "$OL_W/c2.out" probe "$CHAL8"
check "c: CHANNEL_BUSY for 5 s fails at ifdBusyTimeout, 2 s ($took ms)" \
	sh -c "[ $rc -ne 0 ] && [ $took -ge 1900 ] && [ $took -lt 4500 ]"
check_grep "c: pcscd's log says the device is busy" 'busy' sh -c "tail -n +$mark '$OL_W/pcscd.log' | grep -i 'ifd-openloop.*busy'"
left=$((5500 - ($(ms) - t_fault))); [ "$left" -gt 0 ] && sleep_ms "$left"
works "c: the reader works afterwards"

# --- d. keepalives for ever: the user-confirmation limit (2 s) holds,
#        the driver says why and sends CANCEL.
mark=$(wc -l <"$OL_W/pcscd.log")
fault keepalive
run_timed "$OL_W/d.out" probe "$CHAL8"
check "d: the endless keepalive fails at the 2 s limit ($took ms)" \
	sh -c "[ $rc -ne 0 ] && [ $took -ge 2000 ] && [ $took -lt 5000 ]"
check_grep "d: pcscd's log says why" 'no confirmation on the device within 2 s; cancelling' \
	sh -c "tail -n +$mark '$OL_W/pcscd.log'"
check_grep "d: the device received the CANCEL" 'CANCEL of the running APDU' \
	sh -c "grep -A200 'fault: keepalive' '$OL_SOCK.log'"
works "d: the reader works afterwards"

# --- e. replies that lie: an error to the application each time, and
#        the next APDU gets its own answer.
for f in truncate dropcont huge; do
	fault $f
	run_timed "$OL_W/e-$f.out" probe "$CHAL64"
	check "e ($f): an error to the application ($took ms)" \
		sh -c "[ $rc -ne 0 ] && [ $took -lt 7000 ] && ! grep -q '^response-length' '$OL_W/e-$f.out'"
	works "e ($f): the reader works afterwards"
done
# extra continuation packets after a complete reply: the reply itself is
# whole (nothing to tell), the extra packets must not become the next
# APDU's answer.
fault extra
run_timed "$OL_W/e-extra.out" probe "$CHAL64" "$CHAL8" "$CHAL8"
check "e (extra): the whole reply, then the next APDUs' own answers" \
	sh -c "[ $rc -eq 0 ] && [ \"\$(grep response-length '$OL_W/e-extra.out' | tr '\n' ' ')\" = 'response-length: 66 response-length: 10 response-length: 10 ' ]"
check "e: pcscd is still running" kill -0 "$OL_PCSCD_PID"

# --- f. the device restarts between SELECT and GET DATA (it answers the
#        GET DATA with ERROR INVALID_CHANNEL: every channel forgotten, the
#        PIV applet no longer selected).  The application must be told
#        (an error, the card reset), never given the new session's answer:
#        resent there, GET DATA would meet an unselected card (6D00).
mark=$(wc -l <"$OL_W/pcscd.log")
fault reboot,after:1
run_timed "$OL_W/f1.out" probe "$SELECT" "$CHUID"
check "f: SELECT answered before the restart" grep -qx 'sw: 9000' "$OL_W/f1.out"
check "f: GET DATA after the restart is not answered from the new session" \
	sh -c "[ $rc -ne 0 ] && [ \$(grep -c '^sw: ' '$OL_W/f1.out') -eq 1 ]"
# pcsc-lite answers the failing SCardTransmit with the driver's error
# (SCARD_F_COMM_ERROR); the card's removal and return reach the
# application's handle afterwards (SCARD_W_REMOVED_CARD / RESET_CARD,
# which the soak's clients meet)
check_grep "f: the application is told: a PC/SC error for GET DATA" \
	'^SCardTransmit: ' cat "$OL_W/f1.out"
sleep 1
removed=$(tail -n +"$mark" "$OL_W/pcscd.log" | grep -c 'Card Removed')
check "f: pcscd saw the card go once (IFDHICCPresence: absent; $removed times)" \
	test "$removed" -eq 1
run_timed "$OL_W/f2.out" probe "$SELECT" "$CHUID"
check "f: the next connect works: SELECT and GET DATA answered" \
	sh -c "[ $rc -eq 0 ] && [ \$(grep -c '^sw: 9000$' '$OL_W/f2.out') -eq 2 ]"

# --- g. unplugged half-way through a two-report reply.
sim_pid=$OL_SIM_PID
fault unplug
run_timed "$OL_W/g.out" probe "$CHAL64"
check "g: an error to the application, not a hang ($took ms)" \
	sh -c "[ $rc -ne 0 ] && [ $took -lt 5000 ]"
wait "$sim_pid"; sim_rc=$?
check "g: the simulator went away in the middle of the reply (status $sim_rc)" \
	sh -c "[ $sim_rc -eq 3 ] && grep -q 'fault: unplugged in the middle of a reply' '$OL_SOCK.log'"
check "g: pcscd survived" kill -0 "$OL_PCSCD_PID"
rm -f "$OL_SOCK" "$OL_SOCK.lock" "$OL_SOCK.serial"
ol_start_sim --fault-control "$FAULT" --verbose || exit 1
sleep 1.5
check_grep "g: replugged, the reader works" '^sw: 9000$' probe "$SELECT" "$CHUID"

check "no driver crash or sanitizer report in pcscd's log" \
	sh -c "! grep -Eq 'Segmentation|AddressSanitizer|runtime error' '$OL_W/pcscd.log'"
ol_summary
