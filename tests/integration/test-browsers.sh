#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Real browsers log in to an HTTPS site with the Openloop's 9A certificate,
# the way users run them (docs/browsers.md): Debian's firefox-esr and
# chromium with stock OpenSC, as root, with no desktop.  The server (a
# small python3 ssl server, tests/integration/browsers/https-server.py)
# requires a client certificate from the test CA and logs the subject it
# verified: that is the evidence, not what a browser prints.
#
#   touch mode (default OpenSC configuration, the reader is a PIN pad):
#     Firefox headless --screenshot: no password prompt at all;
#     Firefox on a display (Xvfb): its "Protected Authentication" window
#     while the device asks the user, closed by itself when it answered;
#     Chromium under Xvfb: its "Unlock Security Device" dialog, answered
#     with xdotool (any text: it is not sent, the login uses the PIN pad);
#     the login is verified on the device, then one touch per signature;
#     no PIN crosses USB.
#   PIN mode (OPENSC_CONF = contrib/opensc-pin-mode.conf):
#     Firefox headless with Marionette: NSS's password prompt, answered with
#     the PIN from inside Firefox (browsers/marionette.py; Marionette is not
#     used in touch mode, where no prompt needs answering);
#     Chromium under Xvfb: the same dialog, the PIN typed by xdotool;
#     the PIN is sent over USB (VERIFY with data), no touch.
#   p11-kit: OpenSC is registered with p11-kit (opensc-pkcs11.module), yet
#     neither browser loads it by itself (a profile / ~/.pki/nssdb with no
#     module: no certificate sent); p11-kit's proxy added as the one module
#     brings the token into Firefox.
#
# The device (simulator and pcscd) is restarted before each browser, from
# the same --state file, so that no login of one round is still valid in
# the next.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/piv-lib.sh"
ol_setup
piv_init

PIN=271828
CN="Openloop browser user"
POLICY_DIR=/etc/chromium/policies/managed
POLICY=$POLICY_DIR/openloop-test-browsers-$$.json
POLICY_MADE_DIRS=""

# Chromium's policy file is machine-wide: never left behind, whatever ends
# the test; signals go through exit so that the EXIT trap runs
cleanup() {
	rm -f "$POLICY"
	for d in $POLICY_MADE_DIRS; do rmdir "$d" 2>/dev/null; done
	ol_cleanup
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

say() { printf '%s\n' "$@" | sed 's/^/    | /'; }

PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
FIREFOX=$(command -v firefox-esr)
CHROMIUM=$(command -v chromium)
if [ -z "$FIREFOX" ] && [ -z "$CHROMIUM" ]; then
	ol_skip_all "test-browsers: neither firefox-esr nor chromium is installed (apt-get install firefox-esr chromium xvfb xdotool)"
fi
for t in Xvfb xdotool; do
	command -v "$t" >/dev/null ||
		{ ol_not_ok "a browser is installed but $t is not (apt-get install xvfb xdotool)"; ol_summary; exit 1; }
done

(umask 077 && printf '%s' "$PIN" >"$OL_W/pin.txt")

# =========================================================================
# The device, the certificates, the server
# =========================================================================
# the simulated user confirms on the device after a second, as a person
# would: Firefox's Protected Authentication window must be up by then
SIM_ARGS=(--serial OLBRW0000001 --touch 1000 --verbose --state "$OL_W/sim.state")
ol_start_sim "${SIM_ARGS[@]}" --pin "$PIN" || exit 1
ol_start_pcscd || exit 1
check "provision 9A: P-256 key and a certificate from the test CA (CN=$CN)" \
	piv_provision 9A 11 "/CN=$CN"
say "$OUT"

# the server's certificate, from the same CA, for 127.0.0.1
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$OL_W/server.key" \
	-subj /CN=127.0.0.1 -out "$OL_W/server.csr" 2>/dev/null &&
openssl x509 -req -in "$OL_W/server.csr" -CA "$OL_W/piv-ca.pem" -CAkey "$OL_W/piv-ca.key" \
	-set_serial 0x0103 -days 30 -out "$OL_W/server.pem" \
	-extfile <(printf 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n') 2>/dev/null ||
	{ echo "could not make the server certificate"; exit 1; }

SRV_LOG=$OL_W/https.log
server_start() {
	HTTPS_PORT=$(free_port $((25400 + $$ % 500))) || return 1
	URL="https://127.0.0.1:$HTTPS_PORT/"
	"$PY" "$top_srcdir/tests/integration/browsers/https-server.py" "$HTTPS_PORT" \
		"$OL_W/server.pem" "$OL_W/server.key" "$OL_W/piv-ca.pem" "$SRV_LOG" \
		>"$OL_W/https.err" 2>&1 </dev/null &
	SRV_PID=$!
	OL_PIDS="$OL_PIDS $SRV_PID"
	for _i in $(seq 50); do
		grep -q "^listening on 127.0.0.1:$HTTPS_PORT" "$SRV_LOG" 2>/dev/null &&
			{ echo "python3 ssl server on $URL, client certificate required"; return 0; }
		kill -0 "$SRV_PID" 2>/dev/null || break
		sleep 0.1
	done
	echo "the HTTPS server did not start:"; cat "$OL_W/https.err"
	return 1
}
check_here "an HTTPS server that requires a client certificate from the test CA" server_start
say "$OUT"
[ -n "${SRV_PID:-}" ] || { ol_summary; exit 1; }

check_grep "without a client certificate the server refuses the connection" \
	'handshake failed: .*(CERTIFICATE|certificate)' \
	sh -c "timeout 10 openssl s_client -connect 127.0.0.1:$HTTPS_PORT -CAfile '$OL_W/piv-ca.pem' \
		</dev/null >/dev/null 2>&1; sleep 0.3; tail -1 '$SRV_LOG'"

# =========================================================================
# Helpers
# =========================================================================
ROUND=0
# device_restart: the simulator (same state file: keys, certificate, PIN)
# and pcscd started again, so nothing is verified on the card
device_restart() {
	_name=$name # ol_start_pcscd sets the global $name that check_here prints
	ROUND=$((ROUND + 1))
	ol_stop_pid "$OL_PCSCD_PID"
	ol_stop_pid "$OL_SIM_PID"
	mv "$OL_W/pcscd.log" "$OL_W/pcscd-$ROUND.log"
	ol_start_sim "${SIM_ARGS[@]}" || return 1
	ol_start_pcscd
	_rc=$?
	name=$_name
	[ "$_rc" -eq 0 ] || return 1
	echo "simulator and pcscd restarted (round $ROUND)"
}

srv_mark() { wc -l <"$SRV_LOG"; }
srv_since() { tail -n +"$(($1 + 1))" "$SRV_LOG"; }
sim_mark() { wc -l <"$OL_SOCK.log"; }
sim_since() { tail -n +"$(($1 + 1))" "$OL_SOCK.log"; }

# wait_request MARK SECONDS: the server logged a request since MARK
wait_request() {
	for _i in $(seq $(($2 * 5))); do
		srv_since "$1" | grep -q '^request: ' && return 0
		sleep 0.2
	done
	return 1
}

# wait_refused MARK SECONDS: the server refused a handshake with no client
# certificate since MARK
wait_refused() {
	for _i in $(seq $(($2 * 5))); do
		srv_since "$1" | grep -q 'handshake failed: .*PEER_DID_NOT_RETURN_A_CERTIFICATE' && return 0
		sleep 0.2
	done
	return 1
}

# server_saw NAME MARK UA: the server verified the card's certificate and
# served the page to the browser whose User-Agent matches UA
server_saw() {
	check_grep "$1: the server verified the client certificate CN=$CN and served the page" \
		"^request: / client-cert-subject=commonName=$CN tls=TLSv1\.[23] ua=.*$3" srv_since "$2"
	printf '%s\n' "$OUT" | grep '^request: / ' | head -1 | sed 's/^/    | /'
}

# device_saw NAME MARK MODE: what the simulator's log says about the round.
# Touch mode: the login is a PIN pad VERIFY the driver turns into a
# verification on the device (80 20 00 80, the user confirms there), then
# one touch per signature.  PIN mode: a VERIFY with the PIN, no touch.
device_saw() {
	_sim=$(sim_since "$2")
	_sigs=$(printf '%s\n' "$_sim" | grep -c 'PIV: ECDSA signature with 9A')
	_touch=$(printf '%s\n' "$_sim" | grep -c 'PIV: touch approved')
	_ondev=$(printf '%s\n' "$_sim" | grep -c 'PIV: verified on the device')
	_pinsent=$(printf '%s\n' "$_sim" | grep -c 'C: 00 20 00 80 0[6-8] ')
	check "$1: the card made the handshake signature with 9A ($_sigs)" test "$_sigs" -ge 1
	if [ "$3" = touch ]; then
		check "$1: the login was verified on the device ($_ondev)" test "$_ondev" -ge 1
		check "$1: one touch per signature ($_touch touches, $_sigs signatures)" \
			test "$_touch" -eq "$_sigs"
		check "$1: no PIN crossed USB (no VERIFY with data)" test "$_pinsent" -eq 0
	else
		check "$1: the PIN was sent over USB (VERIFY with data, $_pinsent)" test "$_pinsent" -ge 1
		check "$1: nothing verified on the device ($_ondev)" test "$_ondev" -eq 0
		check "$1: blind signing: the device asked for no touch ($_touch)" test "$_touch" -eq 0
	fi
	printf '%s\n' "$_sim" | grep -E 'PIV: |C: 00 20 |C: 80 20 ' | sed 's/^openloop-sim: //; s/^/    | /' | head -12
}

stop_browser() { # PID DIR: the browser, then a check that none of its processes is left
	ol_stop_pid "$1"
	for _i in $(seq 50); do
		pgrep -f -- "$2" >/dev/null || return 0
		sleep 0.1
	done
	echo "browser processes left for $2: $(pgrep -f -- "$2" | tr '\n' ' ')"
	return 1
}

# An X display for what users see: Firefox's window and Chromium's dialogs
xvfb_start() {
	Xvfb -displayfd 3 -nolisten tcp -screen 0 1280x1024x24 3>"$OL_W/xvfb.display" \
		>"$OL_W/xvfb.log" 2>&1 &
	XVFB_PID=$!
	OL_PIDS="$OL_PIDS $XVFB_PID"
	for _i in $(seq 50); do
		[ -s "$OL_W/xvfb.display" ] && { DISPLAY=:$(cat "$OL_W/xvfb.display"); export DISPLAY; echo "Xvfb on $DISPLAY"; return 0; }
		sleep 0.1
	done
	echo "Xvfb did not start:"; cat "$OL_W/xvfb.log"
	return 1
}
check_here "Xvfb, the display of the browsers' windows" xvfb_start
say "$OUT"

# windows_seen FILE SECONDS MARK: the names of the display's windows, polled
# until the server has logged a request since MARK (or SECONDS passed)
windows_seen() {
	for _i in $(seq $(($2 * 5))); do
		xdotool search --name . getwindowname %@ 2>/dev/null >>"$1"
		srv_since "$3" | grep -q '^request: ' && return 0
		sleep 0.2
	done
	return 1
}

# =========================================================================
# Firefox ESR
# =========================================================================
# ff_profile NAME [MODULE]: a fresh profile with MODULE (default OpenSC's;
# "none": no module) loaded (Settings > Privacy & Security > Manage
# security devices > Load does the same as modutil), the test CA trusted,
# and the client certificate chosen without asking
ff_profile() {
	FFP=$OL_W/firefox-$1
	mkdir -p "$FFP" "$OL_W/home" &&
	certutil -N --empty-password -d "sql:$FFP" || return 1
	if [ "${2:-$PIV_P11}" != none ]; then
		modutil -force -add "$(basename "${2:-$PIV_P11}" .so)" -libfile "${2:-$PIV_P11}" -dbdir "sql:$FFP" || return 1
	fi
	certutil -A -d "sql:$FFP" -n "Openloop test CA" -t CT,, -i "$OL_W/piv-ca.pem" || return 1
	cat >"$FFP/user.js" <<PREFS
user_pref("security.default_personal_cert", "Select Automatically");
user_pref("browser.shell.checkDefaultBrowser", false);
user_pref("browser.aboutwelcome.enabled", false);
user_pref("browser.startup.homepage_override.mstone", "ignore");
user_pref("datareporting.policy.dataSubmissionEnabled", false);
user_pref("toolkit.telemetry.reportingpolicy.firstRun", false);
user_pref("app.update.disabledForTesting", true);
user_pref("network.connectivity-service.enabled", false);
user_pref("network.captive-portal-service.enabled", false);
PREFS
	echo "profile $FFP: module ${2:-$PIV_P11}, test CA trusted, certificate selected automatically"
}

# Firefox runs as root once HOME is its own; no crash reporter.  (An
# array, not a function: "function &" would make $! a subshell's pid.)
FF_ENV=(HOME="$OL_W/home" MOZ_CRASHREPORTER_DISABLE=1 XDG_CACHE_HOME="$OL_W/cache")

if [ -z "$FIREFOX" ]; then
	echo "# SKIP Firefox: firefox-esr is not installed"
else
	say "$("$FIREFOX" --version 2>/dev/null)"

	# --- touch mode: headless, no prompt may come up (none could be answered)
	check_here "[firefox touch] device restarted" device_restart
	check_here "[firefox touch] a fresh profile" ff_profile touch
	say "$OUT"
	sm=$(sim_mark); vm=$(srv_mark)
	env "${FF_ENV[@]}" timeout 60 "$FIREFOX" --headless --no-remote --profile "$FFP" \
		--screenshot "$OL_W/firefox-touch.png" "$URL" >"$OL_W/firefox-touch.log" 2>&1 &
	ff_pid=$!
	OL_PIDS="$OL_PIDS $ff_pid"
	check "[firefox touch] firefox-esr --headless --screenshot $URL completes with no password prompt" \
		wait_request "$vm" 60
	wait "$ff_pid" 2>/dev/null
	check "[firefox touch] firefox-esr exited by itself (status 0)" test $? -eq 0
	check "[firefox touch] no firefox process left" stop_browser "$ff_pid" "$FFP"
	server_saw "[firefox touch]" "$vm" "Firefox/"
	device_saw "[firefox touch]" "$sm" touch

	# --- touch mode on a display, as users run it: the login goes through
	# OpenSC's PIN pad, and Firefox shows its "Protected Authentication"
	# window while the device asks the user; the window closes by itself
	# when the device has answered.
	check_here "[firefox touch, display] device restarted" device_restart
	check_here "[firefox touch, display] a fresh profile" ff_profile display
	sm=$(sim_mark); vm=$(srv_mark)
	: >"$OL_W/firefox-display.windows"
	env "${FF_ENV[@]}" timeout 60 "$FIREFOX" --no-remote --profile "$FFP" "$URL" \
		>"$OL_W/firefox-display.log" 2>&1 &
	ff_pid=$!
	OL_PIDS="$OL_PIDS $ff_pid"
	check "[firefox touch, display] firefox-esr on $DISPLAY loads $URL" \
		windows_seen "$OL_W/firefox-display.windows" 30 "$vm"
	check_grep "[firefox touch, display] Firefox showed its 'Protected Authentication' window during the login" \
		'^Protected Authentication$' cat "$OL_W/firefox-display.windows"
	sleep 0.5
	check "[firefox touch, display] the 'Protected Authentication' window closed by itself" \
		sh -c "! xdotool search --name '^Protected Authentication\$' >/dev/null 2>&1"
	check "[firefox touch, display] no firefox process left" stop_browser "$ff_pid" "$FFP"
	server_saw "[firefox touch, display]" "$vm" "Firefox/"
	device_saw "[firefox touch, display]" "$sm" touch

	# --- PIN mode: NSS's password prompt, answered through Marionette
	check_here "[firefox PIN] device restarted" device_restart
	check_here "[firefox PIN] a fresh profile" ff_profile pin
	MPORT=$(free_port $((28300 + $$ % 500)))
	echo "user_pref(\"marionette.port\", $MPORT);" >>"$FFP/user.js"
	sm=$(sim_mark); vm=$(srv_mark)
	env "${FF_ENV[@]}" OPENSC_CONF="$OL_PIN_MODE_CONF" \
		timeout 90 "$FIREFOX" --headless --no-remote --profile "$FFP" \
		--marionette -remote-allow-system-access about:blank >"$OL_W/firefox-pin.log" 2>&1 &
	ff_pid=$!
	OL_PIDS="$OL_PIDS $ff_pid"
	check_grep "[firefox PIN] Marionette (port $MPORT): the observer for the prompt is ready, the page is loading" \
		"^loading $URL" timeout 45 "$PY" "$top_srcdir/tests/integration/browsers/marionette.py" \
		"$MPORT" "$URL" 40 "$OL_W/pin.txt" "$OL_W/firefox-pin.report"
	check "[firefox PIN] the page loaded after the password prompt" wait_request "$vm" 45
	check_grep "[firefox PIN] NSS raised its password prompt for the Openloop token" \
		"^prompt: .*\($CN\)" cat "$OL_W/firefox-pin.report"
	say "$(cat "$OL_W/firefox-pin.report" 2>/dev/null)"
	check_grep "[firefox PIN] the prompt was answered with the PIN" '^prompt answered with the PIN' \
		cat "$OL_W/firefox-pin.report"
	check "[firefox PIN] no firefox process left" stop_browser "$ff_pid" "$FFP"
	server_saw "[firefox PIN]" "$vm" "Firefox/"
	device_saw "[firefox PIN]" "$sm" pin

	# --- p11-kit (docs/browsers.md): OpenSC is registered with p11-kit
	# (opensc-pkcs11.module), but Firefox does not load it by itself...
	check_here "[firefox p11-kit] a fresh profile with no module added" ff_profile nomodule none
	vm=$(srv_mark)
	env "${FF_ENV[@]}" timeout 60 "$FIREFOX" --headless --no-remote --profile "$FFP" \
		--screenshot "$OL_W/firefox-nomodule.png" "$URL" >"$OL_W/firefox-nomodule.log" 2>&1 &
	ff_pid=$!
	OL_PIDS="$OL_PIDS $ff_pid"
	check "[firefox p11-kit] with no module added, Firefox sends no client certificate (p11-kit's registration is not used)" \
		wait_refused "$vm" 30
	check "[firefox p11-kit] and the server served no page" sh -c "! tail -n +$((vm + 1)) '$SRV_LOG' | grep -q '^request: '"
	check "[firefox p11-kit] no firefox process left" stop_browser "$ff_pid" "$FFP"
	check_grep "[firefox p11-kit] the profile holds NSS's internal module only" \
		'^ *1\. NSS Internal' modutil -list -dbdir "sql:$FFP"
	check "[firefox p11-kit] ... and no second one" sh -c "! printf '%s\n' \"\$1\" | grep -q '^ *2\. '" _ "$OUT"

	# ...while p11-kit-proxy, added as the one module, brings OpenSC in.
	# p11-kit-proxy.so (package p11-kit-modules) is a link to libp11-kit.so.0
	P11KIT_PROXY=/usr/lib/x86_64-linux-gnu/p11-kit-proxy.so
	[ -e "$P11KIT_PROXY" ] || P11KIT_PROXY=/usr/lib/x86_64-linux-gnu/libp11-kit.so.0
	check_here "[firefox p11-kit] device restarted" device_restart
	check_here "[firefox p11-kit] a fresh profile with p11-kit's proxy ($P11KIT_PROXY) as its module" \
		ff_profile p11kit "$P11KIT_PROXY"
	check_grep "[firefox p11-kit] modutil -list: the Openloop token behind the proxy" \
		"token: $CN" modutil -list -dbdir "sql:$FFP"
	sm=$(sim_mark); vm=$(srv_mark)
	env "${FF_ENV[@]}" timeout 60 "$FIREFOX" --headless --no-remote --profile "$FFP" \
		--screenshot "$OL_W/firefox-p11kit.png" "$URL" >"$OL_W/firefox-p11kit.log" 2>&1 &
	ff_pid=$!
	OL_PIDS="$OL_PIDS $ff_pid"
	check "[firefox p11-kit] firefox-esr --headless --screenshot $URL through p11-kit-proxy" \
		wait_request "$vm" 60
	check "[firefox p11-kit] no firefox process left" stop_browser "$ff_pid" "$FFP"
	server_saw "[firefox p11-kit]" "$vm" "Firefox/"
	device_saw "[firefox p11-kit]" "$sm" touch
fi

# =========================================================================
# Chromium
# =========================================================================
# cr_profile NAME [none]: HOME with OpenSC (or no module) in ~/.pki/nssdb,
# where Chromium on Linux reads PKCS#11 modules and trust
cr_profile() {
	CRH=$OL_W/chromium-$1
	mkdir -p "$CRH/.pki/nssdb" &&
	certutil -N --empty-password -d "sql:$CRH/.pki/nssdb" || return 1
	if [ "${2:-}" != none ]; then
		modutil -force -add OpenSC -libfile "$PIV_P11" -dbdir "sql:$CRH/.pki/nssdb" || return 1
	fi
	certutil -A -d "sql:$CRH/.pki/nssdb" -n "Openloop test CA" -t CT,, -i "$OL_W/piv-ca.pem" &&
	echo "HOME $CRH: ${2:-OpenSC} in ~/.pki/nssdb, test CA trusted"
}

# the policy that picks the certificate for our server without a dialog
policy_write() {
	for d in /etc/chromium /etc/chromium/policies "$POLICY_DIR"; do
		[ -d "$d" ] || { mkdir "$d" && POLICY_MADE_DIRS="$d $POLICY_MADE_DIRS"; } || return 1
	done
	printf '{"AutoSelectCertificateForUrls": ["{\\"pattern\\":\\"https://127.0.0.1:%s\\",\\"filter\\":{}}"]}\n' \
		"$HTTPS_PORT" >"$POLICY" && cat "$POLICY"
}

# cr_unlock TEXTFILE: waits for Chromium's "Unlock Security Device" dialog
# (or the page, if none came), types TEXTFILE's content into it, Return.
# xdotool type --file keeps the PIN off the command line.
cr_unlock() {
	for _i in $(seq 100); do
		wid=$(xdotool search --name '^Unlock Security Device$' 2>/dev/null | head -1)
		[ -n "$wid" ] && break
		srv_since "$vm" | grep -q '^request: ' && { echo "no dialog: the page loaded without one"; return 1; }
		sleep 0.2
	done
	[ -n "$wid" ] || { echo "no dialog within 20 s; windows: $(xdotool search --name . getwindowname %@ 2>/dev/null | tr '\n' ';')"; return 1; }
	# no window manager: give the dialog the keyboard focus directly
	xdotool windowfocus --sync "$wid" && sleep 0.3 &&
	xdotool type --delay 20 --file "$1" && xdotool key Return &&
	echo "dialog 'Unlock Security Device' (X window $wid) answered"
}

# cr_round MODE: one Chromium login (touch or pin)
cr_round() {
	mode=$1
	check_here "[chromium $mode] device restarted" device_restart
	check_here "[chromium $mode] a fresh HOME and NSS database" cr_profile "$mode"
	say "$OUT"
	check_here "[chromium $mode] policy AutoSelectCertificateForUrls in $POLICY" policy_write
	say "$OUT"
	sm=$(sim_mark); vm=$(srv_mark)
	cr_env=(HOME="$CRH")
	if [ "$mode" = pin ]; then
		cr_env+=(OPENSC_CONF="$OL_PIN_MODE_CONF"); answer=$OL_W/pin.txt
	else
		answer=$OL_W/any-text.txt
		printf 'x' >"$answer"
	fi
	# root: no sandbox (it needs a user namespace as an unprivileged user)
	env "${cr_env[@]}" timeout 60 "$CHROMIUM" --no-sandbox \
		--user-data-dir="$CRH/user-data" --no-first-run --no-default-browser-check \
		--disable-gpu --disable-sync --disable-background-networking \
		--disable-component-update --password-store=basic "$URL" \
		>"$OL_W/chromium-$mode.log" 2>&1 &
	cr_pid=$!
	OL_PIDS="$OL_PIDS $cr_pid"
	check_here "[chromium $mode] the 'Unlock Security Device' dialog came up and was answered ($([ "$mode" = pin ] && echo "the PIN" || echo "any text: ignored for a PIN pad"))" \
		cr_unlock "$answer"
	say "$OUT"
	check "[chromium $mode] the page loaded" wait_request "$vm" 30
	sleep 0.5
	check_grep "[chromium $mode] the window shows the page's title" "client certificate: commonName=$CN" \
		xdotool search --name . getwindowname %@
	check "[chromium $mode] no chromium process left" stop_browser "$cr_pid" "$CRH/user-data"
	rm -f "$POLICY"
	check "[chromium $mode] the policy file is removed" test ! -e "$POLICY"
	server_saw "[chromium $mode]" "$vm" "Chrome/"
	device_saw "[chromium $mode]" "$sm" "$mode"
}

if [ -z "$CHROMIUM" ]; then
	echo "# SKIP Chromium: chromium is not installed"
else
	say "$("$CHROMIUM" --version 2>/dev/null)"
	cr_round touch
	cr_round pin

	# --- p11-kit: Chromium with nothing in ~/.pki/nssdb sees no token
	check_here "[chromium p11-kit] a fresh HOME, no module in ~/.pki/nssdb" cr_profile nomodule none
	vm=$(srv_mark)
	env HOME="$CRH" timeout 60 "$CHROMIUM" --no-sandbox --user-data-dir="$CRH/user-data" \
		--no-first-run --no-default-browser-check --disable-gpu --disable-sync \
		--disable-background-networking --disable-component-update --password-store=basic \
		"$URL" >"$OL_W/chromium-nomodule.log" 2>&1 &
	cr_pid=$!
	OL_PIDS="$OL_PIDS $cr_pid"
	check "[chromium p11-kit] with no module added, Chromium sends no client certificate" wait_refused "$vm" 30
	check "[chromium p11-kit] no Unlock Security Device dialog and no page" \
		sh -c "! xdotool search --name '^Unlock Security Device\$' >/dev/null 2>&1 && ! tail -n +$((vm + 1)) '$SRV_LOG' | grep -q '^request: '"
	check "[chromium p11-kit] no chromium process left" stop_browser "$cr_pid" "$CRH/user-data"
fi
ol_stop_pid "$XVFB_PID"

# =========================================================================
check "no PIN in pcscd's or the simulator's logs" piv_logs_free_of "$PIN"
# (a function: the PIN stays off every command line)
browser_logs_free_of_pin() {
	! grep -lF -- "$PIN" "$OL_W"/*.log "$OL_W"/*.report 2>/dev/null
}
check "no PIN in the browsers' logs, the Marionette report or the server's log" browser_logs_free_of_pin
pids=$OL_PIDS
ol_stop_all
check "no server, Xvfb, browser, simulator or pcscd left" \
	sh -c "for p in $pids; do ! kill -0 \$p 2>/dev/null || exit 1; done"
ol_summary
