/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ifd-openloop: from pcscd's USB device name (bus, address, interface) to
 * the hidraw node of that interface, through sysfs.
 *
 * pcscd calls the driver once for every interface of a device whose
 * VID/PID the Info.plist lists.  Only the interface whose HID report
 * descriptor declares the FIDO usage page is ours; every other one gets
 * OL_ERR_NO_DEVICE (IFD_NO_SUCH_DEVICE), with the reason kept in the
 * result so the caller can log it.
 *
 * sysfs layout walked (SYSFS is "/sys" in production, a temporary
 * directory in the unit tests):
 *   SYSFS/bus/usb/devices/D             (symlink to the device directory)
 *     busnum, devnum, serial            (decimal; serial may be absent)
 *     D:C.I/bInterfaceNumber            (hex), bInterfaceClass (hex)
 *     D:C.I/BBBB:VVVV:PPPP.NNNN/report_descriptor
 *     D:C.I/BBBB:VVVV:PPPP.NNNN/hidraw/hidrawN
 * Every directory is resolved with realpath() and must stay inside SYSFS;
 * attribute files are opened without following symlinks; every read is
 * bounded (attributes 4 KB, descriptors OL_HID_DESCRIPTOR_MAX).
 */
#ifndef OL_HOTPLUG_H
#define OL_HOTPLUG_H

#include <stddef.h>
#include <stdint.h>

#include "devname.h"

#define OL_HOTPLUG_DEFAULT_SYSFS "/sys"
/* Tests (and only tests) point the reader at a fake sysfs tree. */
#define OL_HOTPLUG_SYSFS_ENV     "OPENLOOP_SYSFS_ROOT"

enum ol_hotplug_reason {
	OL_HOTPLUG_FOUND = 0,       /* node holds the hidraw name */
	OL_HOTPLUG_NO_USB_DEVICE,   /* no device at that bus/address (gone) */
	OL_HOTPLUG_NO_INTERFACE,    /* the device has no such interface */
	OL_HOTPLUG_NOT_HID,         /* the interface is not a HID interface */
	OL_HOTPLUG_NO_HIDRAW,       /* HID, but no hidraw node (not bound) */
	OL_HOTPLUG_NOT_FIDO,        /* HID without the FIDO usage page */
	OL_HOTPLUG_BAD_DESCRIPTOR,  /* report descriptor unreadable/malformed */
};

#define OL_HOTPLUG_NAME_MAX   64   /* "hidrawN" */
#define OL_HOTPLUG_SERIAL_MAX 512  /* USB strings: at most 126 UTF-16 units */

struct ol_hotplug_result {
	enum ol_hotplug_reason reason;
	/* "hidrawN" (no directory: the caller prefixes "/dev/") */
	char node[OL_HOTPLUG_NAME_MAX];
	/* the USB device's serial attribute, "" if it has none (or one over
	 * 511 bytes, more than a USB string can hold); filled as
	 * soon as the USB device is found, whatever the reason */
	char serial[OL_HOTPLUG_SERIAL_MAX];
	/* when the asked interface is not ours: the number of the device's
	 * FIDO HID interface, or -1 if it has none (the "USB HID" setting of
	 * the device is off) */
	int fido_interface;
	/* bInterfaceClass of the asked interface, -1 if unknown */
	int interface_class;
};

/*
 * dev must be an OL_DEVNAME_LIBUDEV or OL_DEVNAME_LIBUSB name (bus,
 * address and interface set); usage_page 0 means 0xF1D0.
 * OL_OK with res->node set; OL_ERR_NO_DEVICE with res->reason saying why;
 * OL_ERR_ARG for a NULL argument, another name kind, or a sysfs_root that
 * does not resolve.
 * (The signature differs from the brief's node/serial buffers: one result
 * structure carries the reason the caller logs as well.)
 */
int ol_hotplug_find_hidraw(const char *sysfs_root, const struct ol_devname *dev,
    uint16_t usage_page, struct ol_hotplug_result *res);

/*
 * One sentence for the log saying what was found and, when it is not
 * ours, what the user can do, e.g.
 *   "interface 1 of 1209:0001 is not the FIDO HID interface (interface 0
 *    is): skipped"
 * Always terminated; truncated to cap.
 */
void ol_hotplug_describe(const struct ol_devname *dev,
    const struct ol_hotplug_result *res, char *buf, size_t cap);

#endif
