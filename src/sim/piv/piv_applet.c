/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The simulated PIV applet: SP 800-73-4 part 2 card commands over the
 * persistent state of piv_state.h, cryptography in piv_crypto.c, BER-TLV
 * in tlv.c.  Sections: the applet, data objects, PIN and PUK, the
 * management key, keys (GENERATE, GENERAL AUTHENTICATE), dispatch.
 *
 * Nothing here logs a PIN, PUK or key byte: log lines name slots,
 * algorithms and outcomes only.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ol_err.h"
#include "ol_log.h"
#include "piv_applet.h"
#include "piv_crypto.h"
#include "piv_state.h"
#include "timeutil.h"
#include "tlv.h"

#define INS_VERIFY        0x20
#define INS_CHANGE_REF    0x24
#define INS_RESET_RETRY   0x2c
#define INS_GENERATE      0x47
#define INS_GENERAL_AUTH  0x87
#define INS_GET_DATA      0xcb
#define INS_PUT_DATA      0xdb

#define REF_GLOBAL_PIN    0x00
#define REF_PIN           0x80
#define REF_PUK           0x81
#define KEY_MGM           0x9b

#define TAG_DISCOVERY     0x7e
#define TAG_BIT_GROUP     0x7f61
#define TAG_CCC           0x5fc107
#define TAG_CHUID         0x5fc102
#define TAG_FINGERPRINTS  0x5fc103
#define TAG_FACE          0x5fc108
#define TAG_PRINTED       0x5fc109
#define TAG_IRIS          0x5fc121

#define TAG_OBJ_LIST      0x5c   /* GET/PUT DATA: which object */
#define TAG_OBJ_DATA      0x53   /* the object's content */
#define TAG_DYN_AUTH      0x7c   /* GENERAL AUTHENTICATE template */
#define TAG_WITNESS       0x80
#define TAG_CHALLENGE     0x81
#define TAG_RESPONSE      0x82
#define TAG_EXPONENTIATION 0x85
#define TAG_CRT           0xac   /* GENERATE: control reference template */
#define TAG_ALG           0x80
#define TAG_PUBKEY        0x7f49

#define CHUID_EXPIRY      "20991231"
#define APP_LABEL         "Openloop PIV"

const uint8_t piv_aid[PIV_AID_LEN] = {
	0xa0, 0x00, 0x00, 0x03, 0x08, 0x00, 0x00, 0x10, 0x00, 0x01, 0x00
};
#define PIV_RID_LEN 5

static const uint8_t slot_ids[PIV_KEY_SLOTS] = { 0x9a, 0x9c, 0x9d, 0x9e };

enum challenge {
	CHAL_NONE,
	CHAL_EXTERNAL,   /* we sent a challenge: expect its encryption */
	CHAL_MUTUAL,     /* we sent an encrypted witness: expect it decrypted */
};

/*
 * The PIN's security status, and the dual mode's two ways to reach it
 * (docs/simulator.md, "The dual mode"): the PIN sent over USB (blind
 * signing), or verified on the device itself through the reader's PIN pad
 * (every private-key operation then asks for a touch).
 */
enum pin_status {
	PIN_NOT_VERIFIED,
	PIN_VERIFIED_USB,
	PIN_VERIFIED_ON_DEVICE,
};

struct piv_applet {
	struct sim_touch_port touch;   /* the user, through the card */
	char *path;               /* --state FILE, or NULL */
	enum piv_timing timing;   /* the secure element's speed */
	/* the session: reset by piv_applet_reset() */
	enum pin_status pin;
	int pin_always;           /* a VERIFY with the PIN since the last
	                           * use of 9C */
	int mgm_ok;               /* 9B authenticated */
	enum challenge chal;
	uint8_t chal_val[PIV_BLOCK_MAX];
	size_t chal_len;
	struct piv_state st;
};

/* --- the applet ---------------------------------------------------------- */

static void
chal_clear(struct piv_applet *a)
{
	explicit_bzero(a->chal_val, sizeof(a->chal_val));
	a->chal_len = 0;
	a->chal = CHAL_NONE;
}

int
piv_applet_new(const struct sim_touch_port *touch, const struct piv_state *st,
    const char *state_path, piv_applet_t **out)
{
	struct piv_applet *a;
	size_t i;

	if (out == NULL)
		return OL_ERR_ARG;
	*out = NULL;
	if (touch == NULL || touch->wait == NULL || st == NULL)
		return OL_ERR_ARG;
	if ((a = calloc(1, sizeof(*a))) == NULL)
		return OL_ERR_NOMEM;
	if (state_path != NULL && (a->path = strdup(state_path)) == NULL) {
		free(a);
		return OL_ERR_NOMEM;
	}
	a->touch = *touch;
	memcpy(&a->st, st, sizeof(a->st));
	/* slot i is always slot_ids[i], whatever a state file says */
	for (i = 0; i < PIV_KEY_SLOTS; i++)
		a->st.keys[i].slot = slot_ids[i];
	*out = a;
	return OL_OK;
}

void
piv_applet_set_timing(piv_applet_t *a, enum piv_timing timing)
{
	if (a != NULL)
		a->timing = timing;
}

void
piv_applet_free(piv_applet_t **ap)
{
	if (ap == NULL || *ap == NULL)
		return;
	piv_state_clear(&(*ap)->st);
	free((*ap)->path);
	explicit_bzero(*ap, sizeof(**ap));
	free(*ap);
	*ap = NULL;
}

void
piv_applet_reset(piv_applet_t *a)
{
	if (a == NULL)
		return;
	a->pin = PIN_NOT_VERIFIED;
	a->pin_always = 0;
	a->mgm_ok = 0;
	chal_clear(a);
}

const struct piv_state *
piv_applet_state(const piv_applet_t *a)
{
	return a == NULL ? NULL : &a->st;
}

/* Writes the state after a change.  0 if it could not be written: the
 * command then answers 6581 (memory failure), as a card whose EEPROM
 * write failed; the change stays in memory. */
static int
commit(struct piv_applet *a)
{
	int r;

	if (a->path == NULL)
		return 1;
	if ((r = piv_state_save(a->path, &a->st)) != OL_OK) {
		ol_log(OL_LOG_CRITICAL, "PIV: cannot save the state to %s: %s",
		    a->path, ol_strerror(r));
		return 0;
	}
	return 1;
}

static uint16_t
commit_sw(struct piv_applet *a, uint16_t sw)
{
	return commit(a) ? sw : ISO_SW_MEMORY_FAILURE;
}

static void
resp_put(struct sim_resp *resp, const struct tlv_writer *w)
{
	resp->len = w->len;
}

/* A writer over the response buffer. */
static void
resp_writer(struct sim_resp *resp, struct tlv_writer *w)
{
	tlv_writer_init(w, resp->buf, resp->cap);
}

uint16_t
piv_applet_select(piv_applet_t *a, const struct sim_apdu *apdu,
    struct sim_resp *resp)
{
	struct tlv_writer w;
	size_t apt, alloc, ac;

	if (a == NULL || apdu == NULL || resp == NULL)
		return ISO_SW_UNKNOWN;
	chal_clear(a);
	/* P2 0C: no response data wanted */
	if ((apdu->p2 & 0x0c) == 0x0c)
		return ISO_SW_OK;
	/* SP 800-73-4 part 2, table 3: the application property template */
	resp_writer(resp, &w);
	apt = tlv_open(&w, 0x61);
	tlv_put(&w, 0x4f, piv_aid + PIV_RID_LEN, PIV_AID_LEN - PIV_RID_LEN);
	alloc = tlv_open(&w, 0x79);
	tlv_put(&w, 0x4f, piv_aid, PIV_RID_LEN);
	tlv_close(&w, alloc);
	tlv_put(&w, 0x50, APP_LABEL, strlen(APP_LABEL));
	/* the algorithms this device does: what GENERATE accepts, and the
	 * management key's */
	ac = tlv_open(&w, TAG_CRT);
	tlv_put_byte(&w, TAG_ALG, PIV_ALG_P256);
	tlv_put_byte(&w, TAG_ALG, PIV_ALG_ED25519);
	if (a->st.model == PIV_MODEL_C)
		tlv_put_byte(&w, TAG_ALG, PIV_ALG_RSA2048);
	tlv_put_byte(&w, TAG_ALG, a->st.mgm_alg);
	tlv_put(&w, 0x06, NULL, 0);
	tlv_close(&w, ac);
	tlv_close(&w, apt);
	if (w.overflow)
		return ISO_SW_UNKNOWN;
	resp_put(resp, &w);
	return ISO_SW_OK;
}

/* --- data objects ------------------------------------------------------ */

/*
 * The FASC-N (TIG SCEPACS): 40 characters of 4 bits, least significant
 * first, each with an odd parity bit, packed into 25 bytes.  Agency code
 * 9999 marks a credential of a non-federal issuer; OpenSC then takes the
 * card's serial number from the GUID.
 */
#define FASCN_LEN 25
#define FASCN_SS  0xb
#define FASCN_FS  0xd
#define FASCN_ES  0xf

static void
fascn_encode(const char *digits, uint8_t out[FASCN_LEN])
{
	uint8_t chars[40];
	size_t n = 0, i, bit = 0;
	uint8_t lrc = 0, v;
	const char *p;

	/* agency 9999, system 9999, credential 999999, CS 0, ICI 1, PI
	 * 0000000000, OC 3 (commercial), OI 0000, POA 1: digits holds all
	 * of them with 'S'/'F'/'E' for the sentinels and separators */
	for (p = digits; *p != '\0' && n < sizeof(chars) - 1; p++) {
		if (*p == 'S')
			chars[n++] = FASCN_SS;
		else if (*p == 'F')
			chars[n++] = FASCN_FS;
		else if (*p == 'E')
			chars[n++] = FASCN_ES;
		else
			chars[n++] = (uint8_t)(*p - '0');
	}
	for (i = 0; i < n; i++)
		lrc ^= chars[i];
	chars[n++] = lrc;
	memset(out, 0, FASCN_LEN);
	for (i = 0; i < n; i++) {
		uint8_t ones = 0, b, k;

		v = chars[i];
		for (k = 0; k < 5; k++) {
			if (k < 4) {
				b = (v >> k) & 1;
				ones += b;
			} else {
				b = (ones & 1) == 0; /* odd parity */
			}
			if (b && bit / 8 < FASCN_LEN)
				out[bit / 8] |= (uint8_t)(0x80 >> (bit % 8));
			bit++;
		}
	}
}

static const char fascn_fields[] =
    "S9999F9999F999999F0F1F0000000000" "3" "0000" "1" "E";

/* CHUID: FASC-N, GUID (from the serial), expiry, no signature. */
static void
build_chuid(const struct piv_applet *a, struct tlv_writer *w)
{
	uint8_t fascn[FASCN_LEN], digest[32];
	static const char guid_prefix[] = "openloop-guid:";

	fascn_encode(fascn_fields, fascn);
	if (piv_crypto_sha256(guid_prefix, strlen(guid_prefix), a->st.serial,
	    strnlen(a->st.serial, sizeof(a->st.serial)), digest) != OL_OK) {
		w->overflow = 1;
		return;
	}
	tlv_put(w, 0x30, fascn, sizeof(fascn));
	tlv_put(w, 0x34, digest, 16);
	tlv_put(w, 0x35, CHUID_EXPIRY, strlen(CHUID_EXPIRY));
	tlv_put(w, 0x3e, NULL, 0);
	tlv_put(w, 0xfe, NULL, 0);
}

/* CCC (SP 800-73-4 part 1, table 8): a GSC-RID card identifier whose
 * last 14 bytes come from the serial; everything else empty/default. */
static void
build_ccc(const struct piv_applet *a, struct tlv_writer *w)
{
	static const uint8_t gsc_rid[] = { 0xa0, 0x00, 0x00, 0x01, 0x16 };
	static const char ccc_prefix[] = "openloop-ccc:";
	uint8_t id[21], digest[32];
	static const uint32_t empty[] = { 0xf6, 0xf7, 0xfa, 0xfb, 0xfc, 0xfd,
	    0xfe };
	size_t i;

	if (piv_crypto_sha256(ccc_prefix, strlen(ccc_prefix), a->st.serial,
	    strnlen(a->st.serial, sizeof(a->st.serial)), digest) != OL_OK) {
		w->overflow = 1;
		return;
	}
	memcpy(id, gsc_rid, sizeof(gsc_rid));
	id[5] = 0xff;                /* manufacturer: none registered */
	id[6] = 0x02;                /* card type: Java Card */
	memcpy(id + 7, digest, 14);
	tlv_put(w, 0xf0, id, sizeof(id));
	tlv_put_byte(w, 0xf1, 0x21);  /* capability container version */
	tlv_put_byte(w, 0xf2, 0x21);  /* grammar version */
	tlv_put(w, 0xf3, NULL, 0);
	tlv_put_byte(w, 0xf4, 0x00);  /* PKCS#15: no */
	tlv_put_byte(w, 0xf5, 0x10);  /* data model number */
	for (i = 0; i < sizeof(empty) / sizeof(empty[0]); i++)
		tlv_put(w, empty[i], NULL, 0);
}

/* Discovery (SP 800-73-4 part 1, 3.3.2): the AID and the PIN usage
 * policy "PIV PIN only" (40 00). */
static void
build_discovery(struct tlv_writer *w)
{
	static const uint8_t policy[] = { 0x40, 0x00 };
	size_t m;

	m = tlv_open(w, TAG_DISCOVERY);
	tlv_put(w, 0x4f, piv_aid, PIV_AID_LEN);
	tlv_put(w, 0x5f2f, policy, sizeof(policy));
	tlv_close(w, m);
}

static struct piv_object *
object_find(struct piv_applet *a, uint32_t tag)
{
	size_t i;

	for (i = 0; i < PIV_OBJECTS_MAX; i++)
		if (a->st.objects[i].tag == tag && tag != 0)
			return &a->st.objects[i];
	return NULL;
}

/* Objects the applet makes up while no PUT DATA has replaced them. */
static int
object_builtin(uint32_t tag)
{
	return tag == TAG_CHUID || tag == TAG_CCC;
}

static int
object_writable(uint32_t tag)
{
	/* the PIV containers, and the range SP 800-73-4 leaves to vendors
	 * (yubico-piv-tool keeps its admin data at 5FFF00) */
	return (tag >= 0x5fc101 && tag <= 0x5fc123) ||
	    (tag >= 0x5fff00 && tag <= 0x5fffff);
}

/* Biometrics and printed information: the PIN opens them. */
static int
object_needs_pin(uint32_t tag)
{
	return tag == TAG_FINGERPRINTS || tag == TAG_FACE ||
	    tag == TAG_PRINTED || tag == TAG_IRIS;
}

/* The 5C element of GET DATA / PUT DATA: a tag of 1 to 3 bytes. */
static int
object_tag(const struct tlv *t, uint32_t *tag)
{
	size_t i;

	if (t->tag != TAG_OBJ_LIST || t->len < 1 || t->len > 3)
		return -1;
	*tag = 0;
	for (i = 0; i < t->len; i++)
		*tag = *tag << 8 | t->val[i];
	return 0;
}

static uint16_t
cmd_get_data(struct piv_applet *a, const struct sim_apdu *apdu,
    struct sim_resp *resp)
{
	struct piv_object *o;
	struct tlv_writer w;
	struct tlv t;
	uint32_t tag;
	size_t used, m;

	if (apdu->p1 != 0x3f || apdu->p2 != 0xff)
		return ISO_SW_INCORRECT_P1P2;
	if (tlv_parse(apdu->data, apdu->lc, &t, &used) != OL_OK ||
	    used != apdu->lc || object_tag(&t, &tag) != 0)
		return ISO_SW_WRONG_DATA;
	resp_writer(resp, &w);
	if (tag == TAG_DISCOVERY) {
		build_discovery(&w);
		goto done;
	}
	if (object_needs_pin(tag) && a->pin == PIN_NOT_VERIFIED)
		return ISO_SW_SECURITY_STATUS;
	o = object_find(a, tag);
	if (o != NULL && o->len > 0) {
		if (o->len > PIV_OBJECT_MAX)
			return ISO_SW_UNKNOWN; /* a state file lied */
		tlv_put(&w, TAG_OBJ_DATA, o->data, o->len);
		goto done;
	}
	/* an empty stored object is a deleted one, built-ins included */
	if (o != NULL || !object_builtin(tag))
		return ISO_SW_FILE_NOT_FOUND;
	m = tlv_open(&w, TAG_OBJ_DATA);
	if (tag == TAG_CHUID)
		build_chuid(a, &w);
	else
		build_ccc(a, &w);
	tlv_close(&w, m);
done:
	if (w.overflow)
		return ISO_SW_UNKNOWN;
	resp_put(resp, &w);
	return ISO_SW_OK;
}

static uint16_t
cmd_put_data(struct piv_applet *a, const struct sim_apdu *apdu)
{
	struct piv_object *o;
	struct tlv t, content;
	uint32_t tag;
	size_t used, used2, i;

	if (apdu->p1 != 0x3f || apdu->p2 != 0xff)
		return ISO_SW_INCORRECT_P1P2;
	if (!a->mgm_ok)
		return ISO_SW_SECURITY_STATUS;
	if (tlv_parse(apdu->data, apdu->lc, &t, &used) != OL_OK ||
	    object_tag(&t, &tag) != 0)
		return ISO_SW_WRONG_DATA;
	if (tag == TAG_DISCOVERY || tag == TAG_BIT_GROUP)
		return ISO_SW_FUNC_NOT_SUPPORTED; /* fixed by the device */
	if (!object_writable(tag))
		return ISO_SW_WRONG_DATA;
	if (tlv_parse(apdu->data + used, apdu->lc - used, &content,
	    &used2) != OL_OK || content.tag != TAG_OBJ_DATA ||
	    used + used2 != apdu->lc)
		return ISO_SW_WRONG_DATA;
	if (content.len > PIV_OBJECT_MAX)
		return ISO_SW_NOT_ENOUGH_MEMORY;
	if ((o = object_find(a, tag)) == NULL) {
		if (content.len == 0 && !object_builtin(tag))
			return ISO_SW_OK; /* deleting what is not there */
		for (i = 0; i < PIV_OBJECTS_MAX && o == NULL; i++)
			if (a->st.objects[i].tag == 0)
				o = &a->st.objects[i];
		if (o == NULL)
			return ISO_SW_NOT_ENOUGH_MEMORY;
	}
	explicit_bzero(o->data, sizeof(o->data));
	o->tag = tag;
	o->len = content.len;
	if (content.len > 0)
		memcpy(o->data, content.val, content.len);
	/* an empty built-in stays as a marker that it was deleted */
	if (content.len == 0 && !object_builtin(tag))
		o->tag = 0;
	ol_log(OL_LOG_INFO, "PIV: object %06X %s (%zu bytes)", (unsigned)tag,
	    content.len > 0 ? "written" : "deleted", content.len);
	return commit_sw(a, ISO_SW_OK);
}

/* --- PIN and PUK ------------------------------------------------------- */

int
piv_pin_valid(const uint8_t pin[PIV_PIN_MAX])
{
	size_t n = 0, i;

	while (n < PIV_PIN_MAX && pin[n] != 0xff)
		n++;
	for (i = n; i < PIV_PIN_MAX; i++)
		if (pin[i] != 0xff)
			return 0;
	return n >= 6;
}

int
piv_pin_format(const char *text, uint8_t out[PIV_PIN_MAX])
{
	size_t n;

	if (text == NULL || out == NULL)
		return OL_ERR_ARG;
	n = strlen(text);
	if (n < 6 || n > PIV_PIN_MAX)
		return OL_ERR_ARG;
	memset(out, 0xff, PIV_PIN_MAX);
	memcpy(out, text, n);
	if (!piv_pin_valid(out)) {
		explicit_bzero(out, PIV_PIN_MAX);
		return OL_ERR_ARG;
	}
	return OL_OK;
}

static uint16_t
tries_left_sw(uint8_t tries)
{
	return (uint16_t)(ISO_SW_VERIFY_FAIL | (tries > 15 ? 15 : tries));
}

/* A status query: 63Cx, or 6983 once blocked. */
static uint16_t
tries_sw(uint8_t tries)
{
	return tries == 0 ? ISO_SW_AUTH_BLOCKED : tries_left_sw(tries);
}

/*
 * Compares a presented value with a reference and keeps its counter: a
 * match resets it, a mismatch takes one try and answers 63Cx with the
 * tries left, 63C0 for the one that blocks (SP 800-73-4: X is the number
 * of further allowed retries; 6983 is for attempts once blocked, which
 * callers refuse before comparing).  The caller commits the state.
 */
static uint16_t
check_ref(const uint8_t *presented, const uint8_t ref[PIV_PIN_MAX],
    uint8_t *tries, uint8_t max)
{
	if (piv_crypto_equal(presented, ref, PIV_PIN_MAX)) {
		*tries = max;
		return ISO_SW_OK;
	}
	if (*tries > 0)
		(*tries)--;
	return tries_left_sw(*tries);
}

/* The reference a VERIFY or CHANGE REFERENCE DATA names, or a SW. */
static uint16_t
pin_ref_ok(const struct piv_applet *a, uint8_t ref)
{
	if (ref == REF_PIN)
		return a->st.pin_set ? ISO_SW_OK : ISO_SW_REF_NOT_FOUND;
	if (ref == REF_PUK)
		return ISO_SW_OK;
	/* no global PIN, no OCC, no pairing code on this device */
	if (ref == REF_GLOBAL_PIN || (ref >= 0x96 && ref <= 0x98))
		return ISO_SW_REF_NOT_FOUND;
	return ISO_SW_INCORRECT_P1P2;
}

static void
pin_forget(struct piv_applet *a)
{
	a->pin = PIN_NOT_VERIFIED;
	a->pin_always = 0;
}

static uint16_t
cmd_verify(struct piv_applet *a, const struct sim_apdu *apdu)
{
	uint8_t before;
	uint16_t sw;

	if (apdu->p1 == 0xff) {
		/* logout: also on a device without a PIN, nothing to undo */
		if (apdu->lc != 0)
			return ISO_SW_WRONG_DATA;
		if (apdu->p2 != REF_PIN)
			return ISO_SW_INCORRECT_P1P2;
		pin_forget(a);
		return ISO_SW_OK;
	}
	if (apdu->p1 != 0x00)
		return ISO_SW_INCORRECT_P1P2;
	/* a status query after a verification on the device: verified,
	 * also on a device that has no PIN to type */
	if (apdu->p2 == REF_PIN && apdu->lc == 0 &&
	    a->pin == PIN_VERIFIED_ON_DEVICE)
		return ISO_SW_OK;
	if ((sw = pin_ref_ok(a, apdu->p2)) != ISO_SW_OK)
		return sw;
	if (apdu->p2 == REF_PUK) {
		/* the PUK is only presented with RESET RETRY COUNTER and
		 * CHANGE REFERENCE DATA; a status query shows its tries */
		if (apdu->lc != 0)
			return ISO_SW_WRONG_DATA;
		return tries_sw(a->st.puk_tries);
	}
	if (apdu->lc == 0) {
		if (a->pin != PIN_NOT_VERIFIED)
			return ISO_SW_OK;
		return tries_sw(a->st.pin_tries);
	}
	if (apdu->lc != PIV_PIN_MAX)
		return ISO_SW_WRONG_DATA;
	if (a->st.pin_tries == 0)
		return ISO_SW_AUTH_BLOCKED;
	if (!piv_pin_valid(apdu->data))
		return ISO_SW_WRONG_DATA;
	before = a->st.pin_tries;
	sw = check_ref(apdu->data, a->st.pin, &a->st.pin_tries,
	    PIV_PIN_TRIES);
	if (sw != ISO_SW_OK) {
		pin_forget(a);
		ol_log(OL_LOG_INFO, "PIV: wrong PIN, %u tries left",
		    (unsigned)a->st.pin_tries);
		return commit_sw(a, sw);
	}
	a->pin = PIN_VERIFIED_USB;
	a->pin_always = 1;
	if (a->st.pin_tries != before)
		return commit_sw(a, ISO_SW_OK);
	return ISO_SW_OK;
}

/*
 * VERIFY ON DEVICE (80 20 00 80, no data): the reader's PIN pad is the
 * device itself (docs/transport.md, "The device as PIN pad").  The user
 * types the PIN on the device's screen, or confirms there on a device
 * without a PIN; nothing secret crosses USB.  A PIN sent over USB earlier
 * is forgotten first: the application chose the touch mode.
 */
static uint16_t
cmd_verify_on_device(struct piv_applet *a, const struct sim_apdu *apdu)
{
	int again;

	if (apdu->p1 != 0x00 || apdu->p2 != REF_PIN)
		return ISO_SW_INCORRECT_P1P2;
	if (apdu->lc != 0)
		return ISO_SW_WRONG_LENGTH;
	a->pin_always = 0;
	/* Like any PIN pad, every verification involves the user: a PIN
	 * pad's answer never comes at once (Firefox's Protected
	 * Authentication window waits for it), and a second application
	 * logging in is not waved through.  Within a session already
	 * verified on the device a confirmation is enough. */
	again = a->pin == PIN_VERIFIED_ON_DEVICE;
	a->pin = PIN_NOT_VERIFIED;
	if (a->st.pin_set && a->st.pin_tries == 0)
		return ISO_SW_AUTH_BLOCKED;
	ol_log(OL_LOG_INFO, "PIV: waiting for the user to verify on the "
	    "device (%s)", a->st.pin_set && !again ? "PIN entry" :
	    "confirmation");
	switch (a->touch.wait(a->touch.ctx)) {
	case SIM_TOUCH_APPROVED:
		break;
	case SIM_TOUCH_DENIED:
		ol_log(OL_LOG_INFO, "PIV: verification on the device denied");
		return ISO_SW_PINPAD_CANCELLED;
	case SIM_TOUCH_CANCELLED:
	default:
		ol_log(OL_LOG_INFO, "PIV: verification on the device "
		    "cancelled by the host");
		return ISO_SW_PINPAD_CANCELLED;
	}
	ol_log(OL_LOG_INFO, "PIV: verified on the device");
	a->pin = PIN_VERIFIED_ON_DEVICE;
	/* the simulated user types the right PIN: the counter is reset as
	 * by any successful verification */
	if (a->st.pin_set && a->st.pin_tries != PIV_PIN_TRIES) {
		a->st.pin_tries = PIV_PIN_TRIES;
		return commit_sw(a, ISO_SW_OK);
	}
	return ISO_SW_OK;
}

static uint16_t
cmd_change_ref(struct piv_applet *a, const struct sim_apdu *apdu)
{
	uint8_t *ref, *tries, max;
	const char *name;
	uint16_t sw;

	if (apdu->p1 != 0x00)
		return ISO_SW_INCORRECT_P1P2;
	if ((sw = pin_ref_ok(a, apdu->p2)) != ISO_SW_OK)
		return sw;
	if (apdu->p2 == REF_PIN) {
		ref = a->st.pin;
		tries = &a->st.pin_tries;
		max = PIV_PIN_TRIES;
		name = "PIN";
	} else {
		ref = a->st.puk;
		tries = &a->st.puk_tries;
		max = PIV_PUK_TRIES;
		name = "PUK";
	}
	if (apdu->lc != 2 * PIV_PIN_MAX)
		return ISO_SW_WRONG_DATA;
	if (*tries == 0)
		return ISO_SW_AUTH_BLOCKED;
	if (!piv_pin_valid(apdu->data) ||
	    !piv_pin_valid(apdu->data + PIV_PIN_MAX))
		return ISO_SW_WRONG_DATA;
	sw = check_ref(apdu->data, ref, tries, max);
	if (sw != ISO_SW_OK) {
		if (apdu->p2 == REF_PIN)
			pin_forget(a);
		ol_log(OL_LOG_INFO, "PIV: wrong %s, %u tries left", name,
		    (unsigned)*tries);
		return commit_sw(a, sw);
	}
	memcpy(ref, apdu->data + PIV_PIN_MAX, PIV_PIN_MAX);
	if (apdu->p2 == REF_PIN)
		a->pin = PIN_VERIFIED_USB;
	ol_log(OL_LOG_INFO, "PIV: %s changed", name);
	return commit_sw(a, ISO_SW_OK);
}

static uint16_t
cmd_reset_retry(struct piv_applet *a, const struct sim_apdu *apdu)
{
	int first;
	uint16_t sw;

	if (apdu->p1 != 0x00)
		return ISO_SW_INCORRECT_P1P2;
	if (apdu->p2 != REF_PIN)
		return apdu->p2 == REF_GLOBAL_PIN ? ISO_SW_REF_NOT_FOUND :
		    ISO_SW_INCORRECT_P1P2;
	if (apdu->lc != 2 * PIV_PIN_MAX)
		return ISO_SW_WRONG_DATA;
	if (a->st.puk_tries == 0)
		return ISO_SW_AUTH_BLOCKED;
	if (!piv_pin_valid(apdu->data) ||
	    !piv_pin_valid(apdu->data + PIV_PIN_MAX))
		return ISO_SW_WRONG_DATA;
	sw = check_ref(apdu->data, a->st.puk, &a->st.puk_tries,
	    PIV_PUK_TRIES);
	if (sw != ISO_SW_OK) {
		ol_log(OL_LOG_INFO, "PIV: wrong PUK, %u tries left",
		    (unsigned)a->st.puk_tries);
		return commit_sw(a, sw);
	}
	first = !a->st.pin_set;
	memcpy(a->st.pin, apdu->data + PIV_PIN_MAX, PIV_PIN_MAX);
	a->st.pin_set = 1;
	a->st.pin_tries = PIV_PIN_TRIES;
	pin_forget(a);
	ol_log(OL_LOG_INFO, first ? "PIV: first PIN set with the PUK" :
	    "PIV: PIN reset with the PUK");
	return commit_sw(a, ISO_SW_OK);
}

/* --- the management key (9B) ------------------------------------------- */

/* The elements of a 7C template we look at; NULL when absent. */
struct dyn_auth {
	const struct tlv *witness, *challenge, *response, *exponent;
	struct tlv t[4];
};

static int
parse_dyn_auth(const struct sim_apdu *apdu, struct dyn_auth *d)
{
	struct tlv outer, e;
	struct tlv_iter it;
	const struct tlv **slot;
	size_t used;
	int r, n = 0;

	memset(d, 0, sizeof(*d));
	if (tlv_parse(apdu->data, apdu->lc, &outer, &used) != OL_OK ||
	    used != apdu->lc || outer.tag != TAG_DYN_AUTH)
		return -1;
	tlv_iter_init(&it, outer.val, outer.len);
	while ((r = tlv_next(&it, &e)) == 1) {
		switch (e.tag) {
		case TAG_WITNESS:
			slot = &d->witness;
			break;
		case TAG_CHALLENGE:
			slot = &d->challenge;
			break;
		case TAG_RESPONSE:
			slot = &d->response;
			break;
		case TAG_EXPONENTIATION:
			slot = &d->exponent;
			break;
		default:
			return -1;
		}
		if (*slot != NULL || n >= 4)
			return -1; /* each at most once */
		d->t[n] = e;
		*slot = &d->t[n++];
	}
	return r == 0 ? 0 : -1;
}

static int
mgm_alg_matches(const struct piv_applet *a, uint8_t p1)
{
	/* 00 is SP 800-78's old name for 3DES */
	return p1 == a->st.mgm_alg ||
	    (p1 == 0x00 && a->st.mgm_alg == PIV_ALG_3DES);
}

static int
alg_known(uint8_t alg)
{
	return alg == 0x00 || piv_crypto_block_size(alg) != 0 ||
	    piv_crypto_alg_asymmetric(alg);
}

/* A fresh random block, kept as the pending challenge; out gets it
 * encrypted (mutual) or plain (external). */
static uint16_t
mgm_challenge(struct piv_applet *a, enum challenge kind, uint8_t tag,
    struct sim_resp *resp)
{
	uint8_t out[PIV_BLOCK_MAX];
	struct tlv_writer w;
	size_t bs = piv_crypto_block_size(a->st.mgm_alg), m;

	chal_clear(a);
	if (piv_crypto_random(a->chal_val, bs) != OL_OK)
		return ISO_SW_UNKNOWN;
	if (kind == CHAL_MUTUAL) {
		if (piv_crypto_block(a->st.mgm_alg, a->st.mgm_key,
		    a->st.mgm_len, 1, a->chal_val, out, bs) != OL_OK) {
			chal_clear(a);
			return ISO_SW_UNKNOWN;
		}
	} else {
		memcpy(out, a->chal_val, bs);
	}
	a->chal = kind;
	a->chal_len = bs;
	resp_writer(resp, &w);
	m = tlv_open(&w, TAG_DYN_AUTH);
	tlv_put(&w, tag, out, bs);
	tlv_close(&w, m);
	explicit_bzero(out, sizeof(out));
	if (w.overflow)
		return ISO_SW_UNKNOWN;
	resp_put(resp, &w);
	return ISO_SW_OK;
}

/* External authentication, step 2: the host encrypted our challenge. */
static uint16_t
mgm_external(struct piv_applet *a, const struct tlv *response)
{
	uint8_t expect[PIV_BLOCK_MAX];
	int ok;

	if (a->chal != CHAL_EXTERNAL) {
		chal_clear(a);
		return ISO_SW_SECURITY_STATUS; /* no challenge was asked for */
	}
	if (response->len != a->chal_len) {
		chal_clear(a);
		return ISO_SW_WRONG_DATA;
	}
	if (piv_crypto_block(a->st.mgm_alg, a->st.mgm_key, a->st.mgm_len, 1,
	    a->chal_val, expect, a->chal_len) != OL_OK) {
		chal_clear(a);
		return ISO_SW_UNKNOWN;
	}
	ok = piv_crypto_equal(expect, response->val, a->chal_len);
	explicit_bzero(expect, sizeof(expect));
	chal_clear(a);
	a->mgm_ok = ok;
	ol_log(OL_LOG_INFO, ok ? "PIV: management key authenticated" :
	    "PIV: management key authentication failed");
	return ok ? ISO_SW_OK : ISO_SW_SECURITY_STATUS;
}

/* Mutual authentication, step 2: the host decrypted our witness and
 * sends a challenge of its own, which we encrypt. */
static uint16_t
mgm_mutual(struct piv_applet *a, const struct dyn_auth *d,
    struct sim_resp *resp)
{
	uint8_t out[PIV_BLOCK_MAX];
	struct tlv_writer w;
	size_t m, bs = a->chal_len;
	int ok;

	if (a->chal != CHAL_MUTUAL) {
		chal_clear(a);
		return ISO_SW_SECURITY_STATUS;
	}
	if (d->witness->len != bs || d->challenge->len != bs) {
		chal_clear(a);
		return ISO_SW_WRONG_DATA;
	}
	ok = piv_crypto_equal(a->chal_val, d->witness->val, bs);
	chal_clear(a);
	a->mgm_ok = 0;
	if (!ok) {
		ol_log(OL_LOG_INFO, "PIV: management key authentication "
		    "failed");
		return ISO_SW_SECURITY_STATUS;
	}
	if (piv_crypto_block(a->st.mgm_alg, a->st.mgm_key, a->st.mgm_len, 1,
	    d->challenge->val, out, bs) != OL_OK)
		return ISO_SW_UNKNOWN;
	resp_writer(resp, &w);
	m = tlv_open(&w, TAG_DYN_AUTH);
	tlv_put(&w, TAG_RESPONSE, out, bs);
	tlv_close(&w, m);
	explicit_bzero(out, sizeof(out));
	if (w.overflow)
		return ISO_SW_UNKNOWN;
	resp_put(resp, &w);
	a->mgm_ok = 1;
	ol_log(OL_LOG_INFO, "PIV: management key authenticated (mutual)");
	return ISO_SW_OK;
}

static uint16_t
ga_management(struct piv_applet *a, const struct sim_apdu *apdu,
    const struct dyn_auth *d, struct sim_resp *resp)
{
	const struct tlv *wit = d->witness, *ch = d->challenge,
	    *rsp = d->response;

	if (!mgm_alg_matches(a, apdu->p1)) {
		chal_clear(a);
		return ISO_SW_WRONG_DATA;
	}
	if (d->exponent != NULL)
		goto bad;
	/* 7C { 80 00 }: mutual, step 1 (yubico-piv-tool) */
	if (wit != NULL && wit->len == 0 && ch == NULL && rsp == NULL)
		return mgm_challenge(a, CHAL_MUTUAL, TAG_WITNESS, resp);
	/* 7C { 81 00 }: external, step 1 (piv-tool -A A:9B:03) */
	if (ch != NULL && ch->len == 0 && wit == NULL && rsp == NULL)
		return mgm_challenge(a, CHAL_EXTERNAL, TAG_CHALLENGE, resp);
	/* 7C { 82 encrypted challenge }: external, step 2 */
	if (rsp != NULL && rsp->len > 0 && wit == NULL && ch == NULL)
		return mgm_external(a, rsp);
	/* 7C { 80 witness, 81 challenge [, 82 00] }: mutual, step 2 */
	if (wit != NULL && wit->len > 0 && ch != NULL && ch->len > 0 &&
	    (rsp == NULL || rsp->len == 0))
		return mgm_mutual(a, d, resp);
bad:
	chal_clear(a);
	return ISO_SW_WRONG_DATA;
}

/* --- keys: GENERATE and GENERAL AUTHENTICATE ---------------------------- */

static struct piv_key *
key_slot(struct piv_applet *a, uint8_t slot)
{
	size_t i;

	for (i = 0; i < PIV_KEY_SLOTS; i++)
		if (slot_ids[i] == slot)
			return &a->st.keys[i];
	return NULL;
}

static void
put_pubkey(struct tlv_writer *w, const struct piv_pubkey *pub)
{
	size_t m;

	m = tlv_open(w, TAG_PUBKEY);
	if (pub->alg == PIV_ALG_RSA2048) {
		tlv_put(w, 0x81, pub->modulus, sizeof(pub->modulus));
		tlv_put(w, 0x82, pub->exponent, pub->exponent_len);
	} else {
		tlv_put(w, 0x86, pub->point, pub->point_len);
	}
	tlv_close(w, m);
}

static uint16_t
cmd_generate(struct piv_applet *a, const struct sim_apdu *apdu,
    struct sim_resp *resp)
{
	uint8_t der[PIV_KEY_DER_MAX];
	struct piv_pubkey pub;
	struct piv_key *k;
	struct tlv crt, alg;
	struct tlv_writer w;
	size_t used, der_len = 0;
	uint16_t sw = ISO_SW_UNKNOWN;
	int64_t started;
	uint8_t id;

	if (apdu->p1 != 0x00 || (k = key_slot(a, apdu->p2)) == NULL)
		return ISO_SW_INCORRECT_P1P2;
	if (!a->mgm_ok)
		return ISO_SW_SECURITY_STATUS;
	/* AC { 80 alg [, AA pin policy] [, AB touch policy] }: the policies
	 * are the vendor guide's fixed ones, whatever the host asks */
	if (tlv_parse(apdu->data, apdu->lc, &crt, &used) != OL_OK ||
	    used != apdu->lc || crt.tag != TAG_CRT ||
	    tlv_find(crt.val, crt.len, TAG_ALG, &alg) != 1 || alg.len != 1)
		return ISO_SW_WRONG_DATA;
	id = alg.val[0];
	if (!piv_crypto_alg_asymmetric(id) ||
	    (id == PIV_ALG_RSA2048 && a->st.model != PIV_MODEL_C))
		return ISO_SW_WRONG_DATA;
	if (id == PIV_ALG_RSA2048)
		ol_log(OL_LOG_INFO, "PIV: generating an RSA-2048 key in %02X",
		    (unsigned)apdu->p2);
	started = ol_now_ms();
	if (piv_crypto_generate(id, der, sizeof(der), &der_len) != OL_OK ||
	    piv_crypto_public(id, der, der_len, &pub) != OL_OK)
		goto out;
	piv_timing_pace(a->timing, PIV_OP_GENERATE, id, started);
	resp_writer(resp, &w);
	put_pubkey(&w, &pub);
	if (w.overflow)
		goto out;
	explicit_bzero(k->der, sizeof(k->der));
	memcpy(k->der, der, der_len);
	k->der_len = der_len;
	k->alg = id;
	k->slot = apdu->p2;
	resp_put(resp, &w);
	ol_log(OL_LOG_INFO, "PIV: key generated in %02X (%s)",
	    (unsigned)apdu->p2, piv_crypto_alg_name(id));
	sw = commit_sw(a, ISO_SW_OK);
out:
	explicit_bzero(der, sizeof(der));
	return sw;
}

/*
 * The dual mode, the same for all four slots: with the PIN sent over USB
 * an operation is blind; otherwise (nothing verified, or verified on the
 * device) the user confirms each one on the screen.  PIV's PIN-always rule
 * for 9C is a per-use rule: after a PIN sent over USB, one VERIFY allows
 * one 9C operation; in the touch mode the touch is the per-use
 * confirmation.
 */
static uint16_t
authorize(struct piv_applet *a, uint8_t slot, const char *what)
{
	if (a->pin == PIN_VERIFIED_USB) {
		if (slot != 0x9c)
			return ISO_SW_OK;
		if (a->pin_always) {
			a->pin_always = 0;
			return ISO_SW_OK;
		}
		ol_log(OL_LOG_INFO, "PIV: 9C needs the PIN verified again "
		    "before each use");
		return ISO_SW_SECURITY_STATUS;
	}
	ol_log(OL_LOG_INFO, "PIV: waiting for touch (%s with %02X)", what,
	    (unsigned)slot);
	switch (a->touch.wait(a->touch.ctx)) {
	case SIM_TOUCH_APPROVED:
		ol_log(OL_LOG_INFO, "PIV: touch approved");
		return ISO_SW_OK;
	case SIM_TOUCH_DENIED:
		ol_log(OL_LOG_INFO, "PIV: touch denied");
		return ISO_SW_SECURITY_STATUS;
	case SIM_TOUCH_CANCELLED:
	default:
		ol_log(OL_LOG_INFO, "PIV: touch wait cancelled by the host");
		return ISO_SW_SECURITY_STATUS;
	}
}

/* The checks before a private-key operation: the input fits the key. */
static uint16_t
ga_key_input_ok(const struct piv_key *k, uint8_t slot,
    const struct dyn_auth *d)
{
	if (d->response == NULL || d->response->len != 0 ||
	    d->witness != NULL || (d->challenge == NULL) ==
	    (d->exponent == NULL))
		return ISO_SW_WRONG_DATA;
	if (d->exponent != NULL) {
		/* key agreement: the key management key, P-256 */
		if (k->alg != PIV_ALG_P256 || slot != 0x9d ||
		    d->exponent->len != PIV_P256_POINT)
			return ISO_SW_WRONG_DATA;
		return ISO_SW_OK;
	}
	switch (k->alg) {
	case PIV_ALG_P256:
		if (d->challenge->len < 1 ||
		    d->challenge->len > PIV_ECDSA_HASH_MAX)
			return ISO_SW_WRONG_DATA;
		break;
	case PIV_ALG_RSA2048:
		if (d->challenge->len != PIV_RSA_BYTES)
			return ISO_SW_WRONG_DATA;
		break;
	case PIV_ALG_ED25519:
		break;
	default:
		return ISO_SW_UNKNOWN;
	}
	return ISO_SW_OK;
}

static const char *
ga_what(const struct piv_key *k, const struct dyn_auth *d)
{
	if (d->exponent != NULL)
		return "ECDH";
	switch (k->alg) {
	case PIV_ALG_P256:
		return "ECDSA signature";
	case PIV_ALG_RSA2048:
		return "RSA private-key operation";
	default:
		return "Ed25519 signature";
	}
}

static uint16_t
ga_key(struct piv_applet *a, const struct sim_apdu *apdu,
    const struct dyn_auth *d, struct sim_resp *resp)
{
	uint8_t out[PIV_RSA_BYTES];
	struct piv_key *k;
	struct tlv_writer w;
	size_t out_len = 0, m;
	uint16_t sw;
	int64_t started;
	int r = OL_ERR_IO;

	if ((k = key_slot(a, apdu->p2)) == NULL ||
	    !piv_crypto_alg_asymmetric(apdu->p1))
		return ISO_SW_INCORRECT_P1P2;
	if (k->alg == 0 || k->der_len == 0)
		return ISO_SW_FILE_NOT_FOUND; /* no key in this slot */
	if (k->alg != apdu->p1)
		return ISO_SW_WRONG_DATA;
	if ((sw = ga_key_input_ok(k, apdu->p2, d)) != ISO_SW_OK)
		return sw;
	if ((sw = authorize(a, apdu->p2, ga_what(k, d))) != ISO_SW_OK)
		return sw;
	started = ol_now_ms();   /* after the touch: the element works now */
	if (d->exponent != NULL) {
		r = piv_crypto_ecdh(k->der, k->der_len, d->exponent->val,
		    d->exponent->len, out);
		out_len = PIV_P256_BYTES;
	} else if (k->alg == PIV_ALG_P256) {
		r = piv_crypto_ecdsa(k->der, k->der_len, d->challenge->val,
		    d->challenge->len, out, sizeof(out), &out_len);
	} else if (k->alg == PIV_ALG_RSA2048) {
		r = piv_crypto_rsa_raw(k->der, k->der_len, d->challenge->val,
		    out);
		out_len = PIV_RSA_BYTES;
	} else if (k->alg == PIV_ALG_ED25519) {
		r = piv_crypto_ed25519(k->der, k->der_len, d->challenge->val,
		    d->challenge->len, out);
		out_len = PIV_ED25519_SIG;
	}
	if (r != OL_OK) {
		explicit_bzero(out, sizeof(out));
		if (r == OL_ERR_ARG)
			return ISO_SW_WRONG_DATA;
		ol_log(OL_LOG_CRITICAL, "PIV: %s with %02X failed: %s",
		    ga_what(k, d), (unsigned)apdu->p2, ol_strerror(r));
		return ISO_SW_UNKNOWN;
	}
	piv_timing_pace(a->timing, PIV_OP_PRIVATE, k->alg, started);
	resp_writer(resp, &w);
	m = tlv_open(&w, TAG_DYN_AUTH);
	tlv_put(&w, TAG_RESPONSE, out, out_len);
	tlv_close(&w, m);
	explicit_bzero(out, sizeof(out));
	if (w.overflow)
		return ISO_SW_UNKNOWN;
	resp_put(resp, &w);
	ol_log(OL_LOG_INFO, "PIV: %s with %02X (%s)", ga_what(k, d),
	    (unsigned)apdu->p2, piv_crypto_alg_name(k->alg));
	return ISO_SW_OK;
}

static uint16_t
cmd_general_auth(struct piv_applet *a, const struct sim_apdu *apdu,
    struct sim_resp *resp)
{
	struct dyn_auth d;

	if (!alg_known(apdu->p1)) {
		chal_clear(a);
		return ISO_SW_INCORRECT_P1P2;
	}
	if (apdu->p2 != KEY_MGM && key_slot(a, apdu->p2) == NULL)
		return ISO_SW_INCORRECT_P1P2;
	if (parse_dyn_auth(apdu, &d) != 0) {
		chal_clear(a);
		return ISO_SW_WRONG_DATA;
	}
	if (apdu->p2 == KEY_MGM)
		return ga_management(a, apdu, &d, resp);
	return ga_key(a, apdu, &d, resp);
}

/* --- dispatch ------------------------------------------------------------ */

uint16_t
piv_applet_process(piv_applet_t *a, const struct sim_apdu *apdu,
    struct sim_resp *resp)
{
	if (a == NULL || apdu == NULL || resp == NULL)
		return ISO_SW_UNKNOWN;
	resp->len = 0;
	/* a pending 9B challenge is for the very next command only */
	if (apdu->ins != INS_GENERAL_AUTH || apdu->p2 != KEY_MGM)
		chal_clear(a);
	/* every PIV command is interindustry class but one of Openloop's
	 * own; Yubico's proprietary instructions (FD, F8, FF, FE, F7, F9,
	 * FB, FA) are not here: Openloop is no YubiKey (6D00) */
	if (apdu->cla == 0x80)
		return apdu->ins == INS_VERIFY ?
		    cmd_verify_on_device(a, apdu) : ISO_SW_INS_NOT_SUPPORTED;
	if (apdu->cla != 0x00)
		return ISO_SW_CLA_NOT_SUPPORTED;
	switch (apdu->ins) {
	case INS_GET_DATA:
		return cmd_get_data(a, apdu, resp);
	case INS_PUT_DATA:
		return cmd_put_data(a, apdu);
	case INS_VERIFY:
		return cmd_verify(a, apdu);
	case INS_CHANGE_REF:
		return cmd_change_ref(a, apdu);
	case INS_RESET_RETRY:
		return cmd_reset_retry(a, apdu);
	case INS_GENERATE:
		return cmd_generate(a, apdu, resp);
	case INS_GENERAL_AUTH:
		return cmd_general_auth(a, apdu, resp);
	default:
		return ISO_SW_INS_NOT_SUPPORTED;
	}
}
