/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ifd-openloop: tests of the APDU log formatter (src/driver/apdu_log.c).
 * The point is that a PIN, a PUK or the management key exchange never
 * reaches the log, at any buffer size.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <cmocka.h>

#include "apdu_log.h"

#define PIN 0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0xff, 0xff
#define PIN_TEXT "31 32 33 34 35 36 FF FF"
#define CANARY 0x5a
#define BIG 1024

/* Formats into a buffer of exactly cap bytes followed by canaries, and
 * checks the canaries and the NUL. */
static const char *
fmt_cmd(const uint8_t *apdu, size_t len, size_t cap)
{
	static char buf[BIG + 16];
	size_t i;

	memset(buf, CANARY, sizeof(buf));
	assert_ptr_equal(ol_apdu_format_command(apdu, len, buf, cap), buf);
	for (i = cap; i < sizeof(buf); i++)
		assert_int_equal((unsigned char)buf[i], CANARY);
	if (cap > 0)
		assert_non_null(memchr(buf, '\0', cap));
	return buf;
}

static const char *
fmt_rsp(const uint8_t *rapdu, size_t len, int sensitive, size_t cap)
{
	static char buf[BIG + 16];
	size_t i;

	memset(buf, CANARY, sizeof(buf));
	assert_ptr_equal(ol_apdu_format_response(rapdu, len, sensitive, buf,
	    cap), buf);
	for (i = cap; i < sizeof(buf); i++)
		assert_int_equal((unsigned char)buf[i], CANARY);
	if (cap > 0)
		assert_non_null(memchr(buf, '\0', cap));
	return buf;
}

static int
is_hex_digit(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F') ||
	    (c >= 'a' && c <= 'f');
}

/*
 * The strong property: the hex bytes that appear in out are, in order, the
 * first bytes of apdu, and no more than max_shown of them.  Every other
 * token must be one of the fixed words.  A half-written byte ("3...")
 * counts as a leak.
 */
static void
assert_shows_at_most(const char *out, const uint8_t *apdu, size_t max_shown)
{
	char copy[BIG + 16], *tok, *save = NULL, want[3];
	size_t k = 0, n;

	snprintf(copy, sizeof(copy), "%s", out);
	for (tok = strtok_r(copy, " ", &save); tok != NULL;
	    tok = strtok_r(NULL, " ", &save)) {
		n = strlen(tok);
		/* truncation: "...", or as many dots as fitted */
		while (n > 0 && tok[n - 1] == '.')
			tok[--n] = '\0';
		if (n == 0 || strcmp(tok, "C:") == 0 ||
		    strcmp(tok, "R:") == 0 || strcmp(tok, "bytes") == 0 ||
		    strcmp(tok, "byte") == 0 ||
		    strcmp(tok, "hidden>") == 0 || strcmp(tok, "(empty)") == 0)
			continue;
		if (tok[0] == '<')
			continue;       /* "<N" of "<N bytes hidden>" */
		if (n == 2 && is_hex_digit(tok[0]) && is_hex_digit(tok[1])) {
			if (k >= max_shown)
				fail_msg("byte %zu shown in \"%s\"", k, out);
			snprintf(want, sizeof(want), "%02X", apdu[k]);
			if (strcasecmp(tok, want) != 0)
				fail_msg("token %s is not byte %zu in \"%s\"",
				    tok, k, out);
			k++;
			continue;
		}
		fail_msg("unexpected token \"%s\" in \"%s\"", tok, out);
	}
}

/* Runs one sensitive command through every buffer size. */
static void
check_hidden_at_all_caps(const uint8_t *apdu, size_t len, size_t visible)
{
	const char *out;
	size_t cap;

	assert_true(ol_apdu_is_sensitive(apdu, len));
	for (cap = 0; cap <= 128; cap++) {
		out = fmt_cmd(apdu, len, cap);
		if (cap == 0)
			continue;
		assert_null(strcasestr(out, PIN_TEXT));
		assert_null(strcasestr(out, "31 32"));
		assert_null(strcasestr(out, "FF FF"));
		assert_shows_at_most(out, apdu, visible);
	}
}

static void
test_is_sensitive(void **state)
{
	static const uint8_t verify[] = { 0x00, 0x20, 0x00, 0x80 };
	static const uint8_t chained[] = { 0x10, 0x24, 0x00, 0x80 };
	static const uint8_t prop[] = { 0x80, 0x2c, 0x00, 0x80 };
	static const uint8_t ga9b[] = { 0x00, 0x87, 0x03, 0x9b };
	static const uint8_t ga9a[] = { 0x00, 0x87, 0x11, 0x9a };
	static const uint8_t select[] = { 0x00, 0xa4, 0x04, 0x00 };
	static const uint8_t getdata[] = { 0x00, 0xcb, 0x3f, 0xff };
	static const uint8_t putdata[] = { 0x00, 0xdb, 0x3f, 0xff };
	static const uint8_t import[] = { 0x00, 0xfe, 0x11, 0x9a };
	static const uint8_t setmgm[] = { 0x00, 0xff, 0xff, 0xff };
	static const uint8_t unknown[] = { 0x00, 0x70, 0x00, 0x00 };
	static const uint8_t prop_select[] = { 0x80, 0xa4, 0x04, 0x00 };

	(void)state;
	/* allow-list: everything is hidden but what is known public */
	assert_true(ol_apdu_is_sensitive(verify, 4));
	assert_true(ol_apdu_is_sensitive(verify, 2));
	assert_true(ol_apdu_is_sensitive(chained, 4));
	assert_true(ol_apdu_is_sensitive(prop, 4));
	assert_true(ol_apdu_is_sensitive(ga9b, 4));
	assert_true(ol_apdu_is_sensitive(ga9a, 4));
	assert_true(ol_apdu_is_sensitive(putdata, 4));
	assert_true(ol_apdu_is_sensitive(import, 4));
	assert_true(ol_apdu_is_sensitive(setmgm, 4));
	assert_true(ol_apdu_is_sensitive(unknown, 4));
	assert_true(ol_apdu_is_sensitive(prop_select, 4));
	assert_false(ol_apdu_is_sensitive(select, 4));
	assert_false(ol_apdu_is_sensitive(getdata, 4));
	assert_false(ol_apdu_is_sensitive(verify, 1));
	assert_false(ol_apdu_is_sensitive(verify, 0));
	assert_false(ol_apdu_is_sensitive(NULL, 4));
	/* responses: the same, and GET DATA only of public objects */
	assert_true(ol_apdu_response_is_sensitive(ga9a, 4));
	assert_true(ol_apdu_response_is_sensitive(NULL, 0));
	assert_false(ol_apdu_response_is_sensitive(select, 4));
}

/* GET DATA: certificates, CHUID, CCC, Discovery... are public; the
 * printed information, biometrics and the pairing code are not, nor any
 * object this code does not know. */
static void
test_get_data_objects(void **state)
{
	static const uint32_t pub[] = { 0x5fc101, 0x5fc102, 0x5fc105,
	    0x5fc106, 0x5fc107, 0x5fc10a, 0x5fc10b, 0x5fc10c, 0x5fc10d,
	    0x5fc120, 0x5fc122 };
	static const uint32_t priv[] = { 0x5fc103, 0x5fc108, 0x5fc109,
	    0x5fc121, 0x5fc123, 0x5fff01, 0x5fc100, 0x5fc124 };
	uint8_t c[16] = { 0x00, 0xcb, 0x3f, 0xff, 0x05, 0x5c, 0x03 };
	static const uint8_t disc[] = { 0x00, 0xcb, 0x3f, 0xff, 0x03, 0x5c,
	    0x01, 0x7e, 0x00 };
	static const uint8_t ext[] = { 0x00, 0xcb, 0x3f, 0xff, 0x00, 0x00,
	    0x05, 0x5c, 0x03, 0x5f, 0xc1, 0x05, 0x00, 0x00 };
	static const uint8_t cut[] = { 0x00, 0xcb, 0x3f, 0xff, 0x05, 0x5c,
	    0x03, 0x5f, 0xc1 };
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(pub) / sizeof(pub[0]); i++) {
		c[7] = (uint8_t)(pub[i] >> 16);
		c[8] = (uint8_t)(pub[i] >> 8);
		c[9] = (uint8_t)pub[i];
		assert_false(ol_apdu_response_is_sensitive(c, 11));
	}
	for (i = 0; i < sizeof(priv) / sizeof(priv[0]); i++) {
		c[7] = (uint8_t)(priv[i] >> 16);
		c[8] = (uint8_t)(priv[i] >> 8);
		c[9] = (uint8_t)priv[i];
		assert_true(ol_apdu_response_is_sensitive(c, 11));
	}
	assert_false(ol_apdu_response_is_sensitive(disc, sizeof(disc)));
	assert_false(ol_apdu_response_is_sensitive(ext, sizeof(ext)));
	/* a tag list cut short, or no tag list: hidden */
	assert_true(ol_apdu_response_is_sensitive(cut, sizeof(cut)));
	assert_true(ol_apdu_response_is_sensitive(c, 5));
}

/* GET RESPONSE shows data only when it continues, on the same channel
 * and right after, a response that was shown. */
static void
test_redactor_chains(void **state)
{
	static const uint8_t cert[] = { 0x00, 0xcb, 0x3f, 0xff, 0x05, 0x5c,
	    0x03, 0x5f, 0xc1, 0x05, 0x00 };
	static const uint8_t ecdh[] = { 0x00, 0x87, 0x11, 0x9d, 0x04, 0x7c,
	    0x02, 0x85, 0x00, 0x00 };
	static const uint8_t getresp[] = { 0x00, 0xc0, 0x00, 0x00, 0x00 };
	static const uint8_t more[] = { 0x30, 0x82, 0x61, 0x00 };
	static const uint8_t last[] = { 0x30, 0x82, 0x90, 0x00 };
	struct ol_apdu_redactor r;

	(void)state;
	ol_apdu_redactor_init(&r);
	/* a GET RESPONSE out of the blue: hidden */
	assert_true(ol_apdu_redactor_command(&r, 1, getresp, 5));
	ol_apdu_redactor_response(&r, last, 4);
	/* a public certificate in pieces: shown all along */
	assert_false(ol_apdu_redactor_command(&r, 1, cert, sizeof(cert)));
	ol_apdu_redactor_response(&r, more, 4);
	assert_false(ol_apdu_redactor_command(&r, 1, getresp, 5));
	ol_apdu_redactor_response(&r, more, 4);
	assert_false(ol_apdu_redactor_command(&r, 1, getresp, 5));
	ol_apdu_redactor_response(&r, last, 4);
	assert_true(ol_apdu_redactor_command(&r, 1, getresp, 5));
	/* a shared secret in pieces: hidden all along */
	assert_true(ol_apdu_redactor_command(&r, 1, ecdh, sizeof(ecdh)));
	ol_apdu_redactor_response(&r, more, 4);
	assert_true(ol_apdu_redactor_command(&r, 1, getresp, 5));
	ol_apdu_redactor_response(&r, more, 4);
	assert_true(ol_apdu_redactor_command(&r, 1, getresp, 5));
	/* a public chain, then another channel's GET RESPONSE: hidden */
	assert_false(ol_apdu_redactor_command(&r, 1, cert, sizeof(cert)));
	ol_apdu_redactor_response(&r, more, 4);
	assert_true(ol_apdu_redactor_command(&r, 2, getresp, 5));
}

static void
test_verify_hidden(void **state)
{
	static const uint8_t apdu[] = { 0x00, 0x20, 0x00, 0x80, 0x08, PIN };
	/* case 4: Le after the data is hidden too */
	static const uint8_t case4[] = { 0x00, 0x20, 0x00, 0x80, 0x08, PIN,
	    0x00 };
	/* Lc that lies (2): the PIN bytes after it must still be hidden */
	static const uint8_t liar[] = { 0x00, 0x20, 0x00, 0x80, 0x02, PIN };
	char out[128];

	(void)state;
	assert_string_equal(ol_apdu_format_command(apdu, sizeof(apdu), out,
	    sizeof(out)), "C: 00 20 00 80 08 <8 bytes hidden>");
	check_hidden_at_all_caps(apdu, sizeof(apdu), 5);
	assert_string_equal(ol_apdu_format_command(case4, sizeof(case4), out,
	    sizeof(out)), "C: 00 20 00 80 08 <9 bytes hidden>");
	check_hidden_at_all_caps(case4, sizeof(case4), 5);
	check_hidden_at_all_caps(liar, sizeof(liar), 5);
}

static void
test_chaining_and_other_ins_hidden(void **state)
{
	/* CLA 10: first part of a chained VERIFY */
	static const uint8_t chained[] = { 0x10, 0x20, 0x00, 0x80, 0x08, PIN };
	/* CHANGE REFERENCE DATA: old PIN || new PIN */
	static const uint8_t change[] = { 0x00, 0x24, 0x00, 0x80, 0x10, PIN,
	    PIN };
	/* RESET RETRY COUNTER: PUK || new PIN, chained */
	static const uint8_t reset[] = { 0x10, 0x2c, 0x00, 0x80, 0x10, PIN,
	    PIN };
	char out[128];

	(void)state;
	check_hidden_at_all_caps(chained, sizeof(chained), 5);
	check_hidden_at_all_caps(change, sizeof(change), 5);
	check_hidden_at_all_caps(reset, sizeof(reset), 5);
	assert_string_equal(ol_apdu_format_command(change, sizeof(change), out,
	    sizeof(out)), "C: 00 24 00 80 10 <16 bytes hidden>");
}

static void
test_extended_hidden(void **state)
{
	static const uint8_t ext[] = { 0x00, 0x20, 0x00, 0x80, 0x00, 0x00,
	    0x08, PIN };
	static const uint8_t ext_chg[] = { 0x00, 0x24, 0x00, 0x80, 0x00, 0x00,
	    0x10, PIN, PIN, 0x00, 0x00 };
	/* b4 = 00 and one more byte: malformed, the byte is hidden */
	static const uint8_t odd[] = { 0x00, 0x20, 0x00, 0x80, 0x00, 0xff };
	char out[128];

	(void)state;
	assert_string_equal(ol_apdu_format_command(ext, sizeof(ext), out,
	    sizeof(out)), "C: 00 20 00 80 00 00 08 <8 bytes hidden>");
	check_hidden_at_all_caps(ext, sizeof(ext), 7);
	check_hidden_at_all_caps(ext_chg, sizeof(ext_chg), 7);
	assert_string_equal(ol_apdu_format_command(odd, sizeof(odd), out,
	    sizeof(out)), "C: 00 20 00 80 00 <1 byte hidden>");
}

/* VERIFY without data asks for the PIN status: nothing secret in it. */
static void
test_verify_without_data_shown(void **state)
{
	static const uint8_t case1[] = { 0x00, 0x20, 0x00, 0x80 };
	static const uint8_t case2[] = { 0x00, 0x20, 0x00, 0x80, 0x00 };
	static const uint8_t logout[] = { 0x00, 0x20, 0xff, 0x80 };
	static const uint8_t sw[] = { 0x63, 0xc3 };
	char out[128];

	(void)state;
	assert_string_equal(ol_apdu_format_command(case1, sizeof(case1), out,
	    sizeof(out)), "C: 00 20 00 80");
	assert_string_equal(ol_apdu_format_command(case2, sizeof(case2), out,
	    sizeof(out)), "C: 00 20 00 80 00");
	assert_string_equal(ol_apdu_format_command(logout, sizeof(logout), out,
	    sizeof(out)), "C: 00 20 FF 80");
	/* the answer to a sensitive command still shows its status word */
	assert_string_equal(ol_apdu_format_response(sw, sizeof(sw), 1, out,
	    sizeof(out)), "R: 63 C3");
}

static void
test_general_authenticate(void **state)
{
	/* management key: witness request, then the encrypted witness */
	static const uint8_t ga9b[] = { 0x00, 0x87, 0x03, 0x9b, 0x04, 0x7c,
	    0x02, 0x80, 0x00 };
	static const uint8_t ga9b_pin[] = { 0x00, 0x87, 0x03, 0x9b, 0x0c,
	    0x7c, 0x0a, 0x80, 0x08, PIN };
	static const uint8_t rsp9b[] = { 0x7c, 0x0a, 0x80, 0x08, PIN, 0x90,
	    0x00 };
	/* signing with 9A: hidden as well (the same instruction decrypts
	 * and agrees keys, whose results are secret) */
	static const uint8_t ga9a[] = { 0x00, 0x87, 0x11, 0x9a, 0x06, 0x7c,
	    0x04, 0x82, 0x00, 0x81, 0x00 };
	static const uint8_t rsp9a[] = { 0x7c, 0x04, 0x82, 0x02, 0x30, 0x00,
	    0x90, 0x00 };
	char out[128];
	size_t cap;

	(void)state;
	assert_string_equal(ol_apdu_format_command(ga9b, sizeof(ga9b), out,
	    sizeof(out)), "C: 00 87 03 9B 04 <4 bytes hidden>");
	check_hidden_at_all_caps(ga9b_pin, sizeof(ga9b_pin), 5);

	/* the caller passes is_sensitive(command) for the response */
	assert_string_equal(ol_apdu_format_response(rsp9b, sizeof(rsp9b),
	    ol_apdu_is_sensitive(ga9b, sizeof(ga9b)), out, sizeof(out)),
	    "R: <12 bytes hidden> 90 00");
	for (cap = 1; cap <= 64; cap++) {
		const char *r = fmt_rsp(rsp9b, sizeof(rsp9b), 1, cap);

		assert_null(strcasestr(r, "31 32"));
		assert_null(strcasestr(r, "7C"));
	}

	assert_true(ol_apdu_is_sensitive(ga9a, sizeof(ga9a)));
	assert_string_equal(ol_apdu_format_command(ga9a, sizeof(ga9a), out,
	    sizeof(out)), "C: 00 87 11 9A 06 <6 bytes hidden>");
	assert_string_equal(ol_apdu_format_response(rsp9a, sizeof(rsp9a),
	    ol_apdu_response_is_sensitive(ga9a, sizeof(ga9a)), out,
	    sizeof(out)), "R: <6 bytes hidden> 90 00");
}

static void
test_tiny_caps(void **state)
{
	static const uint8_t select[] = { 0x00, 0xa4, 0x04, 0x00, 0x09, 0xa0,
	    0x00, 0x00, 0x03, 0x08, 0x00, 0x00, 0x10, 0x00, 0x00 };
	static const uint8_t rsp[] = { 0x61, 0x11, 0x4f, 0x06, 0x90, 0x00 };
	char buf[8];
	const char *out;

	(void)state;
	/* cap 0: nothing written at all */
	memset(buf, CANARY, sizeof(buf));
	assert_ptr_equal(ol_apdu_format_command(select, sizeof(select), buf,
	    0), buf);
	assert_int_equal((unsigned char)buf[0], CANARY);
	assert_ptr_equal(ol_apdu_format_response(rsp, sizeof(rsp), 0, buf,
	    0), buf);
	assert_int_equal((unsigned char)buf[0], CANARY);

	out = fmt_cmd(select, sizeof(select), 1);
	assert_string_equal(out, "");
	out = fmt_cmd(select, sizeof(select), 2);
	assert_string_equal(out, ".");
	out = fmt_cmd(select, sizeof(select), 5);
	assert_string_equal(out, "...");
	out = fmt_rsp(rsp, sizeof(rsp), 0, 5);
	assert_string_equal(out, "...");
	out = fmt_rsp(rsp, sizeof(rsp), 1, 1);
	assert_string_equal(out, "");

	/* NULL output buffer: no crash, NULL back */
	assert_null(ol_apdu_format_command(select, sizeof(select), NULL, 10));
	assert_null(ol_apdu_format_response(rsp, sizeof(rsp), 0, NULL, 10));
}

static void
test_long_truncated(void **state)
{
	uint8_t apdu[300], rsp[300];
	const char *out;
	size_t cap, i, n;

	(void)state;
	apdu[0] = 0x00;
	apdu[1] = 0xcb;         /* GET DATA: its data is shown */
	apdu[2] = 0x3f;
	apdu[3] = 0xff;
	apdu[4] = 0xff;
	for (i = 5; i < sizeof(apdu); i++)
		apdu[i] = (uint8_t)i;
	for (i = 0; i < sizeof(rsp); i++)
		rsp[i] = (uint8_t)(i * 7);
	rsp[sizeof(rsp) - 2] = 0x61;
	rsp[sizeof(rsp) - 1] = 0x2c;

	/* full: "C:" + 300 * " XX" */
	out = fmt_cmd(apdu, sizeof(apdu), BIG);
	assert_int_equal(strlen(out), 2 + 3 * sizeof(apdu));

	for (cap = 6; cap < 64; cap++) {
		out = fmt_cmd(apdu, sizeof(apdu), cap);
		n = strlen(out);
		assert_true(n < cap);
		assert_true(n + 4 >= cap);      /* the room is used */
		assert_string_equal(out + n - 3, "...");
		assert_memory_equal(out, "C:", 2);
		assert_shows_at_most(out, apdu, sizeof(apdu));

		/* the status word survives truncation */
		out = fmt_rsp(rsp, sizeof(rsp), 0, cap + 6);
		n = strlen(out);
		assert_true(n < cap + 6);
		assert_string_equal(out + n - 9, "... 61 2C");
		assert_memory_equal(out, "R:", 2);
	}
}

static void
test_empty_and_malformed(void **state)
{
	static const uint8_t one[] = { 0x90 };
	char out[64];

	(void)state;
	assert_string_equal(ol_apdu_format_command(NULL, 5, out, sizeof(out)),
	    "C: (empty)");
	assert_string_equal(ol_apdu_format_command(one, 0, out, sizeof(out)),
	    "C: (empty)");
	assert_string_equal(ol_apdu_format_response(NULL, 0, 0, out,
	    sizeof(out)), "R: (empty)");
	assert_string_equal(ol_apdu_format_response(one, 1, 0, out,
	    sizeof(out)), "R: 90");
	assert_string_equal(ol_apdu_format_response(one, 1, 1, out,
	    sizeof(out)), "R: <1 byte hidden>");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_is_sensitive),
		cmocka_unit_test(test_get_data_objects),
		cmocka_unit_test(test_redactor_chains),
		cmocka_unit_test(test_verify_hidden),
		cmocka_unit_test(test_chaining_and_other_ins_hidden),
		cmocka_unit_test(test_extended_hidden),
		cmocka_unit_test(test_verify_without_data_shown),
		cmocka_unit_test(test_general_authenticate),
		cmocka_unit_test(test_tiny_caps),
		cmocka_unit_test(test_long_truncated),
		cmocka_unit_test(test_empty_and_malformed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
