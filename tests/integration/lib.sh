# SPDX-License-Identifier: LGPL-2.1-or-later
# ifd-openloop integration test library (POSIX sh + bash features used by
# the tests).  Each test starts openloop-sim and a private pcscd that loads
# the driver just built, inside the mount namespace run-all.sh made (a tmpfs
# on /run/pcscd), so the machine's own pcscd is never touched.
#
# Needs: top_builddir, top_srcdir.  OL_INSTALLED_DRIVER (a LIBPATH) and
# OL_INSTALLED_SIM run the tests against installed packages instead of the
# build tree (scripts/test-packages.sh).  Provides: ol_setup, ol_start_sim,
# ol_start_pcscd, ol_stop_all, check, check_grep, ol_ok, ol_not_ok,
# ol_skip, ol_skip_all, ol_summary.
#
# Output is TAP (the protocol automake's tap-driver.sh reads; `make
# check-integration` runs every test through it): a numbered line per check
# ("ok 3 - desc", "not ok 4 - desc", "ok 5 - desc # SKIP why"), anything
# else a "# " comment or indented, and the plan "1..N" at the end
# (ol_summary).  A test that exits before ol_summary has no plan, and the
# driver reports it as an ERROR.

: "${top_builddir:?top_builddir not set}"
: "${top_srcdir:?top_srcdir not set}"

OL_PASS=0
OL_FAIL=0
OL_SKIP=0
OL_N=0	# TAP test number of the last check
OL_PIDS=""

# The PIN mode's OpenSC configuration: the very file the package ships
# (installed, when the tests run against the installed packages)
if [ -n "${OL_INSTALLED_SIM:-}" ] && [ -f /usr/share/ifd-openloop/opensc-pin-mode.conf ]; then
	OL_PIN_MODE_CONF=/usr/share/ifd-openloop/opensc-pin-mode.conf
else
	OL_PIN_MODE_CONF="$top_srcdir/contrib/opensc-pin-mode.conf"
fi

# A bundle laid out as pcscd installs it, so the driver finds Info.plist
# next to itself exactly as it does when installed.
ol_setup() {
	OL_W=$(mktemp -d /tmp/openloop-it.XXXXXX)
	OL_BUNDLE="$OL_W/ifd-openloop.bundle/Contents"
	mkdir -p "$OL_BUNDLE/Linux" "$OL_W/reader.conf.d"
	cp "$top_builddir/Info.plist" "$OL_BUNDLE/Info.plist"
	cp "$top_builddir/.libs/libifdopenloop.so" "$OL_BUNDLE/Linux/"
	# as installed: reader.conf points at drivers/serial/, a link
	mkdir -p "$OL_W/serial"
	ln -s ../ifd-openloop.bundle/Contents/Linux/libifdopenloop.so "$OL_W/serial/libifdopenloop.so"
	OL_SOCK="$OL_W/sim.sock"
	OL_SIM="${OL_INSTALLED_SIM:-$top_builddir/openloop-sim}"
}

ol_wait_for() { # path timeout_tenths
	n=0
	while [ ! -e "$1" ]; do
		n=$((n + 1))
		[ "$n" -gt "$2" ] && return 1
		sleep 0.1
	done
	return 0
}

# ol_start_sim [args...]: the simulator on $OL_SOCK (pid in $OL_SIM_PID)
ol_start_sim() {
	ol_start_sim_at "$OL_SOCK" "$@"
}

# ol_start_sim_at SOCKET [args...]
ol_start_sim_at() {
	sock=$1; shift
	"$OL_SIM" --socket "$sock" "$@" >>"$sock.log" 2>&1 &
	OL_SIM_PID=$!
	OL_PIDS="$OL_PIDS $OL_SIM_PID"
	ol_wait_for "$sock" 50 || { echo "openloop-sim did not start:"; cat "$sock.log"; return 1; }
}

# ol_add_reader NAME SOCKET: one more reader.conf.d entry
ol_add_reader() {
	cat >"$OL_W/reader.conf.d/openloop-$(echo "$1" | tr -c 'A-Za-z0-9\n' _)" <<CONF
FRIENDLYNAME "$1"
DEVICENAME unix:$2
LIBPATH ${OL_INSTALLED_DRIVER:-$OL_W/serial/libifdopenloop.so}
CONF
}

# ol_set_plist KEY VALUE: changes a setting in the test bundle's Info.plist
ol_set_plist() {
	if [ -n "${OL_INSTALLED_DRIVER:-}" ]; then
		echo "ol_set_plist $1: not with OL_INSTALLED_DRIVER (it would edit the installed conffile)" >&2
		return 1
	fi
	sed -i "/<key>$1<\/key>/{n;s|<string>.*</string>|<string>$2</string>|}" "$OL_BUNDLE/Info.plist"
}

# ol_start_pcscd [NAME]: pcscd with the readers added so far, or with one
# reader NAME (default "Openloop Virtual") on $OL_SOCK; waits for them.
ol_start_pcscd() {
	if [ -z "$(ls "$OL_W/reader.conf.d")" ]; then
		ol_add_reader "${1:-Openloop Virtual}" "$OL_SOCK"
	fi
	rm -f /run/pcscd/pcscd.comm
	# OL_PCSCD_PRELOAD: sanitizer runtimes, so that a driver built with
	# -fsanitize=address,undefined is checked inside the real pcscd
	LD_PRELOAD=${OL_PCSCD_PRELOAD:-} \
	IFDOPENLOOP_ifdLogLevel=${IFDOPENLOOP_ifdLogLevel:-0x07} \
		pcscd -f -d -c "$OL_W/reader.conf.d" >"$OL_W/pcscd.log" 2>&1 &
	OL_PCSCD_PID=$!
	OL_PIDS="$OL_PIDS $OL_PCSCD_PID"
	ol_wait_for /run/pcscd/pcscd.comm 50 || { echo "pcscd did not start:"; cat "$OL_W/pcscd.log"; return 1; }
	# the readers appear once pcscd has read reader.conf.d and powered up
	for f in "$OL_W"/reader.conf.d/*; do
		name=$(sed -n 's/^FRIENDLYNAME "\(.*\)"$/\1/p' "$f")
		n=0
		until opensc-tool -l 2>/dev/null | grep -q "$name"; do
			n=$((n + 1))
			if [ "$n" -gt 50 ]; then
				echo "reader '$name' did not appear; pcscd log:"
				tail -40 "$OL_W/pcscd.log"
				return 1
			fi
			sleep 0.1
		done
	done
}

ol_stop_pid() {
	[ -n "$1" ] || return 0
	kill -TERM "$1" 2>/dev/null || return 0
	n=0
	while kill -0 "$1" 2>/dev/null; do
		n=$((n + 1))
		[ "$n" -gt 50 ] && { kill -KILL "$1" 2>/dev/null; break; }
		sleep 0.1
	done
	wait "$1" 2>/dev/null
	return 0
}

ol_stop_all() {
	for p in $OL_PIDS; do ol_stop_pid "$p"; done
	OL_PIDS=""
}

ol_cleanup() {
	ol_stop_all
	[ -n "${OL_KEEP:-}" ] || rm -rf "$OL_W"
}

# ol_ok DESC / ol_not_ok DESC: one numbered TAP line, counted.  "#" in
# DESC would start a TAP directive: it is escaped.
ol_ok() {
	OL_N=$((OL_N + 1)); OL_PASS=$((OL_PASS + 1))
	echo "ok $OL_N - $(printf '%s' "$*" | sed 's/#/\\#/g')"
}
ol_not_ok() {
	OL_N=$((OL_N + 1)); OL_FAIL=$((OL_FAIL + 1))
	echo "not ok $OL_N - $(printf '%s' "$*" | sed 's/#/\\#/g')"
}
# ol_skip DESC REASON: a check that could not run here
ol_skip() {
	OL_N=$((OL_N + 1)); OL_SKIP=$((OL_SKIP + 1))
	echo "ok $OL_N - $(printf '%s' "$1" | sed 's/#/\\#/g') # SKIP ${2:-}"
}
# ol_skip_all REASON: the whole test cannot run here (before any check)
ol_skip_all() {
	echo "1..0 # SKIP $*"
	exit 0
}

# check NAME CMD...: runs CMD, records pass/fail, keeps its output in $OUT
check() {
	name=$1; shift
	if OUT=$("$@" 2>&1); then
		ol_ok "$name"
	else
		ol_not_ok "$name"; echo "$OUT" | sed 's/^/    # /'
	fi
}

# check_grep NAME PATTERN CMD...: CMD succeeds and its output matches PATTERN
check_grep() {
	name=$1; pat=$2; shift 2
	if OUT=$("$@" 2>&1) && printf '%s\n' "$OUT" | grep -Eq -- "$pat"; then
		ol_ok "$name"
	else
		ol_not_ok "$name (wanted /$pat/)"; echo "$OUT" | sed 's/^/    # /'
	fi
}

# check_here NAME CMD...: like check, but CMD runs in this shell, so it
# may start background processes and set variables
check_here() {
	name=$1; shift
	if "$@" >"$OL_W/check.out" 2>&1; then
		ol_ok "$name"
	else
		ol_not_ok "$name"; sed 's/^/    # /' "$OL_W/check.out"
	fi
	OUT=$(cat "$OL_W/check.out")
}

# free_port BASE: a free TCP port on 127.0.0.1 from BASE on (bounded search)
free_port() {
	_p=$1
	for _i in $(seq 200); do
		if ! ss -Htln "sport = :$_p" 2>/dev/null | grep -q .; then
			echo "$_p"; return 0
		fi
		_p=$((_p + 1))
	done
	return 1
}

# ol_summary: the totals as a comment, then the TAP plan; fails if a check did
ol_summary() {
	if [ "$OL_SKIP" -gt 0 ]; then
		echo "# $(basename "$0"): $OL_PASS passed, $OL_FAIL failed, $OL_SKIP skipped"
	else
		echo "# $(basename "$0"): $OL_PASS passed, $OL_FAIL failed"
	fi
	echo "1..$OL_N"
	[ "$OL_FAIL" -eq 0 ]
}
