/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The persistent state of the simulated PIV applet: a fresh device, the
 * binary state file (format in docs/simulator.md, "State file"), and
 * saving it so that a crash at any moment leaves either the old or the new
 * file, never a torn one.
 *
 * One rule set (state_check) decides what a valid state is.  The encoder
 * refuses a state that breaks it and the decoder refuses a file whose
 * contents break it, so every file we write can be read back, and the
 * applet never sees a value outside the limits of piv_state.h.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ol_err.h"
#include "ol_log.h"
#include "piv_state.h"
#include "sim_flash.h"

/*
 * Every field of struct piv_state must be written by encode() and read by
 * decode().  These checks break the build when a member is appended to one
 * of the structs, so that nobody adds state the file silently forgets.
 * After adding a field: give it a record (or extend one, with a new
 * STATE_VERSION), check it in state_check(), document it, then move the
 * "last member" named here.
 */
_Static_assert(offsetof(struct piv_state, objects) +
    sizeof(((struct piv_state *)0)->objects) == sizeof(struct piv_state),
    "struct piv_state gained a member: serialise it in piv_state.c");
_Static_assert(offsetof(struct piv_key, der) + PIV_KEY_DER_MAX ==
    sizeof(struct piv_key),
    "struct piv_key gained a member: serialise it in piv_state.c");
_Static_assert(offsetof(struct piv_object, data) + PIV_OBJECT_MAX ==
    sizeof(struct piv_object),
    "struct piv_object gained a member: serialise it in piv_state.c");

#define STATE_MAGIC      "OLPIVST"        /* + its NUL: 8 bytes */
#define STATE_MAGIC_LEN  8
#define STATE_VERSION    0x01
#define STATE_HDR_LEN    (STATE_MAGIC_LEN + 1)
#define REC_HDR_LEN      3                /* type, length (2 bytes, BE) */
#define STATE_FILE_MAX   (1024 * 1024)    /* a valid file is < 140 KiB */
#define OBJ_TAG_MAX      0xffffffu        /* tags are 1 to 3 bytes */

/* Record types.  Each of MODEL..MGM exactly once, KEY once per slot,
 * OBJECT once per tag, END last; any order otherwise. */
enum {
	REC_END = 0x00,
	REC_MODEL = 0x01,
	REC_SERIAL = 0x02,
	REC_PIN = 0x03,
	REC_PUK = 0x04,
	REC_MGM = 0x05,
	REC_KEY = 0x06,
	REC_OBJECT = 0x07,
};

#define REQUIRED_RECS ((1u << REC_MODEL) | (1u << REC_SERIAL) | \
    (1u << REC_PIN) | (1u << REC_PUK) | (1u << REC_MGM))

#define PIN_REC_LEN   (1 + PIV_PIN_MAX + 1)  /* set, PIN, tries */
#define PUK_REC_LEN   (PIV_PIN_MAX + 1)      /* PUK, tries */
#define PIN_MIN       6

#define BAD_SERIAL_CHAR "serial not printable ASCII without space"
#define BAD_MGM_LEN   "management key length does not fit its algorithm"

static const uint8_t slot_order[PIV_KEY_SLOTS] = { 0x9a, 0x9c, 0x9d, 0x9e };

/* --- what a valid state is ------------------------------------------------ */

static int
slot_index(uint8_t slot)
{
	size_t i;

	for (i = 0; i < PIV_KEY_SLOTS; i++)
		if (slot_order[i] == slot)
			return (int)i;
	return -1;
}

/* Length of the management key an algorithm needs; 0 if unknown. */
static size_t
mgm_key_len(uint8_t alg)
{
	switch (alg) {
	case PIV_ALG_3DES:
		return 24;
	case PIV_ALG_AES128:
		return 16;
	case PIV_ALG_AES192:
		return 24;
	case PIV_ALG_AES256:
		return 32;
	default:
		return 0;
	}
}

static int
key_alg_ok(uint8_t alg, enum piv_model model)
{
	switch (alg) {
	case PIV_ALG_P256:
	case PIV_ALG_ED25519:
		return 1;
	case PIV_ALG_RSA2048:
		return model == PIV_MODEL_C; /* model A has no RSA */
	default:
		return 0;
	}
}

/* 6 to 8 bytes other than FF, then FF padding (SP 800-73-4 PIN format). */
static int
secret_ok(const uint8_t v[PIV_PIN_MAX])
{
	size_t n = 0, i;

	while (n < PIV_PIN_MAX && v[n] != 0xff)
		n++;
	if (n < PIN_MIN)
		return 0;
	for (i = n; i < PIV_PIN_MAX; i++)
		if (v[i] != 0xff)
			return 0;
	return 1;
}

static int
all_ff(const uint8_t *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (v[i] != 0xff)
			return 0;
	return 1;
}

/* Printable ASCII without space, as --serial requires; 0 to 32 bytes. */
static int
serial_char_ok(uint8_t c)
{
	return c > 0x20 && c < 0x7f;
}

/*
 * NULL if st is a state the applet may hold, else why not.  Unused object
 * entries (tag 0) are ignored whatever their len and data: they are not
 * written and come back zeroed.
 */
static const char *
state_check(const struct piv_state *st)
{
	const char *end;
	size_t i, j;

	if (st->model != PIV_MODEL_A && st->model != PIV_MODEL_C)
		return "unknown model";
	if ((end = memchr(st->serial, '\0', sizeof(st->serial))) == NULL)
		return "serial not terminated";
	for (i = 0; st->serial + i < end; i++)
		if (!serial_char_ok((uint8_t)st->serial[i]))
			return BAD_SERIAL_CHAR;
	if (st->pin_set != 0 && st->pin_set != 1)
		return "pin_set neither 0 nor 1";
	if (st->pin_set ? !secret_ok(st->pin) : !all_ff(st->pin, PIV_PIN_MAX))
		return st->pin_set ? "PIN not 6 to 8 bytes padded with FF" :
		    "no PIN set but the PIN is not all FF";
	if (st->pin_tries > PIV_PIN_TRIES)
		return "PIN tries over 8";
	if (!secret_ok(st->puk))
		return "PUK not 6 to 8 bytes padded with FF";
	if (st->puk_tries > PIV_PUK_TRIES)
		return "PUK tries over 8";
	if (mgm_key_len(st->mgm_alg) == 0)
		return "unknown management key algorithm";
	if (st->mgm_len != mgm_key_len(st->mgm_alg))
		return BAD_MGM_LEN;
	for (i = 0; i < PIV_KEY_SLOTS; i++) {
		const struct piv_key *k = &st->keys[i];

		if (k->slot != slot_order[i])
			return "key slots not 9A 9C 9D 9E in this order";
		if (k->alg == 0 && k->der_len != 0)
			return "key without algorithm has DER bytes";
		if (k->alg == 0)
			continue;
		if (!key_alg_ok(k->alg, st->model))
			return "key algorithm unknown or not in this model";
		if (k->der_len == 0 || k->der_len > PIV_KEY_DER_MAX)
			return "key DER empty or over 2048 bytes";
	}
	for (i = 0; i < PIV_OBJECTS_MAX; i++) {
		const struct piv_object *o = &st->objects[i];

		if (o->tag == 0)
			continue;
		if (o->tag > OBJ_TAG_MAX)
			return "object tag over 3 bytes";
		if (o->len > PIV_OBJECT_MAX)
			return "object over 4096 bytes";
		for (j = 0; j < i; j++)
			if (st->objects[j].tag == o->tag)
				return "two objects with one tag";
	}
	return NULL;
}

/* --- a fresh device ------------------------------------------------------- */

void
piv_state_init(struct piv_state *st, enum piv_model model, const char *serial)
{
	static const uint8_t mgm_default[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	char copy[PIV_SERIAL_MAX + 1];
	size_t n = 0, i;

	if (st == NULL)
		return;
	/* serial may point into *st (fresh_reset does that): copy it first.
	 * The state holds 32 characters; a longer --serial is cut. */
	if (serial != NULL)
		n = strnlen(serial, PIV_SERIAL_MAX);
	memcpy(copy, serial != NULL ? serial : "", n);
	copy[n] = '\0';

	/* the whole struct, padding included: states compare with memcmp,
	 * and no old secret survives */
	explicit_bzero(st, sizeof(*st));
	st->model = model;
	memcpy(st->serial, copy, n + 1);
	st->pin_set = 0;
	memset(st->pin, 0xff, sizeof(st->pin));
	st->pin_tries = PIV_PIN_TRIES;
	memcpy(st->puk, "12345678", PIV_PIN_MAX);
	st->puk_tries = PIV_PUK_TRIES;
	st->mgm_alg = PIV_ALG_3DES;
	st->mgm_len = 24;
	for (i = 0; i < 3; i++)
		memcpy(st->mgm_key + 8 * i, mgm_default, 8);
	for (i = 0; i < PIV_KEY_SLOTS; i++)
		st->keys[i].slot = slot_order[i];
}

void
piv_state_clear(struct piv_state *st)
{
	if (st != NULL)
		explicit_bzero(st, sizeof(*st));
}

/*
 * After a failed load or decode *st becomes a fresh device with the model
 * and serial it had on entry (the caller initialised it with its own
 * --model and --serial before loading).  Garbage there gives model C and
 * an empty serial rather than a second failure.
 */
struct fresh {
	enum piv_model model;
	char serial[PIV_SERIAL_MAX + 1];
};

static void
fresh_remember(const struct piv_state *st, struct fresh *f)
{
	const char *end;

	f->model = st->model == PIV_MODEL_A ? PIV_MODEL_A : PIV_MODEL_C;
	memset(f->serial, 0, sizeof(f->serial));
	if ((end = memchr(st->serial, '\0', sizeof(st->serial))) != NULL)
		memcpy(f->serial, st->serial, (size_t)(end - st->serial));
}

static void
fresh_reset(struct piv_state *st, const struct fresh *f)
{
	piv_state_init(st, f->model, f->serial);
}

/* --- encoding ------------------------------------------------------------- */

struct writer {
	uint8_t *buf;
	size_t off;
};

static void
put_rec(struct writer *w, uint8_t type, size_t len)
{
	w->buf[w->off++] = type;
	w->buf[w->off++] = (uint8_t)(len >> 8);
	w->buf[w->off++] = (uint8_t)len;
}

static void
put(struct writer *w, const void *p, size_t n)
{
	if (n > 0)
		memcpy(w->buf + w->off, p, n);
	w->off += n;
}

static void
put_byte(struct writer *w, uint8_t b)
{
	w->buf[w->off++] = b;
}

/* st has passed state_check(), so every length below fits its record. */
static size_t
encoded_len(const struct piv_state *st)
{
	size_t n, i;

	n = STATE_HDR_LEN;
	n += REC_HDR_LEN + 1;                             /* MODEL */
	n += REC_HDR_LEN + strlen(st->serial);            /* SERIAL */
	n += REC_HDR_LEN + PIN_REC_LEN;                   /* PIN */
	n += REC_HDR_LEN + PUK_REC_LEN;                   /* PUK */
	n += REC_HDR_LEN + 1 + st->mgm_len;               /* MGM */
	for (i = 0; i < PIV_KEY_SLOTS; i++)
		if (st->keys[i].alg != 0)
			n += REC_HDR_LEN + 2 + st->keys[i].der_len;
	for (i = 0; i < PIV_OBJECTS_MAX; i++)
		if (st->objects[i].tag != 0)
			n += REC_HDR_LEN + 3 + st->objects[i].len;
	n += REC_HDR_LEN;                                 /* END */
	return n;
}

static int
encode(const struct piv_state *st, uint8_t **out, size_t *len,
    const char **why)
{
	struct writer w = { NULL, 0 };
	size_t n, i;

	if ((*why = state_check(st)) != NULL)
		return OL_ERR_ARG;
	n = encoded_len(st);
	if ((w.buf = malloc(n)) == NULL) {
		*why = "out of memory";
		return OL_ERR_NOMEM;
	}

	put(&w, STATE_MAGIC, STATE_MAGIC_LEN);
	put_byte(&w, STATE_VERSION);

	put_rec(&w, REC_MODEL, 1);
	put_byte(&w, st->model == PIV_MODEL_A ? 'A' : 'C');

	put_rec(&w, REC_SERIAL, strlen(st->serial));
	put(&w, st->serial, strlen(st->serial));

	put_rec(&w, REC_PIN, PIN_REC_LEN);
	put_byte(&w, (uint8_t)st->pin_set);
	put(&w, st->pin, PIV_PIN_MAX);
	put_byte(&w, st->pin_tries);

	put_rec(&w, REC_PUK, PUK_REC_LEN);
	put(&w, st->puk, PIV_PIN_MAX);
	put_byte(&w, st->puk_tries);

	put_rec(&w, REC_MGM, 1 + st->mgm_len);
	put_byte(&w, st->mgm_alg);
	put(&w, st->mgm_key, st->mgm_len);

	for (i = 0; i < PIV_KEY_SLOTS; i++) {
		const struct piv_key *k = &st->keys[i];

		if (k->alg == 0)
			continue;
		put_rec(&w, REC_KEY, 2 + k->der_len);
		put_byte(&w, k->slot);
		put_byte(&w, k->alg);
		put(&w, k->der, k->der_len);
	}
	for (i = 0; i < PIV_OBJECTS_MAX; i++) {
		const struct piv_object *o = &st->objects[i];

		if (o->tag == 0)
			continue;
		put_rec(&w, REC_OBJECT, 3 + o->len);
		put_byte(&w, (uint8_t)(o->tag >> 16));
		put_byte(&w, (uint8_t)(o->tag >> 8));
		put_byte(&w, (uint8_t)o->tag);
		put(&w, o->data, o->len);
	}
	put_rec(&w, REC_END, 0);

	if (w.off != n) { /* encoded_len and the writer disagree: a bug */
		explicit_bzero(w.buf, n);
		free(w.buf);
		*why = "internal error: encoded length";
		return OL_ERR_ARG;
	}
	*out = w.buf;
	*len = n;
	return OL_OK;
}

int
piv_state_encode(const struct piv_state *st, uint8_t **out, size_t *len)
{
	const char *why;

	if (out != NULL)
		*out = NULL;
	if (len != NULL)
		*len = 0;
	if (st == NULL || out == NULL || len == NULL)
		return OL_ERR_ARG;
	return encode(st, out, len, &why);
}

/* --- decoding ------------------------------------------------------------- */

/*
 * One record's value into tmp.  Lengths are checked here, before any copy;
 * ranges of values that fit are checked here when a record alone can tell
 * (for a precise message), and all of them again by state_check().
 */
static const char *
decode_rec(struct piv_state *tmp, uint8_t type, const uint8_t *v, size_t n,
    unsigned *keys_seen, size_t *nobj)
{
	size_t i;
	int idx;

	switch (type) {
	case REC_MODEL:
		if (n != 1)
			return "MODEL record not 1 byte";
		if (v[0] == 'A')
			tmp->model = PIV_MODEL_A;
		else if (v[0] == 'C')
			tmp->model = PIV_MODEL_C;
		else
			return "unknown model";
		return NULL;
	case REC_SERIAL:
		if (n > PIV_SERIAL_MAX)
			return "serial over 32 bytes";
		for (i = 0; i < n; i++)
			if (!serial_char_ok(v[i]))
				return BAD_SERIAL_CHAR;
		memcpy(tmp->serial, v, n);
		tmp->serial[n] = '\0';
		return NULL;
	case REC_PIN:
		if (n != PIN_REC_LEN)
			return "PIN record not 10 bytes";
		if (v[0] > 1)
			return "PIN set flag neither 0 nor 1";
		if (v[1 + PIV_PIN_MAX] > PIV_PIN_TRIES)
			return "PIN tries over 8";
		tmp->pin_set = v[0];
		memcpy(tmp->pin, v + 1, PIV_PIN_MAX);
		tmp->pin_tries = v[1 + PIV_PIN_MAX];
		return NULL;
	case REC_PUK:
		if (n != PUK_REC_LEN)
			return "PUK record not 9 bytes";
		if (v[PIV_PIN_MAX] > PIV_PUK_TRIES)
			return "PUK tries over 8";
		memcpy(tmp->puk, v, PIV_PIN_MAX);
		tmp->puk_tries = v[PIV_PIN_MAX];
		return NULL;
	case REC_MGM:
		if (n < 1 || mgm_key_len(v[0]) == 0)
			return "unknown management key algorithm";
		if (n - 1 != mgm_key_len(v[0]))
			return BAD_MGM_LEN;
		tmp->mgm_alg = v[0];
		tmp->mgm_len = n - 1;
		memcpy(tmp->mgm_key, v + 1, n - 1);
		return NULL;
	case REC_KEY:
		if (n < 3)
			return "KEY record under 3 bytes";
		if (n - 2 > PIV_KEY_DER_MAX)
			return "key DER over 2048 bytes";
		if ((idx = slot_index(v[0])) < 0)
			return "unknown key slot";
		if (*keys_seen & (1u << idx))
			return "two KEY records for one slot";
		if (v[1] == 0)
			return "KEY record with algorithm 0";
		*keys_seen |= 1u << idx;
		tmp->keys[idx].alg = v[1];
		tmp->keys[idx].der_len = n - 2;
		memcpy(tmp->keys[idx].der, v + 2, n - 2);
		return NULL;
	case REC_OBJECT:
		if (n < 3)
			return "OBJECT record under 3 bytes";
		if (n - 3 > PIV_OBJECT_MAX)
			return "object over 4096 bytes";
		if (*nobj >= PIV_OBJECTS_MAX)
			return "more than 32 objects";
		tmp->objects[*nobj].tag = (uint32_t)v[0] << 16 |
		    (uint32_t)v[1] << 8 | v[2];
		if (tmp->objects[*nobj].tag == 0)
			return "object tag 0";
		for (i = 0; i < *nobj; i++)
			if (tmp->objects[i].tag == tmp->objects[*nobj].tag)
				return "two OBJECT records with one tag";
		tmp->objects[*nobj].len = n - 3;
		memcpy(tmp->objects[*nobj].data, v + 3, n - 3);
		(*nobj)++;
		return NULL;
	default:
		return "unknown record type (a file from a newer version?)";
	}
}

/*
 * Parses buf into a scratch state and copies it to *st only when all of it
 * is valid.  On failure *why and *at say what and where (byte offset).
 */
static int
decode(const uint8_t *buf, size_t len, struct piv_state *st,
    const char **why, size_t *at)
{
	struct piv_state *tmp = NULL;
	struct fresh f;
	unsigned seen = 0, keys_seen = 0;
	size_t off, n, nobj = 0, i;
	uint8_t type;
	int ended = 0, r = OL_ERR_PROTOCOL;

	*why = NULL;
	*at = 0;
	fresh_remember(st, &f);
	if (buf == NULL && len > 0) {
		*why = "no buffer";
		r = OL_ERR_ARG;
		goto out;
	}
	/* heap, not stack: about 140 KiB */
	if ((tmp = calloc(1, sizeof(*tmp))) == NULL) {
		*why = "out of memory";
		r = OL_ERR_NOMEM;
		goto out;
	}
	for (i = 0; i < PIV_KEY_SLOTS; i++)
		tmp->keys[i].slot = slot_order[i];

	if (len < STATE_HDR_LEN ||
	    memcmp(buf, STATE_MAGIC, STATE_MAGIC_LEN) != 0) {
		*why = "not a state file (no OLPIVST header)";
		goto out;
	}
	if (buf[STATE_MAGIC_LEN] != STATE_VERSION) {
		*at = STATE_MAGIC_LEN;
		*why = "unsupported version";
		goto out;
	}
	off = STATE_HDR_LEN;
	while (!ended) {
		*at = off;
		if (len - off < REC_HDR_LEN) {
			*why = off == len ? "no END record (truncated?)" :
			    "truncated record header";
			goto out;
		}
		type = buf[off];
		n = (size_t)buf[off + 1] << 8 | buf[off + 2];
		off += REC_HDR_LEN;
		if (n > len - off) {
			*why = "record longer than the rest of the file";
			goto out;
		}
		if (type == REC_END) {
			if (n != 0 || off != len) {
				*why = n != 0 ? "END record not empty" :
				    "data after the END record";
				goto out;
			}
			ended = 1;
			continue;
		}
		if (type <= REC_MGM) {
			if (seen & (1u << type)) {
				*why = "record repeated";
				goto out;
			}
			seen |= 1u << type;
		}
		if ((*why = decode_rec(tmp, type, buf + off, n, &keys_seen,
		    &nobj)) != NULL)
			goto out;
		off += n;
	}
	if ((seen & REQUIRED_RECS) != REQUIRED_RECS) {
		*why = "a MODEL, SERIAL, PIN, PUK or MGM record is missing";
		goto out;
	}
	/* what no single record can tell: an RSA key in model A, ... */
	*at = 0;
	if ((*why = state_check(tmp)) != NULL)
		goto out;

	memcpy(st, tmp, sizeof(*st));
	r = OL_OK;
out:
	if (tmp != NULL) {
		explicit_bzero(tmp, sizeof(*tmp));
		free(tmp);
	}
	if (r != OL_OK)
		fresh_reset(st, &f);
	return r;
}

int
piv_state_decode(const uint8_t *buf, size_t len, struct piv_state *st)
{
	const char *why;
	size_t at;

	if (st == NULL)
		return OL_ERR_ARG;
	return decode(buf, len, st, &why, &at);
}

/* --- files ---------------------------------------------------------------- */

int
piv_state_load(const char *path, struct piv_state *st)
{
	struct fresh f;
	const char *why;
	uint8_t *buf = NULL;
	size_t len = 0, at;
	int r;

	if (st == NULL)
		return OL_ERR_ARG;
	fresh_remember(st, &f);
	if (path == NULL || *path == '\0') {
		r = OL_ERR_ARG;
		goto out;
	}
	if ((r = sim_flash_read(path, STATE_FILE_MAX, &buf, &len, &why)) !=
	    OL_OK) {
		sim_flash_log_read_error("state file", path, r, why, STATE_FILE_MAX);
		goto out;
	}
	if ((r = decode(buf, len, st, &why, &at)) != OL_OK)
		ol_log(OL_LOG_CRITICAL, "state file %s: %s (offset %zu)", path,
		    why, at);
out:
	if (buf != NULL) {
		explicit_bzero(buf, len);
		free(buf);
	}
	if (r != OL_OK)
		fresh_reset(st, &f);
	return r;
}

int
piv_state_save(const char *path, const struct piv_state *st)
{
	const char *why = NULL;
	uint8_t *buf = NULL;
	size_t len = 0;
	int r;

	if (path == NULL || *path == '\0' || st == NULL)
		return OL_ERR_ARG;
	if ((r = encode(st, &buf, &len, &why)) != OL_OK) {
		ol_log(OL_LOG_CRITICAL, "state file %s: not saved: %s", path,
		    why);
		return r;
	}
	if ((r = sim_flash_write(path, buf, len, &why)) != OL_OK)
		ol_log(OL_LOG_CRITICAL, "state file %s: not saved: %s: %s", path,
		    why, strerror(errno));
	explicit_bzero(buf, len);
	free(buf);
	return r;
}
