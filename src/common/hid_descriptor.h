/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ifd-openloop: just enough of a HID report descriptor parser to tell
 * whether a HID interface is a FIDO (CTAPHID) interface.
 *
 * A CTAPHID interface declares a top-level Application collection with
 * usage page 0xF1D0 (FIDO Alliance) and usage 0x01 (CTAPHID).  The parser
 * walks short items (long items are skipped by their length), follows the
 * global Usage Page together with Push/Pop, and resolves the collection's
 * usage with the usage page in effect at the Collection item (as the
 * kernel does); 4-byte "extended" usages carry their own page.
 */
#ifndef OL_HID_DESCRIPTOR_H
#define OL_HID_DESCRIPTOR_H

#include <stddef.h>
#include <stdint.h>

#define OL_HID_FIDO_USAGE_PAGE   0xf1d0
#define OL_HID_FIDO_USAGE_CTAPHID 0x01
/* HID_MAX_DESCRIPTOR_SIZE of the kernel: sysfs never offers more */
#define OL_HID_DESCRIPTOR_MAX    4096

/*
 * 1 if desc[0..len) holds a top-level Application collection whose usage
 * is (usage_page, usage); 0 if it parses and holds none; OL_ERR_PROTOCOL
 * if it is malformed (an item running past the end, unbalanced
 * collections, Pop without Push, nesting deeper than we follow) -- the
 * kernel refuses such a descriptor, so it is no usable interface either.
 * Never reads outside desc[0..len).
 */
int ol_hid_descriptor_has_collection(const uint8_t *desc, size_t len,
    uint16_t usage_page, uint16_t usage);

/* The same for (usage_page, CTAPHID); usage_page 0 means 0xF1D0. */
int ol_hid_descriptor_is_fido(const uint8_t *desc, size_t len,
    uint16_t usage_page);

#endif
