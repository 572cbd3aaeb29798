/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ifd-openloop: reading sysfs, the one place that does it.
 *
 * The driver (hotplug.c), the transport (hid_dev.c) and openloop-hid
 * (hid_list.c) read small files the kernel writes under /sys.  Their
 * contents come from the device (product, serial, report descriptors),
 * so every read here is bounded, and paths built from directory entries
 * are resolved and kept below a root: "/sys" in production, a fake tree
 * in the tests.
 *
 *   attribute  one line of text, as the kernel writes it: the trailing
 *              newline removed; a NUL, a second line or more than the
 *              caller's buffer is refused rather than cut
 *   text       several lines (uevent): refused with a NUL or if too long
 *   raw        bytes (report_descriptor), at most the caller's buffer
 *
 * Files are opened without following a final symlink and must be
 * regular: a link planted in a fake tree (or a fifo) is not read.
 */
#ifndef OL_SYSFS_H
#define OL_SYSFS_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

/* the kernel hands an attribute out as at most one page */
#define OL_SYSFS_ATTR_MAX 4096

struct ol_sysfs_root {
	char path[PATH_MAX];   /* canonical: realpath() of what was given */
	size_t len;
};

/* Canonicalises root ("" means "/").  OL_ERR_ARG if it does not resolve. */
int ol_sysfs_root_init(struct ol_sysfs_root *r, const char *root);

/* out = a "/" b; OL_ERR_TOO_LONG rather than a truncated path. */
int ol_sysfs_join(char *out, size_t cap, const char *a, const char *b);

/* realpath(path) into out (PATH_MAX bytes), which must lie inside the
 * root: a symlink must not take a walk elsewhere.  OL_ERR_NO_DEVICE
 * otherwise. */
int ol_sysfs_resolve(const struct ol_sysfs_root *r, const char *path,
    char *out);

/* The parent directory of a resolved path, still inside the root;
 * OL_ERR_NO_DEVICE at the root itself. */
int ol_sysfs_parent(const struct ol_sysfs_root *r, const char *path,
    char *out, size_t cap);

/* Whether name is an entry of a walk: not "", ".", ".." nor with a '/'. */
int ol_sysfs_is_entry(const char *name);

/* dir/name, at most cap bytes.  OL_ERR_TOO_LONG if the file holds more,
 * OL_ERR_NO_DEVICE if it is missing, a symlink or not a regular file,
 * OL_ERR_PERMISSION, OL_ERR_IO. */
int ol_sysfs_read_raw(const char *dir, const char *name, uint8_t *buf,
    size_t cap, size_t *len);

/* Parsers of what was read (the fuzz target calls them directly).
 * out is always terminated, "" on error. */
int ol_sysfs_parse_text(const uint8_t *data, size_t len, char *out,
    size_t cap);
int ol_sysfs_parse_attr(const uint8_t *data, size_t len, char *out,
    size_t cap);
/* Plain digits in base 10 or 16 (an optional "0x" in 16), at most max:
 * no sign, blank or empty string, as the kernel writes numbers.
 * OL_ERR_PROTOCOL otherwise. */
int ol_sysfs_parse_uint(const char *s, int base, unsigned long max,
    unsigned long *out);
/* The value of KEY=value in uevent text into out (not overlapping text);
 * OL_ERR_NO_DEVICE if absent, OL_ERR_TOO_LONG if it does not fit. */
int ol_sysfs_uevent_get(const char *text, const char *key, char *out,
    size_t cap);

/* Read and parse in one step. */
int ol_sysfs_read_text(const char *dir, const char *name, char *out,
    size_t cap);
int ol_sysfs_read_attr(const char *dir, const char *name, char *out,
    size_t cap);
int ol_sysfs_read_uint(const char *dir, const char *name, int base,
    unsigned long max, unsigned long *out);
/* idVendor, idProduct, bInterfaceClass, bInterfaceNumber: hex */
int ol_sysfs_read_hex(const char *dir, const char *name, unsigned long max,
    unsigned long *out);

#endif
