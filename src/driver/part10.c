/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ifd-openloop: PC/SC v2 part 10 feature list and TLV properties.
 *
 * FEATURE_GET_TLV_PROPERTIES always: mainly for dwMaxAPDUDataSize, which
 * tells clients (OpenSC, pcsc-lite's own tools) that extended APDUs pass.
 * In touch mode (the default) also FEATURE_VERIFY_PIN_DIRECT and
 * FEATURE_IFD_PIN_PROPERTIES: the device is the PIN pad, the PIN is typed
 * or confirmed on its screen (pinpad.c).  No MODIFY_PIN_DIRECT: a PIN
 * change goes over USB (CHANGE REFERENCE DATA) as the vendor guide does.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stdint.h>
#include <string.h>
#include <PCSC/reader.h>

#include "part10.h"
#include "ol_err.h"

/* Part 10 fixes the length byte, so a firmware string longer than this
 * cannot be sent. */
#define TLV_VALUE_MAX 255

/* PCSC_TLV_STRUCTURE: the code is big-endian (part 10, 2.2). */
static size_t
put_feature(uint8_t *p, uint8_t tag, uint32_t code)
{
	p[0] = tag;
	p[1] = 4;
	p[2] = (uint8_t)(code >> 24);
	p[3] = (uint8_t)(code >> 16);
	p[4] = (uint8_t)(code >> 8);
	p[5] = (uint8_t)code;
	return 6;
}

int
ol_features_list(uint8_t *out, size_t cap, int pinpad)
{
	const size_t len = pinpad ? 18 : 6;   /* 6 per feature */
	size_t pos = 0;
	int r = OL_ERR_TOO_LONG;

	if (out == NULL) {
		r = OL_ERR_ARG;
		goto out;
	}
	if (cap < len)
		goto out;
	pos += put_feature(out + pos, FEATURE_GET_TLV_PROPERTIES,
	    OL_IOCTL_GET_TLV_PROPERTIES);
	if (pinpad) {
		pos += put_feature(out + pos, FEATURE_VERIFY_PIN_DIRECT,
		    OL_IOCTL_VERIFY_PIN_DIRECT);
		pos += put_feature(out + pos, FEATURE_IFD_PIN_PROPERTIES,
		    OL_IOCTL_IFD_PIN_PROPERTIES);
	}
	r = (int)pos;
out:
	return r;
}

/* Appends tag, length, and the low n bytes of v little-endian. */
static size_t
put_le(uint8_t *p, uint8_t tag, uint32_t v, size_t n)
{
	size_t i;

	p[0] = tag;
	p[1] = (uint8_t)n;
	for (i = 0; i < n; i++)
		p[2 + i] = (uint8_t)(v >> (8 * i));
	return 2 + n;
}

int
ol_features_tlv_properties(const struct ol_reader_props *props,
    uint8_t *out, size_t cap)
{
	size_t fw_len = 0, need, pos = 0;
	int r = OL_ERR_TOO_LONG;

	if (props == NULL || out == NULL) {
		r = OL_ERR_ARG;
		goto out;
	}
	/* An empty firmware string says nothing: leave the tag out too. */
	if (props->firmware != NULL)
		fw_len = strnlen(props->firmware, TLV_VALUE_MAX + 1);
	if (fw_len > TLV_VALUE_MAX)
		goto out;

	need = (2 + 2) + (2 + 2) + (2 + 4) + (2 + 1) +
	    (fw_len > 0 ? 2 + fw_len : 0) + (props->pinpad ? 3 * 3 : 0);
	if (cap < need)
		goto out;

	pos += put_le(out + pos, PCSCv2_PART10_PROPERTY_wIdVendor,
	    props->vid, 2);
	pos += put_le(out + pos, PCSCv2_PART10_PROPERTY_wIdProduct,
	    props->pid, 2);
	pos += put_le(out + pos, PCSCv2_PART10_PROPERTY_dwMaxAPDUDataSize,
	    OL_MAX_APDU_DATA, 4);
	/* No PPDU: pcscd passes SCardControl() through, clients need not
	 * wrap escape commands in fake APDUs. */
	pos += put_le(out + pos, PCSCv2_PART10_PROPERTY_bPPDUSupport, 0, 1);
	if (props->pinpad) {
		/* PIV PINs are 6 to 8 characters; the device validates */
		pos += put_le(out + pos, PCSCv2_PART10_PROPERTY_bMinPINSize,
		    6, 1);
		pos += put_le(out + pos, PCSCv2_PART10_PROPERTY_bMaxPINSize,
		    8, 1);
		pos += put_le(out + pos,
		    PCSCv2_PART10_PROPERTY_bEntryValidationCondition, 0x02, 1);
	}
	if (fw_len > 0) {
		out[pos++] = PCSCv2_PART10_PROPERTY_sFirmwareID;
		out[pos++] = (uint8_t)fw_len;
		memcpy(out + pos, props->firmware, fw_len);
		pos += fw_len;
	}
	r = (int)pos;
out:
	return r;
}
