/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ifd-openloop: tests of the PIV applet's persistent state
 * (src/sim/piv/piv_state.c): the fresh device, the state file's format and
 * its limits, and atomic saving.
 *
 * Files are built here byte by byte (struct file below), not with the
 * encoder, so that a decoder and an encoder that agree on a mistake still
 * fail.  Every limit is tested on both sides of the boundary.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "ol_err.h"
#include "ol_log.h"
#include "piv_state.h"

#define SERIAL      "OL0000000001"
#define NOBODY      65534

static const uint8_t slots[PIV_KEY_SLOTS] = { 0x9a, 0x9c, 0x9d, 0x9e };

/* --- helpers -------------------------------------------------------------- */

static uint64_t rng = 0x243f6a8885a308d3ull;

static uint32_t
rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 11);
}

static void
rnd_bytes(uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		p[i] = (uint8_t)rnd();
}

/* heap: a state is about 140 KiB */
static struct piv_state *
new_state(enum piv_model model, const char *serial)
{
	struct piv_state *st = malloc(sizeof(*st));

	assert_non_null(st);
	memset(st, 0x5a, sizeof(*st)); /* init must not rely on zeroed memory */
	piv_state_init(st, model, serial);
	return st;
}

static void
free_state(struct piv_state *st)
{
	piv_state_clear(st);
	free(st);
}

/* Names the member holding byte offset off, for failure messages. */
static const char *
field_at(size_t off)
{
#define FIELD(m) { #m, offsetof(struct piv_state, m), \
	sizeof(((struct piv_state *)0)->m) }
	static const struct { const char *name; size_t off, len; } f[] = {
		FIELD(model), FIELD(serial), FIELD(pin_set), FIELD(pin),
		FIELD(pin_tries), FIELD(puk), FIELD(puk_tries),
		FIELD(mgm_alg), FIELD(mgm_len), FIELD(mgm_key), FIELD(keys),
		FIELD(objects),
	};
#undef FIELD
	size_t i;

	for (i = 0; i < sizeof(f) / sizeof(f[0]); i++)
		if (off >= f[i].off && off < f[i].off + f[i].len)
			return f[i].name;
	return "padding or a member this test does not know";
}

static void
assert_state_equal(const struct piv_state *a, const struct piv_state *b)
{
	const uint8_t *pa = (const uint8_t *)a, *pb = (const uint8_t *)b;
	size_t i;

	for (i = 0; i < sizeof(*a); i++)
		if (pa[i] != pb[i])
			fail_msg("states differ at byte %zu (%s): %02x != %02x",
			    i, field_at(i), pa[i], pb[i]);
}

/* After a failed load/decode: a fresh device with the entry's model and
 * serial, nothing else of the input. */
static void
assert_fresh(const struct piv_state *st, enum piv_model model,
    const char *serial)
{
	struct piv_state *f = new_state(model, serial);

	assert_state_equal(st, f);
	free_state(f);
}

static void
encode_ok(const struct piv_state *st, uint8_t **buf, size_t *len)
{
	int r = piv_state_encode(st, buf, len);

	if (r != OL_OK)
		fail_msg("encode: %s", ol_strerror(r));
	assert_non_null(*buf);
}

static void
free_buf(uint8_t *buf, size_t len)
{
	if (buf != NULL)
		explicit_bzero(buf, len);
	free(buf);
}

/* Decodes a copy of exactly len bytes (ASan sees any over-read) into a
 * state initialised as (model A, "ENTRY") with a key, so that a failure
 * can be checked to leave exactly a fresh device. */
static int
decode_copy(const uint8_t *buf, size_t len, struct piv_state *st)
{
	uint8_t *copy = malloc(len > 0 ? len : 1);
	int r;

	assert_non_null(copy);
	if (len > 0)
		memcpy(copy, buf, len);
	piv_state_init(st, PIV_MODEL_A, "ENTRY");
	st->keys[0].alg = PIV_ALG_P256;
	st->keys[0].der_len = 1;
	r = piv_state_decode(copy, len, st);
	free(copy);
	if (r != OL_OK) {
		assert_int_equal(r, OL_ERR_PROTOCOL);
		assert_fresh(st, PIV_MODEL_A, "ENTRY");
	}
	return r;
}

/* A valid PIN/PUK of n bytes (6..8) drawn from printable ASCII. */
static void
rnd_secret(uint8_t v[PIV_PIN_MAX], size_t n)
{
	size_t i;

	memset(v, 0xff, PIV_PIN_MAX);
	for (i = 0; i < n; i++)
		v[i] = (uint8_t)(rnd() % 0xff); /* anything but FF */
}

/*
 * A valid state with every field drawn at random: lengths at the limits
 * now and then.  Unused bytes (past a length, unused objects) stay zero
 * and objects are packed from index 0, the form decode() produces, so
 * that encode + decode must give back every byte.
 */
static void
rnd_state(struct piv_state *st)
{
	static const uint8_t mgm_algs[] = { PIV_ALG_3DES, PIV_ALG_AES128,
	    PIV_ALG_AES192, PIV_ALG_AES256 };
	static const size_t mgm_lens[] = { 24, 16, 24, 32 };
	size_t i, j, n, nobj;
	uint32_t tag;
	int unique;

	piv_state_init(st, rnd() % 2 ? PIV_MODEL_A : PIV_MODEL_C, NULL);
	n = rnd() % 4 == 0 ? PIV_SERIAL_MAX : rnd() % (PIV_SERIAL_MAX + 1);
	for (i = 0; i < n; i++)
		st->serial[i] = (char)(0x21 + rnd() % 94);
	st->pin_set = (int)(rnd() % 2);
	if (st->pin_set)
		rnd_secret(st->pin, 6 + rnd() % 3);
	st->pin_tries = (uint8_t)(rnd() % (PIV_PIN_TRIES + 1));
	rnd_secret(st->puk, 6 + rnd() % 3);
	st->puk_tries = (uint8_t)(rnd() % (PIV_PUK_TRIES + 1));
	j = rnd() % 4;
	st->mgm_alg = mgm_algs[j];
	st->mgm_len = mgm_lens[j];
	memset(st->mgm_key, 0, sizeof(st->mgm_key));
	rnd_bytes(st->mgm_key, st->mgm_len);
	for (i = 0; i < PIV_KEY_SLOTS; i++) {
		struct piv_key *k = &st->keys[i];

		switch (rnd() % 4) {
		case 0:
			continue; /* empty */
		case 1:
			k->alg = PIV_ALG_P256;
			break;
		case 2:
			k->alg = PIV_ALG_ED25519;
			break;
		default:
			k->alg = st->model == PIV_MODEL_C ? PIV_ALG_RSA2048 :
			    PIV_ALG_P256;
			break;
		}
		k->der_len = rnd() % 3 == 0 ? PIV_KEY_DER_MAX :
		    1 + rnd() % PIV_KEY_DER_MAX;
		rnd_bytes(k->der, k->der_len);
	}
	nobj = rnd() % 3 == 0 ? PIV_OBJECTS_MAX : rnd() % PIV_OBJECTS_MAX;
	for (i = 0; i < nobj; i++) {
		struct piv_object *o = &st->objects[i];

		do {
			tag = 1 + rnd() % 0xffffffu;
			unique = 1;
			for (j = 0; j < i; j++)
				if (st->objects[j].tag == tag)
					unique = 0;
		} while (!unique);
		o->tag = tag;
		switch (rnd() % 4) {
		case 0:
			o->len = PIV_OBJECT_MAX;
			break;
		case 1:
			o->len = 0;
			break;
		default:
			o->len = rnd() % 800;
			break;
		}
		rnd_bytes(o->data, o->len);
	}
}

/* What OpenSC and yubico-piv-tool leave behind: every slot, real-looking
 * object tags.  Small enough for byte-by-byte loops. */
static void
full_state(struct piv_state *st)
{
	static const uint32_t tags[] = { 0x7e, 0x5fc107, 0x5fc102, 0x5fc105,
	    0x5fc10a, 0x5fc10b, 0x5fc101, 0x5fc10c, 0x7f61 };
	size_t i;

	piv_state_init(st, PIV_MODEL_C, SERIAL);
	st->pin_set = 1;
	memcpy(st->pin, "123456\xff\xff", PIV_PIN_MAX);
	st->pin_tries = 5;
	memcpy(st->puk, "87654321", PIV_PIN_MAX);
	st->puk_tries = 3;
	st->mgm_alg = PIV_ALG_AES256;
	st->mgm_len = 32;
	rnd_bytes(st->mgm_key, 32);
	st->keys[0].alg = PIV_ALG_P256;
	st->keys[0].der_len = 138;
	st->keys[1].alg = PIV_ALG_RSA2048;
	st->keys[1].der_len = 1217;
	st->keys[2].alg = PIV_ALG_ED25519;
	st->keys[2].der_len = 48;
	st->keys[3].alg = PIV_ALG_P256;
	st->keys[3].der_len = 138;
	for (i = 0; i < PIV_KEY_SLOTS; i++)
		rnd_bytes(st->keys[i].der, st->keys[i].der_len);
	for (i = 0; i < sizeof(tags) / sizeof(tags[0]); i++) {
		st->objects[i].tag = tags[i];
		st->objects[i].len = 20 + 40 * i;
		rnd_bytes(st->objects[i].data, st->objects[i].len);
	}
}

/* --- building files by hand ----------------------------------------------- */

enum { R_END, R_MODEL, R_SERIAL, R_PIN, R_PUK, R_MGM, R_KEY, R_OBJECT };

struct file {
	uint8_t b[200000];
	size_t n;
};

static void
raw(struct file *f, const void *p, size_t n)
{
	assert_true(f->n + n <= sizeof(f->b));
	if (n > 0)
		memcpy(f->b + f->n, p, n);
	f->n += n;
}

static void
rec(struct file *f, uint8_t type, const void *v, size_t n)
{
	uint8_t h[3] = { type, (uint8_t)(n >> 8), (uint8_t)n };

	raw(f, h, 3);
	raw(f, v, n);
}

static void
header(struct file *f)
{
	f->n = 0;
	raw(f, "OLPIVST\0\x01", 9);
}

static const uint8_t pin_none[10] = { 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 8 };
static const uint8_t puk_default[9] = { '1', '2', '3', '4', '5', '6', '7', '8',
	8 };
static const uint8_t mgm_default[25] = { 3, 1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3,
	4, 5, 6, 7, 8, 1, 2, 3, 4, 5, 6, 7, 8 };

/* The five required records, with type `replace` taken from (v, n)
 * instead of its default, or left out when v is NULL. */
static void
base(struct file *f, uint8_t replace, const void *v, size_t n)
{
	header(f);
	if (replace == R_MODEL)
		v != NULL ? rec(f, R_MODEL, v, n) : (void)0;
	else
		rec(f, R_MODEL, "C", 1);
	if (replace == R_SERIAL)
		v != NULL ? rec(f, R_SERIAL, v, n) : (void)0;
	else
		rec(f, R_SERIAL, SERIAL, strlen(SERIAL));
	if (replace == R_PIN)
		v != NULL ? rec(f, R_PIN, v, n) : (void)0;
	else
		rec(f, R_PIN, pin_none, sizeof(pin_none));
	if (replace == R_PUK)
		v != NULL ? rec(f, R_PUK, v, n) : (void)0;
	else
		rec(f, R_PUK, puk_default, sizeof(puk_default));
	if (replace == R_MGM)
		v != NULL ? rec(f, R_MGM, v, n) : (void)0;
	else
		rec(f, R_MGM, mgm_default, sizeof(mgm_default));
}

static void
end(struct file *f)
{
	rec(f, R_END, NULL, 0);
}

static struct file fbuf;
static struct piv_state *scratch;

/* base() with one record replaced, then END: the decoder's verdict. */
static int
try_base(uint8_t replace, const void *v, size_t n)
{
	base(&fbuf, replace, v, n);
	end(&fbuf);
	return decode_copy(fbuf.b, fbuf.n, scratch);
}

#define ACCEPT(expr) do { if ((expr) != OL_OK) \
	fail_msg("refused: %s", #expr); } while (0)
#define REFUSE(expr) do { if ((expr) != OL_ERR_PROTOCOL) \
	fail_msg("accepted: %s", #expr); } while (0)

static int
setup(void **unused)
{
	(void)unused;
	scratch = malloc(sizeof(*scratch));
	return scratch == NULL ? -1 : 0;
}

static int
teardown(void **unused)
{
	(void)unused;
	free_state(scratch);
	return 0;
}

/* --- the fresh device ----------------------------------------------------- */

static void
test_init(void **unused)
{
	static const uint8_t mgm[24] = { 1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4,
	    5, 6, 7, 8, 1, 2, 3, 4, 5, 6, 7, 8 };
	struct piv_state *st = new_state(PIV_MODEL_A, SERIAL);
	size_t i;

	(void)unused;
	assert_int_equal(st->model, PIV_MODEL_A);
	assert_string_equal(st->serial, SERIAL);
	assert_int_equal(st->pin_set, 0);
	for (i = 0; i < PIV_PIN_MAX; i++)
		assert_int_equal(st->pin[i], 0xff);
	assert_memory_equal(st->puk, "12345678", 8);
	assert_int_equal(st->pin_tries, 8);
	assert_int_equal(st->puk_tries, 8);
	assert_int_equal(st->mgm_alg, PIV_ALG_3DES);
	assert_int_equal(st->mgm_len, 24);
	assert_memory_equal(st->mgm_key, mgm, 24);
	for (i = 0; i < PIV_KEY_SLOTS; i++) {
		assert_int_equal(st->keys[i].slot, slots[i]);
		assert_int_equal(st->keys[i].alg, 0);
		assert_int_equal(st->keys[i].der_len, 0);
	}
	for (i = 0; i < PIV_OBJECTS_MAX; i++) {
		assert_int_equal(st->objects[i].tag, 0);
		assert_int_equal(st->objects[i].len, 0);
	}

	/* the state keeps 32 characters of a longer --serial; NULL is "" */
	piv_state_init(st, PIV_MODEL_C,
	    "0123456789abcdef0123456789ABCDEFxyz");
	assert_int_equal(st->model, PIV_MODEL_C);
	assert_string_equal(st->serial, "0123456789abcdef0123456789ABCDEF");
	piv_state_init(st, PIV_MODEL_C, NULL);
	assert_string_equal(st->serial, "");
	/* the serial may come from the state being initialised */
	strcpy(st->serial, "SELF");
	piv_state_init(st, PIV_MODEL_C, st->serial);
	assert_string_equal(st->serial, "SELF");

	/* clear wipes everything */
	full_state(st);
	piv_state_clear(st);
	for (i = 0; i < sizeof(*st); i++)
		if (((uint8_t *)st)[i] != 0)
			fail_msg("byte %zu (%s) survives clear", i,
			    field_at(i));
	free_state(st);
}

/* The fresh device's file, byte for byte as docs/simulator.md shows it. */
static void
test_fresh_encoding(void **unused)
{
	static const uint8_t want[] = {
		'O', 'L', 'P', 'I', 'V', 'S', 'T', 0x00, 0x01,
		0x01, 0x00, 0x01, 'C',
		0x02, 0x00, 0x0c, 'O', 'L', '0', '0', '0', '0', '0', '0', '0',
		'0', '0', '1',
		0x03, 0x00, 0x0a, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		0xff, 0xff, 0x08,
		0x04, 0x00, 0x09, '1', '2', '3', '4', '5', '6', '7', '8', 0x08,
		0x05, 0x00, 0x19, 0x03, 1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4, 5,
		6, 7, 8, 1, 2, 3, 4, 5, 6, 7, 8,
		0x00, 0x00, 0x00,
	};
	struct piv_state *st = new_state(PIV_MODEL_C, SERIAL);
	struct piv_state *back = new_state(PIV_MODEL_A, "OTHER");
	uint8_t *buf;
	size_t len;

	(void)unused;
	encode_ok(st, &buf, &len);
	assert_int_equal(len, sizeof(want));
	assert_memory_equal(buf, want, sizeof(want));
	assert_int_equal(piv_state_decode(buf, len, back), OL_OK);
	assert_state_equal(st, back);
	/* and the hand-built equivalent */
	base(&fbuf, 0xff, NULL, 0);
	end(&fbuf);
	assert_int_equal(fbuf.n, len);
	assert_memory_equal(fbuf.b, want, len);
	free_buf(buf, len);
	free_state(st);
	free_state(back);
}

/* --- round trips ---------------------------------------------------------- */

static void
roundtrip(const struct piv_state *st)
{
	struct piv_state *back = new_state(PIV_MODEL_A, "OTHER");
	uint8_t *buf, *buf2;
	size_t len, len2;

	encode_ok(st, &buf, &len);
	assert_int_equal(decode_copy(buf, len, back), OL_OK);
	assert_state_equal(st, back);
	/* the encoding is canonical: the same state, the same bytes */
	encode_ok(back, &buf2, &len2);
	assert_int_equal(len, len2);
	assert_memory_equal(buf, buf2, len);
	free_buf(buf, len);
	free_buf(buf2, len2);
	free_state(back);
}

static void
test_roundtrip_full(void **unused)
{
	struct piv_state *st = new_state(PIV_MODEL_C, SERIAL);
	size_t i;

	(void)unused;
	roundtrip(st);
	full_state(st);
	roundtrip(st);

	/* everything at its limit */
	memset(st->serial, 'S', PIV_SERIAL_MAX);
	memcpy(st->pin, "12345678", 8);
	for (i = 0; i < PIV_KEY_SLOTS; i++) {
		st->keys[i].der_len = PIV_KEY_DER_MAX;
		rnd_bytes(st->keys[i].der, PIV_KEY_DER_MAX);
	}
	for (i = 0; i < PIV_OBJECTS_MAX; i++) {
		st->objects[i].tag = i == 0 ? 0xffffff : 0x5fc100 + (uint32_t)i;
		st->objects[i].len = PIV_OBJECT_MAX;
		rnd_bytes(st->objects[i].data, PIV_OBJECT_MAX);
	}
	roundtrip(st);
	free_state(st);
}

/*
 * Fails when a field of struct piv_state is not carried through the file.
 * The layout check catches a member added at the end of the struct (which
 * the random states below would not fill); the random states catch a
 * known member the encoder or decoder drops.
 */
static void
test_every_field_roundtrips(void **unused)
{
	struct piv_state *st = new_state(PIV_MODEL_C, SERIAL);
	int i;

	(void)unused;
	if (offsetof(struct piv_state, objects) +
	    sizeof(((struct piv_state *)0)->objects) !=
	    sizeof(struct piv_state))
		fail_msg("struct piv_state has a member after objects: "
		    "serialise it and teach rnd_state() and field_at()");
	if (offsetof(struct piv_key, der) + PIV_KEY_DER_MAX !=
	    sizeof(struct piv_key))
		fail_msg("struct piv_key has a member after der");
	if (offsetof(struct piv_object, data) + PIV_OBJECT_MAX !=
	    sizeof(struct piv_object))
		fail_msg("struct piv_object has a member after data");
	for (i = 0; i < 300; i++) {
		rnd_state(st);
		roundtrip(st);
	}
	free_state(st);
}

/* Unused object entries (tag 0) may sit anywhere and hold anything; the
 * file has no trace of them and decoding packs the used ones. */
static void
test_object_holes(void **unused)
{
	struct piv_state *st = new_state(PIV_MODEL_C, SERIAL);
	struct piv_state *back = new_state(PIV_MODEL_C, SERIAL);
	uint8_t *buf;
	size_t len;

	(void)unused;
	st->objects[3].tag = 0x7e;
	st->objects[3].len = 2;
	memcpy(st->objects[3].data, "\x4f\x00", 2);
	st->objects[5].tag = 0;
	st->objects[5].len = 99999; /* garbage in an unused entry */
	memset(st->objects[5].data, 0xee, PIV_OBJECT_MAX);
	st->objects[31].tag = 0x5fc102;
	st->objects[31].len = 1;
	st->objects[31].data[0] = 0x30;
	encode_ok(st, &buf, &len);
	assert_int_equal(piv_state_decode(buf, len, back), OL_OK);
	assert_int_equal(back->objects[0].tag, 0x7e);
	assert_int_equal(back->objects[0].len, 2);
	assert_memory_equal(back->objects[0].data, "\x4f\x00", 2);
	assert_int_equal(back->objects[1].tag, 0x5fc102);
	assert_int_equal(back->objects[1].len, 1);
	assert_int_equal(back->objects[1].data[0], 0x30);
	assert_int_equal(back->objects[2].tag, 0);
	assert_int_equal(back->objects[5].len, 0);
	assert_int_equal(back->objects[5].data[0], 0);
	free_buf(buf, len);
	free_state(st);
	free_state(back);
}

/* --- damaged files -------------------------------------------------------- */

static void
test_truncations(void **unused)
{
	struct piv_state *st = new_state(PIV_MODEL_C, SERIAL);
	uint8_t *buf;
	size_t len, k;

	(void)unused;
	full_state(st);
	encode_ok(st, &buf, &len);
	ACCEPT(decode_copy(buf, len, scratch));
	for (k = 0; k < len; k++)
		if (decode_copy(buf, k, scratch) != OL_ERR_PROTOCOL)
			fail_msg("a file cut to %zu of %zu bytes decoded", k,
			    len);
	free_buf(buf, len);

	/* also the fresh state, whose records are all short */
	piv_state_init(st, PIV_MODEL_A, SERIAL);
	encode_ok(st, &buf, &len);
	for (k = 0; k < len; k++)
		REFUSE(decode_copy(buf, k, scratch));
	free_buf(buf, len);
	free_state(st);
}

/* Every single-bit flip: refused (and a fresh state), or a valid state
 * that encodes again (state_check passed). */
static void
test_bit_flips(void **unused)
{
	struct piv_state *st = new_state(PIV_MODEL_C, SERIAL);
	uint8_t *buf, *again;
	size_t len, alen, i, off, n, ok = 0, lenflips = 0;
	unsigned bit;

	(void)unused;
	piv_state_init(st, PIV_MODEL_C, SERIAL);
	st->pin_set = 1;
	memcpy(st->pin, "1234567\xff", 8);
	st->keys[0].alg = PIV_ALG_P256;
	st->keys[0].der_len = 40;
	rnd_bytes(st->keys[0].der, 40);
	st->keys[3].alg = PIV_ALG_RSA2048;
	st->keys[3].der_len = 60;
	rnd_bytes(st->keys[3].der, 60);
	st->objects[0].tag = 0x5fc105;
	st->objects[0].len = 50;
	rnd_bytes(st->objects[0].data, 50);
	encode_ok(st, &buf, &len);
	for (i = 0; i < len; i++) {
		for (bit = 0; bit < 8; bit++) {
			buf[i] ^= (uint8_t)(1u << bit);
			if (decode_copy(buf, len, scratch) == OL_OK) {
				ok++;
				encode_ok(scratch, &again, &alen);
				free_buf(again, alen);
				if (i < 9)
					fail_msg("header flip %zu.%u accepted",
					    i, bit);
			}
			buf[i] ^= (uint8_t)(1u << bit);
		}
	}
	/* the length fields alone: walk the records */
	for (off = 9; off + 3 <= len; off += 3 + n) {
		n = (size_t)buf[off + 1] << 8 | buf[off + 2];
		for (i = off + 1; i < off + 3; i++) {
			for (bit = 0; bit < 8; bit++) {
				buf[i] ^= (uint8_t)(1u << bit);
				if (decode_copy(buf, len, scratch) == OL_OK) {
					encode_ok(scratch, &again, &alen);
					free_buf(again, alen);
				} else {
					lenflips++;
				}
				buf[i] ^= (uint8_t)(1u << bit);
			}
		}
	}
	/* flips in PIN/key bytes give valid states; lengths almost never */
	assert_true(ok > 0);
	assert_true(lenflips > 0);
	print_message("bit flips: %zu of %zu decode to a valid state; "
	    "%zu length-field flips refused\n", ok, len * 8, lenflips);
	free_buf(buf, len);
	free_state(st);
}

static void
test_header(void **unused)
{
	size_t i;
	unsigned bit;

	(void)unused;
	REFUSE(decode_copy(NULL, 0, scratch));
	REFUSE(decode_copy((const uint8_t *)"OLPIVST", 8, scratch));
	header(&fbuf);
	REFUSE(decode_copy(fbuf.b, fbuf.n, scratch)); /* no records, no END */
	end(&fbuf);
	REFUSE(decode_copy(fbuf.b, fbuf.n, scratch)); /* required missing */

	base(&fbuf, 0xff, NULL, 0);
	end(&fbuf);
	ACCEPT(decode_copy(fbuf.b, fbuf.n, scratch));
	for (i = 0; i < 8; i++) {
		for (bit = 0; bit < 8; bit++) {
			fbuf.b[i] ^= (uint8_t)(1u << bit);
			REFUSE(decode_copy(fbuf.b, fbuf.n, scratch));
			fbuf.b[i] ^= (uint8_t)(1u << bit);
		}
	}
	fbuf.b[8] = 0x00;
	REFUSE(decode_copy(fbuf.b, fbuf.n, scratch));
	fbuf.b[8] = 0x02;
	REFUSE(decode_copy(fbuf.b, fbuf.n, scratch));
	fbuf.b[8] = 0x01;
	ACCEPT(decode_copy(fbuf.b, fbuf.n, scratch));
}

static void
test_record_structure(void **unused)
{
	static const uint8_t types[] = { R_MODEL, R_SERIAL, R_PIN, R_PUK,
	    R_MGM };
	size_t i;

	(void)unused;
	/* each required record missing */
	for (i = 0; i < sizeof(types); i++)
		if (try_base(types[i], NULL, 0) != OL_ERR_PROTOCOL)
			fail_msg("accepted without record %u", types[i]);
	/* each required record repeated, even with the same value */
	base(&fbuf, 0xff, NULL, 0);
	rec(&fbuf, R_MODEL, "C", 1);
	end(&fbuf);
	REFUSE(decode_copy(fbuf.b, fbuf.n, scratch));
	base(&fbuf, 0xff, NULL, 0);
	rec(&fbuf, R_SERIAL, "X", 1);
	end(&fbuf);
	REFUSE(decode_copy(fbuf.b, fbuf.n, scratch));
	base(&fbuf, 0xff, NULL, 0);
	rec(&fbuf, R_PIN, pin_none, sizeof(pin_none));
	end(&fbuf);
	REFUSE(decode_copy(fbuf.b, fbuf.n, scratch));
	base(&fbuf, 0xff, NULL, 0);
	rec(&fbuf, R_PUK, puk_default, sizeof(puk_default));
	end(&fbuf);
	REFUSE(decode_copy(fbuf.b, fbuf.n, scratch));
	base(&fbuf, 0xff, NULL, 0);
	rec(&fbuf, R_MGM, mgm_default, sizeof(mgm_default));
	end(&fbuf);
	REFUSE(decode_copy(fbuf.b, fbuf.n, scratch));

	/* records in another order are fine */
	header(&fbuf);
	rec(&fbuf, R_OBJECT, "\x00\x00\x7e\x7e\x00", 5);
	rec(&fbuf, R_MGM, mgm_default, sizeof(mgm_default));
	rec(&fbuf, R_PUK, puk_default, sizeof(puk_default));
	rec(&fbuf, R_KEY, "\x9e\x11\x30", 3);
	rec(&fbuf, R_PIN, pin_none, sizeof(pin_none));
	rec(&fbuf, R_SERIAL, SERIAL, strlen(SERIAL));
	rec(&fbuf, R_MODEL, "A", 1);
	end(&fbuf);
	ACCEPT(decode_copy(fbuf.b, fbuf.n, scratch));
	assert_int_equal(scratch->model, PIV_MODEL_A);
	assert_int_equal(scratch->keys[3].alg, PIV_ALG_P256);
	assert_int_equal(scratch->objects[0].tag, 0x7e);

	/* unknown record types: refused, not skipped */
	base(&fbuf, 0xff, NULL, 0);
	rec(&fbuf, 0x08, "", 0);
	end(&fbuf);
	REFUSE(decode_copy(fbuf.b, fbuf.n, scratch));
	base(&fbuf, 0xff, NULL, 0);
	rec(&fbuf, 0xff, "x", 1);
	end(&fbuf);
	REFUSE(decode_copy(fbuf.b, fbuf.n, scratch));

	/* END: empty, last, present */
	base(&fbuf, 0xff, NULL, 0);
	REFUSE(decode_copy(fbuf.b, fbuf.n, scratch));
	rec(&fbuf, R_END, "x", 1);
	REFUSE(decode_copy(fbuf.b, fbuf.n, scratch));
	base(&fbuf, 0xff, NULL, 0);
	end(&fbuf);
	raw(&fbuf, "", 1);
	REFUSE(decode_copy(fbuf.b, fbuf.n, scratch));
	base(&fbuf, 0xff, NULL, 0);
	end(&fbuf);
	end(&fbuf);
	REFUSE(decode_copy(fbuf.b, fbuf.n, scratch));
	/* a length running past the end of the file */
	base(&fbuf, 0xff, NULL, 0);
	raw(&fbuf, "\x02\x00\x05OL", 5);
	REFUSE(decode_copy(fbuf.b, fbuf.n, scratch));
}

/* --- limits of each value ------------------------------------------------- */

static void
test_model_serial(void **unused)
{
	char s[40];

	(void)unused;
	ACCEPT(try_base(R_MODEL, "A", 1));
	assert_int_equal(scratch->model, PIV_MODEL_A);
	ACCEPT(try_base(R_MODEL, "C", 1));
	assert_int_equal(scratch->model, PIV_MODEL_C);
	REFUSE(try_base(R_MODEL, "B", 1));
	REFUSE(try_base(R_MODEL, "\x01", 1));
	REFUSE(try_base(R_MODEL, "CC", 2));
	REFUSE(try_base(R_MODEL, "", 0));

	memset(s, 'x', sizeof(s));
	ACCEPT(try_base(R_SERIAL, s, 32));
	assert_int_equal(strlen(scratch->serial), 32);
	REFUSE(try_base(R_SERIAL, s, 33));
	ACCEPT(try_base(R_SERIAL, "", 0));
	assert_string_equal(scratch->serial, "");
	ACCEPT(try_base(R_SERIAL, "!~", 2));
	REFUSE(try_base(R_SERIAL, "OL 1", 4));
	REFUSE(try_base(R_SERIAL, "OL\0001", 4));
	REFUSE(try_base(R_SERIAL, "OL\x7f", 3));
	REFUSE(try_base(R_SERIAL, "OL\xc3\xa9", 4));
}

static void
test_pin_puk(void **unused)
{
	uint8_t v[11];

	(void)unused;
	/* PIN record: set flag, 8 bytes, tries */
	memcpy(v, "\x01" "123456\xff\xff" "\x08", 10);
	ACCEPT(try_base(R_PIN, v, 10));
	assert_int_equal(scratch->pin_set, 1);
	assert_memory_equal(scratch->pin, "123456\xff\xff", 8);
	assert_int_equal(scratch->pin_tries, 8);
	v[9] = 0;
	ACCEPT(try_base(R_PIN, v, 10)); /* blocked */
	v[9] = 9;
	REFUSE(try_base(R_PIN, v, 10));
	v[9] = 0xff;
	REFUSE(try_base(R_PIN, v, 10));
	memcpy(v, "\x01" "12345678" "\x03", 10);
	ACCEPT(try_base(R_PIN, v, 10));
	memcpy(v, "\x01" "12345\xff\xff\xff" "\x03", 10);
	REFUSE(try_base(R_PIN, v, 10)); /* 5 digits */
	memcpy(v, "\x01" "123\xff" "4567" "\x03", 10);
	REFUSE(try_base(R_PIN, v, 10)); /* FF inside */
	memcpy(v, "\x01" "123456789" "\x03", 11);
	REFUSE(try_base(R_PIN, v, 11)); /* 9 bytes */
	REFUSE(try_base(R_PIN, v, 9));
	memcpy(v, "\x02" "123456\xff\xff" "\x08", 10);
	REFUSE(try_base(R_PIN, v, 10)); /* flag 2 */
	memcpy(v, "\x00" "123456\xff\xff" "\x08", 10);
	REFUSE(try_base(R_PIN, v, 10)); /* no PIN, yet PIN bytes */
	memcpy(v, pin_none, 10);
	v[9] = 0;
	ACCEPT(try_base(R_PIN, v, 10));
	assert_int_equal(scratch->pin_set, 0);

	/* PUK record: 8 bytes, tries */
	memcpy(v, "87654321" "\x08", 9);
	ACCEPT(try_base(R_PUK, v, 9));
	assert_memory_equal(scratch->puk, "87654321", 8);
	memcpy(v, "876543\xff\xff" "\x00", 9);
	ACCEPT(try_base(R_PUK, v, 9));
	assert_int_equal(scratch->puk_tries, 0);
	v[8] = 9;
	REFUSE(try_base(R_PUK, v, 9));
	memcpy(v, "87654\xff\xff\xff" "\x08", 9);
	REFUSE(try_base(R_PUK, v, 9));
	memcpy(v, "\xff\xff\xff\xff\xff\xff\xff\xff" "\x08", 9);
	REFUSE(try_base(R_PUK, v, 9)); /* a PUK always exists */
	memcpy(v, "876543210" "\x08", 10);
	REFUSE(try_base(R_PUK, v, 10));
	REFUSE(try_base(R_PUK, v, 8));
}

static void
test_mgm(void **unused)
{
	uint8_t v[40];

	(void)unused;
	memset(v, 0x42, sizeof(v));
	v[0] = PIV_ALG_3DES;
	ACCEPT(try_base(R_MGM, v, 25));
	REFUSE(try_base(R_MGM, v, 17));
	REFUSE(try_base(R_MGM, v, 33));
	v[0] = PIV_ALG_AES128;
	ACCEPT(try_base(R_MGM, v, 17));
	assert_int_equal(scratch->mgm_alg, PIV_ALG_AES128);
	assert_int_equal(scratch->mgm_len, 16);
	REFUSE(try_base(R_MGM, v, 25));
	v[0] = PIV_ALG_AES192;
	ACCEPT(try_base(R_MGM, v, 25));
	REFUSE(try_base(R_MGM, v, 17));
	v[0] = PIV_ALG_AES256;
	ACCEPT(try_base(R_MGM, v, 33));
	assert_memory_equal(scratch->mgm_key, v + 1, 32);
	REFUSE(try_base(R_MGM, v, 34));
	REFUSE(try_base(R_MGM, v, 25));
	v[0] = 0x09;
	REFUSE(try_base(R_MGM, v, 25));
	v[0] = PIV_ALG_P256;
	REFUSE(try_base(R_MGM, v, 33));
	REFUSE(try_base(R_MGM, v, 0));
}

/* base() + one KEY record (slot, alg, n DER bytes) in a model. */
static int
try_key(const char *model, uint8_t slot, uint8_t alg, size_t n)
{
	static uint8_t v[2 + PIV_KEY_DER_MAX + 8];

	assert_true(n + 2 <= sizeof(v));
	v[0] = slot;
	v[1] = alg;
	memset(v + 2, 0x30, n);
	base(&fbuf, R_MODEL, model, 1);
	rec(&fbuf, R_KEY, v, 2 + n);
	end(&fbuf);
	return decode_copy(fbuf.b, fbuf.n, scratch);
}

static void
test_keys(void **unused)
{
	size_t i;

	(void)unused;
	for (i = 0; i < PIV_KEY_SLOTS; i++) {
		ACCEPT(try_key("C", slots[i], PIV_ALG_P256, 121));
		assert_int_equal(scratch->keys[i].alg, PIV_ALG_P256);
		assert_int_equal(scratch->keys[i].der_len, 121);
		assert_int_equal(scratch->keys[i].slot, slots[i]);
	}
	REFUSE(try_key("C", 0x9b, PIV_ALG_P256, 121));
	REFUSE(try_key("C", 0x82, PIV_ALG_P256, 121));
	REFUSE(try_key("C", 0x00, PIV_ALG_P256, 121));
	ACCEPT(try_key("A", 0x9a, PIV_ALG_ED25519, 48));
	ACCEPT(try_key("C", 0x9a, PIV_ALG_RSA2048, 1200));
	REFUSE(try_key("A", 0x9a, PIV_ALG_RSA2048, 1200)); /* no RSA in A */
	REFUSE(try_key("C", 0x9a, 0x00, 10));
	REFUSE(try_key("C", 0x9a, 0x05, 10));
	REFUSE(try_key("C", 0x9a, 0xe0, 10)); /* Yubico's Ed25519 id */
	REFUSE(try_key("C", 0x9a, PIV_ALG_3DES, 10));
	ACCEPT(try_key("C", 0x9a, PIV_ALG_P256, 1));
	REFUSE(try_key("C", 0x9a, PIV_ALG_P256, 0));
	ACCEPT(try_key("C", 0x9a, PIV_ALG_RSA2048, PIV_KEY_DER_MAX));
	assert_int_equal(scratch->keys[0].der_len, PIV_KEY_DER_MAX);
	REFUSE(try_key("C", 0x9a, PIV_ALG_RSA2048, PIV_KEY_DER_MAX + 1));

	/* one record per slot */
	base(&fbuf, 0xff, NULL, 0);
	rec(&fbuf, R_KEY, "\x9d\x11\x30", 3);
	rec(&fbuf, R_KEY, "\x9d\x11\x31", 3);
	end(&fbuf);
	REFUSE(decode_copy(fbuf.b, fbuf.n, scratch));
	base(&fbuf, 0xff, NULL, 0);
	rec(&fbuf, R_KEY, "\x9d\x11", 2);
	end(&fbuf);
	REFUSE(decode_copy(fbuf.b, fbuf.n, scratch));
}

/* base() + count OBJECT records of len bytes, tags first_tag + i. */
static int
try_objects(size_t count, uint32_t first_tag, size_t len)
{
	static uint8_t v[3 + PIV_OBJECT_MAX + 8];
	size_t i;
	uint32_t tag;

	assert_true(len + 3 <= sizeof(v));
	base(&fbuf, 0xff, NULL, 0);
	for (i = 0; i < count; i++) {
		tag = first_tag + (uint32_t)i;
		v[0] = (uint8_t)(tag >> 16);
		v[1] = (uint8_t)(tag >> 8);
		v[2] = (uint8_t)tag;
		memset(v + 3, (int)i, len);
		rec(&fbuf, R_OBJECT, v, 3 + len);
	}
	end(&fbuf);
	return decode_copy(fbuf.b, fbuf.n, scratch);
}

static void
test_objects(void **unused)
{
	(void)unused;
	ACCEPT(try_objects(PIV_OBJECTS_MAX, 0x5fc101, 10));
	assert_int_equal(scratch->objects[31].tag, 0x5fc101 + 31);
	assert_int_equal(scratch->objects[31].data[9], 31);
	REFUSE(try_objects(PIV_OBJECTS_MAX + 1, 0x5fc101, 10));
	ACCEPT(try_objects(1, 0x5fc105, PIV_OBJECT_MAX));
	assert_int_equal(scratch->objects[0].len, PIV_OBJECT_MAX);
	REFUSE(try_objects(1, 0x5fc105, PIV_OBJECT_MAX + 1));
	ACCEPT(try_objects(1, 0x7e, 0)); /* present, empty */
	assert_int_equal(scratch->objects[0].tag, 0x7e);
	ACCEPT(try_objects(1, 0xffffff, 5));
	ACCEPT(try_objects(2, 1, 5)); /* tag 1 and 2 */
	REFUSE(try_objects(1, 0, 5)); /* tag 0 means unused */

	base(&fbuf, 0xff, NULL, 0);
	rec(&fbuf, R_OBJECT, "\x5f\xc1\x02\x01", 4);
	rec(&fbuf, R_OBJECT, "\x5f\xc1\x02\x02", 4);
	end(&fbuf);
	REFUSE(decode_copy(fbuf.b, fbuf.n, scratch)); /* one tag twice */
	base(&fbuf, 0xff, NULL, 0);
	rec(&fbuf, R_OBJECT, "\x00\x7e", 2);
	end(&fbuf);
	REFUSE(decode_copy(fbuf.b, fbuf.n, scratch)); /* tag cut short */
}

/* The encoder refuses what the decoder would refuse: no unreadable file. */
static void
test_encode_refuses(void **unused)
{
	struct piv_state *st = new_state(PIV_MODEL_C, SERIAL);
	uint8_t *buf = (uint8_t *)st;
	size_t len = 1, i;
	int step;

	(void)unused;
	assert_int_equal(piv_state_encode(NULL, &buf, &len), OL_ERR_ARG);
	assert_null(buf);
	assert_int_equal(len, 0);
	assert_int_equal(piv_state_encode(st, NULL, &len), OL_ERR_ARG);
	for (step = 0; step < 19; step++) {
		full_state(st);
		encode_ok(st, &buf, &len); /* valid before the change */
		free_buf(buf, len);
		switch (step) {
		case 0: st->pin_tries = 9; break;
		case 1: st->puk_tries = 9; break;
		case 2: st->pin_set = 2; break;
		case 3: st->pin[6] = '7'; st->pin[7] = '8';
			st->pin[2] = 0xff; break;
		case 4: st->pin_set = 0; break; /* PIN bytes left */
		case 5: memset(st->puk, 0xff, 8); break;
		case 6: st->mgm_len = 24; break; /* AES-256 */
		case 7: st->mgm_alg = 0x09; break;
		case 8: st->keys[0].slot = 0x9c; st->keys[1].slot = 0x9a;
			break;
		case 9: st->keys[2].alg = 0; break; /* DER left */
		case 10: st->keys[2].der_len = 0; break;
		case 11: st->keys[2].der_len = PIV_KEY_DER_MAX + 1; break;
		case 12: st->model = PIV_MODEL_A; break; /* RSA in 9C */
		case 13: st->model = (enum piv_model)7; break;
		case 14: memset(st->serial, 'x', sizeof(st->serial)); break;
		case 15: st->serial[3] = ' '; break;
		case 16: st->objects[1].tag = st->objects[0].tag; break;
		case 17: st->objects[1].len = PIV_OBJECT_MAX + 1; break;
		default: st->objects[1].tag = 0x1000000; break;
		}
		buf = (uint8_t *)st;
		if (piv_state_encode(st, &buf, &len) != OL_ERR_ARG)
			fail_msg("encoded an invalid state (change %d)", step);
		assert_null(buf);
		assert_int_equal(len, 0);
	}
	/* the limits themselves are valid */
	full_state(st);
	st->pin_tries = 8;
	st->puk_tries = 8;
	st->keys[1].der_len = PIV_KEY_DER_MAX;
	for (i = 0; i < PIV_OBJECTS_MAX; i++) {
		st->objects[i].tag = 0xffffff - (uint32_t)i;
		st->objects[i].len = PIV_OBJECT_MAX;
	}
	roundtrip(st);
	free_state(st);
}

/* --- files ---------------------------------------------------------------- */

static char tmpdir[64];

static char *
tpath(const char *name)
{
	static char p[8][256];
	static int i;

	i = (i + 1) % 8;
	snprintf(p[i], sizeof(p[i]), "%s/%s", tmpdir, name);
	return p[i];
}

/* Removes the temporary directory's contents (one level of subdirs). */
static void
rm_tree(const char *dir)
{
	char p[512];
	struct dirent *de;
	struct stat sb;
	DIR *d;

	if ((d = opendir(dir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		snprintf(p, sizeof(p), "%s/%s", dir, de->d_name);
		if (lstat(p, &sb) == 0 && S_ISDIR(sb.st_mode)) {
			chmod(p, 0700);
			rm_tree(p);
		} else {
			unlink(p);
		}
	}
	closedir(d);
	rmdir(dir);
}

static int
setup_dir(void **unused)
{
	(void)unused;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_piv_state.XXXXXX");
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	/* a child running as nobody must reach the files */
	return chmod(tmpdir, 0711) == 0 ? setup(unused) : -1;
}

static int
teardown_dir(void **unused)
{
	rm_tree(tmpdir);
	return teardown(unused);
}

/* No PATH.tmp.* left in dir. */
static void
assert_no_temp(const char *dir)
{
	struct dirent *de;
	DIR *d = opendir(dir);

	assert_non_null(d);
	while ((de = readdir(d)) != NULL)
		if (strstr(de->d_name, ".tmp.") != NULL)
			fail_msg("temporary file left: %s/%s", dir, de->d_name);
	closedir(d);
}

static size_t
slurp(const char *path, uint8_t *buf, size_t cap)
{
	FILE *f = fopen(path, "rb");
	size_t n;

	assert_non_null(f);
	n = fread(buf, 1, cap, f);
	fclose(f);
	return n;
}

static void
assert_mode_0600(const char *path)
{
	struct stat sb;

	assert_int_equal(stat(path, &sb), 0);
	assert_true(S_ISREG(sb.st_mode));
	if ((sb.st_mode & 07777) != 0600)
		fail_msg("%s has mode %o", path, sb.st_mode & 07777);
}

static void
test_save_load(void **unused)
{
	struct piv_state *st = new_state(PIV_MODEL_C, SERIAL);
	struct piv_state *back = new_state(PIV_MODEL_A, "OTHER");
	const char *path = tpath("state");
	mode_t old;
	int i;

	(void)unused;
	full_state(st);
	/* mode 0600 whatever the umask, 0777 included */
	old = umask(0777);
	assert_int_equal(piv_state_save(path, st), OL_OK);
	umask(old);
	assert_mode_0600(path);
	assert_int_equal(piv_state_load(path, back), OL_OK);
	assert_state_equal(st, back);

	/* saving again replaces the file; many times, no temporaries left */
	old = umask(0);
	for (i = 0; i < 20; i++) {
		st->pin_tries = (uint8_t)(i % 9);
		assert_int_equal(piv_state_save(path, st), OL_OK);
	}
	umask(old);
	assert_mode_0600(path);
	assert_int_equal(piv_state_load(path, back), OL_OK);
	assert_int_equal(back->pin_tries, 19 % 9);
	assert_state_equal(st, back);
	assert_no_temp(tmpdir);

	/* a relative path: the directory fsync uses "." */
	assert_int_equal(chdir(tmpdir), 0);
	assert_int_equal(piv_state_save("relative", st), OL_OK);
	assert_int_equal(piv_state_load("relative", back), OL_OK);
	assert_state_equal(st, back);
	assert_int_equal(chdir("/"), 0);
	assert_no_temp(tmpdir);

	assert_int_equal(piv_state_save(NULL, st), OL_ERR_ARG);
	assert_int_equal(piv_state_save("", st), OL_ERR_ARG);
	assert_int_equal(piv_state_save(path, NULL), OL_ERR_ARG);
	free_state(st);
	free_state(back);
}

/*
 * Runs fn(arg) in a child, with drop as nobody when we are root (root
 * ignores directory and file modes).  Returns its exit status; 77 means
 * the child could not drop privileges.
 */
static int
in_child(int (*fn)(const char *), const char *arg, int drop)
{
	pid_t pid;
	int status;

	fflush(NULL);
	pid = fork();
	assert_true(pid != -1);
	if (pid == 0) {
		if (drop && geteuid() == 0 && (setgroups(0, NULL) == -1 ||
		    setgid(NOBODY) == -1 || setuid(NOBODY) == -1))
			_exit(77);
		_exit(fn(arg));
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	return WEXITSTATUS(status);
}

static int
child_save(const char *path)
{
	struct piv_state *st = new_state(PIV_MODEL_C, "NEW");

	return piv_state_save(path, st) == OL_ERR_PERMISSION ? 0 : 1;
}

static int
child_load(const char *path)
{
	struct piv_state *st = new_state(PIV_MODEL_C, "NEW");

	return piv_state_load(path, st) == OL_ERR_PERMISSION ? 0 : 1;
}

/* A write that fails half-way: the file size limit, in a child. */
static int
child_save_limited(const char *path)
{
	struct piv_state *st = new_state(PIV_MODEL_C, "NEW");
	struct rlimit rl;
	int r;

	full_state(st);
	signal(SIGXFSZ, SIG_IGN);
	if (getrlimit(RLIMIT_FSIZE, &rl) == -1)
		return 2;
	rl.rlim_cur = 100;
	if (setrlimit(RLIMIT_FSIZE, &rl) == -1)
		return 2;
	r = piv_state_save(path, st);
	return r == OL_ERR_IO ? 0 : 1;
}

static void
test_save_is_atomic(void **unused)
{
	static uint8_t before[200000], after[200000];
	struct piv_state *st = new_state(PIV_MODEL_A, "OLD");
	char *ro = tpath("ro"), *old = tpath("ro/state");
	const char *dirpath = tpath("isdir");
	size_t n1, n2;
	int r;

	(void)unused;
	/* the old file in a read-only directory */
	assert_int_equal(mkdir(ro, 0700), 0);
	assert_int_equal(piv_state_save(old, st), OL_OK);
	assert_int_equal(chmod(ro, 0555), 0);
	n1 = slurp(old, before, sizeof(before));
	r = in_child(child_save, old, 1);
	if (r == 77)
		fail_msg("could not drop privileges to test a read-only "
		    "directory");
	assert_int_equal(r, 0);
	n2 = slurp(old, after, sizeof(after));
	assert_int_equal(n1, n2);
	assert_memory_equal(before, after, n1);
	assert_no_temp(ro);
	assert_int_equal(chmod(ro, 0700), 0);

	/* a write cut short (EFBIG): the temporary file goes, the old
	 * file stays */
	r = in_child(child_save_limited, old, 0);
	assert_int_equal(r, 0);
	n2 = slurp(old, after, sizeof(after));
	assert_int_equal(n1, n2);
	assert_memory_equal(before, after, n1);
	assert_no_temp(ro);
	assert_int_equal(piv_state_load(old, st), OL_OK);
	assert_string_equal(st->serial, "OLD");

	/* rename over a directory fails: the temporary file goes */
	assert_int_equal(mkdir(dirpath, 0700), 0);
	full_state(st);
	assert_int_equal(piv_state_save(dirpath, st), OL_ERR_IO);
	assert_no_temp(tmpdir);

	/* no such directory */
	assert_int_equal(piv_state_save(tpath("none/state"), st), OL_ERR_IO);
	assert_no_temp(tmpdir);

	/* an invalid state writes nothing */
	st->pin_tries = 9;
	assert_int_equal(piv_state_save(tpath("invalid"), st), OL_ERR_ARG);
	assert_int_equal(access(tpath("invalid"), F_OK), -1);
	assert_no_temp(tmpdir);
	free_state(st);
}

static void
write_bytes(const char *path, const void *p, size_t n)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(p, 1, n, f), n);
	assert_int_equal(fclose(f), 0);
}

/* st starts as a full state of model A "KEEP": after every failure it is
 * a fresh device of model A "KEEP", none of the old keys left. */
static void
expect_load(const char *path, int want)
{
	struct piv_state *st = new_state(PIV_MODEL_A, "KEEP");
	int r;

	full_state(st);
	st->model = PIV_MODEL_A;
	st->keys[1].alg = PIV_ALG_P256;
	strcpy(st->serial, "KEEP");
	r = piv_state_load(path, st);
	if (r != want)
		fail_msg("load %s: %s, expected %s", path, ol_strerror(r),
		    ol_strerror(want));
	assert_fresh(st, PIV_MODEL_A, "KEEP");
	free_state(st);
}

static void
test_load_errors(void **unused)
{
	struct piv_state *st = new_state(PIV_MODEL_C, SERIAL);
	uint8_t *buf;
	size_t len;
	int fd, r;

	(void)unused;
	expect_load(tpath("missing"), OL_ERR_NO_DEVICE);
	expect_load(tpath("missing-dir/state"), OL_ERR_NO_DEVICE);
	expect_load(tmpdir, OL_ERR_IO);                 /* a directory */
	expect_load("/dev/null", OL_ERR_IO);            /* not regular */
	assert_int_equal(mkfifo(tpath("fifo"), 0600), 0);
	expect_load(tpath("fifo"), OL_ERR_IO);          /* and no hang */

	write_bytes(tpath("empty"), "", 0);
	expect_load(tpath("empty"), OL_ERR_PROTOCOL);
	write_bytes(tpath("text"), "model=C\n", 8);
	expect_load(tpath("text"), OL_ERR_PROTOCOL);

	/* a valid file with one byte more, one byte less */
	full_state(st);
	encode_ok(st, &buf, &len);
	write_bytes(tpath("long"), buf, len);
	fd = open(tpath("long"), O_WRONLY | O_APPEND);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "", 1), 1);
	close(fd);
	expect_load(tpath("long"), OL_ERR_PROTOCOL);
	write_bytes(tpath("short"), buf, len - 1);
	expect_load(tpath("short"), OL_ERR_PROTOCOL);
	free_buf(buf, len);

	/* over the size cap, without reading it */
	fd = open(tpath("huge"), O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, 1024 * 1024 + 1), 0);
	close(fd);
	expect_load(tpath("huge"), OL_ERR_PROTOCOL);

	/* unreadable */
	assert_int_equal(piv_state_save(tpath("secret"), st), OL_OK);
	if (geteuid() != 0)
		assert_int_equal(chmod(tpath("secret"), 0), 0);
	r = in_child(child_load, tpath("secret"), 1);
	if (r == 77)
		fail_msg("could not drop privileges to test an unreadable "
		    "file");
	assert_int_equal(r, 0);

	assert_int_equal(piv_state_load(NULL, st), OL_ERR_ARG);
	assert_int_equal(piv_state_load(tpath("secret"), NULL), OL_ERR_ARG);
	free_state(st);
}

/* Messages go to a sink that remembers the last one. */
static char last_msg[512];

static void
sink(unsigned category, const struct ol_log_origin *origin,
    const char *msg)
{
	(void)origin;
	(void)category;
	snprintf(last_msg, sizeof(last_msg), "%s", msg);
}

/* The log says which file, what is wrong and where, and never a secret. */
static void
test_messages(void **unused)
{
	uint8_t v[10];
	int fd;

	(void)unused;
	memcpy(v, "\x01" "918273\xff\xff" "\x09", 10);
	base(&fbuf, R_PIN, v, 10);
	end(&fbuf);
	write_bytes(tpath("badpin"), fbuf.b, fbuf.n);
	ol_log_set_sink(sink);
	ol_log_set_mask(OL_LOG_CRITICAL);
	expect_load(tpath("badpin"), OL_ERR_PROTOCOL);
	ol_log_set_mask(0);
	ol_log_set_sink(NULL);
	if (strstr(last_msg, "badpin") == NULL ||
	    strstr(last_msg, "PIN tries") == NULL ||
	    strstr(last_msg, "offset 28") == NULL)
		fail_msg("unhelpful message: %s", last_msg);
	if (strstr(last_msg, "918273") != NULL)
		fail_msg("message shows the PIN: %s", last_msg);

	/* a file over the cap is refused for its size, before reading */
	fd = open(tpath("huge2"), O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, 1024 * 1024 + 1), 0);
	close(fd);
	ol_log_set_sink(sink);
	ol_log_set_mask(OL_LOG_CRITICAL);
	expect_load(tpath("huge2"), OL_ERR_PROTOCOL);
	ol_log_set_mask(0);
	ol_log_set_sink(NULL);
	if (strstr(last_msg, "over 1048576 bytes") == NULL)
		fail_msg("not refused for its size: %s", last_msg);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_init),
		cmocka_unit_test(test_fresh_encoding),
		cmocka_unit_test(test_roundtrip_full),
		cmocka_unit_test(test_every_field_roundtrips),
		cmocka_unit_test(test_object_holes),
		cmocka_unit_test(test_truncations),
		cmocka_unit_test(test_bit_flips),
		cmocka_unit_test(test_header),
		cmocka_unit_test(test_record_structure),
		cmocka_unit_test(test_model_serial),
		cmocka_unit_test(test_pin_puk),
		cmocka_unit_test(test_mgm),
		cmocka_unit_test(test_keys),
		cmocka_unit_test(test_objects),
		cmocka_unit_test(test_encode_refuses),
		cmocka_unit_test(test_save_load),
		cmocka_unit_test(test_save_is_atomic),
		cmocka_unit_test(test_load_errors),
		cmocka_unit_test(test_messages),
	};

	/* the failures these tests provoke are logged on purpose */
	ol_log_set_mask(0);
	return cmocka_run_group_tests(tests, setup_dir, teardown_dir);
}
