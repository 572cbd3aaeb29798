/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Command APDU parsing, ISO 7816-4 section 5.1: cases 1, 2S, 3S, 4S and
 * their extended forms.  Every length is checked against the buffer
 * before data points into it.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "apdu.h"
#include "ol_err.h"

static int
parse_short(const uint8_t *buf, size_t len, struct sim_apdu *apdu)
{
	size_t lc;

	if (len == 5) {                          /* case 2S */
		apdu->ne = buf[4] == 0 ? 256 : buf[4];
		return OL_OK;
	}
	lc = buf[4];                             /* != 0: checked by caller */
	if (len != 5 + lc && len != 6 + lc)
		return OL_ERR_PROTOCOL;
	apdu->data = buf + 5;
	apdu->lc = lc;
	if (len == 6 + lc)                       /* case 4S */
		apdu->ne = buf[len - 1] == 0 ? 256 : buf[len - 1];
	return OL_OK;
}

static int
parse_extended(const uint8_t *buf, size_t len, struct sim_apdu *apdu)
{
	size_t lc, le;

	apdu->extended = 1;
	if (len == 7) {                          /* case 2E */
		le = (size_t)buf[5] << 8 | buf[6];
		apdu->ne = le == 0 ? 65536 : le;
		return OL_OK;
	}
	lc = (size_t)buf[5] << 8 | buf[6];
	if (lc == 0 || (len != 7 + lc && len != 9 + lc))
		return OL_ERR_PROTOCOL;
	apdu->data = buf + 7;
	apdu->lc = lc;
	if (len == 9 + lc) {                     /* case 4E */
		le = (size_t)buf[len - 2] << 8 | buf[len - 1];
		apdu->ne = le == 0 ? 65536 : le;
	}
	return OL_OK;
}

int
sim_apdu_parse(const uint8_t *buf, size_t len, struct sim_apdu *apdu)
{
	if (buf == NULL || apdu == NULL || len < 4)
		return OL_ERR_PROTOCOL;

	memset(apdu, 0, sizeof(*apdu));
	apdu->cla = buf[0];
	apdu->ins = buf[1];
	apdu->p1 = buf[2];
	apdu->p2 = buf[3];
	if (len == 4)                            /* case 1 */
		return OL_OK;
	/* A zero first length byte followed by more bytes announces
	 * extended lengths; "00" alone is a short Le of 256. */
	if (len > 5 && buf[4] == 0) {
		if (len < 7)
			return OL_ERR_PROTOCOL;
		return parse_extended(buf, len, apdu);
	}
	return parse_short(buf, len, apdu);
}
