/*
 * Parsing of PC/SC part 10 PIN pad structures.  The bytes come from any
 * PC/SC application through SCardControl(): every length is checked.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "ol_err.h"
#include "pinpad.h"

int
ol_pinpad_parse_verify(const uint8_t *buf, size_t len,
    struct ol_pin_verify *out)
{
	uint32_t data_len;

	if (buf == NULL || out == NULL || len < OL_PIN_VERIFY_HEADER)
		return OL_ERR_PROTOCOL;
	memset(out, 0, sizeof(*out));
	/* part 10 structures are little-endian and packed */
	data_len = (uint32_t)buf[15] | (uint32_t)buf[16] << 8 |
	    (uint32_t)buf[17] << 16 | (uint32_t)buf[18] << 24;
	if (data_len != len - OL_PIN_VERIFY_HEADER || data_len < 4)
		return OL_ERR_PROTOCOL;
	out->apdu = buf + OL_PIN_VERIFY_HEADER;
	out->apdu_len = data_len;
	if (out->apdu[1] != 0x20)
		return OL_ERR_PROTOCOL; /* only VERIFY goes through the pad */
	out->timeout = buf[0];
	/* wPINMaxExtraDigit: 0xXXYY, XX minimum and YY maximum */
	out->max_len = buf[5];
	out->min_len = buf[6];
	return OL_OK;
}

int
ol_pinpad_properties(uint8_t *out, size_t cap)
{
	if (out == NULL || cap < 4)
		return OL_ERR_TOO_LONG;
	out[0] = 0;     /* wLcdLayout: no display the host can drive */
	out[1] = 0;
	out[2] = 0x02;  /* bEntryValidationCondition: confirmed on the device */
	out[3] = 0;     /* bTimeOut2 */
	return 4;
}
