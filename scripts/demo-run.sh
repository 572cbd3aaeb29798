#!/bin/bash
# The demo itself; demo.sh runs it in a private mount namespace.
. "$top_srcdir/tests/integration/lib.sh"
ol_setup
trap ol_cleanup EXIT
say() { printf '\n\033[1m$ %s\033[0m\n' "$*"; "$@"; }

echo "== starting the virtual Openloop device (openloop-sim) and a private pcscd"
ol_start_sim --serial OLDEMO000001 || exit 1
ol_start_pcscd "Openloop Virtual" || exit 1
echo "   reader.conf: $(tr '\n' ' ' < "$OL_W/reader.conf.d/openloop")"

say opensc-tool --list-readers
say opensc-tool --reader 0 --atr
say opensc-tool --reader 0 --send-apdu '00 84 00 00 08'
say opensc-tool --reader 0 --send-apdu '00 A4 04 00 09 A0 00 00 03 08 00 00 10 00 00'
say pcsc_scan -t 2
echo
echo "== the driver's lines in pcscd's log"
grep 'ifd-openloop:' "$OL_W/pcscd.log" | grep -v 'C: \|R: ' | head -8
