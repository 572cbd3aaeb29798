/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The PIN pad structures of PC/SC part 10 (src/driver/pinpad.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "ol_err.h"
#include "pinpad.h"

/* What OpenSC's reader-pcsc builds for a PIV VERIFY through the pad:
 * ASCII PIN padded with FF to 8 bytes, 6..8 digits, template
 * 00 20 00 80 08 FF*8. */
static size_t
opensc_like(uint8_t *b, uint32_t data_len)
{
	static const uint8_t apdu[] = { 0x00, 0x20, 0x00, 0x80, 0x08,
	    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

	memset(b, 0, OL_PIN_VERIFY_HEADER);
	b[0] = 30;                  /* bTimerOut */
	b[2] = 0x82;                /* bmFormatString */
	b[3] = 0x08;                /* bmPINBlockString */
	b[5] = 8;                   /* wPINMaxExtraDigit: max 8 */
	b[6] = 6;                   /*                    min 6 */
	b[7] = 0x02;
	b[8] = 1;
	b[9] = 0x09;
	b[10] = 0x04;
	b[15] = (uint8_t)data_len;
	b[16] = (uint8_t)(data_len >> 8);
	b[17] = (uint8_t)(data_len >> 16);
	b[18] = (uint8_t)(data_len >> 24);
	memcpy(b + OL_PIN_VERIFY_HEADER, apdu, sizeof(apdu));
	return OL_PIN_VERIFY_HEADER + sizeof(apdu);
}

static void
test_parse_verify(void **state)
{
	uint8_t b[64];
	struct ol_pin_verify pv;
	size_t n = opensc_like(b, 13);

	(void)state;
	assert_int_equal(ol_pinpad_parse_verify(b, n, &pv), OL_OK);
	assert_int_equal(pv.timeout, 30);
	assert_int_equal(pv.min_len, 6);
	assert_int_equal(pv.max_len, 8);
	assert_int_equal(pv.apdu_len, 13);
	assert_ptr_equal(pv.apdu, b + OL_PIN_VERIFY_HEADER);
	assert_int_equal(pv.apdu[1], 0x20);
}

static void
test_parse_verify_rejects(void **state)
{
	uint8_t b[64];
	struct ol_pin_verify pv;
	size_t n, cut;

	(void)state;
	n = opensc_like(b, 13);
	/* every truncation: the length field no longer matches */
	for (cut = 0; cut < n; cut++)
		assert_int_equal(ol_pinpad_parse_verify(b, cut, &pv),
		    OL_ERR_PROTOCOL);
	/* ulDataLength larger or smaller than what follows */
	n = opensc_like(b, 14);
	assert_int_equal(ol_pinpad_parse_verify(b, n, &pv), OL_ERR_PROTOCOL);
	n = opensc_like(b, 12);
	assert_int_equal(ol_pinpad_parse_verify(b, n, &pv), OL_ERR_PROTOCOL);
	/* a huge ulDataLength must not wrap anything */
	n = opensc_like(b, 0xffffffffu);
	assert_int_equal(ol_pinpad_parse_verify(b, n, &pv), OL_ERR_PROTOCOL);
	/* not a VERIFY: CHANGE REFERENCE DATA through the verify pad */
	n = opensc_like(b, 13);
	b[OL_PIN_VERIFY_HEADER + 1] = 0x24;
	assert_int_equal(ol_pinpad_parse_verify(b, n, &pv), OL_ERR_PROTOCOL);
	/* a template shorter than CLA INS P1 P2 */
	n = opensc_like(b, 3);
	assert_int_equal(ol_pinpad_parse_verify(b, OL_PIN_VERIFY_HEADER + 3,
	    &pv), OL_ERR_PROTOCOL);
	assert_int_equal(ol_pinpad_parse_verify(NULL, 10, &pv),
	    OL_ERR_PROTOCOL);
	(void)n;
}

static void
test_properties(void **state)
{
	uint8_t b[8];

	(void)state;
	assert_int_equal(ol_pinpad_properties(b, 3), OL_ERR_TOO_LONG);
	memset(b, 0xee, sizeof(b));
	assert_int_equal(ol_pinpad_properties(b, sizeof(b)), 4);
	assert_int_equal(b[0] | b[1] << 8, 0);    /* no LCD */
	assert_int_equal(b[2], 0x02);             /* validated on device */
	assert_int_equal(b[4], 0xee);
}

/* --- the keypad VERIFY policy (ol_pad_*) --------------------------------- */

/* What the card answers to each step, in order, and what was sent. */
struct answer {
	int err;
	uint16_t sw;
};

struct run {
	struct ol_pad pad;
	int sent;                       /* steps sent */
	struct ol_pad_step steps[4];
};

static const uint8_t on_device[] = { 0x80, 0x20, 0x00, 0x80 };
static const uint8_t logout[] = { 0x00, 0x20, 0xff, 0x80 };

static void
run_pad(struct run *r, const uint8_t *b, size_t n, const struct answer *ans,
    int n_ans)
{
	struct ol_pin_verify pv;
	struct ol_pad_step step;
	int more;

	memset(r, 0, sizeof(*r));
	assert_int_equal(ol_pinpad_parse_verify(b, n, &pv), OL_OK);
	more = ol_pad_start(&r->pad, &pv, &step);
	while (more) {
		/* never more steps than the card was given answers for */
		assert_true(r->sent < n_ans);
		r->steps[r->sent] = step;
		more = ol_pad_answer(&r->pad, ans[r->sent].err,
		    ans[r->sent].sw, &step);
		r->sent++;
	}
	assert_int_equal(r->sent, n_ans);
}

static void
assert_step(const struct ol_pad_step *step, const uint8_t *apdu)
{
	assert_int_equal(step->apdu_len, 4);
	assert_memory_equal(step->apdu, apdu, 4);
}

/* The user verified on the device: the card's 90 00 is the pad's, and
 * the structure's time-out bounds the wait. */
static void
test_pad_verified(void **state)
{
	static const struct answer ans[] = { { OL_OK, 0x9000 } };
	uint8_t b[64];
	struct run r;

	(void)state;
	run_pad(&r, b, opensc_like(b, 13), ans, 1);
	assert_step(&r.steps[0], on_device);
	assert_int_equal(r.steps[0].user_timeout_s, 30);
	assert_int_equal(r.pad.err, OL_OK);
	assert_int_equal(r.pad.sw, 0x9000);
	assert_int_equal(r.pad.logout_refused, 0);
	/* bTimerOut 0: the reader's own limit */
	b[0] = 0;
	run_pad(&r, b, OL_PIN_VERIFY_HEADER + 13, ans, 1);
	assert_int_equal(r.steps[0].user_timeout_s, 0);
}

/* Every failure is followed by a logout, and the application gets the
 * failure, never 90 00. */
static void
check_failure(uint16_t card_sw, uint16_t app_sw)
{
	const struct answer ans[] = { { OL_OK, card_sw }, { OL_OK, 0x9000 } };
	uint8_t b[64];
	struct run r;

	run_pad(&r, b, opensc_like(b, 13), ans, 2);
	assert_step(&r.steps[0], on_device);
	assert_step(&r.steps[1], logout);
	assert_int_equal(r.pad.err, OL_OK);
	assert_int_equal(r.pad.sw, app_sw);
	assert_int_equal(r.pad.logout_refused, 0);
}

static void
test_pad_blocked(void **state)
{
	(void)state;
	check_failure(0x6983, 0x6983);
}

static void
test_pad_denied_wrong_pin_unsupported(void **state)
{
	(void)state;
	check_failure(0x6401, 0x6401);       /* cancelled on the device */
	check_failure(0x63c6, 0x63c6);       /* wrong PIN typed on it */
	check_failure(0x6d00, 0x6d00);       /* firmware without it */
	check_failure(0x6e00, 0x6e00);
}

/* A device without a PIN: the device decides.  It asks for a
 * confirmation and says 90 00; one that cannot (no PIN object, 6A88)
 * makes the login fail instead of being reported as done. */
static void
test_pad_no_pin_set(void **state)
{
	static const struct answer ok[] = { { OL_OK, 0x9000 } };
	uint8_t b[64];
	struct run r;

	(void)state;
	run_pad(&r, b, opensc_like(b, 13), ok, 1);
	assert_int_equal(r.pad.sw, 0x9000);
	check_failure(0x6a88, 0x6a88);
}

/* The logout after a failure is refused: the card may still hold a PIN
 * verified over USB, so the failure stands and is flagged. */
static void
test_pad_logout_refused(void **state)
{
	static const struct answer refused[] = {
		{ OL_OK, 0x6401 }, { OL_OK, 0x6a86 }
	};
	static const struct answer lost[] = {
		{ OL_OK, 0x6401 }, { OL_ERR_IO, 0 }
	};
	uint8_t b[64];
	struct run r;

	(void)state;
	run_pad(&r, b, opensc_like(b, 13), refused, 2);
	assert_step(&r.steps[1], logout);
	assert_int_equal(r.pad.err, OL_OK);
	assert_int_equal(r.pad.sw, 0x6401);
	assert_int_equal(r.pad.logout_refused, 1);
	run_pad(&r, b, opensc_like(b, 13), lost, 2);
	assert_int_equal(r.pad.sw, 0x6401);
	assert_int_equal(r.pad.logout_refused, 1);
}

/* Nobody answered on the device: the reader cancelled the wait; the pad
 * says "time-out" (64 00) and logs out.  A device that vanished is an
 * error of the reader, with nothing more sent. */
static void
test_pad_timeout_and_gone(void **state)
{
	static const struct answer timeout[] = {
		{ OL_ERR_USER_TIMEOUT, 0 }, { OL_OK, 0x9000 }
	};
	static const struct answer gone[] = { { OL_ERR_GONE, 0 } };
	static const struct answer io[] = {
		{ OL_ERR_IO, 0 }, { OL_OK, 0x9000 }
	};
	uint8_t b[64];
	struct run r;

	(void)state;
	run_pad(&r, b, opensc_like(b, 13), timeout, 2);
	assert_int_equal(r.pad.err, OL_OK);
	assert_int_equal(r.pad.sw, OL_PAD_SW_TIMEOUT);
	assert_step(&r.steps[1], logout);
	run_pad(&r, b, opensc_like(b, 13), gone, 1);
	assert_int_equal(r.pad.err, OL_ERR_GONE);
	run_pad(&r, b, opensc_like(b, 13), io, 2);
	assert_int_equal(r.pad.err, OL_ERR_IO);
}

/* Only the PIV PIN (reference 80, P1 00, CLA 00) is verified on the
 * device; anything else is refused before the card is touched. */
static void
test_pad_other_reference(void **state)
{
	static const uint8_t refs[] = { 0x00, 0x81, 0x96, 0x01 };
	uint8_t b[64];
	struct run r;
	size_t n, i;

	(void)state;
	for (i = 0; i < sizeof(refs); i++) {
		n = opensc_like(b, 13);
		b[OL_PIN_VERIFY_HEADER + 3] = refs[i];
		run_pad(&r, b, n, NULL, 0);
		assert_int_equal(r.pad.sw, OL_PAD_SW_WRONG_P1P2);
	}
	n = opensc_like(b, 13);
	b[OL_PIN_VERIFY_HEADER + 2] = 0xff;       /* a logout via the pad */
	run_pad(&r, b, n, NULL, 0);
	assert_int_equal(r.pad.sw, OL_PAD_SW_WRONG_P1P2);
	n = opensc_like(b, 13);
	b[OL_PIN_VERIFY_HEADER] = 0x10;           /* chained */
	run_pad(&r, b, n, NULL, 0);
	assert_int_equal(r.pad.sw, OL_PAD_SW_WRONG_P1P2);
}

/* 9C per use: OpenSC's context-specific login before each 9C signature
 * is one more keypad VERIFY.  The driver keeps no login state of its
 * own: each time it asks the device, which confirms with the user; if
 * the device says otherwise, the application hears it. */
static void
test_pad_9c_per_use(void **state)
{
	static const struct answer ok[] = { { OL_OK, 0x9000 } };
	static const struct answer lost[] = {
		{ OL_OK, 0x6401 }, { OL_OK, 0x9000 }
	};
	uint8_t b[64];
	struct run r;
	int i;

	(void)state;
	for (i = 0; i < 3; i++) {
		run_pad(&r, b, opensc_like(b, 13), ok, 1);
		assert_step(&r.steps[0], on_device);
		assert_int_equal(r.pad.sw, 0x9000);
	}
	/* the user cancelled the renewed verification */
	run_pad(&r, b, opensc_like(b, 13), lost, 2);
	assert_int_equal(r.pad.sw, 0x6401);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_verify),
		cmocka_unit_test(test_parse_verify_rejects),
		cmocka_unit_test(test_properties),
		cmocka_unit_test(test_pad_verified),
		cmocka_unit_test(test_pad_blocked),
		cmocka_unit_test(test_pad_denied_wrong_pin_unsupported),
		cmocka_unit_test(test_pad_no_pin_set),
		cmocka_unit_test(test_pad_logout_refused),
		cmocka_unit_test(test_pad_timeout_and_gone),
		cmocka_unit_test(test_pad_other_reference),
		cmocka_unit_test(test_pad_9c_per_use),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
