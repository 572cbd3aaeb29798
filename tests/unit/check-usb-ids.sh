#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# openloop-usb-ids on a private Info.plist and rules directory: what add,
# remove and list do to the two files, that the Info.plist stays in the
# form render-plist writes for the build (so pcscd reads it), idempotence, strict
# input checking and the exit statuses man/openloop-usb-ids.8 documents.
# The rule's shape is checked by check-udev-rules.sh.
# (automake test: exit 0 pass, 1 fail)
set -u
: "${top_builddir:?}"
: "${top_srcdir:?}"

tool=$top_builddir/openloop-usb-ids
tmpl=$top_srcdir/Info.plist.in
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail=0
ok() { echo "ok - $*"; }
notok() { echo "not ok - $*"; fail=1; }

[ -x "$tool" ] || { echo "not ok - $tool missing (make builds it)"; exit 1; }

plist=$work/etc/ifd-openloop_Info.plist
rdir=$work/rules.d
rules=$rdir/70-openloop.rules
mkdir -p "$work/etc" "$work/bundle/Contents" "$rdir"
# as the package lays it out: the bundle's Info.plist links to /etc
"$tool" render-plist "$tmpl" none 0.0 libifdopenloop.so >"$plist"
ln -s "$plist" "$work/bundle/Contents/Info.plist"

# run EXPECTED-STATUS NAME ARGS...: the tool on the link, output kept
run() {
	want=$1 name=$2; shift 2
	"$tool" --plist "$work/bundle/Contents/Info.plist" --udev-dir "$rdir" --no-reload "$@" >"$work/out" 2>&1
	rc=$?
	if [ "$rc" -eq "$want" ]; then
		ok "$name (exit $rc)"
	else
		notok "$name: exit $rc, want $want"; sed 's/^/    # /' "$work/out"
	fi
}
same_as_gen() { # IDS
	"$tool" render-plist "$tmpl" "$1" 0.0 libifdopenloop.so | cmp -s - "$plist"
}

run 0 "list on an Info.plist that claims nothing" list
grep -q 'claims no USB ID' "$work/out" && ok "list says no ID is claimed" || notok "list output: $(cat "$work/out")"
[ ! -e "$rules" ] && ok "no rule while nothing is claimed" || notok "a rule while nothing is claimed"

run 0 "add 1209:0001" add 1209:0001
same_as_gen 1209:0001 && ok "Info.plist as the build writes it for 1209:0001" ||
	{ notok "Info.plist after add:"; "$tool" render-plist "$tmpl" 1209:0001 0.0 libifdopenloop.so | diff - "$plist" | sed 's/^/    # /'; }
[ -L "$work/bundle/Contents/Info.plist" ] && ok "the bundle's link is kept, the file behind it changed" || notok "the link was replaced"
grep -q 'ATTRS{idVendor}=="1209", ATTRS{idProduct}=="0001", GROUP="pcscd", MODE="0660", TAG+="uaccess"' "$rules" &&
	ok "rule for 1209:0001 written" || notok "no rule for 1209:0001"
grep -q 'restart pcscd' "$work/out" && ok "says to restart pcscd" || notok "does not say to restart pcscd"

cp "$plist" "$work/before"; cp "$rules" "$work/before.rules"
run 0 "add 1209:0001 again" add 1209:0001
cmp -s "$plist" "$work/before" && cmp -s "$rules" "$work/before.rules" &&
	ok "adding it again changes nothing (no duplicate)" || notok "adding it again changed a file"
run 0 "add 1209:0001 in upper case and with another name" add 1209:0001 --name Other
cmp -s "$plist" "$work/before" && ok "still one entry" || notok "a second entry for the same ID"

run 0 "add 20A0:42B2" add 20A0:42B2
same_as_gen 1209:0001,20a0:42b2 && ok "Info.plist as the build writes it for two IDs" || notok "Info.plist after the second add"
run 0 "list" list
[ "$(cut -f1,2 "$work/out")" = "$(printf '1209:0001\tOpenloop\n20a0:42b2\tOpenloop')" ] &&
	ok "list prints both IDs with their names" || notok "list: $(cat "$work/out")"
grep -c 'udev rule in' "$work/out" | grep -qx 2 && ok "list sees both udev rules" || notok "list: rules"

run 0 "add with --name" add 16d0:0e90 --name "Openloop (lab)"
grep -q '<string>Openloop (lab)</string>' "$plist" && ok "the name is in ifdFriendlyName" || notok "name missing"

run 0 "remove 20a0:42b2" remove 20a0:42b2
! grep -qi '42b2' "$plist" "$rules" && ok "20a0:42b2 gone from Info.plist and rule" || notok "20a0:42b2 still there"
run 0 "remove 20a0:42b2 again (nothing to do)" remove 20a0:42b2
grep -q 'not claimed' "$work/out" && ok "says it is not claimed" || notok "remove again: $(cat "$work/out")"
run 0 "remove 16d0:0e90" remove 16d0:0e90
same_as_gen 1209:0001 && ok "back to the one-ID Info.plist" || notok "Info.plist after removes"
run 0 "remove 1209:0001" remove 1209:0001
same_as_gen none && ok "back to the Info.plist that claims nothing" || notok "Info.plist not back to none"
[ ! -e "$rules" ] && ok "no rule file left once no ID is claimed" || notok "rule file left with no ID"

# --- a source install: `make install` put a rule of the same name in
# /lib/udev/rules.d for configure's IDs.  The rule in /etc replaces it; with
# the last ID removed it must still hide it, so it stays, matching nothing.
mkdir -p "$work/lib-rules"
echo '# make install' >"$work/lib-rules/70-openloop.rules"
export OPENLOOP_USB_IDS_SYSTEM_RULE_DIRS="$work/lib-rules"
run 0 "add 1209:0001 beside a system rule" add 1209:0001
run 0 "remove 1209:0001 beside a system rule" remove 1209:0001
[ -f "$rules" ] && ! grep -q 'ATTRS{idVendor}' "$rules" && grep -q '^LABEL="openloop_end"' "$rules" &&
	ok "with no ID left the rule stays, matching nothing, to hide the system rule" ||
	notok "rule beside a system rule: $(cat "$rules" 2>&1)"
unset OPENLOOP_USB_IDS_SYSTEM_RULE_DIRS
# the system rule gone (make uninstall): the next run tidies up
run 0 "remove again without the system rule" remove 1209:0001
[ ! -e "$rules" ] && ok "... deletes the rule that hid nothing any more" || notok "rule left: $(cat "$work/out")"

# --- strict input: exit 1, nothing written
cp "$plist" "$work/before"
for bad in 1209 1209:1 12090:0001 1209:00001 120g:0001 1209-0001 ' 1209:0001' 0000:0001 '1209:0001,20a0:42b2'; do
	run 1 "refuses '$bad'" add "$bad"
done
run 1 "refuses a name with XML in it" add 1209:0001 --name 'a<b>'
run 1 "refuses an unknown command" frobnicate 1209:0001
run 1 "refuses add without an ID" add
run 1 "refuses --name with remove" remove 1209:0001 --name x
cmp -s "$plist" "$work/before" && [ ! -e "$rules" ] && ok "nothing written by refused calls" || notok "a refused call wrote"

# --- Info.plists it must not touch: exit 2, left as they were
sed '/<key>ifdFriendlyName<\/key>/,/<\/array>/d' "$plist" >"$work/bundle/nolist.plist"
"$tool" --plist "$work/bundle/nolist.plist" --udev-dir "$rdir" --no-reload add 1209:0001 >/dev/null 2>&1
[ $? -eq 2 ] && ok "exit 2 for an Info.plist without ifdFriendlyName" || notok "no ifdFriendlyName accepted"
"$tool" render-plist "$tmpl" 1209:0001 0.0 libifdopenloop.so | sed '0,/<string>Openloop<\/string>/{/<string>Openloop<\/string>/d}' >"$work/bundle/uneven.plist"
cp "$work/bundle/uneven.plist" "$work/uneven.before"
"$tool" --plist "$work/bundle/uneven.plist" --udev-dir "$rdir" --no-reload add 20a0:42b2 >/dev/null 2>&1
[ $? -eq 2 ] && cmp -s "$work/bundle/uneven.plist" "$work/uneven.before" &&
	ok "exit 2 and file untouched for lists of unequal length" || notok "unequal lists accepted"
"$tool" --plist "$work/none.plist" list >/dev/null 2>&1
[ $? -eq 2 ] && ok "exit 2 for a missing Info.plist" || notok "missing Info.plist"

# --- a rules file it did not write stays: exit 4
echo "# the admin's own" >"$rules"
"$tool" --plist "$plist" --udev-dir "$rdir" --no-reload add 1209:0001 >/dev/null 2>&1
[ $? -eq 4 ] && grep -qx "# the admin's own" "$rules" && same_as_gen none &&
	ok "exit 4 and nothing changed when a foreign $rules is in the way" || notok "foreign rules file"
rm -f "$rules"

# --- cannot write: exit 3 (only meaningful when not root)
if [ "$(id -u)" -ne 0 ]; then
	chmod 555 "$work/etc"
	"$tool" --plist "$plist" --udev-dir "$rdir" --no-reload add 1209:0001 >/dev/null 2>&1
	[ $? -eq 3 ] && same_as_gen none && ok "exit 3 when the Info.plist's directory is not writable" || notok "unwritable directory"
	chmod 755 "$work/etc"
else
	echo "ok - exit 3 for an unwritable directory # SKIP as root"
fi

# --- the build's modes: configure checks --with-usb-ids with check-ids,
# make renders Info.plist and the rule with the code add uses
for bad in '' none, 1209:0001, ,1209:0001 0000:0001 1209:0001,1209:0001 \
    1209:0001,1209:0001 '1209:0001, 20a0:42b2' 1209 120g:0001 yes; do
	"$tool" check-ids "$bad" >/dev/null 2>&1
	[ $? -eq 1 ] && ok "check-ids refuses '$bad'" || notok "check-ids accepted '$bad'"
done
[ "$("$tool" check-ids 1209:0001,20A0:42B2)" = 1209:0001,20a0:42b2 ] &&
	[ "$("$tool" check-ids none)" = none ] &&
	ok "check-ids prints the list lower case, none as none" || notok "check-ids output"
"$tool" render-rules none >/dev/null 2>&1
[ $? -eq 1 ] && ok "render-rules: no rule for none" || notok "render-rules none"
"$tool" render-plist "$tmpl" 1209:0001 '0.0</string>' libifdopenloop.so >/dev/null 2>&1
[ $? -eq 1 ] && ok "render-plist refuses XML in VERSION" || notok "render-plist took XML"
"$tool" --plist "$work/bundle/Contents/Info.plist" --udev-dir "$rdir" --no-reload add 1209:0001 >/dev/null 2>&1
"$tool" render-rules 1209:0001 | sed -n '/^ACTION==/,$p' >"$work/built.body"
sed -n '/^ACTION==/,$p' "$rules" | cmp -s - "$work/built.body" && [ -s "$work/built.body" ] &&
	ok "the build's rule and the tool's differ only in their header" ||
	{ notok "rule bodies differ:"; sed -n '/^ACTION==/,$p' "$rules" | diff - "$work/built.body" | sed 's/^/    # /'; }
head -n 1 "$rules" | grep -q '^# Generated by openloop-usb-ids' &&
	! "$tool" render-rules 1209:0001 | head -n 1 | grep -q '^# Generated by openloop-usb-ids' &&
	ok "only the tool's rule carries the mark postrm deletes by" || notok "marks"
"$tool" --plist "$work/bundle/Contents/Info.plist" --udev-dir "$rdir" --no-reload remove 1209:0001 >/dev/null 2>&1

exit $fail
