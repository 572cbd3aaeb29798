/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ifd-openloop: the DEVICENAME strings pcscd hands to
 * IFDHCreateChannelByName.  Parsing only; turning a USB address into the
 * interface's hidraw node is the job of the hotplug module.
 */
#ifndef OL_DEVNAME_H
#define OL_DEVNAME_H

#include <stdint.h>

enum ol_devname_kind {
	OL_DEVNAME_LIBUDEV,  /* usb:VVVV/PPPP:libudev:IFACE:/dev/bus/usb/BBB/DDD */
	OL_DEVNAME_LIBUSB,   /* usb:VVVV/PPPP:libusb-1.0:BUS:ADDR:IFACE */
	OL_DEVNAME_HIDRAW,   /* /dev/hidrawN (any absolute path) */
	OL_DEVNAME_UNIX,     /* unix:/path */
};

#define OL_DEVNAME_PATH_MAX 4096

struct ol_devname {
	enum ol_devname_kind kind;
	uint16_t vid, pid;          /* usb: forms */
	int interface;              /* usb: forms */
	int bus, address;           /* usb: forms (libudev: from BBB/DDD) */
	char path[OL_DEVNAME_PATH_MAX]; /* libudev: /dev/bus/usb/BBB/DDD;
	                                 * hidraw: the node; unix: "unix:/path" */
};

/*
 * OL_OK or OL_ERR_ARG.  Suffixes pcscd may append that we do not
 * understand (":something" after a complete usb: form) are ignored.
 * On error, *why points to a static text saying what was expected.
 */
int ol_devname_parse(const char *name, struct ol_devname *out,
    const char **why);

#endif
