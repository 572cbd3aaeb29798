/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * openloop-hid: finding Openloop devices on this machine.
 *
 * Two views that together tell a user what is wrong:
 *   - the hidraw nodes (sysfs): which carry the FIDO usage page, which
 *     belong to a USB ID this build claims, and whether we may open them;
 *   - the USB bus (libusb-1.0): devices with a claimed ID, so a device
 *     whose "USB HID" setting is off (no FIDO HID interface, so no hidraw
 *     node) is reported as such and not as "no device".
 *
 * Nothing here talks to a device; opening a node to test access is all.
 */
#ifndef OL_HID_LIST_H
#define OL_HID_LIST_H

#include <stddef.h>
#include <stdint.h>

#define HID_LIST_FIDO_USAGE_PAGE 0xf1d0u
#define HID_LIST_NODE_MAX   64
#define HID_LIST_STR_MAX   128

/* Environment variable naming a directory that stands in for "/" (sysfs
 * and /dev), so tests can list a fake tree.  It also replaces the libusb
 * walk by a walk of ROOT/sys/bus/usb/devices. */
#define HID_LIST_ROOT_ENV "OPENLOOP_HID_SYSFS_ROOT"

struct hid_list_node {
	char node[HID_LIST_NODE_MAX];     /* /dev/hidrawN (under the root) */
	char name[HID_LIST_NODE_MAX];     /* hidrawN */
	char product[HID_LIST_STR_MAX];   /* HID_NAME */
	char serial[HID_LIST_STR_MAX];    /* HID_UNIQ */
	unsigned bus_type;                /* HID_ID's first field: 3 = USB */
	uint16_t vid, pid;
	int have_ids;
	int iface;            /* USB interface number, -1: not known */
	int usb_bus, usb_dev; /* USB bus and device number, -1: not known */
	int fido;             /* the report descriptor has usage page F1D0 */
	int descriptor_read;  /* 0: the report descriptor could not be read */
	int claimed;          /* VID:PID is one this build claims */
	int access;           /* OL_OK, OL_ERR_PERMISSION or OL_ERR_IO */
	int access_errno;
};

struct hid_list_usb {
	uint16_t vid, pid;
	int bus, dev;
	int hid_ifaces;       /* interfaces of class HID, -1: not known */
	int has_fido_node;    /* one of our hidraw nodes with F1D0 is on it */
	char product[HID_LIST_STR_MAX];
	char serial[HID_LIST_STR_MAX];
};

struct hid_list {
	struct hid_list_node *nodes;
	size_t n_nodes;
	struct hid_list_usb *usb;   /* claimed VID:PID only */
	size_t n_usb;
	int usb_walked;             /* 0: the bus could not be walked */
	char usb_error[HID_LIST_STR_MAX];
};

/* Scans hidraw nodes and the USB bus.  root: NULL or "" for the real
 * system.  OL_OK or OL_ERR_NOMEM; a missing /sys/class/hidraw or an
 * unusable libusb are not errors (empty lists, usb_walked = 0). */
int hid_list_scan(const char *root, struct hid_list *out);
void hid_list_free(struct hid_list *l);

/* The Openloop device nodes: FIDO usage page and a claimed USB ID. */
int hid_list_is_openloop(const struct hid_list_node *n);

/* Whether vid:pid is claimed: by this build (configure --with-usb-ids)
 * or by the installed bundle's Info.plist (openloop-usb-ids add). */
int hid_list_id_claimed(uint16_t vid, uint16_t pid);

/* The claimed IDs, for messages: "1209:0001" or "1209:0001, 20a0:42b2";
 * "" when none is claimed. */
const char *hid_list_claimed_ids(void);

#endif
