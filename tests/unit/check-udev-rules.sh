#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# The udev rules: the one the build generated (udev/70-openloop.rules), and
# the one openloop-usb-ids writes when an admin adds an ID.  Each must be
# well formed, with one rule per claimed USB ID (the same IDs as the
# Info.plist beside it), each giving the hidraw node to group pcscd and
# the seat user (uaccess) and to nobody else.  Then the checker is run on
# broken copies, each of which it must reject, so a checker that passes
# everything fails here.  Where udevadm has `verify` (systemd 254 and
# later; Debian 12 has 252) it checks the syntax too.  A build with
# --with-usb-ids=none (the Debian package) claims nothing and builds no
# rule.  (automake test: exit 0 pass, 1 fail)
#
# OL_CHECK_RULES=FILE OL_CHECK_PLIST=FILE check-udev-rules.sh checks only
# that pair (scripts/test-packages.sh: the installed conffile and the rule
# openloop-usb-ids wrote).
set -u
if [ -z "${OL_CHECK_RULES:-}" ]; then
	: "${top_builddir:?}"
	: "${top_srcdir:?}"
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail=0

ok() { echo "ok - $*"; }
notok() { echo "not ok - $*"; fail=1; }

# The IDs the bundle claims, as "vvvv:pppp" lines, from Info.plist's
# parallel ifdVendorID / ifdProductID arrays.
plist_ids() {
	awk '
	/<key>ifdVendorID<\/key>/ { list = "v"; next }
	/<key>ifdProductID<\/key>/ { list = "p"; next }
	/<\/array>/ { list = ""; next }
	list != "" && /<string>/ {
		s = $0; sub(/.*<string>0[xX]/, "", s); sub(/<\/string>.*/, "", s)
		if (list == "v") v[++nv] = tolower(s); else p[++np] = tolower(s)
	}
	END { for (i = 1; i <= nv; i++) print v[i] ":" p[i] }
	' "$1" | sort
}

# check_rules FILE IDS_FILE: prints one line per problem, exits 1 if any
# (awk itself failing exits 2, which the mutations below do not accept).
# A rule line is KEY[{ATTR}]OP"VALUE" items separated by ", ".
check_rules() {
	awk -v idsfile="$2" '
	function problem(msg) { printf "line %d: %s: %s\n", NR, msg, $0; bad = 1 }
	BEGIN {
		while ((getline l < idsfile) > 0) want[l] = 1
	}
	/^[ \t]*(#|$)/ { next }
	# the gates that keep every rule below on hidraw nodes of FIDO interfaces
	/^SUBSYSTEM!="hidraw", GOTO="openloop_end"$/ { hidraw_gate = 1 }
	/^ENV\{ID_FIDO_TOKEN\}!="1", GOTO="openloop_end"$/ { fido_gate = 1 }
	/^ACTION=="remove", GOTO="openloop_end"$/ { remove_gate = 1 }
	{
		line = $0
		delete kv
		n = 0
		while (line != "") {
			if (!match(line, /^[A-Z_]+(\{[A-Za-z0-9_]+\})?(==|!=|\+=|-=|:=|=)"[^"]*"/)) {
				problem("malformed item at \"" line "\"")
				next
			}
			item = substr(line, 1, RLENGTH)
			line = substr(line, RLENGTH + 1)
			match(item, /(==|!=|\+=|-=|:=|=)"/)
			key = substr(item, 1, RSTART - 1)
			op = substr(item, RSTART, RLENGTH - 1)
			val = substr(item, RSTART + RLENGTH, length(item) - RSTART - RLENGTH)
			kv[key op] = val
			n++
			if (line == "") break
			if (substr(line, 1, 2) != ", ") { problem("items must be separated by \", \""); next }
			line = substr(line, 3)
		}
		if ("LABEL=" in kv) { labels[kv["LABEL="]] = 1; next }
		if ("GOTO=" in kv) gotos[kv["GOTO="]] = NR
		if ("MODE=" in kv || "MODE:=" in kv) {
			m = ("MODE=" in kv) ? kv["MODE="] : kv["MODE:="]
			if (m !~ /^0?[0-7][0-7][0-7]$/) problem("MODE must be octal")
			else if (substr(m, length(m), 1) != "0") problem("MODE gives access to others (world bits set)")
		}
		if ("OWNER=" in kv) problem("no OWNER: access goes through the group and uaccess")
		if (!("ATTRS{idVendor}==" in kv)) {
			if ("GROUP=" in kv || "MODE=" in kv || "TAG+=" in kv) problem("permissions without a USB ID match")
			next
		}
		id = kv["ATTRS{idVendor}=="] ":" kv["ATTRS{idProduct}=="]
		if (!(id in want)) problem("USB ID " id " is not one the bundle claims")
		seen[id] = 1
		if (kv["SUBSYSTEMS=="] != "usb") problem("want SUBSYSTEMS==\"usb\"")
		if (kv["GROUP="] != "pcscd") problem("want GROUP=\"pcscd\"")
		if (kv["MODE="] != "0660") problem("want MODE=\"0660\"")
		if (kv["TAG+="] != "uaccess") problem("want TAG+=\"uaccess\"")
		if (!hidraw_gate) problem("device rule before the hidraw-only gate")
		if (!fido_gate) problem("device rule before the FIDO-interface gate")
		rules++
	}
	END {
		for (g in gotos) if (!(g in labels)) { printf "GOTO=\"%s\" (line %d) has no LABEL\n", g, gotos[g]; bad = 1 }
		if (!hidraw_gate) { print "no SUBSYSTEM!=\"hidraw\" gate"; bad = 1 }
		if (!fido_gate) { print "no ENV{ID_FIDO_TOKEN} gate"; bad = 1 }
		if (!remove_gate) { print "no ACTION==\"remove\" gate"; bad = 1 }
		for (id in want) if (!(id in seen)) { print "no rule for claimed USB ID " id; bad = 1 }
		if (rules == 0) { print "no device rule at all"; bad = 1 }
		exit bad
	}
	' "$1"
}

# check_all LABEL RULES PLIST: the checks and the mutations on one file
check_all() {
	label=$1 rules=$2
	plist_ids "$3" >"$work/ids"
	if [ -s "$work/ids" ]; then
		ok "$label: Info.plist claims: $(tr '\n' ' ' <"$work/ids")"
	else
		notok "$label: no USB IDs in $3"
	fi

	if out=$(check_rules "$rules" "$work/ids"); then
		ok "$label: well formed, hidraw + FIDO only, GROUP pcscd, MODE 0660, uaccess, IDs match Info.plist"
	else
		notok "$label:"; echo "$out" | sed 's/^/    # /'
	fi

	# udevadm verify (systemd >= 254) checks what udevd itself would parse
	if command -v udevadm >/dev/null && udevadm verify --help >/dev/null 2>&1; then
		if out=$(udevadm verify --no-summary "$rules" 2>&1); then
			ok "$label: udevadm verify"
		else
			notok "$label: udevadm verify:"; echo "$out" | sed 's/^/    # /'
		fi
	else
		echo "ok - $label: udevadm verify not available (udev < 254): static checks only # SKIP"
	fi

	# The checker must catch each of these.
	mutate "world-writable MODE" 's/MODE="0660"/MODE="0666"/'
	mutate "world-readable MODE" 's/MODE="0660"/MODE="0664"/'
	mutate "no uaccess tag" 's/, TAG+="uaccess"//'
	mutate "another group" 's/GROUP="pcscd"/GROUP="plugdev"/'
	mutate "an unclaimed USB ID" 's/ATTRS{idProduct}=="[0-9a-f]*"/ATTRS{idProduct}=="ffff"/'
	mutate "no hidraw gate" '/^SUBSYSTEM!="hidraw"/d'
	mutate "no FIDO gate" '/^ENV{ID_FIDO_TOKEN}/d'
	mutate "a missing label" 's/^LABEL="openloop_end"/LABEL="elsewhere"/'
	mutate "a malformed item" 's/GROUP="pcscd"/GROUP=pcscd/'
	mutate "a missing comma" 's/", GROUP=/" GROUP=/'
	mutate "an OWNER" 's/GROUP="pcscd"/GROUP="pcscd", OWNER="nobody"/'
	mutate "no device rule" '/ATTRS{idVendor}/d'
}

mutate() { # NAME SED-EXPR (on $rules, $label)
	sed "$2" "$rules" >"$work/bad.rules"
	if cmp -s "$rules" "$work/bad.rules"; then
		notok "$label: mutation '$1' changed nothing (update the test)"
	else
		check_rules "$work/bad.rules" "$work/ids" >"$work/bad.out" 2>&1
		rc=$?
		if [ "$rc" -eq 1 ] && [ -s "$work/bad.out" ]; then
			ok "$label: checker rejects $1: $(head -1 "$work/bad.out")"
		else
			notok "$label: checker accepted rules with $1 (exit $rc)"; sed 's/^/    # /' "$work/bad.out"
		fi
	fi
}

if [ -n "${OL_CHECK_RULES:-}" ]; then
	check_all "$OL_CHECK_RULES" "$OL_CHECK_RULES" "${OL_CHECK_PLIST:?}"
	exit $fail
fi

built_rules=$top_builddir/udev/70-openloop.rules
plist=$top_builddir/Info.plist
tool=$top_builddir/openloop-usb-ids
[ -f "$plist" ] || { echo "not ok - $plist missing (make builds it)"; exit 1; }
[ -x "$tool" ] || { echo "not ok - $tool missing (make builds it)"; exit 1; }

# --- the rule the build made, for the IDs configure was given
plist_ids "$plist" >"$work/built-ids"
if [ -s "$work/built-ids" ]; then
	[ -f "$built_rules" ] || { echo "not ok - $built_rules missing (make builds it)"; exit 1; }
	check_all 70-openloop.rules "$built_rules" "$plist"
else
	ok "the build claims no USB ID (--with-usb-ids=none)"
	if grep -q '^udevrules_DATA = udev/70-openloop.rules' "$top_builddir/Makefile"; then
		notok "a build that claims no ID installs udev/70-openloop.rules"
	else
		ok "a build that claims no ID installs no udev rule"
	fi
fi

# --- the rule openloop-usb-ids writes: from the built Info.plist with its
# lists emptied, two IDs added (one named), one of them removed again
"$tool" render-plist "$top_srcdir/Info.plist.in" none 0.0 libifdopenloop.so >"$work/Info.plist"
mkdir "$work/rules.d"
t() { "$tool" --plist "$work/Info.plist" --udev-dir "$work/rules.d" --no-reload "$@" >>"$work/tool.log" 2>&1; }
if t add 1209:0001 && t add 20A0:42B2 --name "Openloop Pro" && t add 16d0:0e90 && t remove 20a0:42b2; then
	check_all "openloop-usb-ids' rule" "$work/rules.d/70-openloop.rules" "$work/Info.plist"
else
	notok "openloop-usb-ids add/remove:"; sed 's/^/    # /' "$work/tool.log"
fi

exit $fail
