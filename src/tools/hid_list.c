/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * openloop-hid: hidraw nodes from sysfs, Openloop devices from the USB bus.
 * See hid_list.h.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libusb.h>

#include "hid_descriptor.h"
#include "hid_list.h"
#include "ol_err.h"
#include "plist.h"
#include "printable.h"
#include "sysfs.h"
#include "usb_ids.h"

#ifndef OL_DEFAULT_VID
#define OL_DEFAULT_VID 0x1209
#endif
#ifndef OL_DEFAULT_PID
#define OL_DEFAULT_PID 0x0001
#endif

#define MAX_IDS        16

static struct ol_usb_id claimed[MAX_IDS];
static size_t n_claimed;
static int loaded;
static char claimed_text[MAX_IDS * 11];

static void
add_claimed(uint16_t vid, uint16_t pid)
{
	for (size_t i = 0; i < n_claimed; i++)
		if (claimed[i].vid == vid && claimed[i].pid == pid)
			return;
	if (n_claimed < MAX_IDS && vid != 0) {
		claimed[n_claimed].vid = vid;
		claimed[n_claimed].pid = pid;
		n_claimed++;
	}
}

/* The IDs of the installed bundle's Info.plist, the ones pcscd loads the
 * driver for: a distribution's package claims none at build time and the
 * admin adds the device's IDs there with openloop-usb-ids.  Under
 * $OPENLOOP_HID_SYSFS_ROOT (tests) the path is taken inside the root. */
static void
load_installed(void)
{
#ifdef OL_BUNDLE_INFO_PLIST
	/* under the tests' fake root, as everything else */
	const char *root = getenv(HID_LIST_ROOT_ENV);
	char path[PATH_MAX];
	ol_plist_t *pl = NULL;
	struct ol_usb_id id;
	size_t n;

	n = (size_t)snprintf(path, sizeof(path), "%s%s", root != NULL ? root :
	    "", OL_BUNDLE_INFO_PLIST);
	if (n >= sizeof(path) || ol_plist_load(path, &pl) != OL_OK)
		return;
	n = ol_plist_count(pl, "ifdVendorID");
	/* unequal lists: pcscd refuses the file, so it claims nothing */
	if (ol_plist_count(pl, "ifdProductID") == n) {
		for (size_t i = 0; i < n; i++)
			if (ol_usb_id_from_plist(ol_plist_get(pl,
			    "ifdVendorID", i), ol_plist_get(pl, "ifdProductID",
			    i), &id) == OL_OK)
				add_claimed(id.vid, id.pid);
	}
	ol_plist_free(&pl);
#endif
}

/* The IDs this build claims (configure: OL_USB_IDS, "1209:0001,20a0:42b2",
 * "" for --with-usb-ids=none), and those of the installed Info.plist. */
static void
load_claimed(void)
{
#ifdef OL_USB_IDS
	const char *s = OL_USB_IDS;
#else
	const char *s = "";
#endif
	struct ol_usb_id ids[MAX_IDS];
	size_t off = 0, n_ids;
	int n;

	if (loaded)
		return;
	loaded = 1;
	/* configure checked the list with openloop-usb-ids; a list longer
	 * than MAX_IDS keeps its first MAX_IDS */
	if (ol_usb_id_parse_list(s, ids, MAX_IDS, &n_ids) == OL_ERR_ARG)
		n_ids = 0;
	for (size_t i = 0; i < n_ids; i++)
		add_claimed(ids[i].vid, ids[i].pid);
#if !defined(OL_USB_IDS)
	add_claimed(OL_DEFAULT_VID, OL_DEFAULT_PID);
#endif
	load_installed();
	claimed_text[0] = '\0';
	for (size_t i = 0; i < n_claimed; i++) {
		n = snprintf(claimed_text + off, sizeof(claimed_text) - off,
		    "%s%04x:%04x", i > 0 ? ", " : "", claimed[i].vid,
		    claimed[i].pid);
		if (n < 0 || (size_t)n >= sizeof(claimed_text) - off)
			break;
		off += (size_t)n;
	}
}

int
hid_list_id_claimed(uint16_t vid, uint16_t pid)
{
	load_claimed();
	for (size_t i = 0; i < n_claimed; i++)
		if (claimed[i].vid == vid && claimed[i].pid == pid)
			return 1;
	return 0;
}

const char *
hid_list_claimed_ids(void)
{
	load_claimed();
	return claimed_text;
}

int
hid_list_is_openloop(const struct hid_list_node *n)
{
	return n->fido && n->claimed;
}

/* s into out, cut to cap: for display only (a product string is shown,
 * not parsed) */
static void
copy_cut(char *out, size_t cap, const char *s)
{
	size_t len = strlen(s);

	if (cap == 0)
		return;
	if (len >= cap)
		len = cap - 1;
	memcpy(out, s, len);
	out[len] = '\0';
}

/* An attribute for display: made printable, cut to cap; "" if it cannot
 * be read. */
static void
read_display(const char *dir, const char *name, char *out, size_t cap,
    int keep_space)
{
	char buf[OL_SYSFS_ATTR_MAX];

	if (ol_sysfs_read_attr(dir, name, buf, sizeof(buf)) != OL_OK)
		buf[0] = '\0';
	ol_make_printable(buf, keep_space);
	copy_cut(out, cap, buf);
}

static int
read_int(const char *dir, const char *name, int base, int *out)
{
	unsigned long v;

	if (ol_sysfs_read_uint(dir, name, base, INT_MAX, &v) != OL_OK)
		return -1;
	*out = (int)v;
	return 0;
}

/* HID_ID=0003:00001209:00000001, HID_NAME=..., HID_UNIQ=... */
static void
parse_uevent(const char *dir, struct hid_list_node *n)
{
	char buf[OL_SYSFS_ATTR_MAX], v[OL_SYSFS_ATTR_MAX];
	unsigned long bus, vid, pid;

	if (ol_sysfs_read_text(dir, "uevent", buf, sizeof(buf)) != OL_OK)
		return;
	/* "BBBB:VVVVVVVV:PPPPPPPP", fields of 4, 8 and 8 hex digits */
	if (ol_sysfs_uevent_get(buf, "HID_ID", v, sizeof(v)) == OL_OK &&
	    strlen(v) == 22 && v[4] == ':' && v[13] == ':') {
		v[4] = v[13] = '\0';
		if (ol_sysfs_parse_uint(v, 16, 0xffff, &bus) == OL_OK &&
		    ol_sysfs_parse_uint(v + 5, 16, 0xffff, &vid) == OL_OK &&
		    ol_sysfs_parse_uint(v + 14, 16, 0xffff, &pid) == OL_OK) {
			n->bus_type = (unsigned)bus;
			n->vid = (uint16_t)vid;
			n->pid = (uint16_t)pid;
			n->have_ids = 1;
		}
	}
	if (ol_sysfs_uevent_get(buf, "HID_NAME", v, sizeof(v)) == OL_OK) {
		ol_make_printable(v, 1);
		copy_cut(n->product, sizeof(n->product), v);
	}
	if (ol_sysfs_uevent_get(buf, "HID_UNIQ", v, sizeof(v)) == OL_OK) {
		ol_make_printable(v, 0);
		copy_cut(n->serial, sizeof(n->serial), v);
	}
}

static void
check_access(struct hid_list_node *n)
{
	int fd;

	/* The same open the transport does: O_RDWR, never blocking. */
	fd = open(n->node, O_RDWR | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (fd >= 0) {
		close(fd);
		n->access = OL_OK;
		return;
	}
	n->access_errno = errno;
	n->access = (errno == EACCES || errno == EPERM) ? OL_ERR_PERMISSION :
	    OL_ERR_IO;
}

/* Fills one node from SYS/class/hidraw/NAME (SYS: ROOT/sys); 0 on
 * success.  What cannot be read stays unknown: the node is still listed. */
static int
read_node(const struct ol_sysfs_root *sys, const char *root,
    const char *name, struct hid_list_node *n)
{
	char link[PATH_MAX], hid[PATH_MAX], iface[PATH_MAX], usb[PATH_MAX];
	uint8_t *desc = NULL;
	unsigned long v;
	size_t len;

	memset(n, 0, sizeof(*n));
	n->iface = n->usb_bus = n->usb_dev = -1;
	if (snprintf(n->name, sizeof(n->name), "%s", name) >=
	    (int)sizeof(n->name) ||
	    snprintf(n->node, sizeof(n->node), "%s/dev/%s", root, name) >=
	    (int)sizeof(n->node) ||
	    snprintf(link, sizeof(link), "%s/class/hidraw/%s/device",
	    sys->path, name) >= (int)sizeof(link))
		return -1;
	/* device is the HID device, its parent the USB interface, whose
	 * parent the USB device: resolved once, then kept inside sysfs */
	if (ol_sysfs_resolve(sys, link, hid) != OL_OK)
		goto access;

	parse_uevent(hid, n);
	n->claimed = n->have_ids && hid_list_id_claimed(n->vid, n->pid);

	if ((desc = malloc(OL_HID_DESCRIPTOR_MAX)) != NULL &&
	    ol_sysfs_read_raw(hid, "report_descriptor", desc,
	    OL_HID_DESCRIPTOR_MAX, &len) == OL_OK) {
		n->descriptor_read = 1;
		/* malformed (< 0) counts as no FIDO interface: the kernel
		 * would not have made one of it either */
		n->fido = ol_hid_descriptor_is_fido(desc, len, 0) == 1;
	}
	free(desc);

	if (n->bus_type == 3 &&
	    ol_sysfs_parent(sys, hid, iface, sizeof(iface)) == OL_OK) {
		if (ol_sysfs_read_hex(iface, "bInterfaceNumber", 255, &v) ==
		    OL_OK)
			n->iface = (int)v;
		if (ol_sysfs_parent(sys, iface, usb, sizeof(usb)) == OL_OK) {
			if (read_int(usb, "busnum", 10, &n->usb_bus) != 0)
				n->usb_bus = -1;
			if (read_int(usb, "devnum", 10, &n->usb_dev) != 0)
				n->usb_dev = -1;
		}
	}
access:
	check_access(n);
	return 0;
}

static int
node_cmp(const void *a, const void *b)
{
	const struct hid_list_node *x = a, *y = b;
	long nx = strtol(x->name + 6, NULL, 10);
	long ny = strtol(y->name + 6, NULL, 10);

	return nx < ny ? -1 : nx > ny;
}

static int
scan_hidraw(const struct ol_sysfs_root *sys, const char *root,
    struct hid_list *l)
{
	char dir[PATH_MAX];
	struct hid_list_node *grown;
	struct dirent *de;
	size_t cap = 0;
	DIR *d;
	int r = OL_OK;

	if (ol_sysfs_join(dir, sizeof(dir), sys->path, "class/hidraw") !=
	    OL_OK)
		return OL_OK;
	if ((d = opendir(dir)) == NULL)
		return OL_OK; /* no hidraw support, or none yet: nothing */
	while ((de = readdir(d)) != NULL) {
		if (strncmp(de->d_name, "hidraw", 6) != 0 ||
		    !ol_sysfs_is_entry(de->d_name))
			continue;
		if (l->n_nodes == cap) {
			cap = cap ? cap * 2 : 8;
			if ((grown = realloc(l->nodes, cap * sizeof(*grown)))
			    == NULL) {
				r = OL_ERR_NOMEM;
				break;
			}
			l->nodes = grown;
		}
		if (read_node(sys, root, de->d_name, &l->nodes[l->n_nodes]) ==
		    0)
			l->n_nodes++;
	}
	closedir(d);
	if (l->n_nodes > 1)
		qsort(l->nodes, l->n_nodes, sizeof(*l->nodes), node_cmp);
	return r;
}

static int
add_usb(struct hid_list *l, const struct hid_list_usb *u, size_t *cap)
{
	struct hid_list_usb *grown;

	if (l->n_usb == *cap) {
		*cap = *cap ? *cap * 2 : 4;
		if ((grown = realloc(l->usb, *cap * sizeof(*grown))) == NULL)
			return OL_ERR_NOMEM;
		l->usb = grown;
	}
	l->usb[l->n_usb++] = *u;
	return OL_OK;
}

/* Product and serial strings without opening the device (which would need
 * write access to /dev/bus/usb): sysfs has them under the port path. */
static void
usb_strings_from_sysfs(const struct ol_sysfs_root *sys, libusb_device *dev,
    struct hid_list_usb *u)
{
	uint8_t ports[8];
	char name[64], path[PATH_MAX], real[PATH_MAX];
	size_t off;
	int n, i, w;

	n = libusb_get_port_numbers(dev, ports, (int)sizeof(ports));
	if (n <= 0)
		return;
	/* "B-P.P.P", as the kernel names the device */
	w = snprintf(name, sizeof(name), "bus/usb/devices/%d-", u->bus);
	if (w < 0 || (size_t)w >= sizeof(name))
		return;
	off = (size_t)w;
	for (i = 0; i < n; i++) {
		w = snprintf(name + off, sizeof(name) - off, "%s%u",
		    i > 0 ? "." : "", ports[i]);
		if (w < 0 || (size_t)w >= sizeof(name) - off)
			return;
		off += (size_t)w;
	}
	if (ol_sysfs_join(path, sizeof(path), sys->path, name) != OL_OK ||
	    ol_sysfs_resolve(sys, path, real) != OL_OK)
		return;
	read_display(real, "product", u->product, sizeof(u->product), 1);
	read_display(real, "serial", u->serial, sizeof(u->serial), 0);
}

static int
walk_libusb(const struct ol_sysfs_root *sys, struct hid_list *l)
{
	struct libusb_device_descriptor dd;
	struct libusb_config_descriptor *cfg;
	struct hid_list_usb u;
	libusb_context *ctx = NULL;
	libusb_device **devs = NULL;
	ssize_t n;
	size_t cap = 0;
	int r = OL_OK, e;

	if ((e = libusb_init(&ctx)) != 0) {
		snprintf(l->usb_error, sizeof(l->usb_error), "libusb: %s",
		    libusb_strerror(e));
		return OL_OK;
	}
	if ((n = libusb_get_device_list(ctx, &devs)) < 0) {
		snprintf(l->usb_error, sizeof(l->usb_error), "libusb: %s",
		    libusb_strerror((int)n));
		goto out;
	}
	l->usb_walked = 1;
	for (ssize_t i = 0; i < n; i++) {
		if (libusb_get_device_descriptor(devs[i], &dd) != 0 ||
		    !hid_list_id_claimed(dd.idVendor, dd.idProduct))
			continue;
		memset(&u, 0, sizeof(u));
		u.vid = dd.idVendor;
		u.pid = dd.idProduct;
		u.bus = libusb_get_bus_number(devs[i]);
		u.dev = libusb_get_device_address(devs[i]);
		u.hid_ifaces = -1;
		if (libusb_get_active_config_descriptor(devs[i], &cfg) == 0 ||
		    libusb_get_config_descriptor(devs[i], 0, &cfg) == 0) {
			u.hid_ifaces = 0;
			for (int j = 0; j < cfg->bNumInterfaces; j++)
				if (cfg->interface[j].num_altsetting > 0 &&
				    cfg->interface[j].altsetting[0]
				    .bInterfaceClass == LIBUSB_CLASS_HID)
					u.hid_ifaces++;
			libusb_free_config_descriptor(cfg);
		}
		usb_strings_from_sysfs(sys, devs[i], &u);
		if ((r = add_usb(l, &u, &cap)) != OL_OK)
			break;
	}
out:
	if (devs != NULL)
		libusb_free_device_list(devs, 1);
	libusb_exit(ctx);
	return r;
}

/* The test stand-in for libusb: SYS/bus/usb/devices/B-P (devices;
 * names with ':' are interfaces). */
static int
walk_sysfs_usb(const struct ol_sysfs_root *sys, struct hid_list *l)
{
	char dir[PATH_MAX], path[PATH_MAX], dev[PATH_MAX], ifdir[PATH_MAX];
	struct hid_list_usb u;
	struct dirent *de, *ie;
	unsigned long vid, pid, cls;
	size_t cap = 0, len;
	DIR *d = NULL, *id_dir;
	int r = OL_OK;

	if (ol_sysfs_join(dir, sizeof(dir), sys->path, "bus/usb/devices") !=
	    OL_OK || (d = opendir(dir)) == NULL) {
		snprintf(l->usb_error, sizeof(l->usb_error),
		    "no %.96s/bus/usb/devices", sys->path);
		return OL_OK;
	}
	l->usb_walked = 1;
	while (r == OL_OK && (de = readdir(d)) != NULL) {
		if (!ol_sysfs_is_entry(de->d_name) || de->d_name[0] == '.' ||
		    strchr(de->d_name, ':') != NULL)
			continue;
		if (ol_sysfs_join(path, sizeof(path), dir, de->d_name) !=
		    OL_OK || ol_sysfs_resolve(sys, path, dev) != OL_OK ||
		    ol_sysfs_read_hex(dev, "idVendor", 0xffff, &vid) != OL_OK ||
		    ol_sysfs_read_hex(dev, "idProduct", 0xffff, &pid) != OL_OK ||
		    !hid_list_id_claimed((uint16_t)vid, (uint16_t)pid))
			continue;
		memset(&u, 0, sizeof(u));
		u.vid = (uint16_t)vid;
		u.pid = (uint16_t)pid;
		if (read_int(dev, "busnum", 10, &u.bus) != 0)
			u.bus = -1;
		if (read_int(dev, "devnum", 10, &u.dev) != 0)
			u.dev = -1;
		read_display(dev, "product", u.product, sizeof(u.product), 1);
		read_display(dev, "serial", u.serial, sizeof(u.serial), 0);
		/* interfaces are siblings named "B-P:C.I" */
		len = strlen(de->d_name);
		if ((id_dir = opendir(dir)) != NULL) {
			while ((ie = readdir(id_dir)) != NULL) {
				if (strncmp(ie->d_name, de->d_name, len) != 0 ||
				    ie->d_name[len] != ':' ||
				    ol_sysfs_join(path, sizeof(path), dir,
				    ie->d_name) != OL_OK ||
				    ol_sysfs_resolve(sys, path, ifdir) != OL_OK)
					continue;
				if (ol_sysfs_read_hex(ifdir, "bInterfaceClass",
				    255, &cls) == OL_OK &&
				    cls == LIBUSB_CLASS_HID)
					u.hid_ifaces++;
			}
			closedir(id_dir);
		}
		r = add_usb(l, &u, &cap);
	}
	closedir(d);
	return r;
}

int
hid_list_scan(const char *root, struct hid_list *out)
{
	struct ol_sysfs_root *sys = NULL;
	char path[PATH_MAX];
	int r;

	if (out == NULL)
		return OL_ERR_ARG;
	memset(out, 0, sizeof(*out));
	if (root == NULL)
		root = "";
	load_claimed();
	if ((sys = calloc(1, sizeof(*sys))) == NULL)
		return OL_ERR_NOMEM;
	/* ROOT/sys: every path read below stays inside it */
	if (snprintf(path, sizeof(path), "%s/sys", root) >=
	    (int)sizeof(path) || ol_sysfs_root_init(sys, path) != OL_OK) {
		snprintf(out->usb_error, sizeof(out->usb_error),
		    "no sysfs at %s/sys", root);
		free(sys);
		return OL_OK;
	}
	if ((r = scan_hidraw(sys, root, out)) != OL_OK)
		goto fail;
	r = root[0] != '\0' ? walk_sysfs_usb(sys, out) :
	    walk_libusb(sys, out);
	if (r != OL_OK)
		goto fail;
	/* Tie each USB device to its FIDO hidraw node, if it has one. */
	for (size_t i = 0; i < out->n_usb; i++)
		for (size_t j = 0; j < out->n_nodes; j++)
			if (out->nodes[j].fido &&
			    out->nodes[j].usb_bus == out->usb[i].bus &&
			    out->nodes[j].usb_dev == out->usb[i].dev)
				out->usb[i].has_fido_node = 1;
	free(sys);
	return OL_OK;
fail:
	free(sys);
	hid_list_free(out);
	return r;
}

void
hid_list_free(struct hid_list *l)
{
	if (l == NULL)
		return;
	free(l->nodes);
	free(l->usb);
	memset(l, 0, sizeof(*l));
}
