/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ifd-openloop: tests of the synthesized ATR and of the ATR checker
 * (src/driver/atr.c).
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "atr.h"
#include "ol_err.h"

/* Written out by hand from the ISO 7816-3 layout, not computed. */
static const uint8_t expected_atr[] = {
	0x3b,                   /* TS: direct convention */
	0x8e,                   /* T0: TD1 present, 14 historical bytes */
	0x81,                   /* TD1: TD2 present, T=1 */
	0x31,                   /* TD2: TA3 TB3 present, T=1 */
	0xfe,                   /* TA3: IFSC 254 */
	0x45,                   /* TB3: BWI 4, CWI 5 */
	0x80,                   /* category: compact-TLV follows */
	0x58, 0x4f, 0x70, 0x65, 0x6e, 0x6c, 0x6f, 0x6f, 0x70, /* "Openloop" */
	0x73, 0x80, 0x00, 0xc0, /* card capabilities */
	0x46,                   /* TCK */
};

static int
build(uint8_t *atr)
{
	int n;

	memset(atr, 0, OL_ATR_MAX);
	n = ol_atr_build(atr, OL_ATR_MAX);
	assert_true(n > 0);
	return n;
}

static void
test_build_exact(void **state)
{
	uint8_t atr[OL_ATR_MAX];
	int n;

	(void)state;
	n = build(atr);
	assert_int_equal(n, sizeof(expected_atr));
	assert_int_equal(n, 21);
	assert_memory_equal(atr, expected_atr, sizeof(expected_atr));
	assert_int_equal(ol_atr_check(atr, (size_t)n), OL_OK);
}

static void
test_build_cap(void **state)
{
	uint8_t atr[OL_ATR_MAX + 1];

	(void)state;
	memset(atr, 0xee, sizeof(atr));
	assert_int_equal(ol_atr_build(atr, sizeof(expected_atr) - 1),
	    OL_ERR_ARG);
	assert_int_equal(ol_atr_build(atr, 0), OL_ERR_ARG);
	assert_int_equal(ol_atr_build(NULL, OL_ATR_MAX), OL_ERR_ARG);
	/* exactly enough room, and not a byte written past it */
	assert_int_equal(ol_atr_build(atr, sizeof(expected_atr)),
	    sizeof(expected_atr));
	assert_int_equal(atr[sizeof(expected_atr)], 0xee);
}

/* The historical bytes name the product in a compact-TLV 5x tag. */
static void
test_historical_bytes(void **state)
{
	uint8_t atr[OL_ATR_MAX];
	int n;

	(void)state;
	n = build(atr);
	assert_int_equal(atr[1] & 0x0f, 14);
	assert_int_equal(atr[6], 0x80);
	assert_int_equal(atr[7] >> 4, 5);
	assert_int_equal(atr[7] & 0x0f, 8);
	assert_memory_equal(atr + 8, "Openloop", 8);
	assert_int_equal(atr[16], 0x73);
	assert_int_equal(atr[19] & 0xc0, 0xc0); /* chaining, extended */
	assert_int_equal(6 + 14 + 1, n);
}

/* OpenSC treats "3B 8x 80 01" as a contactless pseudo-ATR. */
static void
test_not_contactless_shape(void **state)
{
	uint8_t atr[OL_ATR_MAX];

	(void)state;
	build(atr);
	assert_false(atr[0] == 0x3b && (atr[1] & 0xf0) == 0x80 &&
	    atr[2] == 0x80 && atr[3] == 0x01);
}

/* Any single-byte change breaks the ATR, except TS 3B -> 3F, the other
 * valid convention. */
static void
test_every_byte_matters(void **state)
{
	uint8_t atr[OL_ATR_MAX], mod[OL_ATR_MAX];
	size_t n, i;
	unsigned mask;

	(void)state;
	n = (size_t)build(atr);
	for (i = 0; i < n; i++) {
		for (mask = 1; mask < 256; mask++) {
			memcpy(mod, atr, n);
			mod[i] ^= (uint8_t)mask;
			if (i == 0 && mod[0] == 0x3f) {
				assert_int_equal(ol_atr_check(mod, n), OL_OK);
				continue;
			}
			if (ol_atr_check(mod, n) == OL_OK)
				fail_msg("byte %zu ^ 0x%02x accepted", i, mask);
		}
	}
}

static void
test_truncated_and_overlong(void **state)
{
	uint8_t atr[OL_ATR_MAX + 2];
	size_t n, i;

	(void)state;
	n = (size_t)build(atr);
	for (i = 0; i < n; i++)
		assert_int_equal(ol_atr_check(atr, i), OL_ERR_PROTOCOL);
	/* trailing garbage after TCK, even bytes that keep the XOR at 0 */
	atr[n] = 0x00;
	assert_int_equal(ol_atr_check(atr, n + 1), OL_ERR_PROTOCOL);
	atr[n] = 0x55;
	atr[n + 1] = 0x55;
	assert_int_equal(ol_atr_check(atr, n + 2), OL_ERR_PROTOCOL);
	assert_int_equal(ol_atr_check(NULL, n), OL_ERR_PROTOCOL);
}

static void
test_bad_tck(void **state)
{
	uint8_t atr[OL_ATR_MAX];
	size_t n;

	(void)state;
	n = (size_t)build(atr);
	atr[n - 1] ^= 0x01;
	assert_int_equal(ol_atr_check(atr, n), OL_ERR_PROTOCOL);
	/* TCK dropped: K and the interface bytes still add up to n-1 */
	atr[n - 1] ^= 0x01;
	assert_int_equal(ol_atr_check(atr, n - 1), OL_ERR_PROTOCOL);
}

/* Appends the TCK of atr[1..n-1]. */
static size_t
with_tck(uint8_t *atr, size_t n)
{
	uint8_t x = 0;
	size_t i;

	for (i = 1; i < n; i++)
		x ^= atr[i];
	atr[n] = x;
	return n + 1;
}

static void
test_t0_only_without_tck(void **state)
{
	/* T0 = 0x65: TB1, TC1 present, 5 historical bytes, no TDi: T=0 by
	 * default, so no TCK. */
	static const uint8_t t0_default[] = {
		0x3b, 0x65, 0x00, 0x00, 0x9c, 0x11, 0x01, 0x01, 0x03,
	};
	/* TD1 = 0x00: T=0 stated explicitly, still no TCK */
	static const uint8_t t0_explicit[] = { 0x3b, 0x82, 0x00, 0x12, 0x34 };
	/* inverse convention, no interface bytes, no historical bytes */
	static const uint8_t minimal[] = { 0x3f, 0x00 };
	uint8_t atr[OL_ATR_MAX];
	size_t n;

	(void)state;
	assert_int_equal(ol_atr_check(t0_default, sizeof(t0_default)), OL_OK);
	assert_int_equal(ol_atr_check(t0_explicit, sizeof(t0_explicit)),
	    OL_OK);
	assert_int_equal(ol_atr_check(minimal, sizeof(minimal)), OL_OK);

	/* the same ATR with a TCK has a trailing byte */
	memcpy(atr, t0_default, sizeof(t0_default));
	n = with_tck(atr, sizeof(t0_default));
	assert_int_equal(ol_atr_check(atr, n), OL_ERR_PROTOCOL);
}

static void
test_other_protocols_need_tck(void **state)
{
	/* TD1 = 0x80: T=0, TD2 follows; TD2 = 0x01: T=1 -> TCK required */
	uint8_t atr[OL_ATR_MAX] = { 0x3b, 0x81, 0x80, 0x01, 0x42 };
	/* T=15 (global bytes) also makes TCK mandatory */
	uint8_t t15[OL_ATR_MAX] = { 0x3b, 0x80, 0x8f, 0x10, 0x03 };
	/* a real token's ATR, from the wild (YubiKey 5 NFC, CCID) */
	static const uint8_t yubikey[] = {
		0x3b, 0xfd, 0x13, 0x00, 0x00, 0x81, 0x31, 0xfe, 0x15, 0x80,
		0x73, 0xc0, 0x21, 0xc0, 0x57, 0x59, 0x75, 0x62, 0x69, 0x4b,
		0x65, 0x79, 0x40,
	};
	size_t n;

	(void)state;
	assert_int_equal(ol_atr_check(atr, 5), OL_ERR_PROTOCOL);
	n = with_tck(atr, 5);
	assert_int_equal(ol_atr_check(atr, n), OL_OK);

	assert_int_equal(ol_atr_check(t15, 5), OL_ERR_PROTOCOL);
	n = with_tck(t15, 5);
	assert_int_equal(ol_atr_check(t15, n), OL_OK);

	assert_int_equal(ol_atr_check(yubikey, sizeof(yubikey)), OL_OK);
}

static void
test_structure_errors(void **state)
{
	/* TS neither 3B nor 3F */
	uint8_t bad_ts[OL_ATR_MAX] = { 0x3c, 0x00 };
	/* T0 announces TA1..TD1 but the ATR ends */
	static const uint8_t short_if[] = { 0x3b, 0xf0, 0x11, 0x22 };
	/* TD1 announces TD2 that is missing */
	static const uint8_t no_td2[] = { 0x3b, 0x80, 0x80 };
	/* 15 historical bytes announced, 2 present */
	static const uint8_t short_hist[] = { 0x3b, 0x0f, 0x01, 0x02 };
	uint8_t big[OL_ATR_MAX + 1];
	size_t n;

	(void)state;
	assert_int_equal(ol_atr_check(bad_ts, 2), OL_ERR_PROTOCOL);
	assert_int_equal(ol_atr_check(short_if, sizeof(short_if)),
	    OL_ERR_PROTOCOL);
	assert_int_equal(ol_atr_check(no_td2, sizeof(no_td2)),
	    OL_ERR_PROTOCOL);
	assert_int_equal(ol_atr_check(short_hist, sizeof(short_hist)),
	    OL_ERR_PROTOCOL);
	assert_int_equal(ol_atr_check(bad_ts, 1), OL_ERR_PROTOCOL);
	assert_int_equal(ol_atr_check(bad_ts, 0), OL_ERR_PROTOCOL);

	/* A long TDi chain: seven groups of TA TB TC TD (T=1), 2 historical
	 * bytes and TCK make 33 bytes, the maximum; one more historical
	 * byte (announced and present) makes 34 and is refused. */
	memset(big, 0, sizeof(big));
	big[0] = 0x3b;
	big[1] = 0xf2;  /* TA1 TB1 TC1 TD1, K = 2 */
	for (n = 0; n < 7; n++)
		big[2 + 4 * n + 3] = (n < 6) ? 0xf1 : 0x01;
	n = with_tck(big, 2 + 7 * 4 + 2);
	assert_int_equal(n, OL_ATR_MAX);
	assert_int_equal(ol_atr_check(big, n), OL_OK);
	big[1] = 0xf3;
	n = with_tck(big, 2 + 7 * 4 + 3);
	assert_int_equal(n, OL_ATR_MAX + 1);
	assert_int_equal(ol_atr_check(big, n), OL_ERR_PROTOCOL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_build_exact),
		cmocka_unit_test(test_build_cap),
		cmocka_unit_test(test_historical_bytes),
		cmocka_unit_test(test_not_contactless_shape),
		cmocka_unit_test(test_every_byte_matters),
		cmocka_unit_test(test_truncated_and_overlong),
		cmocka_unit_test(test_bad_tck),
		cmocka_unit_test(test_t0_only_without_tck),
		cmocka_unit_test(test_other_protocols_need_tck),
		cmocka_unit_test(test_structure_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
