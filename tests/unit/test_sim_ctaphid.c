/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * openloop-sim's transport: the device-side CTAPHID state machine on a
 * fake clock (INIT, errors, busy, SEQ, timeouts, keepalive, CANCEL,
 * fragmentation, pacing), and the socket server over socketpairs and a
 * temporary directory (hidraw's per-client ring, datagram checks, the
 * files beside the socket).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "ctaphid.h"
#include "ctaphid_msg.h"
#include "ol_err.h"
#include "ol_log.h"
#include "sim_card.h"
#include "sim_ctaphid.h"
#include "ctap2.h"
#include "fido_auth.h"
#include "sim_fido.h"
#include "sim_server.h"
#include "timeutil.h"

#define FIRST_CID 0x00000100u
#define MAX_CAPTURE 2048
#define UNALLOCATED 0x12345678u

/* --- a fake card: fixed response, optionally waits for a "touch" --------- */

struct fake_card {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int wait_for_touch;
	int touched;
	int cancelled;
	int arms;
	int calls;
	int resets;
	enum sim_card_status status;
	uint8_t resp[CTAPHID_MAX_MSG];
	size_t resp_len;
};

static int
fake_apdu(void *arg, const uint8_t *capdu, size_t capdu_len, uint8_t *rapdu,
    size_t rapdu_cap, size_t *rapdu_len)
{
	struct fake_card *f = arg;

	(void)capdu;
	(void)capdu_len;
	pthread_mutex_lock(&f->mu);
	f->calls++;
	if (f->wait_for_touch) {
		f->status = SIM_CARD_UPNEEDED;
		while (!f->touched && !f->cancelled)
			pthread_cond_wait(&f->cv, &f->mu);
	}
	if (f->cancelled || f->resp_len > rapdu_cap) {
		rapdu[0] = 0x69;
		rapdu[1] = 0x82;
		*rapdu_len = 2;
	} else {
		memcpy(rapdu, f->resp, f->resp_len);
		*rapdu_len = f->resp_len;
	}
	f->status = SIM_CARD_IDLE;
	pthread_mutex_unlock(&f->mu);
	return OL_OK;
}

static enum sim_card_status
fake_status(void *arg)
{
	struct fake_card *f = arg;
	enum sim_card_status s;

	pthread_mutex_lock(&f->mu);
	s = f->status;
	pthread_mutex_unlock(&f->mu);
	return s;
}

static void
fake_cancel(void *arg)
{
	struct fake_card *f = arg;

	pthread_mutex_lock(&f->mu);
	f->cancelled = 1;
	pthread_cond_broadcast(&f->cv);
	pthread_mutex_unlock(&f->mu);
}

static void
fake_arm(void *arg)
{
	struct fake_card *f = arg;

	pthread_mutex_lock(&f->mu);
	f->cancelled = 0;
	f->arms++;
	pthread_mutex_unlock(&f->mu);
}

static void
fake_reset(void *arg)
{
	struct fake_card *f = arg;

	pthread_mutex_lock(&f->mu);
	f->resets++;
	pthread_mutex_unlock(&f->mu);
}

static const struct sim_card_ops fake_ops = {
	.apdu = fake_apdu,
	.status = fake_status,
	.cancel = fake_cancel,
	.arm = fake_arm,
	.reset = fake_reset,
};

/* Waits (really) until the worker sits in the fake card's touch wait. */
static void
fake_wait_upneeded(struct fake_card *f)
{
	int i;

	for (i = 0; i < 5000; i++) {
		if (fake_status(f) == SIM_CARD_UPNEEDED)
			return;
		ol_sleep_ms(1);
	}
	fail_msg("the worker never reached the touch wait");
}

/* --- fixture: a device whose input reports land in a capture ------------- */

struct fx {
	sim_ctaphid_t *dev;
	sim_card_t *card;
	sim_fido_t *fido;   /* with the real card: the authenticator too */
	struct fake_card fake;
	uint8_t rep[MAX_CAPTURE][CTAPHID_REPORT_LEN];
	size_t n;    /* captured */
	size_t rd;   /* consumed by the test */
};

static void
capture(void *arg, const uint8_t report[CTAPHID_REPORT_LEN])
{
	struct fx *fx = arg;

	assert_true(fx->n < MAX_CAPTURE);
	memcpy(fx->rep[fx->n++], report, CTAPHID_REPORT_LEN);
}

/* the fault control file of the next fixture (sim_fault.h), or NULL */
static const char *fx_fault_path;

static struct fx *
fx_new_touch(int use_fake, int delay_ms, int interval_ms, uint32_t first_cid,
    enum sim_touch_mode touch)
{
	struct sim_ctaphid_opts o;
	struct sim_card_config cc;
	struct sim_fido_config fc;
	struct fx *fx = calloc(1, sizeof(*fx));

	assert_non_null(fx);
	pthread_mutex_init(&fx->fake.mu, NULL);
	pthread_cond_init(&fx->fake.cv, NULL);
	memset(&o, 0, sizeof(o));
	if (use_fake) {
		o.card_ops = &fake_ops;
		o.card = &fx->fake;
	} else {
		sim_card_config_init(&cc);
		cc.touch = touch;
		assert_int_equal(sim_card_new_config(&cc, &fx->card), OL_OK);
		o.card_ops = &sim_card_ops;
		o.card = fx->card;
		memset(&fc, 0, sizeof(fc));
		sim_card_touch_port(fx->card, &fc.touch);
		assert_int_equal(sim_fido_new(&fc, &fx->fido), OL_OK);
		o.fido_ops = &sim_fido_ops;
		o.fido = fx->fido;
	}
	o.emit = capture;
	o.emit_arg = fx;
	o.processing_delay_ms = delay_ms;
	o.report_interval_ms = interval_ms;
	o.first_cid = first_cid;
	o.fault_path = fx_fault_path;
	assert_int_equal(sim_ctaphid_new(&o, &fx->dev), OL_OK);
	return fx;
}

static struct fx *
fx_new(int use_fake, int delay_ms, int interval_ms, uint32_t first_cid)
{
	return fx_new_touch(use_fake, delay_ms, interval_ms, first_cid,
	    SIM_TOUCH_APPROVE);
}

static int
setup_real(void **state)
{
	ol_log_set_mask(0);
	*state = fx_new(0, 0, 0, FIRST_CID);
	return 0;
}

static int
setup_fake(void **state)
{
	ol_log_set_mask(0);
	*state = fx_new(1, 0, 0, FIRST_CID);
	return 0;
}

/* a user who never touches: CTAP2 requests wait until cancelled */
static int
setup_never(void **state)
{
	ol_log_set_mask(0);
	*state = fx_new_touch(0, 0, 0, FIRST_CID, SIM_TOUCH_NEVER);
	return 0;
}

static int
setup_delay(void **state)
{
	ol_log_set_mask(0);
	*state = fx_new(0, 300, 0, FIRST_CID);
	return 0;
}

static int
teardown(void **state)
{
	struct fx *fx = *state;

	sim_ctaphid_free(&fx->dev);
	assert_null(fx->dev);
	sim_fido_free(&fx->fido);
	sim_card_free(&fx->card);
	pthread_cond_destroy(&fx->fake.cv);
	pthread_mutex_destroy(&fx->fake.mu);
	free(fx);
	return 0;
}

/* --- host-side helpers --------------------------------------------------- */

struct feeder {
	struct fx *fx;
	int64_t now;
};

static int
feed_report(void *arg, const uint8_t report[CTAPHID_REPORT_LEN])
{
	struct feeder *f = arg;

	sim_ctaphid_feed(f->fx->dev, report, CTAPHID_REPORT_LEN, f->now);
	return OL_OK;
}

/* The first nreports reports of a message (SIZE_MAX: all). */
static void
feed_head(struct fx *fx, uint32_t cid, uint8_t cmd, const uint8_t *msg,
    size_t len, size_t nreports, int64_t now)
{
	struct feeder f = { fx, now };

	assert_int_equal(ctaphid_fragment_head(cid, cmd, msg, len, nreports,
	    feed_report, &f), OL_OK);
}

static void
feed_msg(struct fx *fx, uint32_t cid, uint8_t cmd, const uint8_t *msg,
    size_t len, int64_t now)
{
	feed_head(fx, cid, cmd, msg, len, SIZE_MAX, now);
}

/* Only the init packet of a message. */
static void
feed_init_only(struct fx *fx, uint32_t cid, uint8_t cmd, const uint8_t *msg,
    size_t len, int64_t now)
{
	feed_head(fx, cid, cmd, msg, len, 1, now);
}

/* Packet idx of a message (0: the init packet). */
static void
feed_packet(struct fx *fx, uint32_t cid, uint8_t cmd, const uint8_t *msg,
    size_t len, size_t idx, int64_t now)
{
	uint8_t r[CTAPHID_REPORT_LEN];

	assert_int_equal(ctaphid_packet_build(cid, cmd, msg, len, idx, r),
	    OL_OK);
	sim_ctaphid_feed(fx->dev, r, sizeof(r), now);
}

/* A continuation packet full of 0xcc. */
static void
feed_cont(struct fx *fx, uint32_t cid, uint8_t seq, int64_t now)
{
	uint8_t r[CTAPHID_REPORT_LEN];

	memset(r, 0xcc, sizeof(r));
	r[0] = (uint8_t)(cid >> 24);
	r[1] = (uint8_t)(cid >> 16);
	r[2] = (uint8_t)(cid >> 8);
	r[3] = (uint8_t)cid;
	r[4] = seq;
	sim_ctaphid_feed(fx->dev, r, sizeof(r), now);
}

static size_t
pending(const struct fx *fx)
{
	return fx->n - fx->rd;
}

/* Reassembles the next captured message: its reports must follow each
 * other, init packet first, nothing of another channel between them. */
static size_t
next_msg(struct fx *fx, uint32_t *cid, uint8_t *cmd, uint8_t *buf,
    size_t cap)
{
	struct ctaphid_packet p;
	struct ctaphid_asm a;
	int st;

	ctaphid_asm_init(&a, buf, cap);
	do {
		assert_true(pending(fx) > 0);
		assert_int_equal(ctaphid_packet_parse(fx->rep[fx->rd++],
		    CTAPHID_REPORT_LEN, &p), OL_OK);
		/* first: an init packet; then: our continuations */
		assert_int_equal(p.is_init, !a.pending);
	} while ((st = ctaphid_asm_feed(&a, &p)) == CTAPHID_ASM_MORE);
	assert_int_equal(st, CTAPHID_ASM_DONE);
	*cid = a.cid;
	*cmd = a.cmd;
	return a.total;
}

static void
expect_error(struct fx *fx, uint32_t cid, uint8_t code)
{
	uint8_t buf[CTAPHID_MAX_MSG], cmd;
	uint32_t got_cid;
	size_t len;

	len = next_msg(fx, &got_cid, &cmd, buf, sizeof(buf));
	assert_int_equal(got_cid, cid);
	assert_int_equal(cmd, CTAPHID_ERROR);
	assert_int_equal(len, 1);
	assert_int_equal(buf[0], code);
}

static void
expect_keepalive(struct fx *fx, uint32_t cid, uint8_t status)
{
	uint8_t buf[8], cmd;
	uint32_t got_cid;

	assert_int_equal(next_msg(fx, &got_cid, &cmd, buf, sizeof(buf)), 1);
	assert_int_equal(got_cid, cid);
	assert_int_equal(cmd, CTAPHID_KEEPALIVE);
	assert_int_equal(buf[0], status);
}

static uint32_t
be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

static uint32_t
alloc_channel(struct fx *fx, int64_t now)
{
	static const uint8_t nonce[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	uint8_t buf[64], cmd;
	uint32_t cid;

	feed_msg(fx, CTAPHID_CID_BROADCAST, CTAPHID_INIT, nonce, 8, now);
	assert_int_equal(next_msg(fx, &cid, &cmd, buf, sizeof(buf)), 17);
	assert_int_equal(cid, CTAPHID_CID_BROADCAST);
	assert_int_equal(cmd, CTAPHID_INIT);
	assert_memory_equal(buf, nonce, 8);
	return be32(buf + 8);
}

static void
wait_worker(struct fx *fx)
{
	struct pollfd p;

	p.fd = sim_ctaphid_fd(fx->dev);
	p.events = POLLIN;
	assert_int_equal(poll(&p, 1, 5000), 1);
}

/* Sends an APDU and returns its response (after the worker finished). */
static size_t
apdu(struct fx *fx, uint32_t cid, const uint8_t *c, size_t clen,
    uint8_t *r, size_t rcap, int64_t now)
{
	uint8_t cmd;
	uint32_t got_cid;
	size_t len;

	feed_msg(fx, cid, CTAPHID_OPENLOOP_APDU, c, clen, now);
	wait_worker(fx);
	sim_ctaphid_tick(fx->dev, now);
	len = next_msg(fx, &got_cid, &cmd, r, rcap);
	assert_int_equal(got_cid, cid);
	assert_int_equal(cmd, CTAPHID_OPENLOOP_APDU);
	return len;
}

/* --- INIT and channels --------------------------------------------------- */

static void
init_echoes_nonce(void **state)
{
	static const uint8_t nonce[8] = { 0xde, 0xad, 0xbe, 0xef, 0, 1, 2, 3 };
	struct fx *fx = *state;
	uint8_t buf[64], cmd;
	uint32_t cid, first;

	feed_msg(fx, CTAPHID_CID_BROADCAST, CTAPHID_INIT, nonce, 8, 0);
	/* one report, exactly */
	assert_int_equal(pending(fx), 1);
	assert_int_equal(next_msg(fx, &cid, &cmd, buf, sizeof(buf)),
	    CTAPHID_INIT_RESP_LEN);
	assert_int_equal(cid, CTAPHID_CID_BROADCAST);
	assert_int_equal(cmd, CTAPHID_INIT);
	assert_memory_equal(buf, nonce, 8);
	first = be32(buf + 8);
	assert_int_equal(first, FIRST_CID);
	assert_int_equal(buf[12], CTAPHID_PROTOCOL_VERSION);
	assert_int_equal(buf[13], 0);
	assert_int_equal(buf[14], 91);
	assert_int_equal(buf[15], 0);
	/* CTAP2 and U2F: no NMSG */
	assert_int_equal(buf[16], CTAPHID_CAP_WINK | CTAPHID_CAP_CBOR);
	assert_int_equal(buf[16], 0x05);
	/* a second INIT: a fresh channel */
	assert_int_not_equal(alloc_channel(fx, 0), first);
}

static void
init_random_cids(void **state)
{
	struct fx *fx;
	uint32_t cid;

	(void)state;
	fx = fx_new(0, 0, 0, 0);
	cid = alloc_channel(fx, 0);
	assert_int_not_equal(cid, 0);
	assert_int_not_equal(cid, CTAPHID_CID_BROADCAST);
	assert_int_equal(alloc_channel(fx, 0), cid + 1);
	*state = fx; /* freed by teardown */
}

static void
init_on_allocated_cid_resyncs(void **state)
{
	static const uint8_t nonce[8] = { 9, 9, 9, 9, 8, 8, 8, 8 };
	struct fx *fx = *state;
	uint8_t big[200], buf[64], cmd;
	uint32_t cid, got;

	cid = alloc_channel(fx, 0);
	/* a partial request, then INIT on the same channel */
	memset(big, 0x42, sizeof(big));
	feed_init_only(fx, cid, CTAPHID_PING, big, sizeof(big), 0);
	feed_msg(fx, cid, CTAPHID_INIT, nonce, 8, 0);
	assert_int_equal(next_msg(fx, &got, &cmd, buf, sizeof(buf)), 17);
	assert_int_equal(got, cid);
	assert_int_equal(cmd, CTAPHID_INIT);
	assert_memory_equal(buf, nonce, 8);
	assert_int_equal(be32(buf + 8), cid);
	/* the partial request is gone: its continuation is ignored */
	feed_cont(fx, cid, 0, 0);
	assert_int_equal(pending(fx), 0);
	/* and no other channel was allocated */
	assert_int_equal(alloc_channel(fx, 0), cid + 1);
}

static void
init_wrong_length(void **state)
{
	static const uint8_t nonce[9] = { 0 };
	struct fx *fx = *state;
	uint32_t cid;

	feed_msg(fx, CTAPHID_CID_BROADCAST, CTAPHID_INIT, nonce, 7, 0);
	expect_error(fx, CTAPHID_CID_BROADCAST, CTAPHID_ERR_INVALID_LEN);
	feed_msg(fx, CTAPHID_CID_BROADCAST, CTAPHID_INIT, nonce, 9, 0);
	expect_error(fx, CTAPHID_CID_BROADCAST, CTAPHID_ERR_INVALID_LEN);
	cid = alloc_channel(fx, 0);
	feed_msg(fx, cid, CTAPHID_INIT, nonce, 0, 0);
	expect_error(fx, cid, CTAPHID_ERR_INVALID_LEN);
	/* no channel was spent on the failures */
	assert_int_equal(cid, FIRST_CID);
}

static void
invalid_channel(void **state)
{
	static const uint8_t nonce[8] = { 0 };
	struct fx *fx = *state;
	uint32_t cid;

	feed_msg(fx, UNALLOCATED, CTAPHID_PING, (const uint8_t *)"x", 1, 0);
	expect_error(fx, UNALLOCATED, CTAPHID_ERR_INVALID_CHANNEL);
	feed_msg(fx, CTAPHID_CID_BROADCAST, CTAPHID_PING,
	    (const uint8_t *)"x", 1, 0);
	expect_error(fx, CTAPHID_CID_BROADCAST, CTAPHID_ERR_INVALID_CHANNEL);
	feed_msg(fx, 0, CTAPHID_PING, (const uint8_t *)"x", 1, 0);
	expect_error(fx, 0, CTAPHID_ERR_INVALID_CHANNEL);
	/* INIT on a CID that was never handed out */
	feed_msg(fx, UNALLOCATED, CTAPHID_INIT, nonce, 8, 0);
	expect_error(fx, UNALLOCATED, CTAPHID_ERR_INVALID_CHANNEL);
	/* the next CID is not allocated before INIT hands it out */
	cid = alloc_channel(fx, 0);
	feed_msg(fx, cid + 1, CTAPHID_WINK, NULL, 0, 0);
	expect_error(fx, cid + 1, CTAPHID_ERR_INVALID_CHANNEL);
	assert_int_equal(pending(fx), 0);
}

/* --- PING, WINK, bad commands -------------------------------------------- */

static void
ping_echoes(void **state)
{
	struct fx *fx = *state;
	static uint8_t msg[CTAPHID_MAX_MSG], buf[CTAPHID_MAX_MSG];
	static const size_t sizes[] = { 0, 1, 57, 58, 116, 117, 1000,
	    CTAPHID_MAX_MSG };
	uint8_t cmd;
	uint32_t cid, got;
	size_t i, j, before, count, used;

	for (i = 0; i < sizeof(msg); i++)
		msg[i] = (uint8_t)(i * 7 + i / 251);
	cid = alloc_channel(fx, 0);
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		before = fx->n;
		feed_msg(fx, cid, CTAPHID_PING, msg, sizes[i], 0);
		/* as many 64-byte reports as the framing needs */
		count = ctaphid_packet_count(sizes[i]);
		assert_int_equal(fx->n - before, count);
		/* the last one is padded with zeros */
		used = count == 1 ? 7 + sizes[i] :
		    5 + sizes[i] - 57 - (count - 2) * 59;
		for (j = used; j < CTAPHID_REPORT_LEN; j++)
			assert_int_equal(fx->rep[fx->n - 1][j], 0);
		assert_int_equal(next_msg(fx, &got, &cmd, buf, sizeof(buf)),
		    sizes[i]);
		assert_int_equal(got, cid);
		assert_int_equal(cmd, CTAPHID_PING);
		if (sizes[i] > 0)
			assert_memory_equal(buf, msg, sizes[i]);
	}
	/* 7609 bytes: an init packet and SEQ 0 to 127 */
	assert_int_equal(ctaphid_packet_count(CTAPHID_MAX_MSG), 129);
}

static void
ping_too_long(void **state)
{
	struct fx *fx = *state;
	uint8_t r[CTAPHID_REPORT_LEN];
	uint32_t cid;

	cid = alloc_channel(fx, 0);
	memset(r, 0, sizeof(r));
	r[0] = (uint8_t)(cid >> 24);
	r[1] = (uint8_t)(cid >> 16);
	r[2] = (uint8_t)(cid >> 8);
	r[3] = (uint8_t)cid;
	r[4] = CTAPHID_TYPE_INIT | CTAPHID_PING;
	r[5] = (CTAPHID_MAX_MSG + 1) >> 8;
	r[6] = (CTAPHID_MAX_MSG + 1) & 0xff;
	sim_ctaphid_feed(fx->dev, r, sizeof(r), 0);
	expect_error(fx, cid, CTAPHID_ERR_INVALID_LEN);
	/* nothing is being received: continuations are ignored */
	feed_cont(fx, cid, 0, 0);
	assert_int_equal(pending(fx), 0);
}

static void
wink_and_bad_commands(void **state)
{
	static const uint8_t bad[] = { CTAPHID_LOCK,
	    CTAPHID_KEEPALIVE, CTAPHID_ERROR, 0x41, 0x7f, 0x00, 0x02 };
	struct fx *fx = *state;
	uint8_t buf[64], cmd, one = 1;
	uint32_t cid, got;
	size_t i;

	cid = alloc_channel(fx, 0);
	feed_msg(fx, cid, CTAPHID_WINK, NULL, 0, 0);
	assert_int_equal(next_msg(fx, &got, &cmd, buf, sizeof(buf)), 0);
	assert_int_equal(got, cid);
	assert_int_equal(cmd, CTAPHID_WINK);
	feed_msg(fx, cid, CTAPHID_WINK, &one, 1, 0);
	expect_error(fx, cid, CTAPHID_ERR_INVALID_LEN);
	for (i = 0; i < sizeof(bad); i++) {
		feed_msg(fx, cid, bad[i], &one, 1, 0);
		expect_error(fx, cid, CTAPHID_ERR_INVALID_CMD);
	}
	/* a bad command long enough for continuations: answered after the
	 * whole message, once */
	{
		static uint8_t big[300];

		feed_msg(fx, cid, CTAPHID_LOCK, big, sizeof(big), 0);
		expect_error(fx, cid, CTAPHID_ERR_INVALID_CMD);
		assert_int_equal(pending(fx), 0);
	}
}

/* --- CTAPHID_CBOR and MSG: the FIDO authenticator --------------------- */

/* A CTAP2 request or U2F message, answered after the worker ran */
static size_t
fido_req(struct fx *fx, uint32_t cid, uint8_t hid_cmd, const uint8_t *req,
    size_t len, uint8_t *buf, size_t cap, int64_t now)
{
	uint32_t got;
	uint8_t cmd;
	size_t n;

	feed_msg(fx, cid, hid_cmd, req, len, now);
	wait_worker(fx);
	sim_ctaphid_tick(fx->dev, now);
	n = next_msg(fx, &got, &cmd, buf, cap);
	assert_int_equal(got, cid);
	assert_int_equal(cmd, hid_cmd);
	return n;
}

static void
cbor_get_info(void **state)
{
	static const uint8_t get_info = CTAP2_CMD_GET_INFO;
	struct fx *fx = *state;
	uint8_t buf[512], info[512];
	uint32_t cid;
	size_t n, info_len;

	cid = alloc_channel(fx, 0);
	n = fido_req(fx, cid, CTAPHID_CBOR, &get_info, 1, buf, sizeof(buf),
	    0);
	/* the same bytes the authenticator gives directly */
	assert_int_equal(sim_fido_cbor(fx->fido, &get_info, 1, info,
	    sizeof(info), &info_len), OL_OK);
	assert_int_equal(n, info_len);
	assert_true(n > CTAPHID_INIT_DATA);  /* over two reports */
	assert_int_equal(buf[0], CTAP2_OK);
	assert_memory_equal(buf, info, info_len);
	assert_int_equal(pending(fx), 0);
}

static void
cbor_other_commands(void **state)
{
	static const uint8_t cmds[] = { 0x03, 0x0b, 0x40, 0xff };
	static const uint8_t info_param[] = { CTAP2_CMD_GET_INFO, 0xa0 };
	static const uint8_t version[] = { 0x00, 0x03, 0x00, 0x00 };
	struct fx *fx = *state;
	uint8_t buf[64], big[300];
	uint32_t cid;
	size_t i;

	cid = alloc_channel(fx, 0);
	for (i = 0; i < sizeof(cmds); i++) {
		assert_int_equal(fido_req(fx, cid, CTAPHID_CBOR, &cmds[i], 1,
		    buf, sizeof(buf), 0), 1);
		assert_int_equal(buf[0], CTAP1_ERR_INVALID_COMMAND);
	}
	/* GetInfo takes no parameters */
	assert_int_equal(fido_req(fx, cid, CTAPHID_CBOR, info_param,
	    sizeof(info_param), buf, sizeof(buf), 0), 1);
	assert_int_equal(buf[0], CTAP1_ERR_INVALID_LENGTH);
	/* no command byte at all: a CTAPHID error */
	feed_msg(fx, cid, CTAPHID_CBOR, NULL, 0, 0);
	expect_error(fx, cid, CTAPHID_ERR_INVALID_LEN);
	/* a request over continuation packets, answered once at its end:
	 * a makeCredential that is not CBOR */
	memset(big, 0xff, sizeof(big));
	big[0] = CTAP2_CMD_MAKE_CREDENTIAL;
	assert_int_equal(fido_req(fx, cid, CTAPHID_CBOR, big, sizeof(big),
	    buf, sizeof(buf), 0), 1);
	assert_int_equal(buf[0], CTAP2_ERR_INVALID_CBOR);
	/* U2F over MSG: VERSION; a message under 4 bytes is INVALID_LEN */
	assert_int_equal(fido_req(fx, cid, CTAPHID_MSG, version,
	    sizeof(version), buf, sizeof(buf), 0), 8);
	assert_memory_equal(buf, "U2F_V2\x90\x00", 8);
	feed_msg(fx, cid, CTAPHID_MSG, version, 3, 0);
	expect_error(fx, cid, CTAPHID_ERR_INVALID_LEN);
	assert_int_equal(pending(fx), 0);
}

static void
cbor_cancel_and_busy(void **state)
{
	static const uint8_t get_info = CTAP2_CMD_GET_INFO;
	static const uint8_t gc[] = { 0x00, 0x84, 0x00, 0x00, 0x08 };
	struct fx *fx = *state;  /* processing delay 300 ms */
	uint8_t big[300], buf[512], cmd;
	uint32_t a, b, got;

	a = alloc_channel(fx, 0);
	b = alloc_channel(fx, 0);
	/* CANCEL during reassembly drops the CBOR request, unanswered */
	memset(big, 0, sizeof(big));
	big[0] = CTAP2_CMD_MAKE_CREDENTIAL;
	feed_init_only(fx, b, CTAPHID_CBOR, big, sizeof(big), 0);
	feed_msg(fx, b, CTAPHID_CANCEL, NULL, 0, 1);
	feed_packet(fx, b, CTAPHID_CBOR, big, sizeof(big), 1, 2);
	sim_ctaphid_tick(fx->dev, 600);
	assert_int_equal(pending(fx), 0);
	/* while A's APDU runs, B's GetInfo is refused: one transaction */
	feed_msg(fx, a, CTAPHID_OPENLOOP_APDU, gc, sizeof(gc), 1000);
	feed_msg(fx, b, CTAPHID_CBOR, &get_info, 1, 1001);
	expect_error(fx, b, CTAPHID_ERR_CHANNEL_BUSY);
	wait_worker(fx);
	sim_ctaphid_tick(fx->dev, 1300);
	assert_int_equal(next_msg(fx, &got, &cmd, buf, sizeof(buf)), 10);
	assert_int_equal(got, a);
	/* and answered once the device is free (no processing delay for
	 * CTAP2); a CANCEL after it is ignored */
	assert_true(fido_req(fx, b, CTAPHID_CBOR, &get_info, 1, buf,
	    sizeof(buf), 1301) > 1);
	assert_int_equal(buf[0], CTAP2_OK);
	feed_msg(fx, b, CTAPHID_CANCEL, NULL, 0, 1302);
	sim_ctaphid_tick(fx->dev, 1400);
	assert_int_equal(pending(fx), 0);
}

/* The refusals the simulator logs; the worker thread logs too, and only
 * the main thread's refusals are kept */
static int busy_lines;
static char busy_line[256];

static void
busy_capture(unsigned category, const struct ol_log_origin *origin,
    const char *msg)
{
	(void)category;
	(void)origin;
	if (strstr(msg, "CHANNEL_BUSY") == NULL)
		return;
	busy_lines++;
	snprintf(busy_line, sizeof(busy_line), "%s", msg);
}

/* A makeCredential waiting for a touch: KEEPALIVE UPNEEDED every 100 ms
 * on its channel, CHANNEL_BUSY for APDUs and CTAP2 of other channels,
 * logged once per channel, and CANCEL ends it with
 * CTAP2_ERR_KEEPALIVE_CANCEL (touch never) */
static void
cbor_touch_wait_cancel(void **state)
{
	/* {1: h'00'*32, 2: {"id": "a"}, 3: {"id": h'01'},
	 *  4: [{"alg": -7, "type": "public-key"}]} */
	static const uint8_t mc_head[] = { CTAP2_CMD_MAKE_CREDENTIAL, 0xa4,
	    0x01, 0x58, 0x20 };
	static const uint8_t mc_tail[] = { 0x02, 0xa1, 0x62, 'i', 'd', 0x61,
	    'a', 0x03, 0xa1, 0x62, 'i', 'd', 0x41, 0x01, 0x04, 0x81, 0xa2,
	    0x63, 'a', 'l', 'g', 0x26, 0x64, 't', 'y', 'p', 'e', 0x6a, 'p',
	    'u', 'b', 'l', 'i', 'c', '-', 'k', 'e', 'y' };
	static const uint8_t get_info = CTAP2_CMD_GET_INFO;
	static const uint8_t gc[] = { 0x00, 0x84, 0x00, 0x00, 0x08 };
	struct fx *fx = *state;
	uint8_t req[sizeof(mc_head) + 32 + sizeof(mc_tail)], buf[512], cmd;
	uint32_t a, b, got;
	int64_t now;
	int i;

	memcpy(req, mc_head, sizeof(mc_head));
	memset(req + sizeof(mc_head), 0, 32);
	memcpy(req + sizeof(mc_head) + 32, mc_tail, sizeof(mc_tail));
	a = alloc_channel(fx, 0);
	b = alloc_channel(fx, 0);
	feed_msg(fx, a, CTAPHID_CBOR, req, sizeof(req), 0);
	/* the worker now waits for the user */
	for (i = 0; i < 200 && sim_card_status(fx->card) != SIM_CARD_UPNEEDED;
	    i++)
		ol_sleep_ms(5);
	assert_int_equal(sim_card_status(fx->card), SIM_CARD_UPNEEDED);
	for (now = 100; now <= 300; now += 100) {
		sim_ctaphid_tick(fx->dev, now);
		assert_int_equal(next_msg(fx, &got, &cmd, buf, sizeof(buf)),
		    1);
		assert_int_equal(got, a);
		assert_int_equal(cmd, CTAPHID_KEEPALIVE);
		assert_int_equal(buf[0], CTAPHID_STATUS_UPNEEDED);
	}
	busy_lines = 0;
	ol_log_set_sink(busy_capture);
	ol_log_set_mask(OL_LOG_INFO);
	feed_msg(fx, b, CTAPHID_OPENLOOP_APDU, gc, sizeof(gc), 310);
	expect_error(fx, b, CTAPHID_ERR_CHANNEL_BUSY);
	feed_msg(fx, b, CTAPHID_CBOR, &get_info, 1, 320);
	expect_error(fx, b, CTAPHID_ERR_CHANNEL_BUSY);
	ol_log_set_mask(0);
	ol_log_set_sink(NULL);
	/* a client that gives up after one refusal leaves this trace */
	assert_int_equal(busy_lines, 1);
	snprintf((char *)buf, sizeof(buf), "%08x: ", (unsigned)b);
	assert_non_null(strstr(busy_line, (char *)buf));
	snprintf((char *)buf, sizeof(buf), "%08x's CBOR is running",
	    (unsigned)a);
	assert_non_null(strstr(busy_line, (char *)buf));
	feed_msg(fx, a, CTAPHID_CANCEL, NULL, 0, 330);
	wait_worker(fx);
	sim_ctaphid_tick(fx->dev, 340);
	assert_int_equal(next_msg(fx, &got, &cmd, buf, sizeof(buf)), 1);
	assert_int_equal(got, a);
	assert_int_equal(cmd, CTAPHID_CBOR);
	assert_int_equal(buf[0], CTAP2_ERR_KEEPALIVE_CANCEL);
	/* the device is free again */
	assert_true(fido_req(fx, b, CTAPHID_CBOR, &get_info, 1, buf,
	    sizeof(buf), 400) > 1);
	assert_int_equal(pending(fx), 0);
}

/* An APDU's injected fault stays with that APDU: the CTAP2 request after
 * it is answered whole */
static void
fault_not_inherited_by_cbor(void **state)
{
	static const uint8_t gc[] = { 0x00, 0x84, 0x00, 0x00, 0x08 };
	static const uint8_t get_info = CTAP2_CMD_GET_INFO;
	char path[] = "/tmp/ol-fault.XXXXXX";
	struct fx *fx;
	uint8_t buf[512];
	uint32_t cid;
	FILE *f;
	int fd;

	(void)state;
	ol_log_set_mask(0);
	assert_true((fd = mkstemp(path)) >= 0);
	close(fd);
	fx_fault_path = path;
	fx = fx_new(0, 0, 0, FIRST_CID);
	fx_fault_path = NULL;
	assert_non_null(f = fopen(path, "w"));
	fputs("mute:50\n", f);
	fclose(f);
	cid = alloc_channel(fx, 0);
	/* the muted APDU: never answered */
	feed_msg(fx, cid, CTAPHID_OPENLOOP_APDU, gc, sizeof(gc), 0);
	wait_worker(fx);
	sim_ctaphid_tick(fx->dev, 100);
	while (pending(fx) > 0)
		fx->rd++;  /* keepalives, if any */
	assert_true(fido_req(fx, cid, CTAPHID_CBOR, &get_info, 1, buf,
	    sizeof(buf), 200) > 1);
	assert_int_equal(buf[0], CTAP2_OK);
	assert_int_equal(pending(fx), 0);
	(void)unlink(path);
	*state = fx;
}

/* Without an authenticator (the fake card alone): no CBOR, no MSG */
static void
no_authenticator(void **state)
{
	static const uint8_t get_info = CTAP2_CMD_GET_INFO;
	static const uint8_t nonce[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	struct fx *fx = *state;
	uint8_t buf[64], cmd;
	uint32_t cid, got;

	feed_msg(fx, CTAPHID_CID_BROADCAST, CTAPHID_INIT, nonce, 8, 0);
	assert_int_equal(next_msg(fx, &got, &cmd, buf, sizeof(buf)), 17);
	assert_int_equal(buf[16], CTAPHID_CAP_WINK | CTAPHID_CAP_NMSG);
	cid = be32(buf + 8);
	feed_msg(fx, cid, CTAPHID_CBOR, &get_info, 1, 0);
	expect_error(fx, cid, CTAPHID_ERR_INVALID_CMD);
	feed_msg(fx, cid, CTAPHID_MSG, nonce, 8, 0);
	expect_error(fx, cid, CTAPHID_ERR_INVALID_CMD);
}

static void
bad_length_reports_ignored(void **state)
{
	struct fx *fx = *state;
	uint8_t r[65];
	uint32_t cid;

	cid = alloc_channel(fx, 0);
	memset(r, 0, sizeof(r));
	r[0] = (uint8_t)(cid >> 24);
	r[1] = (uint8_t)(cid >> 16);
	r[2] = (uint8_t)(cid >> 8);
	r[3] = (uint8_t)cid;
	r[4] = CTAPHID_TYPE_INIT | CTAPHID_WINK;
	sim_ctaphid_feed(fx->dev, r, 63, 0);
	sim_ctaphid_feed(fx->dev, r, 65, 0);
	sim_ctaphid_feed(fx->dev, NULL, 64, 0);
	assert_int_equal(pending(fx), 0);
	sim_ctaphid_feed(fx->dev, r, 64, 0);
	assert_int_equal(pending(fx), 1);
}

/* --- reassembly: SEQ, timeouts, busy ------------------------------------ */

static void
bad_seq(void **state)
{
	struct fx *fx = *state;
	uint8_t msg[150], buf[200], cmd;
	uint32_t cid, got;

	memset(msg, 0x33, sizeof(msg));
	cid = alloc_channel(fx, 0);
	feed_init_only(fx, cid, CTAPHID_PING, msg, sizeof(msg), 0);
	assert_int_equal(pending(fx), 0);
	feed_cont(fx, cid, 1, 0); /* 0 expected */
	expect_error(fx, cid, CTAPHID_ERR_INVALID_SEQ);
	/* the transaction is gone */
	feed_cont(fx, cid, 0, 0);
	feed_cont(fx, cid, 1, 0);
	assert_int_equal(pending(fx), 0);
	/* and the device is free again */
	feed_msg(fx, cid, CTAPHID_PING, msg, sizeof(msg), 0);
	assert_int_equal(next_msg(fx, &got, &cmd, buf, sizeof(buf)),
	    sizeof(msg));
	assert_memory_equal(buf, msg, sizeof(msg));
}

static void
repeated_seq_is_bad(void **state)
{
	struct fx *fx = *state;
	uint8_t msg[200];
	uint32_t cid;

	memset(msg, 0x11, sizeof(msg));
	cid = alloc_channel(fx, 0);
	feed_init_only(fx, cid, CTAPHID_PING, msg, sizeof(msg), 0);
	feed_cont(fx, cid, 0, 0);
	feed_cont(fx, cid, 0, 0);
	expect_error(fx, cid, CTAPHID_ERR_INVALID_SEQ);
	assert_int_equal(pending(fx), 0);
}

static void
continuation_without_transaction(void **state)
{
	struct fx *fx = *state;
	uint32_t cid;

	cid = alloc_channel(fx, 0);
	feed_cont(fx, cid, 0, 0);
	feed_cont(fx, cid, 5, 0);
	feed_cont(fx, UNALLOCATED, 0, 0);
	assert_int_equal(pending(fx), 0);
	assert_int_equal(sim_ctaphid_next_timeout(fx->dev, 0), -1);
}

static void
msg_timeout(void **state)
{
	struct fx *fx = *state;
	uint8_t msg[200], buf[256], cmd;
	uint32_t cid, got;

	memset(msg, 0x5a, sizeof(msg));
	cid = alloc_channel(fx, 1000);
	feed_init_only(fx, cid, CTAPHID_PING, msg, sizeof(msg), 1000);
	assert_int_equal(sim_ctaphid_next_timeout(fx->dev, 1000),
	    SIM_MSG_TIMEOUT_MS);
	sim_ctaphid_tick(fx->dev, 1499);
	assert_int_equal(pending(fx), 0);
	/* each continuation restarts the 500 ms */
	feed_cont(fx, cid, 0, 1400);
	sim_ctaphid_tick(fx->dev, 1899);
	assert_int_equal(pending(fx), 0);
	sim_ctaphid_tick(fx->dev, 1900);
	expect_error(fx, cid, CTAPHID_ERR_MSG_TIMEOUT);
	/* dropped: the late continuation is ignored, the device is free */
	feed_cont(fx, cid, 1, 1901);
	assert_int_equal(pending(fx), 0);
	feed_msg(fx, cid, CTAPHID_PING, msg, sizeof(msg), 1902);
	assert_int_equal(next_msg(fx, &got, &cmd, buf, sizeof(buf)),
	    sizeof(msg));
}

static void
msg_timeout_seen_by_late_packet(void **state)
{
	struct fx *fx = *state;
	uint8_t msg[200];
	uint32_t cid;

	memset(msg, 0x5a, sizeof(msg));
	cid = alloc_channel(fx, 0);
	feed_init_only(fx, cid, CTAPHID_PING, msg, sizeof(msg), 0);
	/* no tick in between: the continuation itself is too late */
	feed_cont(fx, cid, 0, 600);
	expect_error(fx, cid, CTAPHID_ERR_MSG_TIMEOUT);
	assert_int_equal(pending(fx), 0);
}

static void
busy_while_receiving(void **state)
{
	struct fx *fx = *state;
	uint8_t a_msg[150], b_msg[10], buf[256], cmd;
	uint32_t a, b, got;

	memset(a_msg, 0xaa, sizeof(a_msg));
	memset(b_msg, 0xbb, sizeof(b_msg));
	a = alloc_channel(fx, 0);
	b = alloc_channel(fx, 0);
	feed_init_only(fx, a, CTAPHID_PING, a_msg, sizeof(a_msg), 0);
	feed_msg(fx, b, CTAPHID_PING, b_msg, sizeof(b_msg), 1);
	expect_error(fx, b, CTAPHID_ERR_CHANNEL_BUSY);
	/* B's continuation does not disturb A's request */
	feed_cont(fx, b, 0, 2);
	assert_int_equal(pending(fx), 0);
	/* INIT is answered even now, and does not disturb A either */
	assert_int_equal(alloc_channel(fx, 3), b + 1);
	feed_packet(fx, a, CTAPHID_PING, a_msg, sizeof(a_msg), 1, 4);
	feed_packet(fx, a, CTAPHID_PING, a_msg, sizeof(a_msg), 2, 5);
	assert_int_equal(next_msg(fx, &got, &cmd, buf, sizeof(buf)),
	    sizeof(a_msg));
	assert_int_equal(got, a);
	assert_memory_equal(buf, a_msg, sizeof(a_msg));
	/* B can go now */
	feed_msg(fx, b, CTAPHID_PING, b_msg, sizeof(b_msg), 6);
	assert_int_equal(next_msg(fx, &got, &cmd, buf, sizeof(buf)),
	    sizeof(b_msg));
	assert_int_equal(got, b);
}

static void
new_request_on_receiving_channel(void **state)
{
	struct fx *fx = *state;
	uint8_t msg[150];
	uint32_t cid;

	memset(msg, 1, sizeof(msg));
	cid = alloc_channel(fx, 0);
	feed_init_only(fx, cid, CTAPHID_PING, msg, sizeof(msg), 0);
	feed_init_only(fx, cid, CTAPHID_PING, msg, 10, 0);
	expect_error(fx, cid, CTAPHID_ERR_INVALID_SEQ);
	assert_int_equal(pending(fx), 0);
}

/* --- APDUs ----------------------------------------------------------------- */

static void
apdu_select_unknown_aid(void **state)
{
	/* OpenPGP: an applet this device lacks */
	static const uint8_t sel[] = { 0x00, 0xa4, 0x04, 0x00, 0x06, 0xd2, 0x76,
	    0x00, 0x01, 0x24, 0x01, 0x00 };
	struct fx *fx = *state;
	uint8_t r[CTAPHID_MAX_MSG];
	uint32_t cid;

	cid = alloc_channel(fx, 0);
	assert_int_equal(apdu(fx, cid, sel, sizeof(sel), r, sizeof(r), 0), 2);
	assert_int_equal(r[0], 0x6a);
	assert_int_equal(r[1], 0x82);
	assert_int_equal(pending(fx), 0);
}

static void
apdu_get_challenge_long_response(void **state)
{
	static const uint8_t gc_max[] = { 0x00, 0x84, 0x00, 0x00, 0x00, 0x00,
	    0x00 };
	static const uint8_t gc_256[] = { 0x00, 0x84, 0x00, 0x00, 0x00 };
	struct fx *fx = *state;
	static uint8_t r[CTAPHID_MAX_MSG];
	uint32_t cid;
	size_t before;

	cid = alloc_channel(fx, 0);
	before = fx->n;
	assert_int_equal(apdu(fx, cid, gc_max, sizeof(gc_max), r, sizeof(r),
	    0), CTAPHID_MAX_MSG);
	assert_int_equal(fx->n - before, 129);
	assert_int_equal(r[CTAPHID_MAX_MSG - 2], 0x90);
	assert_int_equal(r[CTAPHID_MAX_MSG - 1], 0x00);
	assert_int_equal(apdu(fx, cid, gc_256, sizeof(gc_256), r, sizeof(r),
	    0), 258);
	assert_int_equal(r[256], 0x90);
}

/* The fake card's fixed response: every byte of it must come back. */
static void
apdu_fragmentation_exact_bytes(void **state)
{
	static const uint8_t c[] = { 0x00, 0xcb, 0x3f, 0xff };
	struct fx *fx = *state;
	static uint8_t r[CTAPHID_MAX_MSG];
	static const size_t sizes[] = { 2, 57, 58, 300, CTAPHID_MAX_MSG };
	uint32_t cid;
	size_t i, k;

	cid = alloc_channel(fx, 0);
	for (k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		fx->fake.resp_len = sizes[k];
		for (i = 0; i < sizes[k]; i++)
			fx->fake.resp[i] = (uint8_t)(i ^ (i >> 8) ^ k);
		memset(r, 0, sizeof(r));
		assert_int_equal(apdu(fx, cid, c, sizeof(c), r, sizeof(r), 0),
		    sizes[k]);
		assert_memory_equal(r, fx->fake.resp, sizes[k]);
	}
	/* the device armed the card (forgot old cancels) for every APDU */
	assert_int_equal(fx->fake.arms, (int)k);
}

static void
apdu_too_short(void **state)
{
	static const uint8_t c[] = { 0x00, 0x84, 0x00 };
	struct fx *fx = *state;
	uint32_t cid;

	cid = alloc_channel(fx, 0);
	feed_msg(fx, cid, CTAPHID_OPENLOOP_APDU, c, 0, 0);
	expect_error(fx, cid, CTAPHID_ERR_INVALID_LEN);
	feed_msg(fx, cid, CTAPHID_OPENLOOP_APDU, c, sizeof(c), 0);
	expect_error(fx, cid, CTAPHID_ERR_INVALID_LEN);
	/* no worker was started */
	assert_int_equal(sim_ctaphid_next_timeout(fx->dev, 0), -1);
}

static void
apdu_keepalive_and_busy(void **state)
{
	static const uint8_t gc[] = { 0x00, 0x84, 0x00, 0x00, 0x08 };
	struct fx *fx = *state;  /* processing delay 300 ms */
	uint8_t r[64], cmd;
	uint32_t a, b, got;

	a = alloc_channel(fx, 0);
	b = alloc_channel(fx, 0);
	feed_msg(fx, a, CTAPHID_OPENLOOP_APDU, gc, sizeof(gc), 1000);
	wait_worker(fx); /* the card is done; the delay is not */
	sim_ctaphid_tick(fx->dev, 1050);
	assert_int_equal(pending(fx), 0);
	assert_int_equal(sim_ctaphid_next_timeout(fx->dev, 1050), 50);
	sim_ctaphid_tick(fx->dev, 1100);
	expect_keepalive(fx, a, CTAPHID_STATUS_PROCESSING);
	/* another channel is told to wait, and so is A itself */
	feed_msg(fx, b, CTAPHID_PING, r, 4, 1150);
	expect_error(fx, b, CTAPHID_ERR_CHANNEL_BUSY);
	feed_msg(fx, b, CTAPHID_OPENLOOP_APDU, gc, sizeof(gc), 1150);
	expect_error(fx, b, CTAPHID_ERR_CHANNEL_BUSY);
	feed_msg(fx, a, CTAPHID_PING, r, 4, 1150);
	expect_error(fx, a, CTAPHID_ERR_CHANNEL_BUSY);
	sim_ctaphid_tick(fx->dev, 1200);
	expect_keepalive(fx, a, CTAPHID_STATUS_PROCESSING);
	sim_ctaphid_tick(fx->dev, 1299);
	assert_int_equal(pending(fx), 0);
	sim_ctaphid_tick(fx->dev, 1300);
	assert_int_equal(next_msg(fx, &got, &cmd, r, sizeof(r)), 10);
	assert_int_equal(got, a);
	assert_int_equal(cmd, CTAPHID_OPENLOOP_APDU);
	assert_int_equal(r[8], 0x90);
	assert_int_equal(r[9], 0x00);
	/* idle again: no more keepalives, B is served */
	sim_ctaphid_tick(fx->dev, 1500);
	assert_int_equal(pending(fx), 0);
	feed_msg(fx, b, CTAPHID_PING, r, 4, 1500);
	assert_int_equal(next_msg(fx, &got, &cmd, r, sizeof(r)), 4);
	assert_int_equal(got, b);
}

static void
keepalive_after_a_long_sleep_does_not_burst(void **state)
{
	static const uint8_t gc[] = { 0x00, 0x84, 0x00, 0x00, 0x08 };
	struct fx *fx;
	uint32_t a;

	(void)state;
	fx = fx_new(0, 5000, 0, FIRST_CID);
	*state = fx;
	a = alloc_channel(fx, 0);
	feed_msg(fx, a, CTAPHID_OPENLOOP_APDU, gc, sizeof(gc), 0);
	wait_worker(fx);
	sim_ctaphid_tick(fx->dev, 1000);
	expect_keepalive(fx, a, CTAPHID_STATUS_PROCESSING);
	assert_int_equal(pending(fx), 0);
	assert_int_equal(sim_ctaphid_next_timeout(fx->dev, 1000), 100);
}

static void
cancel_during_processing(void **state)
{
	static const uint8_t gc[] = { 0x00, 0x84, 0x00, 0x00, 0x08 };
	struct fx *fx = *state;  /* processing delay 300 ms */
	uint8_t r[64], cmd;
	uint32_t a, b, got;

	a = alloc_channel(fx, 0);
	b = alloc_channel(fx, 0);
	feed_msg(fx, a, CTAPHID_OPENLOOP_APDU, gc, sizeof(gc), 0);
	wait_worker(fx);
	sim_ctaphid_tick(fx->dev, 100);
	expect_keepalive(fx, a, CTAPHID_STATUS_PROCESSING);
	/* CANCEL from another channel changes nothing and gets no answer */
	feed_msg(fx, b, CTAPHID_CANCEL, NULL, 0, 110);
	assert_int_equal(pending(fx), 0);
	sim_ctaphid_tick(fx->dev, 120);
	assert_int_equal(pending(fx), 0);
	/* CANCEL on A: no reply to it; the APDU is answered 6982 at once */
	feed_msg(fx, a, CTAPHID_CANCEL, NULL, 0, 150);
	sim_ctaphid_tick(fx->dev, 150);
	assert_int_equal(next_msg(fx, &got, &cmd, r, sizeof(r)), 2);
	assert_int_equal(got, a);
	assert_int_equal(cmd, CTAPHID_OPENLOOP_APDU);
	assert_int_equal(r[0], 0x69);
	assert_int_equal(r[1], 0x82);
	sim_ctaphid_tick(fx->dev, 400);
	assert_int_equal(pending(fx), 0);
	/* a CANCEL when idle is ignored too */
	feed_msg(fx, a, CTAPHID_CANCEL, NULL, 0, 500);
	assert_int_equal(pending(fx), 0);
}

static void
cancel_while_waiting_for_touch(void **state)
{
	static const uint8_t c[] = { 0x00, 0x87, 0x11, 0x9a, 0x00 };
	struct fx *fx = *state;
	uint8_t r[64], cmd;
	uint32_t a, got;

	fx->fake.wait_for_touch = 1;
	fx->fake.resp[0] = 0x90;
	fx->fake.resp[1] = 0x00;
	fx->fake.resp_len = 2;
	a = alloc_channel(fx, 0);
	feed_msg(fx, a, CTAPHID_OPENLOOP_APDU, c, sizeof(c), 0);
	fake_wait_upneeded(&fx->fake);
	sim_ctaphid_tick(fx->dev, 100);
	expect_keepalive(fx, a, CTAPHID_STATUS_UPNEEDED);
	sim_ctaphid_tick(fx->dev, 200);
	expect_keepalive(fx, a, CTAPHID_STATUS_UPNEEDED);
	feed_msg(fx, a, CTAPHID_CANCEL, NULL, 0, 250);
	assert_int_equal(pending(fx), 0);
	wait_worker(fx);
	sim_ctaphid_tick(fx->dev, 251);
	assert_int_equal(next_msg(fx, &got, &cmd, r, sizeof(r)), 2);
	assert_int_equal(got, a);
	assert_int_equal(cmd, CTAPHID_OPENLOOP_APDU);
	assert_int_equal(r[0], 0x69);
	assert_int_equal(r[1], 0x82);
	assert_int_equal(fx->fake.calls, 1);
}

/* A card session is a channel: the first APDU of a channel, and the
 * first after an INIT resync of it, reset the card first. */
static void
sessions_follow_channels(void **state)
{
	static const uint8_t c[] = { 0x00, 0xca, 0x00, 0x00, 0x00 };
	static const uint8_t nonce[8] = { 9, 9, 9, 9, 9, 9, 9, 9 };
	struct fx *fx = *state;
	uint8_t r[64], cmd;
	uint32_t a, b, got;

	fx->fake.resp[0] = 0x90;
	fx->fake.resp[1] = 0x00;
	fx->fake.resp_len = 2;
	a = alloc_channel(fx, 0);
	b = alloc_channel(fx, 0);
	assert_int_equal(fx->fake.resets, 0); /* INIT alone resets nothing */
	apdu(fx, a, c, sizeof(c), r, sizeof(r), 0);
	assert_int_equal(fx->fake.resets, 1);
	apdu(fx, a, c, sizeof(c), r, sizeof(r), 0);
	assert_int_equal(fx->fake.resets, 1);
	apdu(fx, b, c, sizeof(c), r, sizeof(r), 0);
	assert_int_equal(fx->fake.resets, 2);
	apdu(fx, a, c, sizeof(c), r, sizeof(r), 0);
	assert_int_equal(fx->fake.resets, 3);
	/* INIT on the session's own channel: the next APDU is a new one */
	feed_msg(fx, a, CTAPHID_INIT, nonce, 8, 0);
	assert_int_equal(next_msg(fx, &got, &cmd, r, sizeof(r)), 17);
	assert_int_equal(fx->fake.resets, 3);
	apdu(fx, a, c, sizeof(c), r, sizeof(r), 0);
	assert_int_equal(fx->fake.resets, 4);
	/* INIT of another channel leaves this session alone */
	feed_msg(fx, b, CTAPHID_INIT, nonce, 8, 0);
	assert_int_equal(next_msg(fx, &got, &cmd, r, sizeof(r)), 17);
	apdu(fx, a, c, sizeof(c), r, sizeof(r), 0);
	assert_int_equal(fx->fake.resets, 4);
	assert_int_equal(fx->fake.calls, 6);
}

/* The same with the real card: a PIN verified on one channel is not
 * verified on the next (the driver opens one per power-up). */
static void
sessions_reset_the_real_card(void **state)
{
	static const uint8_t sel[] = { 0x00, 0xa4, 0x04, 0x00, 0x09, 0xa0,
	    0x00, 0x00, 0x03, 0x08, 0x00, 0x00, 0x10, 0x00, 0x00 };
	static const uint8_t unblock[] = { 0x00, 0x2c, 0x00, 0x80, 0x10,
	    '1', '2', '3', '4', '5', '6', '7', '8',
	    '6', '5', '4', '3', '2', '1', 0xff, 0xff };
	static const uint8_t verify[] = { 0x00, 0x20, 0x00, 0x80, 0x08,
	    '6', '5', '4', '3', '2', '1', 0xff, 0xff };
	static const uint8_t status[] = { 0x00, 0x20, 0x00, 0x80 };
	struct fx *fx = *state;
	uint8_t r[CTAPHID_MAX_MSG];
	uint32_t a, b;
	size_t n;

	a = alloc_channel(fx, 0);
	b = alloc_channel(fx, 0);
	n = apdu(fx, a, sel, sizeof(sel), r, sizeof(r), 0);
	assert_int_equal(r[n - 2], 0x90);
	/* a fresh device has no PIN: set one with the PUK, then verify */
	n = apdu(fx, a, unblock, sizeof(unblock), r, sizeof(r), 0);
	assert_int_equal(r[n - 2] << 8 | r[n - 1], 0x9000);
	n = apdu(fx, a, verify, sizeof(verify), r, sizeof(r), 0);
	assert_int_equal(r[n - 2] << 8 | r[n - 1], 0x9000);
	n = apdu(fx, a, status, sizeof(status), r, sizeof(r), 0);
	assert_int_equal(r[n - 2] << 8 | r[n - 1], 0x9000);
	/* channel b: a card reset, no applet selected */
	n = apdu(fx, b, status, sizeof(status), r, sizeof(r), 0);
	assert_int_equal(r[n - 2] << 8 | r[n - 1], 0x6d00);
	n = apdu(fx, b, sel, sizeof(sel), r, sizeof(r), 0);
	n = apdu(fx, b, status, sizeof(status), r, sizeof(r), 0);
	assert_int_equal(r[n - 2] << 8 | r[n - 1], 0x63c8);
	/* back on a: another new session, still not verified */
	n = apdu(fx, a, sel, sizeof(sel), r, sizeof(r), 0);
	n = apdu(fx, a, status, sizeof(status), r, sizeof(r), 0);
	assert_int_equal(r[n - 2] << 8 | r[n - 1], 0x63c8);
}

static void
touch_completes(void **state)
{
	static const uint8_t c[] = { 0x00, 0x87, 0x11, 0x9a, 0x00 };
	struct fx *fx = *state;
	uint8_t r[64], cmd;
	uint32_t a, got;

	fx->fake.wait_for_touch = 1;
	fx->fake.resp[0] = 0x90;
	fx->fake.resp[1] = 0x00;
	fx->fake.resp_len = 2;
	a = alloc_channel(fx, 0);
	feed_msg(fx, a, CTAPHID_OPENLOOP_APDU, c, sizeof(c), 0);
	fake_wait_upneeded(&fx->fake);
	sim_ctaphid_tick(fx->dev, 100);
	expect_keepalive(fx, a, CTAPHID_STATUS_UPNEEDED);
	pthread_mutex_lock(&fx->fake.mu);
	fx->fake.touched = 1;
	pthread_cond_broadcast(&fx->fake.cv);
	pthread_mutex_unlock(&fx->fake.mu);
	wait_worker(fx);
	sim_ctaphid_tick(fx->dev, 150);
	assert_int_equal(next_msg(fx, &got, &cmd, r, sizeof(r)), 2);
	assert_int_equal(r[0], 0x90);
}

static void
init_resync_drops_running_apdu(void **state)
{
	static const uint8_t c[] = { 0x00, 0x87, 0x11, 0x9a, 0x00 };
	static const uint8_t nonce[8] = { 7, 7, 7, 7, 7, 7, 7, 7 };
	struct fx *fx = *state;
	uint8_t r[64], cmd;
	uint32_t a, got;

	fx->fake.wait_for_touch = 1;
	fx->fake.resp_len = 2;
	a = alloc_channel(fx, 0);
	feed_msg(fx, a, CTAPHID_OPENLOOP_APDU, c, sizeof(c), 0);
	fake_wait_upneeded(&fx->fake);
	feed_msg(fx, a, CTAPHID_INIT, nonce, 8, 50);
	assert_int_equal(next_msg(fx, &got, &cmd, r, sizeof(r)), 17);
	assert_int_equal(got, a);
	assert_int_equal(cmd, CTAPHID_INIT);
	assert_int_equal(be32(r + 8), a);
	/* the card was told to give up; nothing more comes for the APDU */
	wait_worker(fx);
	sim_ctaphid_tick(fx->dev, 100);
	sim_ctaphid_tick(fx->dev, 200);
	assert_int_equal(pending(fx), 0);
	/* and the device is free */
	feed_msg(fx, a, CTAPHID_PING, nonce, 8, 300);
	assert_int_equal(next_msg(fx, &got, &cmd, r, sizeof(r)), 8);
	assert_int_equal(cmd, CTAPHID_PING);
}

static void
free_while_card_waits(void **state)
{
	static const uint8_t c[] = { 0x00, 0x87, 0x11, 0x9a, 0x00 };
	struct fx *fx = *state;
	uint32_t a;

	fx->fake.wait_for_touch = 1;
	fx->fake.resp_len = 2;
	a = alloc_channel(fx, 0);
	feed_msg(fx, a, CTAPHID_OPENLOOP_APDU, c, sizeof(c), 0);
	fake_wait_upneeded(&fx->fake);
	/* teardown frees the device: it must cancel and join, not hang */
}

/* --- pacing and back-pressure -------------------------------------------- */

static void
reports_are_paced(void **state)
{
	struct fx *fx;
	uint8_t msg[200], buf[256], cmd;
	uint32_t a, got;

	(void)state;
	fx = fx_new(0, 0, 5, FIRST_CID);
	*state = fx;
	memset(msg, 0x77, sizeof(msg));
	a = alloc_channel(fx, 0);          /* sent at t=0 */
	feed_msg(fx, a, CTAPHID_PING, msg, sizeof(msg), 1);
	assert_int_equal(pending(fx), 0);  /* 1 ms after the INIT reply */
	assert_int_equal(sim_ctaphid_next_timeout(fx->dev, 1), 4);
	sim_ctaphid_tick(fx->dev, 5);
	assert_int_equal(pending(fx), 1);
	sim_ctaphid_tick(fx->dev, 9);
	assert_int_equal(pending(fx), 1);
	sim_ctaphid_tick(fx->dev, 10);
	assert_int_equal(pending(fx), 2);
	/* a late tick sends one report, not a burst */
	sim_ctaphid_tick(fx->dev, 100);
	assert_int_equal(pending(fx), 3);
	sim_ctaphid_tick(fx->dev, 105);
	assert_int_equal(pending(fx), 4);
	assert_int_equal(sim_ctaphid_next_timeout(fx->dev, 105), -1);
	assert_int_equal(next_msg(fx, &got, &cmd, buf, sizeof(buf)),
	    sizeof(msg));
	assert_memory_equal(buf, msg, sizeof(msg));
}

static void
back_pressure(void **state)
{
	static uint8_t msg[CTAPHID_MAX_MSG], buf[CTAPHID_MAX_MSG];
	struct fx *fx;
	uint8_t cmd;
	uint32_t a, got;
	int64_t t = 1;
	int accepted = 0;

	(void)state;
	fx = fx_new(0, 0, 1, FIRST_CID);
	*state = fx;
	memset(msg, 0x66, sizeof(msg));
	a = alloc_channel(fx, 0);
	while (sim_ctaphid_ready(fx->dev)) {
		feed_msg(fx, a, CTAPHID_PING, msg, sizeof(msg), 0);
		accepted++;
		assert_true(accepted < 10);
	}
	/* every accepted reply still fits: none was dropped */
	assert_true(accepted >= 2);
	while (sim_ctaphid_next_timeout(fx->dev, t) >= 0)
		sim_ctaphid_tick(fx->dev, t++);
	assert_true(sim_ctaphid_ready(fx->dev));
	while (accepted-- > 0) {
		assert_int_equal(next_msg(fx, &got, &cmd, buf, sizeof(buf)),
		    sizeof(msg));
		assert_int_equal(cmd, CTAPHID_PING);
	}
	assert_int_equal(pending(fx), 0);
}

static void
new_rejects_bad_options(void **state)
{
	struct sim_ctaphid_opts o;
	sim_ctaphid_t *dev = (sim_ctaphid_t *)&o;

	(void)state;
	memset(&o, 0, sizeof(o));
	o.card_ops = &fake_ops;
	assert_int_equal(sim_ctaphid_new(&o, &dev), OL_ERR_ARG); /* no emit */
	assert_null(dev);
	o.emit = capture;
	o.processing_delay_ms = -1;
	assert_int_equal(sim_ctaphid_new(&o, &dev), OL_ERR_ARG);
	assert_int_equal(sim_ctaphid_new(NULL, &dev), OL_ERR_ARG);
	sim_ctaphid_free(NULL);
}

/* --- the server ---------------------------------------------------------- */

struct hook_log {
	uint8_t rep[16][CTAPHID_REPORT_LEN];
	size_t n;
};

static void
hook_report(void *arg, const uint8_t report[CTAPHID_REPORT_LEN])
{
	struct hook_log *h = arg;

	assert_true(h->n < 16);
	memcpy(h->rep[h->n++], report, CTAPHID_REPORT_LEN);
}

static void
make_pair(sim_server_t *srv, int *peer)
{
	int sv[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0,
	    sv), 0);
	assert_int_equal(sim_server_add_client(srv, sv[0]), OL_OK);
	*peer = sv[1];
}

/* Reads everything the server has for this peer, letting the server move
 * its ring into the socket as space frees up. */
static size_t
drain(sim_server_t *srv, int fd, int *first, int *last)
{
	uint8_t buf[128];
	size_t n = 0;
	ssize_t r;
	int idle = 0;

	while (idle < 3) {
		r = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (r == CTAPHID_REPORT_LEN) {
			if (n == 0 && first != NULL)
				*first = buf[0] | buf[1] << 8;
			if (last != NULL)
				*last = buf[0] | buf[1] << 8;
			n++;
			idle = 0;
			continue;
		}
		assert_int_equal(r, -1);
		assert_true(errno == EAGAIN || errno == EWOULDBLOCK);
		assert_int_equal(sim_server_run_once(srv, 0), OL_OK);
		idle++;
	}
	return n;
}

static void
server_ring_drops_new_reports_per_client(void **state)
{
	struct hook_log log;
	struct sim_server_hooks hooks = { hook_report, NULL, &log };
	sim_server_t *srv;
	uint8_t report[CTAPHID_REPORT_LEN];
	int idle_peer, busy_peer, first = -1, last = -1, i;
	size_t got_busy = 0;

	(void)state;
	memset(&log, 0, sizeof(log));
	assert_int_equal(sim_server_new(&hooks, &srv), OL_OK);
	make_pair(srv, &idle_peer);
	make_pair(srv, &busy_peer);
	assert_int_equal(sim_server_client_count(srv), 2);
	memset(report, 0, sizeof(report));
	for (i = 0; i < 100; i++) {
		report[0] = (uint8_t)i;
		report[1] = (uint8_t)(i >> 8);
		sim_server_broadcast(srv, report);
		/* a client that keeps reading loses nothing */
		got_busy += drain(srv, busy_peer, NULL, NULL);
	}
	assert_int_equal(got_busy, 100);
	/* the idle one holds what hidraw holds: the OLDEST 63 */
	assert_int_equal(drain(srv, idle_peer, &first, &last),
	    SIM_RING_REPORTS);
	assert_int_equal(first, 0);
	assert_int_equal(last, SIM_RING_REPORTS - 1);
	assert_int_equal(sim_server_dropped(srv), 100 - SIM_RING_REPORTS);
	/* drained, it receives again */
	report[0] = 200;
	report[1] = 0;
	sim_server_broadcast(srv, report);
	assert_int_equal(drain(srv, idle_peer, &first, NULL), 1);
	assert_int_equal(first, 200);
	close(idle_peer);
	close(busy_peer);
	sim_server_free(&srv);
	assert_null(srv);
}

static void
server_checks_datagrams(void **state)
{
	struct hook_log log;
	struct sim_server_hooks hooks = { hook_report, NULL, &log };
	sim_server_t *srv;
	uint8_t dgram[80];
	int peer, i;

	(void)state;
	memset(&log, 0, sizeof(log));
	assert_int_equal(sim_server_new(&hooks, &srv), OL_OK);
	make_pair(srv, &peer);
	memset(dgram, 0, sizeof(dgram));
	dgram[1] = 0xab;
	dgram[64] = 0xcd;
	assert_int_equal(send(peer, dgram, 64, 0), 64);  /* no report ID */
	assert_int_equal(send(peer, dgram, 66, 0), 66);  /* too long */
	dgram[0] = 1;
	assert_int_equal(send(peer, dgram, 65, 0), 65);  /* report ID 1 */
	dgram[0] = 0;
	assert_int_equal(send(peer, dgram, 0, 0), 0);    /* empty */
	assert_int_equal(send(peer, dgram, 65, 0), 65);  /* the good one */
	for (i = 0; i < 8; i++)
		assert_int_equal(sim_server_run_once(srv, 0), OL_OK);
	assert_int_equal(log.n, 1);
	assert_int_equal(log.rep[0][0], 0xab);   /* report ID removed */
	assert_int_equal(log.rep[0][63], 0xcd);
	assert_int_equal(sim_server_client_count(srv), 1);
	/* a client that hangs up is removed */
	close(peer);
	assert_int_equal(sim_server_run_once(srv, 100000), OL_OK);
	assert_int_equal(sim_server_client_count(srv), 0);
	sim_server_free(&srv);
}

static int server_ready_flag;

static int
hook_ready(void *arg)
{
	(void)arg;
	return server_ready_flag;
}

static void
server_leaves_input_unread_when_not_ready(void **state)
{
	struct hook_log log;
	struct sim_server_hooks hooks = { hook_report, hook_ready, &log };
	sim_server_t *srv;
	uint8_t dgram[65];
	int peer;

	(void)state;
	memset(&log, 0, sizeof(log));
	memset(dgram, 0, sizeof(dgram));
	assert_int_equal(sim_server_new(&hooks, &srv), OL_OK);
	make_pair(srv, &peer);
	assert_int_equal(send(peer, dgram, sizeof(dgram), 0), 65);
	server_ready_flag = 0;
	assert_int_equal(sim_server_run_once(srv, 10000), OL_OK);
	assert_int_equal(log.n, 0);
	server_ready_flag = 1;
	assert_int_equal(sim_server_run_once(srv, 10000), OL_OK);
	assert_int_equal(log.n, 1);
	close(peer);
	sim_server_free(&srv);
}

/* Device and server together: every input report reaches every client. */
struct both {
	sim_ctaphid_t *dev;
	sim_server_t *srv;
};

static void
both_feed(void *arg, const uint8_t report[CTAPHID_REPORT_LEN])
{
	struct both *b = arg;

	sim_ctaphid_feed(b->dev, report, CTAPHID_REPORT_LEN, 0);
}

static void
both_emit(void *arg, const uint8_t report[CTAPHID_REPORT_LEN])
{
	struct both *b = arg;

	sim_server_broadcast(b->srv, report);
}

static void
server_every_client_sees_every_report(void **state)
{
	static const uint8_t nonce[8] = { 1, 1, 2, 3, 5, 8, 13, 21 };
	struct both b;
	struct sim_server_hooks hooks = { both_feed, NULL, &b };
	struct sim_ctaphid_opts o;
	sim_card_t *card;
	uint8_t dgram[65], in_a[128], in_b[128];
	int pa, pb, i;

	(void)state;
	memset(&o, 0, sizeof(o));
	assert_int_equal(sim_card_new(&card), OL_OK);
	o.card_ops = &sim_card_ops;
	o.card = card;
	o.emit = both_emit;
	o.emit_arg = &b;
	o.first_cid = FIRST_CID;
	assert_int_equal(sim_ctaphid_new(&o, &b.dev), OL_OK);
	assert_int_equal(sim_server_new(&hooks, &b.srv), OL_OK);
	make_pair(b.srv, &pa);
	make_pair(b.srv, &pb);
	dgram[0] = 0;
	assert_int_equal(ctaphid_packet_build(CTAPHID_CID_BROADCAST,
	    CTAPHID_INIT, nonce, 8, 0, dgram + 1), OL_OK);
	assert_int_equal(send(pa, dgram, sizeof(dgram), 0), 65);
	for (i = 0; i < 4; i++)
		assert_int_equal(sim_server_run_once(b.srv, 10000), OL_OK);
	assert_int_equal(recv(pa, in_a, sizeof(in_a), MSG_DONTWAIT), 64);
	assert_int_equal(recv(pb, in_b, sizeof(in_b), MSG_DONTWAIT), 64);
	assert_memory_equal(in_a, in_b, 64);
	assert_memory_equal(in_a + 7, nonce, 8);
	close(pa);
	close(pb);
	sim_ctaphid_free(&b.dev);
	sim_server_free(&b.srv);
	sim_card_free(&card);
}

static char *
tmp_path(const char *dir, const char *name)
{
	char *p = malloc(strlen(dir) + strlen(name) + 2);

	assert_non_null(p);
	sprintf(p, "%s/%s", dir, name);
	return p;
}

static void
server_listen_files(void **state)
{
	struct hook_log log;
	struct sim_server_hooks hooks = { hook_report, NULL, &log };
	sim_server_t *srv, *srv2;
	char dir[] = "/tmp/test_sim_XXXXXX";
	char *sock, *lock, *serial, *missing, buf[64];
	struct sockaddr_un sa;
	struct stat st;
	int fd;
	ssize_t n;

	(void)state;
	assert_non_null(mkdtemp(dir));
	sock = tmp_path(dir, "sim.sock");
	lock = tmp_path(dir, "sim.sock.lock");
	serial = tmp_path(dir, "sim.sock.serial");
	missing = tmp_path(dir, "no/such/dir/sim.sock");

	assert_int_equal(sim_server_new(&hooks, &srv), OL_OK);
	assert_int_equal(sim_server_listen(srv, sock, "OLTEST42"), OL_OK);
	assert_int_equal(lstat(sock, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(lstat(lock, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0660);
	assert_int_equal(st.st_size, 0);
	fd = open(serial, O_RDONLY);
	assert_true(fd >= 0);
	n = read(fd, buf, sizeof(buf));
	close(fd);
	assert_int_equal(n, 9);
	assert_memory_equal(buf, "OLTEST42\n", 9);

	/* a client can connect and is counted */
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	strcpy(sa.sun_path, sock);
	fd = socket(AF_UNIX, SOCK_SEQPACKET, 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(sim_server_run_once(srv, 100000), OL_OK);
	assert_int_equal(sim_server_client_count(srv), 1);
	close(fd);

	/* somebody listens: a second server must not steal the path */
	assert_int_equal(sim_server_new(&hooks, &srv2), OL_OK);
	assert_int_equal(sim_server_listen(srv2, sock, "X"), OL_ERR_BUSY);
	sim_server_free(&srv2);
	assert_int_equal(lstat(lock, &st), 0);

	/* exit removes all three */
	sim_server_free(&srv);
	assert_int_equal(lstat(sock, &st), -1);
	assert_int_equal(lstat(lock, &st), -1);
	assert_int_equal(lstat(serial, &st), -1);

	/* a stale socket (nobody listens) is replaced */
	fd = socket(AF_UNIX, SOCK_SEQPACKET, 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	close(fd);
	assert_int_equal(sim_server_new(&hooks, &srv), OL_OK);
	assert_int_equal(sim_server_listen(srv, sock, "X"), OL_OK);
	sim_server_free(&srv);

	/* a regular file in the way is left alone */
	fd = open(sock, O_WRONLY | O_CREAT, 0600);
	close(fd);
	assert_int_equal(sim_server_new(&hooks, &srv), OL_OK);
	assert_int_equal(sim_server_listen(srv, sock, "X"), OL_ERR_BUSY);
	assert_int_equal(lstat(sock, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(lstat(lock, &st), -1);
	unlink(sock);

	/* no such directory; bad serial */
	assert_int_equal(sim_server_listen(srv, missing, "X"),
	    OL_ERR_NO_DEVICE);
	assert_int_equal(sim_server_listen(srv, sock, "has space"), OL_ERR_ARG);
	assert_int_equal(sim_server_listen(srv, sock, ""), OL_ERR_ARG);
	sim_server_free(&srv);

	assert_int_equal(rmdir(dir), 0);
	free(sock);
	free(lock);
	free(serial);
	free(missing);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(init_echoes_nonce, setup_real,
		    teardown),
		cmocka_unit_test_teardown(init_random_cids, teardown),
		cmocka_unit_test_setup_teardown(init_on_allocated_cid_resyncs,
		    setup_real, teardown),
		cmocka_unit_test_setup_teardown(init_wrong_length, setup_real,
		    teardown),
		cmocka_unit_test_setup_teardown(invalid_channel, setup_real,
		    teardown),
		cmocka_unit_test_setup_teardown(ping_echoes, setup_real,
		    teardown),
		cmocka_unit_test_setup_teardown(ping_too_long, setup_real,
		    teardown),
		cmocka_unit_test_setup_teardown(wink_and_bad_commands,
		    setup_real, teardown),
		cmocka_unit_test_setup_teardown(cbor_get_info, setup_real,
		    teardown),
		cmocka_unit_test_setup_teardown(cbor_other_commands, setup_real,
		    teardown),
		cmocka_unit_test_setup_teardown(cbor_touch_wait_cancel,
		    setup_never, teardown),
		cmocka_unit_test_setup_teardown(no_authenticator, setup_fake,
		    teardown),
		cmocka_unit_test_teardown(fault_not_inherited_by_cbor,
		    teardown),
		cmocka_unit_test_setup_teardown(cbor_cancel_and_busy, setup_delay,
		    teardown),
		cmocka_unit_test_setup_teardown(bad_length_reports_ignored,
		    setup_real, teardown),
		cmocka_unit_test_setup_teardown(bad_seq, setup_real, teardown),
		cmocka_unit_test_setup_teardown(repeated_seq_is_bad, setup_real,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    continuation_without_transaction, setup_real, teardown),
		cmocka_unit_test_setup_teardown(msg_timeout, setup_real,
		    teardown),
		cmocka_unit_test_setup_teardown(msg_timeout_seen_by_late_packet,
		    setup_real, teardown),
		cmocka_unit_test_setup_teardown(busy_while_receiving,
		    setup_real, teardown),
		cmocka_unit_test_setup_teardown(
		    new_request_on_receiving_channel, setup_real, teardown),
		cmocka_unit_test_setup_teardown(apdu_select_unknown_aid,
		    setup_real, teardown),
		cmocka_unit_test_setup_teardown(
		    apdu_get_challenge_long_response, setup_real, teardown),
		cmocka_unit_test_setup_teardown(apdu_fragmentation_exact_bytes,
		    setup_fake, teardown),
		cmocka_unit_test_setup_teardown(apdu_too_short, setup_real,
		    teardown),
		cmocka_unit_test_setup_teardown(apdu_keepalive_and_busy,
		    setup_delay, teardown),
		cmocka_unit_test_teardown(
		    keepalive_after_a_long_sleep_does_not_burst, teardown),
		cmocka_unit_test_setup_teardown(cancel_during_processing,
		    setup_delay, teardown),
		cmocka_unit_test_setup_teardown(cancel_while_waiting_for_touch,
		    setup_fake, teardown),
		cmocka_unit_test_setup_teardown(sessions_follow_channels,
		    setup_fake, teardown),
		cmocka_unit_test_setup_teardown(sessions_reset_the_real_card,
		    setup_real, teardown),
		cmocka_unit_test_setup_teardown(touch_completes, setup_fake,
		    teardown),
		cmocka_unit_test_setup_teardown(init_resync_drops_running_apdu,
		    setup_fake, teardown),
		cmocka_unit_test_setup_teardown(free_while_card_waits,
		    setup_fake, teardown),
		cmocka_unit_test_teardown(reports_are_paced, teardown),
		cmocka_unit_test_teardown(back_pressure, teardown),
		cmocka_unit_test(new_rejects_bad_options),
		cmocka_unit_test(server_ring_drops_new_reports_per_client),
		cmocka_unit_test(server_checks_datagrams),
		cmocka_unit_test(server_leaves_input_unread_when_not_ready),
		cmocka_unit_test(server_every_client_sees_every_report),
		cmocka_unit_test(server_listen_files),
	};

	ol_log_set_mask(0);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
