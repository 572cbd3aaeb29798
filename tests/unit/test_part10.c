/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ifd-openloop: tests of the PC/SC v2 part 10 answers
 * (src/driver/part10.c).  The output is parsed back the way a client
 * (pcsc-lite's PCSCv2Part10.c, OpenSC) reads it.
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
#include <PCSC/reader.h>

#include "part10.h"
#include "ol_err.h"

/* The code clients compute for the feature, independently of our macro. */
#define CCID_CLASS2_CODE(f) SCARD_CTL_CODE(0x330000 + (f))

static void
test_features_list(void **state)
{
	uint8_t buf[16];
	uint32_t code;
	int n;

	(void)state;
	memset(buf, 0xee, sizeof(buf));
	n = ol_features_list(buf, sizeof(buf), 0);
	assert_int_equal(n, 6);
	assert_int_equal(buf[0], FEATURE_GET_TLV_PROPERTIES);
	assert_int_equal(buf[1], 4);
	/* PCSC_TLV_STRUCTURE.value is big-endian */
	code = (uint32_t)buf[2] << 24 | (uint32_t)buf[3] << 16 |
	    (uint32_t)buf[4] << 8 | buf[5];
	assert_int_equal(code, CCID_CLASS2_CODE(FEATURE_GET_TLV_PROPERTIES));
	assert_int_equal(code, OL_IOCTL_GET_TLV_PROPERTIES);
	assert_int_equal(code, 0x42330012);
	assert_int_equal(buf[6], 0xee);

	/* the list is a whole number of PCSC_TLV_STRUCTURE */
	assert_int_equal(n % (int)sizeof(PCSC_TLV_STRUCTURE), 0);
}

static void
test_features_list_cap(void **state)
{
	uint8_t buf[6];
	size_t cap;

	(void)state;
	for (cap = 0; cap < 6; cap++) {
		memset(buf, 0xee, sizeof(buf));
		assert_int_equal(ol_features_list(buf, cap, 0), OL_ERR_TOO_LONG);
		assert_int_equal(buf[0], 0xee);
	}
	assert_int_equal(ol_features_list(NULL, 6, 0), OL_ERR_ARG);
	assert_int_equal(ol_features_list(buf, 6, 0), 6);
}

/* With the device as PIN pad: VERIFY_PIN_DIRECT and IFD_PIN_PROPERTIES
 * follow, each with the class 2 code clients compute. */
static void
test_features_list_pinpad(void **state)
{
	static const uint8_t tags[] = { FEATURE_GET_TLV_PROPERTIES,
	    FEATURE_VERIFY_PIN_DIRECT, FEATURE_IFD_PIN_PROPERTIES };
	uint8_t buf[18];
	uint32_t code;
	size_t i;

	(void)state;
	assert_int_equal(ol_features_list(buf, 17, 1), OL_ERR_TOO_LONG);
	assert_int_equal(ol_features_list(buf, sizeof(buf), 1), 18);
	for (i = 0; i < 3; i++) {
		assert_int_equal(buf[6 * i], tags[i]);
		assert_int_equal(buf[6 * i + 1], 4);
		code = (uint32_t)buf[6 * i + 2] << 24 |
		    (uint32_t)buf[6 * i + 3] << 16 |
		    (uint32_t)buf[6 * i + 4] << 8 | buf[6 * i + 5];
		assert_int_equal(code, CCID_CLASS2_CODE(tags[i]));
	}
	assert_int_equal(OL_IOCTL_VERIFY_PIN_DIRECT,
	    CCID_CLASS2_CODE(FEATURE_VERIFY_PIN_DIRECT));
}

struct parsed {
	int seen[256];
	uint8_t len[256];
	const uint8_t *val[256];
};

/* Walks tag/len/value; fails on a TLV that runs past the end or a tag
 * seen twice. */
static void
parse_tlv(const uint8_t *buf, size_t n, struct parsed *p)
{
	size_t pos = 0;

	memset(p, 0, sizeof(*p));
	while (pos < n) {
		assert_true(pos + 2 <= n);
		assert_true(pos + 2 + buf[pos + 1] <= n);
		assert_int_equal(p->seen[buf[pos]], 0);
		p->seen[buf[pos]] = 1;
		p->len[buf[pos]] = buf[pos + 1];
		p->val[buf[pos]] = buf + pos + 2;
		pos += 2 + buf[pos + 1];
	}
	assert_int_equal(pos, n);
}

static uint32_t
le(const uint8_t *v, size_t n)
{
	uint32_t x = 0;

	while (n-- > 0)
		x = x << 8 | v[n];
	return x;
}

static void
test_properties(void **state)
{
	const struct ol_reader_props props = { 0x1209, 0xa1b2, "0.91.0", 0 };
	uint8_t buf[300];
	struct parsed p;
	int n;

	(void)state;
	n = ol_features_tlv_properties(&props, buf, sizeof(buf));
	assert_true(n > 0);
	parse_tlv(buf, (size_t)n, &p);

	assert_true(p.seen[PCSCv2_PART10_PROPERTY_wIdVendor]);
	assert_int_equal(p.len[PCSCv2_PART10_PROPERTY_wIdVendor], 2);
	assert_int_equal(le(p.val[PCSCv2_PART10_PROPERTY_wIdVendor], 2),
	    0x1209);

	assert_true(p.seen[PCSCv2_PART10_PROPERTY_wIdProduct]);
	assert_int_equal(p.len[PCSCv2_PART10_PROPERTY_wIdProduct], 2);
	assert_int_equal(le(p.val[PCSCv2_PART10_PROPERTY_wIdProduct], 2),
	    0xa1b2);

	assert_true(p.seen[PCSCv2_PART10_PROPERTY_dwMaxAPDUDataSize]);
	assert_int_equal(p.len[PCSCv2_PART10_PROPERTY_dwMaxAPDUDataSize], 4);
	assert_int_equal(le(p.val[PCSCv2_PART10_PROPERTY_dwMaxAPDUDataSize],
	    4), OL_MAX_APDU_DATA);
	assert_int_equal(OL_MAX_APDU_DATA, 7600);
	/* over 255: clients take that as "extended APDUs pass" */
	assert_true(OL_MAX_APDU_DATA > 255);

	assert_true(p.seen[PCSCv2_PART10_PROPERTY_bPPDUSupport]);
	assert_int_equal(p.len[PCSCv2_PART10_PROPERTY_bPPDUSupport], 1);
	assert_int_equal(p.val[PCSCv2_PART10_PROPERTY_bPPDUSupport][0], 0);

	assert_true(p.seen[PCSCv2_PART10_PROPERTY_sFirmwareID]);
	assert_int_equal(p.len[PCSCv2_PART10_PROPERTY_sFirmwareID], 6);
	assert_memory_equal(p.val[PCSCv2_PART10_PROPERTY_sFirmwareID],
	    "0.91.0", 6);

	/* nothing else: no PIN pad, no display */
	assert_int_equal(n, 4 + 4 + 6 + 3 + 2 + 6);
	assert_false(p.seen[PCSCv2_PART10_PROPERTY_bMinPINSize]);
	assert_false(p.seen[PCSCv2_PART10_PROPERTY_wLcdLayout]);
}

static void
test_properties_no_firmware(void **state)
{
	struct ol_reader_props props = { 0x20a0, 0x42b2, NULL, 0 };
	uint8_t buf[64];
	struct parsed p;
	int n;

	(void)state;
	n = ol_features_tlv_properties(&props, buf, sizeof(buf));
	assert_int_equal(n, 4 + 4 + 6 + 3);
	parse_tlv(buf, (size_t)n, &p);
	assert_false(p.seen[PCSCv2_PART10_PROPERTY_sFirmwareID]);
	assert_int_equal(le(p.val[PCSCv2_PART10_PROPERTY_wIdVendor], 2),
	    0x20a0);

	/* empty string: left out as well */
	props.firmware = "";
	assert_int_equal(ol_features_tlv_properties(&props, buf, sizeof(buf)),
	    n);
}

static void
test_properties_cap(void **state)
{
	const struct ol_reader_props props = { 0x1209, 0x0001, "1.2.3", 0 };
	uint8_t buf[64], ref[64];
	int full;
	size_t cap;

	(void)state;
	full = ol_features_tlv_properties(&props, ref, sizeof(ref));
	assert_true(full > 0);
	for (cap = 0; cap < (size_t)full; cap++) {
		memset(buf, 0xee, sizeof(buf));
		assert_int_equal(ol_features_tlv_properties(&props, buf, cap),
		    OL_ERR_TOO_LONG);
		/* all or nothing: no partial TLV list */
		assert_int_equal(buf[0], 0xee);
	}
	memset(buf, 0xee, sizeof(buf));
	assert_int_equal(ol_features_tlv_properties(&props, buf,
	    (size_t)full), full);
	assert_memory_equal(buf, ref, (size_t)full);
	assert_int_equal(buf[full], 0xee);

	assert_int_equal(ol_features_tlv_properties(NULL, buf, sizeof(buf)),
	    OL_ERR_ARG);
	assert_int_equal(ol_features_tlv_properties(&props, NULL, 64),
	    OL_ERR_ARG);
}

static void
test_firmware_length_limit(void **state)
{
	char fw[300];
	struct ol_reader_props props = { 1, 2, fw, 0 };
	uint8_t buf[512];
	struct parsed p;
	int n;

	(void)state;
	/* 255 bytes: the most one length byte can say */
	memset(fw, 'v', sizeof(fw));
	fw[255] = '\0';
	n = ol_features_tlv_properties(&props, buf, sizeof(buf));
	assert_int_equal(n, 17 + 2 + 255);
	parse_tlv(buf, (size_t)n, &p);
	assert_int_equal(p.len[PCSCv2_PART10_PROPERTY_sFirmwareID], 255);

	fw[255] = 'v';
	fw[256] = '\0';
	assert_int_equal(ol_features_tlv_properties(&props, buf, sizeof(buf)),
	    OL_ERR_TOO_LONG);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_features_list),
		cmocka_unit_test(test_features_list_cap),
		cmocka_unit_test(test_features_list_pinpad),
		cmocka_unit_test(test_properties),
		cmocka_unit_test(test_properties_no_firmware),
		cmocka_unit_test(test_properties_cap),
		cmocka_unit_test(test_firmware_length_limit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
