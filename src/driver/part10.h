/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ifd-openloop: PC/SC v2 part 10 features.  The reader offers
 * FEATURE_GET_TLV_PROPERTIES so that clients learn wIdVendor, wIdProduct,
 * dwMaxAPDUDataSize (extended APDUs pass) and sFirmwareID.
 */
#ifndef OL_PART10_H
#define OL_PART10_H

#include <stddef.h>
#include <stdint.h>

/* The ioctl code behind FEATURE_GET_TLV_PROPERTIES (libccid uses the same
 * "class 2" numbering: SCARD_CTL_CODE(0x330000 + feature)). */
#define OL_IOCTL_GET_TLV_PROPERTIES (0x42000000u + 0x330000u + 0x12u)
#define OL_IOCTL_VERIFY_PIN_DIRECT  (0x42000000u + 0x330000u + 0x06u)
#define OL_IOCTL_IFD_PIN_PROPERTIES (0x42000000u + 0x330000u + 0x0Au)

/* Largest APDU data field that fits in one CTAPHID message:
 * 7609 - 4 (header) - 3 (extended Lc) - 2 (extended Le) */
#define OL_MAX_APDU_DATA 7600

struct ol_reader_props {
	uint16_t vid, pid;
	const char *firmware;   /* may be NULL */
	int pinpad;             /* adds bMinPINSize, bMaxPINSize,
	                         * bEntryValidationCondition */
};

/* Answer to CM_IOCTL_GET_FEATURE_REQUEST: a list of (tag, 4, code BE):
 * GET_TLV_PROPERTIES, and with pinpad also VERIFY_PIN_DIRECT and
 * IFD_PIN_PROPERTIES (see pinpad.h).  Returns the number of bytes written
 * or OL_ERR_TOO_LONG. */
int ol_features_list(uint8_t *out, size_t cap, int pinpad);

/* Answer to the GET_TLV_PROPERTIES ioctl (tag, len, value little-endian).
 * Returns bytes written or OL_ERR_TOO_LONG. */
int ol_features_tlv_properties(const struct ol_reader_props *props,
    uint8_t *out, size_t cap);

#endif
