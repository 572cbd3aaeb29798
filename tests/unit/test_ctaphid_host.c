/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ifd-openloop unit tests: the host side of CTAPHID (ctaphid_host.c),
 * written from its specification (ctaphid_host.h, docs/transport.md)
 * against the scripted device of fake_device.c.
 *
 * Every test ends with fx_check_end(), which checks what the device saw:
 * well-formed 65-byte reports, continuation packets in order, requests on
 * the allocated channel, the lock file held during each request and free
 * afterwards, and no SIGPIPE.
 */
#include <sys/file.h>

#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "ctaphid.h"
#include "ctaphid_host.h"
#include "ctaphid_msg.h"
#include "fake_device.h"
#include "hid_dev.h"
#include "ol_err.h"
#include "timeutil.h"

#define FX_CID       0x11223344u /* first CID the device hands out */
#define FOREIGN_CID  0x0badcafeu /* some other program's channel */

/* Small timeouts keep the file fast; bounds below leave room for a loaded
 * machine (sanitizers) but catch a wrong order of magnitude. */
#define USER_MS   1000
#define BUSY_MS    500
#define REPLY_MS   800 /* wide: a loaded machine delays the fake device */
#define SLACK_MS  1500 /* a loaded CI machine (ASan, make -j) */
/* a host that never gives up must fail its test, not hang the run */
#define WATCHDOG_S  20

static volatile sig_atomic_t sigpipes;

static void
on_sigpipe(int sig)
{
	(void)sig;
	sigpipes++;
}

struct fx {
	struct fake_dev *dev;
	ol_hid_t *hid;
	ol_ctap_t *ctap;

	/* script state: written by the device thread, read by the test after
	 * fake_dev_quiesce() */
	uint32_t cur_cid;     /* channel the device allocated last, 0: none */
	int ninit;            /* INIT requests answered */
	int nseen;            /* requests of the scripted command seen */
	int busy_left;        /* CHANNEL_BUSY answers still to give, -1: all */
	int invalid_left;     /* INVALID_CHANNEL answers still to give, -1: all */
	int mute_after_cancel; /* h_keepalive_forever: no answer to CANCEL */
	int corrupt;          /* h_bad_seq: 1 skip SEQ 0, 2 repeat SEQ 0 */
	uint8_t ka_status;    /* h_keepalive_forever: status to send */
	int wrong_cid;        /* requests on a channel we did not allocate */
	int bad_init;         /* INIT requests not on broadcast or len != 8 */
	int ka_result;        /* what fake_keepalives() returned */
	uint8_t apdu_resp[8]; /* the answer to an APDU request */
	size_t apdu_resp_len;

	/* host side */
	int upneeded_calls;
};

static int
fx_setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));

	if (fx == NULL)
		return -1;
	*state = fx;
	alarm(WATCHDOG_S);
	return 0;
}

static int
fx_teardown(void **state)
{
	struct fx *fx = *state;

	if (fx == NULL)
		return 0;
	/* device thread first: it may be using fx */
	fake_dev_quiesce(fx->dev);
	if (fx->ctap != NULL)
		ol_ctap_free(&fx->ctap);
	if (fx->hid != NULL)
		ol_hid_close(&fx->hid);
	fake_dev_free(&fx->dev);
	free(fx);
	*state = NULL;
	alarm(0);
	return 0;
}

static void
on_upneeded(void *arg)
{
	struct fx *fx = arg;

	fx->upneeded_calls++;
}

static void
fx_start(struct fx *fx, fake_handler_t *handler, int user_ms, int busy_ms,
    int reply_ms)
{
	struct ol_ctap_opts opts;

	memset(&opts, 0, sizeof(opts));
	opts.user_timeout_ms = user_ms;
	opts.busy_timeout_ms = busy_ms;
	opts.reply_timeout_ms = reply_ms;
	assert_int_equal(fake_dev_start(handler, fx, &fx->dev, &fx->hid), 0);
	assert_int_equal(ol_ctap_new(fx->hid, &opts, &fx->ctap), OL_OK);
	assert_non_null(fx->ctap);
	ol_ctap_set_upneeded_cb(fx->ctap, on_upneeded, fx);
}

static void
fx_start_default(struct fx *fx, fake_handler_t *handler)
{
	fx_start(fx, handler, USER_MS, BUSY_MS, REPLY_MS);
}

/* What the device saw, once the exchange is over. */
static void
fx_check_end(struct fx *fx)
{
	struct fake_req *req = malloc(sizeof(*req));
	size_t i, n;

	assert_non_null(req);
	fake_dev_quiesce(fx->dev);
	assert_int_equal(fake_dev_bad_reports(fx->dev), 0);
	assert_int_equal(fake_dev_seq_errors(fx->dev), 0);
	assert_int_equal(fx->wrong_cid, 0);
	assert_int_equal(fx->bad_init, 0);
	n = fake_dev_nreq(fx->dev);
	for (i = 0; i < n && i < FAKE_LOG_MAX; i++) {
		assert_int_equal(fake_dev_req(fx->dev, i, req), 0);
		/* flock is held around the exchange (CANCEL may come after) */
		if (req->cmd != CTAPHID_CANCEL)
			assert_true(req->lock_held);
	}
	/* ... and only around it */
	assert_true(fake_dev_lock_free(fx->dev));
	assert_int_equal(sigpipes, 0);
	free(req);
}

/* Checks the INIT request and the channel of every other request. */
static void
note_request(struct fx *fx, const struct fake_req *req)
{
	if (req->cmd == CTAPHID_INIT) {
		if (req->cid != CTAPHID_CID_BROADCAST ||
		    req->len != CTAPHID_NONCE_LEN)
			fx->bad_init++;
	} else if (req->cid != fx->cur_cid) {
		fx->wrong_cid++;
	}
}

static void
answer_init(struct fx *fx, struct fake_dev *dev, const struct fake_req *req)
{
	uint32_t cid = FX_CID + (uint32_t)fx->ninit;

	fx->ninit++;
	fx->cur_cid = cid;
	fake_answer_init(dev, req, cid, 0);
}

/* A well-behaved device: INIT, PING echo, APDU answered with apdu_resp. */
static void
std_reply(struct fx *fx, struct fake_dev *dev, const struct fake_req *req)
{
	switch (req->cmd) {
	case CTAPHID_INIT:
		answer_init(fx, dev, req);
		break;
	case CTAPHID_PING:
		fake_send_msg(dev, req->cid, CTAPHID_PING, req->data, req->len);
		break;
	case CTAPHID_OPENLOOP_APDU:
		fake_send_msg(dev, req->cid, CTAPHID_OPENLOOP_APDU,
		    fx->apdu_resp, fx->apdu_resp_len);
		break;
	default:
		break; /* CANCEL and the rest: no answer */
	}
}

static void
h_std(struct fake_dev *dev, const struct fake_req *req, void *arg)
{
	struct fx *fx = arg;

	note_request(fx, req);
	std_reply(fx, dev, req);
}

static void
fill_pattern(uint8_t *buf, size_t len, unsigned seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		buf[i] = (uint8_t)((i * 131 + seed) ^ (i >> 8));
}

/* PING of len bytes; the response buffer is exactly len bytes (on the heap,
 * so that AddressSanitizer sees a write past it). */
static int
ping(struct fx *fx, size_t len, size_t cap, size_t *resp_len, int *same)
{
	uint8_t *req = malloc(len + 1), *resp = malloc(cap + 1);
	int r;

	assert_non_null(req);
	assert_non_null(resp);
	fill_pattern(req, len, (unsigned)len);
	*resp_len = SIZE_MAX;
	r = ol_ctap_transact(fx->ctap, CTAPHID_PING, req, len, resp, cap,
	    resp_len);
	*same = r == OL_OK && *resp_len == len && memcmp(req, resp, len) == 0;
	free(req);
	free(resp);
	return r;
}

static void
assert_ping_ok(struct fx *fx, size_t len)
{
	size_t resp_len;
	int same;

	assert_int_equal(ping(fx, len, len, &resp_len, &same), OL_OK);
	assert_int_equal(resp_len, len);
	assert_true(same);
}

/* The i-th logged request with command cmd. */
static void
get_req(struct fx *fx, uint8_t cmd, size_t nth, struct fake_req *out)
{
	size_t i, k = 0, n = fake_dev_nreq(fx->dev);

	for (i = 0; i < n && i < FAKE_LOG_MAX; i++) {
		assert_int_equal(fake_dev_req(fx->dev, i, out), 0);
		if (out->cmd == cmd && k++ == nth)
			return;
	}
	fail_msg("request %zu of command 0x%02x not logged", nth, cmd);
}

/* ------------------------------------------------------------------ */

static void
test_init_info(void **state)
{
	struct fx *fx = *state;
	const struct ol_ctap_info *info;
	struct fake_req *r1 = malloc(sizeof(*r1)), *r2 = malloc(sizeof(*r2));

	assert_non_null(r1);
	assert_non_null(r2);
	fx_start_default(fx, h_std);
	assert_int_equal(ol_ctap_init(fx->ctap), OL_OK);
	info = ol_ctap_info(fx->ctap);
	assert_non_null(info);
	assert_int_equal(info->cid, FX_CID);
	assert_int_equal(info->protocol, CTAPHID_PROTOCOL_VERSION);
	assert_int_equal(info->major, 1);
	assert_int_equal(info->minor, 2);
	assert_int_equal(info->build, 3);
	assert_int_equal(info->caps, CTAPHID_CAP_WINK | CTAPHID_CAP_CBOR);

	/* a second allocation uses a fresh nonce */
	assert_int_equal(ol_ctap_init(fx->ctap), OL_OK);
	assert_int_equal(ol_ctap_info(fx->ctap)->cid, FX_CID + 1);
	fx_check_end(fx);
	assert_int_equal(fake_dev_ncmd(fx->dev, CTAPHID_INIT), 2);
	get_req(fx, CTAPHID_INIT, 0, r1);
	get_req(fx, CTAPHID_INIT, 1, r2);
	assert_memory_not_equal(r1->data, r2->data, CTAPHID_NONCE_LEN);
	free(r1);
	free(r2);
}

/* Messages at every packet boundary, both ways; exact-size buffers. */
static void
test_ping_sizes(void **state)
{
	static const size_t sizes[] = { 0, 1, 57, 58, 116, 117, CTAPHID_MAX_MSG };
	struct fx *fx = *state;
	struct fake_req *req = malloc(sizeof(*req));
	uint8_t *expect = malloc(CTAPHID_MAX_MSG);
	size_t i;

	assert_non_null(req);
	assert_non_null(expect);
	fx_start_default(fx, h_std);
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		assert_ping_ok(fx, sizes[i]);
	fx_check_end(fx);

	/* one channel for all exchanges; the device got the exact bytes */
	assert_int_equal(fake_dev_ncmd(fx->dev, CTAPHID_INIT), 1);
	assert_int_equal(fake_dev_ncmd(fx->dev, CTAPHID_PING), 7);
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		get_req(fx, CTAPHID_PING, i, req);
		assert_int_equal(req->len, sizes[i]);
		assert_int_equal(req->cid, FX_CID);
		fill_pattern(expect, sizes[i], (unsigned)sizes[i]);
		assert_memory_equal(req->data, expect, sizes[i]);
	}
	free(req);
	free(expect);
}

/* 7610 bytes: refused before anything (not even INIT) is sent. */
static void
test_request_too_long(void **state)
{
	struct fx *fx = *state;
	size_t resp_len;
	int same;

	fx_start_default(fx, h_std);
	assert_int_equal(ping(fx, CTAPHID_MAX_MSG + 1, 16, &resp_len, &same),
	    OL_ERR_TOO_LONG);
	ol_sleep_ms(50);
	fx_check_end(fx);
	assert_int_equal(fake_dev_nreq(fx->dev), 0);
}

/* A reply longer than the caller's buffer. */
static void
test_reply_over_buffer(void **state)
{
	struct fx *fx = *state;
	size_t resp_len;
	int same;

	fx_start_default(fx, h_std);
	assert_int_equal(ping(fx, 100, 99, &resp_len, &same), OL_ERR_TOO_LONG);
	fx_check_end(fx);
}

/* Other programs' traffic everywhere: during INIT and between the
 * continuation packets of our reply. */
static void
send_foreign_noise(struct fake_dev *dev)
{
	uint8_t junk[100], report[CTAPHID_REPORT_LEN];

	fill_pattern(junk, sizeof(junk), 7);
	/* init packet of a PING (our command) on another channel */
	fake_send_msg_part(dev, FOREIGN_CID, CTAPHID_PING, junk, 5, 1);
	/* a continuation packet of a message we never saw the start of */
	ctaphid_packet_build(FOREIGN_CID, CTAPHID_PING, junk, sizeof(junk), 1,
	    report);
	report[4] = 5;
	fake_send_report(dev, report);
	/* errors and keepalives addressed to someone else */
	fake_send_error(dev, FOREIGN_CID, CTAPHID_ERR_CHANNEL_BUSY);
	fake_send_error(dev, FOREIGN_CID, CTAPHID_ERR_INVALID_CHANNEL);
	fake_send_keepalive(dev, FOREIGN_CID, CTAPHID_STATUS_UPNEEDED);
}

/* Each report of our reply, then other channels' traffic. */
static int
emit_then_noise(void *arg, const uint8_t report[CTAPHID_REPORT_LEN])
{
	struct fake_dev *dev = arg;

	fake_send_report(dev, report);
	send_foreign_noise(dev);
	return OL_OK;
}

static void
h_foreign(struct fake_dev *dev, const struct fake_req *req, void *arg)
{
	struct fx *fx = arg;

	note_request(fx, req);
	send_foreign_noise(dev);
	if (req->cmd != CTAPHID_PING) {
		std_reply(fx, dev, req);
		return;
	}
	ctaphid_fragment(req->cid, CTAPHID_PING, req->data, req->len,
	    emit_then_noise, dev);
}

static void
test_foreign_cid_interleaved(void **state)
{
	struct fx *fx = *state;

	fx_start_default(fx, h_foreign);
	assert_ping_ok(fx, 200); /* 4 packets, noise between each */
	assert_ping_ok(fx, 10);
	assert_int_equal(ol_ctap_info(fx->ctap)->cid, FX_CID);
	fx_check_end(fx);
	assert_int_equal(fake_dev_ncmd(fx->dev, CTAPHID_PING), 2);
	/* noise must not have made the host re-INIT or resend */
	assert_int_equal(fake_dev_ncmd(fx->dev, CTAPHID_INIT), 1);
}

/* INIT replies for another nonce (another program's INIT) are ignored. */
static void
h_wrong_nonce_first(struct fake_dev *dev, const struct fake_req *req,
    void *arg)
{
	struct fx *fx = arg;

	note_request(fx, req);
	if (req->cmd == CTAPHID_INIT) {
		fake_answer_init(dev, req, 0xbad0bad0u, 0x5a);
		fake_answer_init(dev, req, 0xbad1bad1u, 0x01);
	}
	std_reply(fx, dev, req);
}

static void
test_init_wrong_nonce_ignored(void **state)
{
	struct fx *fx = *state;
	struct fake_req *req = malloc(sizeof(*req));

	assert_non_null(req);
	fx_start_default(fx, h_wrong_nonce_first);
	assert_ping_ok(fx, 20);
	assert_int_equal(ol_ctap_info(fx->ctap)->cid, FX_CID);
	fx_check_end(fx);
	assert_int_equal(fake_dev_ncmd(fx->dev, CTAPHID_INIT), 1);
	get_req(fx, CTAPHID_PING, 0, req);
	assert_int_equal(req->cid, FX_CID);
	free(req);
}

/* An INIT reply with our nonce but shorter than 17 bytes is malformed:
 * whatever the host does with it, it must not use the CID in it. */
static void
h_short_init_first(struct fake_dev *dev, const struct fake_req *req,
    void *arg)
{
	struct fx *fx = arg;
	uint8_t shortr[12];

	note_request(fx, req);
	if (req->cmd == CTAPHID_INIT && req->len == CTAPHID_NONCE_LEN) {
		memcpy(shortr, req->data, CTAPHID_NONCE_LEN);
		memset(shortr + CTAPHID_NONCE_LEN, 0xbb, 4);
		fake_send_msg(dev, CTAPHID_CID_BROADCAST, CTAPHID_INIT, shortr,
		    sizeof(shortr));
	}
	std_reply(fx, dev, req);
}

static void
test_init_short_reply_not_taken(void **state)
{
	struct fx *fx = *state;
	int r;

	fx_start_default(fx, h_short_init_first);
	r = ol_ctap_init(fx->ctap);
	/* ignored (then the full reply is taken) or refused as malformed */
	if (r == OL_OK)
		assert_int_equal(ol_ctap_info(fx->ctap)->cid, FX_CID);
	else
		assert_int_equal(r, OL_ERR_PROTOCOL);
	fx_check_end(fx);
}

/* Keepalives longer in total than reply_timeout_ms: each one resets the
 * silence timer; UPNEEDED calls the callback once per exchange.  Its own
 * reply time-out, so that a keepalive a loaded machine delays by a few
 * hundred ms is not taken for silence. */
#define KA_REPLY_MS 500

static void
h_keepalive_then_answer(struct fake_dev *dev, const struct fake_req *req,
    void *arg)
{
	struct fx *fx = arg;

	note_request(fx, req);
	if (req->cmd == CTAPHID_PING) {
		fake_keepalives(dev, req->cid, CTAPHID_STATUS_PROCESSING,
		    KA_REPLY_MS / 5, KA_REPLY_MS * 3 / 2);
		fake_keepalives(dev, req->cid, CTAPHID_STATUS_UPNEEDED,
		    KA_REPLY_MS / 5, KA_REPLY_MS * 3 / 2);
	}
	std_reply(fx, dev, req);
}

static void
test_keepalive_then_success(void **state)
{
	struct fx *fx = *state;

	fx_start(fx, h_keepalive_then_answer, 10 * KA_REPLY_MS, BUSY_MS,
	    KA_REPLY_MS);
	assert_ping_ok(fx, 70);
	assert_int_equal(fx->upneeded_calls, 1);
	assert_ping_ok(fx, 3);
	assert_int_equal(fx->upneeded_calls, 2);
	fx_check_end(fx);
	assert_int_equal(fake_dev_ncmd(fx->dev, CTAPHID_CANCEL), 0);
	assert_int_equal(fake_dev_ncmd(fx->dev, CTAPHID_PING), 2);
}

/* Keepalives forever: CANCEL after user_timeout_ms, counted from the
 * start of the exchange; a later exchange still works. */
static void
h_keepalive_forever(struct fake_dev *dev, const struct fake_req *req,
    void *arg)
{
	struct fx *fx = arg;

	note_request(fx, req);
	if (req->cmd == CTAPHID_PING && fx->nseen++ == 0) {
		fx->ka_result = fake_keepalives(dev, req->cid, fx->ka_status,
		    20, -1);
		/* the cancelled request is answered (CTAP 2.1: KEEPALIVE_
		 * CANCEL), unless this device never does */
		if (fx->ka_result == 1 && !fx->mute_after_cancel)
			fake_send_error(dev, req->cid, 0x2d);
		return;
	}
	std_reply(fx, dev, req);
}

static void
user_timeout_case(struct fx *fx, uint8_t status)
{
	struct fake_req *req = malloc(sizeof(*req));
	size_t resp_len;
	int64_t t0, dt;
	int same;

	assert_non_null(req);
	fx->ka_status = status;
	fx_start(fx, h_keepalive_forever, 300, BUSY_MS, REPLY_MS);
	t0 = ol_now_ms();
	assert_int_equal(ping(fx, 30, 30, &resp_len, &same),
	    OL_ERR_USER_TIMEOUT);
	dt = ol_now_ms() - t0;
	assert_in_range(dt, 300 - 10, 300 + SLACK_MS);
	assert_int_equal(fx->upneeded_calls,
	    status == CTAPHID_STATUS_UPNEEDED ? 1 : 0);

	/* the channel still works (leftover keepalives are drained) */
	assert_ping_ok(fx, 30);
	fx_check_end(fx);
	assert_int_equal(fx->ka_result, 1); /* the device saw our CANCEL */
	assert_int_equal(fake_dev_ncmd(fx->dev, CTAPHID_CANCEL), 1);
	get_req(fx, CTAPHID_CANCEL, 0, req);
	assert_int_equal(req->cid, FX_CID);
	assert_int_equal(req->len, 0);
	free(req);
}

static void
test_upneeded_user_timeout(void **state)
{
	user_timeout_case(*state, CTAPHID_STATUS_UPNEEDED);
}

static void
test_processing_user_timeout(void **state)
{
	user_timeout_case(*state, CTAPHID_STATUS_PROCESSING);
}

/* A device that never answers the request it was told to cancel: its
 * answer may still come, on the next request.  The channel is given up
 * (the session with it) until a new INIT. */
static void
test_cancel_unanswered_gives_up_channel(void **state)
{
	struct fx *fx = *state;
	size_t resp_len;
	int same;

	fx->ka_status = CTAPHID_STATUS_UPNEEDED;
	fx->mute_after_cancel = 1;
	fx_start(fx, h_keepalive_forever, 300, BUSY_MS, REPLY_MS);
	assert_int_equal(ping(fx, 30, 30, &resp_len, &same),
	    OL_ERR_USER_TIMEOUT);
	assert_true(ol_ctap_session_lost(fx->ctap));
	assert_int_equal(ping(fx, 30, 30, &resp_len, &same),
	    OL_ERR_SESSION_LOST);
	assert_int_equal(ol_ctap_init(fx->ctap), OL_OK);
	assert_false(ol_ctap_session_lost(fx->ctap));
	assert_ping_ok(fx, 30);
	fx_check_end(fx);
	assert_int_equal(fake_dev_ncmd(fx->dev, CTAPHID_PING), 2);
}

/* The device asks for a touch on the first two PINGs and never gets one. */
#define UPNEEDED_LIMIT_MS 1500
static void
h_upneeded_twice(struct fake_dev *dev, const struct fake_req *req, void *arg)
{
	struct fx *fx = arg;

	note_request(fx, req);
	if (req->cmd == CTAPHID_PING && fx->nseen++ < 2) {
		fx->ka_result = fake_keepalives(dev, req->cid,
		    CTAPHID_STATUS_UPNEEDED, 20, -1);
		if (fx->ka_result == 1)
			fake_send_error(dev, req->cid, 0x2d);
		return;
	}
	std_reply(fx, dev, req);
}

/* An application retrying right after an unanswered confirmation is not
 * made to wait the whole limit again: the retry is cancelled at once. */
static void
test_unanswered_not_asked_again(void **state)
{
	struct fx *fx = *state;
	size_t resp_len;
	int64_t t0, dt;
	int same;

	fx_start(fx, h_upneeded_twice, UPNEEDED_LIMIT_MS, BUSY_MS, REPLY_MS);
	t0 = ol_now_ms();
	assert_int_equal(ping(fx, 30, 30, &resp_len, &same),
	    OL_ERR_USER_TIMEOUT);
	dt = ol_now_ms() - t0;
	assert_in_range(dt, UPNEEDED_LIMIT_MS - 10,
	    UPNEEDED_LIMIT_MS + SLACK_MS);

	t0 = ol_now_ms();
	assert_int_equal(ping(fx, 30, 30, &resp_len, &same),
	    OL_ERR_USER_TIMEOUT);
	dt = ol_now_ms() - t0;
	/* the first keepalive, CANCEL, and the answer to the CANCEL: never
	 * the limit again */
	assert_true(dt < UPNEEDED_LIMIT_MS);

	/* requests that need no touch are not affected */
	assert_ping_ok(fx, 30);
	fx_check_end(fx);
	assert_int_equal(fake_dev_ncmd(fx->dev, CTAPHID_CANCEL), 2);
}

/* CHANNEL_BUSY: the whole request is sent again after a back-off. */
static void
h_busy(struct fake_dev *dev, const struct fake_req *req, void *arg)
{
	struct fx *fx = arg;

	note_request(fx, req);
	if (req->cmd == CTAPHID_PING && fx->busy_left != 0) {
		if (fx->busy_left > 0)
			fx->busy_left--;
		fake_send_error(dev, req->cid, CTAPHID_ERR_CHANNEL_BUSY);
		return;
	}
	std_reply(fx, dev, req);
}

static void
test_busy_then_success(void **state)
{
	struct fx *fx = *state;
	struct fake_req *req = malloc(sizeof(*req));
	uint8_t expect[100];
	size_t i;

	assert_non_null(req);
	fx->busy_left = 2;
	fx_start_default(fx, h_busy);
	assert_ping_ok(fx, sizeof(expect));
	fx_check_end(fx);
	assert_int_equal(fake_dev_ncmd(fx->dev, CTAPHID_PING), 3);
	fill_pattern(expect, sizeof(expect), sizeof(expect));
	for (i = 0; i < 3; i++) {
		get_req(fx, CTAPHID_PING, i, req);
		assert_int_equal(req->len, sizeof(expect));
		assert_memory_equal(req->data, expect, sizeof(expect));
	}
	free(req);
}

static void
test_busy_forever(void **state)
{
	struct fx *fx = *state;
	size_t resp_len, n;
	int64_t t0, dt;
	int same;

	fx->busy_left = -1;
	fx_start(fx, h_busy, USER_MS, 300, REPLY_MS);
	t0 = ol_now_ms();
	assert_int_equal(ping(fx, 10, 10, &resp_len, &same), OL_ERR_BUSY);
	dt = ol_now_ms() - t0;
	/* "about" busy_timeout_ms: a last back-off may be cut short */
	assert_in_range(dt, 300 * 3 / 4, 300 + REPLY_MS + SLACK_MS);
	fx_check_end(fx);
	/* retried, with a back-off rather than a busy loop */
	n = fake_dev_ncmd(fx->dev, CTAPHID_PING);
	assert_in_range(n, 2, 100);
}

/* Another program holds the flock: OL_ERR_BUSY after busy_timeout_ms,
 * nothing sent; once it lets go, the exchange works. */
static void
test_lock_held_elsewhere(void **state)
{
	struct fx *fx = *state;
	size_t resp_len;
	int64_t t0, dt;
	int fd, same;

	fx_start(fx, h_std, USER_MS, 200, REPLY_MS);
	fd = open(fake_dev_lock_path(fx->dev), O_RDWR);
	assert_true(fd >= 0);
	assert_int_equal(flock(fd, LOCK_EX | LOCK_NB), 0);
	t0 = ol_now_ms();
	assert_int_equal(ping(fx, 10, 10, &resp_len, &same), OL_ERR_BUSY);
	dt = ol_now_ms() - t0;
	assert_in_range(dt, 200 * 3 / 4, 200 + SLACK_MS);
	assert_int_equal(fake_dev_nreq(fx->dev), 0);
	flock(fd, LOCK_UN);
	close(fd);
	assert_ping_ok(fx, 10);
	fx_check_end(fx);
}

/* A reply announcing more than CTAPHID can carry (BCNT 0xffff > 7609) is
 * refused at once, however large the caller's buffer: it cannot be
 * completed, so waiting for the rest would only end in a timeout. */
static void
h_bcnt_over_max(struct fake_dev *dev, const struct fake_req *req, void *arg)
{
	struct fx *fx = arg;
	uint8_t report[CTAPHID_REPORT_LEN];

	note_request(fx, req);
	if (req->cmd != CTAPHID_PING) {
		std_reply(fx, dev, req);
		return;
	}
	ctaphid_packet_build(req->cid, CTAPHID_PING, req->data, req->len, 0,
	    report);
	report[5] = 0xff;
	report[6] = 0xff;
	fake_send_report(dev, report);
}

static void
test_reply_bcnt_over_max(void **state)
{
	struct fx *fx = *state;
	size_t resp_len;
	int64_t t0, dt;
	int r, same;

	fx_start_default(fx, h_bcnt_over_max);
	t0 = ol_now_ms();
	r = ping(fx, 5, 65536, &resp_len, &same);
	dt = ol_now_ms() - t0;
	assert_true(r == OL_ERR_PROTOCOL || r == OL_ERR_TOO_LONG);
	assert_in_range(dt, 0, REPLY_MS - 50);
	fx_check_end(fx);
}

/* Reply packets out of order. */
struct seq_spoiler {
	struct fake_dev *dev;
	int corrupt;          /* as fx->corrupt */
	size_t idx;           /* reports emitted so far */
};

static int
emit_bad_seq(void *arg, const uint8_t report[CTAPHID_REPORT_LEN])
{
	struct seq_spoiler *sp = arg;
	uint8_t r[CTAPHID_REPORT_LEN];

	memcpy(r, report, sizeof(r));
	if (sp->idx == 1 && sp->corrupt == 1)
		r[4] = 1; /* SEQ 0 skipped */
	if (sp->idx == 2 && sp->corrupt == 2)
		r[4] = 0; /* SEQ 0 again */
	sp->idx++;
	fake_send_report(sp->dev, r);
	return OL_OK;
}

static void
h_bad_seq(struct fake_dev *dev, const struct fake_req *req, void *arg)
{
	struct fx *fx = arg;
	struct seq_spoiler sp = { dev, fx->corrupt, 0 };

	note_request(fx, req);
	if (req->cmd != CTAPHID_PING) {
		std_reply(fx, dev, req);
		return;
	}
	ctaphid_fragment(req->cid, CTAPHID_PING, req->data, req->len,
	    emit_bad_seq, &sp);
}

static void
test_wrong_seq_skipped(void **state)
{
	struct fx *fx = *state;
	size_t resp_len;
	int same;

	fx->corrupt = 1;
	fx_start_default(fx, h_bad_seq);
	assert_int_equal(ping(fx, 100, 100, &resp_len, &same),
	    OL_ERR_PROTOCOL);
	fx_check_end(fx);
}

static void
test_wrong_seq_repeated(void **state)
{
	struct fx *fx = *state;
	size_t resp_len;
	int same;

	fx->corrupt = 2;
	fx_start_default(fx, h_bad_seq);
	assert_int_equal(ping(fx, 200, 200, &resp_len, &same),
	    OL_ERR_PROTOCOL);
	fx_check_end(fx);
}

/* Silence: after a truncated reply, to a request, to INIT. */
static void
h_truncated(struct fake_dev *dev, const struct fake_req *req, void *arg)
{
	struct fx *fx = arg;

	note_request(fx, req);
	if (req->cmd == CTAPHID_PING)
		fake_send_msg_part(dev, req->cid, CTAPHID_PING, req->data,
		    req->len, 1); /* init packet promising 100 bytes */
	else
		std_reply(fx, dev, req);
}

static void
h_mute_ping(struct fake_dev *dev, const struct fake_req *req, void *arg)
{
	struct fx *fx = arg;

	note_request(fx, req);
	if (req->cmd != CTAPHID_PING)
		std_reply(fx, dev, req);
}

static void
h_mute(struct fake_dev *dev, const struct fake_req *req, void *arg)
{
	(void)dev;
	note_request(arg, req);
}

static void
timeout_case(struct fx *fx, fake_handler_t *handler)
{
	size_t resp_len;
	int64_t t0, dt;
	int same;

	fx_start_default(fx, handler);
	t0 = ol_now_ms();
	assert_int_equal(ping(fx, 100, 100, &resp_len, &same), OL_ERR_TIMEOUT);
	dt = ol_now_ms() - t0;
	/* the INIT exchange (if answered) costs nothing: one silence only */
	assert_in_range(dt, REPLY_MS - 10, REPLY_MS + SLACK_MS);
	fx_check_end(fx);
}

static void
test_truncated_reply_timeout(void **state)
{
	timeout_case(*state, h_truncated);
}

static void
test_no_answer_timeout(void **state)
{
	struct fx *fx = *state;

	timeout_case(fx, h_mute_ping);
	assert_int_equal(fake_dev_ncmd(fx->dev, CTAPHID_PING), 1);
}

/* Other channels' traffic is not an answer: it does not extend the wait. */
static void
h_foreign_chatter(struct fake_dev *dev, const struct fake_req *req,
    void *arg)
{
	struct fx *fx = arg;

	note_request(fx, req);
	if (req->cmd == CTAPHID_PING)
		fake_keepalives(dev, FOREIGN_CID, CTAPHID_STATUS_PROCESSING,
		    REPLY_MS / 5, 3 * REPLY_MS);
	else
		std_reply(fx, dev, req);
}

static void
test_foreign_chatter_timeout(void **state)
{
	timeout_case(*state, h_foreign_chatter);
}

static void
test_init_no_answer_timeout(void **state)
{
	struct fx *fx = *state;

	timeout_case(fx, h_mute);
	assert_int_equal(fake_dev_ncmd(fx->dev, CTAPHID_PING), 0);
}

/* The device rebooted and forgot our channel: INVALID_CHANNEL ends the
 * session.  The request is not sent again on a new channel (it would run
 * in a new session), and nothing is sent until ol_ctap_init() starts a
 * new session on purpose. */
static void
h_forget_channel(struct fake_dev *dev, const struct fake_req *req,
    void *arg)
{
	struct fx *fx = arg;

	note_request(fx, req);
	/* PINGs after the first nseen ones, invalid_left times (-1: always) */
	if (req->cmd == CTAPHID_PING && fx->nseen++ >= 1 &&
	    fx->invalid_left != 0) {
		if (fx->invalid_left > 0)
			fx->invalid_left--;
		fx->cur_cid = 0; /* rebooted: no channel is valid any more */
		fake_send_error(dev, req->cid, CTAPHID_ERR_INVALID_CHANNEL);
		return;
	}
	std_reply(fx, dev, req);
}

static void
test_invalid_channel_session_lost(void **state)
{
	struct fx *fx = *state;
	struct fake_req *r1 = malloc(sizeof(*r1)), *r2 = malloc(sizeof(*r2));
	size_t resp_len;
	int same;

	assert_non_null(r1);
	assert_non_null(r2);
	fx->invalid_left = 1;
	fx_start_default(fx, h_forget_channel);
	assert_ping_ok(fx, 5);
	assert_int_equal(ping(fx, 80, 80, &resp_len, &same),
	    OL_ERR_SESSION_LOST);
	assert_int_equal(ol_ctap_last_error(fx->ctap),
	    CTAPHID_ERR_INVALID_CHANNEL);
	/* the session is over: refused without a byte sent */
	assert_int_equal(ping(fx, 7, 7, &resp_len, &same),
	    OL_ERR_SESSION_LOST);
	/* a new session on purpose: a fresh nonce, a new channel */
	assert_int_equal(ol_ctap_init(fx->ctap), OL_OK);
	assert_int_equal(ol_ctap_info(fx->ctap)->cid, FX_CID + 1);
	assert_ping_ok(fx, 80);
	fx_check_end(fx);
	assert_int_equal(fake_dev_ncmd(fx->dev, CTAPHID_INIT), 2);
	assert_int_equal(fake_dev_ncmd(fx->dev, CTAPHID_PING), 3);
	get_req(fx, CTAPHID_INIT, 0, r1);
	get_req(fx, CTAPHID_INIT, 1, r2);
	assert_memory_not_equal(r1->data, r2->data, CTAPHID_NONCE_LEN);
	/* PINGs: 5 (ok), 80 (lost), then 80 on the new channel; the 7 was
	 * never sent, the lost 80 never again on the old one */
	get_req(fx, CTAPHID_PING, 1, r1);
	assert_int_equal(r1->cid, FX_CID);
	get_req(fx, CTAPHID_PING, 2, r1);
	assert_int_equal(r1->cid, FX_CID + 1);
	assert_int_equal(r1->len, 80);
	free(r1);
	free(r2);
}

/* A device that forgets the channel at once: the first request fails
 * with the session, and is sent exactly once. */
static void
test_invalid_channel_never_replayed(void **state)
{
	struct fx *fx = *state;
	size_t resp_len;
	int same;

	fx->invalid_left = -1;
	fx->nseen = 1; /* INVALID_CHANNEL from the first PING on */
	fx_start_default(fx, h_forget_channel);
	assert_int_equal(ping(fx, 5, 5, &resp_len, &same),
	    OL_ERR_SESSION_LOST);
	fx_check_end(fx);
	assert_int_equal(fake_dev_ncmd(fx->dev, CTAPHID_INIT), 1);
	assert_int_equal(fake_dev_ncmd(fx->dev, CTAPHID_PING), 1);
}

/* Any other ERROR is the device's answer. */
static void
h_invalid_len(struct fake_dev *dev, const struct fake_req *req, void *arg)
{
	struct fx *fx = arg;

	note_request(fx, req);
	if (req->cmd == CTAPHID_PING)
		fake_send_error(dev, req->cid, CTAPHID_ERR_INVALID_LEN);
	else
		std_reply(fx, dev, req);
}

static void
test_device_error(void **state)
{
	struct fx *fx = *state;
	size_t resp_len;
	int same;

	fx_start_default(fx, h_invalid_len);
	assert_int_equal(ping(fx, 5, 5, &resp_len, &same), OL_ERR_DEVICE);
	assert_int_equal(ol_ctap_last_error(fx->ctap), CTAPHID_ERR_INVALID_LEN);
	fx_check_end(fx);
	assert_int_equal(fake_dev_ncmd(fx->dev, CTAPHID_PING), 1);
}

/* A reply of another command than the request. */
static void
h_wrong_cmd(struct fake_dev *dev, const struct fake_req *req, void *arg)
{
	struct fx *fx = arg;

	note_request(fx, req);
	if (req->cmd == CTAPHID_PING)
		fake_send_msg(dev, req->cid, CTAPHID_MSG, req->data, req->len);
	else
		std_reply(fx, dev, req);
}

static void
test_wrong_reply_cmd(void **state)
{
	struct fx *fx = *state;
	size_t resp_len;
	int same;

	fx_start_default(fx, h_wrong_cmd);
	assert_int_equal(ping(fx, 5, 5, &resp_len, &same), OL_ERR_PROTOCOL);
	fx_check_end(fx);
}

/* The device goes away in the middle of an exchange: reported at once,
 * not after reply_timeout_ms. */
static void
h_hangup(struct fake_dev *dev, const struct fake_req *req, void *arg)
{
	struct fx *fx = arg;

	note_request(fx, req);
	if (req->cmd == CTAPHID_PING)
		fake_dev_hangup(dev);
	else
		std_reply(fx, dev, req);
}

static void
test_peer_gone_during_exchange(void **state)
{
	struct fx *fx = *state;
	size_t resp_len;
	int64_t t0, dt;
	int same;

	fx_start(fx, h_hangup, USER_MS, BUSY_MS, 2000);
	t0 = ol_now_ms();
	assert_int_equal(ping(fx, 5, 5, &resp_len, &same), OL_ERR_GONE);
	dt = ol_now_ms() - t0;
	assert_in_range(dt, 0, 1000);
	fx_check_end(fx);
}

/* ... or before it: the write fails, and must not raise SIGPIPE. */
static void
test_peer_gone_before_exchange(void **state)
{
	struct fx *fx = *state;
	size_t resp_len;
	int same;

	fx_start(fx, h_std, USER_MS, BUSY_MS, 2000);
	assert_ping_ok(fx, 5);
	fake_dev_hangup(fx->dev);
	assert_int_equal(ping(fx, 5, 5, &resp_len, &same), OL_ERR_GONE);
	assert_int_equal(sigpipes, 0);
	fx_check_end(fx);
}

/* Reports queued while nobody listened (an earlier exchange's late
 * answer, with our CID and our command) must not be taken as the answer. */
static void
test_stale_reports_drained(void **state)
{
	static const uint8_t stale[] = "STALE";
	struct fx *fx = *state;
	uint32_t cid;

	fx_start_default(fx, h_std);
	assert_ping_ok(fx, 5);
	cid = ol_ctap_info(fx->ctap)->cid;
	assert_int_equal(fake_send_msg(fx->dev, cid, CTAPHID_PING, stale, 5), 0);
	assert_int_equal(fake_send_error(fx->dev, cid,
	    CTAPHID_ERR_INVALID_LEN), 0);
	assert_int_equal(fake_send_keepalive(fx->dev, cid,
	    CTAPHID_STATUS_UPNEEDED), 0);
	assert_ping_ok(fx, 5); /* same length, other content than "STALE" */
	assert_int_equal(fx->upneeded_calls, 0);
	fx_check_end(fx);
	assert_int_equal(fake_dev_ncmd(fx->dev, CTAPHID_PING), 2);
}

/* APDUs: vendor command 0x70, the answer ends with SW1 SW2. */
static void
test_apdu_round_trip(void **state)
{
	static const uint8_t select[] = { 0x00, 0xa4, 0x04, 0x00, 0x05, 0xa0,
	    0x00, 0x00, 0x03, 0x08 };
	static const uint8_t answer[] = { 0x61, 0x11, 0x4f, 0x90, 0x00 };
	struct fx *fx = *state;
	struct fake_req *req = malloc(sizeof(*req));
	uint8_t rapdu[sizeof(answer)];
	size_t rlen = 0;

	assert_non_null(req);
	memcpy(fx->apdu_resp, answer, sizeof(answer));
	fx->apdu_resp_len = sizeof(answer);
	fx_start_default(fx, h_std);
	assert_int_equal(ol_ctap_apdu(fx->ctap, select, sizeof(select), rapdu,
	    sizeof(rapdu), &rlen), OL_OK);
	assert_int_equal(rlen, sizeof(answer));
	assert_memory_equal(rapdu, answer, sizeof(answer));
	fx_check_end(fx);
	get_req(fx, CTAPHID_OPENLOOP_APDU, 0, req);
	assert_int_equal(req->len, sizeof(select));
	assert_memory_equal(req->data, select, sizeof(select));
	free(req);
}

static void
test_apdu_short_response(void **state)
{
	static const uint8_t capdu[] = { 0x00, 0xca, 0x00, 0x6e, 0x00 };
	struct fx *fx = *state;
	uint8_t rapdu[16];
	size_t rlen;

	fx_start_default(fx, h_std);
	fx->apdu_resp[0] = 0x90; /* device thread idle: safe to change */
	fx->apdu_resp_len = 1;
	assert_int_equal(ol_ctap_apdu(fx->ctap, capdu, sizeof(capdu), rapdu,
	    sizeof(rapdu), &rlen), OL_ERR_PROTOCOL);
	fx->apdu_resp_len = 0;
	assert_int_equal(ol_ctap_apdu(fx->ctap, capdu, sizeof(capdu), rapdu,
	    sizeof(rapdu), &rlen), OL_ERR_PROTOCOL);
	/* exactly SW1 SW2 is a complete answer */
	fx->apdu_resp[0] = 0x6a;
	fx->apdu_resp[1] = 0x82;
	fx->apdu_resp_len = 2;
	assert_int_equal(ol_ctap_apdu(fx->ctap, capdu, sizeof(capdu), rapdu,
	    sizeof(rapdu), &rlen), OL_OK);
	assert_int_equal(rlen, 2);
	assert_int_equal(rapdu[0], 0x6a);
	assert_int_equal(rapdu[1], 0x82);
	fx_check_end(fx);
	assert_int_equal(fake_dev_ncmd(fx->dev, CTAPHID_OPENLOOP_APDU), 3);
}

#define FX_TEST(f) cmocka_unit_test_setup_teardown(f, fx_setup, fx_teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		FX_TEST(test_init_info),
		FX_TEST(test_ping_sizes),
		FX_TEST(test_request_too_long),
		FX_TEST(test_reply_over_buffer),
		FX_TEST(test_foreign_cid_interleaved),
		FX_TEST(test_init_wrong_nonce_ignored),
		FX_TEST(test_init_short_reply_not_taken),
		FX_TEST(test_keepalive_then_success),
		FX_TEST(test_upneeded_user_timeout),
		FX_TEST(test_processing_user_timeout),
		FX_TEST(test_unanswered_not_asked_again),
		FX_TEST(test_busy_then_success),
		FX_TEST(test_busy_forever),
		FX_TEST(test_lock_held_elsewhere),
		FX_TEST(test_reply_bcnt_over_max),
		FX_TEST(test_wrong_seq_skipped),
		FX_TEST(test_wrong_seq_repeated),
		FX_TEST(test_truncated_reply_timeout),
		FX_TEST(test_no_answer_timeout),
		FX_TEST(test_foreign_chatter_timeout),
		FX_TEST(test_init_no_answer_timeout),
		FX_TEST(test_cancel_unanswered_gives_up_channel),
		FX_TEST(test_invalid_channel_session_lost),
		FX_TEST(test_invalid_channel_never_replayed),
		FX_TEST(test_device_error),
		FX_TEST(test_wrong_reply_cmd),
		FX_TEST(test_peer_gone_during_exchange),
		FX_TEST(test_peer_gone_before_exchange),
		FX_TEST(test_stale_reports_drained),
		FX_TEST(test_apdu_round_trip),
		FX_TEST(test_apdu_short_response),
	};
	struct sigaction sa;

	/* count SIGPIPE instead of dying of it: the library must not raise it */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sigpipe;
	sigaction(SIGPIPE, &sa, NULL);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
