/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ifd-openloop unit tests: CTAPHID packet layout (ctaphid.c), checked
 * against CTAP 2.1 section 11.2 rather than against itself: report bytes
 * are inspected directly, and messages are reassembled by hand.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ctaphid.h"
#include "ol_err.h"

#define TEST_CID 0x01a2b3c4u

static void
fill_pattern(uint8_t *buf, size_t len, unsigned seed)
{
	size_t i;

	/* not periodic in 57 or 59, so a packet in the wrong place shows */
	for (i = 0; i < len; i++)
		buf[i] = (uint8_t)((i * 131 + seed) ^ (i >> 8));
}

static void
test_constants(void **state)
{
	(void)state;
	assert_int_equal(CTAPHID_INIT_DATA, 57);
	assert_int_equal(CTAPHID_CONT_DATA, 59);
	assert_int_equal(CTAPHID_MAX_MSG, 7609);
}

static void
test_packet_count(void **state)
{
	(void)state;
	assert_int_equal(ctaphid_packet_count(0), 1);
	assert_int_equal(ctaphid_packet_count(1), 1);
	assert_int_equal(ctaphid_packet_count(57), 1);
	assert_int_equal(ctaphid_packet_count(58), 2);
	assert_int_equal(ctaphid_packet_count(116), 2);
	assert_int_equal(ctaphid_packet_count(117), 3);
	assert_int_equal(ctaphid_packet_count(7609), 129);
}

/*
 * Builds every report of a message, checks each one's bytes as the
 * specification lays them out, parses it back and reassembles the message.
 */
static void
round_trip(size_t len, uint8_t cmd)
{
	uint8_t *msg, *out, report[CTAPHID_REPORT_LEN];
	struct ctaphid_packet pkt;
	size_t npkt, i, off = 0, n, k;

	msg = malloc(len + 1);
	out = calloc(1, len + 1);
	assert_non_null(msg);
	assert_non_null(out);
	fill_pattern(msg, len, (unsigned)len);

	npkt = ctaphid_packet_count(len);
	for (i = 0; i < npkt; i++) {
		memset(report, 0xee, sizeof(report)); /* padding must be written */
		assert_int_equal(ctaphid_packet_build(TEST_CID, cmd, msg, len, i,
		    report), OL_OK);
		/* CID big-endian in bytes 0..3 */
		assert_int_equal(report[0], 0x01);
		assert_int_equal(report[1], 0xa2);
		assert_int_equal(report[2], 0xb3);
		assert_int_equal(report[3], 0xc4);
		if (i == 0) {
			assert_int_equal(report[4], cmd | 0x80);
			assert_int_equal(report[5], (len >> 8) & 0xff);
			assert_int_equal(report[6], len & 0xff);
		} else {
			assert_int_equal(report[4], i - 1); /* SEQ 0..127 */
		}

		assert_int_equal(ctaphid_packet_parse(report, sizeof(report),
		    &pkt), OL_OK);
		assert_int_equal(pkt.cid, TEST_CID);
		assert_int_equal(pkt.is_init, i == 0);
		if (i == 0) {
			assert_int_equal(pkt.cmd, cmd);
			assert_int_equal(pkt.bcnt, len);
			assert_int_equal(pkt.data_len, CTAPHID_INIT_DATA);
			assert_ptr_equal(pkt.data, report + 7);
		} else {
			assert_int_equal(pkt.seq, i - 1);
			assert_int_equal(pkt.data_len, CTAPHID_CONT_DATA);
			assert_ptr_equal(pkt.data, report + 5);
		}

		n = len - off < pkt.data_len ? len - off : pkt.data_len;
		memcpy(out + off, pkt.data, n);
		off += n;
		/* unused bytes of the last packet are zero */
		for (k = n; k < pkt.data_len; k++)
			assert_int_equal(pkt.data[k], 0);
	}
	assert_int_equal(off, len);
	assert_memory_equal(out, msg, len);
	/* one more packet is refused */
	assert_int_equal(ctaphid_packet_build(TEST_CID, cmd, msg, len, npkt,
	    report), OL_ERR_ARG);
	free(msg);
	free(out);
}

static void
test_round_trip_0(void **state)
{
	(void)state;
	round_trip(0, CTAPHID_PING);
}

static void
test_round_trip_1(void **state)
{
	(void)state;
	round_trip(1, CTAPHID_OPENLOOP_APDU);
}

static void
test_round_trip_57(void **state)
{
	(void)state;
	round_trip(57, CTAPHID_CBOR);
}

static void
test_round_trip_58(void **state)
{
	(void)state;
	round_trip(58, CTAPHID_MSG);
}

static void
test_round_trip_116_117(void **state)
{
	(void)state;
	round_trip(116, CTAPHID_PING);
	round_trip(117, CTAPHID_PING);
}

static void
test_round_trip_max(void **state)
{
	(void)state;
	round_trip(CTAPHID_MAX_MSG, CTAPHID_OPENLOOP_APDU);
}

static void
test_build_too_long(void **state)
{
	uint8_t report[CTAPHID_REPORT_LEN];
	uint8_t *msg = calloc(1, 65536);

	(void)state;
	assert_non_null(msg);
	assert_int_equal(ctaphid_packet_build(TEST_CID, CTAPHID_PING, msg,
	    CTAPHID_MAX_MSG + 1, 0, report), OL_ERR_TOO_LONG);
	/* would wrap BCNT to 0 if it were truncated to 16 bits */
	assert_int_equal(ctaphid_packet_build(TEST_CID, CTAPHID_PING, msg,
	    65536, 0, report), OL_ERR_TOO_LONG);
	free(msg);
}

static void
test_build_bad_args(void **state)
{
	uint8_t report[CTAPHID_REPORT_LEN], msg[200] = { 0 };

	(void)state;
	/* idx past the end, for one- and multi-packet messages */
	assert_int_equal(ctaphid_packet_build(TEST_CID, CTAPHID_PING, msg, 0,
	    1, report), OL_ERR_ARG);
	assert_int_equal(ctaphid_packet_build(TEST_CID, CTAPHID_PING, msg, 58,
	    2, report), OL_ERR_ARG);
	assert_int_equal(ctaphid_packet_build(TEST_CID, CTAPHID_PING, msg, 58,
	    SIZE_MAX, report), OL_ERR_ARG);
	/* NULL message with a length; NULL output */
	assert_int_equal(ctaphid_packet_build(TEST_CID, CTAPHID_PING, NULL, 1,
	    0, report), OL_ERR_ARG);
	assert_int_equal(ctaphid_packet_build(TEST_CID, CTAPHID_PING, msg, 1,
	    0, NULL), OL_ERR_ARG);
	/* an empty message needs no buffer */
	assert_int_equal(ctaphid_packet_build(TEST_CID, CTAPHID_PING, NULL, 0,
	    0, report), OL_OK);
}

static void
test_parse_bad_len(void **state)
{
	uint8_t report[CTAPHID_REPORT_LEN + 1] = { 0 };
	struct ctaphid_packet pkt;

	(void)state;
	assert_int_equal(ctaphid_packet_parse(report, 0, &pkt),
	    OL_ERR_PROTOCOL);
	assert_int_equal(ctaphid_packet_parse(report, 63, &pkt),
	    OL_ERR_PROTOCOL);
	assert_int_equal(ctaphid_packet_parse(report, 65, &pkt),
	    OL_ERR_PROTOCOL);
	assert_int_equal(ctaphid_packet_parse(NULL, 64, &pkt),
	    OL_ERR_PROTOCOL);
	assert_int_equal(ctaphid_packet_parse(report, 64, NULL),
	    OL_ERR_PROTOCOL);
}

static void
test_parse_fields(void **state)
{
	uint8_t report[CTAPHID_REPORT_LEN] = { 0 };
	struct ctaphid_packet pkt;

	(void)state;
	/* broadcast KEEPALIVE init packet, BCNT 0x0102 */
	memset(report, 0xff, 4);
	report[4] = 0x80 | CTAPHID_KEEPALIVE;
	report[5] = 0x01;
	report[6] = 0x02;
	assert_int_equal(ctaphid_packet_parse(report, 64, &pkt), OL_OK);
	assert_int_equal(pkt.cid, CTAPHID_CID_BROADCAST);
	assert_true(pkt.is_init);
	assert_int_equal(pkt.cmd, CTAPHID_KEEPALIVE);
	assert_int_equal(pkt.bcnt, 0x0102);

	/* highest continuation SEQ */
	report[4] = CTAPHID_MAX_SEQ;
	assert_int_equal(ctaphid_packet_parse(report, 64, &pkt), OL_OK);
	assert_false(pkt.is_init);
	assert_int_equal(pkt.seq, 0x7f);
	assert_int_equal(pkt.data_len, CTAPHID_CONT_DATA);
}

static void
test_names(void **state)
{
	(void)state;
	assert_string_equal(ctaphid_error_name(CTAPHID_ERR_CHANNEL_BUSY),
	    "CHANNEL_BUSY");
	assert_string_equal(ctaphid_error_name(CTAPHID_ERR_INVALID_CHANNEL),
	    "INVALID_CHANNEL");
	assert_non_null(ctaphid_error_name(0x55));
	assert_string_equal(ctaphid_cmd_name(CTAPHID_INIT), "INIT");
	assert_non_null(ctaphid_cmd_name(0x7e));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_constants),
		cmocka_unit_test(test_packet_count),
		cmocka_unit_test(test_round_trip_0),
		cmocka_unit_test(test_round_trip_1),
		cmocka_unit_test(test_round_trip_57),
		cmocka_unit_test(test_round_trip_58),
		cmocka_unit_test(test_round_trip_116_117),
		cmocka_unit_test(test_round_trip_max),
		cmocka_unit_test(test_build_too_long),
		cmocka_unit_test(test_build_bad_args),
		cmocka_unit_test(test_parse_bad_len),
		cmocka_unit_test(test_parse_fields),
		cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
