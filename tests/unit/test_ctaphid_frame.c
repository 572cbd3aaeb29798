/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ifd-openloop unit tests: CTAPHID packet layout (ctaphid.c), checked
 * against CTAP 2.1 section 11.2 rather than against itself: report bytes
 * are inspected directly, and messages are reassembled by hand.  Then
 * the message layer (ctaphid_msg.c), the assembler and fragmenter
 * everything else uses, against that packet layer.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ctaphid.h"
#include "ctaphid_msg.h"
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

/* --- the message layer: ctaphid_msg.c ----------------------------------- */

#define MAX_REPORTS (CTAPHID_MAX_SEQ + 2)

/* Reports a fragmenter emitted, and when to make it fail. */
struct sink {
	uint8_t rep[MAX_REPORTS + 1][CTAPHID_REPORT_LEN];
	size_t n;
	size_t fail_at;       /* emit number that fails; SIZE_MAX: none */
};

static int
sink_emit(void *arg, const uint8_t report[CTAPHID_REPORT_LEN])
{
	struct sink *sk = arg;

	if (sk->n == sk->fail_at)
		return OL_ERR_IO;
	assert_true(sk->n < MAX_REPORTS + 1);
	memcpy(sk->rep[sk->n++], report, CTAPHID_REPORT_LEN);
	return OL_OK;
}

static struct sink *
sink_new(void)
{
	struct sink *sk = calloc(1, sizeof(*sk));

	assert_non_null(sk);
	sk->fail_at = SIZE_MAX;
	return sk;
}

/* A PING of len bytes into msg (a pattern from seed), fragmented into a
 * new sink. */
static struct sink *
ping_reports(uint32_t cid, uint8_t *msg, size_t len, unsigned seed)
{
	struct sink *sk = sink_new();

	fill_pattern(msg, len, seed);
	assert_int_equal(ctaphid_fragment(cid, CTAPHID_PING, msg, len,
	    sink_emit, sk), OL_OK);
	return sk;
}

static int
feed_report(struct ctaphid_asm *a, const uint8_t report[CTAPHID_REPORT_LEN])
{
	struct ctaphid_packet pkt;

	assert_int_equal(ctaphid_packet_parse(report, CTAPHID_REPORT_LEN,
	    &pkt), OL_OK);
	return ctaphid_asm_feed(a, &pkt);
}

/* Fragments a message, checks each report against the packet layer, and
 * reassembles it: MORE for every report but the last, then DONE. */
static void
msg_round_trip(size_t len)
{
	static uint8_t msg[CTAPHID_MAX_MSG], buf[CTAPHID_MAX_MSG];
	uint8_t report[CTAPHID_REPORT_LEN];
	struct sink *sk = sink_new();
	struct ctaphid_asm a;
	size_t i;

	fill_pattern(msg, len, (unsigned)len + 1);
	memset(buf, 0xee, sizeof(buf));
	assert_int_equal(ctaphid_fragment(TEST_CID, CTAPHID_OPENLOOP_APDU, msg,
	    len, sink_emit, sk), OL_OK);
	assert_int_equal(sk->n, ctaphid_packet_count(len));
	ctaphid_asm_init(&a, buf, sizeof(buf));
	for (i = 0; i < sk->n; i++) {
		assert_int_equal(ctaphid_packet_build(TEST_CID,
		    CTAPHID_OPENLOOP_APDU, msg, len, i, report), OL_OK);
		assert_memory_equal(sk->rep[i], report, sizeof(report));
		assert_int_equal(feed_report(&a, sk->rep[i]),
		    i + 1 < sk->n ? CTAPHID_ASM_MORE : CTAPHID_ASM_DONE);
		assert_int_equal(a.pending, i + 1 < sk->n);
	}
	assert_int_equal(a.cid, TEST_CID);
	assert_int_equal(a.cmd, CTAPHID_OPENLOOP_APDU);
	assert_int_equal(a.total, len);
	assert_int_equal(a.got, len);
	if (len > 0)
		assert_memory_equal(buf, msg, len);
	/* nothing past the message is written */
	if (len < sizeof(buf))
		assert_int_equal(buf[len], 0xee);
	free(sk);
}

static void
test_msg_sizes(void **state)
{
	static const size_t sizes[] = { 0, 1, 57, 58, 116, CTAPHID_MAX_MSG };
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		msg_round_trip(sizes[i]);
}

/* An init packet announcing bcnt bytes, data bytes 0x5a. */
static void
init_report(uint32_t cid, uint8_t cmd, size_t bcnt,
    uint8_t report[CTAPHID_REPORT_LEN])
{
	memset(report, 0x5a, CTAPHID_REPORT_LEN);
	report[0] = (uint8_t)(cid >> 24);
	report[1] = (uint8_t)(cid >> 16);
	report[2] = (uint8_t)(cid >> 8);
	report[3] = (uint8_t)cid;
	report[4] = cmd | CTAPHID_TYPE_INIT;
	report[5] = (uint8_t)(bcnt >> 8);
	report[6] = (uint8_t)bcnt;
}

/* A message of len bytes, whole, into a fresh assembler over buf. */
static void
assert_msg_ok(struct ctaphid_asm *a, size_t len)
{
	static uint8_t msg[CTAPHID_MAX_MSG];
	struct sink *sk = ping_reports(TEST_CID, msg, len, 99);
	size_t i;
	int st = CTAPHID_ASM_ARG;

	for (i = 0; i < sk->n; i++)
		st = feed_report(a, sk->rep[i]);
	assert_int_equal(st, CTAPHID_ASM_DONE);
	assert_int_equal(a->total, len);
	assert_memory_equal(a->buf, msg, len);
	free(sk);
}

static void
test_msg_7610_refused(void **state)
{
	static uint8_t msg[CTAPHID_MAX_MSG + 1];
	uint8_t report[CTAPHID_REPORT_LEN], buf[CTAPHID_MAX_MSG];
	struct sink *sk = sink_new();
	struct ctaphid_asm a;

	(void)state;
	/* fragmenter: refused before anything is emitted */
	assert_int_equal(ctaphid_fragment(TEST_CID, CTAPHID_PING, msg,
	    sizeof(msg), sink_emit, sk), OL_ERR_TOO_LONG);
	assert_int_equal(sk->n, 0);
	/* assembler: BCNT 7610 and 0xffff, however large the buffer */
	ctaphid_asm_init(&a, buf, sizeof(buf));
	init_report(TEST_CID, CTAPHID_PING, CTAPHID_MAX_MSG + 1, report);
	assert_int_equal(feed_report(&a, report), CTAPHID_ASM_BAD_LEN);
	assert_false(a.pending);
	assert_int_equal(a.total, CTAPHID_MAX_MSG + 1);
	init_report(TEST_CID, CTAPHID_PING, 0xffff, report);
	assert_int_equal(feed_report(&a, report), CTAPHID_ASM_BAD_LEN);
	/* and the next message is fine */
	assert_msg_ok(&a, 100);
	free(sk);
}

static void
test_msg_bad_seq(void **state)
{
	uint8_t msg[200], buf[200] = { 0 }, zero[200] = { 0 };
	struct sink *sk;
	struct ctaphid_asm a;

	(void)state;
	/* init, SEQ 0, 1, 2 */
	sk = ping_reports(TEST_CID, msg, sizeof(msg), 3);
	assert_int_equal(sk->n, 4);

	/* SEQ 0 skipped */
	ctaphid_asm_init(&a, buf, sizeof(buf));
	assert_int_equal(feed_report(&a, sk->rep[0]), CTAPHID_ASM_MORE);
	assert_int_equal(feed_report(&a, sk->rep[2]), CTAPHID_ASM_BAD_SEQ);
	assert_false(a.pending);
	assert_int_equal(a.next_seq, 0); /* what was expected, for the log */
	/* what had arrived may be a PIN: wiped */
	assert_memory_equal(buf, zero, sizeof(buf));
	/* the rest of that message is no longer anybody's */
	assert_int_equal(feed_report(&a, sk->rep[3]), CTAPHID_ASM_NO_INIT);

	/* SEQ 0 twice */
	assert_int_equal(feed_report(&a, sk->rep[0]), CTAPHID_ASM_MORE);
	assert_int_equal(feed_report(&a, sk->rep[1]), CTAPHID_ASM_MORE);
	assert_int_equal(feed_report(&a, sk->rep[1]), CTAPHID_ASM_BAD_SEQ);
	assert_int_equal(a.next_seq, 1);
	assert_memory_equal(buf, zero, sizeof(buf));

	assert_msg_ok(&a, sizeof(msg));
	free(sk);
}

static void
test_msg_cont_without_init(void **state)
{
	uint8_t msg[100], buf[100], canary[100];
	struct sink *sk;
	struct ctaphid_asm a;

	(void)state;
	memset(buf, 0xee, sizeof(buf));
	memset(canary, 0xee, sizeof(canary));
	sk = ping_reports(TEST_CID, msg, sizeof(msg), 5);
	ctaphid_asm_init(&a, buf, sizeof(buf));
	assert_int_equal(feed_report(&a, sk->rep[1]), CTAPHID_ASM_NO_INIT);
	assert_false(a.pending);
	assert_memory_equal(buf, canary, sizeof(buf));
	/* nor after a message that ended */
	assert_msg_ok(&a, sizeof(msg));
	assert_int_equal(feed_report(&a, sk->rep[1]), CTAPHID_ASM_NO_INIT);
	free(sk);
}

static void
test_msg_init_during_message(void **state)
{
	uint8_t msg[300], buf[300] = { 0 }, report[CTAPHID_REPORT_LEN];
	struct sink *sk;
	struct ctaphid_asm a;
	size_t i;

	(void)state;
	sk = ping_reports(TEST_CID, msg, sizeof(msg), 7);
	ctaphid_asm_init(&a, buf, sizeof(buf));
	assert_int_equal(feed_report(&a, sk->rep[0]), CTAPHID_ASM_MORE);
	assert_int_equal(feed_report(&a, sk->rep[1]), CTAPHID_ASM_MORE);
	/* a new init packet, on the same channel or another */
	init_report(TEST_CID, CTAPHID_WINK, 0, report);
	assert_int_equal(feed_report(&a, report), CTAPHID_ASM_PENDING);
	assert_false(a.pending);
	for (i = 0; i < 116; i++)
		assert_int_equal(buf[i], 0);
	/* the old message's rest is refused, a new start is taken */
	assert_int_equal(feed_report(&a, sk->rep[2]), CTAPHID_ASM_NO_INIT);
	assert_int_equal(feed_report(&a, report), CTAPHID_ASM_DONE);
	assert_int_equal(a.cmd, CTAPHID_WINK);
	assert_int_equal(a.total, 0);
	free(sk);
}

static void
test_msg_over_capacity(void **state)
{
	uint8_t msg[200], buf[100], canary[100];
	struct sink *sk;
	struct ctaphid_asm a;
	size_t i;

	(void)state;
	memset(buf, 0xee, sizeof(buf));
	memset(canary, 0xee, sizeof(canary));
	sk = ping_reports(TEST_CID, msg, sizeof(msg), 11);
	ctaphid_asm_init(&a, buf, sizeof(buf));
	/* read to its end, so that its tail is not the next message */
	for (i = 0; i + 1 < sk->n; i++)
		assert_int_equal(feed_report(&a, sk->rep[i]),
		    CTAPHID_ASM_MORE);
	assert_int_equal(feed_report(&a, sk->rep[i]), CTAPHID_ASM_TOO_LONG);
	assert_int_equal(a.total, sizeof(msg));
	assert_int_equal(a.got, sizeof(msg));
	assert_false(a.pending);
	/* nothing of it was kept */
	assert_memory_equal(buf, canary, sizeof(buf));
	/* the next message is fine, up to exactly the capacity */
	assert_msg_ok(&a, sizeof(buf));
	/* one report over a tiny buffer; no buffer at all */
	ctaphid_asm_init(&a, buf, 10);
	assert_int_equal(feed_report(&a, sk->rep[0]), CTAPHID_ASM_MORE);
	ctaphid_asm_init(&a, NULL, 0);
	init_report(TEST_CID, CTAPHID_PING, 57, msg);
	assert_int_equal(feed_report(&a, msg), CTAPHID_ASM_TOO_LONG);
	init_report(TEST_CID, CTAPHID_PING, 0, msg);
	assert_int_equal(feed_report(&a, msg), CTAPHID_ASM_DONE);
	free(sk);
}

static void
test_msg_foreign(void **state)
{
	uint8_t msg[200], buf[200];
	struct sink *sk, *other;
	struct ctaphid_packet pkt;
	struct ctaphid_asm a;

	(void)state;
	sk = ping_reports(TEST_CID, msg, sizeof(msg), 13);
	other = ping_reports(TEST_CID ^ 1, msg, sizeof(msg), 13);
	ctaphid_asm_init(&a, buf, sizeof(buf));
	assert_int_equal(ctaphid_packet_parse(sk->rep[1], 64, &pkt), OL_OK);
	assert_false(ctaphid_asm_is_mine(&a, &pkt)); /* nothing pending */
	assert_int_equal(feed_report(&a, sk->rep[0]), CTAPHID_ASM_MORE);
	assert_true(ctaphid_asm_is_mine(&a, &pkt));
	assert_int_equal(ctaphid_packet_parse(other->rep[1], 64, &pkt), OL_OK);
	assert_false(ctaphid_asm_is_mine(&a, &pkt));
	/* another channel's continuation leaves ours as it was */
	assert_int_equal(feed_report(&a, other->rep[1]), CTAPHID_ASM_FOREIGN);
	assert_true(a.pending);
	assert_int_equal(feed_report(&a, sk->rep[1]), CTAPHID_ASM_MORE);
	assert_int_equal(feed_report(&a, other->rep[2]), CTAPHID_ASM_FOREIGN);
	assert_int_equal(feed_report(&a, sk->rep[2]), CTAPHID_ASM_MORE);
	assert_int_equal(feed_report(&a, sk->rep[3]), CTAPHID_ASM_DONE);
	assert_memory_equal(buf, msg, sizeof(msg));
	free(sk);
	free(other);
}

static void
test_msg_abort_and_args(void **state)
{
	uint8_t msg[100], buf[100] = { 0 }, zero[100] = { 0 };
	struct sink *sk;
	struct ctaphid_packet init, cont;
	struct ctaphid_asm a;

	(void)state;
	sk = ping_reports(TEST_CID, msg, sizeof(msg), 17);
	assert_int_equal(ctaphid_packet_parse(sk->rep[0], 64, &init), OL_OK);
	assert_int_equal(ctaphid_packet_parse(sk->rep[1], 64, &cont), OL_OK);
	ctaphid_asm_init(&a, buf, sizeof(buf));
	/* each call takes its own kind of packet */
	assert_int_equal(ctaphid_asm_start(&a, &cont), CTAPHID_ASM_ARG);
	assert_int_equal(ctaphid_asm_add(&a, &init), CTAPHID_ASM_ARG);
	assert_int_equal(ctaphid_asm_start(NULL, &init), CTAPHID_ASM_ARG);
	assert_int_equal(ctaphid_asm_start(&a, NULL), CTAPHID_ASM_ARG);
	assert_int_equal(ctaphid_asm_feed(&a, NULL), CTAPHID_ASM_ARG);
	assert_false(ctaphid_asm_is_mine(NULL, &init));
	/* abort wipes what arrived and forgets the message */
	assert_int_equal(ctaphid_asm_start(&a, &init), CTAPHID_ASM_MORE);
	ctaphid_asm_abort(&a);
	assert_false(a.pending);
	assert_memory_equal(buf, zero, sizeof(buf));
	assert_int_equal(ctaphid_asm_add(&a, &cont), CTAPHID_ASM_NO_INIT);
	/* abort of a finished message leaves it to its owner */
	assert_msg_ok(&a, sizeof(msg));
	memcpy(msg, buf, sizeof(msg));
	ctaphid_asm_abort(&a);
	assert_memory_equal(buf, msg, sizeof(msg));
	ctaphid_asm_abort(NULL);
	assert_string_equal(ctaphid_asm_status_name(CTAPHID_ASM_BAD_SEQ),
	    "continuation out of sequence");
	assert_non_null(ctaphid_asm_status_name(-1));
	free(sk);
}

static void
test_fragment_head_and_errors(void **state)
{
	uint8_t msg[300];
	struct sink *sk = sink_new();

	(void)state;
	fill_pattern(msg, sizeof(msg), 19);
	/* the first reports only (tests that cut a message short) */
	assert_int_equal(ctaphid_fragment_head(TEST_CID, CTAPHID_PING, msg,
	    sizeof(msg), 2, sink_emit, sk), OL_OK);
	assert_int_equal(sk->n, 2);
	sk->n = 0;
	assert_int_equal(ctaphid_fragment_head(TEST_CID, CTAPHID_PING, msg,
	    sizeof(msg), 0, sink_emit, sk), OL_OK);
	assert_int_equal(sk->n, 0);
	/* an empty message is one report */
	assert_int_equal(ctaphid_fragment(TEST_CID, CTAPHID_WINK, NULL, 0,
	    sink_emit, sk), OL_OK);
	assert_int_equal(sk->n, 1);
	/* the writer's failure stops it and is returned */
	sk->n = 0;
	sk->fail_at = 3;
	assert_int_equal(ctaphid_fragment(TEST_CID, CTAPHID_PING, msg,
	    sizeof(msg), sink_emit, sk), OL_ERR_IO);
	assert_int_equal(sk->n, 3);
	/* arguments */
	assert_int_equal(ctaphid_fragment(TEST_CID, CTAPHID_PING, NULL, 1,
	    sink_emit, sk), OL_ERR_ARG);
	assert_int_equal(ctaphid_fragment(TEST_CID, CTAPHID_PING, msg, 1,
	    NULL, sk), OL_ERR_ARG);
	free(sk);
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
		cmocka_unit_test(test_msg_sizes),
		cmocka_unit_test(test_msg_7610_refused),
		cmocka_unit_test(test_msg_bad_seq),
		cmocka_unit_test(test_msg_cont_without_init),
		cmocka_unit_test(test_msg_init_during_message),
		cmocka_unit_test(test_msg_over_capacity),
		cmocka_unit_test(test_msg_foreign),
		cmocka_unit_test(test_msg_abort_and_args),
		cmocka_unit_test(test_fragment_head_and_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
