#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# TLS client authentication with the Openloop PIV 9A key, the way Firefox
# does it (NSS with OpenSC's opensc-pkcs11.so added by modutil; tstclnt is
# NSS's own test client) and the way GnuTLS programs do it (p11tool and
# gnutls-cli with pkcs11: URLs), against `openssl s_server -Verify 1` on
# 127.0.0.1.  Stock Debian tools only.  Two rounds: a P-256 key in 9A, then
# an RSA-2048 key in 9A (TLS 1.3 signs with RSA-PSS, which the card does as
# a raw RSA operation on the block OpenSC pads; TLS 1.2 with PKCS#1 v1.5).
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/piv-lib.sh"
ol_setup
piv_init
trap ol_cleanup EXIT

PIN=161803
say() { printf '%s\n' "$@" | sed 's/^/    | /'; }


sim_mark() { wc -l <"$OL_SOCK.log"; }
sim_count_since() { tail -n +"$(($2 + 1))" "$OL_SOCK.log" | grep -c -- "$1"; } # PATTERN MARK

printf '%s\n' "$PIN" >"$OL_W/pin.txt"
chmod 600 "$OL_W/pin.txt"
printf 'GET / HTTP/1.0\r\n\r\n' >"$OL_W/request.txt"

# s_server: one connection, a client certificate required and verified
# against the test CA that issued the card's certificate; -www answers
# with a page describing the session, the client certificate included.
server_start() { # NAME
	SRV_LOG="$OL_W/s_server-$1.log"
	TLS_PORT=$(free_port $((24400 + $$ % 500))) || return 1
	openssl s_server -Verify 1 -verify_return_error -CAfile "$OL_W/piv-ca.pem" \
		-cert "$OL_W/server.pem" -key "$OL_W/server.key" \
		-accept "127.0.0.1:$TLS_PORT" -www -naccept 1 >"$SRV_LOG" 2>&1 </dev/null &
	SRV_PID=$!
	OL_PIDS="$OL_PIDS $SRV_PID"
	for _i in $(seq 50); do
		grep -q '^ACCEPT' "$SRV_LOG" && { echo "openssl s_server -Verify 1 on 127.0.0.1:$TLS_PORT"; return 0; }
		kill -0 "$SRV_PID" 2>/dev/null || break
		sleep 0.1
	done
	echo "s_server did not start:"; cat "$SRV_LOG"
	return 1
}
# s_server exits after its one connection; bounded wait, then stopped
server_wait() {
	for _i in $(seq 50); do
		kill -0 "$SRV_PID" 2>/dev/null || { wait "$SRV_PID" 2>/dev/null; return 0; }
		sleep 0.1
	done
	ol_stop_pid "$SRV_PID"
}

# the lines of the s_server -www page worth quoting
page_summary() {
	printf '%s\n' "$1" | grep -E 'Protocol +:|Cipher +:|Peer signature type|Peer signing digest|Description|Client certificate|Subject: ' |
		head -7 | sed 's/^/    | /'
}

# =========================================================================
# Set-up: the device (PIN set), the server certificate, the NSS database.
# =========================================================================
ol_start_sim --serial OLTLS0000001 --pin "$PIN" --touch approve --model C || exit 1
ol_start_pcscd "Openloop Virtual" || exit 1
check "provision 9A: P-256 key and a certificate from the test CA" \
	piv_provision 9A 11 "/CN=Openloop TLS 9A P-256"
say "$OUT"

# the server's own certificate, from the same test CA
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$OL_W/server.key" \
	-subj /CN=127.0.0.1 -out "$OL_W/server.csr" 2>/dev/null &&
openssl x509 -req -in "$OL_W/server.csr" -CA "$OL_W/piv-ca.pem" -CAkey "$OL_W/piv-ca.key" \
	-set_serial 0x0102 -days 30 -out "$OL_W/server.pem" \
	-extfile <(printf 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n') 2>/dev/null ||
	{ echo "could not make the server certificate"; exit 1; }

# NSS as Firefox keeps it: a profile database, OpenSC added as a module
# (Firefox: Settings > Security Devices > Load; modutil is the same call).
NSSDB="sql:$OL_W/nssdb"
mkdir -p "$OL_W/nssdb"
check "certutil -N --empty-password: a new NSS database" certutil -N --empty-password -d "$NSSDB"
check_grep "modutil -add OpenSC -libfile opensc-pkcs11.so" 'Module "OpenSC" added' \
	modutil -add "OpenSC" -libfile "$PIV_P11" -dbdir "$NSSDB" -force
say "$OUT"
check "the test CA is trusted for TLS servers (certutil -A -t CT,,)" \
	certutil -A -d "$NSSDB" -n "Openloop test CA" -t CT,, -i "$OL_W/piv-ca.pem"

# =========================================================================
# One round per key type in 9A.
# =========================================================================
# tls_round ALGNAME SUBJECT-CN SIGTYPE13 SIGTYPE12 [SCHEMES12]: SCHEMES12 is
# tstclnt -J for TLS 1.2, the signature schemes offered in that order (the
# server's ECDSA scheme must stay in, for the server's own signature)
tls_round() {
	alg=$1 cn=$2 sig13=$3 sig12=$4 j12=$5

	check_grep "[$alg] modutil -list: the OpenSC module sees the Openloop token" "token: $cn" \
		modutil -list -dbdir "$NSSDB"
	printf '%s\n' "$OUT" | grep -A4 -E '^ *[0-9]+\. OpenSC' | sed 's/^/    | /'
	check_grep "[$alg] certutil -L -h all lists the card's 9A certificate" \
		"^$cn:Certificate for PIV Authentication" certutil -L -d "$NSSDB" -h all -f "$OL_W/pin.txt"
	printf '%s\n' "$OUT" | grep -E 'PIV|Nickname' | sed 's/^/    | /'
	NICK="$cn:Certificate for PIV Authentication"

	m=$(sim_mark)
	for v in 1.3 1.2; do
		if [ $v = 1.3 ]; then sig=$sig13; jopt=; else sig=$sig12; jopt=${j12:+-J $j12}; fi
		check_here "[$alg] s_server for TLS $v" server_start "$alg-$v"
		say "$OUT"
		# shellcheck disable=SC2086
		check_grep "[$alg] tstclnt -V tls$v:tls$v -n '$NICK'${jopt:+ $jopt}: mutual TLS done, the page shows the client certificate" \
			"Subject: CN=$cn" timeout 60 tstclnt -h 127.0.0.1 -p "$TLS_PORT" -d "$NSSDB" -n "$NICK" \
			-W "$OL_W/pin.txt" -V "tls$v:tls$v" $jopt -A "$OL_W/request.txt"
		page=$OUT
		server_wait
		page_summary "$page"
		check_grep "[$alg] TLS $v: s_server verified the client certificate" \
			"^depth=0 CN ?= ?$cn" cat "$SRV_LOG"
		grep -E '^depth=|^verify return' "$SRV_LOG" | sed 's/^/    | /'
		check_grep "[$alg] TLS $v: the client's signature was $sig" "Peer signature type: $sig\$" \
			printf '%s\n' "$page"
	done
	n=$(sim_count_since "signature with 9A\|private-key operation with 9A" "$m")
	check "[$alg] the card made the two handshake signatures with 9A ($n)" test "$n" -ge 2

	# GnuTLS finds OpenSC through p11-kit (/usr/share/p11-kit/modules/
	# opensc-pkcs11.module); p11tool --provider names the module directly.
	check_grep "[$alg] p11tool --list-tokens: the token through opensc-pkcs11" "Label: $cn" \
		timeout 60 p11tool --provider "$PIV_P11" --list-tokens
	printf '%s\n' "$OUT" | grep -E 'URL|Label|Flags|Manufacturer|Model' | head -5 | sed 's/^/    | /'
	turl=$(printf '%s\n' "$OUT" | grep -m1 -E 'URL: pkcs11:.*manufacturer=piv_II' | sed 's/.*URL: //')
	check_grep "[$alg] p11tool --list-all-certs '$turl': the 9A certificate" \
		'Label: Certificate for PIV Authentication' timeout 60 p11tool --provider "$PIV_P11" --list-all-certs "$turl"
	printf '%s\n' "$OUT" | grep -E 'URL|Type|Label|ID' | head -4 | sed 's/^/    | /'
	curl="$turl;id=%01;type=cert"
	kurl="$turl;id=%01;type=private"
	check_here "[$alg] s_server for gnutls-cli" server_start "$alg-gnutls"
	m=$(sim_mark)
	check_grep "[$alg] gnutls-cli --x509certfile '...;id=%01;type=cert' --x509keyfile '...;id=%01;type=private': mutual TLS" \
		"Subject: CN=$cn" env GNUTLS_PIN="$PIN" timeout 60 gnutls-cli --x509cafile "$OL_W/piv-ca.pem" \
		--x509certfile "$curl" --x509keyfile "$kurl" -p "$TLS_PORT" 127.0.0.1 <"$OL_W/request.txt"
	page=$OUT
	server_wait
	page_summary "$page"
	check_grep "[$alg] gnutls-cli: s_server verified the client certificate" \
		"^depth=0 CN ?= ?$cn" cat "$SRV_LOG"
	check_grep "[$alg] gnutls-cli: the client's signature was $sig13" "Peer signature type: $sig13\$" \
		printf '%s\n' "$page"
	n=$(sim_count_since "signature with 9A\|private-key operation with 9A" "$m")
	check "[$alg] the card made gnutls-cli's signature with 9A ($n)" test "$n" -ge 1
}

tls_round P-256 "Openloop TLS 9A P-256" ECDSA ECDSA

check "provision 9A again: RSA-2048 key and a certificate from the test CA" \
	piv_provision 9A 07 "/CN=Openloop TLS 9A RSA-2048"
say "$OUT"
tls_round RSA-2048 "Openloop TLS 9A RSA-2048" RSA-PSS RSA ecdsa_secp256r1_sha256,rsa_pkcs1_sha256

check "no PIN in pcscd's or the simulator's log" piv_logs_free_of "$PIN"
check "no sanitizer report in pcscd's or the simulator's log" \
	sh -c "! grep -Eq 'AddressSanitizer|runtime error|Segmentation' '$OL_W/pcscd.log' '$OL_SOCK.log'"
pids=$OL_PIDS
ol_stop_all
check "no s_server, simulator or pcscd left" sh -c "for p in $pids; do ! kill -0 \$p 2>/dev/null || exit 1; done"
ol_summary
