/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Fuzz target: HID report descriptors (src/common/hid_descriptor.c).
 * The input is copied to a buffer of exactly its size so that an
 * over-read is caught by ASan (and by libFuzzer's own build). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hid_descriptor.h"
#include "ol_err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *desc;
	int a, b;

	if ((desc = malloc(size > 0 ? size : 1)) == NULL)
		return 0;
	if (size > 0)
		memcpy(desc, data, size);
	a = ol_hid_descriptor_is_fido(desc, size, 0);
	b = ol_hid_descriptor_has_collection(desc, size,
	    OL_HID_FIDO_USAGE_PAGE, OL_HID_FIDO_USAGE_CTAPHID);
	/* the same question must get the same answer, and only these */
	if (a != b || (a != 0 && a != 1 && a != OL_ERR_PROTOCOL))
		abort();
	/* keyboards and other pages go through the same paths */
	(void)ol_hid_descriptor_has_collection(desc, size, 0x01, 0x06);
	free(desc);
	return 0;
}
