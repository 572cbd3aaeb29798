/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ifd-openloop: find the FIDO top-level collection in a HID report
 * descriptor (HID 1.11, section 6.2.2).
 *
 * The descriptor comes from the device, so it is untrusted: every item's
 * data is checked against the remaining length before it is read, and the
 * parser keeps no state that grows with the input beyond fixed stacks.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stddef.h>
#include <stdint.h>

#include "hid_descriptor.h"
#include "ol_err.h"

/* item types (bits 3..2 of the prefix) */
#define TYPE_MAIN    0
#define TYPE_GLOBAL  1
#define TYPE_LOCAL   2

/* tags (bits 7..4 of the prefix) */
#define MAIN_COLLECTION      0x0a
#define MAIN_END_COLLECTION  0x0c
#define GLOBAL_USAGE_PAGE    0x00
#define GLOBAL_PUSH          0x0a
#define GLOBAL_POP           0x0b
#define LOCAL_USAGE          0x00
#define LOCAL_USAGE_MINIMUM  0x01

#define LONG_ITEM_PREFIX     0xfe
#define COLLECTION_APPLICATION 0x01

/* The kernel stops at 4 pushed global states and 256 nested
 * collections; deeper is refused here too rather than tracked. */
#define PUSH_MAX     4
#define DEPTH_MAX    256

/* Little-endian unsigned value of an item's 0, 1, 2 or 4 data bytes. */
static uint32_t
item_value(const uint8_t *data, size_t size)
{
	uint32_t v = 0;
	size_t i;

	for (i = size; i > 0; i--)
		v = v << 8 | data[i - 1];
	return v;
}

int
ol_hid_descriptor_has_collection(const uint8_t *desc, size_t len,
    uint16_t usage_page, uint16_t usage)
{
	static const size_t short_size[4] = { 0, 1, 2, 4 };
	uint32_t page = 0, pushed[PUSH_MAX];
	uint32_t first_usage = 0;   /* first Usage of the pending main item */
	size_t first_usage_size = 0; /* 0: no Usage since the last main item */
	size_t pos = 0, npushed = 0, size;
	unsigned depth = 0, type, tag;
	uint32_t v, col_page, col_usage;
	int found = 0;
	uint8_t prefix;

	if (desc == NULL && len != 0)
		return OL_ERR_PROTOCOL;
	while (pos < len) {
		prefix = desc[pos];
		if (prefix == LONG_ITEM_PREFIX) {
			/* bDataSize, bLongItemTag, then the data: no long
			 * item tags are defined, so skip it whole */
			if (len - pos < 3 || len - pos - 3 < desc[pos + 1])
				return OL_ERR_PROTOCOL;
			pos += 3 + (size_t)desc[pos + 1];
			continue;
		}
		size = short_size[prefix & 0x03];
		type = (prefix >> 2) & 0x03;
		tag = prefix >> 4;
		if (len - pos - 1 < size)
			return OL_ERR_PROTOCOL;
		v = item_value(desc + pos + 1, size);
		pos += 1 + size;

		switch (type) {
		case TYPE_GLOBAL:
			if (tag == GLOBAL_USAGE_PAGE) {
				page = v;
			} else if (tag == GLOBAL_PUSH) {
				if (npushed == PUSH_MAX)
					return OL_ERR_PROTOCOL;
				pushed[npushed++] = page;
			} else if (tag == GLOBAL_POP) {
				if (npushed == 0)
					return OL_ERR_PROTOCOL;
				page = pushed[--npushed];
			}
			break;
		case TYPE_LOCAL:
			/* the collection's usage is its first Usage (or
			 * Usage Minimum) */
			if ((tag == LOCAL_USAGE || tag == LOCAL_USAGE_MINIMUM) &&
			    first_usage_size == 0 && size > 0) {
				first_usage = v;
				first_usage_size = size;
			}
			break;
		case TYPE_MAIN:
			if (tag == MAIN_COLLECTION) {
				if (depth == 0 && v == COLLECTION_APPLICATION &&
				    first_usage_size != 0) {
					/* a 4-byte usage carries its page in
					 * its high half; shorter ones take the
					 * page in effect now */
					if (first_usage_size == 4) {
						col_page = first_usage >> 16;
						col_usage = first_usage & 0xffff;
					} else {
						col_page = page;
						col_usage = first_usage;
					}
					if (col_page == usage_page &&
					    col_usage == usage)
						found = 1;
				}
				if (++depth > DEPTH_MAX)
					return OL_ERR_PROTOCOL;
			} else if (tag == MAIN_END_COLLECTION) {
				if (depth == 0)
					return OL_ERR_PROTOCOL;
				depth--;
			}
			/* a main item consumes the local state */
			first_usage_size = 0;
			break;
		default:
			/* reserved type: its data was skipped above */
			break;
		}
	}
	/* an open collection at the end is refused by the kernel */
	if (depth != 0)
		return OL_ERR_PROTOCOL;
	return found;
}

int
ol_hid_descriptor_is_fido(const uint8_t *desc, size_t len,
    uint16_t usage_page)
{
	return ol_hid_descriptor_has_collection(desc, len,
	    usage_page != 0 ? usage_page : OL_HID_FIDO_USAGE_PAGE,
	    OL_HID_FIDO_USAGE_CTAPHID);
}
