/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ifd-openloop: tests of the sysfs reader (src/common/sysfs.c) on files
 * in a temporary directory: bounded reads, what an attribute may hold,
 * numbers, uevent keys, and walks that must stay inside the root.
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
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "ol_err.h"
#include "sysfs.h"
#include "fake_tree.h"

static char base[PATH_MAX];   /* holds root/ and outside/ */
static char root[PATH_MAX];   /* the fake /sys */

/* printf-like: clang accepts the format passed on to vsnprintf */
static void path_of(char *out, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
path_of(char *out, size_t cap, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(out, cap, fmt, ap);
	va_end(ap);
	assert_true(n > 0 && (size_t)n < cap);
}

static int
setup(void **state)
{
	char p[PATH_MAX];

	(void)state;
	path_of(base, sizeof(base), "/tmp/ol-sysfs-XXXXXX");
	if (mkdtemp(base) == NULL)
		return -1;
	path_of(root, sizeof(root), "%s/root", base);
	path_of(p, sizeof(p), "%s/outside", base);
	if (mkdir(root, 0755) != 0 || mkdir(p, 0755) != 0)
		return -1;
	path_of(p, sizeof(p), "%s/devices", root);
	if (mkdir(p, 0755) != 0)
		return -1;
	path_of(p, sizeof(p), "%s/devices/usb1", root);
	return mkdir(p, 0755);
}

static int
teardown(void **state)
{
	(void)state;
	rm_tree(base);
	return 0;
}

static void
test_attr(void **state)
{
	char buf[16];

	(void)state;
	put_str(root, "serial", "OL0001\n");
	assert_int_equal(ol_sysfs_read_attr(root, "serial", buf, sizeof(buf)),
	    OL_OK);
	assert_string_equal(buf, "OL0001");
	/* no newline: as it is; only one newline is the kernel's */
	put_str(root, "a", "x y ");
	assert_int_equal(ol_sysfs_read_attr(root, "a", buf, sizeof(buf)),
	    OL_OK);
	assert_string_equal(buf, "x y ");
	put_str(root, "a", "\n");
	assert_int_equal(ol_sysfs_read_attr(root, "a", buf, sizeof(buf)),
	    OL_OK);
	assert_string_equal(buf, "");
	/* a second line, a NUL: refused, not cut */
	put_str(root, "a", "OL\nEVIL\n");
	assert_int_equal(ol_sysfs_read_attr(root, "a", buf, sizeof(buf)),
	    OL_ERR_PROTOCOL);
	assert_string_equal(buf, "");
	put_str(root, "a", "OL\n\n");
	assert_int_equal(ol_sysfs_read_attr(root, "a", buf, sizeof(buf)),
	    OL_ERR_PROTOCOL);
	put(root, "a", "OL\0EVIL\n", 8);
	assert_int_equal(ol_sysfs_read_attr(root, "a", buf, sizeof(buf)),
	    OL_ERR_PROTOCOL);
	assert_string_equal(buf, "");
	/* 15 characters fit in 16 bytes, 16 do not */
	put_str(root, "a", "123456789012345\n");
	assert_int_equal(ol_sysfs_read_attr(root, "a", buf, sizeof(buf)),
	    OL_OK);
	assert_string_equal(buf, "123456789012345");
	put_str(root, "a", "1234567890123456\n");
	assert_int_equal(ol_sysfs_read_attr(root, "a", buf, sizeof(buf)),
	    OL_ERR_TOO_LONG);
	assert_string_equal(buf, "");
	assert_int_equal(ol_sysfs_read_attr(root, "missing", buf,
	    sizeof(buf)), OL_ERR_NO_DEVICE);
	assert_int_equal(ol_sysfs_read_attr(root, "a", buf, 0), OL_ERR_ARG);
}

static void
test_raw_bounds(void **state)
{
	uint8_t big[OL_SYSFS_ATTR_MAX + 1], buf[OL_SYSFS_ATTR_MAX];
	char text[OL_SYSFS_ATTR_MAX];
	size_t len;

	(void)state;
	memset(big, 'x', sizeof(big));
	/* a page exactly: read whole (it takes more than one read() on
	 * sysfs, and must on a file too) */
	put(root, "page", big, OL_SYSFS_ATTR_MAX);
	assert_int_equal(ol_sysfs_read_raw(root, "page", buf, sizeof(buf),
	    &len), OL_OK);
	assert_int_equal(len, OL_SYSFS_ATTR_MAX);
	/* one byte more than the buffer: refused, len 0 */
	put(root, "over", big, sizeof(big));
	assert_int_equal(ol_sysfs_read_raw(root, "over", buf, sizeof(buf),
	    &len), OL_ERR_TOO_LONG);
	assert_int_equal(len, 0);
	/* text needs room for its terminator */
	assert_int_equal(ol_sysfs_read_text(root, "page", text, sizeof(text)),
	    OL_ERR_TOO_LONG);
	put(root, "bin", "\x06\xd0\xf1\x00\x01", 5);
	assert_int_equal(ol_sysfs_read_raw(root, "bin", buf, 5, &len), OL_OK);
	assert_int_equal(len, 5);
	assert_memory_equal(buf, "\x06\xd0\xf1\x00\x01", 5);
	assert_int_equal(ol_sysfs_read_raw(root, "bin", buf, 4, &len),
	    OL_ERR_TOO_LONG);
	/* a directory and a fifo are not attributes */
	assert_int_equal(ol_sysfs_read_raw(root, "devices", buf, sizeof(buf),
	    &len), OL_ERR_NO_DEVICE);
	path_of(text, sizeof(text), "%s/fifo", root);
	assert_int_equal(mkfifo(text, 0600), 0);
	assert_int_equal(ol_sysfs_read_raw(root, "fifo", buf, sizeof(buf),
	    &len), OL_ERR_NO_DEVICE);
}

static void
test_no_final_symlink(void **state)
{
	char path[PATH_MAX], buf[32], out[PATH_MAX];

	(void)state;
	/* a link planted as an attribute is not followed, even inside */
	put_str(root, "real", "1209\n");
	path_of(path, sizeof(path), "%s/idVendor", root);
	assert_int_equal(symlink("real", path), 0);
	assert_int_equal(ol_sysfs_read_attr(root, "idVendor", buf,
	    sizeof(buf)), OL_ERR_NO_DEVICE);
	/* a link in the middle of the path is how sysfs is made */
	path_of(path, sizeof(path), "%s/link", root);
	assert_int_equal(symlink("devices/usb1", path), 0);
	path_of(out, sizeof(out), "%s/devices/usb1", root);
	put_str(out, "busnum", "3\n");
	assert_int_equal(ol_sysfs_read_attr(path, "busnum", buf, sizeof(buf)),
	    OL_OK);
	assert_string_equal(buf, "3");
}

static void
test_numbers(void **state)
{
	unsigned long v = 7;

	(void)state;
	assert_int_equal(ol_sysfs_parse_uint("1209", 16, 0xffff, &v), OL_OK);
	assert_int_equal(v, 0x1209);
	assert_int_equal(ol_sysfs_parse_uint("0x00fF", 16, 0xffff, &v), OL_OK);
	assert_int_equal(v, 0xff);
	assert_int_equal(ol_sysfs_parse_uint("ffff", 16, 0xffff, &v), OL_OK);
	assert_int_equal(ol_sysfs_parse_uint("10000", 16, 0xffff, &v),
	    OL_ERR_PROTOCOL);
	assert_int_equal(ol_sysfs_parse_uint("255", 10, 255, &v), OL_OK);
	assert_int_equal(v, 255);
	assert_int_equal(ol_sysfs_parse_uint("256", 10, 255, &v),
	    OL_ERR_PROTOCOL);
	/* what strtoul() would take and the kernel never writes */
	v = 7;
	assert_int_equal(ol_sysfs_parse_uint("", 10, 255, &v),
	    OL_ERR_PROTOCOL);
	assert_int_equal(ol_sysfs_parse_uint("0x", 16, 255, &v),
	    OL_ERR_PROTOCOL);
	assert_int_equal(ol_sysfs_parse_uint(" 1", 10, 255, &v),
	    OL_ERR_PROTOCOL);
	assert_int_equal(ol_sysfs_parse_uint("+1", 10, 255, &v),
	    OL_ERR_PROTOCOL);
	assert_int_equal(ol_sysfs_parse_uint("-1", 10, 255, &v),
	    OL_ERR_PROTOCOL);
	assert_int_equal(ol_sysfs_parse_uint("1a", 10, 255, &v),
	    OL_ERR_PROTOCOL);
	assert_int_equal(ol_sysfs_parse_uint("0x10", 10, 255, &v),
	    OL_ERR_PROTOCOL);
	/* no wrap-around at the top of unsigned long */
	assert_int_equal(ol_sysfs_parse_uint("18446744073709551616", 10,
	    (unsigned long)-1, &v), OL_ERR_PROTOCOL);
	assert_int_equal(ol_sysfs_parse_uint("1", 8, 255, &v), OL_ERR_ARG);
	assert_int_equal(v, 7);

	put_str(root, "bInterfaceClass", "03\n");
	assert_int_equal(ol_sysfs_read_hex(root, "bInterfaceClass", 255, &v),
	    OL_OK);
	assert_int_equal(v, 3);
	put_str(root, "bInterfaceClass", "03 \n");
	assert_int_equal(ol_sysfs_read_hex(root, "bInterfaceClass", 255, &v),
	    OL_ERR_PROTOCOL);
	put_str(root, "devnum", "18\n");
	assert_int_equal(ol_sysfs_read_uint(root, "devnum", 10, 127, &v),
	    OL_OK);
	assert_int_equal(v, 18);
}

static void
test_uevent(void **state)
{
	const char *ue = "DRIVER=hid-generic\nHID_ID=0003:00001209:00000001\n"
	    "HID_NAME=Openloop\nHID_UNIQ=\nX_HID_UNIQ=no\nHID_UNIQX=no";
	char v[16], text[128];

	(void)state;
	assert_int_equal(ol_sysfs_uevent_get(ue, "HID_ID", v, sizeof(v)),
	    OL_ERR_TOO_LONG);
	assert_string_equal(v, "");
	assert_int_equal(ol_sysfs_uevent_get(ue, "HID_NAME", v, sizeof(v)),
	    OL_OK);
	assert_string_equal(v, "Openloop");
	/* present and empty is not absent */
	assert_int_equal(ol_sysfs_uevent_get(ue, "HID_UNIQ", v, sizeof(v)),
	    OL_OK);
	assert_string_equal(v, "");
	assert_int_equal(ol_sysfs_uevent_get(ue, "HID_PHYS", v, sizeof(v)),
	    OL_ERR_NO_DEVICE);
	assert_int_equal(ol_sysfs_uevent_get(ue, "HID", v, sizeof(v)),
	    OL_ERR_NO_DEVICE);

	put_str(root, "uevent", ue);
	assert_int_equal(ol_sysfs_read_text(root, "uevent", text,
	    sizeof(text)), OL_OK);
	assert_string_equal(text, ue);
	put(root, "uevent", "A=1\0B=2\n", 8);
	assert_int_equal(ol_sysfs_read_text(root, "uevent", text,
	    sizeof(text)), OL_ERR_PROTOCOL);
}

static void
test_resolve_inside(void **state)
{
	struct ol_sysfs_root r, twin;
	char path[PATH_MAX], out[PATH_MAX], parent[PATH_MAX];

	(void)state;
	assert_int_equal(ol_sysfs_root_init(&r, root), OL_OK);
	assert_int_equal(r.len, strlen(r.path));
	/* a relative link inside the tree resolves */
	path_of(path, sizeof(path), "%s/inlink", root);
	assert_int_equal(symlink("devices/usb1", path), 0);
	assert_int_equal(ol_sysfs_resolve(&r, path, out), OL_OK);
	path_of(path, sizeof(path), "%s/devices/usb1", r.path);
	assert_string_equal(out, path);
	/* links that leave it: up and out, absolute, to a sibling whose
	 * name starts like the root's */
	path_of(path, sizeof(path), "%s/uplink", root);
	assert_int_equal(symlink("../outside", path), 0);
	assert_int_equal(ol_sysfs_resolve(&r, path, out), OL_ERR_NO_DEVICE);
	assert_string_equal(out, "");
	path_of(path, sizeof(path), "%s/abslink", root);
	assert_int_equal(symlink("/tmp", path), 0);
	assert_int_equal(ol_sysfs_resolve(&r, path, out), OL_ERR_NO_DEVICE);
	path_of(path, sizeof(path), "%s/root2", base);
	assert_int_equal(mkdir(path, 0755), 0);
	path_of(path, sizeof(path), "%s/twinlink", root);
	assert_int_equal(symlink("../root2", path), 0);
	assert_int_equal(ol_sysfs_resolve(&r, path, out), OL_ERR_NO_DEVICE);
	/* "..": resolved, then judged */
	path_of(path, sizeof(path), "%s/devices/../../outside", root);
	assert_int_equal(ol_sysfs_resolve(&r, path, out), OL_ERR_NO_DEVICE);
	path_of(path, sizeof(path), "%s/nothing", root);
	assert_int_equal(ol_sysfs_resolve(&r, path, out), OL_ERR_NO_DEVICE);

	/* parents stop at the root */
	path_of(path, sizeof(path), "%s/devices/usb1", r.path);
	assert_int_equal(ol_sysfs_parent(&r, path, parent, sizeof(parent)),
	    OL_OK);
	path_of(out, sizeof(out), "%s/devices", r.path);
	assert_string_equal(parent, out);
	assert_int_equal(ol_sysfs_parent(&r, out, parent, sizeof(parent)),
	    OL_OK);
	assert_string_equal(parent, r.path);
	assert_int_equal(ol_sysfs_parent(&r, r.path, parent, sizeof(parent)),
	    OL_ERR_NO_DEVICE);
	assert_int_equal(ol_sysfs_parent(&r, path, parent, 4),
	    OL_ERR_TOO_LONG);

	/* "/" as the root: everything is inside */
	assert_int_equal(ol_sysfs_root_init(&twin, ""), OL_OK);
	assert_string_equal(twin.path, "/");
	assert_int_equal(ol_sysfs_resolve(&twin, "/tmp", out), OL_OK);
	assert_int_equal(ol_sysfs_root_init(&twin, "/nonexistent/ol"),
	    OL_ERR_ARG);
	assert_int_equal(ol_sysfs_resolve(&twin, "/tmp", out), OL_ERR_ARG);
}

static void
test_join_and_entries(void **state)
{
	char small[8];

	(void)state;
	assert_int_equal(ol_sysfs_join(small, sizeof(small), "ab", "cd"),
	    OL_OK);
	assert_string_equal(small, "ab/cd");
	assert_int_equal(ol_sysfs_join(small, sizeof(small), "abc", "defg"),
	    OL_ERR_TOO_LONG);
	assert_true(ol_sysfs_is_entry("hidraw0"));
	assert_false(ol_sysfs_is_entry(""));
	assert_false(ol_sysfs_is_entry("."));
	assert_false(ol_sysfs_is_entry(".."));
	assert_false(ol_sysfs_is_entry("a/b"));
	assert_false(ol_sysfs_is_entry(NULL));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_attr),
		cmocka_unit_test(test_raw_bounds),
		cmocka_unit_test(test_no_final_symlink),
		cmocka_unit_test(test_numbers),
		cmocka_unit_test(test_uevent),
		cmocka_unit_test(test_resolve_inside),
		cmocka_unit_test(test_join_and_entries),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
