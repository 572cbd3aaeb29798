#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Builds the Debian packages from this tree (dpkg-buildpackage -us -uc -b in
# a copy under /tmp, never in the tree), runs lintian on them (no errors,
# no warnings), installs them on this machine, checks what they installed
# (no USB ID claimed, no udev rule), that pcscd accepts the Info.plist,
# adds the test ID 1209:0001 with openloop-usb-ids and checks the Info.plist
# and the udev rule, runs the basic integration test against the installed
# driver, removes the ID again, and purges the packages (which must leave
# no rule behind).  Needs root and Debian 12's build tools:
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
# The same for a udev rule of the name openloop-usb-ids writes.
user_rules=/etc/udev/rules.d/70-openloop.rules
if [ -e "$user_rules" ]; then
	echo "not ok - $user_rules exists here; move it away first"
	exit 1
fi
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
plist=/etc/ifd-openloop_Info.plist
# the IDs an Info.plist claims, "vvvv:pppp" a line (openloop-usb-ids list
# is under test here, so read the file directly)
plist_ids() {
	awk '
	/<key>ifdVendorID<\/key>/ { list = "v"; next }
	/<key>ifdProductID<\/key>/ { list = "p"; next }
	/<key>ifdFriendlyName<\/key>/ { list = "n"; next }
	/<\/array>/ { list = ""; next }
	list != "" && /<string>/ {
		s = $0; sub(/.*<string>/, "", s); sub(/<\/string>.*/, "", s); sub(/^0[xX]/, "", s)
		if (list == "v") v[++nv] = tolower(s); else if (list == "p") p[++np] = tolower(s); else nn++
	}
	END { if (nv != np || nv != nn) print "unequal lists"; for (i = 1; i <= nv; i++) print v[i] ":" p[i] }
	' "$1"
}
# any udev rules file, anywhere udev reads them, that matches a USB ID
rules_matching_ids() {
	grep -ls 'ATTRS{idVendor}' /etc/udev/rules.d/*openloop* /lib/udev/rules.d/*openloop* \
		/usr/lib/udev/rules.d/*openloop* /run/udev/rules.d/*openloop* 2>/dev/null
}
check "driver in the bundle" test -f "$bundle/Linux/libifdopenloop.so"
check "no libtool archive shipped" sh -c "! dpkg -L libifd-openloop openloop-tools | grep -q '\.la$'"
check "Info.plist is a conffile in /etc" sh -c \
	"dpkg-query -W -f='\${Conffiles}\n' libifd-openloop | grep -q '^ /etc/ifd-openloop_Info.plist '"
check "bundle's Info.plist links to /etc" test "$(readlink -f "$bundle/Info.plist")" = $plist
check "Info.plist names the driver" grep -q '<string>libifdopenloop.so</string>' $plist
check "reader.conf link serial/libifdopenloop.so points into the bundle" \
	test "$(readlink -f "$drop/serial/libifdopenloop.so")" = "$bundle/Linux/libifdopenloop.so"
# issue 12: the package claims no USB ID (the test ID is shared by many
# FIDO boards), so it ships no udev rule either
ids=$(plist_ids $plist)
check "Info.plist claims no USB ID (three empty lists)" sh -c \
	"grep -q '<key>ifdVendorID</key>' $plist && grep -q '<key>ifdProductID</key>' $plist &&
	 grep -q '<key>ifdFriendlyName</key>' $plist && test -z '$ids'"
check "the package ships no udev rule" sh -c "! dpkg -L libifd-openloop | grep -q '/rules.d/'"
check "no udev rule on the system matches an Openloop USB ID" test -z "$(rules_matching_ids)"
check "openloop-hid: no USB ID claimed" sh -c \
	"/usr/bin/openloop-hid list 2>&1 | grep -q 'No USB ID is claimed'"
check "no AppStream modalias (it would offer the package for every test-ID board)" \
	sh -c "! dpkg -L libifd-openloop | grep -q metainfo"
check "openloop-usb-ids in /usr/sbin with its man page" \
	test -x /usr/sbin/openloop-usb-ids -a -f /usr/share/man/man8/openloop-usb-ids.8.gz
check "openloop-usb-ids list: nothing claimed" sh -c \
	"/usr/sbin/openloop-usb-ids list 2>&1 | grep -q 'claims no USB ID'"
check "system group pcscd exists" getent group pcscd
check "openloop-hid, openloop-sim in /usr/bin" test -x /usr/bin/openloop-hid -a -x /usr/bin/openloop-sim
check "man pages" test -f /usr/share/man/man1/openloop-hid.1.gz -a -f /usr/share/man/man1/openloop-sim.1.gz
check "OpenSC PIN-mode settings" test -f /usr/share/ifd-openloop/opensc-pin-mode.conf
check "openloop-sim --help runs" /usr/bin/openloop-sim --help
check "openloop-hid --help runs" /usr/bin/openloop-hid --help
# a second configure must work too (pcscd, udevd absent or running)
check "configure again (dpkg -i over the installed packages)" sh -c \
	"DEBIAN_FRONTEND=noninteractive dpkg --force-confold -i $(echo "$debs" | tr '\n' ' ')"

# pcscd reads every bundle's Info.plist when it starts, for USB hotplug:
# a private pcscd (own mount namespace, /run/pcscd on a tmpfs) must read
# ours (empty lists) without a complaint.  Lists of unequal length make
# pcscd 1.9.9 log "Error parsing" and give up USB hotplug for every
# driver: fed such a copy (bind-mounted over the conffile), the same probe
# must see that, so it is known to look at the right thing.
# pcscd_reads PLIST LOG: runs pcscd -f -d for 3 s with PLIST as ours
pcscd_reads() {
	mkdir -p /run/pcscd "$work/rc.d"
	unshare -m --propagation private sh -c '
		mount --bind "$1" /etc/ifd-openloop_Info.plist &&
		mount -t tmpfs tmpfs /run/pcscd &&
		timeout 3 pcscd -f -d -c "$2"' _ "$1" "$work/rc.d" >"$2" 2>&1
	true
}
if command -v pcscd >/dev/null && command -v unshare >/dev/null; then
	cp $plist "$work/empty.plist"
	pcscd_reads "$work/empty.plist" "$work/pcscd-empty.log"
	check "pcscd reads the Info.plist with empty lists without a complaint" sh -c \
		"grep -q 'pcscdaemon' '$work/pcscd-empty.log' && ! grep -Eq 'HPReadBundleValues|not defined|ifd-openloop.bundle' '$work/pcscd-empty.log'"
	awk '/<key>ifdVendorID<\/key>/ { print; getline; print; print "\t\t<string>0x1209</string>"; next } { print }' \
		$plist >"$work/uneven.plist"
	pcscd_reads "$work/uneven.plist" "$work/pcscd-uneven.log"
	check "(control) the same probe sees pcscd refuse lists of unequal length" \
		grep -q 'HPReadBundleValues() Error parsing .*ifd-openloop.bundle' "$work/pcscd-uneven.log"
else
	notok "pcscd or unshare missing: cannot check that pcscd reads the Info.plist"
fi

# --- the integration test with the package as installed: no USB ID, the
# simulator through reader.conf (no ID needed there)
if top_builddir=$src top_srcdir=$src \
	OL_INSTALLED_DRIVER=$drop/serial/libifdopenloop.so OL_INSTALLED_SIM=/usr/bin/openloop-sim \
	sh "$src/tests/integration/run-all.sh" basic >"$work/it0.log" 2>&1; then
	ok "integration test (basic) against the installed driver, no USB ID claimed"
else
	notok "integration test (basic), no USB ID claimed:"; sed 's/^/    # /' "$work/it0.log"
fi

# --- openloop-usb-ids add: Info.plist and udev rule in one step
usbids=/usr/sbin/openloop-usb-ids
check "openloop-usb-ids add 1209:0001" $usbids add 1209:0001
check "Info.plist claims 1209:0001 and nothing else" test "$(plist_ids $plist)" = 1209:0001
check "Info.plist: 0x1209, 0x0001, Openloop, one line each" sh -c \
	"grep -qx '		<string>0x1209</string>' $plist && grep -qx '		<string>0x0001</string>' $plist &&
	 grep -qx '		<string>Openloop</string>' $plist"
check "the bundle still links to the conffile" test "$(readlink -f "$bundle/Info.plist")" = $plist
shipped_md5=$(dpkg-query -W -f='${Conffiles}\n' libifd-openloop | awk -v f=$plist '$1 == f { print $2 }')
check "dpkg sees the conffile changed (kept on upgrades)" test "$shipped_md5" != "$(md5sum <$plist | cut -d' ' -f1)"
check "udev rule written: $user_rules" test -f "$user_rules"
if out=$(OL_CHECK_RULES=$user_rules OL_CHECK_PLIST=$plist sh "$src/tests/unit/check-udev-rules.sh" 2>&1); then
	ok "udev rule: hidraw + FIDO only, GROUP pcscd, MODE 0660, uaccess, the Info.plist's IDs ($(echo "$out" | grep -c '^ok') checks)"
else
	notok "udev rule:"; printf '%s\n' "$out" | grep -v '^ok' | sed 's/^/    # /'
fi
check "openloop-usb-ids add 1209:0001 again changes nothing" sh -c \
	"cp $plist '$work/p1' && cp $user_rules '$work/r1' && $usbids add 1209:0001 >/dev/null 2>&1 &&
	 cmp -s $plist '$work/p1' && cmp -s $user_rules '$work/r1'"
check "openloop-usb-ids list shows 1209:0001 with its rule" sh -c \
	"$usbids list | grep -q '^1209:0001	Openloop	udev rule in $user_rules'"
check "openloop-hid claims the added ID" sh -c \
	"/usr/bin/openloop-hid list 2>&1 | grep -q \"should list 1209:0001\""
if [ -d /run/udev ] && command -v udevadm >/dev/null; then
	check "udevadm: the rule loads" udevadm control --reload
fi

# --- the basic integration test against the installed driver, with the
# ID added: lib.sh loads OL_INSTALLED_DRIVER (the reader.conf link, as a
# user's reader.conf does) and the installed openloop-sim; pcsc-probe
# comes from the package build.
if top_builddir=$src top_srcdir=$src \
	OL_INSTALLED_DRIVER=$drop/serial/libifdopenloop.so OL_INSTALLED_SIM=/usr/bin/openloop-sim \
	sh "$src/tests/integration/run-all.sh" basic >"$work/it.log" 2>&1; then
	ok "integration test (basic) against the installed driver, 1209:0001 added"
	grep -E '^# ' "$work/it.log" | sed 's/^/    /'
else
	notok "integration test (basic) against the installed driver:"; sed 's/^/    # /' "$work/it.log"
fi
cp $plist "$work/with-id.plist"
pcscd_reads "$work/with-id.plist" "$work/pcscd-id.log"
check "pcscd reads the Info.plist with the added ID without a complaint" sh -c \
	"grep -q 'pcscdaemon' '$work/pcscd-id.log' && ! grep -Eq 'HPReadBundleValues|not defined|ifd-openloop.bundle' '$work/pcscd-id.log'"

# --- openloop-usb-ids remove: back to nothing claimed, no rule
check "openloop-usb-ids remove 1209:0001" $usbids remove 1209:0001
check "Info.plist claims nothing again" test -z "$(plist_ids $plist)"
check "udev rule gone with the last ID" test ! -e "$user_rules"
check "openloop-usb-ids remove 1209:0001 again: nothing to do, exit 0" $usbids remove 1209:0001
check "openloop-usb-ids refuses a bad ID (exit 1)" sh -c "$usbids add 1209:001 >/dev/null 2>&1; test \$? -eq 1"

# Purge removes a rule openloop-usb-ids wrote (it grants access for IDs
# the purged conffile listed): add one again to see that.
check "openloop-usb-ids add 1209:0001 (before the purge)" $usbids add 1209:0001

# --- purge: the packages go, the group stays (it may own files)
# shellcheck disable=SC2086
if DEBIAN_FRONTEND=noninteractive apt-get purge -y -q $installed >"$work/purge.log" 2>&1; then
	installed=""
	ok "apt-get purge"
	check "nothing left in the bundle directory" test ! -e "$drop/ifd-openloop.bundle"
	check "conffile gone after purge" test ! -e /etc/ifd-openloop_Info.plist
	check "the udev rule openloop-usb-ids wrote is gone" test ! -e "$user_rules"
	check "no udev rule on the system matches an Openloop USB ID" test -z "$(rules_matching_ids)"
else
	notok "apt-get purge:"; tail -20 "$work/purge.log" | sed 's/^/    # /'
fi

[ "$fail" -eq 0 ] && echo "# packages: all checks passed" || echo "# packages: FAILED"
exit $fail
