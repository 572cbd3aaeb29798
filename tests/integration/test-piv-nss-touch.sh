#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Firefox's path in touch mode: NSS with OpenSC's module, no PIN typed.
# The reader offers the device as PIN pad, so NSS logs in without a
# password: the device verifies its PIN on its own screen (VERIFY ON
# DEVICE), then asks for a touch for the TLS handshake signature.  Mutual
# TLS 1.3 against openssl s_server.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/piv-lib.sh"
ol_setup
trap 'kill $srv_pid 2>/dev/null; ol_cleanup' EXIT
piv_init
srv_pid=

ol_start_sim --serial OLNSS0000001 --pin 123456 --touch 400 --verbose || exit 1
ol_start_pcscd || exit 1
check "provision 9A: P-256 key and certificate (CN=nss touch)" piv_provision 9A 11 "/CN=nss touch"

NSSDB=$OL_W/nssdb
mkdir -p "$NSSDB"
check "an NSS database" certutil -N --empty-password -d "sql:$NSSDB"
check "OpenSC added with modutil, as Firefox's Security Devices does" \
	modutil -force -add OpenSC -libfile "$PIV_P11" -dbdir "sql:$NSSDB"
check "the test CA trusted" certutil -A -d "sql:$NSSDB" -n piv-ca -t CT,, -i "$OL_W/piv-ca.pem"
check_grep "NSS sees the card's certificate (no password needed to list it)" \
	'nss touch:Certificate for PIV Authentication' certutil -L -d "sql:$NSSDB" -h all

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$OL_W/srv.key" \
	-out "$OL_W/srv.pem" -subj /CN=127.0.0.1 -days 2 2>/dev/null
certutil -A -d "sql:$NSSDB" -n srv -t P,, -i "$OL_W/srv.pem"
port=$(free_port 24443) || exit 1
openssl s_server -accept "127.0.0.1:$port" -cert "$OL_W/srv.pem" -key "$OL_W/srv.key" \
	-Verify 1 -CAfile "$OL_W/piv-ca.pem" -verify_return_error -www >"$OL_W/srv.log" 2>&1 &
srv_pid=$!
sleep 0.5

m=$(wc -l < "$OL_SOCK.log")
printf 'GET / HTTP/1.0\r\n\r\n' > "$OL_W/req"
t0=$(date +%s%3N)
check_grep "tstclnt, no password: mutual TLS 1.3 done with the 9A certificate" 'Subject: CN=nss touch' \
	timeout 60 tstclnt -h 127.0.0.1 -p "$port" -d "sql:$NSSDB" \
	-n "nss touch:Certificate for PIV Authentication" -V tls1.3:tls1.3 -A "$OL_W/req"
t1=$(date +%s%3N)
printf '%s\n' "$OUT" | grep -E 'Subject: CN|Peer signature' | sed 's/^/    | /'
sim=$(tail -n +"$((m + 1))" "$OL_SOCK.log")
check_grep "the reader asked the device to verify the PIN on its screen" ': C: 80 20 00 80' printf '%s\n' "$sim"
# (NSS may have logged in already for certutil above; while the card
# session lasts the device then answers at once, so look at the whole log)
check_grep "the device verified it (the simulated user typed it there)" \
	'PIV: verified on the device' cat "$OL_SOCK.log"
check "no PIN was sent (no VERIFY with data)" sh -c "! printf '%s\n' \"\$1\" | grep -q 'C: 00 20 00 80 08'" _ "$sim"
check_grep "the device asked for a touch for the handshake signature and got it" \
	'PIV: touch approved' printf '%s\n' "$sim"
printf '%s\n' "$sim" | grep -E 'PIV: (waiting for touch|touch approved)' | sed 's/^/    | /'
check "the handshake waited for the touch ($((t1 - t0)) ms >= 400)" test $((t1 - t0)) -ge 400
check_grep "pcscd's log: the pad verified on the device" 'PIN pad: verified on the device' cat "$OL_W/pcscd.log"
ol_summary
