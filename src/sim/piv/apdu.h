/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ifd-openloop simulator: command APDUs (ISO 7816-4 section 5.1) as the
 * card and its applets see them, and the buffer applets answer into.
 */
#ifndef OL_SIM_APDU_H
#define OL_SIM_APDU_H

#include <stddef.h>
#include <stdint.h>

/* Where an applet writes response data; the card sends it in pieces. */
struct sim_resp {
	uint8_t *buf;
	size_t cap;
	size_t len;
};

/* A parsed command APDU (ISO 7816-4 section 5.1); data points into the
 * caller's buffer. */
struct sim_apdu {
	uint8_t cla, ins, p1, p2;
	const uint8_t *data;
	size_t lc;       /* Nc: 0 when there is no command data */
	size_t ne;       /* Ne: 0 when there is no Le field, else 1..65536 */
	int extended;    /* length fields were extended (3 or 2 bytes) */
};

/* OL_OK, or OL_ERR_PROTOCOL when len matches none of the seven cases
 * (the card answers that with 6700). */
int sim_apdu_parse(const uint8_t *buf, size_t len, struct sim_apdu *apdu);

#endif
