/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The host side of CTAPHID on one HID handle.
 *
 * The node is shared with browsers and libfido2: every client sees every
 * input report, so we skip other channels' reports everywhere, drain what
 * piled up while we were idle, and hold the node's flock only for the
 * duration of one exchange, as libfido2 does.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "ctaphid.h"
#include "ctaphid_host.h"
#include "ctaphid_msg.h"
#include "ol_err.h"
#include "ol_log.h"
#include "timeutil.h"

#define BUSY_BACKOFF_FIRST_MS 10
#define BUSY_BACKOFF_MAX_MS   250

/*
 * After a confirmation went unanswered (cancelled at the user limit),
 * applications retry: OpenSC retries a signature, pkcs11-tool retries
 * through another PKCS#11 path, so one command would ask the user four
 * times, four minutes in all.  A device that asks again this soon is
 * cancelled at once: the user is asked once.
 */
#define UNANSWERED_QUIET_MS   5000

struct ol_ctap {
	ol_hid_t *hid;
	struct ol_ctap_opts opts;
	int default_user_timeout_ms;
	struct ol_ctap_info info;
	int have_channel;
	/* the channel went away (device restarted, unplugged): no exchange
	 * until ol_ctap_init() starts a new session on purpose, so that no
	 * command of the old session runs in a new one */
	int session_lost;
	uint8_t last_error;
	int64_t quiet_until;    /* see UNANSWERED_QUIET_MS */
	ol_ctap_upneeded_cb_t *upneeded_cb;
	void *upneeded_arg;
};

/* What one reception waits for and remembers. */
struct rx {
	uint32_t cid;
	int64_t user_deadline;  /* keepalives are accepted until then */
	int upneeded_seen;
	uint8_t cmd;            /* out: command of the reply */
	size_t len;             /* out: payload length */
};

void
ol_ctap_default_opts(struct ol_ctap_opts *opts)
{
	opts->user_timeout_ms = OL_CTAP_DEFAULT_USER_TIMEOUT_MS;
	opts->busy_timeout_ms = OL_CTAP_DEFAULT_BUSY_TIMEOUT_MS;
	opts->reply_timeout_ms = OL_CTAP_DEFAULT_REPLY_TIMEOUT_MS;
}

int
ol_ctap_new(ol_hid_t *hid, const struct ol_ctap_opts *opts, ol_ctap_t **out)
{
	ol_ctap_t *c;

	if (hid == NULL || out == NULL)
		return OL_ERR_ARG;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return OL_ERR_NOMEM;
	c->hid = hid;
	if (opts != NULL)
		c->opts = *opts;
	else
		ol_ctap_default_opts(&c->opts);
	if (c->opts.user_timeout_ms <= 0)
		c->opts.user_timeout_ms = OL_CTAP_DEFAULT_USER_TIMEOUT_MS;
	c->default_user_timeout_ms = c->opts.user_timeout_ms;
	if (c->opts.busy_timeout_ms < 0)
		c->opts.busy_timeout_ms = OL_CTAP_DEFAULT_BUSY_TIMEOUT_MS;
	if (c->opts.reply_timeout_ms <= 0)
		c->opts.reply_timeout_ms = OL_CTAP_DEFAULT_REPLY_TIMEOUT_MS;
	*out = c;
	return OL_OK;
}

int
ol_ctap_session_lost(const ol_ctap_t *c)
{
	return c != NULL && c->session_lost;
}

int
ol_ctap_set_user_timeout(ol_ctap_t *c, int ms)
{
	int old;

	if (c == NULL)
		return 0;
	old = c->opts.user_timeout_ms;
	c->opts.user_timeout_ms = ms > 0 ? ms : c->default_user_timeout_ms;
	return old;
}

void
ol_ctap_free(ol_ctap_t **cp)
{
	if (cp == NULL || *cp == NULL)
		return;
	free(*cp);
	*cp = NULL;
}

void
ol_ctap_set_upneeded_cb(ol_ctap_t *c, ol_ctap_upneeded_cb_t *cb, void *arg)
{
	c->upneeded_cb = cb;
	c->upneeded_arg = arg;
}

const struct ol_ctap_info *
ol_ctap_info(const ol_ctap_t *c)
{
	return c != NULL && c->have_channel ? &c->info : NULL;
}

uint8_t
ol_ctap_last_error(const ol_ctap_t *c)
{
	return c != NULL ? c->last_error : 0;
}

static int
hid_emit(void *arg, const uint8_t report[CTAPHID_REPORT_LEN])
{
	return ol_hid_write(arg, report);
}

static int
send_msg(ol_ctap_t *c, uint32_t cid, uint8_t cmd, const uint8_t *msg,
    size_t len)
{
	return ctaphid_fragment(cid, cmd, msg, len, hid_emit, c->hid);
}

/*
 * Next report of our channel.  Reports of other channels are skipped and
 * do not extend the wait: only the device speaking to us does.
 */
static int
read_own(ol_ctap_t *c, uint32_t cid, int64_t deadline,
    uint8_t report[CTAPHID_REPORT_LEN], struct ctaphid_packet *pkt)
{
	int r;

	for (;;) {
		if ((r = ol_hid_read(c->hid, report, ol_ms_left(deadline))) !=
		    OL_OK)
			return r;
		if ((r = ctaphid_packet_parse(report, CTAPHID_REPORT_LEN,
		    pkt)) != OL_OK)
			return r;
		if (pkt->cid == cid)
			return OL_OK;
	}
}

static int
device_error(ol_ctap_t *c, const struct ctaphid_packet *pkt)
{
	c->last_error = pkt->bcnt >= 1 ? pkt->data[0] : CTAPHID_ERR_OTHER;
	return OL_ERR_DEVICE;
}

/* Waits through keepalives for the init packet of a reply. */
static int
recv_init_packet(ol_ctap_t *c, struct rx *rx,
    uint8_t report[CTAPHID_REPORT_LEN], struct ctaphid_packet *pkt)
{
	int r;

	for (;;) {
		r = read_own(c, rx->cid, ol_now_ms() + c->opts.reply_timeout_ms,
		    report, pkt);
		if (r != OL_OK)
			return r;
		if (!pkt->is_init) {
			ol_log(OL_LOG_COMM, "cid %08x: skipping stray "
			    "continuation packet", rx->cid);
			continue;
		}
		if (pkt->cmd != CTAPHID_KEEPALIVE)
			return OL_OK;
		if (pkt->bcnt >= 1 && pkt->data[0] == CTAPHID_STATUS_UPNEEDED &&
		    ol_now_ms() < c->quiet_until) {
			ol_log(OL_LOG_INFO, "the device asks for a confirmation "
			    "again right after one went unanswered; cancelling");
			return OL_ERR_USER_TIMEOUT;
		}
		if (pkt->bcnt >= 1 && pkt->data[0] == CTAPHID_STATUS_UPNEEDED &&
		    !rx->upneeded_seen) {
			rx->upneeded_seen = 1;
			ol_log(OL_LOG_INFO, "waiting for the user to confirm "
			    "on the device");
			if (c->upneeded_cb != NULL)
				c->upneeded_cb(c->upneeded_arg);
		}
		if (ol_ms_left(rx->user_deadline) == 0)
			return OL_ERR_USER_TIMEOUT;
	}
}

/* What the assembler's verdict on a reply means for the exchange. */
static int
reply_status(const struct rx *rx, const struct ctaphid_asm *a,
    const struct ctaphid_packet *pkt, int st)
{
	switch (st) {
	case CTAPHID_ASM_DONE:
		return OL_OK;
	case CTAPHID_ASM_TOO_LONG:
		ol_log(OL_LOG_CRITICAL, "cid %08x: reply of %zu bytes exceeds "
		    "the buffer of %zu", rx->cid, a->total, a->cap);
		return OL_ERR_TOO_LONG;
	case CTAPHID_ASM_BAD_LEN:
		ol_log(OL_LOG_CRITICAL, "cid %08x: reply announces %zu bytes, "
		    "more than CTAPHID allows", rx->cid, a->total);
		return OL_ERR_PROTOCOL;
	case CTAPHID_ASM_PENDING:
		ol_log(OL_LOG_CRITICAL, "cid %08x: new message (%s) "
		    "inside a reply", rx->cid, ctaphid_cmd_name(pkt->cmd));
		return OL_ERR_PROTOCOL;
	case CTAPHID_ASM_BAD_SEQ:
		ol_log(OL_LOG_CRITICAL, "cid %08x: continuation SEQ %u, "
		    "expected %u", rx->cid, pkt->seq, a->next_seq);
		return OL_ERR_PROTOCOL;
	default:
		ol_log(OL_LOG_CRITICAL, "cid %08x: reply: %s", rx->cid,
		    ctaphid_asm_status_name(st));
		return OL_ERR_PROTOCOL;
	}
}

/*
 * Receives one whole message on rx->cid into buf; report is scratch.
 * Only reports of our channel reach the assembler (read_own), so its
 * verdicts are about our reply alone.
 */
static int
recv_msg_with(ol_ctap_t *c, struct rx *rx, uint8_t *buf, size_t cap,
    uint8_t report[CTAPHID_REPORT_LEN])
{
	struct ctaphid_packet pkt;
	struct ctaphid_asm a;
	int r, st;

	ctaphid_asm_init(&a, buf, cap);
	if ((r = recv_init_packet(c, rx, report, &pkt)) != OL_OK)
		return r;
	if (pkt.cmd == CTAPHID_ERROR)
		return device_error(c, &pkt);
	rx->cmd = pkt.cmd;
	st = ctaphid_asm_start(&a, &pkt);
	while (st == CTAPHID_ASM_MORE) {
		r = read_own(c, rx->cid, ol_now_ms() + c->opts.reply_timeout_ms,
		    report, &pkt);
		if (r != OL_OK) {
			ol_log(OL_LOG_CRITICAL, "cid %08x: reply cut short "
			    "after %zu of %zu bytes: %s", rx->cid, a.got,
			    a.total, ol_strerror(r));
			ctaphid_asm_abort(&a);
			return r;
		}
		if (pkt.is_init && pkt.cmd == CTAPHID_ERROR) {
			ctaphid_asm_abort(&a);
			return device_error(c, &pkt);
		}
		st = ctaphid_asm_feed(&a, &pkt);
	}
	if ((r = reply_status(rx, &a, &pkt, st)) == OL_OK)
		rx->len = a.total;
	return r;
}

static int
recv_msg(ol_ctap_t *c, struct rx *rx, uint8_t *buf, size_t cap)
{
	uint8_t report[CTAPHID_REPORT_LEN];
	int r;

	r = recv_msg_with(c, rx, buf, cap, report);
	/* the last report held part of the message: a PIN, a key */
	explicit_bzero(report, sizeof(report));
	return r;
}

/* INIT on the broadcast channel; the caller holds the lock. */
static int
init_locked(ol_ctap_t *c)
{
	uint8_t nonce[CTAPHID_NONCE_LEN], resp[CTAPHID_MAX_MSG];
	int64_t deadline;
	struct rx rx;
	int r;

	c->have_channel = 0;
	if (getrandom(nonce, sizeof(nonce), 0) != (ssize_t)sizeof(nonce))
		return OL_ERR_IO;
	if ((r = send_msg(c, CTAPHID_CID_BROADCAST, CTAPHID_INIT, nonce,
	    sizeof(nonce))) != OL_OK)
		return r;

	/* Other programs allocate channels too, and we see their replies:
	 * only the one with our nonce is ours. */
	deadline = ol_now_ms() + c->opts.reply_timeout_ms;
	for (;;) {
		if (ol_ms_left(deadline) == 0)
			return OL_ERR_TIMEOUT;
		memset(&rx, 0, sizeof(rx));
		rx.cid = CTAPHID_CID_BROADCAST;
		rx.user_deadline = deadline;
		if ((r = recv_msg(c, &rx, resp, sizeof(resp))) != OL_OK)
			return r;
		if (rx.cmd != CTAPHID_INIT || rx.len < CTAPHID_INIT_RESP_LEN ||
		    memcmp(resp, nonce, sizeof(nonce)) != 0)
			continue;
		break;
	}
	c->info.cid = (uint32_t)resp[8] << 24 | (uint32_t)resp[9] << 16 |
	    (uint32_t)resp[10] << 8 | resp[11];
	c->info.protocol = resp[12];
	c->info.major = resp[13];
	c->info.minor = resp[14];
	c->info.build = resp[15];
	c->info.caps = resp[16];
	if (c->info.cid == 0 || c->info.cid == CTAPHID_CID_BROADCAST) {
		ol_log(OL_LOG_CRITICAL, "device allocated the reserved "
		    "channel %08x", c->info.cid);
		return OL_ERR_PROTOCOL;
	}
	c->have_channel = 1;
	ol_log(OL_LOG_INFO, "%s: channel %08x, CTAPHID protocol %u, device "
	    "version %u.%u.%u, capabilities %02x", ol_hid_name(c->hid),
	    c->info.cid, c->info.protocol, c->info.major, c->info.minor,
	    c->info.build, c->info.caps);
	return OL_OK;
}

int
ol_ctap_init(ol_ctap_t *c)
{
	int r;

	if (c == NULL)
		return OL_ERR_ARG;
	if ((r = ol_hid_lock(c->hid, c->opts.busy_timeout_ms)) != OL_OK)
		return r;
	if ((r = ol_hid_drain(c->hid)) >= 0)
		r = init_locked(c);
	if (r == OL_OK)
		c->session_lost = 0;
	ol_hid_unlock(c->hid);
	return r;
}

/* After a cancelled request the device still answers it; wait for that
 * answer so that it cannot be taken for the reply to the next one.
 * OL_OK once it came. */
static int
cancel_locked(ol_ctap_t *c)
{
	uint8_t resp[CTAPHID_MAX_MSG];
	struct rx rx;
	int r;

	if ((r = send_msg(c, c->info.cid, CTAPHID_CANCEL, NULL, 0)) != OL_OK)
		return r;
	memset(&rx, 0, sizeof(rx));
	rx.cid = c->info.cid;
	rx.user_deadline = ol_now_ms() + c->opts.reply_timeout_ms;
	r = recv_msg(c, &rx, resp, sizeof(resp));
	explicit_bzero(resp, sizeof(resp));
	/* an ERROR, or a reply too long for the buffer (read to its end),
	 * is the answer as well */
	return r == OL_ERR_TOO_LONG || r == OL_ERR_DEVICE ? OL_OK : r;
}

/*
 * The channel may still carry an answer we no longer wait for (a reply
 * after our time-out, the rest of a message cut short): the next request
 * on it could take that answer for its own.  The channel is given up,
 * and with it the session, as after a device restart.
 */
static void
give_up_channel(ol_ctap_t *c, int why)
{
	ol_log(OL_LOG_CRITICAL, "%s: channel %08x may still deliver an "
	    "answer to a request we gave up (%s): the card session is ended",
	    ol_hid_name(c->hid), c->info.cid, ol_strerror(why));
	c->have_channel = 0;
	c->session_lost = 1;
}

static int
exchange_locked(ol_ctap_t *c, uint8_t cmd, const uint8_t *req,
    size_t req_len, uint8_t *resp, size_t resp_cap, struct rx *rx)
{
	int r;

	if (!c->have_channel) {
		if (c->session_lost)
			return OL_ERR_SESSION_LOST;
		/* a first exchange without ol_ctap_init() (tools) */
		if ((r = init_locked(c)) != OL_OK)
			return r;
	}
	if ((r = send_msg(c, c->info.cid, cmd, req, req_len)) != OL_OK)
		return r;
	memset(rx, 0, sizeof(*rx));
	rx->cid = c->info.cid;
	rx->user_deadline = ol_now_ms() + c->opts.user_timeout_ms;
	return recv_msg(c, rx, resp, resp_cap);
}

int
ol_ctap_transact(ol_ctap_t *c, uint8_t cmd, const uint8_t *req,
    size_t req_len, uint8_t *resp, size_t resp_cap, size_t *resp_len)
{
	int64_t busy_deadline;
	int backoff = BUSY_BACKOFF_FIRST_MS, r;
	struct rx rx;

	if (c == NULL || (req == NULL && req_len > 0) || resp_len == NULL ||
	    (resp == NULL && resp_cap > 0))
		return OL_ERR_ARG;
	*resp_len = 0;
	c->last_error = 0;
	if (req_len > CTAPHID_MAX_MSG) {
		ol_log(OL_LOG_CRITICAL, "request of %zu bytes exceeds the "
		    "CTAPHID limit of %d", req_len, CTAPHID_MAX_MSG);
		return OL_ERR_TOO_LONG;
	}
	if ((r = ol_hid_lock(c->hid, c->opts.busy_timeout_ms)) != OL_OK) {
		ol_log(OL_LOG_CRITICAL, "%s: another program holds the device "
		    "lock: %s", ol_hid_name(c->hid), ol_strerror(r));
		return r;
	}
	busy_deadline = ol_now_ms() + c->opts.busy_timeout_ms;
	for (;;) {
		if ((r = ol_hid_drain(c->hid)) < 0)
			break;
		r = exchange_locked(c, cmd, req, req_len, resp, resp_cap, &rx);
		if (r == OL_ERR_DEVICE &&
		    c->last_error == CTAPHID_ERR_CHANNEL_BUSY) {
			/* Another program's transaction is running: wait
			 * for it, not for ever. */
			if (ol_ms_left(busy_deadline) == 0) {
				r = OL_ERR_BUSY;
				break;
			}
			ol_sleep_ms(backoff < ol_ms_left(busy_deadline) ?
			    backoff : ol_ms_left(busy_deadline));
			if (backoff < BUSY_BACKOFF_MAX_MS)
				backoff *= 2;
			continue;
		}
		if (r == OL_ERR_DEVICE &&
		    c->last_error == CTAPHID_ERR_INVALID_CHANNEL) {
			/* The device forgot our channel (it rebooted): what
			 * this request belonged to is gone with it, and sent
			 * again on a new channel it would run in a new
			 * session.  The caller hears it; nothing is resent. */
			ol_log(OL_LOG_CRITICAL, "%s: the device no longer "
			    "knows channel %08x (it restarted?): the card "
			    "session is lost", ol_hid_name(c->hid),
			    c->info.cid);
			c->have_channel = 0;
			c->session_lost = 1;
			r = OL_ERR_SESSION_LOST;
		}
		break;
	}
	if (r == OL_ERR_USER_TIMEOUT) {
		if (ol_now_ms() >= c->quiet_until)
			ol_log(OL_LOG_CRITICAL, "no confirmation on the device "
			    "within %d s; cancelling",
			    c->opts.user_timeout_ms / 1000);
		if (cancel_locked(c) != OL_OK)
			give_up_channel(c, r);
		c->quiet_until = ol_now_ms() + UNANSWERED_QUIET_MS;
	}
	if (r == OL_OK && rx.cmd != cmd) {
		ol_log(OL_LOG_CRITICAL, "cid %08x: reply is %s, request was %s",
		    c->info.cid, ctaphid_cmd_name(rx.cmd), ctaphid_cmd_name(cmd));
		r = OL_ERR_PROTOCOL;
	}
	if (r == OL_OK)
		*resp_len = rx.len;
	else if (r == OL_ERR_DEVICE)
		ol_log(OL_LOG_CRITICAL, "%s: device answered CTAPHID error "
		    "0x%02x (%s)", ol_hid_name(c->hid), c->last_error,
		    ctaphid_error_name(c->last_error));
	else if (r != OL_ERR_USER_TIMEOUT && r != OL_ERR_SESSION_LOST)
		ol_log(OL_LOG_CRITICAL, "%s: %s %s", ol_hid_name(c->hid),
		    ctaphid_cmd_name(cmd), ol_strerror(r));
	if (r == OL_ERR_GONE) {
		c->have_channel = 0;
		c->session_lost = 1;
	} else if ((r == OL_ERR_TIMEOUT || r == OL_ERR_PROTOCOL) &&
	    c->have_channel) {
		give_up_channel(c, r);
	}
	ol_hid_unlock(c->hid);
	return r;
}

int
ol_ctap_apdu(ol_ctap_t *c, const uint8_t *capdu, size_t capdu_len,
    uint8_t *rapdu, size_t rapdu_cap, size_t *rapdu_len)
{
	int r;

	r = ol_ctap_transact(c, CTAPHID_OPENLOOP_APDU, capdu, capdu_len,
	    rapdu, rapdu_cap, rapdu_len);
	if (r == OL_OK && *rapdu_len < 2) {
		ol_log(OL_LOG_CRITICAL, "APDU response of %zu bytes has no "
		    "status word", *rapdu_len);
		*rapdu_len = 0;
		r = OL_ERR_PROTOCOL;
	}
	return r;
}
