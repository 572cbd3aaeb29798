#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# SSH public-key authentication with keys held by the Openloop PIV applet,
# with stock Debian tools only: openloop-sim -> our driver in a private
# pcscd -> OpenSC's opensc-pkcs11.so -> ssh-keygen -D, ssh -I, and a real
# sshd (openssh-server) on 127.0.0.1 with its own config, port and host key.
#
# The two modes of the device (the vendor guide's dual mode), as ssh meets
# them through opensc-pkcs11:
#
# Touch mode (the default).  The driver announces a PIN pad (PC/SC part 10
# FEATURE_VERIFY_PIN_DIRECT; Info.plist ifdConfirmOnDevice, default 1).
# OpenSC then sets CKF_PROTECTED_AUTHENTICATION_PATH, ssh prints
# "Deferring PIN entry to reader keypad" and calls C_Login(NULL), OpenSC
# sends the keypad VERIFY to the driver, and the driver has the device
# verify its PIN on its own screen (VERIFY ON DEVICE; "PIN pad: verified on
# the device" in pcscd's log), nothing secret crossing USB.  Each signature
# then waits for the touch on the device.  No PIN is asked for on the
# host, so ssh runs here without any askpass.
#
# PIN given.  ssh cannot pass a PIN while a pad is announced, so the user
# selects this mode on the client: an OpenSC configuration with
# enable_pinpad = false in OPENSC_CONF (below, $NOPAD_CONF).  OpenSC then
# asks for the PIN through ssh's read_passphrase(): with no terminal
# (setsid) and SSH_ASKPASS_REQUIRE=force (OpenSSH >= 8.4) ssh runs
# $SSH_ASKPASS with the prompt as its argument and reads the PIN from its
# stdout; DISPLAY is not needed.  Our askpass programs log the prompt
# (never the PIN).  The PIN goes to the card as a VERIFY and no touch is
# needed (blind signing).  BatchMode=yes is not an option: ssh then loads
# the provider non-interactively and cannot log in to the token.
#
# 9C (Digital Signature) is PIN-always: after a PIN sent over USB it signs
# once per VERIFY; in touch mode its touch is the per-use confirmation.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/piv-lib.sh"
ol_setup
piv_init

PIN=271828
SSHD_DIR="$OL_W/sshd"
STATE="$OL_W/piv.state"

# The PIN-given mode's OpenSC configuration: the one the package ships, as
# the README tells users to point OPENSC_CONF at it for ssh and ssh-keygen.
NOPAD_CONF=$OL_PIN_MODE_CONF

# sshd is a child of this shell and in OL_PIDS; its pid file is a second
# handle on it, so that no sshd outlives the test whatever happened.
cleanup() {
	[ -s "$SSHD_DIR/sshd.pid" ] && ol_stop_pid "$(cat "$SSHD_DIR/sshd.pid")"
	ol_cleanup
}
trap cleanup EXIT

say() { printf '%s\n' "$@" | sed 's/^/    | /'; }
ms() { date +%s%3N; }
re_quote() { printf '%s' "$1" | sed 's/[][\.*^$+?(){}|/]/\\&/g'; }
fails() { ! "$@"; }


# restart_device SIM-ARGS...: a new simulator process (same state file) and
# a new pcscd, as after unplugging the device and plugging it in again.
# The earlier pcscd logs are kept (pcscd-earlier.log) for the final check
# that no PIN was logged.
restart_device() {
	ol_stop_pid "$OL_PCSCD_PID"
	ol_stop_pid "$OL_SIM_PID"
	cat "$OL_W/pcscd.log" >>"$OL_W/pcscd-earlier.log" 2>/dev/null
	ol_start_sim "$@" && ol_start_pcscd "Openloop Virtual"
}

# card_column: the "Card" column of opensc-tool -l for our reader
card_column() { opensc-tool -l 2>/dev/null | awk '/Openloop Virtual/ { print $2; exit }'; }

# replug_sim SIM-ARGS...: the device is unplugged and plugged in again
# (a new simulator process) while pcscd and the driver keep running: the
# same reader.  Waits (bounded) until pcscd saw the card go and come back.
replug_sim() {
	ol_stop_pid "$OL_SIM_PID"
	for _i in $(seq 100); do [ "$(card_column)" = No ] && break; sleep 0.1; done
	ol_start_sim "$@" || return 1
	for _i in $(seq 100); do [ "$(card_column)" = Yes ] && return 0; sleep 0.1; done
	echo "the card did not come back:"; opensc-tool -l
	return 1
}

sim_mark() { wc -l <"$OL_SOCK.log"; }
sim_log_since() { tail -n +"$(($1 + 1))" "$OL_SOCK.log"; }
sim_has() { sim_log_since "$2" | grep -Eq -- "$1"; } # PATTERN MARK
pcscd_mark() { wc -l <"$OL_W/pcscd.log"; }
pcscd_log_since() { tail -n +"$(($1 + 1))" "$OL_W/pcscd.log"; }
# the logs since MARK on one line, for patterns over several lines
sim_flat() { sim_log_since "$1" | tr '\n' ' '; }
pcscd_flat() { pcscd_log_since "$1" | tr '\n' ' '; }
# sim_answers MARK PATTERN: the commands matching PATTERN since MARK in
# the simulator's log (--verbose), each with the card's answer
sim_answers() {
	sim_log_since "$1" | awk -v p="$2" '$0 ~ p { want = 1; print; next } want && / R: / { print; want = 0 }'
}
# pcscd_ga_ms MARK: for each GENERAL AUTHENTICATE since MARK, the
# milliseconds from the command to the card's answer as the driver saw
# them (pcscd's log prefix is the time in microseconds since its previous
# line)
pcscd_ga_ms() {
	pcscd_log_since "$1" | awk '/[(][)] C: 00 87 / { on = 1; t = 0; next }
		on { t += $1 + 0; if (/[(][)] R:/) { print int(t / 1000); on = 0 } }'
}

# --- sshd ----------------------------------------------------------------
. "$top_srcdir/tests/integration/sshd-lib.sh"
sshd_setup $((22200 + $$ % 500)) || exit 1

# --- the ssh client -------------------------------------------------------
# askpass programs: one prints the PIN from a file, one an empty line (the
# user presses Enter at the PIN prompt).  Both log the prompt they got.
printf '%s\n' "$PIN" >"$OL_W/pin.txt"
chmod 600 "$OL_W/pin.txt"
cat >"$OL_W/askpass-pin" <<ASKPASS
#!/bin/sh
printf '%s\n' "\$1" >>"$OL_W/askpass.log"
cat "$OL_W/pin.txt"
ASKPASS
cat >"$OL_W/askpass-empty" <<ASKPASS
#!/bin/sh
printf '%s\n' "\$1" >>"$OL_W/askpass.log"
echo
ASKPASS
chmod 755 "$OL_W/askpass-pin" "$OL_W/askpass-empty"

# ssh_p11 pin|empty|touch: ssh -I opensc-pkcs11.so root@127.0.0.1 'echo ok'
# without a terminal; bounded.
#   pin, empty  PIN-given mode (OPENSC_CONF=$NOPAD_CONF): the PIN, or an
#               empty line, from the askpass program
#   touch       touch mode (OpenSC's default configuration, the pad): no
#               askpass at all, and ssh may not use one
#               (SSH_ASKPASS_REQUIRE=never, no SSH_ASKPASS, no DISPLAY)
ssh_p11() {
	: >"$OL_W/askpass.log"
	case $1 in
	pin|empty)
		set -- env OPENSC_CONF="$NOPAD_CONF" SSH_ASKPASS="$OL_W/askpass-$1" \
			SSH_ASKPASS_REQUIRE=force ;;
	touch)
		set -- env -u OPENSC_CONF -u SSH_ASKPASS -u DISPLAY \
			SSH_ASKPASS_REQUIRE=never ;;
	*)	echo "ssh_p11: unknown mode $1"; return 2 ;;
	esac
	"$@" timeout 60 setsid -w ssh -F /dev/null -v \
		-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
		-o IdentityAgent=none -o PreferredAuthentications=publickey \
		-o PasswordAuthentication=no -o KbdInteractiveAuthentication=no \
		-o ConnectTimeout=10 \
		-I "$PIV_P11" -p "$SSH_PORT" root@127.0.0.1 'echo ok' </dev/null
}

# the lines of ssh -v output worth quoting
ssh_summary() {
	printf '%s\n' "$OUT" | grep -E '^ok$|slot 0: label|Deferring|Offering public key|Server accepts key|Authenticated to|PKCS#11 login|login failed|pin|C_Sign|Permission denied|sign_and_send_pubkey|signing failed|Timeout' |
		grep -v -E 'pkcs11_k11_free|provider_unref|Reading configuration' | head -12 | sed 's/^/    | /'
	[ -s "$OL_W/askpass.log" ] && say "askpass was asked: $(head -1 "$OL_W/askpass.log")"
}

# ssh_login MODE NAME KEYLINE FINGERPRINT TYPE: sshd accepts this key
# only; ssh in MODE (pin or touch) logs in and runs echo ok; sshd logs
# the key.  Sets T_SSH to the milliseconds ssh took.
ssh_login() {
	authorize "$3"
	_m=$(sshd_mark)
	case $1 in pin) _what="PIN given" ;; touch) _what="touch mode, no PIN" ;; esac
	_t0=$(ms)
	check_grep "ssh -I opensc-pkcs11.so, $2 key, $_what: the remote 'echo ok' ran" '^ok$' \
		ssh_p11 "$1"
	T_SSH=$(($(ms) - _t0))
	ssh_summary
	SSH_OUT=$OUT
	check_grep "sshd: Accepted publickey for root with the $2 key ($_what)" \
		"Accepted publickey for root from 127\.0\.0\.1 port [0-9]+ ssh2: $5 $(re_quote "$4")" \
		sshd_log_since "$_m"
	printf '%s\n' "$OUT" | grep 'Accepted publickey' | sed 's/^/    | /'
	OUT=$SSH_OUT
}

# token_flags: the "token flags" line of pkcs11-tool -L (in the caller's
# OpenSC configuration)
token_flags() { piv_p11 -L 2>&1 | grep -E 'token flags'; }

# =========================================================================
# 1. Provisioning (device with a PIN): P-256 in 9A, RSA-2048 in 9E, and
#    P-256 in 9C (the PIN-always slot) (piv-lib.sh: piv-tool with the
#    management key, a certificate from a test CA around the card's public
#    key, loaded with piv-tool).  ssh-keygen -D lists the keys (public
#    keys need no PIN and no touch), with OpenSC's default configuration.
# =========================================================================
ol_start_sim --serial OLSSH0000001 --pin "$PIN" --touch approve --model C --state "$STATE" --verbose || exit 1
ol_start_pcscd "Openloop Virtual" || exit 1
check "provision 9A: P-256 key and certificate" piv_provision 9A 11 "/CN=Openloop SSH 9A P-256"
say "$OUT"
check "provision 9E: RSA-2048 key and certificate" piv_provision 9E 07 "/CN=Openloop SSH 9E RSA-2048"
say "$OUT"
check "provision 9C: P-256 key and certificate" piv_provision 9C 11 "/CN=Openloop SSH 9C P-256"

check_grep "ssh-keygen -D $PIV_P11 prints the 9A P-256 key" '^ecdsa-sha2-nistp256 .* PIV AUTH pubkey$' \
	timeout 60 ssh-keygen -D "$PIV_P11"
KEYS=$OUT
printf '%s\n' "$KEYS" | awk '{ k = $2; $2 = substr(k, 1, 24) "..." substr(k, length(k) - 7); print }' | sed 's/^/    | /'
check_grep "ssh-keygen -D prints the 9E RSA key" '^ssh-rsa .* CARD AUTH pubkey$' printf '%s\n' "$KEYS"
check_grep "ssh-keygen -D prints the 9C P-256 key" '^ecdsa-sha2-nistp256 .* SIGN pubkey$' printf '%s\n' "$KEYS"
EC_KEY=$(printf '%s\n' "$KEYS" | grep -m1 '^ecdsa-sha2-nistp256 .* PIV AUTH pubkey$')
RSA_KEY=$(printf '%s\n' "$KEYS" | grep -m1 '^ssh-rsa .* CARD AUTH pubkey$')
SIGN_KEY=$(printf '%s\n' "$KEYS" | grep -m1 '^ecdsa-sha2-nistp256 .* SIGN pubkey$')
# they are the card's keys: the same as the public keys GENERATE returned
EC_GEN=$(ssh-keygen -i -m PKCS8 -f "$OL_W/pub-9A.pem" 2>/dev/null | cut -d' ' -f2)
RSA_GEN=$(ssh-keygen -i -m PKCS8 -f "$OL_W/pub-9E.pem" 2>/dev/null | cut -d' ' -f2)
check "the P-256 key is the key generated in 9A" \
	test -n "$EC_GEN" -a "$(echo "$EC_KEY" | cut -d' ' -f2)" = "$EC_GEN"
check "the RSA key is the key generated in 9E" \
	test -n "$RSA_GEN" -a "$(echo "$RSA_KEY" | cut -d' ' -f2)" = "$RSA_GEN"
check_grep "the RSA key has 2048 bits" '^2048 ' sh -c "echo '$RSA_KEY' | ssh-keygen -l -f -"
EC_FP=$(echo "$EC_KEY" | ssh-keygen -l -f - | awk '{print $2}')
RSA_FP=$(echo "$RSA_KEY" | ssh-keygen -l -f - | awk '{print $2}')
SIGN_FP=$(echo "$SIGN_KEY" | ssh-keygen -l -f - | awk '{print $2}')
say "9A P-256:    $EC_FP" "9E RSA-2048: $RSA_FP" "9C P-256:    $SIGN_FP"

check_here "sshd starts on 127.0.0.1 with its own config, port and host key" sshd_start
say "/usr/sbin/sshd -D -e -f $SSHD_DIR/sshd_config: 127.0.0.1:$SSH_PORT, pid $SSHD_PID"

# =========================================================================
# 2. PIN given: OPENSC_CONF names an OpenSC configuration with
#    enable_pinpad = false (exported for this section's ssh, ssh-keygen and
#    pkcs11-tool).  The token is "login required" without a PIN pad; ssh
#    asks for the PIN (askpass) and the card verifies it; no touch.
# =========================================================================
export OPENSC_CONF="$NOPAD_CONF"
check_grep "PIN given: pkcs11-tool -L says 'login required'" 'login required' token_flags
say "$OUT"
check "PIN given: ... and shows no PIN pad" fails grep -q 'PIN pad' <<<"$OUT"
check "PIN given: ssh-keygen -D prints the same keys" \
	test "$(timeout 60 ssh-keygen -D "$PIV_P11" 2>/dev/null)" = "$(printf '%s\n' "$KEYS" | grep -E '^(ecdsa|ssh-)')"

m=$(sim_mark)
ssh_login pin P-256 "$EC_KEY" "$EC_FP" ECDSA
ssh_login pin RSA-2048 "$RSA_KEY" "$RSA_FP" RSA
check_grep "ssh asked for the PIN with the token's name" "^Enter PIN for '.+': ?$" cat "$OL_W/askpass.log"
say "$OUT"
# 9C wants a VERIFY right before each signature (PIN always): ssh logs in
# just before its one signature and, having just logged in, skips the
# context-specific login; that VERIFY is the one the card needs.
ssh_login pin "9C P-256 (PIN always)" "$SIGN_KEY" "$SIGN_FP" ECDSA
check_grep "the card made the ECDSA signature with 9A" 'ECDSA signature with 9A' sim_log_since "$m"
check_grep "the card made the RSA signature with 9E" 'RSA private-key operation with 9E' sim_log_since "$m"
check_grep "the card made the ECDSA signature with 9C" 'ECDSA signature with 9C' sim_log_since "$m"
check_grep "the PIN went to the card as a VERIFY" 'C: 00 20 00 80 08 <8 bytes hidden>' sim_log_since "$m"
check "with the PIN verified no touch was asked for" fails sim_has 'waiting for touch' "$m"
sim_log_since "$m" | grep -E 'C: 00 20 00 80 08|signature|private-key operation|touch' |
	sed 's/^openloop-sim: \[ *[0-9.]*\] //; s/^/    | /'

# A wrong PIN: a clear error, no login; the right PIN works afterwards.
printf '%s\n' 999999 >"$OL_W/pin.txt"
authorize "$EC_KEY"
check_grep "ssh with a wrong PIN: 'PKCS#11 login failed: PIN incorrect', Permission denied" \
	'PKCS#11 login failed: PIN incorrect' fails ssh_p11 pin
ssh_summary
printf '%s\n' "$PIN" >"$OL_W/pin.txt"
check_grep "the right PIN works again afterwards" '^ok$' ssh_p11 pin

# Enter at the PIN prompt (an empty PIN) is refused by OpenSC before
# anything reaches the card (C_Login: CKR_PIN_LEN_RANGE).
m=$(sim_mark)
check_grep "Enter at the PIN prompt: ssh fails, 'PKCS#11 login failed' and Permission denied" \
	'PKCS#11 login failed' fails ssh_p11 empty
ssh_summary
check_grep "... Permission denied (publickey), a clean end" 'Permission denied \(publickey\)' printf '%s\n' "$OUT"
check "the empty PIN never reached the card: no VERIFY, no signature, no touch" \
	fails sim_has '00 20 00 80 0|signature|private-key|touch' "$m"

# The PIN mode needs no touch: the same device with --touch deny and with
# --touch never still logs in (blind signing, for automation).
for t in deny never; do
	restart_device --serial OLSSH0000001 --touch "$t" --state "$STATE" --verbose || exit 1
	m=$(sim_mark)
	authorize "$EC_KEY" "$RSA_KEY"
	check_grep "--touch $t: ssh with the PIN logs in, the device is not asked for a touch" '^ok$' ssh_p11 pin
	check "--touch $t: no touch request in the simulator's log" fails sim_has 'waiting for touch' "$m"
done
unset OPENSC_CONF

# =========================================================================
# 3. Touch mode: OpenSC's default configuration, the driver's PIN pad.
#    ssh without any askpass; each signature waits for the touch.
#    (Each part starts from a new card session: a PIN verified in section 2
#    would otherwise still be verified and make the touch unnecessary, as
#    on any PIV card until it is reset or powered down.)
# =========================================================================
restart_device --serial OLSSH0000001 --touch 300 --state "$STATE" --verbose || exit 1
check_grep "touch mode: opensc-tool -l shows the reader's PIN pad" 'PIN pad +Openloop Virtual' opensc-tool -l
printf '%s\n' "$OUT" | grep 'Openloop' | sed 's/^/    | /'
check_grep "touch mode: pkcs11-tool -L says 'PIN pad present' (CKF_PROTECTED_AUTHENTICATION_PATH)" 'PIN pad present' token_flags
say "$OUT"

for k in EC RSA; do
	case $k in
	EC)  key=$EC_KEY fp=$EC_FP kname=P-256 type=ECDSA slot=9A what='ECDSA signature' ;;
	RSA) key=$RSA_KEY fp=$RSA_FP kname=RSA-2048 type=RSA slot=9E what='RSA private-key operation' ;;
	esac
	m=$(sim_mark); pm=$(pcscd_mark)
	ssh_login touch "$kname" "$key" "$fp" "$type"
	check_grep "$kname: ssh says 'Deferring PIN entry to reader keypad'" 'Deferring PIN entry to reader keypad' \
		printf '%s\n' "$OUT"
	check "$kname: no PIN was asked for (the askpass program was not run)" test ! -s "$OL_W/askpass.log"
	ga=$(pcscd_ga_ms "$pm" | sort -n | tail -1)
	check "$kname: the signature took the 300 ms touch (${ga:-?} ms from command to answer in pcscd's log; ssh ran $T_SSH ms)" \
		test "${ga:-0}" -ge 300 -a "$T_SSH" -ge 300
	check_grep "$kname: the device waited for the touch ($what with $slot) and it was approved" \
		"PIV: waiting for touch \($what with $slot\).*PIV: touch approved" sim_flat "$m"
	sim_log_since "$m" | grep -E 'PIV: (waiting for touch|touch)' | sed 's/^/    | /'
	check "$kname: no PIN crossed USB (no VERIFY with data)" fails sim_has 'C: 00 20 00 80 0' "$m"
	check_grep "$kname: pcscd: 'PIN pad: verified on the device' and the wait for the touch" \
		'PIN pad: verified on the device.*waiting for the user to confirm on the device' \
		pcscd_flat "$pm"
done
pcscd_log_since 0 | grep -E 'PIN pad: verified|waiting for the user' | head -2 | sed 's/^/    | /'

# 9C in touch mode: the pad login is a verification on the device, and
# 9C's PIN-always rule is met by the touch on its one signature (the
# device has no slot exception, docs/transport.md section 6).  This
# failed before with 6982 and then Permission denied.
m=$(sim_mark)
ssh_login touch "9C P-256 (PIN always)" "$SIGN_KEY" "$SIGN_FP" ECDSA
check_grep "touch mode, 9C: the device verified its PIN on its screen, then asked for the 9C touch" \
	'PIV: verified on the device.*PIV: waiting for touch \(ECDSA signature with 9C\).*PIV: touch approved' sim_flat "$m"
check "touch mode, 9C: exactly one touch ($(sim_log_since "$m" | grep -c 'PIV: touch approved'))" \
	test "$(sim_log_since "$m" | grep -c 'PIV: touch approved')" -eq 1
check "touch mode, 9C: no PIN crossed USB" fails sim_has 'C: 00 20 00 80 0' "$m"
sim_log_since "$m" | grep -E 'PIV: (waiting|verified|touch)' | sed 's/^openloop-sim: \[ *[0-9.]*\] //; s/^/    | /'

# A signature that fails is tried twice by OpenSC 0.23: pkcs15_prkey_sign
# (framework-pkcs15.c) retries any failed sc_pkcs15_compute_signature once
# after reselect_app_df() when the key has no path, and PIV keys have none.
# Nothing is sent in between (no VERIFY: the pad login is not redone), so
# the device sees the same GENERAL AUTHENTICATE twice: a denied touch is
# asked for a second time at once, and a touch that never comes costs two
# ifdUserConfirmationTimeout periods.  The checks below allow one or two
# requests and print how many there were.
#
# --touch deny: the user refuses the login on the device (VERIFY ON
# DEVICE answers 6401, "cancelled"), ssh says so; the reader keeps
# working: on the same reader and device ssh with the PIN logs in, and
# after the device is replugged (pcscd and the driver keep running) with
# the user approving, ssh in touch mode logs in again.
restart_device --serial OLSSH0000001 --touch deny --state "$STATE" --verbose || exit 1
authorize "$EC_KEY"
m=$(sim_mark)
t0=$(ms)
check_grep "--touch deny: ssh fails, Permission denied" 'Permission denied \(publickey\)' fails ssh_p11 touch
t1=$(ms)
ssh_summary
check "... soon ($((t1 - t0)) ms)" test $((t1 - t0)) -lt 20000
check_grep "the simulator logged 'verification on the device denied'" 'PIV: verification on the device denied' sim_log_since "$m"
sim_log_since "$m" | grep -E 'PIV: (waiting|verification|touch)' | sed 's/^/    | /'
n=$(sim_log_since "$m" | grep -c 'PIV: verification on the device denied')
check "... the device asked $n time(s) (1, or 2 if the client retried the login)" test "$n" -ge 1 -a "$n" -le 2
check "... and nothing was signed" fails sim_has 'waiting for touch' "$m"
check_grep "--touch deny: afterwards ssh with the PIN works on the same reader and device" '^ok$' ssh_p11 pin
# The PIN that client verified stays verified in the card's session (PIV
# semantics: until the card is reset, powered down or unplugged; pcscd
# keeps it powered between clients).  A touch-mode client logs in through
# the device-as-PIN-pad, and VERIFY ON DEVICE forgets a PIN sent over USB
# first (docs/transport.md section 6): the device asks the user again, and
# on this device that denies everything, ssh fails.
m=$(sim_mark)
check_grep "after a PIN-given client, a touch-mode ssh still needs the user (denied here)" \
	'Permission denied \(publickey\)' fails ssh_p11 touch
check_grep "... the device asked the user (the earlier PIN no longer counts)" \
	'waiting for the user to verify on the device' sim_log_since "$m"
check "... and nothing was signed blind" fails sim_has 'ECDSA signature with' "$m"
check_here "the device is replugged with --touch approve; pcscd keeps running" \
	replug_sim --serial OLSSH0000001 --touch approve --state "$STATE" --verbose
m=$(sim_mark)
check_grep "after the denial: ssh in touch mode works on the same reader (touch approved)" '^ok$' ssh_p11 touch
check_grep "... the device asked for the touch and it was approved" 'PIV: touch approved' sim_log_since "$m"

# --touch never: the driver gives up after ifdUserConfirmationTimeout
# (3 s here; it caps the 30 s OpenSC asks of the pad) and cancels the
# request; ssh fails instead of hanging, and the reader keeps working.
ol_set_plist ifdUserConfirmationTimeout 3
restart_device --serial OLSSH0000001 --touch never --state "$STATE" --verbose || exit 1
m=$(sim_mark); pm=$(pcscd_mark)
t0=$(ms)
check_grep "--touch never, ifdUserConfirmationTimeout 3: ssh fails, Permission denied" \
	'Permission denied \(publickey\)' fails ssh_p11 touch
t1=$(ms)
ssh_summary
n=$(pcscd_log_since "$pm" | grep -c 'no confirmation on the device within 3 s; cancelling')
check "... after 3 s per request, $n request(s) (1, or 2 with OpenSC's retry), not a hang ($((t1 - t0)) ms)" \
	sh -c "[ $n -ge 1 ] && [ $n -le 2 ] && [ $((t1 - t0)) -ge $((n * 3000 - 200)) ] && [ $((t1 - t0)) -lt $((n * 3000 + 8000)) ]"
check_grep "pcscd's log: 'no confirmation on the device within 3 s; cancelling'" \
	'no confirmation on the device within 3 s; cancelling' pcscd_log_since "$pm"
printf '%s\n' "$OUT" | grep -E 'waiting for the user|no confirmation on the device|APDU not transmitted' | head -3 | sed 's/^/    | /'
check_grep "the simulator saw the host cancel the wait" 'PIV: .*cancelled by the host' sim_log_since "$m"
check "pcscd is still running" kill -0 "$OL_PCSCD_PID"
check_grep "--touch never: afterwards ssh with the PIN works on the same reader and device" '^ok$' ssh_p11 pin
check_here "the device is replugged with --touch approve; pcscd keeps running" \
	replug_sim --serial OLSSH0000001 --touch approve --state "$STATE" --verbose
m=$(sim_mark)
check_grep "after the cancel: ssh in touch mode works on the same reader (touch approved)" '^ok$' ssh_p11 touch
check_grep "... the device asked for the touch and it was approved" 'PIV: touch approved' sim_log_since "$m"
ol_set_plist ifdUserConfirmationTimeout 60

# =========================================================================
# 4. A fresh device without a PIN (no --pin: the vendor's default, every
#    signature by touch).  Touch mode: ssh works straight away.  PIN
#    given: C_Login fails (VERIFY answers 6A88, no PIN object); the user
#    sets a first PIN with the PUK, then the PIN-given mode works too.
# =========================================================================
restart_device --serial OLSSH0000002 --touch 300 --state "$OL_W/nopin.state" --verbose || exit 1
check "no-PIN device: provision 9A (P-256)" piv_provision 9A 11 "/CN=Openloop SSH no-PIN"
NOPIN_KEY=$(timeout 60 ssh-keygen -D "$PIV_P11" 2>/dev/null | grep -m1 '^ecdsa-sha2-nistp256 ')
check "no-PIN device: ssh-keygen -D prints the key" test -n "$NOPIN_KEY"
NOPIN_FP=$(echo "$NOPIN_KEY" | ssh-keygen -l -f - | awk '{print $2}')
m=$(sim_mark)
ssh_login touch "no-PIN device's P-256" "$NOPIN_KEY" "$NOPIN_FP" ECDSA
check_grep "no-PIN device: the touch was asked for and approved" \
	'PIV: waiting for touch \(ECDSA signature with 9A\).*PIV: touch approved' \
	sim_flat "$m"

m=$(sim_mark)
# (OpenSC maps the card's 6A88 to CKR_GENERAL_ERROR: ssh says "PKCS#11
# login failed: error 5".)
check_grep "no-PIN device, PIN given: ssh fails at C_Login, 'PKCS#11 login failed'" \
	'PKCS#11 login failed' fails ssh_p11 pin
ssh_summary
check_grep "... the card answered the VERIFY with 6A88 (no PIN set)" 'R: 6A 88' \
	sim_answers "$m" 'C: 00 20 00 80 08'
printf '%s\n' "$OUT" | sed 's/^openloop-sim: \[ *[0-9.]*\] //' | sed 's/^/    | /'
check "... no signature and no touch was asked" fails sim_has 'signature|touch' "$m"

# The first PIN: RESET RETRY COUNTER with the PUK.  sc_pkcs15_unblock_pin
# hands the command to the reader's pad whenever the reader announces one
# (even with --puk and --new-pin given), and our pad offers VERIFY only
# (no FEATURE_MODIFY_PIN_DIRECT): "PIN unblocking failed: Not supported",
# nothing sent.  So pkcs15-tool needs the PIN-given configuration too.
m=$(sim_mark)
check_grep "pkcs15-tool --unblock-pin with the default configuration: 'Not supported' (the pad)" \
	'PIN unblocking failed: Not supported' fails pkcs15-tool --unblock-pin --puk "$PIV_PUK" --new-pin "$PIN"
check "... nothing reached the card (no RESET RETRY COUNTER)" fails sim_has 'C: 00 2C' "$m"
check "the user sets a first PIN: OPENSC_CONF=(enable_pinpad = false) pkcs15-tool --unblock-pin --puk --new-pin" \
	env OPENSC_CONF="$NOPAD_CONF" pkcs15-tool --unblock-pin --puk "$PIV_PUK" --new-pin "$PIN"
say "$OUT"
check_grep "... the card took it (RESET RETRY COUNTER with the PUK: 'PIV: first PIN set with the PUK', 9000)" \
	'PIV: first PIN set with the PUK.*R: 90 00' sim_flat "$m"
sim_answers "$m" 'C: 00 2C' | sed 's/^openloop-sim: \[ *[0-9.]*\] //' | sed 's/^/    | /'
ssh_login pin "formerly no-PIN device's P-256" "$NOPIN_KEY" "$NOPIN_FP" ECDSA

# =========================================================================
# 5. Tear-down: sshd stopped, no process left; the PIN in no log.
# =========================================================================
check "no PIN in pcscd's or the simulator's log" piv_logs_free_of "$PIN"
check "no PIN in sshd's log" fails grep -q "$PIN" "$SSHD_DIR/sshd.log"
check "no sanitizer report in pcscd's or the simulator's log" \
	fails grep -Eq 'AddressSanitizer|runtime error|Segmentation' "$OL_W"/pcscd*.log "$OL_SOCK.log"
# the per-connection sshd processes end with their sessions; wait for them
# (bounded) so that stopping the listener leaves nothing behind
for i in $(seq 50); do
	pgrep -P "$SSHD_PID" >/dev/null || break
	sleep 0.1
done
sshd_pid=$SSHD_PID
ol_stop_all
check "sshd stopped: neither the listener nor a session process is left" \
	sh -c "! kill -0 $sshd_pid 2>/dev/null && ! pgrep -P $sshd_pid >/dev/null && ! pgrep -f '[s]shd -D -e -f $SSHD_DIR/' >/dev/null"
ol_summary
