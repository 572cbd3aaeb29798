/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ifd-openloop: the synthesized ATR and an ISO 7816-3 structure check.
 *
 * The ATR is
 *   3B 8E 81 31 FE 45 80 58 4F 70 65 6E 6C 6F 6F 70 73 80 00 C0 46
 *   TS T0 TD1 TD2 TA3 TB3 | historical bytes (14) | TCK
 * T0 announces TD1 and 14 historical bytes; TD1 offers T=1 and announces
 * TD2; TD2 (T=1) announces TA3 = IFSC 254 and TB3 = BWI 4 / CWI 5.  The
 * values only matter to software that reads them: the device never sees a
 * T=1 block, the reader forwards whole APDUs.
 *
 * TD1 is deliberately not 0x80 0x01: OpenSC takes "3B 8x 80 01" for the
 * PC/SC part 3 pseudo-ATR of a contactless card and changes behaviour.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>

#include "atr.h"
#include "ol_err.h"

#define TS_DIRECT       0x3b
#define TS_INVERSE      0x3f

/* Historical bytes (ISO 7816-4 8.1.1): category indicator 0x80 = a
 * compact-TLV list follows, no status indicator. */
static const uint8_t historical[] = {
	0x80,
	/* tag 5, len 8: card issuer's data, names the product */
	0x58, 'O', 'p', 'e', 'n', 'l', 'o', 'o', 'p',
	/* tag 7, len 3: card capabilities.
	 * 0x80: DF selection by full DF name (SELECT by AID, as PIV does);
	 * 0x00: data coding byte, nothing claimed;
	 * 0xC0: command chaining and extended Lc/Le fields. */
	0x73, 0x80, 0x00, 0xc0,
};

/* Interface bytes; T0 is built from the length of historical[]. */
static const uint8_t interface_bytes[] = {
	0x81,   /* TD1: TD2 follows, T=1 */
	0x31,   /* TD2: TA3 and TB3 follow, T=1 */
	0xfe,   /* TA3: IFSC 254 */
	0x45,   /* TB3: BWI 4, CWI 5 */
};

int
ol_atr_build(uint8_t *out, size_t cap)
{
	size_t len, i;
	uint8_t tck = 0;

	len = 2 + sizeof(interface_bytes) + sizeof(historical) + 1;
	if (out == NULL || cap < len)
		return OL_ERR_ARG;

	out[0] = TS_DIRECT;
	out[1] = (uint8_t)(0x80 | sizeof(historical)); /* TD1 present, K */
	memcpy(out + 2, interface_bytes, sizeof(interface_bytes));
	memcpy(out + 2 + sizeof(interface_bytes), historical,
	    sizeof(historical));

	/* TCK: XOR of T0 .. last historical byte (TS excluded). */
	for (i = 1; i < len - 1; i++)
		tck ^= out[i];
	out[len - 1] = tck;

	return (int)len;
}

/* Number of bits set in the high nibble of T0 or TDi: how many of TAi,
 * TBi, TCi, TDi follow. */
static size_t
nibble_count(uint8_t y)
{
	size_t n = 0;

	for (y >>= 4; y != 0; y >>= 1)
		n += y & 1;
	return n;
}

int
ol_atr_check(const uint8_t *atr, size_t len)
{
	size_t pos, k, i, need;
	uint8_t y, x;
	int tck_required = 0;
	int r = OL_ERR_PROTOCOL;

	/* TS and T0 at least; 33 bytes is the ISO 7816-3 maximum. */
	if (atr == NULL || len < 2 || len > OL_ATR_MAX)
		goto out;
	if (atr[0] != TS_DIRECT && atr[0] != TS_INVERSE)
		goto out;

	k = atr[1] & 0x0f;
	y = atr[1];
	pos = 2;
	/* Walk the TDi chain.  Each step is bounded by len, so a chain that
	 * runs off the end is caught before it is read. */
	for (;;) {
		need = nibble_count(y);
		if (need > len - pos)
			goto out;
		pos += need;
		if ((y & 0x80) == 0)
			break;
		y = atr[pos - 1];       /* TDi is the last of its group */
		/* ISO 7816-3 8.2.5: TCK is absent only if T=0 alone is
		 * indicated; any other T (15 included) makes it mandatory. */
		if ((y & 0x0f) != 0)
			tck_required = 1;
	}

	need = k + (tck_required ? 1 : 0);
	if (need != len - pos)
		goto out;               /* missing or trailing bytes */

	if (tck_required) {
		/* XOR of T0 .. TCK is 0 when TCK is right. */
		x = 0;
		for (i = 1; i < len; i++)
			x ^= atr[i];
		if (x != 0)
			goto out;
	}
	r = OL_OK;
out:
	return r;
}
