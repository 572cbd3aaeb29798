#!/bin/sh
# Builds the Debian packages from this tree (dpkg-buildpackage -us -uc -b in
# a copy under /tmp, never in the tree), runs lintian on them (no errors,
# no warnings), installs them on this machine, checks what they installed,
# runs the basic integration test against the installed driver, and purges
# the packages again.  Needs root and Debian 12's build tools:
#   apt-get install dpkg-dev debhelper lintian
# Prints TAP-like ok/not ok lines; exit 0 all passed, 1 a failure, 77 skipped.
set -u
here=$(cd "$(dirname "$0")/.." && pwd)

if [ "$(id -u)" -ne 0 ]; then
	echo "test-packages.sh installs packages: run it as root; skipped"
	exit 77
fi
for tool in dpkg-buildpackage dh lintian apt-get; do
	command -v "$tool" >/dev/null ||
		{ echo "not ok - missing $tool: apt-get install dpkg-dev debhelper lintian"; exit 1; }
done

fail=0
ok() { echo "ok - $*"; }
notok() { echo "not ok - $*"; fail=1; }
# check NAME CMD...: one ok/not ok line; the command's output on failure
check() {
	name=$1; shift
	if out=$("$@" 2>&1); then ok "$name"; else notok "$name"; printf '%s\n' "$out" | sed 's/^/    # /'; fi
}

work=$(mktemp -d /tmp/openloop-deb.XXXXXX)
installed=""
# shellcheck disable=SC2317  # cleanup runs from the EXIT trap
cleanup() {
	if [ -n "$installed" ]; then
		# shellcheck disable=SC2086
		DEBIAN_FRONTEND=noninteractive apt-get purge -y -q $installed >"$work/purge.log" 2>&1 ||
			{ echo "not ok - purge $installed:"; sed 's/^/    # /' "$work/purge.log"; }
	fi
	if [ -n "${OL_KEEP:-}" ]; then echo "# kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# The packages would replace a copy the admin installed; leave that alone.
for p in libifd-openloop openloop-tools; do
	if dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		echo "not ok - $p is already installed here; purge it first (apt-get purge $p)"
		exit 1
	fi
done

# --- build: a clean copy of the tree (tracked and new files, not ignored)
src=$work/ifd-openloop
mkdir -p "$src"
if git -C "$here" rev-parse --git-dir >/dev/null 2>&1; then
	(cd "$here" && git ls-files -z -c -o --exclude-standard | xargs -0 cp --parents -t "$src")
else
	(cd "$here" && tar --exclude='./build*' --exclude=./autom4te.cache -cf - .) | tar -C "$src" -xf -
fi
check "build dependencies installed" sh -c "cd '$src' && dpkg-checkbuilddeps"
if (cd "$src" && dpkg-buildpackage -us -uc -b) >"$work/build.log" 2>&1; then
	ok "dpkg-buildpackage -us -uc -b"
else
	notok "dpkg-buildpackage -us -uc -b:"; tail -40 "$work/build.log" | sed 's/^/    # /'
	exit 1
fi
changes=$(ls "$work"/ifd-openloop_*.changes)
# the -dbgsym packages are built and linted, not installed
debs=""
for d in "$work"/*.deb; do
	case $d in *-dbgsym_*) ;; *) debs="$debs $d" ;; esac
done
echo "# built:$(for d in "$work"/*.deb; do printf ' %s' "${d##*/}"; done)"
grep -E '^(PASS|FAIL|ERROR|XPASS|# (TOTAL|PASS|FAIL|ERROR)):' "$work/build.log" | grep -vE '^PASS:' | sed 's/^/    # make check: /'

# --- lintian: no errors, no warnings (its own output is shown either way)
# lintian warns when run as root: run it as nobody where runuser exists
chmod 755 "$work"
lint="lintian"
command -v runuser >/dev/null && id nobody >/dev/null 2>&1 && lint="runuser -u nobody -- env HOME=/tmp lintian"
if $lint --fail-on error,warning "$changes" >"$work/lintian.log" 2>&1; then
	ok "lintian --fail-on error,warning $(basename "$changes")"
else
	notok "lintian --fail-on error,warning $(basename "$changes")"
fi
if [ -s "$work/lintian.log" ]; then sed 's/^/    # lintian: /' "$work/lintian.log"; else echo "    # lintian: (no output)"; fi

# --- install
installed="libifd-openloop openloop-tools"
# shellcheck disable=SC2086
if DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $debs >"$work/install.log" 2>&1; then
	ok "apt-get install $(echo "$debs" | xargs -n1 basename | tr '\n' ' ')"
else
	notok "apt-get install:"; tail -30 "$work/install.log" | sed 's/^/    # /'
	exit 1
fi

drop=/usr/lib/pcsc/drivers
bundle=$drop/ifd-openloop.bundle/Contents
rules=$(dpkg -L libifd-openloop | grep '/udev/rules.d/70-openloop.rules$')
check "driver in the bundle" test -f "$bundle/Linux/libifdopenloop.so"
check "no libtool archive shipped" sh -c "! dpkg -L libifd-openloop openloop-tools | grep -q '\.la$'"
check "Info.plist is a conffile in /etc" sh -c \
	"dpkg-query -W -f='\${Conffiles}\n' libifd-openloop | grep -q '^ /etc/ifd-openloop_Info.plist '"
check "bundle's Info.plist links to /etc" test "$(readlink -f "$bundle/Info.plist")" = /etc/ifd-openloop_Info.plist
check "Info.plist names the driver" grep -q '<string>libifdopenloop.so</string>' /etc/ifd-openloop_Info.plist
check "reader.conf link serial/libifdopenloop.so points into the bundle" \
	test "$(readlink -f "$drop/serial/libifdopenloop.so")" = "$bundle/Linux/libifdopenloop.so"
check "udev rules installed ($rules)" test -f "$rules"
check "udev rules: group pcscd, 0660, uaccess" \
	grep -q 'GROUP="pcscd", MODE="0660", TAG+="uaccess"' "$rules"
check "system group pcscd exists" getent group pcscd
check "openloop-hid, openloop-sim in /usr/bin" test -x /usr/bin/openloop-hid -a -x /usr/bin/openloop-sim
check "man pages" test -f /usr/share/man/man1/openloop-hid.1.gz -a -f /usr/share/man/man1/openloop-sim.1.gz
check "OpenSC PIN-mode settings" test -f /usr/share/ifd-openloop/opensc-pin-mode.conf
check "openloop-sim --help runs" /usr/bin/openloop-sim --help
check "openloop-hid --help runs" /usr/bin/openloop-hid --help
# a second configure must work too (pcscd, udevd absent or running)
check "configure again (dpkg -i over the installed packages)" sh -c \
	"DEBIAN_FRONTEND=noninteractive dpkg --force-confold -i $(echo "$debs" | tr '\n' ' ')"

# --- the basic integration test against the installed driver: lib.sh loads
# OL_INSTALLED_DRIVER (the reader.conf link, as a user's reader.conf does)
# and the installed openloop-sim; pcsc-probe comes from the package build.
if top_builddir=$src top_srcdir=$src \
	OL_INSTALLED_DRIVER=$drop/serial/libifdopenloop.so OL_INSTALLED_SIM=/usr/bin/openloop-sim \
	sh "$src/tests/integration/run-all.sh" basic >"$work/it.log" 2>&1; then
	ok "integration test (basic) against the installed driver"
	grep -E '^# ' "$work/it.log" | sed 's/^/    /'
else
	notok "integration test (basic) against the installed driver:"; sed 's/^/    # /' "$work/it.log"
fi

# --- purge: the packages go, the group stays (it may own files)
# shellcheck disable=SC2086
if DEBIAN_FRONTEND=noninteractive apt-get purge -y -q $installed >"$work/purge.log" 2>&1; then
	installed=""
	ok "apt-get purge"
	check "nothing left in the bundle directory" test ! -e "$drop/ifd-openloop.bundle"
	check "conffile gone after purge" test ! -e /etc/ifd-openloop_Info.plist
	check "udev rules gone" test ! -e "$rules"
else
	notok "apt-get purge:"; tail -20 "$work/purge.log" | sed 's/^/    # /'
fi

[ "$fail" -eq 0 ] && echo "# packages: all checks passed" || echo "# packages: FAILED"
exit $fail
