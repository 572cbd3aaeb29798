#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The first end-to-end slice: pcscd loads the driver from reader.conf.d,
# the driver reaches openloop-sim over its socket, and stock PC/SC tools see
# a reader with a card whose APDUs reach the device.
. "$top_srcdir/tests/integration/lib.sh"
ol_setup
trap ol_cleanup EXIT

ATR="3B 8E 81 31 FE 45 80 58 4F 70 65 6E 6C 6F 6F 70 73 80 00 C0 46"
atr_colon=$(echo "$ATR" | tr 'A-F ' 'a-f:')
PROBE="$top_builddir/tests/integration/pcsc-probe"

ol_start_sim --serial OLTEST00042 --verbose || exit 1
ol_start_pcscd "Openloop Virtual" || exit 1

check_grep "opensc-tool -l lists the reader with a card" \
	'Openloop Virtual.*|Yes.*Openloop Virtual' opensc-tool -l
echo "$OUT" | sed 's/^/    | /'
check_grep "opensc-tool -a prints the synthesized ATR" "$atr_colon" \
	opensc-tool -r 0 -a
echo "$OUT" | sed 's/^/    | /'

# A short APDU: GET CHALLENGE of 8 bytes.
check_grep "short APDU round trip (GET CHALLENGE, 8 bytes)" \
	'Received \(SW1=0x90, SW2=0x00\)' opensc-tool -r 0 -s '00 84 00 00 08'
echo "$OUT" | sed 's/^/    | /'

# 256 bytes + SW = 258: the reply needs an init and four continuation packets.
check_grep "APDU whose response spans continuation packets (256 bytes)" \
	'Received \(SW1=0x90, SW2=0x00\)' opensc-tool -r 0 -s '00 84 00 00 00'
bytes=$(printf '%s\n' "$OUT" | sed -n '/^Received/,$p' | tail -n +2 | cut -c1-48 | tr -s ' ' '\n' | grep -c '^[0-9A-F][0-9A-F]$')
check "256-byte response arrives whole (counted $bytes bytes)" test "$bytes" -eq 256

# Other drivers' probes for applets the device lacks (here OpenPGP) get 6A82.
check_grep "SELECT of an absent applet (OpenPGP) answers 6A82" 'SW1=0x6A, SW2=0x82' \
	opensc-tool -r 0 -s '00 A4 04 00 06 D2 76 00 01 24 01'

# Plain PC/SC client: attributes, features, extended APDUs.
check_grep "reader attributes: vendor and serial" 'serial: OLTEST00042' "$PROBE" "Openloop Virtual" attrs
echo "$OUT" | sed 's/^/    | /'
check_grep "ATR attribute matches" "atr: $ATR" "$PROBE" "Openloop Virtual" attrs
check_grep "FEATURE_GET_TLV_PROPERTIES offered" 'feature: 0x12 ioctl' "$PROBE" "Openloop Virtual" features
check_grep "dwMaxAPDUDataSize announces extended APDUs (7600)" 'property 10: 7600' "$PROBE" "Openloop Virtual" features
echo "$OUT" | sed 's/^/    | /'
check_grep "extended APDU: 4096-byte GET CHALLENGE" 'response-length: 4098' \
	"$PROBE" "Openloop Virtual" apdu '00 84 00 00 00 10 00'
check_grep "extended APDU: largest response that fits a CTAPHID message (7607+2)" \
	'response-length: 7609' "$PROBE" "Openloop Virtual" apdu '00 84 00 00 00 1D B7'

# pcsc_scan decodes the ATR without complaint.
check_grep "pcsc_scan sees the reader and the card" 'Card inserted' pcsc_scan -t 3
scan=$OUT
echo "$scan" | grep -E 'Reader [0-9]|Card state|ATR:|Openloop|historical|Category|Tag:' | head -20 | sed 's/^/    | /'
check_grep "pcsc_scan's ATR analysis accepts the TCK" 'TCK = 46 \(correct checksum\)' printf '%s\n' "$scan"
check "pcsc_scan's ATR analysis reports no error or warning" \
	sh -c '! printf "%s\n" "$1" | grep -Eq "ERROR|WARNING|[Ww]rong|not correct|[Mm]issing"' _ "$scan"

# No PIN in any log: a VERIFY with PIN 123456 goes through pcscd while the
# driver logs APDUs (ifdLogLevel 0x7) and the simulator logs every packet.
check_grep "VERIFY reaches the device" 'Received \(SW1=' opensc-tool -r 0 -s '00 20 00 80 08 31 32 33 34 35 36 FF FF'
check_grep "the driver logs the VERIFY with its data hidden" 'C: 00 20 00 80 08 <8 bytes hidden>' cat "$OL_W/pcscd.log"
grep '() C: 00 20' "$OL_W/pcscd.log" | sed 's/^/    | /'
check_grep "the simulator logs it hidden too" '00 20 00 80 08 <8 bytes hidden>' cat "$OL_SOCK.log"
check "no PIN bytes in pcscd's or the simulator's log" \
	sh -c "! grep -Eiq '31 ?32 ?33 ?34 ?35 ?36' '$OL_W/pcscd.log' '$OL_SOCK.log'"

# Loaded through drivers/serial/ as installed: pcscd has nothing to warn
# about, and the driver still found its Info.plist (log level 0x7 from the
# environment, touch limit from Info.plist).
check "pcscd does not warn about the reader.conf LIBPATH" sh -c "! grep -q 'SHOULD NOT' '$OL_W/pcscd.log'"
check_grep "the driver read its Info.plist through the link" 'ifd-openloop 0.1.0, log level 0x7, touch limit 60 s' cat "$OL_W/pcscd.log"

# The driver logs through pcscd's logger.
check_grep "driver logs through pcscd" 'ifd-openloop: .*reader on unix:' cat "$OL_W/pcscd.log"

# Tear-down leaves no process behind and removes the socket.
sim_pid=$OL_SIM_PID; pcscd_pid=$OL_PCSCD_PID
ol_stop_all
check "no process left after tear-down" sh -c "! kill -0 $sim_pid 2>/dev/null && ! kill -0 $pcscd_pid 2>/dev/null"
check "simulator removed its socket, lock and serial files" sh -c "[ ! -e '$OL_SOCK' ] && [ ! -e '$OL_SOCK.lock' ] && [ ! -e '$OL_SOCK.serial' ]"
ol_summary
