# SPDX-License-Identifier: LGPL-2.1-or-later
# Shared helpers for the PIV end-to-end tests (stock OpenSC, piv-tool,
# yubico-piv-tool and openssl against openloop-sim through pcscd and the
# driver).  Source it after lib.sh and call piv_init after ol_setup:
#
#   . "$top_srcdir/tests/integration/lib.sh"
#   . "$top_srcdir/tests/integration/piv-lib.sh"
#   ol_setup; trap ol_cleanup EXIT; piv_init
#
# Every file goes under $OL_W; slots are written as piv-tool writes them
# (9A 9C 9D 9E).  Functions return non-zero on failure and then print what
# the tool said, so they can be wrapped in check/check_grep.  This
# interface is stable: other tests (ssh, TLS) use it.
#
# Constants
#   PIV_P11      opensc-pkcs11.so
#   PIV_MGM      the well-known default 3DES management key, hex
#   PIV_PUK      the default PUK (openloop-sim --puk default)
#   PIV_READER   substring of the reader name, for yubico-piv-tool -r
#
# piv_init                       XDG_CACHE_HOME under $OL_W (no stale OpenSC
#                                cache between runs), writes the admin key file
# piv_admin_key_file             writes $OL_W/piv-admin.key (PIV_MGM as
#                                piv-tool reads it), exports PIV_EXT_AUTH_KEY,
#                                prints the path
# piv_slot_id SLOT               prints the PKCS#11 ID OpenSC gives the slot
#                                (9A 01, 9C 02, 9D 03, 9E 04)
# piv_p11 ARGS...                pkcs11-tool --module $PIV_P11 ARGS...
# piv_ykpiv ARGS...              yubico-piv-tool -r $PIV_READER ARGS...
# piv_gen_piv_tool SLOT ALG      key generation with piv-tool: -A M:9B:03 and the
#                                GENERATE APDU (ALG 11 = P-256, 07 = RSA-2048,
#                                22 = Ed25519); public key -> $OL_W/pub-SLOT.pem
#                                (piv-tool -G and -A A:9B:03 are broken in
#                                OpenSC 0.23, see below)
# piv_gen_ykpiv SLOT ALG         yubico-piv-tool generate (ALG ECCP256 or
#                                RSA2048); public key -> $OL_W/pub-SLOT.pem
# piv_cert_issue SLOT SUBJECT    certificate for $OL_W/pub-SLOT.pem issued by a
#                                test CA ($OL_W/piv-ca.pem, made on first use)
#                                -> $OL_W/cert-SLOT.pem; $PIV_CERT_EXTRA, if
#                                set, is added to its openssl extension lines
# piv_load_cert SLOT [FILE]      piv-tool -A M:9B:03 -C SLOT -i FILE
#                                (default $OL_W/cert-SLOT.pem)
#                                (the test CA is $OL_W/piv-ca.pem, key piv-ca.key)
# piv_cert_and_load SLOT SUBJECT piv_cert_issue + piv_load_cert
# piv_provision SLOT ALG SUBJECT piv_gen_piv_tool + piv_cert_and_load: a slot
#                                ready for pkcs11-tool, ssh and TLS
# piv_import_ykpiv SLOT [FILE]   yubico-piv-tool -a import-certificate (default
#                                $OL_W/cert-SLOT.pem).  (No self-signing helper:
#                                Debian 12's yubico-piv-tool 2.2.0 fails
#                                selfsign-certificate under OpenSSL 3 before
#                                sending anything, Yubico issue 388.)
# piv_nopad_conf                 prints the path of the PIN mode's OpenSC
#                                configuration the package ships (OpenSC with
#                                enable_pinpad = false, $OL_PIN_MODE_CONF): use
#                                as OPENSC_CONF=... to ignore the device-as-PIN-pad
#                                (Info.plist ifdConfirmOnDevice), e.g. for
#                                pkcs15-tool --unblock-pin, which OpenSC 0.23
#                                sends through any PIN pad (fails "Not supported")
# piv_read_cert SLOT OUT.pem     pkcs15-tool --read-certificate (what OpenSC
#                                reads back from the card)
# piv_responses                  filter: reads opensc-tool/piv-tool -s output,
#                                prints one line "SW HEX" per APDU answered
#                                (SW 4 hex digits, HEX the data, may be empty)
# piv_logs_free_of SECRET...     succeeds if no $OL_W/pcscd*.log and no
#                                $OL_W/*.sock.log holds any SECRET as text or hex
#                                (keep earlier pcscd logs as pcscd-*.log)
# piv_ms                         milliseconds since the epoch
# piv_unhex                      filter: hex text -> bytes

PIV_P11=${PIV_P11:-/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so}
PIV_MGM=010203040506070801020304050607080102030405060708
PIV_PUK=12345678
PIV_READER=${PIV_READER:-Openloop}

piv_ms() { date +%s%3N; }

# hex text on stdin -> bytes on stdout (perl-base is essential in Debian)
piv_unhex() { perl -e 'local $/; my $h = <STDIN>; $h =~ s/[^0-9A-Fa-f]//g; print pack("H*", $h)'; }

piv_init() {
	mkdir -p "$OL_W/cache"
	export XDG_CACHE_HOME="$OL_W/cache"
	piv_admin_key_file >/dev/null
}

piv_admin_key_file() {
	# card-piv.c reads the file named by PIV_EXT_AUTH_KEY as hex text
	printf '%s\n' "$PIV_MGM" | sed 's/../&:/g; s/:$//' >"$OL_W/piv-admin.key"
	export PIV_EXT_AUTH_KEY="$OL_W/piv-admin.key"
	echo "$PIV_EXT_AUTH_KEY"
}

piv_slot_id() {
	case "$1" in
	9A|9a) echo 01 ;; 9C|9c) echo 02 ;; 9D|9d) echo 03 ;; 9E|9e) echo 04 ;;
	*) echo "piv_slot_id: unknown slot $1" >&2; return 1 ;;
	esac
}

piv_p11() { pkcs11-tool --module "$PIV_P11" "$@"; }

piv_ykpiv() { yubico-piv-tool -r "$PIV_READER" "$@"; }

# piv__spki_from_7f49 ALG HEX OUT.pem: the public key of a GENERATE
# response (7F49 with 86 = point for EC/Ed25519, 81/82 = n/e for RSA)
piv__spki_from_7f49() {
	case "$1" in
	11)	_pt=$(printf '%s' "$2" | sed -n 's/^7F49..8641\(04.\{128\}\).*/\1/p')
		[ ${#_pt} -eq 130 ] || return 1
		_der="3059301306072a8648ce3d020106082a8648ce3d030107034200$_pt" ;;
	22)	_pt=$(printf '%s' "$2" | sed -n 's/^7F49..8620\(.\{64\}\).*/\1/p')
		[ ${#_pt} -eq 64 ] || return 1
		_der="302a300506032b6570032100$_pt" ;;
	07)	_n=$(printf '%s' "$2" | sed -n 's/^7F4982....818201\(00\)\(.\{512\}\)82\(..\)\(.*\)$/\2/p')
		_el=$(printf '%s' "$2" | sed -n 's/^7F4982....818201\(00\)\(.\{512\}\)82\(..\)\(.*\)$/\3/p')
		_e=$(printf '%s' "$2" | sed -n 's/^7F4982....818201\(00\)\(.\{512\}\)82\(..\)\(.*\)$/\4/p')
		[ ${#_n} -eq 512 ] && [ ${#_e} -eq $((0x$_el * 2)) ] || return 1
		printf 'asn1=SEQUENCE:k\n[k]\nn=INTEGER:0x%s\ne=INTEGER:0x%s\n' "$_n" "$_e" >"$OL_W/piv-rsa.cnf"
		openssl asn1parse -genconf "$OL_W/piv-rsa.cnf" -noout -out "$OL_W/piv-rsa.der" >/dev/null &&
		openssl rsa -RSAPublicKey_in -inform DER -in "$OL_W/piv-rsa.der" -pubout -out "$3" 2>/dev/null
		return ;;
	*)	return 1 ;;
	esac
	printf '%s' "$_der" | piv_unhex | openssl pkey -pubin -inform DER -out "$3" 2>/dev/null
}

# OpenSC 0.23 (Debian 12): "piv-tool -A A:9B:03" fails (-1400, OpenSC
# issue 2658, external authentication length check), and "piv-tool -G"
# generates the key on the card but cannot write its public key with
# OpenSSL 3 ("gen_key unable to gen EC key"/"... RSA").  So: mutual
# authentication (M:9B:03), and GENERATE sent by piv-tool itself (-s,
# which piv-tool runs after -A in the same session); the public key is
# taken from the card's answer.
piv_gen_piv_tool() { # SLOT ALG
	_s=$(echo "$1" | tr a-f A-F)
	rm -f "$OL_W/pub-$_s.pem"
	_out=$(piv-tool -A M:9B:03 -s "00:47:00:$_s:05:AC:03:80:01:$2:00" 2>&1)
	_rc=$?
	_r=$(printf '%s\n' "$_out" | piv_responses | tail -1)
	if [ "$_rc" -eq 0 ] && [ "${_r%% *}" = 9000 ] &&
	    piv__spki_from_7f49 "$2" "${_r#* }" "$OL_W/pub-$_s.pem"; then
		echo "piv-tool -A M:9B:03 -s (GENERATE $_s alg $2): public key $OL_W/pub-$_s.pem"
		return 0
	fi
	echo "piv-tool -A M:9B:03 -s (GENERATE $_s alg $2) failed (exit $_rc):"
	echo "$_out"
	return 1
}

piv_gen_ykpiv() { # SLOT ALG
	_s=$(echo "$1" | tr a-f A-F)
	_l=$(echo "$1" | tr A-F a-f)
	rm -f "$OL_W/pub-$_s.pem"
	if _out=$(piv_ykpiv -a generate -s "$_l" -A "$2" -o "$OL_W/pub-$_s.pem" 2>&1) &&
	    openssl pkey -pubin -in "$OL_W/pub-$_s.pem" -noout 2>/dev/null; then
		echo "yubico-piv-tool -a generate -s $_l -A $2: public key $OL_W/pub-$_s.pem"
		return 0
	fi
	echo "yubico-piv-tool -a generate -s $_l -A $2 failed:"
	echo "$_out"
	return 1
}

piv__ca() {
	[ -s "$OL_W/piv-ca.pem" ] && return 0
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$OL_W/piv-ca.key" -out "$OL_W/piv-ca.pem" -days 30 \
		-subj "/CN=Openloop test CA" >/dev/null 2>&1
}

piv_cert_issue() { # SLOT SUBJECT
	_s=$(echo "$1" | tr a-f A-F)
	piv__ca || { echo "could not create the test CA"; return 1; }
	cat >"$OL_W/piv-cert.ext" <<EXT
basicConstraints = CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment, keyAgreement
extendedKeyUsage = clientAuth, serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
${PIV_CERT_EXTRA:-}
EXT
	# the CSR is signed by the CA key; -force_pubkey puts the card's key in
	openssl req -new -key "$OL_W/piv-ca.key" -subj "$2" -out "$OL_W/piv-tmp.csr" 2>&1 &&
	openssl x509 -req -in "$OL_W/piv-tmp.csr" -CA "$OL_W/piv-ca.pem" -CAkey "$OL_W/piv-ca.key" \
		-force_pubkey "$OL_W/pub-$_s.pem" -set_serial "0x$(openssl rand -hex 8)" -days 30 \
		-extfile "$OL_W/piv-cert.ext" -out "$OL_W/cert-$_s.pem" 2>&1
}

# piv-tool -C exits with the number of bytes it wrote (modulo 256): that
# is success; an error exits with another status and prints nothing
piv_load_cert() { # SLOT [FILE]
	_s=$(echo "$1" | tr a-f A-F)
	_f=${2:-$OL_W/cert-$_s.pem}
	_len=$(openssl x509 -in "$_f" -outform DER 2>/dev/null | wc -c)
	_out=$(piv-tool -A M:9B:03 -C "$_s" -i "$_f" 2>&1)
	_rc=$?
	if [ "$_len" -gt 0 ] && [ "$_rc" -eq $((_len % 256)) ] &&
	    ! printf '%s\n' "$_out" | grep -Eqi 'fail|error|cannot'; then
		echo "piv-tool -A M:9B:03 -C $_s -i $(basename "$_f"): $_len bytes loaded"
		return 0
	fi
	echo "piv-tool -A M:9B:03 -C $_s -i $_f failed (exit $_rc, certificate $_len bytes):"
	echo "$_out"
	return 1
}

piv_cert_and_load() { # SLOT SUBJECT
	piv_cert_issue "$1" "$2" && piv_load_cert "$1"
}

piv_provision() { # SLOT ALG SUBJECT
	piv_gen_piv_tool "$1" "$2" && piv_cert_and_load "$1" "$3"
}

piv_import_ykpiv() { # SLOT [FILE]
	_s=$(echo "$1" | tr a-f A-F)
	_l=$(echo "$1" | tr A-F a-f)
	piv_ykpiv -a import-certificate -s "$_l" -i "${2:-$OL_W/cert-$_s.pem}" 2>&1
}

piv_nopad_conf() {
	echo "$OL_PIN_MODE_CONF"
}

piv_read_cert() { # SLOT OUT
	pkcs15-tool --read-certificate "$(piv_slot_id "$1")" -o "$2" 2>&1 &&
	openssl x509 -in "$2" -noout 2>&1
}

piv_responses() {
	# util_hex_dump_asc: "XX " per byte, then the ASCII column; the first
	# line of a dump is not padded, later ones are (to 48 columns), and the
	# ASCII may contain spaces, so count bytes from the line length.
	awk '
	function flush() { if (have) print sw, hex; have = 0 }
	/^Received \(SW1=0x/ {
		flush()
		sw = substr($0, index($0, "SW1=0x") + 6, 2) substr($0, index($0, "SW2=0x") + 6, 2)
		hex = ""; have = 1; line = 0; next
	}
	/^Sending:/ { flush(); next }
	have {
		n = length($0)
		k = (line == 0) ? ((n >= 64) ? 16 : int(n / 4)) : n - 48
		if (k > 16) k = 16
		for (i = 0; i < k; i++) hex = hex substr($0, 3 * i + 1, 2)
		line++
	}
	END { flush() }'
}

piv_logs_free_of() { # SECRET...
	_rc=0
	for _sec in "$@"; do
		_hex=$(printf '%s' "$_sec" | od -An -v -tx1 | tr -d ' \n')
		_sp=$(echo "$_hex" | sed 's/../& ?/g; s/ ?$//')
		for _log in "$OL_W"/pcscd*.log "$OL_W"/*.sock.log; do
			[ -f "$_log" ] || continue
			# text: not inside a longer run of digits (thread ids, times)
			if grep -Eq "(^|[^0-9])$_sec([^0-9]|\$)" "$_log" ||
			    grep -Eiq "$_sp" "$_log"; then
				echo "a secret of length ${#_sec} appears in $(basename "$_log")"
				_rc=1
			fi
		done
	done
	return $_rc
}
