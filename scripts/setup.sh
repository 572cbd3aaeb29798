#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Installs what ifd-openloop needs on Debian 12 and builds it in ./build.
# Used by demo.sh and test.sh; safe to run again.
#   --tests  also what every test needs: the real browsers, git, python3
#            and the full-system test in a QEMU guest (make check-vm;
#            tests/vm/README.md).  --vm is the same.
set -eu
cd "$(dirname "$0")/.."

DEPS="build-essential autoconf automake libtool pkg-config
      libpcsclite-dev libssl-dev libcbor-dev libfido2-dev libcmocka-dev libusb-1.0-0-dev libudev-dev udev
      pcscd pcsc-tools opensc util-linux
      yubico-piv-tool openssl openssh-client openssh-server
      libnss3-tools gnutls-bin
      dpkg-dev debhelper lintian libccid"
# git: commit signing through ssh-agent; python3: the tests' HTTPS server
# and Marionette client; the browsers, Xvfb and xdotool: the real
# Firefox ESR and Chromium client-certificate logins; umockdev: openloop-hid's
# libusb walk on faked USB devices (check-hid-list-usb.sh); clang and its
# runtimes: coverage-guided fuzzing with libFuzzer (./configure CC=clang
# --enable-fuzzing; docs/testing.md); vsmartcard-vpcd: the peer make
# bench compares with (docs/performance.md; the benchmark's private pcscd
# loads it on a port of its own)
TEST_DEPS="git python3 firefox-esr chromium xvfb xdotool umockdev
      clang libclang-rt-14-dev vsmartcard-vpcd"
# the guest of tests/vm runs the host's own binaries: fido2-tools, acl,
# OpenSSH (its FIDO keys and the PIV key log in to a sshd in the guest),
# iproute2 (lo brought up) and procps (pgrep) are used in the guest,
# python3-cryptography verifies the WebAuthn signatures of its browser
# stage (firefox-esr is in TEST_DEPS), the rest builds and boots it
VM_DEPS="qemu-system-x86 busybox-static cpio kmod acl fido2-tools
      openssh-client openssh-server iproute2 procps python3-cryptography"
case "${1:-}" in --tests|--vm) DEPS="$DEPS $TEST_DEPS $VM_DEPS" ;; esac

if [ "$(id -u)" -ne 0 ]; then
	echo "run this as root (it installs Debian packages and starts a private pcscd)" >&2
	exit 1
fi
missing=$(for p in $DEPS; do dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q 'install ok installed' || echo "$p"; done)
if [ -n "$missing" ]; then
	echo "== installing:" $missing
	export DEBIAN_FRONTEND=noninteractive
	apt-get install -y -q --no-install-recommends $missing >/dev/null 2>&1 ||
		{ apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends $missing; }
fi

echo "== building in ./build"
[ -x configure ] && [ configure -nt configure.ac ] || autoreconf -fi >/dev/null
mkdir -p build
cd build
[ -f Makefile ] || ../configure --enable-werror ${OL_CONFIGURE_FLAGS:-} >/dev/null
make -j"$(nproc)" >/dev/null
echo "== built: build/openloop-sim, build/.libs/libifdopenloop.so, build/Info.plist"
