/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Fuzz target: sysfs attribute contents (src/common/sysfs.c) and the USB
 * IDs read from them or from the build (src/common/usb_ids.c).  A device
 * chooses its product and serial strings; the kernel passes them on. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ol_err.h"
#include "sysfs.h"
#include "usb_ids.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* an attribute: one line, no NUL; numbers parse within their bound */
static void
check_attr(const uint8_t *data, size_t size, size_t cap)
{
	static char out[OL_SYSFS_ATTR_MAX];
	static const unsigned long max[] = { 0, 255, 0xffff, (unsigned long)-1 };
	unsigned long v;

	if (ol_sysfs_parse_attr(data, size, out, cap) != OL_OK) {
		if (out[0] != '\0')
			abort();
		return;
	}
	if (strlen(out) >= cap || strchr(out, '\n') != NULL ||
	    memchr(data, '\0', size) != NULL)
		abort();
	for (size_t i = 0; i < sizeof(max) / sizeof(max[0]); i++) {
		if (ol_sysfs_parse_uint(out, 16, max[i], &v) == OL_OK &&
		    v > max[i])
			abort();
		if (ol_sysfs_parse_uint(out, 10, max[i], &v) == OL_OK &&
		    v > max[i])
			abort();
	}
}

/* a uevent: whatever a key yields fits and holds no newline */
static void
check_text(const uint8_t *data, size_t size)
{
	static char text[OL_SYSFS_ATTR_MAX], v[OL_SYSFS_ATTR_MAX];
	static const char *const keys[] = { "HID_ID", "HID_NAME", "HID_UNIQ" };
	struct ol_usb_id ids[4];
	size_t n;

	if (ol_sysfs_parse_text(data, size, text, sizeof(text)) != OL_OK)
		return;
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		if (ol_sysfs_uevent_get(text, keys[i], v, 16) == OL_OK &&
		    (strlen(v) >= 16 || strchr(v, '\n') != NULL))
			abort();
	}
	/* as configure's --with-usb-ids list */
	if (ol_usb_id_parse_list(text, ids, 4, &n) == OL_OK) {
		if (n > 4 || (n == 0) != (text[0] == '\0'))
			abort();
		for (size_t i = 0; i < n; i++)
			if (ids[i].vid == 0)
				abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_attr(data, size, OL_SYSFS_ATTR_MAX);
	/* and a small buffer, where the length check matters */
	check_attr(data, size, 8);
	check_text(data, size);
	return 0;
}
