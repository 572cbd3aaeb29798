# SPDX-License-Identifier: LGPL-2.1-or-later
# The "browser" stage of the VM test, sourced by guest-test.sh (its
# check/ok/notok/diag, $OUT, $OL_W, $SIM_PID and the pcsc-probe helpers).
#
# Firefox ESR, headless and driven through Marionette, does WebAuthn
# against the simulated device through the guest's real /dev/hidraw0:
# a page on http://localhost (tests/vm/webauthn/index.html) creates an
# ES256, an EdDSA and a discoverable ES256 credential and gets an
# assertion with each (tests/vm/webauthn/webauthn.py); verify.py checks
# them as a relying party's server would, each signature with the public
# key of the registration.  No virtual authenticator: the soft token is
# off in the profile, and the credential IDs are the simulator's own
# (62 bytes, version 01).  Attestation "none" and userVerification
# "discouraged" with no FIDO PIN on the device: Firefox shows only its
# "touch your security key" notification, which needs no answer (the
# simulator approves the touch after 500 ms).
#
# pcscd keeps the reader open on the same node throughout, but
# pcsc-probe's signing loop runs only after the ceremonies, not during
# them: Firefox's authenticator-rs takes a CTAPHID_ERROR CHANNEL_BUSY
# (the device busy with the driver's APDU) in its device set-up as "not
# a token" and ignores the device until the request times out (seen
# here: the INIT answered, the authenticatorGetInfo never served, the
# get failing after 60 s with NotAllowedError).  BROWSER_PCSC_LOOP=1
# runs the loop during the ceremonies to show it
# (docs/browser-webauthn.md).
BROWSER_PCSC_LOOP=${BROWSER_PCSC_LOOP:-0}

WA=$OL_SRCDIR/tests/vm/webauthn
FF=$(command -v firefox-esr)
PY=/usr/bin/python3
FF_TIMEOUT=${OL_BROWSER_TIMEOUT:-240}

# ff_procs: Firefox's processes (the parent, its fork server's children)
# with their RSS
ff_procs() {
	ps -o rss=,comm= -p "$(pgrep -d, -x firefox-esr),$(pgrep -d, -f -- ' -contentproc ')" 2>/dev/null |
		awk '{ s += $1; n++; $1 = ""; c = c (n > 1 ? "," : "") $0 } END { printf "%d (%s), %d MB RSS in all\n", n, c, s / 1024 }'
}

browser_stage() {
	local ffp=$OL_W/firefox mport=28999 t0 ff_pid sim_mark rc when

	if [ -z "$FF" ] || ! "$PY" -c 'import cryptography' 2>/dev/null; then
		notok "browser: firefox-esr and python3-cryptography on the host (scripts/setup.sh --vm)"
		return
	fi
	# Marionette and the page are on TCP over loopback; the guest has no
	# other network device
	ip link set lo up
	# a FIDO PIN left by an earlier stage would make Firefox ask for it
	fido2-token -I /dev/hidraw0 >"$OL_W/browser-fido-I.txt" 2>&1
	if grep -q 'clientPin' "$OL_W/browser-fido-I.txt" && ! grep -q 'noclientPin' "$OL_W/browser-fido-I.txt"; then
		diag "the device has a FIDO PIN: authenticatorReset first"
		check "browser: fido2-token -R resets the authenticator (no PIN)" fido2-token -R /dev/hidraw0
	fi

	mkdir -p "$ffp" "$OL_W/ffhome"
	cat >"$ffp/user.js" <<PREFS
user_pref("marionette.port", $mport);
user_pref("security.webauth.webauthn_enable_softtoken", false);
user_pref("security.webauth.webauthn_enable_usbtoken", true);
user_pref("browser.shell.checkDefaultBrowser", false);
user_pref("browser.aboutwelcome.enabled", false);
user_pref("browser.startup.homepage_override.mstone", "ignore");
user_pref("datareporting.policy.dataSubmissionEnabled", false);
user_pref("toolkit.telemetry.reportingpolicy.firstRun", false);
user_pref("app.update.disabledForTesting", true);
user_pref("network.connectivity-service.enabled", false);
user_pref("network.captive-portal-service.enabled", false);
user_pref("browser.startup.page", 0);
user_pref("browser.startup.homepage", "about:blank");
user_pref("browser.newtabpage.enabled", false);
// as few processes as will do: each one starts slowly under TCG
user_pref("fission.autostart", false);
user_pref("dom.ipc.processCount", 1);
user_pref("dom.ipc.processCount.webIsolated", 1);
user_pref("dom.ipc.processPrelaunch.enabled", false);
user_pref("browser.tabs.remote.separatePrivilegedContentProcess", false);
user_pref("browser.tabs.remote.separatePrivilegedMozillaWebContentProcess", false);
user_pref("network.process.enabled", false);
user_pref("media.rdd-process.enabled", false);
user_pref("media.utility-process.enabled", false);
user_pref("extensions.webextensions.remote", false);
PREFS
	diag "$("$FF" --version 2>&1)" "memory before: $(grep -E '^MemAvailable' /proc/meminfo)"
	[ "$BROWSER_PCSC_LOOP" = 1 ] && probe_start "$OL_W/probe-browser.out"
	sim_mark=$(wc -l <"${SIM_LOG:-$OUT/sim.log}")
	t0=$(date +%s%3N)
	# RUST_LOG: authenticator-rs's warnings ("error while initializing
	# device") in firefox.log
	env HOME="$OL_W/ffhome" MOZ_CRASHREPORTER_DISABLE=1 RUST_LOG=authenticator=info XDG_CACHE_HOME="$OL_W/ffcache" \
		timeout "$FF_TIMEOUT" "$FF" --headless --no-remote --profile "$ffp" --marionette about:blank \
		>"$OUT/firefox.log" 2>&1 &
	ff_pid=$!
	timeout "$FF_TIMEOUT" "$PY" "$WA/webauthn.py" --t0 "$t0" --timeout "$((FF_TIMEOUT - 20))" \
		"$mport" "$OUT" es256 eddsa resident >"$OUT/browser-webauthn.txt" 2>&1
	rc=$?
	diag "memory with Firefox up: $(grep -E '^MemAvailable' /proc/meminfo)" "Firefox's processes: $(ff_procs)"
	diag "$(cat "$OUT/browser-webauthn.txt")"
	check "browser: Firefox created three credentials and got an assertion with each (webauthn.py, status $rc)" \
		test "$rc" = 0
	kill -TERM "$ff_pid" 2>/dev/null; wait "$ff_pid"
	# (a function: "sh -c 'pgrep -f PATH'" would find its own sh)
	ff_gone() { ! pgrep -f -- "$ffp" >/dev/null; }
	wait_for ff_gone
	check "browser: no Firefox process left" ff_gone
	diag "authenticator-rs in firefox.log:" "$(grep -E '^\[.*(WARN|ERROR|INFO).*authenticator' "$OUT/firefox.log" | cut -c1-200 | head -10)"
	if [ "$BROWSER_PCSC_LOOP" != 1 ]; then
		# the PC/SC side after Firefox's INITs and ceremonies: the
		# driver's reader, open all along, still signs
		probe_start "$OL_W/probe-browser.out"
		wait_for grep -q '^event: .* ok$' "$OL_W/probe-browser.out"
		sleep 3
	fi
	kill -TERM "$PROBE_PID"; wait "$PROBE_PID"; PROBE_RC=$?
	cp "$OL_W/probe-browser.out" "$OUT/"

	if [ -s "$OUT/results.json" ]; then
		"$PY" "$WA/verify.py" "$OUT/results.json" >"$OUT/browser-verify.txt" 2>&1
		rc=$?
	else
		echo "no results.json" >"$OUT/browser-verify.txt"; rc=1
	fi
	diag "$(grep '^figure: ' "$OUT/browser-verify.txt")"
	check "browser: verify.py: every check of the three ceremonies passes ($(grep -c '^ok - ' "$OUT/browser-verify.txt") ok)" \
		test "$rc" = 0
	[ "$rc" = 0 ] || diag "$(grep -v '^ok - ' "$OUT/browser-verify.txt" | grep -v '^figure: ' | head -20)"
	for c in es256 eddsa resident; do
		check "browser: $c: the assertion's signature verifies with the key of the registration" \
			grep -q "^ok - $c get: the signature verifies with the registered public key" "$OUT/browser-verify.txt"
	done
	# the simulator's own credential IDs: no virtual authenticator answered
	sim_ids() { grep -c '^figure: .* credential id 62 bytes' "$OUT/browser-verify.txt" | grep -qx 3 &&
		grep -q '"virtual": false' "$OUT/results.json"; }
	check "browser: the credentials are the simulator's (62-byte IDs), no virtual authenticator" sim_ids
	tail -n +"$((sim_mark + 1))" "${SIM_LOG:-$OUT/sim.log}" >"$OL_W/sim-browser.log"
	diag "the simulator during the browser run:" \
		"$(grep -E 'FIDO: ' "$OL_W/sim-browser.log" | grep -v 'waiting for touch' | head -20)"
	sim_served() {
		[ "$(grep -c 'FIDO: CTAP2 authenticatorMakeCredential' "$OL_W/sim-browser.log")" -ge 3 ] &&
		[ "$(grep -c 'FIDO: CTAP2 authenticatorGetAssertion' "$OL_W/sim-browser.log")" -ge 3 ] &&
		grep -q 'FIDO: .*credential made (EdDSA' "$OL_W/sim-browser.log" &&
		grep -q 'FIDO: discoverable credential made (ES256' "$OL_W/sim-browser.log"
	}
	check "browser: openloop-sim on /dev/hidg0 served the makeCredentials (ES256, EdDSA, discoverable) and getAssertions" sim_served
	if [ "$BROWSER_PCSC_LOOP" = 1 ]; then when="during the ceremonies"; else when="after the ceremonies, pcscd's reader open all along"; fi
	diag "pcsc-probe loop $when: $(probe_figures "$OL_W/probe-browser.out")"
	check "browser: pcsc-probe's PC/SC loop signed $when, every round 9000" probe_only_ok "$OL_W/probe-browser.out"
	check "browser: openloop-sim and pcscd survived" kill -0 "$SIM_PID" "$PCSCD_PID"
}
browser_stage
