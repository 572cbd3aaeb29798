#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# PIV PIN management through pcscd and the driver with stock tools: the
# VERIFY status query and logout (SP 800-73-4 3.2.1), tries left,
# pkcs11-tool --change-pin, yubico-piv-tool change-pin, lock-out after 8
# wrong PINs (6983, CKR_PIN_LOCKED), unblocking with the PUK
# (pkcs15-tool --unblock-pin), a wrong PUK, counters surviving a restart,
# and the PIN-less device: VERIFY answers 6A88 and the first PIN is set
# with the PUK, as docs/simulator.md documents.  Finally: no PIN or PUK in
# any log.
#
# The reader is a PIN pad by default (Info.plist ifdConfirmOnDevice 1,
# docs/transport.md section 6).  OpenSC 0.23's sc_pkcs15_unblock_pin()
# sends every RESET RETRY COUNTER through a reader's PIN pad even when the
# PUK and the new PIN are given, and the pad has no MODIFY: pkcs15-tool
# --unblock-pin then fails "Not supported" (asserted below).  The unblock
# steps run pkcs15-tool with OPENSC_CONF=$(piv_nopad_conf) (OpenSC's
# enable_pinpad = false), and yubico-piv-tool, which talks PC/SC itself.
# pkcs15-tool 0.23 --list-pins never asks the card for tries left; they
# are read with yubico-piv-tool -a status and pkcs11-tool -L's flags.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/piv-lib.sh"
ol_setup
trap ol_cleanup EXIT
piv_init

PIN1=470193 PIN2=815263 PIN3=362951 PIN4=592604 WRONG=907153 BADPUK=86420975
STATE="$OL_W/piv.state"
SERIAL=OLPINTEST042
show() { printf '%s\n' "$OUT" | grep -E -- "$1" | head -"${2:-12}" | sed 's/^/    | /'; }
fail() { ol_not_ok "$1"; }
pass() { ol_ok "$1"; }
hexpin() { # the PIN padded with FF to 8 bytes, as VERIFY carries it
	printf '%s' "$1" | od -An -v -tx1 | tr -d ' \n'
	_i=${#1}; while [ "$_i" -lt 8 ]; do printf ff; _i=$((_i + 1)); done
}
# apdus HEX...: opensc-tool -s each, in one card session; "SW DATA" lines
apdus() {
	_args=()
	for a in "$@"; do _args+=(-s "$a"); done
	opensc-tool "${_args[@]}" 2>&1 | piv_responses
}
sw_seq() { apdus "$@" | awk '{printf "%s%s", sep, $1; sep=" "} END {print ""}'; }
STATUS='00:20:00:80'
verify_apdu() { echo "00:20:00:80:08:$(hexpin "$1")"; }
login_ok() { piv_p11 --login --pin "$1" -O; }
login_fails() { ! piv_p11 --login --pin "$1" -O 2>&1; }
tries() { piv_ykpiv -a status 2>&1 | sed -n 's/^PIN tries left:[[:space:]]*//p'; }
NOPAD=$(piv_nopad_conf)
unblock15() { OPENSC_CONF=$NOPAD pkcs15-tool "$@"; }
restart() { # a new session; same device (state file, serial $SERIAL)
	ol_stop_all
	cat "$OL_W/pcscd.log" >>"$OL_W/pcscd-earlier.log" 2>/dev/null
	ol_start_sim --serial "$SERIAL" --state "$STATE" --verbose "$@" || exit 1
	ol_start_pcscd "Openloop Virtual" || exit 1
}

# -------------------------------------------- 1. VERIFY: status, verify, logout
ol_set_plist ifdConfirmOnDevice 1
ol_start_sim --serial "$SERIAL" --pin "$PIN1" --state "$STATE" --verbose || exit 1
ol_start_pcscd "Openloop Virtual" || exit 1

check_grep "VERIFY status query (no data) on a fresh session: 63C8" '^63C8$' sw_seq "$STATUS"
check_grep "VERIFY with the PIN, then the status query: 9000 9000" '^9000 9000$' \
	sw_seq "$(verify_apdu "$PIN1")" "$STATUS"
check_grep "logout (VERIFY P1=FF) resets it: 9000 9000 63C8" '^9000 9000 63C8$' \
	sw_seq "$(verify_apdu "$PIN1")" '00:20:FF:80' "$STATUS"
check_grep "a wrong PIN: 63C7, and the query says 63C7" '^63C7 63C7$' sw_seq "$(verify_apdu "$WRONG")" "$STATUS"
check_grep "the right PIN resets the counter: 9000, then 63C8 after logout" '^9000 9000 63C8$' \
	sw_seq "$(verify_apdu "$PIN1")" '00:20:FF:80' "$STATUS"

check_grep "pkcs15-tool --list-pins lists the PIN and the PUK" 'PIV PUK' pkcs15-tool --list-pins
show 'PIN \[|Tries left|Reference|Type' 12
if printf '%s\n' "$OUT" | grep -q 'Tries left'; then pass "pkcs15-tool --list-pins shows tries left"
else echo "    # pkcs15-tool 0.23 --list-pins prints no 'Tries left' for PIV: it never asks the card"; fi
check_grep "yubico-piv-tool -a status shows 8 PIN tries left" '^8$' tries
check_grep "pkcs11-tool -L: token flags, no 'count low', 'final try' or 'locked'" 'token flags' \
	sh -c "pkcs11-tool --module '$PIV_P11' -L | grep 'token flags' | grep -Ev 'count low|final try|locked'"
show 'token flags' 1

# ----------------------------------------------------------- 2. change the PIN
check_grep "pkcs11-tool --change-pin" 'PIN successfully changed' \
	piv_p11 --login --pin "$PIN1" --change-pin --new-pin "$PIN2"
show 'changed' 1
check_grep "the old PIN is refused (CKR_PIN_INCORRECT)" 'CKR_PIN_INCORRECT' login_fails "$PIN1"
check "the new PIN works" login_ok "$PIN2"
check_grep "yubico-piv-tool -a change-pin" 'Successfully changed the pin code' \
	piv_ykpiv -a change-pin -P "$PIN2" -N "$PIN3"
check_grep "CHANGE REFERENCE DATA to a 4-digit PIN is refused (6A80)" '^6A80$' \
	sw_seq "00:24:00:80:10:$(hexpin "$PIN3")$(hexpin 1234)"
check "the PIN is still the one set before" login_ok "$PIN3"
check_grep "pkcs15-tool --change-pin with a wrong old PIN reports tries left" 'tries left: 7' \
	sh -c "! pkcs15-tool --change-pin --pin $WRONG --new-pin $PIN4 2>&1"
show 'tries' 1

# ------------------------------------------------------------ 3. lock-out
res=""
for i in 2 3 4 5 6 7 8; do
	res="$res $(login_fails "$WRONG" | grep -o 'CKR_[A-Z_]*' | head -1)"
done
echo "    | C_Login results, tries 2..8:$res"
six="CKR_PIN_INCORRECT CKR_PIN_INCORRECT CKR_PIN_INCORRECT CKR_PIN_INCORRECT CKR_PIN_INCORRECT CKR_PIN_INCORRECT"
check "wrong PINs 2..7 through pkcs11-tool: CKR_PIN_INCORRECT" \
	test "$(echo "$res" | cut -d' ' -f2-7)" = "$six"
check_grep "the 8th wrong PIN: CKR_PIN_INCORRECT or CKR_PIN_LOCKED (the card answered 63C0)" 'CKR_PIN_(INCORRECT|LOCKED)$' echo "$res"
check_grep "the 8th wrong VERIFY answers 63C0 (SP 800-73-4: 63CX, X = retries left; 6983 only once blocked)" 'R: 63 C0' cat "$OL_SOCK.log"
check_grep "yubico-piv-tool -a status: 0 tries left" '^0$' tries
check_grep "the ninth try, with the right PIN: CKR_PIN_LOCKED" 'CKR_PIN_LOCKED' login_fails "$PIN3"
show CKR 1
check_grep "on the card: VERIFY and the status query answer 6983" '^6983 6983$' sw_seq "$(verify_apdu "$PIN3")" "$STATUS"
check_grep "pkcs11-tool -L shows the token's PIN locked" 'user PIN locked' piv_p11 -L
show 'token flags' 1
check_grep "pkcs11-tool --sign is refused while locked" 'CKR_PIN_LOCKED' \
	sh -c "! pkcs11-tool --module '$PIV_P11' --login --pin $PIN3 --sign --id 01 -m ECDSA -i /dev/null 2>&1"

# counters survive a restart of the device
restart
check_grep "after a restart the PIN is still blocked (6983)" '^6983$' sw_seq "$STATUS"

# ------------------------------------------------------------- 4. unblock
check_grep "with the device as PIN pad, pkcs15-tool --unblock-pin fails: Not supported (OpenSC 0.23)" \
	'PIN unblocking failed: Not supported' sh -c "! pkcs15-tool --unblock-pin --puk $PIV_PUK --new-pin $PIN4 2>&1"
show 'unblock' 1
check_grep "... and the card saw no RESET RETRY COUNTER" '^0$' sh -c "grep -c 'C: 00 2C' '$OL_SOCK.log' || true"
check_grep "a wrong PUK: pkcs15-tool --unblock-pin (pad off) fails, PUK tries left 7" 'PUK code incorrect; tries left: 7' \
	sh -c "! OPENSC_CONF='$NOPAD' pkcs15-tool --unblock-pin --puk $BADPUK --new-pin $PIN4 2>&1"
show 'PUK' 1
check "pkcs15-tool --unblock-pin --puk (default PUK) --new-pin (pad off)" \
	unblock15 -v --unblock-pin --puk "$PIV_PUK" --new-pin "$PIN4"
show 'unblocked|rror' 2
check_grep "unblocked: 8 tries left" '^8$' tries
check "the new PIN works" login_ok "$PIN4"
check_grep "the PUK's counter is back to 8 after a correct PUK: wrong PUK now says 7" '^63C7$' \
	sw_seq "00:2C:00:80:10:$(hexpin "$BADPUK")$(hexpin "$PIN4")"
check_grep "yubico-piv-tool -a unblock-pin with the PUK works too" 'Successfully unblocked the pin code' \
	piv_ykpiv -a unblock-pin -P "$PIV_PUK" -N "$PIN1"
check "and sets that PIN" login_ok "$PIN1"

# --------------------------------------------------- 5. the PIN-less device
# A fresh device without --pin has no PIN: VERIFY (query or with data) and
# CHANGE REFERENCE DATA answer 6A88; the first PIN is set with RESET RETRY
# COUNTER and the PUK.
ol_stop_all
rm -f "$STATE"
cat "$OL_W/pcscd.log" >>"$OL_W/pcscd-earlier.log" 2>/dev/null
SERIAL=OLNOPIN00001
ol_start_sim --serial "$SERIAL" --state "$STATE" --touch approve --verbose || exit 1
ol_start_pcscd "Openloop Virtual" || exit 1
# what the PIN-less device is for: every signature confirmed on the device
gen_import() { piv_gen_ykpiv "$1" "$2" && piv_cert_issue "$1" "$3" >/dev/null && piv_import_ykpiv "$1"; }
check "no PIN: a P-256 key and certificate in 9A (yubico-piv-tool)" gen_import 9A ECCP256 "/CN=Openloop no PIN"
check_grep "no PIN: yubico-piv-tool test-signature -s 9a signs after a touch" 'Successful ECDSA verification' \
	piv_ykpiv -a test-signature -s 9a -i "$OL_W/cert-9A.pem"
check_grep "... the device asked for the touch" 'PIV: waiting for touch \(.* with 9A\)' cat "$OL_SOCK.log"
openssl dgst -sha256 -binary "$OL_W/cert-9A.pem" >"$OL_W/h.bin"
openssl x509 -in "$OL_W/cert-9A.pem" -pubkey -noout >"$OL_W/cpub-9A.pem"
check "no PIN: pkcs11-tool --sign --id 01 through the pad (no PIN anywhere) signs after a touch" \
	piv_p11 --sign --id 01 -m ECDSA --signature-format openssl -i "$OL_W/h.bin" -o "$OL_W/h.sig"
check_grep "... and openssl verifies it" 'Verified OK' \
	openssl dgst -sha256 -verify "$OL_W/cpub-9A.pem" -signature "$OL_W/h.sig" "$OL_W/cert-9A.pem"
# that login through the pad was a confirmation on the device, which
# holds until a logout or the end of the card session (pcscd powers an
# idle card down after a few seconds); after a logout the status query
# answers 6A88
check_grep "no PIN: after a logout, the VERIFY status query answers 6A88" '^9000 6A88$' sw_seq 00:20:FF:80 "$STATUS"
check_grep "no PIN: VERIFY with data answers 6A88" '^6A88$' sw_seq "$(verify_apdu "$PIN1")"
check_grep "no PIN: CHANGE REFERENCE DATA answers 6A88" '^6A88$' sw_seq "00:24:00:80:10:$(hexpin "$PIN1")$(hexpin "$PIN2")"
# what the stock tools make of it (recorded, not judged: see the report)
check "no PIN: pkcs15-tool --list-pins still lists the PIN objects" pkcs15-tool --list-pins
show 'PIN \[|Tries|rror|fail' 6
OUT=$(piv_p11 -L 2>&1); echo "    # pkcs11-tool -L on the PIN-less device (exit $?):"; show 'token flags|rror|CKR' 3
# OpenSC maps 6A88 to SC_ERROR_DATA_OBJECT_NOT_FOUND, which C_Login reports
# as CKR_GENERAL_ERROR: no hint for the user (see the report)
check_grep "no PIN: pkcs11-tool --login fails with CKR_GENERAL_ERROR (OpenSC's mapping of 6A88)" 'C_Login failed: rv = CKR_GENERAL_ERROR' login_fails "$PIN1"
show 'CKR_|rror' 2
check_grep "no PIN: yubico-piv-tool -a status still works" 'CHUID|PIN tries' piv_ykpiv -a status
show 'PIN tries|rror' 2
check "first PIN, as documented: pkcs15-tool --unblock-pin --puk 12345678 --new-pin (pad off)" \
	unblock15 -v --unblock-pin --puk "$PIV_PUK" --new-pin "$PIN1"
show 'unblocked|rror' 2
check_grep "the device now has a PIN with 8 tries (status query 63C8)" '^63C8$' sw_seq "$STATUS"
check "and pkcs11-tool --login works with it" login_ok "$PIN1"
restart
check_grep "the PIN is kept in the state file across a restart" '^63C8$' sw_seq "$STATUS"
check "and still works" login_ok "$PIN1"
# the other documented way, on another fresh PIN-less device
ol_stop_all
cat "$OL_W/pcscd.log" >>"$OL_W/pcscd-earlier.log" 2>/dev/null
ol_start_sim --serial OLNOPIN00002 --verbose || exit 1
ol_start_pcscd "Openloop Virtual" || exit 1
check_grep "first PIN with yubico-piv-tool -a unblock-pin -P 12345678 -N" 'Successfully unblocked the pin code' \
	piv_ykpiv -a unblock-pin -P "$PIV_PUK" -N "$PIN2"
check "and pkcs11-tool --login works with it" login_ok "$PIN2"

# ------------------------------------------------------------------ 6. logs
check "no PIN or PUK in pcscd's or the simulator's logs" \
	piv_logs_free_of "$PIN1" "$PIN2" "$PIN3" "$PIN4" "$WRONG" "$BADPUK" "$PIV_PUK"
check_grep "the logs show the PIN commands redacted" '<(8|16) bytes hidden>' cat "$OL_SOCK.log"
grep -m3 -E '<(8|16) bytes hidden>' "$OL_SOCK.log" | sed 's/^/    | /'
check "no driver crash or sanitizer report in pcscd's logs" sh -c "! cat '$OL_W'/pcscd*.log | grep -Eq 'Segmentation|AddressSanitizer|runtime error'"
check "no sanitizer report in the simulator's log" sh -c "! grep -Eq 'AddressSanitizer|runtime error' '$OL_SOCK.log'"
ol_summary
