/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * openloop-sim's FIDO2 side: authenticatorGetInfo byte for byte (hand-
 * computed from RFC 8949), then again through a small bounded CBOR
 * reader that checks well-formedness, canonical key order and the
 * values libfido2 reads; CTAP2 dispatch and every buffer size.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "ol_err.h"
#include "sim_fido.h"

/* --- the expected encoding ---------------------------------------------- */

static const uint8_t expected_info[] = {
	0xa7,                                     /* map(7) */
	0x01, 0x81, 0x68, 'F', 'I', 'D', 'O', '_', '2', '_', '0',
	0x02, 0x80,                               /* extensions [] */
	0x03, 0x50,                               /* aaguid bytes(16) */
	'O', 'L', 'S', 'I', 'M', '-', 'F', 'I', 'D', 'O', '2', '-',
	'0', '0', '0', '1',
	0x04, 0xa4,                               /* options map(4) */
	0x62, 'r', 'k', 0xf5,
	0x62, 'u', 'p', 0xf5,
	0x64, 'p', 'l', 'a', 't', 0xf4,
	0x69, 'c', 'l', 'i', 'e', 'n', 't', 'P', 'i', 'n', 0xf4,
	0x05, 0x19, 0x04, 0xb0,                   /* maxMsgSize 1200 */
	0x09, 0x81, 0x63, 'u', 's', 'b',          /* transports */
	0x0a, 0x82,                               /* algorithms */
	0xa2, 0x63, 'a', 'l', 'g', 0x26,          /* -7 */
	0x64, 't', 'y', 'p', 'e',
	0x6a, 'p', 'u', 'b', 'l', 'i', 'c', '-', 'k', 'e', 'y',
	0xa2, 0x63, 'a', 'l', 'g', 0x27,          /* -8 */
	0x64, 't', 'y', 'p', 'e',
	0x6a, 'p', 'u', 'b', 'l', 'i', 'c', '-', 'k', 'e', 'y',
};

/* --- a bounded CBOR reader (definite lengths, no tags, no floats) ------- */

struct rd {
	const uint8_t *p;
	size_t len;
	size_t off;
};

/* Reads one head: major type and argument.  0, or -1 past the end or on
 * anything this subset does not allow (indefinite lengths, reserved
 * values, a non-shortest argument). */
static int
rd_head(struct rd *r, unsigned *major, uint64_t *arg)
{
	uint8_t ib, ai;
	size_t n, i;

	if (r->off >= r->len)
		return -1;
	ib = r->p[r->off++];
	*major = ib >> 5;
	ai = ib & 0x1f;
	if (ai < 24) {
		*arg = ai;
		return 0;
	}
	if (ai > 27)
		return -1;
	n = (size_t)1 << (ai - 24);
	if (n > r->len - r->off)
		return -1;
	*arg = 0;
	for (i = 0; i < n; i++)
		*arg = *arg << 8 | r->p[r->off++];
	/* shortest form, as canonical CBOR requires */
	if ((n == 1 && *arg < 24) || (n == 2 && *arg <= 0xff) ||
	    (n == 4 && *arg <= 0xffff) || (n == 8 && *arg <= 0xffffffffu))
		return -1;
	return 0;
}

/* A text or byte string: its bytes, bounded by the buffer. */
static int
rd_str(struct rd *r, unsigned want_major, const uint8_t **s, size_t *n)
{
	unsigned major;
	uint64_t arg;

	if (rd_head(r, &major, &arg) != 0 || major != want_major ||
	    arg > r->len - r->off)
		return -1;
	*s = r->p + r->off;
	*n = (size_t)arg;
	r->off += (size_t)arg;
	return 0;
}

static int
rd_text_eq(struct rd *r, const char *want)
{
	const uint8_t *s;
	size_t n;

	return rd_str(r, 3, &s, &n) == 0 && n == strlen(want) &&
	    memcmp(s, want, n) == 0 ? 0 : -1;
}

/* Any well-formed item, depth-bounded; used to walk the whole map. */
static int
rd_skip(struct rd *r, int depth)
{
	unsigned major;
	uint64_t arg, i;

	if (depth > 8 || rd_head(r, &major, &arg) != 0)
		return -1;
	switch (major) {
	case 0:
	case 1:
		return 0;
	case 2:
	case 3:
		if (arg > r->len - r->off)
			return -1;
		r->off += (size_t)arg;
		return 0;
	case 4:
		for (i = 0; i < arg; i++)
			if (rd_skip(r, depth + 1) != 0)
				return -1;
		return 0;
	case 5:
		for (i = 0; i < 2 * arg; i++)
			if (rd_skip(r, depth + 1) != 0)
				return -1;
		return 0;
	case 7:
		/* only false, true */
		return arg == 20 || arg == 21 ? 0 : -1;
	default:
		return -1;
	}
}

/* CTAP2 canonical order of two encoded keys: shorter first, then bytes */
static int
key_less(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	if (alen != blen)
		return alen < blen;
	return memcmp(a, b, alen) < 0;
}

/* A map whose keys are in canonical order; returns its size. */
static int
rd_map_canonical(struct rd *r, uint64_t *count)
{
	struct rd copy;
	unsigned major;
	uint64_t i;
	size_t kstart, klen, pstart = 0, plen = 0;

	if (rd_head(r, &major, count) != 0 || major != 5)
		return -1;
	copy = *r;
	for (i = 0; i < *count; i++) {
		kstart = copy.off;
		if (rd_skip(&copy, 1) != 0)
			return -1;
		klen = copy.off - kstart;
		if (i > 0 && !key_less(copy.p + pstart, plen, copy.p + kstart,
		    klen))
			return -1;
		pstart = kstart;
		plen = klen;
		if (rd_skip(&copy, 1) != 0)
			return -1;
	}
	return 0;
}

static void
expect_uint(struct rd *r, uint64_t want)
{
	unsigned major;
	uint64_t arg;

	assert_int_equal(rd_head(r, &major, &arg), 0);
	assert_int_equal(major, 0);
	assert_int_equal(arg, want);
}

static void
expect_head(struct rd *r, unsigned want_major, uint64_t want_arg)
{
	unsigned major;
	uint64_t arg;

	assert_int_equal(rd_head(r, &major, &arg), 0);
	assert_int_equal(major, want_major);
	assert_int_equal(arg, want_arg);
}

static void
expect_option(struct rd *r, const char *name, int value)
{
	assert_int_equal(rd_text_eq(r, name), 0);
	assert_true(r->off < r->len);
	assert_int_equal(r->p[r->off], value ? 0xf5 : 0xf4);
	r->off++;
}

static void
expect_alg(struct rd *r, uint64_t nint_arg)
{
	uint64_t n;

	assert_int_equal(rd_map_canonical(r, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(rd_text_eq(r, "alg"), 0);
	expect_head(r, 1, nint_arg);            /* -1 - arg */
	assert_int_equal(rd_text_eq(r, "type"), 0);
	assert_int_equal(rd_text_eq(r, "public-key"), 0);
}

/* --- tests --------------------------------------------------------------- */

static void
get_info_exact_bytes(void **state)
{
	uint8_t buf[SIM_FIDO_RESP_MAX];
	size_t len = 99;

	(void)state;
	assert_int_equal(sim_fido_get_info(buf, sizeof(buf), &len), OL_OK);
	assert_int_equal(len, sizeof(expected_info));
	assert_memory_equal(buf, expected_info, sizeof(expected_info));
}

static void
get_info_decodes(void **state)
{
	uint8_t buf[SIM_FIDO_RESP_MAX];
	const uint8_t *s;
	struct rd r;
	uint64_t n;
	size_t len;

	(void)state;
	assert_int_equal(sim_fido_get_info(buf, sizeof(buf), &len), OL_OK);
	/* one well-formed item that is the whole buffer */
	r.p = buf;
	r.len = len;
	r.off = 0;
	assert_int_equal(rd_skip(&r, 0), 0);
	assert_int_equal(r.off, len);

	r.off = 0;
	assert_int_equal(rd_map_canonical(&r, &n), 0);
	assert_int_equal(n, 7);
	expect_uint(&r, 0x01);                  /* versions */
	expect_head(&r, 4, 1);
	assert_int_equal(rd_text_eq(&r, "FIDO_2_0"), 0);
	expect_uint(&r, 0x02);                  /* extensions */
	expect_head(&r, 4, 0);
	expect_uint(&r, 0x03);                  /* aaguid */
	assert_int_equal(rd_str(&r, 2, &s, &len), 0);
	assert_int_equal(len, SIM_FIDO_AAGUID_LEN);
	assert_memory_equal(s, "OLSIM-FIDO2-0001", SIM_FIDO_AAGUID_LEN);
	assert_memory_equal(s, sim_fido_aaguid, SIM_FIDO_AAGUID_LEN);
	expect_uint(&r, 0x04);                  /* options */
	assert_int_equal(rd_map_canonical(&r, &n), 0);
	assert_int_equal(n, 4);
	expect_option(&r, "rk", 1);
	expect_option(&r, "up", 1);
	expect_option(&r, "plat", 0);
	expect_option(&r, "clientPin", 0);
	expect_uint(&r, 0x05);                  /* maxMsgSize */
	expect_uint(&r, 1200);
	expect_uint(&r, 0x09);                  /* transports */
	expect_head(&r, 4, 1);
	assert_int_equal(rd_text_eq(&r, "usb"), 0);
	expect_uint(&r, 0x0a);                  /* algorithms */
	expect_head(&r, 4, 2);
	expect_alg(&r, 6);                      /* ES256, -7 */
	expect_alg(&r, 7);                      /* EdDSA, -8 */
	assert_int_equal(r.off, r.len);
}

static void
reader_refuses_bad_cbor(void **state)
{
	static const uint8_t truncated[] = { 0x82, 0x01 };
	static const uint8_t long_str[] = { 0x65, 'a', 'b' };
	static const uint8_t not_shortest[] = { 0x18, 0x05 };
	static const uint8_t indefinite[] = { 0x9f, 0xff };
	static const uint8_t unsorted[] = { 0xa2, 0x02, 0x00, 0x01, 0x00 };
	struct rd r;
	uint64_t n;

	(void)state;
#define RD(b) (r.p = (b), r.len = sizeof(b), r.off = 0)
	RD(truncated);
	assert_int_equal(rd_skip(&r, 0), -1);
	RD(long_str);
	assert_int_equal(rd_skip(&r, 0), -1);
	RD(not_shortest);
	assert_int_equal(rd_skip(&r, 0), -1);
	RD(indefinite);
	assert_int_equal(rd_skip(&r, 0), -1);
	RD(unsorted);
	assert_int_equal(rd_map_canonical(&r, &n), -1);
#undef RD
}

static void
get_info_every_short_buffer(void **state)
{
	uint8_t buf[SIM_FIDO_RESP_MAX];
	size_t cap, len;

	(void)state;
	for (cap = 0; cap < sizeof(expected_info); cap++) {
		len = 99;
		memset(buf, 0xee, sizeof(buf));
		assert_int_equal(sim_fido_get_info(buf, cap, &len),
		    OL_ERR_TOO_LONG);
		assert_int_equal(len, 0);
		/* nothing written past cap */
		assert_int_equal(buf[cap], 0xee);
	}
	assert_int_equal(sim_fido_get_info(buf, cap, &len), OL_OK);
	assert_int_equal(len, cap);
	assert_int_equal(sim_fido_get_info(NULL, 10, &len), OL_ERR_ARG);
	assert_int_equal(sim_fido_get_info(buf, 10, NULL), OL_ERR_ARG);
}

static void
request_dispatch(void **state)
{
	static const uint8_t get_info[] = { CTAP2_CMD_GET_INFO };
	static const uint8_t get_info_param[] = { CTAP2_CMD_GET_INFO, 0xa0 };
	static const uint8_t others[] = { 0x00, CTAP2_CMD_MAKE_CREDENTIAL,
	    CTAP2_CMD_GET_ASSERTION, 0x03, 0x05, CTAP2_CMD_CLIENT_PIN,
	    CTAP2_CMD_RESET, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x40, 0x41,
	    0xbf, 0xff };
	uint8_t resp[SIM_FIDO_RESP_MAX];
	size_t len, i;

	(void)state;
	assert_int_equal(sim_fido_request(get_info, 1, resp, sizeof(resp),
	    &len), OL_OK);
	assert_int_equal(len, 1 + sizeof(expected_info));
	assert_int_equal(resp[0], CTAP2_OK);
	assert_memory_equal(resp + 1, expected_info, sizeof(expected_info));
	/* the response must fit in the buffer, status byte included */
	assert_int_equal(sim_fido_request(get_info, 1, resp,
	    sizeof(expected_info), &len), OL_ERR_TOO_LONG);
	assert_int_equal(len, 0);
	assert_int_equal(sim_fido_request(get_info, 1, resp, 0, &len),
	    OL_ERR_TOO_LONG);
	assert_int_equal(sim_fido_request(get_info_param,
	    sizeof(get_info_param), resp, sizeof(resp), &len), OL_OK);
	assert_int_equal(len, 1);
	assert_int_equal(resp[0], CTAP2_ERR_INVALID_LENGTH);
	for (i = 0; i < sizeof(others); i++) {
		len = 99;
		assert_int_equal(sim_fido_request(&others[i], 1, resp,
		    sizeof(resp), &len), OL_OK);
		assert_int_equal(len, 1);
		assert_int_equal(resp[0], CTAP2_ERR_INVALID_COMMAND);
	}
	/* no command byte */
	assert_int_equal(sim_fido_request(get_info, 0, resp, sizeof(resp),
	    &len), OL_ERR_ARG);
	assert_int_equal(sim_fido_request(NULL, 1, resp, sizeof(resp), &len),
	    OL_ERR_ARG);
	assert_string_equal(sim_fido_cmd_name(CTAP2_CMD_GET_INFO),
	    "authenticatorGetInfo");
	assert_string_equal(sim_fido_cmd_name(0x55), "unknown");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(get_info_exact_bytes),
		cmocka_unit_test(get_info_decodes),
		cmocka_unit_test(reader_refuses_bad_cbor),
		cmocka_unit_test(get_info_every_short_buffer),
		cmocka_unit_test(request_dispatch),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
