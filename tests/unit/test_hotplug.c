/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ifd-openloop: tests of the sysfs walk from pcscd's USB names to hidraw
 * nodes (src/driver/hotplug.c) and of the HID report descriptor parser
 * (src/common/hid_descriptor.c), against fake sysfs trees built in a
 * temporary directory.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#define _GNU_SOURCE 1
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ftw.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "devname.h"
#include "hid_descriptor.h"
#include "hotplug.h"
#include "ol_err.h"
#include "ol_log.h"
#include "reader.h"
#include "fake_tree.h"

/* The FIDO descriptor of the QEMU gadget (/work/shared/vm-gadget.md) */
static const uint8_t fido_desc[] = {
	0x06, 0xd0, 0xf1, 0x09, 0x01, 0xa1, 0x01, 0x09, 0x20, 0x15, 0x00,
	0x26, 0xff, 0x00, 0x75, 0x08, 0x95, 0x40, 0x81, 0x02, 0x09, 0x21,
	0x15, 0x00, 0x26, 0xff, 0x00, 0x75, 0x08, 0x95, 0x40, 0x91, 0x02,
	0xc0,
};

/* A boot keyboard (HID 1.11 appendix B.1) */
static const uint8_t keyboard_desc[] = {
	0x05, 0x01, 0x09, 0x06, 0xa1, 0x01, 0x05, 0x07, 0x19, 0xe0, 0x29,
	0xe7, 0x15, 0x00, 0x25, 0x01, 0x75, 0x01, 0x95, 0x08, 0x81, 0x02,
	0x95, 0x01, 0x75, 0x08, 0x81, 0x01, 0x95, 0x05, 0x75, 0x01, 0x05,
	0x08, 0x19, 0x01, 0x29, 0x05, 0x91, 0x02, 0x95, 0x01, 0x75, 0x03,
	0x91, 0x01, 0x95, 0x06, 0x75, 0x08, 0x15, 0x00, 0x25, 0x65, 0x05,
	0x07, 0x19, 0x00, 0x29, 0x65, 0x81, 0x00, 0xc0,
};

/* snprintf into an array, failing the test rather than truncating */
#define FMT(buf, ...) \
	assert_true((size_t)snprintf((buf), sizeof(buf), __VA_ARGS__) < \
	    sizeof(buf))

static char root[PATH_MAX];     /* the fake /sys */
static char outside[PATH_MAX];  /* a FIDO device outside of it */
static char longroot[PATH_MAX]; /* a root so deep that joins overflow */
static char stage[PATH_MAX];    /* where its tree is built */
/* ROOT/devices/pci0000:00/usb3/3-1/3-1:1.0/0003:1209:0001.0010 fits,
 * ".../report_descriptor" does not */
#define LONGROOT_LEN (PATH_MAX - 70)

/* ---- building trees ---------------------------------------------- */

/*
 * A USB device at base/devices/usb<bus>/<name>, linked from
 * base/bus/usb/devices/<name> the way the kernel links it (relative).
 */
static void
usb_device(const char *base, const char *name, int bus, int addr,
    const char *serial, char *dir, size_t cap)
{
	char num[16], target[PATH_MAX];

	assert_true((size_t)snprintf(dir, cap, "%s/devices/pci0000:00/usb%d/%s",
	    base, bus, name) < cap);
	mkdirs("%s", dir);
	mkdirs("%s/bus/usb/devices", base);
	FMT(num, "%d\n", bus);
	put_str(dir, "busnum", num);
	FMT(num, "%d\n", addr);
	put_str(dir, "devnum", num);
	if (serial != NULL)
		put_str(dir, "serial", serial);
	/* relative, as the kernel makes it */
	FMT(target, "../../../devices/pci0000:00/usb%d/%s", bus, name);
	link_to(target, "%s/bus/usb/devices/%s", base, name);
}

/*
 * Interface <dev>:1.<ifnum>; with desc != NULL a HID device below it
 * with that report descriptor and, with hidraw != NULL, its node.
 */
static void
usb_interface(const char *devdir, const char *devname, int ifnum, int cls,
    const uint8_t *desc, size_t desc_len, const char *hidraw)
{
	char ifdir[PATH_MAX], hid[PATH_MAX], num[16];

	FMT(ifdir, "%s/%s:1.%d", devdir, devname, ifnum);
	mkdirs("%s", ifdir);
	FMT(num, "%02x\n", ifnum);
	put_str(ifdir, "bInterfaceNumber", num);
	FMT(num, "%02x\n", cls);
	put_str(ifdir, "bInterfaceClass", num);
	if (desc == NULL)
		return;
	FMT(hid, "%s/0003:1209:0001.%04X", ifdir,
	    0x10 + ifnum);
	mkdirs("%s", hid);
	if (desc_len > 0)
		put(hid, "report_descriptor", desc, desc_len);
	if (hidraw != NULL)
		mkdirs("%s/hidraw/%s", hid, hidraw);
}

/* rename(from/name, to/name) */
static void
move_into(const char *from, const char *to, const char *name)
{
	char a[PATH_MAX], b[PATH_MAX];

	FMT(a, "%s/%s", from, name);
	FMT(b, "%s/%s", to, name);
	assert_int_equal(rename(a, b), 0);
}

static int
setup(void **state)
{
	char dir[PATH_MAX], big[600], hidraw_long[120], name[256];
	size_t n;

	(void)state;
	FMT(root, "/tmp/ol-hotplug-XXXXXX");
	FMT(outside, "/tmp/ol-hotplug-out-XXXXXX");
	if (mkdtemp(root) == NULL || mkdtemp(outside) == NULL)
		return -1;

	/* root hub of bus 3: busnum 3, devnum 1, no interface of ours */
	usb_device(root, "usb3", 3, 1, NULL, dir, sizeof(dir));
	usb_interface(dir, "usb3", 0, 0x09, NULL, 0, NULL);

	/* composite device 3/17: FIDO HID, keyboard HID, CCID */
	usb_device(root, "3-1", 3, 17, "OL123\n", dir, sizeof(dir));
	usb_interface(dir, "3-1", 0, 0x03, fido_desc, sizeof(fido_desc),
	    "hidraw3");
	usb_interface(dir, "3-1", 1, 0x03, keyboard_desc,
	    sizeof(keyboard_desc), "hidraw4");
	usb_interface(dir, "3-1", 2, 0x0b, NULL, 0, NULL);
	/* the kernel lists interfaces in bus/usb/devices too */
	link_to(dir, "%s/bus/usb/devices/3-1:1.0-notadevice", root);

	/* a second Openloop device on the same bus */
	usb_device(root, "3-2", 3, 18, "OL456", dir, sizeof(dir));
	usb_interface(dir, "3-2", 0, 0x03, fido_desc, sizeof(fido_desc),
	    "hidraw7");

	/* bus 4 has a device at the same address as 3-1 */
	usb_device(root, "4-1", 4, 17, "OTHER", dir, sizeof(dir));
	usb_interface(dir, "4-1", 0, 0x03, fido_desc, sizeof(fido_desc),
	    "hidraw9");

	/* 3/19: HID interface without report_descriptor */
	usb_device(root, "3-3", 3, 19, "NODESC", dir, sizeof(dir));
	usb_interface(dir, "3-3", 0, 0x03, fido_desc, 0, "hidraw10");

	/* 3/20: descriptor cut inside the collection */
	usb_device(root, "3-4", 3, 20, "TRUNC", dir, sizeof(dir));
	usb_interface(dir, "3-4", 0, 0x03, fido_desc, 20, "hidraw11");

	/* 3/21: "USB HID" switched off: CCID only */
	usb_device(root, "3-5", 3, 21, "NOHID", dir, sizeof(dir));
	usb_interface(dir, "3-5", 0, 0x0b, NULL, 0, NULL);

	/* 3/22: FIDO, but hidraw not bound */
	usb_device(root, "3-6", 3, 22, NULL, dir, sizeof(dir));
	usb_interface(dir, "3-6", 0, 0x03, fido_desc, sizeof(fido_desc),
	    NULL);

	/* outside the root: a complete FIDO device at 9/9 */
	usb_device(outside, "9-9", 9, 9, "ESCAPED", dir, sizeof(dir));
	usb_interface(dir, "9-9", 0, 0x03, fido_desc, sizeof(fido_desc),
	    "hidraw99");
	/* ... reached by a device symlink inside the root */
	link_to(dir, "%s/bus/usb/devices/9-9", root);
	/* 3/23: its interface 0 is a symlink to the outside interface */
	usb_device(root, "3-7", 3, 23, "IFLINK", dir, sizeof(dir));
	{
		char target[PATH_MAX];

		FMT(target,
		    "%s/devices/pci0000:00/usb9/9-9/9-9:1.0", outside);
		link_to(target, "%s/3-7:1.0", dir);
	}
	/* 3/24: a HID device whose report_descriptor is a symlink to the
	 * FIDO descriptor outside, and whose hidraw dir escapes too */
	usb_device(root, "3-8", 3, 24, "DESCLINK", dir, sizeof(dir));
	usb_interface(dir, "3-8", 0, 0x03, NULL, 0, NULL);
	{
		char hid[PATH_MAX], target[PATH_MAX];

		FMT(hid, "%s/3-8:1.0/0003:1209:0001.0030", dir);
		mkdirs("%s", hid);
		FMT(target, "%s/devices/pci0000:00/usb9/"
		    "9-9/9-9:1.0/0003:1209:0001.0010/report_descriptor",
		    outside);
		link_to(target, "%s/report_descriptor", hid);
	}

	/* 3/25: long names: a device name as long as its interface names
	 * ("NAME:1.0") allow, a serial longer than a USB string, a hidraw
	 * name longer than the result buffer */
	memset(name, 'x', sizeof(name) - 1);
	name[NAME_MAX - 4] = '\0';
	usb_device(root, name, 5, 1, "LONGNAME", dir, sizeof(dir));
	usb_interface(dir, name, 0, 0x03, fido_desc, sizeof(fido_desc),
	    "hidraw12");
	memset(big, 'S', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	usb_device(root, "3-9", 3, 25, big, dir, sizeof(dir));
	n = (size_t)snprintf(hidraw_long, sizeof(hidraw_long), "hidraw");
	memset(hidraw_long + n, '7', sizeof(hidraw_long) - n - 1);
	hidraw_long[sizeof(hidraw_long) - 1] = '\0';
	usb_interface(dir, "3-9", 0, 0x03, fido_desc, sizeof(fido_desc),
	    hidraw_long);
	/* a serial of exactly 511 bytes fits */
	big[OL_HOTPLUG_SERIAL_MAX - 1] = '\0';
	usb_device(root, "3-10", 3, 26, big, dir, sizeof(dir));

	/* a root so long that the device directory still fits PATH_MAX
	 * but its HID device's report_descriptor does not: built in a
	 * short place, then moved there (files may lie deeper than
	 * PATH_MAX, only the paths to them may not be that long) */
	n = (size_t)snprintf(longroot, sizeof(longroot), "%s/deep", root);
	while (n < LONGROOT_LEN) {
		size_t k = LONGROOT_LEN - n - 1 > 200 ? 200 :
		    LONGROOT_LEN - n - 1;

		longroot[n++] = '/';
		memset(longroot + n, 'd', k);
		n += k;
		longroot[n] = '\0';
	}
	mkdirs("%s", longroot);
	FMT(stage, "%s/stage", root);
	usb_device(stage, "3-1", 3, 17, "DEEP", dir, sizeof(dir));
	usb_interface(dir, "3-1", 0, 0x03, fido_desc, sizeof(fido_desc),
	    "hidraw3");
	move_into(stage, longroot, "devices");
	move_into(stage, longroot, "bus");
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	/* nftw cannot reach below PATH_MAX: move the deep tree back */
	if (longroot[0] != '\0' && stage[0] != '\0') {
		char a[PATH_MAX], b[PATH_MAX];

		if ((size_t)snprintf(a, sizeof(a), "%s/devices", longroot) <
		    sizeof(a) && (size_t)snprintf(b, sizeof(b), "%s/devices",
		    stage) < sizeof(b))
			(void)rename(a, b);
	}
	rm_tree(root);
	rm_tree(outside);
	return 0;
}

/* ---- helpers ------------------------------------------------------ */

static int
find(const char *name, struct ol_hotplug_result *res)
{
	struct ol_devname dev;
	const char *why = NULL;

	assert_int_equal(ol_devname_parse(name, &dev, &why), OL_OK);
	return ol_hotplug_find_hidraw(root, &dev, 0, res);
}

static void
describe(const char *name, const struct ol_hotplug_result *res, char *buf,
    size_t cap)
{
	struct ol_devname dev;

	assert_int_equal(ol_devname_parse(name, &dev, NULL), OL_OK);
	ol_hotplug_describe(&dev, res, buf, cap);
}

/* ---- descriptor parser -------------------------------------------- */

static void
test_descriptor_fido(void **state)
{
	(void)state;
	assert_int_equal(ol_hid_descriptor_is_fido(fido_desc,
	    sizeof(fido_desc), 0), 1);
	assert_int_equal(ol_hid_descriptor_is_fido(fido_desc,
	    sizeof(fido_desc), OL_HID_FIDO_USAGE_PAGE), 1);
	/* a configured page other than the descriptor's */
	assert_int_equal(ol_hid_descriptor_is_fido(fido_desc,
	    sizeof(fido_desc), 0xff00), 0);
	assert_int_equal(ol_hid_descriptor_is_fido(keyboard_desc,
	    sizeof(keyboard_desc), 0), 0);
	assert_int_equal(ol_hid_descriptor_has_collection(keyboard_desc,
	    sizeof(keyboard_desc), 0x01, 0x06), 1);
	assert_int_equal(ol_hid_descriptor_is_fido(NULL, 0, 0), 0);
}

static void
test_descriptor_forms(void **state)
{
	/* long item first, Push/Pop, extended 4-byte usage */
	static const uint8_t ext[] = {
		0xfe, 0x02, 0x10, 0xaa, 0xbb, 0x05, 0x01, 0xa4, 0x06, 0xd0,
		0xf1, 0xb4, 0x0b, 0x01, 0x00, 0xd0, 0xf1, 0xa1, 0x01, 0xa1,
		0x00, 0xc0, 0xc0,
	};
	/* usage page as a 4-byte item, keyboard first */
	static const uint8_t page4[] = {
		0x05, 0x01, 0x09, 0x06, 0xa1, 0x01, 0xc0,
		0x07, 0xd0, 0xf1, 0x00, 0x00, 0x09, 0x01, 0xa1, 0x01, 0xc0,
	};
	/* FIDO usage, but only in a nested collection */
	static const uint8_t nested[] = {
		0x05, 0x01, 0x09, 0x06, 0xa1, 0x01, 0x06, 0xd0, 0xf1, 0x09,
		0x01, 0xa1, 0x01, 0xc0, 0xc0,
	};
	/* FIDO page, but a Physical collection */
	static const uint8_t physical[] = {
		0x06, 0xd0, 0xf1, 0x09, 0x01, 0xa1, 0x00, 0xc0,
	};
	/* the page is popped back to 1 before the collection */
	static const uint8_t popped[] = {
		0x05, 0x01, 0xa4, 0x06, 0xd0, 0xf1, 0x09, 0x01, 0xb4, 0xa1,
		0x01, 0xc0,
	};

	(void)state;
	assert_int_equal(ol_hid_descriptor_is_fido(ext, sizeof(ext), 0), 1);
	assert_int_equal(ol_hid_descriptor_is_fido(page4, sizeof(page4), 0), 1);
	assert_int_equal(ol_hid_descriptor_is_fido(nested, sizeof(nested), 0),
	    0);
	assert_int_equal(ol_hid_descriptor_is_fido(physical,
	    sizeof(physical), 0), 0);
	/* the page in effect at the Collection item counts */
	assert_int_equal(ol_hid_descriptor_is_fido(popped, sizeof(popped), 0),
	    0);
}

static void
test_descriptor_malformed(void **state)
{
	static const uint8_t pop_empty[] = { 0xb4, 0x06, 0xd0, 0xf1 };
	static const uint8_t close_extra[] = { 0xc0 };
	static const uint8_t long_cut[] = { 0xfe, 0x10, 0x00, 0x01 };
	static const uint8_t push5[] = { 0xa4, 0xa4, 0xa4, 0xa4, 0xa4 };
	uint8_t deep[2 * 300];
	size_t i;

	(void)state;
	/* every proper prefix of the FIDO descriptor is refused: it cuts
	 * an item or leaves the collection open */
	for (i = 1; i < sizeof(fido_desc); i++)
		assert_int_equal(ol_hid_descriptor_is_fido(fido_desc, i, 0),
		    i < 7 ? (i == 3 || i == 5 ? 0 : OL_ERR_PROTOCOL) :
		    OL_ERR_PROTOCOL);
	assert_int_equal(ol_hid_descriptor_is_fido(pop_empty,
	    sizeof(pop_empty), 0), OL_ERR_PROTOCOL);
	assert_int_equal(ol_hid_descriptor_is_fido(close_extra,
	    sizeof(close_extra), 0), OL_ERR_PROTOCOL);
	assert_int_equal(ol_hid_descriptor_is_fido(long_cut,
	    sizeof(long_cut), 0), OL_ERR_PROTOCOL);
	assert_int_equal(ol_hid_descriptor_is_fido(push5, sizeof(push5), 0),
	    OL_ERR_PROTOCOL);
	for (i = 0; i < sizeof(deep); i += 2) {
		deep[i] = 0xa1;
		deep[i + 1] = 0x00;
	}
	assert_int_equal(ol_hid_descriptor_is_fido(deep, sizeof(deep), 0),
	    OL_ERR_PROTOCOL);
}

/* ---- sysfs walk ---------------------------------------------------- */

static void
test_composite_libudev(void **state)
{
	struct ol_hotplug_result res;
	char msg[256];

	(void)state;
	assert_int_equal(find("usb:1209/0001:libudev:0:/dev/bus/usb/003/017",
	    &res), OL_OK);
	assert_int_equal(res.reason, OL_HOTPLUG_FOUND);
	assert_string_equal(res.node, "hidraw3");
	assert_string_equal(res.serial, "OL123");
	assert_int_equal(res.fido_interface, 0);
	assert_int_equal(res.interface_class, 3);

	/* the keyboard interface of the same device */
	assert_int_equal(find("usb:1209/0001:libudev:1:/dev/bus/usb/003/017",
	    &res), OL_ERR_NO_DEVICE);
	assert_int_equal(res.reason, OL_HOTPLUG_NOT_FIDO);
	assert_string_equal(res.node, "");
	assert_string_equal(res.serial, "OL123");
	assert_int_equal(res.fido_interface, 0);
	describe("usb:1209/0001:libudev:1:/dev/bus/usb/003/017", &res, msg,
	    sizeof(msg));
	assert_string_equal(msg, "interface 1 of 1209:0001 is not the FIDO "
	    "HID interface (interface 0 is): skipped");

	/* the CCID interface */
	assert_int_equal(find("usb:1209/0001:libudev:2:/dev/bus/usb/003/017",
	    &res), OL_ERR_NO_DEVICE);
	assert_int_equal(res.reason, OL_HOTPLUG_NOT_HID);
	assert_int_equal(res.interface_class, 0x0b);
	assert_int_equal(res.fido_interface, 0);

	/* no interface 3 */
	assert_int_equal(find("usb:1209/0001:libudev:3:/dev/bus/usb/003/017",
	    &res), OL_ERR_NO_DEVICE);
	assert_int_equal(res.reason, OL_HOTPLUG_NO_INTERFACE);
}

static void
test_libusb_form(void **state)
{
	struct ol_hotplug_result res;

	(void)state;
	assert_int_equal(find("usb:1209/0001:libusb-1.0:3:17:0", &res), OL_OK);
	assert_string_equal(res.node, "hidraw3");
	assert_string_equal(res.serial, "OL123");
	assert_int_equal(find("usb:1209/0001:libusb-1.0:3:17:1", &res),
	    OL_ERR_NO_DEVICE);
	assert_int_equal(res.reason, OL_HOTPLUG_NOT_FIDO);
}

static void
test_two_devices(void **state)
{
	struct ol_hotplug_result a, b;

	(void)state;
	assert_int_equal(find("usb:1209/0001:libudev:0:/dev/bus/usb/003/017",
	    &a), OL_OK);
	assert_int_equal(find("usb:1209/0001:libudev:0:/dev/bus/usb/003/018",
	    &b), OL_OK);
	assert_string_equal(a.node, "hidraw3");
	assert_string_equal(b.node, "hidraw7");
	assert_string_equal(a.serial, "OL123");
	assert_string_equal(b.serial, "OL456");
}

static void
test_wrong_bus(void **state)
{
	struct ol_hotplug_result res;
	char msg[256];

	(void)state;
	/* address 17 on bus 4 is another device than on bus 3 */
	assert_int_equal(find("usb:1209/0001:libusb-1.0:4:17:0", &res), OL_OK);
	assert_string_equal(res.node, "hidraw9");
	assert_string_equal(res.serial, "OTHER");
	/* nothing at 5/17 (unplugged) */
	assert_int_equal(find("usb:1209/0001:libusb-1.0:6:17:0", &res),
	    OL_ERR_NO_DEVICE);
	assert_int_equal(res.reason, OL_HOTPLUG_NO_USB_DEVICE);
	assert_string_equal(res.serial, "");
	describe("usb:1209/0001:libusb-1.0:6:17:0", &res, msg, sizeof(msg));
	assert_non_null(strstr(msg, "006/017"));
	assert_non_null(strstr(msg, "unplugged"));
}

static void
test_bad_descriptors(void **state)
{
	struct ol_hotplug_result res;
	char msg[256];

	(void)state;
	assert_int_equal(find("usb:1209/0001:libudev:0:/dev/bus/usb/003/019",
	    &res), OL_ERR_NO_DEVICE);
	assert_int_equal(res.reason, OL_HOTPLUG_BAD_DESCRIPTOR);
	assert_int_equal(res.fido_interface, -1);
	assert_string_equal(res.serial, "NODESC");
	assert_int_equal(find("usb:1209/0001:libudev:0:/dev/bus/usb/003/020",
	    &res), OL_ERR_NO_DEVICE);
	assert_int_equal(res.reason, OL_HOTPLUG_BAD_DESCRIPTOR);
	describe("usb:1209/0001:libudev:0:/dev/bus/usb/003/020", &res, msg,
	    sizeof(msg));
	assert_non_null(strstr(msg, "unreadable report descriptor"));
}

static void
test_usb_hid_off(void **state)
{
	struct ol_hotplug_result res;
	char msg[256];

	(void)state;
	assert_int_equal(find("usb:1209/0001:libudev:0:/dev/bus/usb/003/021",
	    &res), OL_ERR_NO_DEVICE);
	assert_int_equal(res.reason, OL_HOTPLUG_NOT_HID);
	assert_int_equal(res.fido_interface, -1);
	describe("usb:1209/0001:libudev:0:/dev/bus/usb/003/021", &res, msg,
	    sizeof(msg));
	assert_string_equal(msg, "1209:0001 has no FIDO HID interface "
	    "(interface 0: not HID): switch \"USB HID\" ON in the device's "
	    "settings and replug it");
}

static void
test_no_hidraw(void **state)
{
	struct ol_hotplug_result res;
	char msg[256];

	(void)state;
	assert_int_equal(find("usb:1209/0001:libudev:0:/dev/bus/usb/003/022",
	    &res), OL_ERR_NO_DEVICE);
	assert_int_equal(res.reason, OL_HOTPLUG_NO_HIDRAW);
	assert_string_equal(res.serial, "");
	describe("usb:1209/0001:libudev:0:/dev/bus/usb/003/022", &res, msg,
	    sizeof(msg));
	assert_non_null(strstr(msg, "hidraw kernel module"));
}

static void
test_symlink_escape(void **state)
{
	struct ol_hotplug_result res;
	char other[PATH_MAX];

	(void)state;
	/* the device link leads outside: not a device of this tree */
	assert_int_equal(find("usb:1209/0001:libusb-1.0:9:9:0", &res),
	    OL_ERR_NO_DEVICE);
	assert_int_equal(res.reason, OL_HOTPLUG_NO_USB_DEVICE);
	assert_string_equal(res.serial, "");
	/* ... while the same tree used as root does resolve: the test can
	 * tell "refused" from "broken fixture" */
	FMT(other, "%s", outside);
	{
		struct ol_devname dev;

		assert_int_equal(ol_devname_parse(
		    "usb:1209/0001:libusb-1.0:9:9:0", &dev, NULL), OL_OK);
		assert_int_equal(ol_hotplug_find_hidraw(other, &dev, 0, &res),
		    OL_OK);
		assert_string_equal(res.node, "hidraw99");
		assert_string_equal(res.serial, "ESCAPED");
	}
	/* an interface directory linked to the outside one */
	assert_int_equal(find("usb:1209/0001:libusb-1.0:3:23:0", &res),
	    OL_ERR_NO_DEVICE);
	assert_int_equal(res.reason, OL_HOTPLUG_NO_INTERFACE);
	assert_string_equal(res.serial, "IFLINK");
	/* a report_descriptor linked to the outside FIDO descriptor */
	assert_int_equal(find("usb:1209/0001:libusb-1.0:3:24:0", &res),
	    OL_ERR_NO_DEVICE);
	assert_int_equal(res.reason, OL_HOTPLUG_BAD_DESCRIPTOR);
}

static void
test_long_names(void **state)
{
	struct ol_hotplug_result res;
	struct ol_devname dev;

	(void)state;
	/* a 251-character device name works */
	assert_int_equal(find("usb:1209/0001:libusb-1.0:5:1:0", &res), OL_OK);
	assert_string_equal(res.node, "hidraw12");
	assert_string_equal(res.serial, "LONGNAME");
	/* a hidraw name longer than the result: refused, not truncated;
	 * a serial longer than a USB string: dropped */
	assert_int_equal(find("usb:1209/0001:libusb-1.0:3:25:0", &res),
	    OL_ERR_NO_DEVICE);
	assert_int_equal(res.reason, OL_HOTPLUG_NO_HIDRAW);
	assert_string_equal(res.serial, "");
	assert_string_equal(res.node, "");
	/* 511 bytes fit */
	assert_int_equal(find("usb:1209/0001:libusb-1.0:3:26:0", &res),
	    OL_ERR_NO_DEVICE);
	assert_int_equal(strlen(res.serial), OL_HOTPLUG_SERIAL_MAX - 1);
	/* a root whose paths overflow PATH_MAX: the device is found, its
	 * descriptor cannot be named: refused, nothing overflows */
	assert_int_equal(ol_devname_parse(
	    "usb:1209/0001:libusb-1.0:3:17:0", &dev, NULL), OL_OK);
	assert_int_equal(strlen(longroot), LONGROOT_LEN);
	assert_int_equal(ol_hotplug_find_hidraw(longroot, &dev, 0, &res),
	    OL_ERR_NO_DEVICE);
	assert_string_equal(res.serial, "DEEP");
	assert_int_equal(res.interface_class, 3);
	assert_int_equal(res.reason, OL_HOTPLUG_BAD_DESCRIPTOR);
}

static void
test_arguments(void **state)
{
	struct ol_hotplug_result res;
	struct ol_devname dev;

	(void)state;
	assert_int_equal(ol_devname_parse("/dev/hidraw0", &dev, NULL), OL_OK);
	assert_int_equal(ol_hotplug_find_hidraw(root, &dev, 0, &res),
	    OL_ERR_ARG);
	assert_int_equal(ol_devname_parse("usb:1209/0001:libusb-1.0:3:17:0",
	    &dev, NULL), OL_OK);
	assert_int_equal(ol_hotplug_find_hidraw(NULL, &dev, 0, &res),
	    OL_ERR_ARG);
	assert_int_equal(ol_hotplug_find_hidraw(root, NULL, 0, &res),
	    OL_ERR_ARG);
	assert_int_equal(ol_hotplug_find_hidraw(root, &dev, 0, NULL),
	    OL_ERR_ARG);
	assert_int_equal(ol_hotplug_find_hidraw("/nonexistent/ol-sysfs",
	    &dev, 0, &res), OL_ERR_ARG);
	/* a configured usage page the device does not carry */
	assert_int_equal(ol_hotplug_find_hidraw(root, &dev, 0xff00, &res),
	    OL_ERR_NO_DEVICE);
	assert_int_equal(res.reason, OL_HOTPLUG_NOT_FIDO);
	assert_int_equal(res.fido_interface, -1);
}

/* ---- the reader on top ------------------------------------------- */

static char logbuf[8192];

static void
log_sink(unsigned category, const struct ol_log_origin *origin,
    const char *msg)
{
	size_t used = strlen(logbuf);

	(void)origin;
	(void)category;
	(void)snprintf(logbuf + used, sizeof(logbuf) - used, "%s\n", msg);
}

static void
test_reader_open(void **state)
{
	ol_reader_t *r = NULL;

	(void)state;
	ol_log_set_sink(log_sink);
	assert_int_equal(setenv(OL_HOTPLUG_SYSFS_ENV, root, 1), 0);

	/* the keyboard interface: skipped, saying which one is ours */
	logbuf[0] = '\0';
	assert_int_equal(ol_reader_open(
	    "usb:1209/0001:libudev:1:/dev/bus/usb/003/017", NULL, &r),
	    OL_ERR_NO_DEVICE);
	assert_null(r);
	assert_non_null(strstr(logbuf, "interface 1 of 1209:0001 is not the "
	    "FIDO HID interface (interface 0 is)"));

	/* USB HID off: the hint */
	logbuf[0] = '\0';
	assert_int_equal(ol_reader_open(
	    "usb:1209/0001:libusb-1.0:3:21:0", NULL, &r), OL_ERR_NO_DEVICE);
	assert_non_null(strstr(logbuf, "has no FIDO HID interface"));
	assert_non_null(strstr(logbuf, "\"USB HID\" ON"));

	/* the FIDO interface resolves to its node, which this machine does
	 * not have (or which is no hidraw of ours): the open is tried */
	logbuf[0] = '\0';
	assert_int_equal(ol_reader_open(
	    "usb:1209/0001:libusb-1.0:3:18:0", NULL, &r), OL_ERR_NO_DEVICE);
	assert_non_null(strstr(logbuf, "/dev/hidraw7"));

	/* a sysfs root that does not exist */
	assert_int_equal(setenv(OL_HOTPLUG_SYSFS_ENV, "/nonexistent/ol", 1),
	    0);
	logbuf[0] = '\0';
	assert_int_equal(ol_reader_open(
	    "usb:1209/0001:libusb-1.0:3:18:0", NULL, &r), OL_ERR_NO_DEVICE);
	assert_non_null(strstr(logbuf, "cannot read sysfs at /nonexistent/ol"));
	assert_int_equal(unsetenv(OL_HOTPLUG_SYSFS_ENV), 0);
	ol_log_set_sink(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_descriptor_fido),
		cmocka_unit_test(test_descriptor_forms),
		cmocka_unit_test(test_descriptor_malformed),
		cmocka_unit_test(test_composite_libudev),
		cmocka_unit_test(test_libusb_form),
		cmocka_unit_test(test_two_devices),
		cmocka_unit_test(test_wrong_bus),
		cmocka_unit_test(test_bad_descriptors),
		cmocka_unit_test(test_usb_hid_off),
		cmocka_unit_test(test_no_hidraw),
		cmocka_unit_test(test_symlink_escape),
		cmocka_unit_test(test_long_names),
		cmocka_unit_test(test_arguments),
		cmocka_unit_test(test_reader_open),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
