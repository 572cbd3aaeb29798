/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ifd-openloop: map pcscd's USB (bus, address, interface) to the hidraw
 * node of that interface by walking sysfs.
 *
 * sysfs rather than libudev: the walk is a handful of directory reads,
 * needs no extra library in the driver pcscd loads, and the unit tests
 * can run it against a fake tree.  Paths are built from names read out
 * of directories: joins, resolving inside the root and bounded reads are
 * sysfs.c's.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hexutil.h"
#include "hid_descriptor.h"
#include "hotplug.h"
#include "ol_err.h"
#include "sysfs.h"

#define USB_CLASS_HID 0x03

struct walk {
	struct ol_sysfs_root root;  /* canonical sysfs root */
	uint16_t usage_page;
};

/* A number attribute of dir, at most max, as a long. */
static int
read_number(const char *dir, const char *name, int base, unsigned long max,
    long *out)
{
	unsigned long v;

	if (ol_sysfs_read_uint(dir, name, base, max, &v) != OL_OK)
		return OL_ERR_NO_DEVICE;
	*out = (long)v;
	return OL_OK;
}

/* "BBBB:VVVV:PPPP.NNNN", the name of a HID device below its interface */
static int
is_hid_device_name(const char *s)
{
	static const char shape[] = "xxxx:xxxx:xxxx.xxxx";
	size_t i;

	for (i = 0; shape[i] != '\0'; i++) {
		if (shape[i] == 'x' ? ol_hexval(s[i]) < 0 : s[i] != shape[i])
			return 0;
	}
	/* the sequence number may outgrow four digits */
	for (; s[i] != '\0'; i++)
		if (ol_hexval(s[i]) < 0)
			return 0;
	return 1;
}

/* "hidrawN" */
static int
is_hidraw_name(const char *s)
{
	size_t i;

	if (strncmp(s, "hidraw", 6) != 0 || s[6] == '\0')
		return 0;
	for (i = 6; s[i] != '\0'; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return 1;
}

/* The hidraw node below a HID device directory, into node. */
static int
find_hidraw_node(const struct walk *w, const char *hiddir, char *node,
    size_t cap)
{
	char path[PATH_MAX], real[PATH_MAX];
	struct dirent *de;
	DIR *d = NULL;
	int e = OL_ERR_NO_DEVICE;

	if (ol_sysfs_join(path, sizeof(path), hiddir, "hidraw") != OL_OK ||
	    ol_sysfs_resolve(&w->root, path, real) != OL_OK ||
	    (d = opendir(real)) == NULL)
		goto out;
	while ((de = readdir(d)) != NULL) {
		if (!is_hidraw_name(de->d_name))
			continue;
		if (strlen(de->d_name) >= cap) {
			e = OL_ERR_TOO_LONG;
			continue;
		}
		memcpy(node, de->d_name, strlen(de->d_name) + 1);
		e = OL_OK;
		break;
	}
out:
	if (d != NULL)
		closedir(d);
	return e;
}

/*
 * Looks at one interface directory: which HID device below it carries
 * the FIDO collection, and its hidraw node.  Returns the reason; node is
 * set for OL_HOTPLUG_FOUND.  The best reason over all HID devices below
 * the interface wins (there is one in practice).
 */
static enum ol_hotplug_reason
check_interface(const struct walk *w, const char *ifdir, char *node,
    size_t cap)
{
	uint8_t desc[OL_HID_DESCRIPTOR_MAX];
	char path[PATH_MAX], hiddir[PATH_MAX];
	enum ol_hotplug_reason best = OL_HOTPLUG_NOT_HID;
	struct dirent *de;
	size_t len;
	DIR *d;
	int r;

	if ((d = opendir(ifdir)) == NULL)
		return OL_HOTPLUG_NO_INTERFACE;
	while ((de = readdir(d)) != NULL) {
		if (!is_hid_device_name(de->d_name))
			continue;
		if (ol_sysfs_join(path, sizeof(path), ifdir, de->d_name) !=
		    OL_OK || ol_sysfs_resolve(&w->root, path, hiddir) != OL_OK)
			continue;
		if (ol_sysfs_read_raw(hiddir, "report_descriptor", desc,
		    sizeof(desc), &len) != OL_OK || (r = ol_hid_descriptor_is_fido(desc, len,
		    w->usage_page)) < 0) {
			if (best == OL_HOTPLUG_NOT_HID)
				best = OL_HOTPLUG_BAD_DESCRIPTOR;
			continue;
		}
		if (r == 0) {
			if (best == OL_HOTPLUG_NOT_HID ||
			    best == OL_HOTPLUG_BAD_DESCRIPTOR)
				best = OL_HOTPLUG_NOT_FIDO;
			continue;
		}
		if (find_hidraw_node(w, hiddir, node, cap) == OL_OK) {
			best = OL_HOTPLUG_FOUND;
			break;
		}
		best = OL_HOTPLUG_NO_HIDRAW;
	}
	closedir(d);
	return best;
}

/*
 * The interface directories of devdir ("D:C.I", D = devname); calls back
 * for each with its bInterfaceNumber.  Stops when cb returns nonzero and
 * returns that value.
 */
typedef int iface_cb(const struct walk *w, const char *ifdir, long ifnum,
    void *arg);

static int
for_each_interface(const struct walk *w, const char *devdir,
    const char *devname, iface_cb *cb, void *arg)
{
	char path[PATH_MAX], ifdir[PATH_MAX];
	size_t nlen = strlen(devname);
	struct dirent *de;
	long ifnum;
	DIR *d;
	int r = 0;

	if ((d = opendir(devdir)) == NULL)
		return 0;
	while (r == 0 && (de = readdir(d)) != NULL) {
		if (strncmp(de->d_name, devname, nlen) != 0 ||
		    de->d_name[nlen] != ':')
			continue;
		if (ol_sysfs_join(path, sizeof(path), devdir, de->d_name) !=
		    OL_OK || ol_sysfs_resolve(&w->root, path, ifdir) != OL_OK ||
		    read_number(ifdir, "bInterfaceNumber", 16, 255, &ifnum) !=
		    OL_OK)
			continue;
		r = cb(w, ifdir, ifnum, arg);
	}
	closedir(d);
	return r;
}

struct want_iface {
	long ifnum;
	char dir[PATH_MAX];
};

static int
match_interface(const struct walk *w, const char *ifdir, long ifnum,
    void *arg)
{
	struct want_iface *want = arg;

	(void)w;
	if (ifnum != want->ifnum)
		return 0;
	memcpy(want->dir, ifdir, strlen(ifdir) + 1);
	return 1;
}

struct fido_scan {
	long skip;         /* the interface already looked at */
	long found;
};

static int
scan_fido(const struct walk *w, const char *ifdir, long ifnum, void *arg)
{
	struct fido_scan *scan = arg;
	char node[OL_HOTPLUG_NAME_MAX];
	enum ol_hotplug_reason r;

	if (ifnum == scan->skip)
		return 0;
	r = check_interface(w, ifdir, node, sizeof(node));
	if (r != OL_HOTPLUG_FOUND && r != OL_HOTPLUG_NO_HIDRAW)
		return 0;
	scan->found = ifnum;
	return 1;
}

/* The USB device at (bus, address): its canonical directory and name. */
static int
find_usb_device(const struct walk *w, int bus, int address, char *devdir,
    char *devname, size_t name_cap)
{
	char dir[PATH_MAX], path[PATH_MAX];
	struct dirent *de;
	long busnum, devnum;
	DIR *d = NULL;
	int e = OL_ERR_NO_DEVICE;

	if (ol_sysfs_join(dir, sizeof(dir), w->root.path,
	    "bus/usb/devices") != OL_OK ||
	    (d = opendir(dir)) == NULL)
		goto out;
	while ((de = readdir(d)) != NULL) {
		/* devices only: "usbN" root hubs and "B-P.P" ports; the
		 * "B-P:C.I" interfaces listed here too have no busnum */
		if (de->d_name[0] == '.' || strchr(de->d_name, ':') != NULL)
			continue;
		if (strlen(de->d_name) >= name_cap ||
		    ol_sysfs_join(path, sizeof(path), dir, de->d_name) != OL_OK ||
		    ol_sysfs_resolve(&w->root, path, devdir) != OL_OK)
			continue;
		if (read_number(devdir, "busnum", 10, INT_MAX, &busnum) !=
		    OL_OK || read_number(devdir, "devnum", 10, INT_MAX,
		    &devnum) != OL_OK)
			continue;
		if (busnum != bus || devnum != address)
			continue;
		memcpy(devname, de->d_name, strlen(de->d_name) + 1);
		e = OL_OK;
		break;
	}
out:
	if (d != NULL)
		closedir(d);
	return e;
}

int
ol_hotplug_find_hidraw(const char *sysfs_root, const struct ol_devname *dev,
    uint16_t usage_page, struct ol_hotplug_result *res)
{
	/* PATH_MAX buffers on the heap: pcscd runs us on its threads */
	struct state {
		struct walk w;
		struct want_iface want;
		char devdir[PATH_MAX];
		char devname[NAME_MAX + 1];
	} *st = NULL;
	struct fido_scan scan;
	long v;
	int e = OL_ERR_NO_DEVICE;

	if (res == NULL)
		return OL_ERR_ARG;
	memset(res, 0, sizeof(*res));
	res->reason = OL_HOTPLUG_NO_USB_DEVICE;
	res->fido_interface = -1;
	res->interface_class = -1;
	if (sysfs_root == NULL || dev == NULL ||
	    (dev->kind != OL_DEVNAME_LIBUDEV && dev->kind != OL_DEVNAME_LIBUSB))
		return OL_ERR_ARG;
	if ((st = calloc(1, sizeof(*st))) == NULL)
		return OL_ERR_NOMEM;
	if (sysfs_root[0] == '\0' ||
	    ol_sysfs_root_init(&st->w.root, sysfs_root) != OL_OK) {
		e = OL_ERR_ARG;
		goto out;
	}
	st->w.usage_page = usage_page != 0 ? usage_page :
	    OL_HID_FIDO_USAGE_PAGE;

	if (find_usb_device(&st->w, dev->bus, dev->address, st->devdir,
	    st->devname, sizeof(st->devname)) != OL_OK)
		goto out;
	/* no serial, or one longer than a USB string descriptor can hold:
	 * the reader is named without it */
	if (ol_sysfs_read_attr(st->devdir, "serial", res->serial,
	    sizeof(res->serial)) != OL_OK)
		res->serial[0] = '\0';

	st->want.ifnum = dev->interface;
	if (for_each_interface(&st->w, st->devdir, st->devname,
	    match_interface, &st->want) == 0) {
		res->reason = OL_HOTPLUG_NO_INTERFACE;
	} else {
		if (read_number(st->want.dir, "bInterfaceClass", 16, 255,
		    &v) == OL_OK)
			res->interface_class = (int)v;
		res->reason = check_interface(&st->w, st->want.dir, res->node,
		    sizeof(res->node));
	}
	if (res->reason == OL_HOTPLUG_FOUND) {
		res->fido_interface = dev->interface;
		e = OL_OK;
		goto out;
	}
	res->node[0] = '\0';
	/* Not ours: say which interface is, so the log can tell a skipped
	 * sibling from a device whose FIDO interface is switched off. */
	scan.skip = dev->interface;
	scan.found = -1;
	if (for_each_interface(&st->w, st->devdir, st->devname, scan_fido,
	    &scan) != 0)
		res->fido_interface = (int)scan.found;
out:
	free(st);
	return e;
}

void
ol_hotplug_describe(const struct ol_devname *dev,
    const struct ol_hotplug_result *res, char *buf, size_t cap)
{
	char other[64] = "";
	int iface = dev->interface;

	if (cap == 0)
		return;
	if (res->fido_interface >= 0 && res->fido_interface != iface)
		snprintf(other, sizeof(other), " (interface %d is)",
		    res->fido_interface);
	switch (res->reason) {
	case OL_HOTPLUG_FOUND:
		snprintf(buf, cap, "interface %d of %04x:%04x is the FIDO HID "
		    "interface, /dev/%s", iface, dev->vid, dev->pid, res->node);
		return;
	case OL_HOTPLUG_NO_USB_DEVICE:
		snprintf(buf, cap, "no USB device %03d/%03d (%04x:%04x) in "
		    "sysfs: it was unplugged", dev->bus, dev->address,
		    dev->vid, dev->pid);
		return;
	case OL_HOTPLUG_NO_HIDRAW:
		snprintf(buf, cap, "interface %d of %04x:%04x is the FIDO HID "
		    "interface but has no hidraw node: load the hidraw kernel "
		    "module (CONFIG_HIDRAW) and replug the device", iface,
		    dev->vid, dev->pid);
		return;
	default:
		break;
	}
	if (res->fido_interface >= 0) {
		snprintf(buf, cap, "interface %d of %04x:%04x is not the FIDO "
		    "HID interface%s: skipped", iface, dev->vid, dev->pid,
		    other);
		return;
	}
	snprintf(buf, cap, "%04x:%04x has no FIDO HID interface (interface "
	    "%d: %s): switch \"USB HID\" ON in the device's settings and "
	    "replug it", dev->vid, dev->pid, iface,
	    res->reason == OL_HOTPLUG_NO_INTERFACE ? "absent" :
	    res->reason == OL_HOTPLUG_NOT_HID ? "not HID" :
	    res->reason == OL_HOTPLUG_BAD_DESCRIPTOR ?
	    "unreadable report descriptor" : "HID without the FIDO usage page");
}
