/*
 * The simulated card: ISO 7816-4 APDU parsing, the card-level commands
 * (SELECT, GET CHALLENGE) and the table of applets SELECT can reach.
 * Every command error is a status word; only misuse of the API returns
 * an OL_ERR_* code.
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
#include "sim_card.h"

#define INS_SELECT        0xa4
#define INS_GET_CHALLENGE 0x84

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

/* An applet SELECT can reach by AID.  The PIV applet joins applets[] in a
 * later issue; until then every AID is unknown and SELECT answers 6A82. */
struct applet {
	const char *name;
	const uint8_t *aid;
	size_t aid_len;
	uint16_t (*select)(sim_card_t *, const struct sim_apdu *, struct rbuf *);
	/* SIM_SW_INS_NOT_SUPPORTED lets the card try its own commands */
	uint16_t (*process)(sim_card_t *, const struct sim_apdu *, struct rbuf *);
};

static const struct applet *const applets[] = {
	NULL /* terminator */
};

struct sim_card {
	atomic_int status;   /* enum sim_card_status; read by the CTAPHID thread */
	/* set by sim_card_cancel(), cleared by sim_card_arm(); read by
	 * commands that wait for a touch (none until --touch exists) */
	atomic_int cancel;
	const struct applet *selected;
};

/* --- APDU parsing (ISO 7816-4 section 5.1, cases 1 to 4E) ------------ */

static int
parse_short(const uint8_t *buf, size_t len, struct sim_apdu *apdu)
{
	size_t lc;

	if (len == 5) {                          /* case 2S */
		apdu->ne = buf[4] == 0 ? 256 : buf[4];
		return OL_OK;
	}
	lc = buf[4];                             /* != 0: checked by caller */
	if (len != 5 + lc && len != 6 + lc)
		return OL_ERR_PROTOCOL;
	apdu->data = buf + 5;
	apdu->lc = lc;
	if (len == 6 + lc)                       /* case 4S */
		apdu->ne = buf[len - 1] == 0 ? 256 : buf[len - 1];
	return OL_OK;
}

static int
parse_extended(const uint8_t *buf, size_t len, struct sim_apdu *apdu)
{
	size_t lc, le;

	apdu->extended = 1;
	if (len == 7) {                          /* case 2E */
		le = (size_t)buf[5] << 8 | buf[6];
		apdu->ne = le == 0 ? 65536 : le;
		return OL_OK;
	}
	lc = (size_t)buf[5] << 8 | buf[6];
	if (lc == 0 || (len != 7 + lc && len != 9 + lc))
		return OL_ERR_PROTOCOL;
	apdu->data = buf + 7;
	apdu->lc = lc;
	if (len == 9 + lc) {                     /* case 4E */
		le = (size_t)buf[len - 2] << 8 | buf[len - 1];
		apdu->ne = le == 0 ? 65536 : le;
	}
	return OL_OK;
}

int
sim_apdu_parse(const uint8_t *buf, size_t len, struct sim_apdu *apdu)
{
	if (buf == NULL || apdu == NULL || len < 4)
		return OL_ERR_PROTOCOL;

	memset(apdu, 0, sizeof(*apdu));
	apdu->cla = buf[0];
	apdu->ins = buf[1];
	apdu->p1 = buf[2];
	apdu->p2 = buf[3];
	if (len == 4)                            /* case 1 */
		return OL_OK;
	/* A zero first length byte followed by more bytes announces
	 * extended lengths; "00" alone is a short Le of 256. */
	if (len > 5 && buf[4] == 0) {
		if (len < 7)
			return OL_ERR_PROTOCOL;
		return parse_extended(buf, len, apdu);
	}
	return parse_short(buf, len, apdu);
}

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

/* --- card-level commands ------------------------------------------------- */

static int
cla_supported(uint8_t cla)
{
	/* interindustry or proprietary class, optionally chained; no secure
	 * messaging, no logical channels other than the basic one */
	cla &= (uint8_t)~SIM_CLA_CHAINING;
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

static uint16_t
cmd_select(sim_card_t *card, const struct sim_apdu *apdu, struct rbuf *r)
{
	const struct applet *a;

	if (apdu->cla & SIM_CLA_CHAINING)
		return SIM_SW_CHAINING_UNSUPP;
	/* P2: first occurrence, any of FCI/FCP/FMD/no data */
	if ((apdu->p2 & 0xf3) != 0)
		return SIM_SW_INCORRECT_P1P2;
	switch (apdu->p1) {
	case SELECT_BY_AID:
		break;
	case 0x00: case 0x01: case 0x02: case 0x08: case 0x09:
		return SIM_SW_FILE_NOT_FOUND; /* no file system to search */
	default:
		return SIM_SW_INCORRECT_P1P2;
	}
	if (apdu->lc > AID_MAX)
		return SIM_SW_WRONG_LENGTH;
	if ((a = find_applet(apdu->data, apdu->lc)) == NULL) {
		/* the current selection stays, as on real cards */
		ol_log_hex(OL_LOG_COMM, "card: SELECT of unknown AID",
		    apdu->data, apdu->lc);
		return SIM_SW_FILE_NOT_FOUND;
	}
	card->selected = a;
	ol_log(OL_LOG_INFO, "card: %s applet selected", a->name);
	return a->select(card, apdu, r);
}

static uint16_t
cmd_get_challenge(const struct sim_apdu *apdu, struct rbuf *r)
{
	size_t n;

	if (apdu->cla & SIM_CLA_CHAINING)
		return SIM_SW_CHAINING_UNSUPP;
	if (apdu->p1 != 0 || apdu->p2 != 0)
		return SIM_SW_INCORRECT_P1P2;
	if (apdu->lc != 0 || apdu->ne == 0)
		return SIM_SW_WRONG_LENGTH;
	/* Ne may exceed what one response can carry (extended Le 0000 =
	 * 65536): give what fits, as a card does for "as many as you have" */
	n = apdu->ne;
	if (n > rbuf_room(r))
		n = rbuf_room(r);
	if (n > 0 && RAND_bytes(r->buf + r->len, (int)n) != 1) {
		ol_log(OL_LOG_CRITICAL, "card: RAND_bytes failed");
		return SIM_SW_UNKNOWN;
	}
	r->len += n;
	return SIM_SW_OK;
}

static uint16_t
dispatch(sim_card_t *card, const struct sim_apdu *apdu, struct rbuf *r)
{
	uint16_t sw;

	if (!cla_supported(apdu->cla))
		return SIM_SW_CLA_NOT_SUPPORTED;
	if ((apdu->cla & 0x80) == 0 && apdu->ins == INS_SELECT)
		return cmd_select(card, apdu, r);
	if (card->selected != NULL) {
		sw = card->selected->process(card, apdu, r);
		if (sw != SIM_SW_INS_NOT_SUPPORTED)
			return sw;
		r->len = 0;
	}
	if ((apdu->cla & 0x80) == 0 && apdu->ins == INS_GET_CHALLENGE)
		return cmd_get_challenge(apdu, r);
	return SIM_SW_INS_NOT_SUPPORTED;
}

/* --- public interface ---------------------------------------------------- */

int
sim_card_new(sim_card_t **out)
{
	sim_card_t *card;

	if (out == NULL)
		return OL_ERR_ARG;
	*out = NULL;
	if ((card = calloc(1, sizeof(*card))) == NULL)
		return OL_ERR_NOMEM;
	atomic_init(&card->status, SIM_CARD_IDLE);
	atomic_init(&card->cancel, 0);
	card->selected = NULL;
	*out = card;
	return OL_OK;
}

void
sim_card_free(sim_card_t **card)
{
	if (card == NULL || *card == NULL)
		return;
	/* applet state (keys, PINs) will live here: wipe it */
	explicit_bzero(*card, sizeof(**card));
	free(*card);
	*card = NULL;
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
	if (sim_apdu_parse(capdu, capdu_len, &apdu) != OL_OK)
		sw = SIM_SW_WRONG_LENGTH;
	else
		sw = dispatch(card, &apdu, &r);
	/* error status words (64xx-6Fxx) carry no data */
	if ((sw >> 8) >= 0x64 && (sw >> 8) <= 0x6f) {
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

const struct sim_card_ops sim_card_ops = {
	.apdu = ops_apdu,
	.status = ops_status,
	.cancel = ops_cancel,
	.arm = ops_arm,
};
