/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The simulated card: ISO 7816-4 APDU parsing, the card-level commands
 * (SELECT, GET CHALLENGE, GET RESPONSE), command chaining and response
 * splitting for applets, the user-presence wait, and the table of applets
 * SELECT can reach.  Every command error is a status word; only misuse of
 * the API returns an OL_ERR_* code.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "ol_err.h"
#include "ol_log.h"
#include "piv_applet.h"
#include "piv_state.h"
#include "sim_card.h"
#include "timeutil.h"

#define INS_SELECT        0xa4
#define INS_GET_CHALLENGE 0x84
#define INS_GET_RESPONSE  0xc0

#define SHORT_RESPONSE_MAX 256   /* what one short Le can ask for */
#define TOUCH_POLL_MS      10

#define SELECT_BY_AID     0x04
#define AID_MIN_PARTIAL   5   /* a RID: the shortest partial DF name we match */
#define AID_MAX           16

/* The response being built.  Invariant: len <= cap - 2, so the SW always
 * fits (sim_card_apdu() refuses cap < 2). */
struct rbuf {
	uint8_t *buf;
	size_t cap;
	size_t len;
};

/* An applet SELECT can reach by AID.  Applets see whole commands (the
 * card assembles chains) and write whole responses (the card splits
 * them); they answer ISO_SW_INS_NOT_SUPPORTED for what they do not know. */
struct applet {
	const char *name;
	const uint8_t *aid;
	size_t aid_len;
	uint16_t (*select)(sim_card_t *, const struct sim_apdu *,
	    struct sim_resp *);
	uint16_t (*process)(sim_card_t *, const struct sim_apdu *,
	    struct sim_resp *);
};

/* A command chain being received (ISO 7816-4 section 5.3.3). */
struct chain {
	int active;
	uint8_t cla, ins, p1, p2;   /* cla without the chaining bit */
	size_t len;
	uint8_t buf[SIM_CHAIN_MAX];
};

struct sim_card {
	atomic_int status;   /* enum sim_card_status; read by the CTAPHID thread */
	/* set by sim_card_cancel(), cleared by sim_card_arm(); read by
	 * sim_card_wait_touch() */
	atomic_int cancel;
	enum sim_touch_mode touch;
	int touch_ms;
	const struct applet *selected;
	piv_applet_t *piv;
	struct chain chain;
	/* the response of the last applet command, sent in pieces: bytes
	 * [resp_off, resp_len) wait for GET RESPONSE */
	size_t resp_len;
	size_t resp_off;
	uint8_t resp[SIM_RESP_MAX];
	/* the command assembled from a chain */
	struct sim_apdu whole;
};

/* --- the applets --------------------------------------------------------- */

static uint16_t
piv_select(sim_card_t *card, const struct sim_apdu *apdu,
    struct sim_resp *resp)
{
	return piv_applet_select(card->piv, apdu, resp);
}

static uint16_t
piv_process(sim_card_t *card, const struct sim_apdu *apdu,
    struct sim_resp *resp)
{
	return piv_applet_process(card->piv, apdu, resp);
}

static const struct applet piv = {
	.name = "PIV",
	.aid = piv_aid,
	.aid_len = PIV_AID_LEN,
	.select = piv_select,
	.process = piv_process,
};

static const struct applet *const applets[] = {
	&piv,
	NULL /* terminator */
};

/* --- responses ----------------------------------------------------------- */

static size_t
rbuf_room(const struct rbuf *r)
{
	return r->cap - 2 - r->len;
}

static void
rbuf_put_sw(struct rbuf *r, uint16_t sw)
{
	r->buf[r->len++] = (uint8_t)(sw >> 8);
	r->buf[r->len++] = (uint8_t)sw;
}

static int
sw_is_error(uint16_t sw)
{
	return (sw >> 8) >= 0x64 && (sw >> 8) <= 0x6f;
}

static void
resp_drop(sim_card_t *card)
{
	explicit_bzero(card->resp, card->resp_len);
	card->resp_len = 0;
	card->resp_off = 0;
}

/*
 * Sends what is left of the applet's response: as much as the command
 * may take, and 61xx while more waits.  A short command takes at most
 * 256 bytes (fewer if its Le says so); an extended one all of it, as far
 * as one CTAPHID message reaches.
 */
static uint16_t
resp_send(sim_card_t *card, const struct sim_apdu *apdu, uint16_t sw,
    struct rbuf *r)
{
	size_t left, n, limit;

	left = card->resp_len - card->resp_off;
	limit = rbuf_room(r);
	if (!apdu->extended) {
		n = apdu->ne == 0 ? SHORT_RESPONSE_MAX : apdu->ne;
		if (n > SHORT_RESPONSE_MAX)
			n = SHORT_RESPONSE_MAX;
		if (n < limit)
			limit = n;
	}
	n = left < limit ? left : limit;
	if (n > 0)
		memcpy(r->buf + r->len, card->resp + card->resp_off, n);
	r->len += n;
	card->resp_off += n;
	left -= n;
	if (left == 0) {
		resp_drop(card);
		return sw;
	}
	return (uint16_t)(ISO_SW_BYTES_REMAINING |
	    (left >= SHORT_RESPONSE_MAX ? 0 : left));
}

/* --- card-level commands ------------------------------------------------- */

static int
cla_supported(uint8_t cla)
{
	/* interindustry or proprietary class, optionally chained; no secure
	 * messaging, no logical channels other than the basic one */
	cla &= (uint8_t)~ISO_CLA_CHAINING;
	return cla == 0x00 || cla == 0x80;
}

static const struct applet *
find_applet(const uint8_t *aid, size_t aid_len)
{
	size_t i;

	/* ISO 7816-4 partial DF name: the AID sent may be a prefix */
	for (i = 0; applets[i] != NULL; i++) {
		if (aid_len >= AID_MIN_PARTIAL && aid_len <= applets[i]->aid_len &&
		    memcmp(aid, applets[i]->aid, aid_len) == 0)
			return applets[i];
	}
	return NULL;
}

/* Runs an applet's handler into card->resp and sends the first piece. */
static uint16_t
run_applet(sim_card_t *card, uint16_t (*fn)(sim_card_t *,
    const struct sim_apdu *, struct sim_resp *), const struct sim_apdu *cmd,
    const struct sim_apdu *apdu, struct rbuf *r)
{
	struct sim_resp resp;
	uint16_t sw;

	resp.buf = card->resp;
	resp.cap = sizeof(card->resp);
	resp.len = 0;
	sw = fn(card, cmd, &resp);
	card->resp_len = resp.len <= resp.cap ? resp.len : 0;
	card->resp_off = 0;
	if (sw_is_error(sw)) {
		resp_drop(card);
		return sw;
	}
	return resp_send(card, apdu, sw, r);
}

static uint16_t
cmd_select(sim_card_t *card, const struct sim_apdu *apdu, struct rbuf *r)
{
	const struct applet *a;

	if (apdu->cla & ISO_CLA_CHAINING)
		return ISO_SW_CHAINING_UNSUPP;
	/* P2: first occurrence, any of FCI/FCP/FMD/no data */
	if ((apdu->p2 & 0xf3) != 0)
		return ISO_SW_INCORRECT_P1P2;
	switch (apdu->p1) {
	case SELECT_BY_AID:
		break;
	case 0x00: case 0x01: case 0x02: case 0x08: case 0x09:
		return ISO_SW_FILE_NOT_FOUND; /* no file system to search */
	default:
		return ISO_SW_INCORRECT_P1P2;
	}
	if (apdu->lc > AID_MAX)
		return ISO_SW_WRONG_LENGTH;
	if ((a = find_applet(apdu->data, apdu->lc)) == NULL) {
		/* the current selection stays, as on real cards */
		ol_log_hex(OL_LOG_COMM, "card: SELECT of unknown AID",
		    apdu->data, apdu->lc);
		return ISO_SW_FILE_NOT_FOUND;
	}
	if (card->selected != a)
		ol_log(OL_LOG_INFO, "card: %s applet selected", a->name);
	card->selected = a;
	return run_applet(card, a->select, apdu, apdu, r);
}

static uint16_t
cmd_get_challenge(const struct sim_apdu *apdu, struct rbuf *r)
{
	size_t n;

	if (apdu->cla & ISO_CLA_CHAINING)
		return ISO_SW_CHAINING_UNSUPP;
	if (apdu->p1 != 0 || apdu->p2 != 0)
		return ISO_SW_INCORRECT_P1P2;
	if (apdu->lc != 0 || apdu->ne == 0)
		return ISO_SW_WRONG_LENGTH;
	/* Ne may exceed what one response can carry (extended Le 0000 =
	 * 65536): give what fits, as a card does for "as many as you have" */
	n = apdu->ne;
	if (n > rbuf_room(r))
		n = rbuf_room(r);
	if (n > 0 && RAND_bytes(r->buf + r->len, (int)n) != 1) {
		ol_log(OL_LOG_CRITICAL, "card: RAND_bytes failed");
		return ISO_SW_UNKNOWN;
	}
	r->len += n;
	return ISO_SW_OK;
}

static uint16_t
cmd_get_response(sim_card_t *card, const struct sim_apdu *apdu,
    struct rbuf *r)
{
	if (apdu->cla & ISO_CLA_CHAINING)
		return ISO_SW_CHAINING_UNSUPP;
	if (apdu->p1 != 0 || apdu->p2 != 0)
		return ISO_SW_INCORRECT_P1P2;
	if (apdu->lc != 0)
		return ISO_SW_WRONG_LENGTH;
	if (card->resp_off >= card->resp_len)
		return ISO_SW_CONDITIONS; /* nothing is waiting */
	return resp_send(card, apdu, ISO_SW_OK, r);
}

/* --- commands for the selected applet ------------------------------------ */

static void
chain_drop(sim_card_t *card)
{
	explicit_bzero(card->chain.buf, card->chain.len);
	card->chain.len = 0;
	card->chain.active = 0;
}

static int
chain_continues(const struct chain *c, const struct sim_apdu *apdu)
{
	return c->active && c->ins == apdu->ins && c->p1 == apdu->p1 &&
	    c->p2 == apdu->p2 &&
	    c->cla == (apdu->cla & (uint8_t)~ISO_CLA_CHAINING);
}

/* One link of a chain: kept until the last one arrives. */
static uint16_t
chain_add(sim_card_t *card, const struct sim_apdu *apdu)
{
	struct chain *c = &card->chain;

	if (!chain_continues(c, apdu)) {
		/* a chain of another command replaces an unfinished one */
		chain_drop(card);
		c->active = 1;
		c->cla = apdu->cla & (uint8_t)~ISO_CLA_CHAINING;
		c->ins = apdu->ins;
		c->p1 = apdu->p1;
		c->p2 = apdu->p2;
	}
	if (apdu->lc > sizeof(c->buf) - c->len) {
		ol_log(OL_LOG_INFO, "card: command chain over %d bytes dropped",
		    SIM_CHAIN_MAX);
		chain_drop(card);
		return ISO_SW_NOT_ENOUGH_MEMORY;
	}
	if (apdu->lc > 0)
		memcpy(c->buf + c->len, apdu->data, apdu->lc);
	c->len += apdu->lc;
	return ISO_SW_OK;
}

static uint16_t
applet_command(sim_card_t *card, const struct sim_apdu *apdu, struct rbuf *r)
{
	const struct sim_apdu *cmd = apdu;
	struct chain *c = &card->chain;
	uint16_t sw;

	if (apdu->cla & ISO_CLA_CHAINING)
		return chain_add(card, apdu);
	if (chain_continues(c, apdu)) {
		/* the last link: the applet sees one command */
		if (apdu->lc > sizeof(c->buf) - c->len) {
			chain_drop(card);
			return ISO_SW_NOT_ENOUGH_MEMORY;
		}
		if (apdu->lc > 0)
			memcpy(c->buf + c->len, apdu->data, apdu->lc);
		c->len += apdu->lc;
		card->whole = *apdu;
		card->whole.cla = c->cla;
		card->whole.data = c->buf;
		card->whole.lc = c->len;
		cmd = &card->whole;
	} else if (c->active) {
		/* another command in between aborts the chain */
		ol_log(OL_LOG_COMM, "card: unfinished command chain dropped");
		chain_drop(card);
	}
	sw = run_applet(card, card->selected->process, cmd, apdu, r);
	chain_drop(card);
	return sw;
}

static uint16_t
dispatch(sim_card_t *card, const struct sim_apdu *apdu, struct rbuf *r)
{
	int interindustry = (apdu->cla & 0x80) == 0;

	if (!cla_supported(apdu->cla))
		return ISO_SW_CLA_NOT_SUPPORTED;
	if (interindustry && apdu->ins == INS_GET_RESPONSE)
		return cmd_get_response(card, apdu, r);
	/* response data not fetched now is lost, as on cards */
	resp_drop(card);
	if (interindustry && apdu->ins == INS_SELECT) {
		chain_drop(card);
		return cmd_select(card, apdu, r);
	}
	if (interindustry && apdu->ins == INS_GET_CHALLENGE) {
		chain_drop(card);
		return cmd_get_challenge(apdu, r);
	}
	if (card->selected != NULL)
		return applet_command(card, apdu, r);
	if (apdu->cla & ISO_CLA_CHAINING)
		return ISO_SW_CHAINING_UNSUPP;
	return ISO_SW_INS_NOT_SUPPORTED;
}

/* --- public interface ---------------------------------------------------- */

void
sim_card_config_init(struct sim_card_config *cfg)
{
	if (cfg == NULL)
		return;
	memset(cfg, 0, sizeof(*cfg));
	cfg->touch = SIM_TOUCH_AFTER;
	cfg->touch_ms = SIM_TOUCH_DEFAULT_MS;
	cfg->timing = PIV_TIMING_INSTANT;
	cfg->piv = NULL;
	cfg->piv_state_path = NULL;
}

static enum sim_touch_result
wait_touch_port(void *card)
{
	return sim_card_wait_touch(card);
}

static enum sim_touch_result
wait_touch_port_for(void *card, int timeout_ms)
{
	return sim_card_wait_touch_for(card, timeout_ms);
}

void
sim_card_touch_port(sim_card_t *card, struct sim_touch_port *port)
{
	if (port == NULL)
		return;
	port->wait = wait_touch_port;
	port->wait_for = wait_touch_port_for;
	port->ctx = card;
}

int
sim_card_new_config(const struct sim_card_config *cfg, sim_card_t **out)
{
	struct sim_touch_port touch;
	struct piv_state *fresh = NULL;
	const struct piv_state *st;
	sim_card_t *card = NULL;
	int r = OL_ERR_ARG;

	if (out == NULL)
		return OL_ERR_ARG;
	*out = NULL;
	if (cfg == NULL || cfg->touch_ms < 0 ||
	    cfg->touch_ms > SIM_TOUCH_MAX_MS)
		goto fail;
	r = OL_ERR_NOMEM;
	if ((card = calloc(1, sizeof(*card))) == NULL)
		goto fail;
	atomic_init(&card->status, SIM_CARD_IDLE);
	atomic_init(&card->cancel, 0);
	card->touch = cfg->touch;
	card->touch_ms = cfg->touch_ms;
	card->selected = NULL;
	if ((st = cfg->piv) == NULL) {
		if ((fresh = malloc(sizeof(*fresh))) == NULL)
			goto fail;
		piv_state_init(fresh, PIV_MODEL_C, SIM_DEFAULT_SERIAL);
		st = fresh;
	}
	sim_card_touch_port(card, &touch);
	if ((r = piv_applet_new(&touch, st, cfg->piv_state_path,
	    &card->piv)) != OL_OK)
		goto fail;
	piv_applet_set_timing(card->piv, cfg->timing);
	*out = card;
	card = NULL;
	r = OL_OK;
fail:
	if (fresh != NULL) {
		piv_state_clear(fresh);
		free(fresh);
	}
	sim_card_free(&card);
	return r;
}

int
sim_card_new(sim_card_t **out)
{
	struct sim_card_config cfg;

	sim_card_config_init(&cfg);
	return sim_card_new_config(&cfg, out);
}

void
sim_card_free(sim_card_t **card)
{
	if (card == NULL || *card == NULL)
		return;
	piv_applet_free(&(*card)->piv);
	/* chained or pending data may hold keys or PINs */
	explicit_bzero(*card, sizeof(**card));
	free(*card);
	*card = NULL;
}

void
sim_card_reset(sim_card_t *card)
{
	if (card == NULL)
		return;
	chain_drop(card);
	resp_drop(card);
	card->selected = NULL;
	if (card->piv != NULL)
		piv_applet_reset(card->piv);
}

int
sim_card_apdu(sim_card_t *card, const uint8_t *capdu, size_t capdu_len,
    uint8_t *rapdu, size_t rapdu_cap, size_t *rapdu_len)
{
	struct sim_apdu apdu;
	struct rbuf r;
	uint16_t sw;

	if (card == NULL || (capdu == NULL && capdu_len > 0) ||
	    rapdu == NULL || rapdu_len == NULL || rapdu_cap < 2)
		return OL_ERR_ARG;

	atomic_store(&card->status, SIM_CARD_PROCESSING);
	r.buf = rapdu;
	r.cap = rapdu_cap;
	r.len = 0;
	if (sim_apdu_parse(capdu, capdu_len, &apdu) != OL_OK) {
		/* a broken APDU still ends a chain and loses pending data */
		chain_drop(card);
		resp_drop(card);
		sw = ISO_SW_WRONG_LENGTH;
	} else {
		sw = dispatch(card, &apdu, &r);
	}
	/* error status words (64xx-6Fxx) carry no data */
	if (sw_is_error(sw)) {
		explicit_bzero(rapdu, r.len);
		r.len = 0;
	}
	rbuf_put_sw(&r, sw);
	*rapdu_len = r.len;
	atomic_store(&card->status, SIM_CARD_IDLE);
	return OL_OK;
}

enum sim_card_status
sim_card_status(sim_card_t *card)
{
	if (card == NULL)
		return SIM_CARD_IDLE;
	return (enum sim_card_status)atomic_load(&card->status);
}

void
sim_card_cancel(sim_card_t *card)
{
	if (card != NULL)
		atomic_store(&card->cancel, 1);
}

void
sim_card_arm(sim_card_t *card)
{
	if (card != NULL)
		atomic_store(&card->cancel, 0);
}

enum sim_touch_result
sim_card_wait_touch(sim_card_t *card)
{
	return sim_card_wait_touch_for(card, -1);
}

enum sim_touch_result
sim_card_wait_touch_for(sim_card_t *card, int timeout_ms)
{
	enum sim_touch_result result;
	int64_t deadline = INT64_MAX, limit = INT64_MAX;
	int left = 0, before;

	if (card == NULL)
		return SIM_TOUCH_CANCELLED;
	if (timeout_ms >= 0)
		limit = ol_now_ms() + timeout_ms;
	switch (card->touch) {
	case SIM_TOUCH_APPROVE:
		return SIM_TOUCH_APPROVED;
	case SIM_TOUCH_AFTER:
		deadline = ol_now_ms() + card->touch_ms;
		result = SIM_TOUCH_APPROVED;
		break;
	case SIM_TOUCH_DENY:
		/* a user reads the screen before pressing "deny" */
		deadline = ol_now_ms() + SIM_TOUCH_DENY_MS;
		result = SIM_TOUCH_DENIED;
		break;
	case SIM_TOUCH_NEVER:
	default:
		result = SIM_TOUCH_CANCELLED;
		break;
	}
	/* an APDU goes on processing after the wait; another application's
	 * request (the FIDO authenticator) finds the card idle again */
	before = atomic_load(&card->status);
	if (before == SIM_CARD_UPNEEDED)
		before = SIM_CARD_PROCESSING;
	atomic_store(&card->status, SIM_CARD_UPNEEDED);
	for (;;) {
		if (atomic_load(&card->cancel)) {
			result = SIM_TOUCH_CANCELLED;
			break;
		}
		if (limit < deadline) {
			/* the user answers after the caller gives up */
			deadline = limit;
			result = SIM_TOUCH_TIMEOUT;
		}
		if (deadline != INT64_MAX && (left = ol_ms_left(deadline)) == 0)
			break;
		ol_sleep_ms(deadline == INT64_MAX || left > TOUCH_POLL_MS ?
		    TOUCH_POLL_MS : left);
	}
	atomic_store(&card->status, before);
	return result;
}

/* --- the card as seen by the CTAPHID layer ------------------------------- */

static int
ops_apdu(void *card, const uint8_t *capdu, size_t capdu_len, uint8_t *rapdu,
    size_t rapdu_cap, size_t *rapdu_len)
{
	return sim_card_apdu(card, capdu, capdu_len, rapdu, rapdu_cap,
	    rapdu_len);
}

static enum sim_card_status
ops_status(void *card)
{
	return sim_card_status(card);
}

static void
ops_cancel(void *card)
{
	sim_card_cancel(card);
}

static void
ops_arm(void *card)
{
	sim_card_arm(card);
}

static void
ops_reset(void *card)
{
	sim_card_reset(card);
}

const struct sim_card_ops sim_card_ops = {
	.apdu = ops_apdu,
	.status = ops_status,
	.cancel = ops_cancel,
	.arm = ops_arm,
	.reset = ops_reset,
};
