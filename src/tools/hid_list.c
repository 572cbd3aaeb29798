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
#include "hexutil.h"
#include "ol_err.h"
#include "plist.h"
#include "printable.h"

#ifndef OL_DEFAULT_VID
#define OL_DEFAULT_VID 0x1209
#endif
#ifndef OL_DEFAULT_PID
#define OL_DEFAULT_PID 0x0001
#endif

/* sysfs hands out at most OL_HID_DESCRIPTOR_MAX bytes; read_file keeps
 * one byte for a terminator. */
#define DESCRIPTOR_MAX (OL_HID_DESCRIPTOR_MAX + 1)
#define ATTR_MAX       4096
#define MAX_IDS        16

struct usb_id {
	uint16_t vid, pid;
};

static struct usb_id claimed[MAX_IDS];
static size_t n_claimed;
static int loaded;
static char claimed_text[MAX_IDS * 11];

/* "VVVV:PPPP" at s; 0 on success */
static int
parse_id(const char *s, struct usb_id *id)
{
	unsigned v = 0, p = 0;
	int i, h;

	for (i = 0; i < 4; i++) {
		if ((h = ol_hexval(s[i])) < 0)
			return -1;
		v = v << 4 | (unsigned)h;
	}
	if (s[4] != ':')
		return -1;
	for (i = 5; i < 9; i++) {
		if ((h = ol_hexval(s[i])) < 0)
			return -1;
		p = p << 4 | (unsigned)h;
	}
	id->vid = (uint16_t)v;
	id->pid = (uint16_t)p;
	return 0;
}

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
	size_t n;
	char *end;
	long v, p;

	n = (size_t)snprintf(path, sizeof(path), "%s%s", root != NULL ? root :
	    "", OL_BUNDLE_INFO_PLIST);
	if (n >= sizeof(path) || ol_plist_load(path, &pl) != OL_OK)
		return;
	n = ol_plist_count(pl, "ifdVendorID");
	if (ol_plist_count(pl, "ifdProductID") == n) {
		for (size_t i = 0; i < n; i++) {
			v = strtol(ol_plist_get(pl, "ifdVendorID", i), &end, 16);
			if (*end != '\0' || v <= 0 || v > 0xffff)
				continue;
			p = strtol(ol_plist_get(pl, "ifdProductID", i), &end, 16);
			if (*end != '\0' || p < 0 || p > 0xffff)
				continue;
			add_claimed((uint16_t)v, (uint16_t)p);
		}
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
	struct usb_id id;
	size_t off = 0;
	int n;

	if (loaded)
		return;
	loaded = 1;
	while (strlen(s) >= 9 && parse_id(s, &id) == 0) {
		add_claimed(id.vid, id.pid);
		s += 9;
		if (*s != ',')
			break;
		s++;
	}
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

/* Reads at most cap - 1 bytes of a small file, NUL-terminated; the length
 * read, or -1. */
static ssize_t
read_file(const char *path, char *buf, size_t cap)
{
	ssize_t n, total = 0;
	int fd;

	if (cap == 0 || (fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -1;
	while ((size_t)total < cap - 1) {
		n = read(fd, buf + total, cap - 1 - (size_t)total);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		total += n;
	}
	close(fd);
	buf[total] = '\0';
	return total;
}

/* First line of an attribute file into out, made printable; 0 on
 * success. */
static int
read_attr(const char *path, char *out, size_t cap)
{
	char buf[ATTR_MAX];

	if (read_file(path, buf, sizeof(buf)) < 0)
		return -1;
	buf[strcspn(buf, "\r\n")] = '\0';
	ol_make_printable(buf, 1);
	if (snprintf(out, cap, "%s", buf) < 0)
		return -1;
	return 0;
}

static int
read_int_attr(const char *path, int base, int *out)
{
	char buf[32], *end;
	long v;

	if (read_attr(path, buf, sizeof(buf)) != 0)
		return -1;
	errno = 0;
	v = strtol(buf, &end, base);
	if (errno != 0 || end == buf || v < 0 || v > INT_MAX)
		return -1;
	*out = (int)v;
	return 0;
}

/* HID_ID=0003:00001209:00000001, HID_NAME=..., HID_UNIQ=... */
static void
parse_uevent(const char *path, struct hid_list_node *n)
{
	char buf[ATTR_MAX], *line, *save = NULL, *end;
	unsigned long bus, vid, pid;

	if (read_file(path, buf, sizeof(buf)) < 0)
		return;
	for (line = strtok_r(buf, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		if (strncmp(line, "HID_ID=", 7) == 0) {
			errno = 0;
			bus = strtoul(line + 7, &end, 16);
			if (errno != 0 || *end != ':')
				continue;
			vid = strtoul(end + 1, &end, 16);
			if (errno != 0 || *end != ':')
				continue;
			pid = strtoul(end + 1, &end, 16);
			if (errno != 0 || vid > 0xffff || pid > 0xffff)
				continue;
			n->bus_type = (unsigned)bus;
			n->vid = (uint16_t)vid;
			n->pid = (uint16_t)pid;
			n->have_ids = 1;
		} else if (strncmp(line, "HID_NAME=", 9) == 0) {
			snprintf(n->product, sizeof(n->product), "%s", line + 9);
			ol_make_printable(n->product, 1);
		} else if (strncmp(line, "HID_UNIQ=", 9) == 0) {
			snprintf(n->serial, sizeof(n->serial), "%s", line + 9);
			ol_make_printable(n->serial, 0);
		}
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

/* Fills one node from ROOT/sys/class/hidraw/NAME; 0 on success. */
static int
read_node(const char *root, const char *name, struct hid_list_node *n)
{
	char dir[PATH_MAX], path[PATH_MAX + 64];
	uint8_t desc[DESCRIPTOR_MAX];
	ssize_t len;

	memset(n, 0, sizeof(*n));
	n->iface = n->usb_bus = n->usb_dev = -1;
	if (snprintf(n->name, sizeof(n->name), "%s", name) >=
	    (int)sizeof(n->name) ||
	    snprintf(n->node, sizeof(n->node), "%s/dev/%s", root, name) >=
	    (int)sizeof(n->node) ||
	    snprintf(dir, sizeof(dir), "%s/sys/class/hidraw/%s/device", root,
	    name) >= (int)sizeof(dir))
		return -1;

	snprintf(path, sizeof(path), "%s/uevent", dir);
	parse_uevent(path, n);
	n->claimed = n->have_ids && hid_list_id_claimed(n->vid, n->pid);

	snprintf(path, sizeof(path), "%s/report_descriptor", dir);
	if ((len = read_file(path, (char *)desc, sizeof(desc))) >= 0) {
		n->descriptor_read = 1;
		/* malformed (< 0) counts as no FIDO interface: the kernel
		 * would not have made one of it either */
		n->fido = ol_hid_descriptor_is_fido(desc, (size_t)len, 0) == 1;
	}

	/* device is the HID device; its parent the USB interface (with
	 * bInterfaceNumber), whose parent the USB device (busnum, devnum).
	 * ".." after a symlink resolves against the link's target. */
	if (n->bus_type == 3) {
		snprintf(path, sizeof(path), "%s/../bInterfaceNumber", dir);
		if (read_int_attr(path, 16, &n->iface) != 0)
			n->iface = -1;
		snprintf(path, sizeof(path), "%s/../../busnum", dir);
		if (read_int_attr(path, 10, &n->usb_bus) != 0)
			n->usb_bus = -1;
		snprintf(path, sizeof(path), "%s/../../devnum", dir);
		if (read_int_attr(path, 10, &n->usb_dev) != 0)
			n->usb_dev = -1;
	}
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
scan_hidraw(const char *root, struct hid_list *l)
{
	char dir[PATH_MAX];
	struct hid_list_node *grown;
	struct dirent *de;
	size_t cap = 0;
	DIR *d;
	int r = OL_OK;

	if (snprintf(dir, sizeof(dir), "%s/sys/class/hidraw", root) >=
	    (int)sizeof(dir))
		return OL_OK;
	if ((d = opendir(dir)) == NULL)
		return OL_OK; /* no hidraw support, or none yet: nothing */
	while ((de = readdir(d)) != NULL) {
		if (strncmp(de->d_name, "hidraw", 6) != 0)
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
		if (read_node(root, de->d_name, &l->nodes[l->n_nodes]) == 0)
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
usb_strings_from_sysfs(libusb_device *dev, struct hid_list_usb *u)
{
	uint8_t ports[8];
	char path[PATH_MAX], file[PATH_MAX + 16];
	size_t off;
	int n, i;

	n = libusb_get_port_numbers(dev, ports, (int)sizeof(ports));
	if (n <= 0)
		return;
	off = (size_t)snprintf(path, sizeof(path), "/sys/bus/usb/devices/%d-",
	    u->bus);
	for (i = 0; i < n && off < sizeof(path); i++) {
		int w = snprintf(path + off, sizeof(path) - off, "%s%u",
		    i > 0 ? "." : "", ports[i]);
		if (w < 0)
			return;
		off += (size_t)w;
	}
	if (off >= sizeof(path))
		return;
	snprintf(file, sizeof(file), "%s/product", path);
	read_attr(file, u->product, sizeof(u->product));
	snprintf(file, sizeof(file), "%s/serial", path);
	read_attr(file, u->serial, sizeof(u->serial));
}

static int
walk_libusb(struct hid_list *l)
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
		usb_strings_from_sysfs(devs[i], &u);
		if ((r = add_usb(l, &u, &cap)) != OL_OK)
			break;
	}
out:
	if (devs != NULL)
		libusb_free_device_list(devs, 1);
	libusb_exit(ctx);
	return r;
}

/* The test stand-in for libusb: ROOT/sys/bus/usb/devices/B-P (devices;
 * names with ':' are interfaces). */
static int
walk_sysfs_usb(const char *root, struct hid_list *l)
{
	char dir[PATH_MAX], path[PATH_MAX + 2 * NAME_MAX], s[16];
	struct hid_list_usb u;
	struct usb_id id;
	struct dirent *de, *ie;
	size_t cap = 0, len;
	DIR *d, *id_dir;
	int r = OL_OK, cls;

	if (snprintf(dir, sizeof(dir), "%s/sys/bus/usb/devices", root) >=
	    (int)sizeof(dir) || (d = opendir(dir)) == NULL) {
		snprintf(l->usb_error, sizeof(l->usb_error),
		    "no %s/sys/bus/usb/devices", root);
		return OL_OK;
	}
	l->usb_walked = 1;
	while (r == OL_OK && (de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.' || strchr(de->d_name, ':') != NULL)
			continue;
		char vp[12];
		snprintf(path, sizeof(path), "%s/%s/idVendor", dir, de->d_name);
		if (read_attr(path, s, sizeof(s)) != 0 || strlen(s) != 4)
			continue;
		memcpy(vp, s, 4);
		vp[4] = ':';
		snprintf(path, sizeof(path), "%s/%s/idProduct", dir, de->d_name);
		if (read_attr(path, s, sizeof(s)) != 0 || strlen(s) != 4)
			continue;
		memcpy(vp + 5, s, 4);
		vp[9] = '\0';
		if (parse_id(vp, &id) != 0 || !hid_list_id_claimed(id.vid, id.pid))
			continue;
		memset(&u, 0, sizeof(u));
		u.vid = id.vid;
		u.pid = id.pid;
		snprintf(path, sizeof(path), "%s/%s/busnum", dir, de->d_name);
		if (read_int_attr(path, 10, &u.bus) != 0)
			u.bus = -1;
		snprintf(path, sizeof(path), "%s/%s/devnum", dir, de->d_name);
		if (read_int_attr(path, 10, &u.dev) != 0)
			u.dev = -1;
		snprintf(path, sizeof(path), "%s/%s/product", dir, de->d_name);
		read_attr(path, u.product, sizeof(u.product));
		snprintf(path, sizeof(path), "%s/%s/serial", dir, de->d_name);
		read_attr(path, u.serial, sizeof(u.serial));
		/* interfaces are siblings named "B-P:C.I" */
		len = strlen(de->d_name);
		if ((id_dir = opendir(dir)) != NULL) {
			while ((ie = readdir(id_dir)) != NULL) {
				if (strncmp(ie->d_name, de->d_name, len) != 0 ||
				    ie->d_name[len] != ':')
					continue;
				snprintf(path, sizeof(path),
				    "%s/%s/bInterfaceClass", dir, ie->d_name);
				if (read_int_attr(path, 16, &cls) == 0 &&
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
	int r;

	if (out == NULL)
		return OL_ERR_ARG;
	memset(out, 0, sizeof(*out));
	if (root == NULL)
		root = "";
	load_claimed();
	if ((r = scan_hidraw(root, out)) != OL_OK)
		goto fail;
	r = root[0] != '\0' ? walk_sysfs_usb(root, out) : walk_libusb(out);
	if (r != OL_OK)
		goto fail;
	/* Tie each USB device to its FIDO hidraw node, if it has one. */
	for (size_t i = 0; i < out->n_usb; i++)
		for (size_t j = 0; j < out->n_nodes; j++)
			if (out->nodes[j].fido &&
			    out->nodes[j].usb_bus == out->usb[i].bus &&
			    out->nodes[j].usb_dev == out->usb[i].dev)
				out->usb[i].has_fido_node = 1;
	return OL_OK;
fail:
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
