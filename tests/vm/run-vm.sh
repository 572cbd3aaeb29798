#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# ifd-openloop full-system test: a real USB device in a QEMU guest.
#
# Boots Debian's own kernel (the package linux-image-amd64 depends on) under
# qemu-system-x86_64 with software emulation.  The guest's root is the HOST's
# root, read-only over 9p, under a tmpfs overlay: the guest runs the host's
# systemd-udevd, pcscd, OpenSC, openssl and the build tree at the same path.
# dummy_hcd and a configfs HID gadget give it a real USB HID device
# (/dev/hidraw0 on the host side, /dev/hidg0 on the gadget side).  The
# guest's tests (tests/vm/guest-test.sh) print TAP lines on the second
# serial port; this script prints them and exits 0 only when every line is
# "ok" and the guest reached the end marker.
#
# Usage: tests/vm/run-vm.sh            (as root; see tests/vm/README.md)
# Environment:
#   top_builddir, top_srcdir   default: build/ and the clone
#   OL_VM_CACHE    kernel cache, outside the clone (/var/cache/ifd-openloop-vm)
#   OL_VM_STAGE    last stage to run in the guest: boot, udev, pcscd, piv, fido, fido2, browser, unplug (all)
#   OL_VM_TIMEOUT  seconds for the whole guest run (default 1080: the run
#                  takes 7 to 9 minutes under TCG on 2 CPUs, Firefox alone
#                  50 s to 3 minutes to start)
#   OL_VM_ACCEL    qemu -accel value (default tcg; kvm where it works)
#   OL_KEEP=1      keep the work directory (logs, initramfs)
# Needs (Debian; scripts/setup.sh --vm installs them): qemu-system-x86
# busybox-static cpio kmod, plus what the guest runs from the host: udev
# pcscd pcsc-tools opensc yubico-piv-tool openssl acl libccid fido2-tools
# firefox-esr python3-cryptography openssh-client openssh-server iproute2
# procps.

set -eu
here=$(cd "$(dirname "$0")" && pwd)
top_srcdir=$(cd "${top_srcdir:-$here/../..}" && pwd)
top_builddir=$(cd "${top_builddir:-$top_srcdir/build}" && pwd)
CACHE=${OL_VM_CACHE:-/var/cache/ifd-openloop-vm}
STAGE=${OL_VM_STAGE:-unplug}
TIMEOUT=${OL_VM_TIMEOUT:-1080}
ACCEL=${OL_VM_ACCEL:-tcg}

die() { echo "run-vm.sh: $*" >&2; exit 1; }
note() { echo "# $*"; }

[ "$(id -u)" = 0 ] || die "run as root (the 9p export of / must read every file)"
for t in qemu-system-x86_64 cpio depmod modprobe dpkg-deb apt-get; do
	command -v "$t" >/dev/null || die "$t missing: apt-get install qemu-system-x86 busybox-static cpio kmod"
done
BUSYBOX=/bin/busybox
[ -x "$BUSYBOX" ] || die "/bin/busybox missing: apt-get install busybox-static"
ldd "$BUSYBOX" >/dev/null 2>&1 && die "/bin/busybox is dynamically linked: apt-get install busybox-static"

# --- 1. the kernel: Debian's, cached outside the clone by package version ---
# linux-image-amd64 is a metapackage; the kernel is its dependency
# linux-image-X.Y.Z-N-amd64.  The cache key is that package's name and version.
kernel_resolve() {
	pkg=$(apt-cache depends linux-image-amd64 2>/dev/null |
		sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*-amd64\)$/\1/p' | head -1)
	ver=
	if [ -n "$pkg" ]; then
		ver=$(apt-cache policy "$pkg" | sed -n 's/^ *Candidate: //p')
	fi
}

kernel_download() { # into the current directory
	apt-get -o APT::Sandbox::User=root download -q "$pkg=$ver" >&2
}

kernel_prepare() {
	local pkg ver dir tmp
	kernel_resolve
	if { [ -z "$pkg" ] || [ -z "$ver" ] || [ "$ver" = "(none)" ]; } &&
		! ls -d "$CACHE"/linux-image-*/.ok >/dev/null 2>&1; then
		note "linux-image-amd64 unresolved and nothing cached: apt-get update"
		apt-get update -q >&2 || true
		kernel_resolve
	fi
	if [ -z "$pkg" ] || [ -z "${ver:-}" ] || [ "$ver" = "(none)" ]; then
		# offline or no package lists: the newest kernel already cached
		dir=$(ls -d "$CACHE"/linux-image-*/ 2>/dev/null | sort -V | tail -1)
		[ -n "$dir" ] && [ -e "$dir/.ok" ] ||
			die "cannot resolve linux-image-amd64 (run apt-get update) and nothing cached in $CACHE"
		KDIR=${dir%/}
	else
		KDIR="$CACHE/${pkg}_$ver"
	fi
	if [ ! -e "$KDIR/.ok" ]; then
		note "fetching $pkg $ver into $KDIR"
		mkdir -p "$CACHE"
		tmp=$(mktemp -d "$CACHE/.dl.XXXXXX")
		if ! (cd "$tmp" && kernel_download); then
			# stale package lists name a kernel the archive no longer has
			note "download failed: apt-get update, then again"
			apt-get update -q >&2 || true
			kernel_resolve
			KDIR="$CACHE/${pkg}_$ver"
			(cd "$tmp" && kernel_download) || die "cannot download $pkg $ver"
		fi
		mkdir -p "$tmp/root"
		dpkg-deb -x "$tmp"/*.deb "$tmp/root"
		rm -f "$tmp"/*.deb
		rm -rf "$KDIR"
		mv "$tmp" "$KDIR"
		KREL=$(ls "$KDIR/root/lib/modules")
		depmod -b "$KDIR/root" "$KREL"
		touch "$KDIR/.ok"
	fi
	KREL=$(ls "$KDIR/root/lib/modules")
	KROOT="$KDIR/root"
	VMLINUZ="$KROOT/boot/vmlinuz-$KREL"
	[ -r "$VMLINUZ" ] || die "no $VMLINUZ"
	note "kernel $KREL ($KDIR)"
}

# --- 2. the initramfs: static busybox, the modules to reach the 9p root,
# and tests/vm/guest-init.sh as /init ---
# mods_for NAME...: the .ko files NAME needs, in load order (nothing for
# what is built in), as "insmod PATH" lines from modprobe --show-depends
mods_for() {
	local m
	for m in "$@"; do
		modprobe -d "$KROOT" -S "$KREL" --show-depends "$m" ||
			die "module $m not in $KREL"
	done | sed -n 's/^insmod \([^ ]*\).*/\1/p' | awk '!seen[$0]++'
}

initramfs_build() {
	local ir=$W/initramfs f
	mkdir -p "$ir"/bin "$ir"/mods "$ir"/proc "$ir"/sys "$ir"/dev "$ir"/lower "$ir"/upper "$ir"/newroot
	cp "$BUSYBOX" "$ir/bin/busybox"
	cp "$here/guest-init.sh" "$ir/init"
	chmod 755 "$ir/init"
	: >"$ir/mods/order"
	for f in $(mods_for virtio_pci 9pnet_virtio 9p overlay); do
		# modules.dep paths are absolute under KROOT; Debian 12 ships .ko uncompressed
		cp "$f" "$ir/mods/"
		echo "$(basename "$f")" >>"$ir/mods/order"
	done
	# what stage 2 needs to find its way, read by guest-init.sh
	cat >"$ir/ol.conf" <<CONF
OL_KREL='$KREL'
OL_KROOT='$KROOT'
OL_SRCDIR='$top_srcdir'
OL_BUILDDIR='$top_builddir'
OL_STAGE='$STAGE'
CONF
	(cd "$ir" && find . | cpio -o -H newc --quiet | gzip -1) >"$W/initramfs.gz"
	note "initramfs: $(wc -l <"$ir/mods/order") modules ($(tr '\n' ' ' <"$ir/mods/order"))"
}

# --- 3. boot, with a bound on the whole run ---
W=$(mktemp -d /tmp/openloop-vm.XXXXXX)
cleanup() { [ -n "${OL_KEEP:-}" ] && echo "# kept $W" || rm -rf "$W"; }
trap cleanup EXIT
mkdir -p "$W/out"

kernel_prepare
initramfs_build

note "booting (accel $ACCEL, stage $STAGE, timeout ${TIMEOUT}s)"
start=$(date +%s)
set +e
# -nodefaults: no network device, no VGA.  ttyS0 is the console (kernel
# and guest log), ttyS1 the TAP results, 9p "hostroot" the host's / read-only,
# 9p "olout" a writable directory for the guest's logs.
timeout --kill-after=10 "$TIMEOUT" qemu-system-x86_64 \
	-accel "$ACCEL" -m 1024 -smp 2 -nodefaults -display none -no-reboot \
	-kernel "$VMLINUZ" -initrd "$W/initramfs.gz" \
	-append "console=ttyS0 panic=-1 loglevel=4 rdinit=/init" \
	-serial "file:$W/console.log" -serial "file:$W/tap.log" \
	-virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap \
	-virtfs local,path="$W/out",mount_tag=olout,security_model=none,multidevs=remap \
	</dev/null >"$W/qemu.log" 2>&1
qrc=$?
set -e
secs=$(( $(date +%s) - start ))
note "guest ran ${secs}s (qemu exit $qrc)"

# --- 4. results ---
tr -d '\r' <"$W/tap.log" >"$W/tap.txt" || true
grep -E '^(ok|not ok) - |^#' "$W/tap.txt" || true
pass=$(grep -c '^ok - ' "$W/tap.txt" || true)
fail=$(grep -c '^not ok - ' "$W/tap.txt" || true)
rc=0
if ! grep -q '^OL-VM-END$' "$W/tap.txt"; then
	echo "not ok - guest reached the end marker"
	fail=$((fail + 1))
	rc=1
fi
[ "$qrc" -eq 124 ] || [ "$qrc" -eq 137 ] && echo "# qemu timed out after ${TIMEOUT}s"
if [ "$fail" -ne 0 ] || [ "$pass" -eq 0 ]; then
	rc=1
	echo "# console (last 60 lines):"
	tail -60 "$W/console.log" | tr -d '\r' | sed 's/^/#   /'
	[ -s "$W/qemu.log" ] && sed 's/^/#   qemu: /' "$W/qemu.log"
fi
for f in "$W"/out/*.log; do
	[ -e "$f" ] && [ -n "${OL_VM_SHOW_LOGS:-}" ] && { echo "# --- $f"; sed 's/^/#   /' "$f"; }
done
echo "# run-vm.sh: $pass passed, $fail failed"
[ -n "${OL_VM_OUT:-}" ] && cp -r "$W/out/." "$OL_VM_OUT/" 2>/dev/null
exit $rc
