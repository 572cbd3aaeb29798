#!/bin/sh
# Builds the fuzz targets with clang's libFuzzer, ASan and UBSan, for real
# coverage-guided fuzzing (make check only replays corpora and mutations).
#
#   tests/fuzz/build-libfuzzer.sh [OUTDIR]      (needs clang, libclang-rt-dev)
#   OUTDIR/fuzz_plist -max_total_time=60 tests/fuzz/corpus/plist
#
# Run from the source tree after ./configure has made a config.h somewhere;
# CONFIG_H points at it (default: build/config.h).
set -eu
src=$(cd "$(dirname "$0")/../.." && pwd)
out=${1:-$src/build-fuzz}
config_h=${CONFIG_H:-$src/build/config.h}
[ -f "$config_h" ] || { echo "no $config_h: run ./scripts/setup.sh or set CONFIG_H" >&2; exit 1; }
command -v clang >/dev/null || { echo "clang is missing: apt-get install clang libclang-rt-14-dev" >&2; exit 1; }
mkdir -p "$out"

cflags="-g -O1 -fsanitize=fuzzer,address,undefined -include $config_h
	-I$src/src/common -I$src/src/transport -I$src/src/driver -I$src/src/sim
	$(pkg-config --cflags libpcsclite)"
transport="$src/src/transport/ol_err.c $src/src/transport/ol_log.c
	$src/src/transport/ctaphid.c $src/src/transport/ctaphid_msg.c
	$src/src/transport/hid_dev.c
	$src/src/transport/ctaphid_host.c $src/src/transport/timeutil.c
	$src/src/transport/apdu_log.c $src/src/transport/hexutil.c
	$src/src/transport/printable.c
	$src/src/common/sysfs.c $src/src/common/usb_ids.c"
driver="$src/src/driver/devname.c $src/src/driver/atr.c
	$src/src/driver/plist.c $src/src/driver/part10.c $src/src/driver/pinpad.c
	$src/src/driver/hid_descriptor.c"
sim="$src/src/sim/sim_ctaphid.c $src/src/sim/sim_card.c $src/src/sim/tlv.c
	$src/src/sim/piv_applet.c $src/src/sim/piv_crypto.c $src/src/sim/piv_state.c
	$src/src/sim/sim_fido.c $src/src/sim/sim_fault.c"

build() { # name sources... [libs]
	name=$1; shift
	echo "  CC $out/$name"
	# shellcheck disable=SC2086
	clang $cflags -o "$out/$name" "$src/tests/fuzz/$name.c" "$@" -lpthread
}
build fuzz_devname $driver $transport
build fuzz_plist $driver $transport
build fuzz_atr_apdu_log $driver $transport
build fuzz_pinpad $driver $transport
build fuzz_hid_descriptor $driver $transport
build fuzz_sysfs $transport
build fuzz_ctaphid_host $transport
build fuzz_ctaphid_assembler $transport
build fuzz_sim_card $sim $transport -lcrypto
build fuzz_sim_ctaphid $sim $transport -lcrypto
build fuzz_piv_applet $sim $transport -lcrypto
build fuzz_piv_state $src/src/sim/piv_state.c $transport
echo "built in $out; run e.g.: $out/fuzz_sim_card -max_total_time=60 $src/tests/fuzz/corpus/sim_card"
