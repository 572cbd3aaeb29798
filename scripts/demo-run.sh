#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The demo itself; demo.sh runs it in a private mount namespace.
# Every command shown is what a user would type on a real device.
. "$top_srcdir/tests/integration/lib.sh"
ol_setup
trap ol_cleanup EXIT
P11=/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so
cd "$OL_W" || exit 1
say() { printf '\n\033[1m$ %s\033[0m\n' "$*"; "$@"; }
step() { printf '\n\033[1;34m== %s\033[0m\n' "$*"; }

step "the virtual Openloop (openloop-sim, PIN 123456) and a private pcscd with our driver"
ol_start_sim --serial OLDEMO000001 --pin 123456 --touch 800 || exit 1
ol_start_pcscd "Openloop Virtual" || exit 1
echo "reader.conf: $(tr '\n' ' ' < "$OL_W"/reader.conf.d/*)"

step "the reader and its card"
say opensc-tool --list-readers
say opensc-tool --reader 0 --atr
say opensc-tool --reader 0 --name

step "a P-256 key in slot 9A, generated on the device, and a certificate for it"
say yubico-piv-tool -r Openloop -a generate -s 9a -A ECCP256 -o pub-9a.pem
# a throwaway CA issues the certificate (yubico-piv-tool's self-signing
# does not work with Debian 12's OpenSSL 3)
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-keyout ca.key -out ca.pem -subj "/CN=Demo CA" -days 30 2>/dev/null
openssl req -new -key ca.key -subj "/CN=Openloop demo 9A" -out tmp.csr 2>/dev/null
say openssl x509 -req -in tmp.csr -CA ca.pem -CAkey ca.key -force_pubkey pub-9a.pem \
	-days 30 -out cert-9a.pem
say yubico-piv-tool -r Openloop -a import-certificate -s 9a -i cert-9a.pem

step "the token as OpenSC sees it"
say pkcs15-tool --dump
say pkcs11-tool --module "$P11" --list-token-slots
say pkcs11-tool --module "$P11" --list-objects

step "a signature with the PIN (blind signing), verified by openssl"
echo "hello from the Openloop demo" > data.txt
say pkcs11-tool --module "$P11" --login --pin 123456 --id 01 --sign \
	--mechanism ECDSA-SHA256 --signature-format openssl -i data.txt -o data.sig
openssl x509 -in cert-9a.pem -pubkey -noout > cert-pub.pem
say openssl dgst -sha256 -verify cert-pub.pem -signature data.sig data.txt

step "a signature without a PIN: the device asks for a touch (the simulated user takes 0.8 s)"
t0=$(date +%s%3N)
say pkcs11-tool --module "$P11" --login --id 01 --sign \
	--mechanism ECDSA-SHA256 --signature-format openssl -i data.txt -o touch.sig
t1=$(date +%s%3N)
echo "(took $((t1 - t0)) ms; the device logged:)"
grep -E 'PIV: (waiting for touch|touch approved)' "$OL_SOCK.log" | tail -2
say openssl dgst -sha256 -verify cert-pub.pem -signature touch.sig data.txt

step "the ssh public key, for authorized_keys"
say ssh-keygen -D "$P11"

step "the driver's lines in pcscd's log"
grep 'ifd-openloop:' "$OL_W/pcscd.log" | grep -v ' C: \| R: ' | head -10
