/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ifd-openloop: tests of the DEVICENAME parser (src/driver/devname.c).
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "devname.h"
#include "ol_err.h"

/* Parses name, expects an error, and checks the explanation. */
static void
expect_bad(const char *name)
{
	struct ol_devname d;
	const char *why = NULL;

	memset(&d, 0xa5, sizeof(d));
	assert_int_equal(ol_devname_parse(name, &d, &why), OL_ERR_ARG);
	assert_non_null(why);
	assert_true(strlen(why) > 10);
	/* nothing half-parsed is left behind */
	assert_int_equal(d.vid, 0);
	assert_int_equal(d.path[0], '\0');
}

static void
test_libudev(void **state)
{
	struct ol_devname d;
	const char *why = "unset";

	(void)state;
	assert_int_equal(ol_devname_parse(
	    "usb:1209/0001:libudev:1:/dev/bus/usb/003/017", &d, &why), OL_OK);
	assert_null(why);
	assert_int_equal(d.kind, OL_DEVNAME_LIBUDEV);
	assert_int_equal(d.vid, 0x1209);
	assert_int_equal(d.pid, 0x0001);
	assert_int_equal(d.interface, 1);
	assert_int_equal(d.bus, 3);
	assert_int_equal(d.address, 17);
	assert_string_equal(d.path, "/dev/bus/usb/003/017");
}

static void
test_libudev_upper_hex_and_suffix(void **state)
{
	struct ol_devname d;

	(void)state;
	assert_int_equal(ol_devname_parse(
	    "usb:20A0/42b2:libudev:0:/dev/bus/usb/255/127:future:fields", &d,
	    NULL), OL_OK);
	assert_int_equal(d.vid, 0x20a0);
	assert_int_equal(d.pid, 0x42b2);
	assert_int_equal(d.interface, 0);
	assert_int_equal(d.bus, 255);
	assert_int_equal(d.address, 127);
	/* the suffix is not part of the path */
	assert_string_equal(d.path, "/dev/bus/usb/255/127");
}

static void
test_libudev_bad(void **state)
{
	(void)state;
	/* no path, relative path, path not ending in BBB/DDD */
	expect_bad("usb:1209/0001:libudev:0:");
	expect_bad("usb:1209/0001:libudev:0");
	expect_bad("usb:1209/0001:libudev:0:dev/bus/usb/001/002");
	expect_bad("usb:1209/0001:libudev:0:/dev/bus/usb/001");
	expect_bad("usb:1209/0001:libudev:0:/dev/bus/usb/001/");
	expect_bad("usb:1209/0001:libudev:0:/dev/bus/usb/x01/002");
	expect_bad("usb:1209/0001:libudev:0:/dev/bus/usb/001/002x");
	expect_bad("usb:1209/0001:libudev:0:(null)");
	/* ranges: bus 0, address 0 and 128, interface 256 */
	expect_bad("usb:1209/0001:libudev:0:/dev/bus/usb/000/002");
	expect_bad("usb:1209/0001:libudev:0:/dev/bus/usb/001/000");
	expect_bad("usb:1209/0001:libudev:0:/dev/bus/usb/001/128");
	expect_bad("usb:1209/0001:libudev:256:/dev/bus/usb/001/002");
	expect_bad("usb:1209/0001:libudev:-1:/dev/bus/usb/001/002");
}

static void
test_libusb(void **state)
{
	struct ol_devname d;

	(void)state;
	assert_int_equal(ol_devname_parse("usb:1209/0001:libusb-1.0:2:9:1",
	    &d, NULL), OL_OK);
	assert_int_equal(d.kind, OL_DEVNAME_LIBUSB);
	assert_int_equal(d.vid, 0x1209);
	assert_int_equal(d.pid, 0x0001);
	assert_int_equal(d.bus, 2);
	assert_int_equal(d.address, 9);
	assert_int_equal(d.interface, 1);
	assert_string_equal(d.path, "");

	/* suffix after a complete form is ignored */
	assert_int_equal(ol_devname_parse(
	    "usb:1209/0001:libusb-1.0:255:127:255:extra:1", &d, NULL), OL_OK);
	assert_int_equal(d.bus, 255);
	assert_int_equal(d.address, 127);
	assert_int_equal(d.interface, 255);
	assert_int_equal(ol_devname_parse("usb:1209/0001:libusb-1.0:1:1:0:",
	    &d, NULL), OL_OK);
}

static void
test_libusb_bad(void **state)
{
	(void)state;
	expect_bad("usb:1209/0001:libusb-1.0:2:9");
	expect_bad("usb:1209/0001:libusb-1.0:2:9:");
	expect_bad("usb:1209/0001:libusb-1.0:2::1");
	expect_bad("usb:1209/0001:libusb-1.0:2:9:1x");
	expect_bad("usb:1209/0001:libusb-1.0: 2:9:1");
	expect_bad("usb:1209/0001:libusb-1.0:+2:9:1");
	expect_bad("usb:1209/0001:libusb-1.0:0:9:1");       /* bus 0 */
	expect_bad("usb:1209/0001:libusb-1.0:256:9:1");
	expect_bad("usb:1209/0001:libusb-1.0:2:128:1");
	expect_bad("usb:1209/0001:libusb-1.0:2:9:256");
	expect_bad("usb:1209/0001:libusb:2:9:1");
	expect_bad("usb:1209/0001:hal:2:9:1");
}

static void
test_usb_ids_bad(void **state)
{
	(void)state;
	expect_bad("usb:129/0001:libusb-1.0:2:9:1");
	expect_bad("usb:12090/0001:libusb-1.0:2:9:1");
	expect_bad("usb:1209/001:libusb-1.0:2:9:1");
	expect_bad("usb:1209:0001:libusb-1.0:2:9:1");
	expect_bad("usb:12g9/0001:libusb-1.0:2:9:1");
	expect_bad("usb:1209/0001");
	expect_bad("usb:1209/0001:");
	expect_bad("usb:");
	expect_bad("USB:1209/0001:libusb-1.0:2:9:1");
}

static void
test_overflow_numbers(void **state)
{
	(void)state;
	expect_bad("usb:1209/0001:libusb-1.0:99999999999999999999:9:1");
	expect_bad("usb:1209/0001:libusb-1.0:2:4294967298:1");
	expect_bad("usb:1209/0001:libusb-1.0:2:9:18446744073709551617");
	expect_bad("usb:1209/0001:libudev:4294967296:/dev/bus/usb/001/002");
	expect_bad("usb:1209/0001:libudev:0:/dev/bus/usb/"
	    "000000000000000000001/002");
}

static void
test_hidraw(void **state)
{
	struct ol_devname d;

	(void)state;
	assert_int_equal(ol_devname_parse("/dev/hidraw3", &d, NULL), OL_OK);
	assert_int_equal(d.kind, OL_DEVNAME_HIDRAW);
	assert_string_equal(d.path, "/dev/hidraw3");
	/* any absolute path: udev symlinks, test nodes */
	assert_int_equal(ol_devname_parse("/dev/openloop-a:b", &d, NULL),
	    OL_OK);
	assert_string_equal(d.path, "/dev/openloop-a:b");

	expect_bad("/");
	expect_bad("dev/hidraw3");
	expect_bad("hidraw3");
	expect_bad("/dev/hid\nraw3");
	expect_bad("/dev/hid\033[2Jraw3");
}

static void
test_unix(void **state)
{
	struct ol_devname d;

	(void)state;
	assert_int_equal(ol_devname_parse("unix:/run/openloop-sim.sock", &d,
	    NULL), OL_OK);
	assert_int_equal(d.kind, OL_DEVNAME_UNIX);
	assert_string_equal(d.path, "unix:/run/openloop-sim.sock");

	expect_bad("unix:");
	expect_bad("unix:/");
	expect_bad("unix:run/sim.sock");
	expect_bad("unix:/run/sim\n.sock");
}

static void
test_long_paths(void **state)
{
	struct ol_devname d;
	char *name;
	size_t n = 2 * OL_DEVNAME_PATH_MAX;

	(void)state;
	name = malloc(n);
	assert_non_null(name);

	/* 4095 bytes: the longest path that fits with its NUL */
	memset(name, 'a', n);
	name[0] = '/';
	name[OL_DEVNAME_PATH_MAX - 1] = '\0';
	assert_int_equal(ol_devname_parse(name, &d, NULL), OL_OK);
	assert_int_equal(strlen(d.path), OL_DEVNAME_PATH_MAX - 1);

	/* 4096 and more: refused */
	name[OL_DEVNAME_PATH_MAX - 1] = 'a';
	name[OL_DEVNAME_PATH_MAX] = '\0';
	expect_bad(name);
	name[n - 1] = '\0';
	name[OL_DEVNAME_PATH_MAX] = 'a';
	expect_bad(name);

	/* same limit with the unix: prefix counted */
	memcpy(name, "unix:/", 6);
	name[OL_DEVNAME_PATH_MAX - 1] = '\0';
	assert_int_equal(ol_devname_parse(name, &d, NULL), OL_OK);
	name[OL_DEVNAME_PATH_MAX - 1] = 'a';
	name[OL_DEVNAME_PATH_MAX] = '\0';
	expect_bad(name);

	/* a libudev node path over the limit */
	memset(name, 'a', n);
	memcpy(name, "usb:1209/0001:libudev:0:/", 25);
	memcpy(name + n - 9, "/001/002", 9);
	expect_bad(name);

	free(name);
}

static void
test_garbage(void **state)
{
	const char *why = NULL;
	struct ol_devname d;

	(void)state;
	expect_bad("");
	expect_bad(" ");
	expect_bad(":");
	expect_bad("usb");
	expect_bad("\xff\xfe");
	expect_bad("COM1");
	expect_bad("usb:1209/0001:libudev:0:/dev/bus/usb/001/002\n");

	/* the explanation names the forms pcscd and reader.conf use */
	assert_int_equal(ol_devname_parse("garbage", &d, &why), OL_ERR_ARG);
	assert_non_null(strstr(why, "usb:VVVV/PPPP:libudev:"));
	assert_non_null(strstr(why, "libusb-1.0"));
	assert_non_null(strstr(why, "hidraw"));
	assert_non_null(strstr(why, "unix:"));
}

static void
test_null(void **state)
{
	struct ol_devname d;
	const char *why = NULL;

	(void)state;
	assert_int_equal(ol_devname_parse(NULL, &d, &why), OL_ERR_ARG);
	assert_non_null(why);
	assert_int_equal(ol_devname_parse("/dev/hidraw0", NULL, &why),
	    OL_ERR_ARG);
	/* why may be NULL */
	assert_int_equal(ol_devname_parse("nope", &d, NULL), OL_ERR_ARG);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_libudev),
		cmocka_unit_test(test_libudev_upper_hex_and_suffix),
		cmocka_unit_test(test_libudev_bad),
		cmocka_unit_test(test_libusb),
		cmocka_unit_test(test_libusb_bad),
		cmocka_unit_test(test_usb_ids_bad),
		cmocka_unit_test(test_overflow_numbers),
		cmocka_unit_test(test_hidraw),
		cmocka_unit_test(test_unix),
		cmocka_unit_test(test_long_paths),
		cmocka_unit_test(test_garbage),
		cmocka_unit_test(test_null),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
