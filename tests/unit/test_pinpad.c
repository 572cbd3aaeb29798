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

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_verify),
		cmocka_unit_test(test_parse_verify_rejects),
		cmocka_unit_test(test_properties),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
