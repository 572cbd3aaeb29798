#!/bin/busybox sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Stage 1 of the VM test, /init of the initramfs run-vm.sh builds (static
# busybox only).  Mounts the host's / read-only over 9p, puts a tmpfs overlay
# on it, makes the guest kernel's modules visible at /lib/modules/KREL, mounts
# the writable 9p "olout" at /ol-out and switch_roots into the overlay to run
# tests/vm/guest-test.sh (from the host's tree, at the same path) as PID 1.
# Any failure here powers the guest off; run-vm.sh then sees no end marker.

/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
. /ol.conf

tap() { echo "$*" >/dev/ttyS1; echo "$*"; }
fail() {
	tap "not ok - stage1: $*"
	tap "OL-VM-END"
	poweroff -f
}

for m in $(cat /mods/order); do
	insmod "/mods/$m" || fail "insmod $m"
done

mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=512000,cache=loose hostroot /lower ||
	fail "mount 9p hostroot"
mount -t tmpfs -o mode=755,size=512m tmpfs /upper || fail "tmpfs"
mkdir -p /upper/up /upper/work
mount -t overlay -o lowerdir=/lower,upperdir=/upper/up,workdir=/upper/work overlay /newroot ||
	fail "overlay over the 9p root"

# the guest kernel's modules where kmod (modprobe, udevd) looks for them
mkdir -p /newroot/lib/modules
rm -rf "/newroot/lib/modules/$OL_KREL"
ln -s "$OL_KROOT/lib/modules/$OL_KREL" "/newroot/lib/modules/$OL_KREL"

# the writable share for logs
mkdir -p /newroot/ol-out
mount -t 9p -o trans=virtio,version=9p2000.L olout /newroot/ol-out || fail "mount 9p olout"

# the host's runtime state must not leak in (its /run: pcscd's socket,
# udev's database); /tmp stays the overlay's, writable
mount -t tmpfs -o mode=755 tmpfs /newroot/run
cp /ol.conf /newroot/run/ol.conf

tap "ok - stage1: host root over 9p, tmpfs overlay, kernel $OL_KREL"
mount --move /proc /newroot/proc
mount --move /sys /newroot/sys
mount --move /dev /newroot/dev
exec switch_root /newroot /bin/bash "$OL_SRCDIR/tests/vm/guest-test.sh"
