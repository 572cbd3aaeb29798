#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The user matrix: a device with all four PIV slots provisioned as the
# vendor's guide describes them (9A P-256 for SSH, 9C RSA-2048 for
# signing, 9D P-256 for key management, 9E P-256 for card
# authentication), and the same checks in both modes on that one device:
#
#   touch mode  OpenSC's default configuration: the reader is a PIN pad,
#               applications send no PIN, every private-key operation
#               waits for a touch on the device;
#   PIN mode    OPENSC_CONF=contrib/opensc-pin-mode.conf: the PIN is typed
#               (askpass for ssh, --pin for pkcs11-tool), no touch.
#
# The steps are what users run: pkcs15-tool --dump, pkcs11-tool signatures
# with 9A and 9C and ECDH with 9D (checked by openssl), ssh -I to a real
# sshd with the WHOLE output of ssh-keygen -D authorized, with only 9C,
# and with 9A and 9C (the other tests authorize one key at a time, which
# hid that one failing 9C signature costs the whole token: digest
# section 5), and ssh-agent (ssh-add -s) with a login and a git commit
# signed in SSH format through it.  The simulator's log must show exactly
# one touch per signature in touch mode and none in PIN mode.
#
# Known limits of OpenSSH 9.2's agent (pinned down below): its PKCS#11
# helper refuses a login-required token when the passphrase typed into
# ssh-add is empty ("pin required"), PIN pad or not, so through the agent
# the user types the PIN in both configurations and the agent signs
# blind; and it cannot use 9C at all, which breaks the agent's other keys
# too when sshd accepts 9C (below, at the end of each mode).
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/piv-lib.sh"
ol_setup
piv_init
# the driver logs at its highest level (errors, info, every APDU, presence
# polling): the checks at the end look for every secret used here in
# pcscd's log and the simulator's
export IFDOPENLOOP_ifdLogLevel=0x0F
SECRETS_HEX=

PIN=583920
STATE="$OL_W/piv.state"
SERIAL=OLMTX0000001
PIN_CONF=$OL_PIN_MODE_CONF
SSHD_DIR="$OL_W/sshd"
AGENT_PID=
AGENT_SOCK=

# AGENT_KIDS: the agent's PKCS#11 helpers seen so far, to check at the end
# that they went with it
AGENT_KIDS=
agent_stop() {
	[ -n "$AGENT_PID" ] || return 0
	AGENT_KIDS="$AGENT_KIDS $(pgrep -P "$AGENT_PID" | tr '\n' ' ')"
	ol_stop_pid "$AGENT_PID"
	AGENT_PID=
}
# sshd and ssh-agent are in OL_PIDS too; the pid file and AGENT_PID are
# second handles so that neither outlives the test whatever happened
cleanup() {
	agent_stop
	[ -s "$SSHD_DIR/sshd.pid" ] && ol_stop_pid "$(cat "$SSHD_DIR/sshd.pid")"
	ol_cleanup
}
trap cleanup EXIT

say() { printf '%s\n' "$@" | sed 's/^/    | /'; }
ms() { date +%s%3N; }
fails() { ! "$@"; }

sim_mark() { wc -l <"$OL_SOCK.log"; }
sim_log_since() { tail -n +"$(($1 + 1))" "$OL_SOCK.log"; }
sim_has() { sim_log_since "$2" | grep -Eq -- "$1"; } # PATTERN MARK
# is_count WHAT N WANT: prints the count, succeeds if N = WANT
is_count() { echo "$1: $2 (wanted $3)"; [ "$2" -eq "$3" ]; }
touches_since() { sim_log_since "$1" | grep -c 'PIV: touch approved'; }

# restart_device: a new simulator process on the same state file and a new
# pcscd, as after replugging: each mode starts from a card session in
# which nothing is verified.  Earlier pcscd logs are kept for the final
# check that no PIN was logged.
restart_device() {
	ol_stop_pid "$OL_PCSCD_PID"
	ol_stop_pid "$OL_SIM_PID"
	cat "$OL_W/pcscd.log" >>"$OL_W/pcscd-earlier.log" 2>/dev/null
	ol_start_sim --serial "$SERIAL" --pin "$PIN" --touch 150 --model C \
		--state "$STATE" --verbose && ol_start_pcscd "Openloop Virtual"
}

head -c 1000 /dev/urandom >"$OL_W/data.bin"
openssl dgst -sha256 -binary "$OL_W/data.bin" >"$OL_W/data.sha256"
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$OL_W/peer.key" 2>/dev/null
openssl pkey -in "$OL_W/peer.key" -pubout -outform DER -out "$OL_W/peer.der"
openssl pkey -in "$OL_W/peer.key" -pubout -out "$OL_W/peer.pem"

# --- sshd on 127.0.0.1 (sshd-lib.sh) ---------------------------------------
. "$top_srcdir/tests/integration/sshd-lib.sh"
sshd_setup $((22700 + $$ % 500)) || exit 1

# --- askpass programs: the PIN from a file, or Enter (an empty line) -----
# They log the prompt, never the answer.
printf '%s\n' "$PIN" >"$OL_W/pin.txt"
chmod 600 "$OL_W/pin.txt"
for a in pin empty; do
	case $a in pin) ans="cat '$OL_W/pin.txt'" ;; empty) ans='echo' ;; esac
	cat >"$OL_W/askpass-$a" <<ASKPASS
#!/bin/sh
printf '%s\n' "\$1" >>"$OL_W/askpass.log"
$ans
ASKPASS
	chmod 755 "$OL_W/askpass-$a"
done

# MODE_ENV: the environment of the current mode for ssh and ssh-agent
# (set per mode below; an array, so that "${MODE_ENV[@]}" cmd & gives the
# pid of cmd itself).  Touch mode: OpenSC's default configuration, and ssh
# may not ask for anything (no askpass).  PIN mode: the PIN-mode
# configuration and the PIN from the askpass program, as a user types it
# (no terminal: setsid; SSH_ASKPASS_REQUIRE=force, OpenSSH >= 8.4).
MODE_ENV=()

# ssh_run p11|agent: ssh root@127.0.0.1 'echo ok' with opensc-pkcs11 (-I)
# or through the agent, bounded, without a terminal.  The whole -v output
# goes to $OL_W/ssh-N.out; printed are the remote "ok" and the lines worth
# quoting, so that a failing check shows why.
# (SSH_N is counted by the callers: ssh_run runs in check's subshell)
SSH_N=0
ssh_run() {
	: >"$OL_W/askpass.log"
	case $1 in
	p11)   set -- -o IdentityAgent=none -I "$PIV_P11" ;;
	agent) set -- -o IdentityAgent="$AGENT_SOCK" ;;
	# the agent, offering only the key of the public key file given
	agent-only) set -- -o IdentityAgent="$AGENT_SOCK" -o IdentitiesOnly=yes -i "$2" ;;
	esac
	"${MODE_ENV[@]}" timeout 60 setsid -w ssh -F /dev/null -v \
		-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
		-o PreferredAuthentications=publickey \
		-o PasswordAuthentication=no -o KbdInteractiveAuthentication=no \
		-o ConnectTimeout=10 "$@" -p "$SSH_PORT" root@127.0.0.1 'echo ok' \
		</dev/null >"$OL_W/ssh-$SSH_N.out" 2>&1
	_rc=$?
	grep -E '^ok$|Deferring|Offering public key|Server accepts key|Authenticated to|PKCS#11 login|login failed|C_Sign|C_Login|cannot find private key|Permission denied|sign_and_send_pubkey|signing failed|agent refused|Timeout' \
		"$OL_W/ssh-$SSH_N.out" | grep -v -E 'pkcs11_k11_free|provider_unref' | head -20
	[ -s "$OL_W/askpass.log" ] && echo "askpass was asked: $(head -1 "$OL_W/askpass.log")"
	return $_rc
}

# slot_of FINGERPRINT: the slot whose key has it
slot_of() {
	[ -n "$1" ] || { echo none; return; }
	for _s in 9A 9C 9D 9E; do
		[ "$1" = "$(eval echo "\$FP_$_s")" ] && { echo "$_s"; return; }
	done
	echo "an unknown key"
}

# ssh_login_check NAME VIA SLOTS...: ssh (VIA p11 or agent) runs 'echo ok'
# and sshd accepted one of the keys of SLOTS; prints which one.  Sets
# SSH_SLOT.
ssh_login_check() {
	_name=$1 _via=$2; shift 2
	_m=$(sshd_mark)
	SSH_N=$((SSH_N + 1))
	check_grep "$M, $_name: the remote 'echo ok' ran" '^ok$' ssh_run "$_via" "${SSH_ONLY:-}"
	# (sshd -e ends its lines with CR LF)
	_fp=$(sshd_log_since "$_m" | tr -d '\r' | sed -n 's/.*Accepted publickey for root from 127\.0\.0\.1 port [0-9]* ssh2: [A-Z0-9-]* \(SHA256:[^ ]*\).*/\1/p' | head -1)
	SSH_SLOT=$(slot_of "$_fp")
	_ok=1
	for _s in "$@"; do [ "$SSH_SLOT" = "$_s" ] && _ok=0; done
	check "$M, $_name: sshd accepted the key of $(echo "$@" | sed 's/ / or /g')" \
		sh -c "echo 'sshd accepted: ${_fp:-nothing} ($SSH_SLOT)'; exit $_ok"
	case $SSH_SLOT in
	9?)	say "sshd accepted the $SSH_SLOT key" ;;
	*)	say "sshd accepted $SSH_SLOT" ;;
	esac
}

# touch_check NAME MARK: a step with one private-key operation; touch
# mode: exactly one touch approved since MARK, PIN mode: none
touch_check() {
	_want=$WANT_TOUCH
	_n=$(touches_since "$2")
	if [ "$MODE" = touch ]; then _what="exactly $_want 'PIV: touch approved'"; else _what="no 'PIV: touch approved'"; fi
	check "$M, $1: $_what in the simulator's log" is_count "touches approved" "$_n" "$_want"
}

# pkcs11-tool logging in the mode's way: touch mode --login with no PIN
# (the pad: C_Login(NULL), nothing typed), PIN mode --login --pin
p11_login() {
	if [ "$MODE" = pin ]; then
		piv_p11 --login --pin "$PIN" "$@" </dev/null
	else
		piv_p11 --login "$@" </dev/null
	fi
}
verify_sig() { # PUBKEY SIG DATA
	openssl dgst -sha256 -verify "$1" -signature "$2" "$3"
}

# --- the agent ------------------------------------------------------------
# ssh-agent -d: in the foreground, its log (and its PKCS#11 helper's, which
# inherits stderr) in $OL_W/agent-MODE.log.  The helper is the agent's
# child, so the agent gets the mode's OpenSC configuration.
agent_start() {
	agent_stop
	AGENT_SOCK="$OL_W/agent-$MODE.sock"
	rm -f "$AGENT_SOCK"
	"${MODE_ENV[@]}" ssh-agent -d -a "$AGENT_SOCK" >>"$OL_W/agent-$MODE.log" 2>&1 </dev/null &
	AGENT_PID=$!
	OL_PIDS="$OL_PIDS $AGENT_PID"
	ol_wait_for "$AGENT_SOCK" 50 || { echo "ssh-agent did not start:"; cat "$OL_W/agent-$MODE.log"; return 1; }
}
agent_mark() { wc -l <"$OL_W/agent-$MODE.log"; }
agent_log_since() { tail -n +"$(($1 + 1))" "$OL_W/agent-$MODE.log"; }

# ssh_add pin|empty ARGS...: ssh-add with the passphrase from an askpass
# program (the user types the PIN, or presses Enter), no terminal
ssh_add() {
	_a=$1; shift
	: >"$OL_W/askpass.log"
	env SSH_AUTH_SOCK="$AGENT_SOCK" SSH_ASKPASS="$OL_W/askpass-$_a" SSH_ASKPASS_REQUIRE=force \
		timeout 60 setsid -w ssh-add "$@" </dev/null
}

# git_sign: a commit signed in SSH format with the agent's 9A key,
# verified with an allowed-signers file; git's own configuration only
git_sign() {
	_g="$OL_W/git-$MODE"
	rm -rf "$_g"
	echo "matrix@openloop.test namespaces=\"git\" $AGENT_9A" >"$OL_W/allowed_signers"
	(
		export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null HOME="$OL_W"
		export SSH_AUTH_SOCK="$AGENT_SOCK"
		gitc() {
			timeout 60 git -C "$_g" -c user.name="Openloop Matrix" -c user.email=matrix@openloop.test \
				-c gpg.format=ssh -c user.signingkey="key::$AGENT_9A" \
				-c gpg.ssh.allowedSignersFile="$OL_W/allowed_signers" "$@"
		}
		git init -q "$_g" && echo "$MODE" >"$_g/f" && gitc add f &&
		gitc commit -q -S -m "signed with the Openloop 9A key through ssh-agent ($MODE mode)" </dev/null &&
		gitc verify-commit HEAD 2>&1 && gitc log --show-signature -1 --format=%G? 2>/dev/null | tail -1
	)
}

# =========================================================================
# Provisioning, as the vendor's guide describes the slots: 9A P-256 (SSH),
# 9C RSA-2048 (signing), 9D P-256 (key management), 9E P-256 (card
# authentication), each with a certificate (OpenSC shows a slot's key only
# with one).  piv-tool for 9A and 9E, yubico-piv-tool for 9C and 9D.
# =========================================================================
t_start=$(ms)
ol_start_sim --serial "$SERIAL" --pin "$PIN" --touch 150 --model C --state "$STATE" --verbose || exit 1
ol_start_pcscd "Openloop Virtual" || exit 1
provision_ykpiv() { piv_gen_ykpiv "$1" "$2" && piv_cert_and_load "$1" "$3"; }
check "provision 9A: P-256 (piv-tool), certificate" piv_provision 9A 11 "/CN=Openloop 9A SSH P-256"
t0=$(ms)
check "provision 9C: RSA-2048 (yubico-piv-tool), certificate" provision_ykpiv 9C RSA2048 "/CN=Openloop 9C Signing RSA-2048"
say "RSA-2048 generation and certificate: $(($(ms) - t0)) ms"
check "provision 9D: P-256 (yubico-piv-tool), certificate" provision_ykpiv 9D ECCP256 "/CN=Openloop 9D Key Management P-256"
check "provision 9E: P-256 (piv-tool), certificate" piv_provision 9E 11 "/CN=Openloop 9E Card Auth P-256"
for s in 9A 9C 9D 9E; do
	openssl x509 -in "$OL_W/cert-$s.pem" -pubkey -noout >"$OL_W/cpub-$s.pem"
done

check_grep "ssh-keygen -D prints four keys" '^4$' \
	sh -c "timeout 60 ssh-keygen -D '$PIV_P11' 2>/dev/null | tee '$OL_W/all_keys' | grep -c -E '^(ecdsa-sha2-nistp256|ssh-rsa) '"
awk '{ k = $2; $2 = substr(k, 1, 24) "..." substr(k, length(k) - 7); print }' "$OL_W/all_keys" | sed 's/^/    | /'
# the keys by the names OpenSC gives the slots; checked against GENERATE's
KEY_9A=$(grep -m1 ' PIV AUTH pubkey$' "$OL_W/all_keys")
KEY_9C=$(grep -m1 ' SIGN pubkey$' "$OL_W/all_keys")
KEY_9D=$(grep -m1 ' KEY MAN pubkey$' "$OL_W/all_keys")
KEY_9E=$(grep -m1 ' CARD AUTH pubkey$' "$OL_W/all_keys")
for s in 9A 9C 9D 9E; do
	k=$(eval echo "\$KEY_$s")
	gen=$(ssh-keygen -i -m PKCS8 -f "$OL_W/pub-$s.pem" 2>/dev/null | cut -d' ' -f2)
	check "ssh-keygen -D: the $s key is the key generated in $s" \
		test -n "$gen" -a "$(echo "$k" | cut -d' ' -f2)" = "$gen"
	eval "FP_$s=\$(echo \"\$k\" | ssh-keygen -l -f - | awk '{print \$2}')"
done
check_grep "... and 9C's is RSA-2048" '^2048 .*\(RSA\)$' sh -c "echo '$KEY_9C' | ssh-keygen -l -f -"
say "9A $FP_9A" "9C $FP_9C" "9D $FP_9D" "9E $FP_9E"

check_here "sshd starts on 127.0.0.1 with its own config, port and host key" sshd_start
say "/usr/sbin/sshd -D -e -f $SSHD_DIR/sshd_config: 127.0.0.1:$SSH_PORT"
HAVE_GIT=1
command -v git >/dev/null || HAVE_GIT=
check "git is installed (Debian package git, for the signed commit)" test -n "$HAVE_GIT"

# =========================================================================
# The same checks in both modes, each on a fresh card session of the same
# device.
# =========================================================================
for MODE in touch pin; do
	t_mode=$(ms)
	case $MODE in
	touch)	M="touch mode"; WANT_TOUCH=1; unset OPENSC_CONF
		MODE_ENV=(env -u OPENSC_CONF -u SSH_ASKPASS -u DISPLAY SSH_ASKPASS_REQUIRE=never) ;;
	pin)	M="PIN mode"; WANT_TOUCH=0; export OPENSC_CONF="$PIN_CONF"
		MODE_ENV=(env OPENSC_CONF="$PIN_CONF" SSH_ASKPASS="$OL_W/askpass-pin" SSH_ASKPASS_REQUIRE=force) ;;
	esac
	echo "# --- $M"
	# (not in check_here: ol_start_pcscd sets lib.sh's $name)
	restart_device >"$OL_W/restart.out" 2>&1 || { cat "$OL_W/restart.out"; exit 1; }
	say "the device replugged (same state file), pcscd restarted"
	case $MODE in
	touch)	check_grep "$M: pkcs11-tool -L: 'PIN pad present' (the device)" 'PIN pad present' piv_p11 -L ;;
	pin)	check_grep "$M: pkcs11-tool -L: 'login required', no PIN pad" 'login required' piv_p11 -L
		check "$M: ... no 'PIN pad'" fails grep -q 'PIN pad' <<<"$OUT" ;;
	esac

	check "$M: ssh-keygen -D prints the same four keys" \
		test "$(timeout 60 ssh-keygen -D "$PIV_P11" 2>/dev/null)" = "$(cat "$OL_W/all_keys")"

	# --- pkcs15-tool --dump
	check_grep "$M, pkcs15-tool --dump: four X.509 certificates" '^4$' \
		sh -c "timeout 60 pkcs15-tool --dump 2>&1 | tee '$OL_W/dump-$MODE' | grep -c '^X.509 Certificate \['"
	grep '^X.509 Certificate \[' "$OL_W/dump-$MODE" | sed 's/^/    | /'
	for c in 'PIV Authentication' 'Digital Signature' 'Key Management' 'Card Authentication'; do
		check "$M, pkcs15-tool --dump: 'Certificate for $c'" grep -q "^X.509 Certificate \[Certificate for $c\]" "$OL_W/dump-$MODE"
	done

	# --- pkcs11-tool: 9A ECDSA, 9C RSA PKCS#1 v1.5, 9D ECDH
	rm -f "$OL_W"/sig-* "$OL_W"/z-*
	m=$(sim_mark)
	check "$M, pkcs11-tool --sign 9A (id 01, ECDSA)" \
		p11_login --sign --id 01 -m ECDSA --signature-format openssl -i "$OL_W/data.sha256" -o "$OL_W/sig-9a.der"
	check_grep "$M, openssl verifies the 9A signature against the certificate's key" 'Verified OK' \
		verify_sig "$OL_W/cpub-9A.pem" "$OL_W/sig-9a.der" "$OL_W/data.bin"
	touch_check "pkcs11-tool 9A" "$m"

	m=$(sim_mark)
	check "$M, pkcs11-tool --sign 9C (id 02, RSA PKCS#1 v1.5)" \
		p11_login --sign --id 02 -m SHA256-RSA-PKCS -i "$OL_W/data.bin" -o "$OL_W/sig-9c.bin"
	check_grep "$M, openssl verifies the 9C signature against the certificate's key" 'Verified OK' \
		verify_sig "$OL_W/cpub-9C.pem" "$OL_W/sig-9c.bin" "$OL_W/data.bin"
	touch_check "pkcs11-tool 9C" "$m"
	sim_log_since "$m" | grep -E 'PIV: |C: (00|80) 20 ' | sed 's/^openloop-sim: \[ *[0-9.]*\] //; s/^/    | /' | head -8

	m=$(sim_mark)
	check "$M, pkcs11-tool --derive 9D (id 03, ECDH1-DERIVE) with openssl's peer key" \
		p11_login --derive -m ECDH1-DERIVE --id 03 -i "$OL_W/peer.der" -o "$OL_W/z-card.bin"
	openssl pkeyutl -derive -inkey "$OL_W/peer.key" -peerkey "$OL_W/cpub-9D.pem" -out "$OL_W/z-openssl.bin"
	check "$M, the 9D shared secret equals openssl pkeyutl -derive's" cmp "$OL_W/z-card.bin" "$OL_W/z-openssl.bin"
	SECRETS_HEX="$SECRETS_HEX $(od -An -v -tx1 "$OL_W/z-card.bin" | tr -d ' \n')"
	touch_check "pkcs11-tool 9D (one private-key operation)" "$m"

	# --- ssh -I with the whole ssh-keygen -D output, only 9C, 9A+9C
	for set in all 9C 9A+9C; do
		case $set in
		all)	authorize "$(cat "$OL_W/all_keys")"; want="9A 9C 9D 9E"
			what="the whole ssh-keygen -D output authorized" ;;
		9C)	authorize "$KEY_9C"; want=9C; what="only 9C authorized" ;;
		9A+9C)	authorize "$KEY_9A" "$KEY_9C"; want="9A 9C"; what="only 9A and 9C authorized" ;;
		esac
		m=$(sim_mark)
		t0=$(ms)
		ssh_login_check "ssh -I, $what" p11 $want
		say "ssh took $(($(ms) - t0)) ms"
		# a key that fails before another one works is the users' bug:
		# ssh may still get in with a later key (9E, which OpenSC keeps)
		check "$M, ssh -I, $what: no signature failed on the way" \
			fails grep -E 'signing failed|C_Sign failed|cannot find private key' "$OL_W/ssh-$SSH_N.out"
		case $MODE in
		touch)	check_grep "$M, ssh -I, $what: 'Deferring PIN entry to reader keypad', no askpass" \
				'Deferring PIN entry to reader keypad' sh -c "cat '$OL_W/ssh-$SSH_N.out'; ! test -s '$OL_W/askpass.log'" ;;
		pin)	check_grep "$M, ssh -I, $what: ssh asked for the PIN (askpass)" \
				"^Enter PIN for '.+': ?\$" cat "$OL_W/askpass.log" ;;
		esac
		touch_check "ssh -I, $what (one signature)" "$m"
	done

	# --- ssh-agent: ssh-add -s, a signed git commit and a login through it
	check_here "$M: ssh-agent -d starts" agent_start
	am=$(agent_mark); m=$(sim_mark)
	check_grep "$M, ssh-add -s with an empty passphrase (Enter): refused, 'agent refused operation'" \
		'agent refused operation' fails ssh_add empty -s "$PIV_P11"
	say "$OUT"
	check_grep "$M, ... the agent's PKCS#11 helper says 'pin required'" '^pin required' agent_log_since "$am"
	check "$M, ... no PIN and no pad VERIFY reached the card, nothing was signed" \
		fails sim_has 'C: 00 20 00 80 0|C: 80 20 |signature|private-key operation|touch' "$m"
	m=$(sim_mark)
	check_grep "$M, ssh-add -s with the PIN typed: 'Card added'" 'Card added' ssh_add pin -s "$PIV_P11"
	say "$OUT"
	check_grep "$M, ... ssh-add asked for the PKCS#11 passphrase" 'passphrase for PKCS#11' cat "$OL_W/askpass.log"
	check_grep "$M, ... the PIN went to the card as a VERIFY" 'C: 00 20 00 80 08 <8 bytes hidden>' sim_log_since "$m"
	check_grep "$M, ssh-add -L lists the four keys" '^4$' \
		sh -c "SSH_AUTH_SOCK='$AGENT_SOCK' timeout 20 ssh-add -L | tee '$OL_W/agent-keys' | grep -c -E '^(ecdsa-sha2-nistp256|ssh-rsa) '"
	AGENT_9A=$(awk -v k="$(echo "$KEY_9A" | cut -d' ' -f2)" '$2 == k { print $1, $2; exit }' "$OL_W/agent-keys")
	check "$M, ... the agent holds the 9A key" test -n "$AGENT_9A"
	if [ -n "$HAVE_GIT" ]; then
		check_grep "$M, git commit -S (gpg.format=ssh, the agent's 9A key) and git verify-commit: Good signature" \
			'Good "git" signature for matrix@openloop\.test with ECDSA key' git_sign
		say "$OUT"
	fi
	authorize "$KEY_9A"
	ssh_login_check "ssh through the agent (no -I), 9A authorized" agent 9A
	check "$M, through the agent the typed PIN signs blind: no touch" \
		is_count "touches approved" "$(touches_since "$m")" 0

	# The workaround for the limit below, as the README gives it: the
	# whole output stays authorized, and the client offers the agent's 9A
	# key only (IdentitiesOnly with 9A's public key file)
	printf '%s\n' "$AGENT_9A" >"$OL_W/agent-9a.pub"
	authorize "$(cat "$OL_W/all_keys")"
	SSH_ONLY="$OL_W/agent-9a.pub"
	ssh_login_check "ssh through the agent, whole output authorized, IdentitiesOnly=yes -i 9A.pub" agent-only 9A
	SSH_ONLY=

	# OpenSSH 9.2's limit with 9C, pinned down (last: it breaks the
	# agent's helper for good).  ssh offers the agent's keys in the
	# token's order, 9C first; the helper's pkcs11_get_key() starts
	# C_SignInit, then needs the context-specific login for 9C (always
	# authenticate), which a non-interactive helper cannot do, and returns
	# with the sign operation still active: every later key then fails
	# with C_SignInit 144 (CKR_OPERATION_ACTIVE).  Nothing reaches the card.
	authorize "$(cat "$OL_W/all_keys")"
	am=$(agent_mark); m=$(sim_mark)
	SSH_N=$((SSH_N + 1))
	check_grep "$M, ssh through the agent, the whole ssh-keygen -D output authorized: Permission denied (known OpenSSH 9.2 limit)" \
		'Permission denied \(publickey\)' fails ssh_run agent
	check_grep "$M, ... the agent's helper: 'login failed for always-auth key' (9C), then 'C_SignInit failed: 144' for the next key" \
		'login failed for always-auth key.*C_SignInit failed: 144' sh -c "tail -n +$((am + 1)) '$OL_W/agent-$MODE.log' | tr '\n' ' '"
	agent_log_since "$am" | grep -E 'need pin|login failed|C_SignInit failed' | head -3 | sed 's/^/    | /'
	check "$M, ... nothing was signed on the card" fails sim_has 'signature with|private-key operation with|touch' "$m"
	agent_stop
	echo "    | $M: $(($(ms) - t_mode)) ms"
done
unset OPENSC_CONF

# =========================================================================
# Secrets the device refuses still reach the driver's log first: a private
# key imported and a new management key set with yubico-piv-tool (Yubico's
# instructions FE and FF; Openloop answers 6D00, "not a YubiKey").
# =========================================================================
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$OL_W/import.key" 2>/dev/null
IMPORT_HEX=$(openssl pkey -in "$OL_W/import.key" -text -noout 2>/dev/null |
	sed -n '/^priv:/,/^pub:/p' | grep -v -E '^(priv|pub):' | tr -d ' :\n')
check "a P-256 private key to import ($(( ${#IMPORT_HEX} / 2 )) bytes)" test "${#IMPORT_HEX}" -ge 62
m=$(sim_mark)
check_grep "yubico-piv-tool -a import-key: refused by the device (not a YubiKey)" 'Unable|Failed|failed' \
	fails piv_ykpiv -k"$PIV_MGM" -a import-key -s 9a -i "$OL_W/import.key"
check_grep "... the key went to the device (IMPORT KEY, INS FE), which answered 6D00" 'C: 00 FE .* R: 6D 00' \
	sh -c "tail -n +$((m + 1)) '$OL_SOCK.log' | grep -E ': (C|R): ' | tr '\n' ' '"
NEW_MGM=$(od -An -v -N24 -tx1 /dev/urandom | tr -d ' \n')
m=$(sim_mark)
check_grep "yubico-piv-tool -a set-mgm-key: refused by the device" 'Unable|Failed|failed' \
	fails piv_ykpiv -k"$PIV_MGM" -a set-mgm-key -n "$NEW_MGM"
check_grep "... the new key went to the device (SET MANAGEMENT KEY, INS FF), which answered 6D00" 'C: 00 FF .* R: 6D 00' \
	sh -c "tail -n +$((m + 1)) '$OL_SOCK.log' | grep -E ': (C|R): ' | tr '\n' ' '"
SECRETS_HEX="$SECRETS_HEX $IMPORT_HEX $NEW_MGM"

# =========================================================================
# Tear-down: no secret in any log; sshd and the agent gone.
# =========================================================================
# hex_in_logs HEX: any 8-byte window of HEX, in any case, with or without
# spaces between the bytes, in pcscd's logs or the simulator's
hex_in_logs() {
	_h=$(echo "$1" | tr 'A-F' 'a-f')
	_n=$((${#_h} / 2))
	_pats=
	_i=0
	while [ $((_i + 8)) -le "$_n" ]; do
		_w=$(echo "$_h" | cut -c$((_i * 2 + 1))-$((_i * 2 + 16)))
		_pats="$_pats${_pats:+|}$(echo "$_w" | sed 's/../& ?/g; s/ ?$//')"
		_i=$((_i + 1))
	done
	grep -Eil "$_pats" "$OL_W"/pcscd*.log "$OL_SOCK.log"
}
for sec in $SECRETS_HEX; do
	check "no trace of a $(( ${#sec} / 2 ))-byte secret (ECDH result, imported key, new management key) in pcscd's or the simulator's log" \
		fails hex_in_logs "$sec"
done
check "pcscd's log is at the highest level: APDUs and presence polling are there" \
	sh -c "grep -q 'C: 00 87' '$OL_W/pcscd.log' && grep -q 'present' '$OL_W/pcscd.log'"
check "no PIN in pcscd's or the simulator's log" piv_logs_free_of "$PIN"
# the management key went to the card (provisioning): as text or as bytes
# in a hex dump, spaced or not
check "no management key in pcscd's or the simulator's log" \
	sh -c "! grep -Eiq '$(echo "$PIV_MGM" | sed 's/../& ?/g; s/ ?$//')' '$OL_W'/pcscd*.log '$OL_SOCK.log'"
check "no PIN in sshd's, the agents', ssh's or askpass's logs" \
	fails grep -q "$PIN" "$SSHD_DIR/sshd.log" "$OL_W"/agent-*.log "$OL_W"/ssh-*.out "$OL_W/askpass.log"
for _i in $(seq 50); do
	pgrep -P "$SSHD_PID" >/dev/null || break
	sleep 0.1
done
sshd_pid=$SSHD_PID
ol_stop_all
# gone PID: no such process, or a zombie (its parent, the agent, is gone
# and init reaps it in its own time)
gone() { ! kill -0 "$1" 2>/dev/null || [ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" = Z ]; }
# the helpers end when they read EOF from the agent that is gone: bounded wait
helpers_gone() {
	for _i in $(seq 50); do
		_left=
		for _p in $AGENT_KIDS; do gone "$_p" || _left="$_left $_p"; done
		[ -z "$_left" ] && return 0
		sleep 0.1
	done
	echo "still running:"; ps -o pid,args -p "${_left# }"
	return 1
}
check "sshd stopped: neither the listener nor a session process is left" \
	sh -c "! kill -0 $sshd_pid 2>/dev/null && ! pgrep -P $sshd_pid >/dev/null && ! pgrep -f '[s]shd -D -e -f $SSHD_DIR/' >/dev/null"
agents_gone() {
	! pgrep -af "[s]sh-agent -d -a $OL_W/" && helpers_gone
}
check "ssh-agent stopped, and its PKCS#11 helpers ($(echo $AGENT_KIDS | wc -w)) with it" agents_gone
echo "    | total: $(($(ms) - t_start)) ms"
ol_summary
