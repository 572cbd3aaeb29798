#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The card session (docs/transport.md, "The card session"): the card a
# reader shows stands for one session on the device.  A device that loses
# it (here: the simulator restarted, as a device that rebooted or was
# replugged under the same name) is a new card: the APDU that meets the
# lost session fails and is never sent into the new one, pcscd reports the
# card removed, and applications that reconnect work again, OpenSC
# included, without restarting anything.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/piv-lib.sh"
ol_setup
# the simulator restarted by the background restarter below is not in
# this shell's OL_PIDS: stop whatever serves our socket as well
trap 'pkill -f -- "--socket $OL_SOCK " 2>/dev/null; ol_cleanup' EXIT
piv_init

PROBE="$top_builddir/tests/integration/pcsc-probe"
PIN=424242
SELECT=00A4040009A0000003080000100000
GET_CHUID=00CB3FFF055C035FC10200
SIM_ARGS=(--serial OLSES0000001 --pin "$PIN" --touch approve --state "$OL_W/sim.state" --verbose)

ol_start_sim "${SIM_ARGS[@]}" || exit 1
ol_start_pcscd || exit 1

sim_mark() { wc -l <"$OL_SOCK.log"; }
restart_sim() {
	ol_stop_pid "$OL_SIM_PID"
	ol_start_sim "${SIM_ARGS[@]}"
}
# fresh_connection: a new PC/SC connection selects the applet and reads
# the CHUID, retried while pcscd brings the new card up (bounded)
fresh_connection() {
	for _i in $(seq 50); do
		if "$PROBE" Openloop apdu "$SELECT" "$GET_CHUID" >"$OL_W/fresh.out" 2>&1 &&
		    [ "$(grep -c '^sw: 9000$' "$OL_W/fresh.out")" -eq 2 ]; then
			return 0
		fi
		sleep 0.2
	done
	cat "$OL_W/fresh.out"
	return 1
}

# --- 1. the device restarts between two APDUs of one connection ----------
# SELECT, then the device restarts, then GET DATA on the same handle.  Sent
# into the new session, GET DATA would be answered by an applet nobody
# selected; it must fail instead.  Three rounds: pcscd's 400 ms poll may
# or may not see the device away, and both paths must hold.
for round in 1 2 3; do
	rm -f "$OL_W/go"
	"$PROBE" Openloop apdu "$SELECT" "wait:$OL_W/go" "$GET_CHUID" >"$OL_W/probe.out" 2>&1 &
	probe_pid=$!
	ol_wait_for_text() { for _i in $(seq 100); do grep -q "$1" "$2" && return 0; sleep 0.05; done; return 1; }
	ol_wait_for_text '^waiting:' "$OL_W/probe.out"
	restart_sim || exit 1
	m=$(sim_mark)
	touch "$OL_W/go"
	wait "$probe_pid"
	rc=$?
	check_grep "round $round: the SELECT of the old session was answered 9000" '^sw: 9000$' cat "$OL_W/probe.out"
	check_grep "round $round: the GET DATA after the restart got a PC/SC error, not an answer" \
		'^SCardTransmit: ' sh -c "cat '$OL_W/probe.out'; [ $rc -ne 0 ] && [ \$(grep -c '^sw:' '$OL_W/probe.out') -eq 1 ]"
	grep '^SCardTransmit' "$OL_W/probe.out" | sed 's/^/    | /'
	check "round $round: the restarted device never received that GET DATA" \
		sh -c "! tail -n +$((m + 1)) '$OL_SOCK.log' | grep -q ': C: 00 CB 3F FF 05 5C 03 5F C1 02'"
	check_here "round $round: a new connection selects and reads the CHUID (9000 9000)" fresh_connection
done
check_grep "pcscd's log: the driver saw the device go (disappeared, or the session lost)" \
	'disappeared|the card session was lost' cat "$OL_W/pcscd.log"
check_grep "pcscd's log: pcscd saw the card removed" 'Card Removed|card removed|Card removed' cat "$OL_W/pcscd.log"
grep -E 'disappeared|session was lost|Card Removed|is back' "$OL_W/pcscd.log" | head -6 | sed 's/^/    | /'

# --- 2. OpenSC across a restart -----------------------------------------
# pkcs11-tool signs with 9A over and over while the device restarts: each
# run either signs (and openssl verifies the signature) or fails with an
# error; none returns a wrong signature, and the runs after the restart
# sign again by themselves.
check "provision 9A: P-256 key and certificate" piv_provision 9A 11 "/CN=session"
openssl x509 -in "$OL_W/cert-9A.pem" -pubkey -noout >"$OL_W/pub-9A-cert.pem"
head -c 300 /dev/urandom >"$OL_W/data.bin"
openssl dgst -sha256 -binary "$OL_W/data.bin" >"$OL_W/data.sha256"
ok=0 failed=0 wrong=0 last=""
( sleep 2; restart_sim >/dev/null 2>&1; touch "$OL_W/restarted" ) &
restarter=$!
for i in $(seq 14); do
	if timeout 60 pkcs11-tool --module "$PIV_P11" --login --pin "$PIN" --sign --id 01 -m ECDSA \
	    --signature-format openssl -i "$OL_W/data.sha256" -o "$OL_W/sig-$i.der" \
	    >"$OL_W/p11-$i.out" 2>&1 </dev/null; then
		if openssl dgst -sha256 -verify "$OL_W/pub-9A-cert.pem" -signature "$OL_W/sig-$i.der" \
		    "$OL_W/data.bin" >/dev/null 2>&1; then
			ok=$((ok + 1)); last="$last ok"
		else
			wrong=$((wrong + 1)); last="$last WRONG"
		fi
	else
		failed=$((failed + 1)); last="$last error"
	fi
	[ -e "$OL_W/restarted" ] || continue
done
wait "$restarter"
echo "    | pkcs11-tool runs:$last"
check "pkcs11-tool across the restart: no wrong signature ($ok signed, $failed failed, $wrong wrong)" test "$wrong" -eq 0
check "... the device did restart during the runs" test -e "$OL_W/restarted"
check "... the last three runs signed again by themselves" sh -c "echo '$last' | grep -q 'ok ok ok\$'"
check "... at most two runs failed ($failed)" test "$failed" -le 2
check "pcscd survived" kill -0 "$OL_PCSCD_PID"
check "no PIN in pcscd's or the simulator's log" piv_logs_free_of "$PIN"
ol_summary
