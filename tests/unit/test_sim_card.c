/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * openloop-sim's card: APDU parsing (all seven cases, truncated and
 * inconsistent ones) and the card-level commands and status words.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ol_err.h"
#include "ol_log.h"
#include "sim_card.h"
#include "timeutil.h"

#define RAPDU_CAP 7609 /* what the CTAPHID layer gives: one message */

static uint8_t rapdu[RAPDU_CAP + 16];

static int
setup(void **state)
{
	sim_card_t *card;

	ol_log_set_mask(0);
	if (sim_card_new(&card) != OL_OK)
		return -1;
	*state = card;
	return 0;
}

static int
teardown(void **state)
{
	sim_card_t *card = *state;

	sim_card_free(&card);
	assert_null(card);
	return 0;
}

/* Runs capdu (copied into an exact-size heap block, so that ASan catches
 * any read past its end) and returns the response length. */
static size_t
transmit(sim_card_t *card, const uint8_t *capdu, size_t len, size_t cap)
{
	uint8_t *copy = malloc(len > 0 ? len : 1);
	size_t rlen = 0;

	assert_non_null(copy);
	if (len > 0)
		memcpy(copy, capdu, len);
	memset(rapdu, 0xee, sizeof(rapdu));
	assert_int_equal(sim_card_apdu(card, copy, len, rapdu, cap, &rlen),
	    OL_OK);
	free(copy);
	assert_true(rlen >= 2 && rlen <= cap);
	/* nothing written past what was reported */
	assert_int_equal(rapdu[rlen], 0xee);
	return rlen;
}

static unsigned
sw_of(size_t rlen)
{
	return (unsigned)rapdu[rlen - 2] << 8 | rapdu[rlen - 1];
}

static unsigned
sw_only(sim_card_t *card, const uint8_t *capdu, size_t len)
{
	size_t rlen = transmit(card, capdu, len, RAPDU_CAP);

	assert_int_equal(rlen, 2);
	return sw_of(rlen);
}

/* --- parsing ------------------------------------------------------------- */

static void
parse_case1(void **state)
{
	static const uint8_t c[] = { 0x00, 0xa4, 0x04, 0x0c };
	struct sim_apdu a;

	(void)state;
	assert_int_equal(sim_apdu_parse(c, sizeof(c), &a), OL_OK);
	assert_int_equal(a.cla, 0x00);
	assert_int_equal(a.ins, 0xa4);
	assert_int_equal(a.p1, 0x04);
	assert_int_equal(a.p2, 0x0c);
	assert_int_equal(a.lc, 0);
	assert_int_equal(a.ne, 0);
	assert_false(a.extended);
}

static void
parse_short_cases(void **state)
{
	static const uint8_t c2[] = { 0x00, 0x84, 0x00, 0x00, 0x08 };
	static const uint8_t c2_256[] = { 0x00, 0x84, 0x00, 0x00, 0x00 };
	static const uint8_t c3[] = { 0x00, 0xa4, 0x04, 0x00, 0x03, 1, 2, 3 };
	static const uint8_t c4[] = { 0x00, 0xa4, 0x04, 0x00, 0x02, 7, 8, 0x00 };
	struct sim_apdu a;

	(void)state;
	assert_int_equal(sim_apdu_parse(c2, sizeof(c2), &a), OL_OK);
	assert_int_equal(a.lc, 0);
	assert_int_equal(a.ne, 8);
	assert_int_equal(sim_apdu_parse(c2_256, sizeof(c2_256), &a), OL_OK);
	assert_int_equal(a.ne, 256);
	assert_false(a.extended);
	assert_int_equal(sim_apdu_parse(c3, sizeof(c3), &a), OL_OK);
	assert_int_equal(a.lc, 3);
	assert_ptr_equal(a.data, c3 + 5);
	assert_int_equal(a.ne, 0);
	assert_int_equal(sim_apdu_parse(c4, sizeof(c4), &a), OL_OK);
	assert_int_equal(a.lc, 2);
	assert_int_equal(a.data[0], 7);
	assert_int_equal(a.data[1], 8);
	assert_int_equal(a.ne, 256);
}

static void
parse_extended_cases(void **state)
{
	static const uint8_t c2[] = { 0x00, 0x84, 0x00, 0x00, 0x00, 0x01, 0x2c };
	static const uint8_t c2_max[] = { 0x00, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00 };
	uint8_t c3[7 + 300], c4[9 + 300];
	struct sim_apdu a;

	(void)state;
	assert_int_equal(sim_apdu_parse(c2, sizeof(c2), &a), OL_OK);
	assert_true(a.extended);
	assert_int_equal(a.lc, 0);
	assert_int_equal(a.ne, 300);
	assert_int_equal(sim_apdu_parse(c2_max, sizeof(c2_max), &a), OL_OK);
	assert_int_equal(a.ne, 65536);

	memset(c3, 0x5a, sizeof(c3));
	c3[0] = 0x00; c3[1] = 0xdb; c3[2] = 0x3f; c3[3] = 0xff;
	c3[4] = 0x00; c3[5] = 0x01; c3[6] = 0x2c; /* Lc = 300 */
	assert_int_equal(sim_apdu_parse(c3, sizeof(c3), &a), OL_OK);
	assert_true(a.extended);
	assert_int_equal(a.lc, 300);
	assert_ptr_equal(a.data, c3 + 7);
	assert_int_equal(a.ne, 0);

	memcpy(c4, c3, sizeof(c3));
	c4[7 + 300] = 0x00;
	c4[8 + 300] = 0x00;
	assert_int_equal(sim_apdu_parse(c4, sizeof(c4), &a), OL_OK);
	assert_int_equal(a.lc, 300);
	assert_int_equal(a.ne, 65536);
	c4[7 + 300] = 0x02;
	c4[8 + 300] = 0x01;
	assert_int_equal(sim_apdu_parse(c4, sizeof(c4), &a), OL_OK);
	assert_int_equal(a.ne, 0x201);
}

static void
parse_rejects_bad_lengths(void **state)
{
	static const uint8_t hdr[] = { 0x00, 0xa4, 0x04, 0x00 };
	/* Lc 9, two data bytes */
	static const uint8_t trunc_short[] = { 0x00, 0xa4, 0x04, 0x00, 0x09,
	    0xa0, 0x00 };
	/* Lc 3, five data bytes: neither case 3S nor 4S */
	static const uint8_t long_short[] = { 0x00, 0xa4, 0x04, 0x00, 0x03,
	    1, 2, 3, 4, 5 };
	/* 00 then one byte: no case has six bytes with a zero fifth */
	static const uint8_t six[] = { 0x00, 0x84, 0x00, 0x00, 0x00, 0x08 };
	/* extended Lc 0x0100, three data bytes */
	static const uint8_t trunc_ext[] = { 0x00, 0xdb, 0x3f, 0xff, 0x00,
	    0x01, 0x00, 1, 2, 3 };
	/* extended Lc 0 with trailing bytes */
	static const uint8_t ext_lc0[] = { 0x00, 0xdb, 0x3f, 0xff, 0x00,
	    0x00, 0x00, 0x00 };
	/* extended Lc 2 and one byte of Le */
	static const uint8_t ext_half_le[] = { 0x00, 0xdb, 0x3f, 0xff, 0x00,
	    0x00, 0x02, 1, 2, 0x00 };
	struct sim_apdu a;
	size_t n;

	(void)state;
	for (n = 0; n < sizeof(hdr); n++)
		assert_int_equal(sim_apdu_parse(hdr, n, &a), OL_ERR_PROTOCOL);
	assert_int_equal(sim_apdu_parse(NULL, 4, &a), OL_ERR_PROTOCOL);
	assert_int_equal(sim_apdu_parse(trunc_short, sizeof(trunc_short), &a),
	    OL_ERR_PROTOCOL);
	assert_int_equal(sim_apdu_parse(long_short, sizeof(long_short), &a),
	    OL_ERR_PROTOCOL);
	assert_int_equal(sim_apdu_parse(six, sizeof(six), &a), OL_ERR_PROTOCOL);
	assert_int_equal(sim_apdu_parse(trunc_ext, sizeof(trunc_ext), &a),
	    OL_ERR_PROTOCOL);
	assert_int_equal(sim_apdu_parse(ext_lc0, sizeof(ext_lc0), &a),
	    OL_ERR_PROTOCOL);
	assert_int_equal(sim_apdu_parse(ext_half_le, sizeof(ext_half_le), &a),
	    OL_ERR_PROTOCOL);
}

/* Every prefix of a valid extended case 4 APDU: none may be misread as a
 * longer one (ASan watches the reads). */
static void
parse_every_truncation(void **state)
{
	uint8_t c[9 + 20];
	struct sim_apdu a;
	uint8_t *copy;
	size_t n;
	int ok;

	(void)state;
	memset(c, 0x11, sizeof(c));
	c[0] = 0x00; c[1] = 0x87; c[2] = 0x11; c[3] = 0x9a;
	c[4] = 0x00; c[5] = 0x00; c[6] = 20;
	c[7 + 20] = 0x00; c[8 + 20] = 0x40;
	for (n = 0; n <= sizeof(c); n++) {
		copy = malloc(n > 0 ? n : 1);
		assert_non_null(copy);
		memcpy(copy, c, n);
		ok = sim_apdu_parse(copy, n, &a) == OL_OK;
		/* valid: case 1 (4), 2S (5), 2E (7: "00 00 14" is an
		 * extended Le), 3E (27), 4E (29) */
		assert_int_equal(ok, n == 4 || n == 5 || n == 7 || n == 27 ||
		    n == 29);
		/* no data (2E): data is NULL, and NULL + 0 is undefined */
		if (ok && n > 5 && a.lc > 0)
			assert_true(a.data + a.lc <= copy + n);
		free(copy);
	}
}

/* --- card commands ------------------------------------------------------- */

static void
select_unknown_aid(void **state)
{
	/* OpenPGP and U2F/FIDO: applets this device lacks */
	static const uint8_t pgp[] = { 0x00, 0xa4, 0x04, 0x00, 0x06, 0xd2, 0x76,
	    0x00, 0x01, 0x24, 0x01 };
	static const uint8_t pgp_le[] = { 0x00, 0xa4, 0x04, 0x00, 0x06, 0xd2,
	    0x76, 0x00, 0x01, 0x24, 0x01, 0x00 };
	static const uint8_t other_p2[] = { 0x00, 0xa4, 0x04, 0x0c, 0x07, 0xa0,
	    0x00, 0x00, 0x05, 0x27, 0x21, 0x01 };
	static const uint8_t by_fid[] = { 0x00, 0xa4, 0x00, 0x0c, 0x02, 0x3f,
	    0x00 };
	/* a PIV AID with a wrong byte after the RID, and one too long */
	static const uint8_t piv_wrong[] = { 0x00, 0xa4, 0x04, 0x00, 0x09, 0xa0,
	    0x00, 0x00, 0x03, 0x08, 0x00, 0x00, 0x10, 0x01 };
	static const uint8_t piv_long[] = { 0x00, 0xa4, 0x04, 0x00, 0x0c, 0xa0,
	    0x00, 0x00, 0x03, 0x08, 0x00, 0x00, 0x10, 0x00, 0x01, 0x00, 0x00 };
	/* four bytes: shorter than a RID, no partial match */
	static const uint8_t short_aid[] = { 0x00, 0xa4, 0x04, 0x00, 0x04, 0xa0,
	    0x00, 0x00, 0x03 };
	sim_card_t *card = *state;

	assert_int_equal(sw_only(card, pgp, sizeof(pgp)), 0x6a82);
	assert_int_equal(sw_only(card, pgp_le, sizeof(pgp_le)), 0x6a82);
	assert_int_equal(sw_only(card, other_p2, sizeof(other_p2)), 0x6a82);
	assert_int_equal(sw_only(card, by_fid, sizeof(by_fid)), 0x6a82);
	assert_int_equal(sw_only(card, piv_wrong, sizeof(piv_wrong)), 0x6a82);
	assert_int_equal(sw_only(card, piv_long, sizeof(piv_long)), 0x6a82);
	assert_int_equal(sw_only(card, short_aid, sizeof(short_aid)), 0x6a82);
}

/* The PIV applet answers its AID, whole or partial (the RID alone, as
 * yubico-piv-tool sends it); a failed SELECT leaves it selected. */
static void
select_piv(void **state)
{
	static const uint8_t piv[] = { 0x00, 0xa4, 0x04, 0x00, 0x09, 0xa0, 0x00,
	    0x00, 0x03, 0x08, 0x00, 0x00, 0x10, 0x00, 0x00 };
	static const uint8_t rid[] = { 0x00, 0xa4, 0x04, 0x00, 0x05, 0xa0, 0x00,
	    0x00, 0x03, 0x08 };
	static const uint8_t full[] = { 0x00, 0xa4, 0x04, 0x00, 0x0b, 0xa0,
	    0x00, 0x00, 0x03, 0x08, 0x00, 0x00, 0x10, 0x00, 0x01, 0x00 };
	static const uint8_t no_data[] = { 0x00, 0xa4, 0x04, 0x0c, 0x05, 0xa0,
	    0x00, 0x00, 0x03, 0x08 };
	static const uint8_t pgp[] = { 0x00, 0xa4, 0x04, 0x00, 0x06, 0xd2, 0x76,
	    0x00, 0x01, 0x24, 0x01 };
	/* GET DATA of the Discovery object: only the PIV applet knows it */
	static const uint8_t disc[] = { 0x00, 0xcb, 0x3f, 0xff, 0x03, 0x5c,
	    0x01, 0x7e, 0x00 };
	sim_card_t *card = *state;
	size_t rlen;

	assert_int_equal(sw_only(card, disc, sizeof(disc)), 0x6d00);
	rlen = transmit(card, piv, sizeof(piv), RAPDU_CAP);
	assert_int_equal(sw_of(rlen), 0x9000);
	assert_int_equal(rapdu[0], 0x61);
	assert_int_equal(rapdu[1], rlen - 4);
	/* 4F: the PIX with its version */
	assert_int_equal(rapdu[2], 0x4f);
	assert_int_equal(rapdu[3], 6);
	assert_memory_equal(rapdu + 4, "\x00\x00\x10\x00\x01\x00", 6);
	assert_int_equal(sw_of(transmit(card, rid, sizeof(rid), RAPDU_CAP)),
	    0x9000);
	assert_int_equal(sw_of(transmit(card, full, sizeof(full), RAPDU_CAP)),
	    0x9000);
	assert_int_equal(sw_only(card, no_data, sizeof(no_data)), 0x9000);
	assert_int_equal(sw_only(card, pgp, sizeof(pgp)), 0x6a82);
	rlen = transmit(card, disc, sizeof(disc), RAPDU_CAP);
	assert_int_equal(sw_of(rlen), 0x9000);
	assert_int_equal(rapdu[0], 0x7e);
	/* a new session (card reset) deselects it */
	sim_card_reset(card);
	assert_int_equal(sw_only(card, disc, sizeof(disc)), 0x6d00);
}

static void
select_bad_parameters(void **state)
{
	static const uint8_t bad_p1[] = { 0x00, 0xa4, 0x05, 0x00, 0x01, 0xa0 };
	static const uint8_t next_occ[] = { 0x00, 0xa4, 0x04, 0x02, 0x01, 0xa0 };
	static const uint8_t chained[] = { 0x10, 0xa4, 0x04, 0x00, 0x01, 0xa0 };
	uint8_t long_aid[5 + 17];
	sim_card_t *card = *state;

	assert_int_equal(sw_only(card, bad_p1, sizeof(bad_p1)), 0x6a86);
	assert_int_equal(sw_only(card, next_occ, sizeof(next_occ)), 0x6a86);
	assert_int_equal(sw_only(card, chained, sizeof(chained)), 0x6884);
	memset(long_aid, 0xa0, sizeof(long_aid));
	long_aid[0] = 0x00; long_aid[1] = 0xa4; long_aid[2] = 0x04;
	long_aid[3] = 0x00; long_aid[4] = 17;
	assert_int_equal(sw_only(card, long_aid, sizeof(long_aid)), 0x6700);
}

static void
get_challenge_short(void **state)
{
	static const uint8_t c8[] = { 0x00, 0x84, 0x00, 0x00, 0x08 };
	static const uint8_t c256[] = { 0x00, 0x84, 0x00, 0x00, 0x00 };
	sim_card_t *card = *state;
	uint8_t first[8];
	size_t rlen;

	rlen = transmit(card, c8, sizeof(c8), RAPDU_CAP);
	assert_int_equal(rlen, 8 + 2);
	assert_int_equal(sw_of(rlen), 0x9000);
	memcpy(first, rapdu, 8);
	rlen = transmit(card, c8, sizeof(c8), RAPDU_CAP);
	assert_int_equal(rlen, 8 + 2);
	/* random: two challenges of 64 bits never match */
	assert_memory_not_equal(first, rapdu, 8);

	rlen = transmit(card, c256, sizeof(c256), RAPDU_CAP);
	assert_int_equal(rlen, 256 + 2);
	assert_int_equal(sw_of(rlen), 0x9000);
}

static void
get_challenge_extended(void **state)
{
	static const uint8_t c300[] = { 0x00, 0x84, 0x00, 0x00, 0x00, 0x01,
	    0x2c };
	static const uint8_t cmax[] = { 0x00, 0x84, 0x00, 0x00, 0x00, 0x00,
	    0x00 };
	sim_card_t *card = *state;
	size_t rlen;

	rlen = transmit(card, c300, sizeof(c300), RAPDU_CAP);
	assert_int_equal(rlen, 300 + 2);
	assert_int_equal(sw_of(rlen), 0x9000);
	/* Ne 65536: as much as one CTAPHID message carries, SW included */
	rlen = transmit(card, cmax, sizeof(cmax), RAPDU_CAP);
	assert_int_equal(rlen, RAPDU_CAP);
	assert_int_equal(sw_of(rlen), 0x9000);
	/* and never more than the caller's buffer */
	rlen = transmit(card, cmax, sizeof(cmax), 100);
	assert_int_equal(rlen, 100);
	assert_int_equal(sw_of(rlen), 0x9000);
	rlen = transmit(card, cmax, sizeof(cmax), 2);
	assert_int_equal(rlen, 2);
	assert_int_equal(sw_of(rlen), 0x9000);
}

static void
get_challenge_errors(void **state)
{
	static const uint8_t no_le[] = { 0x00, 0x84, 0x00, 0x00 };
	static const uint8_t with_data[] = { 0x00, 0x84, 0x00, 0x00, 0x01, 0x00,
	    0x08 };
	static const uint8_t p1[] = { 0x00, 0x84, 0x01, 0x00, 0x08 };
	static const uint8_t chained[] = { 0x10, 0x84, 0x00, 0x00, 0x08 };
	sim_card_t *card = *state;

	assert_int_equal(sw_only(card, no_le, sizeof(no_le)), 0x6700);
	assert_int_equal(sw_only(card, with_data, sizeof(with_data)), 0x6700);
	assert_int_equal(sw_only(card, p1, sizeof(p1)), 0x6a86);
	assert_int_equal(sw_only(card, chained, sizeof(chained)), 0x6884);
}

static void
unknown_ins_and_cla(void **state)
{
	static const uint8_t ins[] = { 0x00, 0xca, 0x00, 0x00, 0x00 };
	static const uint8_t prop[] = { 0x80, 0x84, 0x00, 0x00, 0x08 };
	static const uint8_t cla_ff[] = { 0xff, 0x84, 0x00, 0x00, 0x08 };
	static const uint8_t cla_sm[] = { 0x0c, 0x84, 0x00, 0x00, 0x08 };
	static const uint8_t cla_chan[] = { 0x01, 0xa4, 0x04, 0x00, 0x01, 0xa0 };
	static const uint8_t cla_a0[] = { 0xa0, 0xa4, 0x04, 0x00, 0x01, 0xa0 };
	sim_card_t *card = *state;

	assert_int_equal(sw_only(card, ins, sizeof(ins)), 0x6d00);
	/* proprietary class: no card-level command lives there */
	assert_int_equal(sw_only(card, prop, sizeof(prop)), 0x6d00);
	assert_int_equal(sw_only(card, cla_ff, sizeof(cla_ff)), 0x6e00);
	assert_int_equal(sw_only(card, cla_sm, sizeof(cla_sm)), 0x6e00);
	assert_int_equal(sw_only(card, cla_chan, sizeof(cla_chan)), 0x6e00);
	assert_int_equal(sw_only(card, cla_a0, sizeof(cla_a0)), 0x6e00);
}

static void
truncated_apdus_answer_6700(void **state)
{
	static const uint8_t hdr[] = { 0x00, 0x84, 0x00, 0x00 };
	static const uint8_t trunc[] = { 0x00, 0xa4, 0x04, 0x00, 0x09, 0xa0,
	    0x00, 0x00 };
	static const uint8_t trunc_ext[] = { 0x00, 0xa4, 0x04, 0x00, 0x00, 0x00,
	    0x09, 0xa0, 0x00 };
	sim_card_t *card = *state;
	size_t n;

	for (n = 0; n < sizeof(hdr); n++)
		assert_int_equal(sw_only(card, hdr, n), 0x6700);
	assert_int_equal(sw_only(card, trunc, sizeof(trunc)), 0x6700);
	assert_int_equal(sw_only(card, trunc_ext, sizeof(trunc_ext)), 0x6700);
}

static void
api_misuse(void **state)
{
	static const uint8_t c[] = { 0x00, 0x84, 0x00, 0x00, 0x08 };
	sim_card_t *card = *state;
	uint8_t r[2];
	size_t rlen = 99;

	assert_int_equal(sim_card_apdu(card, c, sizeof(c), r, 1, &rlen),
	    OL_ERR_ARG);
	assert_int_equal(sim_card_apdu(NULL, c, sizeof(c), r, 2, &rlen),
	    OL_ERR_ARG);
	assert_int_equal(sim_card_apdu(card, NULL, 5, r, 2, &rlen), OL_ERR_ARG);
	assert_int_equal(sim_card_apdu(card, c, sizeof(c), NULL, 2, &rlen),
	    OL_ERR_ARG);
	assert_int_equal(sim_card_apdu(card, c, sizeof(c), r, 2, NULL),
	    OL_ERR_ARG);
	assert_int_equal(sim_card_new(NULL), OL_ERR_ARG);
	sim_card_free(NULL);
}

static void
status_and_ops(void **state)
{
	static const uint8_t c[] = { 0x00, 0x84, 0x00, 0x00, 0x04 };
	sim_card_t *card = *state;
	size_t rlen = 0;

	assert_int_equal(sim_card_status(card), SIM_CARD_IDLE);
	/* the values the CTAPHID layer copies into KEEPALIVE */
	assert_int_equal(SIM_CARD_PROCESSING, 1);
	assert_int_equal(SIM_CARD_UPNEEDED, 2);
	sim_card_cancel(card);
	sim_card_arm(card);
	assert_int_equal(sim_card_ops.apdu(card, c, sizeof(c), rapdu,
	    RAPDU_CAP, &rlen), OL_OK);
	assert_int_equal(rlen, 6);
	assert_int_equal(sim_card_ops.status(card), SIM_CARD_IDLE);
}

/* The touch port other applications use: a limit, the results, and the
 * status put back as it was */
static void
touch_port_with_limit(void **state)
{
	static const struct {
		enum sim_touch_mode mode;
		int touch_ms, limit;
		enum sim_touch_result res;
	} t[] = {
		{ SIM_TOUCH_APPROVE, 0, 50, SIM_TOUCH_APPROVED },
		{ SIM_TOUCH_AFTER, 10, 1000, SIM_TOUCH_APPROVED },
		{ SIM_TOUCH_AFTER, 1000, 30, SIM_TOUCH_TIMEOUT },
		{ SIM_TOUCH_DENY, 0, 1000, SIM_TOUCH_DENIED },
		{ SIM_TOUCH_DENY, 0, 30, SIM_TOUCH_TIMEOUT },
		{ SIM_TOUCH_NEVER, 0, 30, SIM_TOUCH_TIMEOUT },
	};
	struct sim_card_config cfg;
	struct sim_touch_port port;
	sim_card_t *c;
	int64_t t0;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		sim_card_config_init(&cfg);
		cfg.touch = t[i].mode;
		cfg.touch_ms = t[i].touch_ms;
		assert_int_equal(sim_card_new_config(&cfg, &c), OL_OK);
		sim_card_touch_port(c, &port);
		assert_ptr_equal(port.ctx, c);
		t0 = ol_now_ms();
		assert_int_equal(port.wait_for(port.ctx, t[i].limit), t[i].res);
		if (t[i].res == SIM_TOUCH_TIMEOUT)
			assert_true(ol_now_ms() - t0 >= t[i].limit);
		assert_int_equal(sim_card_status(c), SIM_CARD_IDLE);
		sim_card_free(&c);
	}
	/* a cancel ends a wait with a limit too */
	sim_card_config_init(&cfg);
	cfg.touch = SIM_TOUCH_NEVER;
	assert_int_equal(sim_card_new_config(&cfg, &c), OL_OK);
	sim_card_cancel(c);
	assert_int_equal(sim_card_wait_touch_for(c, 5000),
	    SIM_TOUCH_CANCELLED);
	sim_card_free(&c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(parse_case1),
		cmocka_unit_test(parse_short_cases),
		cmocka_unit_test(parse_extended_cases),
		cmocka_unit_test(parse_rejects_bad_lengths),
		cmocka_unit_test(parse_every_truncation),
		cmocka_unit_test_setup_teardown(select_unknown_aid, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(select_piv, setup, teardown),
		cmocka_unit_test_setup_teardown(select_bad_parameters, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(get_challenge_short, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(get_challenge_extended, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(get_challenge_errors, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(unknown_ins_and_cla, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(truncated_apdus_answer_6700,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(api_misuse, setup, teardown),
		cmocka_unit_test_setup_teardown(status_and_ops, setup,
		    teardown),
		cmocka_unit_test(touch_port_with_limit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
