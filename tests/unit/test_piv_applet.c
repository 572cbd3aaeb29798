/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ifd-openloop: the simulated PIV applet (src/sim/piv/piv_applet.c) through
 * the card's APDU interface (sim_card_apdu), with real cryptography: keys
 * the card generates are checked by OpenSSL against the public keys it
 * returned, the management-key exchanges are computed here with OpenSSL's
 * own 3DES, not with the applet's code.  Also the card-level transport
 * the applet relies on: chaining, 61xx and GET RESPONSE, extended APDUs,
 * sessions, touch, and the state file.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/rsa.h>
#include <openssl/sha.h>

#include "ol_err.h"
#include "ol_log.h"
#include "piv_applet.h"
#include "piv_state.h"
#include "sim_card.h"
#include "timeutil.h"
#include "tlv.h"

#define RAPDU_CAP 7609           /* what the CTAPHID layer gives */
#define SERIAL    "OLTEST0001"

static const uint8_t mgm_default[24] = {
	1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4, 5, 6, 7, 8
};
static const uint8_t select_piv[] = { 0x00, 0xa4, 0x04, 0x00, 0x09, 0xa0,
    0x00, 0x00, 0x03, 0x08, 0x00, 0x00, 0x10, 0x00, 0x00 };

/* --- log capture: no secret may appear in any line ------------------- */

static char logbuf[1 << 16];
static size_t loglen;

static void
capture(unsigned category, const struct ol_log_origin *origin,
    const char *msg)
{
	size_t n = strlen(msg);

	(void)origin;
	(void)category;
	if (n + 2 > sizeof(logbuf) - loglen)
		return;
	memcpy(logbuf + loglen, msg, n);
	loglen += n;
	logbuf[loglen++] = '\n';
	logbuf[loglen] = '\0';
}

/* How many lines of the captured log contain what. */
static int
count_in_log(const char *what)
{
	const char *p = logbuf;
	int n = 0;

	while ((p = strstr(p, what)) != NULL) {
		n++;
		p += strlen(what);
	}
	return n;
}

/* --- the fixture ---------------------------------------------------------- */

struct fx {
	sim_card_t *card;
	struct piv_state *st;      /* the state the card was made from */
	char dir[64];              /* a temporary directory, or "" */
	char path[96];
	uint8_t r[RAPDU_CAP + 16]; /* last response */
	size_t rlen;               /* its data length (without SW) */
	uint8_t data[16384];       /* collected data across 61xx */
	size_t dlen;
};

static struct fx *
fx_alloc(void)
{
	struct fx *fx = calloc(1, sizeof(*fx));

	assert_non_null(fx);
	fx->st = malloc(sizeof(*fx->st));
	assert_non_null(fx->st);
	piv_state_init(fx->st, PIV_MODEL_C, SERIAL);
	return fx;
}

static void
fx_card(struct fx *fx, enum sim_touch_mode touch, int touch_ms,
    const char *path)
{
	struct sim_card_config cfg;

	sim_card_free(&fx->card);
	sim_card_config_init(&cfg);
	cfg.touch = touch;
	cfg.touch_ms = touch_ms;
	cfg.piv = fx->st;
	cfg.piv_state_path = path;
	assert_int_equal(sim_card_new_config(&cfg, &fx->card), OL_OK);
}

static int
setup(void **state)
{
	struct fx *fx = fx_alloc();

	loglen = 0;
	logbuf[0] = '\0';
	ol_log_set_sink(capture);
	ol_log_set_mask(OL_LOG_CRITICAL | OL_LOG_INFO | OL_LOG_COMM);
	fx_card(fx, SIM_TOUCH_APPROVE, 0, NULL);
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *fx = *state;

	sim_card_free(&fx->card);
	piv_state_clear(fx->st);
	free(fx->st);
	if (fx->dir[0] != '\0') {
		unlink(fx->path);
		rmdir(fx->dir);
	}
	free(fx);
	return 0;
}

/* --- APDUs ------------------------------------------------------------------ */

/* Sends a command (copied to an exact-size block for ASan); returns SW. */
static unsigned
xmit(struct fx *fx, const uint8_t *c, size_t len)
{
	uint8_t *copy = malloc(len > 0 ? len : 1);
	size_t rlen = 0;

	assert_non_null(copy);
	memcpy(copy, c, len);
	assert_int_equal(sim_card_apdu(fx->card, copy, len, fx->r, RAPDU_CAP,
	    &rlen), OL_OK);
	free(copy);
	assert_true(rlen >= 2 && rlen <= RAPDU_CAP);
	fx->rlen = rlen - 2;
	return (unsigned)fx->r[rlen - 2] << 8 | fx->r[rlen - 1];
}

/* A short APDU: le < 0 means no Le field. */
static unsigned
cmd(struct fx *fx, uint8_t cla, uint8_t ins, uint8_t p1, uint8_t p2,
    const uint8_t *data, size_t lc, int le)
{
	uint8_t c[5 + 255 + 1];
	size_t n = 4;

	assert_true(lc <= 255);
	c[0] = cla;
	c[1] = ins;
	c[2] = p1;
	c[3] = p2;
	if (lc > 0) {
		c[n++] = (uint8_t)lc;
		memcpy(c + n, data, lc);
		n += lc;
	}
	if (le >= 0)
		c[n++] = (uint8_t)le;
	return xmit(fx, c, n);
}

/* The whole response: follows 61xx with GET RESPONSE into fx->data. */
static unsigned
collect(struct fx *fx, unsigned sw)
{
	static const uint8_t get_response[] = { 0x00, 0xc0, 0x00, 0x00, 0x00 };

	fx->dlen = 0;
	for (;;) {
		assert_true(fx->dlen + fx->rlen <= sizeof(fx->data));
		memcpy(fx->data + fx->dlen, fx->r, fx->rlen);
		fx->dlen += fx->rlen;
		if ((sw >> 8) != 0x61)
			return sw;
		/* a short response is never over 256 bytes */
		assert_int_equal(fx->rlen, 256);
		sw = xmit(fx, get_response, sizeof(get_response));
	}
}

/* Any length of data, chained in 255-byte links as OpenSC does, Le 00;
 * returns the SW of the whole response (in fx->data). */
static unsigned
chained(struct fx *fx, uint8_t ins, uint8_t p1, uint8_t p2,
    const uint8_t *data, size_t len)
{
	size_t off = 0, n;
	unsigned sw;

	while (len - off > 255) {
		sw = cmd(fx, 0x10, ins, p1, p2, data + off, 255, -1);
		assert_int_equal(sw, 0x9000);
		assert_int_equal(fx->rlen, 0);
		off += 255;
	}
	n = len - off;
	return collect(fx, cmd(fx, 0x00, ins, p1, p2, data + off, n, 0));
}

static void
do_select(struct fx *fx)
{
	assert_int_equal(xmit(fx, select_piv, sizeof(select_piv)), 0x9000);
}

static unsigned
get_data(struct fx *fx, uint32_t tag)
{
	uint8_t d[5];
	size_t n = 0;

	d[n++] = 0x5c;
	if (tag > 0xffff) {
		d[n++] = 3;
		d[n++] = (uint8_t)(tag >> 16);
		d[n++] = (uint8_t)(tag >> 8);
	} else if (tag > 0xff) {
		d[n++] = 2;
		d[n++] = (uint8_t)(tag >> 8);
	} else {
		d[n++] = 1;
	}
	d[n++] = (uint8_t)tag;
	return collect(fx, cmd(fx, 0x00, 0xcb, 0x3f, 0xff, d, n, 0));
}

static unsigned
put_data(struct fx *fx, uint32_t tag, const uint8_t *content, size_t len)
{
	uint8_t *d = malloc(len + 16);
	struct tlv_writer w;
	uint8_t t[3] = { (uint8_t)(tag >> 16), (uint8_t)(tag >> 8),
	    (uint8_t)tag };
	unsigned sw;

	assert_non_null(d);
	tlv_writer_init(&w, d, len + 16);
	tlv_put(&w, 0x5c, t, 3);
	tlv_put(&w, 0x53, content, len);
	assert_false(w.overflow);
	sw = chained(fx, 0xdb, 0x3f, 0xff, d, w.len);
	free(d);
	return sw;
}

static void
pin8(const char *pin, uint8_t out[8])
{
	memset(out, 0xff, 8);
	memcpy(out, pin, strlen(pin));
}

static unsigned
verify(struct fx *fx, const char *pin)
{
	uint8_t p[8];

	if (pin == NULL)
		return cmd(fx, 0x00, 0x20, 0x00, 0x80, NULL, 0, -1);
	pin8(pin, p);
	return cmd(fx, 0x00, 0x20, 0x00, 0x80, p, 8, -1);
}

static unsigned
two_refs(struct fx *fx, uint8_t ins, uint8_t p2, const char *a, const char *b)
{
	uint8_t d[16];

	pin8(a, d);
	pin8(b, d + 8);
	return cmd(fx, 0x00, ins, 0x00, p2, d, 16, -1);
}

/* RESET RETRY COUNTER: PUK and new PIN */
static unsigned
unblock(struct fx *fx, const char *puk, const char *pin)
{
	return two_refs(fx, 0x2c, 0x80, puk, pin);
}

/* --- the management key, computed with OpenSSL here ---------------------- */

static void
des3(const uint8_t key[24], int enc, const uint8_t in[8], uint8_t out[8])
{
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	int n = 0, f = 0;

	assert_non_null(c);
	assert_int_equal(EVP_CipherInit_ex2(c, EVP_des_ede3_ecb(), key, NULL,
	    enc, NULL), 1);
	EVP_CIPHER_CTX_set_padding(c, 0);
	assert_int_equal(EVP_CipherUpdate(c, out, &n, in, 8), 1);
	assert_int_equal(EVP_CipherFinal_ex(c, out + n, &f), 1);
	assert_int_equal(n + f, 8);
	EVP_CIPHER_CTX_free(c);
}

/* As yubico-piv-tool does it: witness, then our challenge. */
static unsigned
mgm_mutual(struct fx *fx, const uint8_t key[24])
{
	static const uint8_t step1[] = { 0x7c, 0x02, 0x80, 0x00 };
	uint8_t step2[4 + 10 + 10], witness[8], chal[8] = { 9, 8, 7, 6, 5, 4,
	    3, 2 }, expect[8];
	unsigned sw;

	sw = cmd(fx, 0x00, 0x87, 0x03, 0x9b, step1, sizeof(step1), 0);
	if (sw != 0x9000)
		return sw;
	assert_int_equal(fx->rlen, 12);
	assert_memory_equal(fx->r, "\x7c\x0a\x80\x08", 4);
	des3(key, 0, fx->r + 4, witness);
	memcpy(step2, "\x7c\x14\x80\x08", 4);
	memcpy(step2 + 4, witness, 8);
	memcpy(step2 + 12, "\x81\x08", 2);
	memcpy(step2 + 14, chal, 8);
	sw = cmd(fx, 0x00, 0x87, 0x03, 0x9b, step2, 22, 0);
	if (sw != 0x9000)
		return sw;
	/* the card proves it has the key too */
	assert_int_equal(fx->rlen, 12);
	assert_memory_equal(fx->r, "\x7c\x0a\x82\x08", 4);
	des3(key, 1, chal, expect);
	assert_memory_equal(fx->r + 4, expect, 8);
	return sw;
}

/* As piv-tool -A A:9B:03 does it: challenge, then its encryption. */
static unsigned
mgm_external(struct fx *fx, const uint8_t key[24])
{
	static const uint8_t step1[] = { 0x7c, 0x02, 0x81, 0x00 };
	uint8_t step2[12];
	unsigned sw;

	sw = cmd(fx, 0x00, 0x87, 0x03, 0x9b, step1, sizeof(step1), 0);
	if (sw != 0x9000)
		return sw;
	assert_int_equal(fx->rlen, 12);
	assert_memory_equal(fx->r, "\x7c\x0a\x81\x08", 4);
	memcpy(step2, "\x7c\x0a\x82\x08", 4);
	des3(key, 1, fx->r + 4, step2 + 4);
	sw = cmd(fx, 0x00, 0x87, 0x03, 0x9b, step2, sizeof(step2), -1);
	if (sw == 0x9000)
		assert_int_equal(fx->rlen, 0);
	return sw;
}

/* --- keys ------------------------------------------------------------------- */

/* GENERATE; returns the public key OpenSSL builds from the response. */
static EVP_PKEY *
generate(struct fx *fx, uint8_t slot, uint8_t alg, unsigned *swp)
{
	uint8_t d[] = { 0xac, 0x03, 0x80, 0x01, alg };
	struct tlv outer, n, e, pt;
	EVP_PKEY_CTX *ctx;
	EVP_PKEY *pk = NULL;
	OSSL_PARAM_BLD *bld;
	OSSL_PARAM *params;
	BIGNUM *bn, *be;
	unsigned sw;
	size_t used;

	sw = collect(fx, cmd(fx, 0x00, 0x47, 0x00, slot, d, sizeof(d), 0));
	if (swp != NULL)
		*swp = sw;
	if (sw != 0x9000)
		return NULL;
	assert_int_equal(tlv_parse(fx->data, fx->dlen, &outer, &used), OL_OK);
	assert_int_equal(used, fx->dlen);
	assert_int_equal(outer.tag, 0x7f49);
	if (alg == PIV_ALG_ED25519) {
		assert_int_equal(tlv_find(outer.val, outer.len, 0x86, &pt), 1);
		assert_int_equal(pt.len, 32);
		pk = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL,
		    pt.val, pt.len);
		assert_non_null(pk);
		return pk;
	}
	assert_non_null(bld = OSSL_PARAM_BLD_new());
	if (alg == PIV_ALG_RSA2048) {
		assert_int_equal(tlv_find(outer.val, outer.len, 0x81, &n), 1);
		assert_int_equal(tlv_find(outer.val, outer.len, 0x82, &e), 1);
		assert_int_equal(n.len, 256);
		bn = BN_bin2bn(n.val, (int)n.len, NULL);
		be = BN_bin2bn(e.val, (int)e.len, NULL);
		OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn);
		OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, be);
		ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
	} else {
		assert_int_equal(tlv_find(outer.val, outer.len, 0x86, &pt), 1);
		assert_int_equal(pt.len, 65);
		assert_int_equal(pt.val[0], 0x04);
		bn = be = NULL;
		OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME,
		    "prime256v1", 0);
		OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY,
		    pt.val, pt.len);
		ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
	}
	assert_non_null(params = OSSL_PARAM_BLD_to_param(bld));
	assert_non_null(ctx);
	assert_int_equal(EVP_PKEY_fromdata_init(ctx), 1);
	assert_int_equal(EVP_PKEY_fromdata(ctx, &pk, EVP_PKEY_PUBLIC_KEY,
	    params), 1);
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	BN_free(bn);
	BN_free(be);
	return pk;
}

/* GENERAL AUTHENTICATE 7C { 82 00, tag data }; the result in fx->data
 * (the 82 value) when SW is 9000. */
static unsigned
ga(struct fx *fx, uint8_t alg, uint8_t slot, uint8_t tag,
    const uint8_t *in, size_t len)
{
	uint8_t *d = malloc(len + 16);
	struct tlv_writer w;
	struct tlv outer, res;
	size_t m, used;
	unsigned sw;

	assert_non_null(d);
	tlv_writer_init(&w, d, len + 16);
	m = tlv_open(&w, 0x7c);
	tlv_put(&w, 0x82, NULL, 0);
	tlv_put(&w, tag, in, len);
	tlv_close(&w, m);
	assert_false(w.overflow);
	sw = chained(fx, 0x87, alg, slot, d, w.len);
	free(d);
	if (sw != 0x9000)
		return sw;
	assert_int_equal(tlv_parse(fx->data, fx->dlen, &outer, &used), OL_OK);
	assert_int_equal(used, fx->dlen);
	assert_int_equal(outer.tag, 0x7c);
	assert_int_equal(tlv_find(outer.val, outer.len, 0x82, &res), 1);
	memmove(fx->data, res.val, res.len);
	fx->dlen = res.len;
	return sw;
}

static void
verify_ecdsa(EVP_PKEY *pk, const uint8_t *hash, size_t hlen,
    const uint8_t *sig, size_t slen)
{
	EVP_PKEY_CTX *c = EVP_PKEY_CTX_new(pk, NULL);

	assert_non_null(c);
	assert_int_equal(EVP_PKEY_verify_init(c), 1);
	assert_int_equal(EVP_PKEY_verify(c, sig, slen, hash, hlen), 1);
	EVP_PKEY_CTX_free(c);
}

/* s^e mod n with OpenSSL: what the host does to check a raw signature */
static void
rsa_public_op(EVP_PKEY *pk, const uint8_t *in, uint8_t out[256])
{
	EVP_PKEY_CTX *c = EVP_PKEY_CTX_new(pk, NULL);
	size_t n = 256;

	assert_non_null(c);
	assert_int_equal(EVP_PKEY_encrypt_init(c), 1);
	assert_int_equal(EVP_PKEY_CTX_set_rsa_padding(c, RSA_NO_PADDING), 1);
	assert_int_equal(EVP_PKEY_encrypt(c, out, &n, in, 256), 1);
	assert_int_equal(n, 256);
	EVP_PKEY_CTX_free(c);
}

static void
verify_ed25519(EVP_PKEY *pk, const uint8_t *msg, size_t len,
    const uint8_t *sig, size_t slen)
{
	EVP_MD_CTX *m = EVP_MD_CTX_new();

	assert_non_null(m);
	assert_int_equal(EVP_DigestVerifyInit_ex(m, NULL, NULL, NULL, NULL, pk,
	    NULL), 1);
	assert_int_equal(EVP_DigestVerify(m, sig, slen, msg, len), 1);
	EVP_MD_CTX_free(m);
}

static void
sha256(const void *d, size_t n, uint8_t out[32])
{
	assert_non_null(SHA256(d, n, out));
}

/* A card with a PIN set (123456) and the management key authenticated. */
static void
ready(struct fx *fx)
{
	do_select(fx);
	assert_int_equal(unblock(fx, "12345678", "123456"), 0x9000);
	assert_int_equal(mgm_mutual(fx, mgm_default), 0x9000);
}

/* --- BER-TLV ------------------------------------------------------------------ */

static void
tlv_reader_and_writer(void **state)
{
	static const uint8_t good[] = { 0x5f, 0xc1, 0x02, 0x81, 0x80 };
	static const uint8_t long_tag[] = { 0x5f, 0xc1, 0x82, 0x01, 0x00, 0x00 };
	static const uint8_t indefinite[] = { 0x7c, 0x80, 0x00 };
	static const uint8_t len83[] = { 0x53, 0x83, 0x00, 0x00, 0x01, 0x00 };
	static const uint8_t past_end[] = { 0x53, 0x82, 0x01, 0x00, 0x00 };
	uint8_t buf[300], big[200], small[4];
	struct tlv_writer w;
	struct tlv t;
	size_t used, m, i;

	(void)state;
	/* 81 80: a 128-byte value, not there: malformed */
	assert_int_equal(tlv_parse(good, sizeof(good), &t, &used),
	    OL_ERR_PROTOCOL);
	assert_int_equal(tlv_parse(long_tag, sizeof(long_tag), &t, &used),
	    OL_ERR_PROTOCOL);
	assert_int_equal(tlv_parse(indefinite, sizeof(indefinite), &t, &used),
	    OL_ERR_PROTOCOL);
	assert_int_equal(tlv_parse(len83, sizeof(len83), &t, &used),
	    OL_ERR_PROTOCOL);
	assert_int_equal(tlv_parse(past_end, sizeof(past_end), &t, &used),
	    OL_ERR_PROTOCOL);
	/* every truncation of a valid element is refused */
	memset(big, 0xab, sizeof(big));
	tlv_writer_init(&w, buf, sizeof(buf));
	tlv_put(&w, 0x5fc105, big, sizeof(big));
	assert_false(w.overflow);
	assert_int_equal(w.len, 3 + 2 + 200);
	assert_memory_equal(buf, "\x5f\xc1\x05\x81\xc8", 5);
	for (i = 0; i < w.len; i++)
		assert_int_equal(tlv_parse(buf, i, &t, &used), OL_ERR_PROTOCOL);
	assert_int_equal(tlv_parse(buf, w.len, &t, &used), OL_OK);
	assert_int_equal(t.tag, 0x5fc105);
	assert_int_equal(t.len, 200);
	assert_int_equal(used, w.len);
	/* nested opens shrink their reserved length fields */
	tlv_writer_init(&w, buf, sizeof(buf));
	m = tlv_open(&w, 0x7c);
	i = tlv_open(&w, 0x7f49);
	tlv_put(&w, 0x86, big, 3);
	tlv_close(&w, i);
	tlv_close(&w, m);
	assert_false(w.overflow);
	assert_int_equal(w.len, 10);
	assert_memory_equal(buf, "\x7c\x08\x7f\x49\x05\x86\x03\xab\xab\xab",
	    10);
	/* 256 bytes need 82 01 00 */
	tlv_writer_init(&w, buf, sizeof(buf));
	m = tlv_open(&w, 0x53);
	tlv_put_raw(&w, big, 200);
	tlv_put_raw(&w, big, 56);
	tlv_close(&w, m);
	assert_int_equal(w.len, 4 + 256);
	assert_memory_equal(buf, "\x53\x82\x01\x00", 4);
	/* overflow is sticky and writes nothing past the buffer */
	tlv_writer_init(&w, small, sizeof(small));
	tlv_put(&w, 0x53, big, 3);
	assert_true(w.overflow);
	assert_int_equal(w.len, 0);
	tlv_put_byte(&w, 0x80, 1);
	assert_int_equal(w.len, 0);
	/* find: malformed before the tag / absent */
	assert_int_equal(tlv_find(past_end, sizeof(past_end), 0x80, &t), -1);
	assert_int_equal(tlv_find(buf, 0, 0x80, &t), 0);
}

/* --- SELECT and data objects ----------------------------------------- */

static void
select_template(void **state)
{
	struct fx *fx = *state;
	struct tlv apt, t, alg;
	struct tlv_iter it;
	size_t used;
	uint8_t algs[8];
	size_t n = 0;

	do_select(fx);
	assert_int_equal(tlv_parse(fx->r, fx->rlen, &apt, &used), OL_OK);
	assert_int_equal(used, fx->rlen);
	assert_int_equal(apt.tag, 0x61);
	assert_int_equal(tlv_find(apt.val, apt.len, 0x4f, &t), 1);
	assert_int_equal(t.len, 6);
	assert_memory_equal(t.val, "\x00\x00\x10\x00\x01\x00", 6);
	assert_int_equal(tlv_find(apt.val, apt.len, 0x79, &t), 1);
	assert_int_equal(tlv_find(t.val, t.len, 0x4f, &alg), 1);
	assert_memory_equal(alg.val, "\xa0\x00\x00\x03\x08", 5);
	assert_int_equal(tlv_find(apt.val, apt.len, 0x50, &t), 1);
	assert_memory_equal(t.val, "Openloop PIV", t.len);
	assert_int_equal(tlv_find(apt.val, apt.len, 0xac, &t), 1);
	tlv_iter_init(&it, t.val, t.len);
	while (tlv_next(&it, &alg) == 1 && alg.tag == 0x80) {
		assert_int_equal(alg.len, 1);
		algs[n++] = alg.val[0];
	}
	assert_int_equal(alg.tag, 0x06);   /* the list ends with 06 00 */
	assert_int_equal(n, 4);
	assert_memory_equal(algs, "\x11\x22\x07\x03", 4);

	/* model A: no RSA */
	fx->st->model = PIV_MODEL_A;
	fx_card(fx, SIM_TOUCH_APPROVE, 0, NULL);
	do_select(fx);
	assert_int_equal(tlv_parse(fx->r, fx->rlen, &apt, &used), OL_OK);
	assert_int_equal(tlv_find(apt.val, apt.len, 0xac, &t), 1);
	assert_memory_equal(t.val, "\x80\x01\x11\x80\x01\x22\x80\x01\x03"
	    "\x06\x00", 11);
}

static void
fresh_objects(void **state)
{
	static const uint8_t discovery[] = { 0x7e, 0x12, 0x4f, 0x0b, 0xa0,
	    0x00, 0x00, 0x03, 0x08, 0x00, 0x00, 0x10, 0x00, 0x01, 0x00, 0x5f,
	    0x2f, 0x02, 0x40, 0x00 };
	/* FASC-N of a non-federal issuer: agency 9999, system 9999,
	 * credential 999999, CS 0, ICI 1, PI 0, OC 3, OI 0, POA 1 */
	static const uint8_t fascn[25] = { 0xd4, 0xe7, 0x39, 0xda, 0x73,
	    0x9c, 0xed, 0x39, 0xce, 0x73, 0x9d, 0x83, 0x68, 0x58, 0x21, 0x08,
	    0x42, 0x10, 0x84, 0x21, 0xc8, 0x42, 0x10, 0xc3, 0xeb };
	static const uint32_t absent[] = { 0x5fc10c, 0x5fc105, 0x5fc10a,
	    0x5fc10b, 0x5fc101, 0x5fc106, 0x5fc10d, 0x5fff00, 0x7f61 };
	struct fx *fx = *state;
	struct tlv obj, t;
	uint8_t guid[32];
	size_t used, i;

	do_select(fx);
	assert_int_equal(get_data(fx, 0x7e), 0x9000);
	assert_int_equal(fx->dlen, sizeof(discovery));
	assert_memory_equal(fx->data, discovery, sizeof(discovery));

	assert_int_equal(get_data(fx, 0x5fc102), 0x9000);
	assert_int_equal(tlv_parse(fx->data, fx->dlen, &obj, &used), OL_OK);
	assert_int_equal(obj.tag, 0x53);
	assert_int_equal(tlv_find(obj.val, obj.len, 0x30, &t), 1);
	assert_int_equal(t.len, 25);
	assert_memory_equal(t.val, fascn, 25);
	assert_int_equal(tlv_find(obj.val, obj.len, 0x34, &t), 1);
	assert_int_equal(t.len, 16);
	SHA256((const uint8_t *)"openloop-guid:" SERIAL,
	    strlen("openloop-guid:" SERIAL), guid);
	assert_memory_equal(t.val, guid, 16);
	assert_int_equal(tlv_find(obj.val, obj.len, 0x35, &t), 1);
	assert_int_equal(t.len, 8);
	assert_int_equal(tlv_find(obj.val, obj.len, 0x3e, &t), 1);
	assert_int_equal(t.len, 0);
	assert_int_equal(tlv_find(obj.val, obj.len, 0xfe, &t), 1);

	assert_int_equal(get_data(fx, 0x5fc107), 0x9000);
	assert_int_equal(tlv_parse(fx->data, fx->dlen, &obj, &used), OL_OK);
	assert_int_equal(tlv_find(obj.val, obj.len, 0xf0, &t), 1);
	assert_int_equal(t.len, 21);
	assert_memory_equal(t.val, "\xa0\x00\x00\x01\x16", 5);

	for (i = 0; i < sizeof(absent) / sizeof(absent[0]); i++)
		assert_int_equal(get_data(fx, absent[i]), 0x6a82);
	/* printed information and biometrics need the PIN */
	assert_int_equal(get_data(fx, 0x5fc109), 0x6982);
	assert_int_equal(get_data(fx, 0x5fc108), 0x6982);
}

static void
get_data_errors(void **state)
{
	static const uint8_t bad_list[] = { 0x5d, 0x01, 0x7e };
	static const uint8_t long_tag[] = { 0x5c, 0x04, 0x5f, 0xc1, 0x02, 0x00 };
	static const uint8_t trailing[] = { 0x5c, 0x01, 0x7e, 0x00 };
	static const uint8_t trunc[] = { 0x5c, 0x03, 0x5f, 0xc1 };
	static const uint8_t good[] = { 0x5c, 0x01, 0x7e };
	struct fx *fx = *state;

	do_select(fx);
	assert_int_equal(cmd(fx, 0, 0xcb, 0x3f, 0xfe, good, 3, 0), 0x6a86);
	assert_int_equal(cmd(fx, 0, 0xcb, 0x3f, 0xff, bad_list, 3, 0), 0x6a80);
	assert_int_equal(cmd(fx, 0, 0xcb, 0x3f, 0xff, long_tag, 6, 0), 0x6a80);
	assert_int_equal(cmd(fx, 0, 0xcb, 0x3f, 0xff, trailing, 4, 0), 0x6a80);
	assert_int_equal(cmd(fx, 0, 0xcb, 0x3f, 0xff, trunc, 4, 0), 0x6a80);
	assert_int_equal(cmd(fx, 0, 0xcb, 0x3f, 0xff, NULL, 0, 0), 0x6a80);
	/* the proprietary class has VERIFY ON DEVICE only; Yubico's
	 * instructions are not here */
	assert_int_equal(cmd(fx, 0x80, 0xcb, 0x3f, 0xff, good, 3, 0), 0x6d00);
	assert_int_equal(cmd(fx, 0xa0, 0xcb, 0x3f, 0xff, good, 3, 0), 0x6e00);
	assert_int_equal(cmd(fx, 0, 0xfd, 0, 0, NULL, 0, 0), 0x6d00);
	assert_int_equal(cmd(fx, 0, 0xf8, 0, 0, NULL, 0, 0), 0x6d00);
	assert_int_equal(cmd(fx, 0, 0xf7, 0, 0x9a, NULL, 0, 0), 0x6d00);
}

static void
put_data_objects(void **state)
{
	struct fx *fx = *state;
	uint8_t cert[3000], big[4097], obj[3010];
	size_t i;

	for (i = 0; i < sizeof(cert); i++)
		cert[i] = (uint8_t)(i * 7);
	/* 70 cert, 71 00, FE 00: as OpenSC and yubico-piv-tool write it */
	memcpy(obj, "\x70\x82\x0b\xb8", 4);
	memcpy(obj + 4, cert, sizeof(cert));
	memcpy(obj + 4 + sizeof(cert), "\x71\x01\x00\xfe\x00", 5);
	do_select(fx);
	/* without the management key */
	assert_int_equal(put_data(fx, 0x5fc105, obj, 3009), 0x6982);
	assert_int_equal(unblock(fx, "12345678", "123456"), 0x9000);
	assert_int_equal(put_data(fx, 0x5fc105, obj, 3009), 0x6982);
	assert_int_equal(mgm_external(fx, mgm_default), 0x9000);
	assert_int_equal(put_data(fx, 0x5fc105, obj, 3009), 0x9000);
	/* read back through 61xx and GET RESPONSE */
	assert_int_equal(get_data(fx, 0x5fc105), 0x9000);
	assert_int_equal(fx->dlen, 4 + 3009);
	assert_memory_equal(fx->data, "\x53\x82\x0b\xc1", 4);
	assert_memory_equal(fx->data + 4, obj, 3009);
	/* Discovery is the device's; the object list is checked */
	assert_int_equal(put_data(fx, 0x7e, obj, 10), 0x6a81);
	assert_int_equal(put_data(fx, 0x5fc1ff, obj, 10), 0x6a80);
	assert_int_equal(put_data(fx, 0x123456, obj, 10), 0x6a80);
	memset(big, 0x11, sizeof(big));
	assert_int_equal(put_data(fx, 0x5fc10a, big, 4097), 0x6a84);
	assert_int_equal(put_data(fx, 0x5fc10a, big, 4096), 0x9000);
	/* 53 00 deletes */
	assert_int_equal(put_data(fx, 0x5fc10a, NULL, 0), 0x9000);
	assert_int_equal(get_data(fx, 0x5fc10a), 0x6a82);
	/* the CHUID can be replaced and deleted like any object */
	assert_int_equal(put_data(fx, 0x5fc102, (const uint8_t *)"\x30\x00",
	    2), 0x9000);
	assert_int_equal(get_data(fx, 0x5fc102), 0x9000);
	assert_memory_equal(fx->data, "\x53\x02\x30\x00", 4);
	assert_int_equal(put_data(fx, 0x5fc102, NULL, 0), 0x9000);
	assert_int_equal(get_data(fx, 0x5fc102), 0x6a82);
	/* printed information: readable with the PIN only */
	assert_int_equal(put_data(fx, 0x5fc109, (const uint8_t *)"\x01\x00",
	    2), 0x9000);
	assert_int_equal(get_data(fx, 0x5fc109), 0x6982);
	assert_int_equal(verify(fx, "123456"), 0x9000);
	assert_int_equal(get_data(fx, 0x5fc109), 0x9000);
	/* malformed PUT DATA: no 53, trailing bytes */
	assert_int_equal(cmd(fx, 0, 0xdb, 0x3f, 0xff, (const uint8_t *)
	    "\x5c\x03\x5f\xc1\x05\x70\x00", 7, -1), 0x6a80);
	assert_int_equal(cmd(fx, 0, 0xdb, 0x3f, 0xff, (const uint8_t *)
	    "\x5c\x03\x5f\xc1\x05\x53\x00\x00", 8, -1), 0x6a80);
	assert_int_equal(cmd(fx, 0, 0xdb, 0x3f, 0xfe, (const uint8_t *)
	    "\x5c\x03\x5f\xc1\x05\x53\x00", 7, -1), 0x6a86);
}

static void
put_data_fills_up(void **state)
{
	struct fx *fx = *state;
	uint8_t v[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	uint32_t tag;
	unsigned sw = 0;
	int n = 0;

	ready(fx);
	for (tag = 0x5fff00; tag < 0x5fff00 + PIV_OBJECTS_MAX + 2; tag++) {
		sw = put_data(fx, tag, v, sizeof(v));
		if (sw != 0x9000)
			break;
		n++;
	}
	assert_int_equal(n, PIV_OBJECTS_MAX);
	assert_int_equal(sw, 0x6a84);
	/* replacing one that exists still works */
	assert_int_equal(put_data(fx, 0x5fff00, v, 4), 0x9000);
}

/* --- the management key ------------------------------------------------ */

static void
management_key(void **state)
{
	struct fx *fx = *state;
	uint8_t wrong[24];
	static const uint8_t step2[] = { 0x7c, 0x0a, 0x82, 0x08, 1, 2, 3, 4,
	    5, 6, 7, 8 };
	static const uint8_t step1[] = { 0x7c, 0x02, 0x81, 0x00 };

	memcpy(wrong, mgm_default, sizeof(wrong));
	wrong[23] ^= 0x01;
	wrong[0] ^= 0x10;
	do_select(fx);
	assert_int_equal(mgm_external(fx, wrong), 0x6982);
	assert_int_equal(mgm_mutual(fx, wrong), 0x6982);
	/* a response without a challenge asked for */
	assert_int_equal(cmd(fx, 0, 0x87, 0x03, 0x9b, step2, sizeof(step2),
	    -1), 0x6982);
	/* another command between the steps forgets the challenge */
	assert_int_equal(cmd(fx, 0, 0x87, 0x03, 0x9b, step1, sizeof(step1), 0),
	    0x9000);
	assert_int_equal(verify(fx, NULL), 0x6a88);
	assert_int_equal(cmd(fx, 0, 0x87, 0x03, 0x9b, step2, sizeof(step2),
	    -1), 0x6982);
	/* an algorithm that is not the key's; one that is unknown */
	assert_int_equal(cmd(fx, 0, 0x87, 0x08, 0x9b, step1, sizeof(step1), 0),
	    0x6a80);
	assert_int_equal(cmd(fx, 0, 0x87, 0x99, 0x9b, step1, sizeof(step1), 0),
	    0x6a86);
	/* a 7C that is not one */
	assert_int_equal(cmd(fx, 0, 0x87, 0x03, 0x9b, (const uint8_t *)
	    "\x7c\x03\x81\x00", 4, 0), 0x6a80);
	assert_int_equal(cmd(fx, 0, 0x87, 0x03, 0x9b, (const uint8_t *)
	    "\x7c\x02\x99\x00", 4, 0), 0x6a80);
	/* the default key works both ways; 00 is 3DES as well */
	assert_int_equal(mgm_external(fx, mgm_default), 0x9000);
	assert_int_equal(mgm_mutual(fx, mgm_default), 0x9000);
	assert_int_equal(cmd(fx, 0, 0x87, 0x00, 0x9b, step1, sizeof(step1), 0),
	    0x9000);
	/* no management key byte in any log line */
	assert_null(strstr(logbuf, "01 02 03 04 05 06 07 08"));
}

/* A state file's AES-128 management key works the same way. */
static void
management_key_aes(void **state)
{
	static const uint8_t step1[] = { 0x7c, 0x02, 0x81, 0x00 };
	struct fx *fx = *state;
	uint8_t key[16], step2[20];
	EVP_CIPHER_CTX *c;
	EVP_PKEY *pk;
	int n = 0;

	memset(key, 0x42, sizeof(key));
	fx->st->mgm_alg = PIV_ALG_AES128;
	fx->st->mgm_len = 16;
	memcpy(fx->st->mgm_key, key, 16);
	fx_card(fx, SIM_TOUCH_APPROVE, 0, NULL);
	do_select(fx);
	/* SELECT names the management key's algorithm */
	assert_non_null(memmem(fx->r, fx->rlen, "\x80\x01\x08\x06\x00", 5));
	assert_int_equal(cmd(fx, 0, 0x87, 0x03, 0x9b, step1, 4, 0), 0x6a80);
	assert_int_equal(cmd(fx, 0, 0x87, 0x08, 0x9b, step1, 4, 0), 0x9000);
	assert_int_equal(fx->rlen, 20);
	memcpy(step2, "\x7c\x12\x82\x10", 4);
	assert_non_null(c = EVP_CIPHER_CTX_new());
	EVP_EncryptInit_ex2(c, EVP_aes_128_ecb(), key, NULL, NULL);
	EVP_CIPHER_CTX_set_padding(c, 0);
	assert_int_equal(EVP_EncryptUpdate(c, step2 + 4, &n, fx->r + 4, 16), 1);
	EVP_CIPHER_CTX_free(c);
	assert_int_equal(cmd(fx, 0, 0x87, 0x08, 0x9b, step2, 20, -1), 0x9000);
	assert_non_null(pk = generate(fx, 0x9a, 0x11, NULL));
	EVP_PKEY_free(pk);
}

/* --- GENERATE and GENERAL AUTHENTICATE --------------------------------- */

static void
generate_rules(void **state)
{
	struct fx *fx = *state;
	static const uint8_t no_alg[] = { 0xac, 0x03, 0x81, 0x01, 0x11 };
	static const uint8_t policies[] = { 0xac, 0x09, 0x80, 0x01, 0x11, 0xaa,
	    0x01, 0x02, 0xab, 0x01, 0x02 };
	EVP_PKEY *pk;
	unsigned sw;

	do_select(fx);
	assert_null(generate(fx, 0x9a, 0x11, &sw));
	assert_int_equal(sw, 0x6982);
	assert_int_equal(mgm_mutual(fx, mgm_default), 0x9000);
	assert_null(generate(fx, 0x9b, 0x11, &sw));
	assert_int_equal(sw, 0x6a86);
	assert_null(generate(fx, 0x82, 0x11, &sw));
	assert_int_equal(sw, 0x6a86);
	assert_null(generate(fx, 0x9a, 0x14, &sw));   /* P-384: not here */
	assert_int_equal(sw, 0x6a80);
	assert_null(generate(fx, 0x9a, 0xe0, &sw));   /* Yubico's Ed25519 */
	assert_int_equal(sw, 0x6a80);
	assert_null(generate(fx, 0x9a, 0x03, &sw));
	assert_int_equal(sw, 0x6a80);
	assert_int_equal(cmd(fx, 0, 0x47, 0x00, 0x9a, no_alg, 5, 0), 0x6a80);
	assert_int_equal(cmd(fx, 0, 0x47, 0x01, 0x9a, policies, 11, 0), 0x6a86);
	/* PIN and touch policies are accepted and ignored */
	assert_int_equal(cmd(fx, 0, 0x47, 0x00, 0x9a, policies, 11, 0), 0x9000);
	pk = generate(fx, 0x9e, 0x22, &sw);
	assert_non_null(pk);
	EVP_PKEY_free(pk);
	assert_non_null(strstr(logbuf, "PIV: key generated in 9E (Ed25519)"));

	/* model A has no RSA */
	fx->st->model = PIV_MODEL_A;
	fx_card(fx, SIM_TOUCH_APPROVE, 0, NULL);
	do_select(fx);
	assert_int_equal(mgm_mutual(fx, mgm_default), 0x9000);
	assert_null(generate(fx, 0x9a, 0x07, &sw));
	assert_int_equal(sw, 0x6a80);
	pk = generate(fx, 0x9a, 0x11, &sw);
	assert_non_null(pk);
	EVP_PKEY_free(pk);
}

static void
sign_p256(void **state)
{
	struct fx *fx = *state;
	uint8_t hash[65], other[32];
	EVP_PKEY *pk, *pk2;
	size_t i;

	ready(fx);
	assert_non_null(pk = generate(fx, 0x9a, 0x11, NULL));
	assert_int_equal(verify(fx, "123456"), 0x9000);
	for (i = 0; i < sizeof(hash); i++)
		hash[i] = (uint8_t)(i * 13 + 1);
	assert_int_equal(ga(fx, 0x11, 0x9a, 0x81, hash, 32), 0x9000);
	assert_int_equal(fx->data[0], 0x30);  /* DER SEQUENCE { r, s } */
	verify_ecdsa(pk, hash, 32, fx->data, fx->dlen);
	/* a SHA-512 hash: the leftmost 256 bits are signed */
	assert_int_equal(ga(fx, 0x11, 0x9a, 0x81, hash, 64), 0x9000);
	verify_ecdsa(pk, hash, 32, fx->data, fx->dlen);
	assert_int_equal(ga(fx, 0x11, 0x9a, 0x81, hash, 65), 0x6a80);
	assert_int_equal(ga(fx, 0x11, 0x9a, 0x81, hash, 0), 0x6a80);
	/* the algorithm must be the key's */
	assert_int_equal(ga(fx, 0x07, 0x9a, 0x81, hash, 32), 0x6a80);
	assert_int_equal(ga(fx, 0x99, 0x9a, 0x81, hash, 32), 0x6a86);
	/* a new key replaces the old one */
	assert_non_null(pk2 = generate(fx, 0x9a, 0x11, NULL));
	assert_int_equal(EVP_PKEY_eq(pk, pk2), 0);
	sha256("x", 1, other);
	assert_int_equal(ga(fx, 0x11, 0x9a, 0x81, other, 32), 0x9000);
	verify_ecdsa(pk2, other, 32, fx->data, fx->dlen);
	EVP_PKEY_free(pk);
	EVP_PKEY_free(pk2);
}

static void
rsa_raw(void **state)
{
	struct fx *fx = *state;
	uint8_t block[256], back[256], n[256];
	EVP_PKEY *pk;
	BIGNUM *bn = NULL;
	unsigned sw;

	ready(fx);
	assert_non_null(pk = generate(fx, 0x9d, 0x07, &sw));
	/* 265 bytes: the first 256 and 61 09 came, GET RESPONSE the rest */
	assert_int_equal(fx->dlen, 5 + 4 + 256 + 5);
	assert_int_equal(verify(fx, "123456"), 0x9000);
	/* a PKCS#1 v1.5 type 1 block, as OpenSC pads it */
	memset(block, 0xff, sizeof(block));
	block[0] = 0x00;
	block[1] = 0x01;
	block[200] = 0x00;
	memset(block + 201, 0x5a, 55);
	assert_int_equal(ga(fx, 0x07, 0x9d, 0x81, block, 256), 0x9000);
	assert_int_equal(fx->dlen, 256);
	rsa_public_op(pk, fx->data, back);
	assert_memory_equal(back, block, 256);
	/* the block must be 256 bytes and below the modulus */
	assert_int_equal(ga(fx, 0x07, 0x9d, 0x81, block, 255), 0x6a80);
	assert_int_equal(EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_RSA_N, &bn),
	    1);
	assert_int_equal(BN_bn2binpad(bn, n, 256), 256);
	assert_int_equal(ga(fx, 0x07, 0x9d, 0x81, n, 256), 0x6a80);
	memset(block, 0xff, sizeof(block));
	assert_int_equal(ga(fx, 0x07, 0x9d, 0x81, block, 256), 0x6a80);
	/* decryption is the same operation: an OAEP block round trip */
	BN_free(bn);
	EVP_PKEY_free(pk);
}

static void
sign_ed25519(void **state)
{
	struct fx *fx = *state;
	uint8_t msg[1000];
	EVP_PKEY *pk;
	size_t i;

	ready(fx);
	assert_non_null(pk = generate(fx, 0x9a, 0x22, NULL));
	assert_int_equal(verify(fx, "123456"), 0x9000);
	for (i = 0; i < sizeof(msg); i++)
		msg[i] = (uint8_t)i;
	/* the message itself, chained over four APDUs */
	assert_int_equal(ga(fx, 0x22, 0x9a, 0x81, msg, sizeof(msg)), 0x9000);
	assert_int_equal(fx->dlen, 64);
	verify_ed25519(pk, msg, sizeof(msg), fx->data, fx->dlen);
	assert_int_equal(ga(fx, 0x22, 0x9a, 0x81, msg, 0), 0x9000);
	verify_ed25519(pk, msg, 0, fx->data, fx->dlen);
	EVP_PKEY_free(pk);
}

static void
ecdh_9d(void **state)
{
	struct fx *fx = *state;
	EVP_PKEY *card, *peer;
	EVP_PKEY_CTX *c;
	uint8_t point[65], expect[32], bad[65];
	size_t plen = 0, elen = sizeof(expect);

	ready(fx);
	assert_non_null(card = generate(fx, 0x9d, 0x11, NULL));
	assert_non_null(peer = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256"));
	assert_int_equal(EVP_PKEY_get_octet_string_param(peer,
	    OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, point, sizeof(point), &plen), 1);
	assert_int_equal(plen, 65);
	assert_non_null(c = EVP_PKEY_CTX_new(peer, NULL));
	assert_int_equal(EVP_PKEY_derive_init(c), 1);
	assert_int_equal(EVP_PKEY_derive_set_peer(c, card), 1);
	assert_int_equal(EVP_PKEY_derive(c, expect, &elen), 1);
	EVP_PKEY_CTX_free(c);
	assert_int_equal(verify(fx, "123456"), 0x9000);
	assert_int_equal(ga(fx, 0x11, 0x9d, 0x85, point, 65), 0x9000);
	assert_int_equal(fx->dlen, 32);
	assert_memory_equal(fx->data, expect, 32);
	/* a point off the curve, a compressed one, a short one */
	memcpy(bad, point, 65);
	bad[64] ^= 0x01;
	assert_int_equal(ga(fx, 0x11, 0x9d, 0x85, bad, 65), 0x6a80);
	bad[0] = 0x02;
	assert_int_equal(ga(fx, 0x11, 0x9d, 0x85, bad, 33), 0x6a80);
	assert_int_equal(ga(fx, 0x11, 0x9d, 0x85, point, 64), 0x6a80);
	/* key agreement is the key management key's */
	EVP_PKEY_free(generate(fx, 0x9a, 0x11, NULL));
	assert_int_equal(ga(fx, 0x11, 0x9a, 0x85, point, 65), 0x6a80);
	EVP_PKEY_free(card);
	EVP_PKEY_free(peer);
}

static void
ga_errors(void **state)
{
	struct fx *fx = *state;
	uint8_t hash[32] = { 1 };

	ready(fx);
	assert_int_equal(verify(fx, "123456"), 0x9000);
	/* an empty slot */
	assert_int_equal(ga(fx, 0x11, 0x9a, 0x81, hash, 32), 0x6a82);
	assert_int_equal(ga(fx, 0x11, 0x9f, 0x81, hash, 32), 0x6a86);
	assert_int_equal(ga(fx, 0x11, 0x80, 0x81, hash, 32), 0x6a86);
	EVP_PKEY_free(generate(fx, 0x9a, 0x11, NULL));
	/* 82 missing or not empty; 80 in a key operation */
	assert_int_equal(cmd(fx, 0, 0x87, 0x11, 0x9a, (const uint8_t *)
	    "\x7c\x03\x81\x01\x01", 5, 0), 0x6a80);
	assert_int_equal(cmd(fx, 0, 0x87, 0x11, 0x9a, (const uint8_t *)
	    "\x7c\x06\x82\x01\x00\x81\x01\x01", 8, 0), 0x6a80);
	assert_int_equal(cmd(fx, 0, 0x87, 0x11, 0x9a, (const uint8_t *)
	    "\x7c\x07\x82\x00\x81\x01\x01\x80\x00", 9, 0), 0x6a80);
	assert_int_equal(cmd(fx, 0, 0x87, 0x11, 0x9a, (const uint8_t *)
	    "\x7c\x04\x82\x00\x82\x00", 6, 0), 0x6a80);
	assert_int_equal(cmd(fx, 0, 0x87, 0x11, 0x9a, (const uint8_t *)
	    "\x7c\x05\x82\x00\x81\x01", 6, 0), 0x6a80);
	assert_int_equal(cmd(fx, 0, 0x87, 0x11, 0x9a, (const uint8_t *)
	    "\x7d\x02\x82\x00", 4, 0), 0x6a80);
}

/* --- PIN and PUK ---------------------------------------------------- */

static void
no_pin_device(void **state)
{
	struct fx *fx = *state;
	uint8_t hash[32] = { 7 };
	EVP_PKEY *pk;

	do_select(fx);
	/* no PIN object: 6A88 for VERIFY and CHANGE REFERENCE DATA */
	assert_int_equal(verify(fx, NULL), 0x6a88);
	assert_int_equal(verify(fx, "123456"), 0x6a88);
	assert_int_equal(two_refs(fx, 0x24, 0x80, "123456", "654321"), 0x6a88);
	/* logout is harmless */
	assert_int_equal(cmd(fx, 0, 0x20, 0xff, 0x80, NULL, 0, -1), 0x9000);
	/* the PIN-less device signs after a touch */
	assert_int_equal(mgm_mutual(fx, mgm_default), 0x9000);
	assert_non_null(pk = generate(fx, 0x9a, 0x11, NULL));
	assert_int_equal(ga(fx, 0x11, 0x9a, 0x81, hash, 32), 0x9000);
	verify_ecdsa(pk, hash, 32, fx->data, fx->dlen);
	EVP_PKEY_free(pk);
	/* 9C too: no slot exception, a touch is its per-use confirmation */
	EVP_PKEY_free(generate(fx, 0x9c, 0x11, NULL));
	assert_int_equal(ga(fx, 0x11, 0x9c, 0x81, hash, 32), 0x9000);
	/* the first PIN, with the PUK, as stock tools can do it */
	assert_int_equal(unblock(fx, "12345678", "246810"), 0x9000);
	assert_non_null(strstr(logbuf, "PIV: first PIN set with the PUK"));
	assert_int_equal(verify(fx, NULL), 0x63c8);
	assert_int_equal(verify(fx, "246810"), 0x9000);
	assert_int_equal(verify(fx, NULL), 0x9000);
}

/* --pin: main.c puts the formatted PIN into a fresh state. */
static void
pin_from_options(void **state)
{
	struct fx *fx = *state;
	uint8_t p[8];

	assert_int_equal(piv_pin_format("1234567", fx->st->pin), OL_OK);
	fx->st->pin_set = 1;
	fx_card(fx, SIM_TOUCH_APPROVE, 0, NULL);
	do_select(fx);
	assert_int_equal(verify(fx, NULL), 0x63c8);
	assert_int_equal(verify(fx, "1234567"), 0x9000);
	assert_int_equal(piv_pin_format("12345", p), OL_ERR_ARG);
	assert_int_equal(piv_pin_format("123456789", p), OL_ERR_ARG);
	assert_int_equal(piv_pin_format("1234\xff" "6", p), OL_ERR_ARG);
	assert_int_equal(piv_pin_format("12345678", p), OL_OK);
	assert_memory_equal(p, "12345678", 8);
	assert_int_equal(piv_pin_format("abcdef", p), OL_OK);
	assert_memory_equal(p, "abcdef\xff\xff", 8);
}

static void
pin_counter(void **state)
{
	struct fx *fx = *state;
	static const uint8_t gap[] = { '1', '2', '3', 0xff, '5', '6', '7',
	    0xff };
	static const uint8_t five[] = { '1', '2', '3', '4', '5', 0xff, 0xff,
	    0xff };
	unsigned expect;
	int i;

	do_select(fx);
	assert_int_equal(unblock(fx, "12345678", "123456"), 0x9000);
	assert_int_equal(verify(fx, "123456"), 0x9000);
	assert_int_equal(verify(fx, NULL), 0x9000);
	/* logout */
	assert_int_equal(cmd(fx, 0, 0x20, 0xff, 0x80, NULL, 0, -1), 0x9000);
	assert_int_equal(verify(fx, NULL), 0x63c8);
	/* malformed PINs cost no try */
	assert_int_equal(cmd(fx, 0, 0x20, 0x00, 0x80, gap, 8, -1), 0x6a80);
	assert_int_equal(cmd(fx, 0, 0x20, 0x00, 0x80, five, 8, -1), 0x6a80);
	assert_int_equal(cmd(fx, 0, 0x20, 0x00, 0x80, five, 7, -1), 0x6a80);
	assert_int_equal(verify(fx, NULL), 0x63c8);
	/* wrong references */
	assert_int_equal(cmd(fx, 0, 0x20, 0x00, 0x00, NULL, 0, -1), 0x6a88);
	assert_int_equal(cmd(fx, 0, 0x20, 0x00, 0x9a, NULL, 0, -1), 0x6a86);
	assert_int_equal(cmd(fx, 0, 0x20, 0x01, 0x80, NULL, 0, -1), 0x6a86);
	/* a wrong PIN unverifies and costs one try; a right one restores */
	assert_int_equal(verify(fx, "123456"), 0x9000);
	assert_int_equal(verify(fx, "000000"), 0x63c7);
	assert_int_equal(verify(fx, NULL), 0x63c7);
	assert_int_equal(verify(fx, "123456"), 0x9000);
	assert_int_equal(cmd(fx, 0, 0x20, 0xff, 0x80, NULL, 0, -1), 0x9000);
	assert_int_equal(verify(fx, NULL), 0x63c8);
	/* eight wrong: the eighth answers 63C0 (no further retries), and
	 * from then on 6983, also for the right PIN */
	for (i = 7; i >= 0; i--) {
		expect = 0x63c0u | (unsigned)i;
		assert_int_equal(verify(fx, "999999"), expect);
	}
	assert_int_equal(verify(fx, "999999"), 0x6983);
	assert_int_equal(verify(fx, "123456"), 0x6983);
	assert_int_equal(verify(fx, NULL), 0x6983);
	assert_int_equal(two_refs(fx, 0x24, 0x80, "123456", "654321"), 0x6983);
	/* the PUK: a wrong one costs a PUK try, the right one unblocks */
	assert_int_equal(unblock(fx, "87654321", "111111"), 0x63c7);
	assert_int_equal(verify(fx, "123456"), 0x6983);
	assert_int_equal(unblock(fx, "12345678", "111111"), 0x9000);
	assert_int_equal(verify(fx, NULL), 0x63c8);
	assert_int_equal(verify(fx, "111111"), 0x9000);
	/* the PUK status, and its counter back to 8 after a success */
	assert_int_equal(cmd(fx, 0, 0x20, 0x00, 0x81, NULL, 0, -1), 0x63c8);
	/* no PIN or PUK in any log line */
	assert_null(strstr(logbuf, "123456"));
	assert_null(strstr(logbuf, "31 32 33 34"));
	assert_null(strstr(logbuf, "12345678"));
}

static void
change_and_puk(void **state)
{
	struct fx *fx = *state;
	int i;

	do_select(fx);
	assert_int_equal(unblock(fx, "12345678", "123456"), 0x9000);
	assert_int_equal(two_refs(fx, 0x24, 0x80, "000000", "654321"), 0x63c7);
	assert_int_equal(two_refs(fx, 0x24, 0x80, "123456", "654321"), 0x9000);
	assert_int_equal(verify(fx, NULL), 0x9000);
	assert_int_equal(verify(fx, "123456"), 0x63c7);
	assert_int_equal(verify(fx, "654321"), 0x9000);
	/* new PIN malformed; wrong length */
	assert_int_equal(two_refs(fx, 0x24, 0x80, "654321", "12345"), 0x6a80);
	assert_int_equal(cmd(fx, 0, 0x24, 0x00, 0x80, (const uint8_t *)
	    "654321\xff\xff", 8, -1), 0x6a80);
	assert_int_equal(cmd(fx, 0, 0x24, 0x01, 0x80, NULL, 0, -1), 0x6a86);
	/* the PUK changes the same way */
	assert_int_equal(two_refs(fx, 0x24, 0x81, "12345678", "abcdefgh"),
	    0x9000);
	assert_int_equal(unblock(fx, "12345678", "222222"), 0x63c7);
	assert_int_equal(unblock(fx, "abcdefgh", "222222"), 0x9000);
	/* eight wrong PUKs block it for good */
	for (i = 7; i >= 0; i--)
		assert_int_equal(unblock(fx, "00000000", "222222"),
		    0x63c0u | (unsigned)i);
	assert_int_equal(unblock(fx, "00000000", "222222"), 0x6983);
	assert_int_equal(unblock(fx, "abcdefgh", "222222"), 0x6983);
	assert_int_equal(two_refs(fx, 0x24, 0x81, "abcdefgh", "12345678"),
	    0x6983);
	assert_int_equal(cmd(fx, 0, 0x20, 0x00, 0x81, NULL, 0, -1), 0x6983);
	/* RESET RETRY COUNTER: only for the PIN */
	assert_int_equal(two_refs(fx, 0x2c, 0x81, "abcdefgh", "222222"),
	    0x6a86);
}

/* 9C after a PIN sent over USB: the PIN right before each use, blind. */
static void
pin_always_9c(void **state)
{
	struct fx *fx = *state;
	uint8_t hash[32] = { 3 };
	EVP_PKEY *pk;

	ready(fx);
	assert_non_null(pk = generate(fx, 0x9c, 0x11, NULL));
	/* nothing verified: the touch mode, like every slot */
	assert_int_equal(ga(fx, 0x11, 0x9c, 0x81, hash, 32), 0x9000);
	assert_non_null(strstr(logbuf, "PIV: waiting for touch"));
	verify_ecdsa(pk, hash, 32, fx->data, fx->dlen);
	loglen = 0;
	logbuf[0] = '\0';
	assert_int_equal(verify(fx, "123456"), 0x9000);
	assert_int_equal(ga(fx, 0x11, 0x9c, 0x81, hash, 32), 0x9000);
	verify_ecdsa(pk, hash, 32, fx->data, fx->dlen);
	/* one operation per VERIFY, although the PIN stays verified */
	assert_int_equal(ga(fx, 0x11, 0x9c, 0x81, hash, 32), 0x6982);
	assert_int_equal(verify(fx, NULL), 0x9000);
	assert_int_equal(ga(fx, 0x11, 0x9c, 0x81, hash, 32), 0x6982);
	assert_int_equal(verify(fx, "123456"), 0x9000);
	assert_int_equal(ga(fx, 0x11, 0x9c, 0x81, hash, 32), 0x9000);
	/* blind: none of these asked for a touch */
	assert_null(strstr(logbuf, "PIV: waiting for touch"));
	EVP_PKEY_free(pk);
}

/* --- touch ---------------------------------------------------------------- */

struct async {
	struct fx *fx;
	uint8_t c[64];
	size_t len;
	unsigned sw;
	pthread_t t;
};

static void *
async_main(void *arg)
{
	struct async *a = arg;

	a->sw = xmit(a->fx, a->c, a->len);
	return NULL;
}

/* A 9A signature on a background thread, as the CTAPHID worker runs it. */
static void
async_sign(struct async *a, struct fx *fx, uint8_t slot)
{
	static const uint8_t head[] = { 0x00, 0x87, 0x11, 0x00, 0x26, 0x7c,
	    0x24, 0x82, 0x00, 0x81, 0x20 };

	memset(a, 0, sizeof(*a));
	a->fx = fx;
	memcpy(a->c, head, sizeof(head));
	a->c[3] = slot;
	memset(a->c + sizeof(head), 0x44, 32);
	a->c[sizeof(head) + 32] = 0x00;
	a->len = sizeof(head) + 33;
	sim_card_arm(fx->card);
	assert_int_equal(pthread_create(&a->t, NULL, async_main, a), 0);
}

static int
wait_status(sim_card_t *card, enum sim_card_status want, int ms)
{
	int64_t end = ol_now_ms() + ms;

	while (ol_now_ms() < end) {
		if (sim_card_status(card) == want)
			return 1;
		ol_sleep_ms(1);
	}
	return 0;
}

/* A card with keys in 9A and 9E, its PIN set but not verified. */
static void
touch_card(struct fx *fx, enum sim_touch_mode mode, int ms)
{
	fx_card(fx, mode, ms, NULL);
	ready(fx);
	EVP_PKEY_free(generate(fx, 0x9a, 0x11, NULL));
	EVP_PKEY_free(generate(fx, 0x9e, 0x11, NULL));
}

static void
touch_after_delay(void **state)
{
	struct fx *fx = *state;
	struct async a;
	int64_t t0;
	int waits;

	touch_card(fx, SIM_TOUCH_AFTER, 300);
	t0 = ol_now_ms();
	async_sign(&a, fx, 0x9a);
	/* the transport sees UPNEEDED (KEEPALIVE status 2) meanwhile */
	assert_true(wait_status(fx->card, SIM_CARD_UPNEEDED, 2000));
	pthread_join(a.t, NULL);
	assert_int_equal(a.sw, 0x9000);
	assert_true(ol_now_ms() - t0 >= 290);
	assert_int_equal(sim_card_status(fx->card), SIM_CARD_IDLE);
	assert_non_null(strstr(logbuf, "PIV: waiting for touch"));
	assert_non_null(strstr(logbuf, "PIV: touch approved"));
	/* 9E the same: card authentication takes a touch without PIN */
	async_sign(&a, fx, 0x9e);
	pthread_join(a.t, NULL);
	assert_int_equal(a.sw, 0x9000);
	/* with the PIN verified: no wait (no new "waiting for touch") */
	assert_int_equal(verify(fx, "123456"), 0x9000);
	waits = count_in_log("PIV: waiting for touch");
	async_sign(&a, fx, 0x9a);
	pthread_join(a.t, NULL);
	assert_int_equal(a.sw, 0x9000);
	assert_int_equal(count_in_log("PIV: waiting for touch"), waits);
}

static void
touch_deny(void **state)
{
	struct fx *fx = *state;
	struct async a;
	int64_t t0;

	touch_card(fx, SIM_TOUCH_DENY, 0);
	t0 = ol_now_ms();
	async_sign(&a, fx, 0x9a);
	pthread_join(a.t, NULL);
	assert_int_equal(a.sw, 0x6982);
	assert_true(ol_now_ms() - t0 >= SIM_TOUCH_DENY_MS - 10);
	assert_true(ol_now_ms() - t0 < 2000);
	assert_non_null(strstr(logbuf, "PIV: touch denied"));
	/* the card works on: the PIN needs no touch */
	assert_int_equal(verify(fx, "123456"), 0x9000);
	async_sign(&a, fx, 0x9a);
	pthread_join(a.t, NULL);
	assert_int_equal(a.sw, 0x9000);
}

static void
touch_never_until_cancel(void **state)
{
	struct fx *fx = *state;
	struct async a;

	touch_card(fx, SIM_TOUCH_NEVER, 0);
	async_sign(&a, fx, 0x9a);
	assert_true(wait_status(fx->card, SIM_CARD_UPNEEDED, 2000));
	/* still waiting a while later */
	ol_sleep_ms(150);
	assert_int_equal(sim_card_status(fx->card), SIM_CARD_UPNEEDED);
	sim_card_cancel(fx->card);
	pthread_join(a.t, NULL);
	assert_int_equal(a.sw, 0x6982);
	assert_non_null(strstr(logbuf, "PIV: touch wait cancelled"));
	/* a cancel before the command starts counts too, until armed */
	sim_card_cancel(fx->card);
	assert_int_equal(sim_card_wait_touch(fx->card), SIM_TOUCH_CANCELLED);
	sim_card_arm(fx->card);
	/* a 9C operation waits for its touch as well */
	EVP_PKEY_free(generate(fx, 0x9c, 0x11, NULL));
	async_sign(&a, fx, 0x9c);
	assert_true(wait_status(fx->card, SIM_CARD_UPNEEDED, 2000));
	sim_card_cancel(fx->card);
	pthread_join(a.t, NULL);
	assert_int_equal(a.sw, 0x6982);
}

/* --- VERIFY ON DEVICE (80 20 00 80): the reader's PIN pad ----------------- */

static unsigned
on_device(struct fx *fx)
{
	return cmd(fx, 0x80, 0x20, 0x00, 0x80, NULL, 0, -1);
}

/* The PIV PIN typed on the device: verified for the application, each
 * private-key operation in every slot still asks for a touch, 9C per use
 * included; every pad VERIFY asks the user again (a confirmation, once
 * verified); logout ends it. */
static void
on_device_verified(void **state)
{
	struct fx *fx = *state;
	uint8_t hash[32] = { 9 };
	EVP_PKEY *pk9c;
	const char *p;
	int touches = 0, asked = 0;

	fx_card(fx, SIM_TOUCH_APPROVE, 0, NULL);
	ready(fx);
	EVP_PKEY_free(generate(fx, 0x9a, 0x11, NULL));
	assert_non_null(pk9c = generate(fx, 0x9c, 0x11, NULL));
	assert_int_equal(verify(fx, NULL), 0x63c8);
	/* a PIN-protected object is not readable before */
	assert_int_equal(get_data(fx, 0x5fc108), 0x6982);
	loglen = 0;
	logbuf[0] = '\0';
	assert_int_equal(on_device(fx), 0x9000);
	assert_non_null(strstr(logbuf, "PIV: waiting for the user to verify "
	    "on the device (PIN entry)"));
	assert_non_null(strstr(logbuf, "PIV: verified on the device"));
	/* the card now says what the application believes */
	assert_int_equal(verify(fx, NULL), 0x9000);
	assert_int_not_equal(get_data(fx, 0x5fc108), 0x6982);
	assert_int_equal(ga(fx, 0x11, 0x9a, 0x81, hash, 32), 0x9000);
	/* 9C: OpenSC's context-specific login, then the signature; twice */
	assert_int_equal(on_device(fx), 0x9000);
	assert_non_null(strstr(logbuf, "PIV: waiting for the user to verify "
	    "on the device (confirmation)"));
	assert_int_equal(ga(fx, 0x11, 0x9c, 0x81, hash, 32), 0x9000);
	verify_ecdsa(pk9c, hash, 32, fx->data, fx->dlen);
	assert_int_equal(on_device(fx), 0x9000);
	assert_int_equal(ga(fx, 0x11, 0x9c, 0x81, hash, 32), 0x9000);
	/* without the renewed login as well: the touch is the per-use
	 * confirmation */
	assert_int_equal(ga(fx, 0x11, 0x9c, 0x81, hash, 32), 0x9000);
	for (p = logbuf; (p = strstr(p, "PIV: touch approved")) != NULL; p++)
		touches++;
	assert_int_equal(touches, 4);
	for (p = logbuf; (p = strstr(p, "PIV: verified on the device")) !=
	    NULL; p++)
		asked++;
	assert_int_equal(asked, 3);
	/* logout ends it */
	assert_int_equal(cmd(fx, 0, 0x20, 0xff, 0x80, NULL, 0, -1), 0x9000);
	assert_int_equal(verify(fx, NULL), 0x63c8);
	EVP_PKEY_free(pk9c);
}

/* A PIN sent over USB before is forgotten: the application chose the
 * touch mode, so its signatures must not go out blind. */
static void
on_device_forgets_blind_pin(void **state)
{
	struct fx *fx = *state;
	uint8_t hash[32] = { 8 };

	ready(fx);
	EVP_PKEY_free(generate(fx, 0x9a, 0x11, NULL));
	assert_int_equal(verify(fx, "123456"), 0x9000);
	assert_int_equal(on_device(fx), 0x9000);
	loglen = 0;
	logbuf[0] = '\0';
	assert_int_equal(ga(fx, 0x11, 0x9a, 0x81, hash, 32), 0x9000);
	assert_non_null(strstr(logbuf, "PIV: waiting for touch"));
}

/* Denied on the device, blocked PIN, malformed: never verified. */
static void
on_device_refusals(void **state)
{
	struct fx *fx = *state;
	int i;

	fx_card(fx, SIM_TOUCH_DENY, 0, NULL);
	ready(fx);
	assert_int_equal(on_device(fx), 0x6401);
	assert_non_null(strstr(logbuf, "PIV: verification on the device "
	    "denied"));
	assert_int_equal(verify(fx, NULL), 0x63c8);
	/* malformed: P1, P2, data; other proprietary instructions */
	assert_int_equal(cmd(fx, 0x80, 0x20, 0x01, 0x80, NULL, 0, -1), 0x6a86);
	assert_int_equal(cmd(fx, 0x80, 0x20, 0x00, 0x81, NULL, 0, -1), 0x6a86);
	assert_int_equal(cmd(fx, 0x80, 0x20, 0x00, 0x80,
	    (const uint8_t *)"12345678", 8, -1), 0x6700);
	assert_int_equal(cmd(fx, 0x80, 0x24, 0x00, 0x80, NULL, 0, -1), 0x6d00);
	/* a blocked PIN: refused at once, nothing asked */
	for (i = 0; i < 8; i++)
		(void)verify(fx, "999999");
	assert_int_equal(verify(fx, NULL), 0x6983);
	loglen = 0;
	logbuf[0] = '\0';
	assert_int_equal(on_device(fx), 0x6983);
	assert_null(strstr(logbuf, "PIV: waiting for the user"));
}

/* The factory device has no PIN: the user confirms on the screen; the
 * wrong tries of a PIN typed over USB are forgiven by a right entry on
 * the device. */
static void
on_device_no_pin_and_counter(void **state)
{
	struct fx *fx = *state;

	do_select(fx);
	assert_int_equal(verify(fx, NULL), 0x6a88);
	assert_int_equal(on_device(fx), 0x9000);
	assert_non_null(strstr(logbuf, "(confirmation)"));
	assert_int_equal(verify(fx, NULL), 0x9000);
	assert_int_equal(cmd(fx, 0, 0x20, 0xff, 0x80, NULL, 0, -1), 0x9000);
	assert_int_equal(verify(fx, NULL), 0x6a88);
	/* a device with a PIN, two wrong tries over USB */
	assert_int_equal(unblock(fx, "12345678", "246810"), 0x9000);
	assert_int_equal(verify(fx, "111111"), 0x63c7);
	assert_int_equal(verify(fx, "111111"), 0x63c6);
	assert_int_equal(on_device(fx), 0x9000);
	assert_int_equal(cmd(fx, 0, 0x20, 0xff, 0x80, NULL, 0, -1), 0x9000);
	assert_int_equal(verify(fx, NULL), 0x63c8);
}

/* --- sessions ------------------------------------------------------------- */

static void
session_reset(void **state)
{
	struct fx *fx = *state;
	uint8_t v[4] = { 1, 2, 3, 4 };

	ready(fx);
	assert_int_equal(verify(fx, "123456"), 0x9000);
	assert_int_equal(put_data(fx, 0x5fc105, v, 4), 0x9000);
	sim_card_reset(fx->card);
	/* no applet selected after a reset */
	assert_int_equal(verify(fx, NULL), 0x6d00);
	do_select(fx);
	assert_int_equal(verify(fx, NULL), 0x63c8);
	assert_int_equal(put_data(fx, 0x5fc105, v, 4), 0x6982);
	/* a re-SELECT within a session keeps its security state */
	assert_int_equal(verify(fx, "123456"), 0x9000);
	do_select(fx);
	assert_int_equal(verify(fx, NULL), 0x9000);
	/* the reset also drops a pending management-key challenge */
	assert_int_equal(cmd(fx, 0, 0x87, 0x03, 0x9b, (const uint8_t *)
	    "\x7c\x02\x81\x00", 4, 0), 0x9000);
	sim_card_reset(fx->card);
	do_select(fx);
	assert_int_equal(cmd(fx, 0, 0x87, 0x03, 0x9b, (const uint8_t *)
	    "\x7c\x0a\x82\x08\0\0\0\0\0\0\0\0", 12, -1), 0x6982);
}

/* --- the card's transport: chaining, 61xx, extended ---------------------- */

static void
chaining_rules(void **state)
{
	struct fx *fx = *state;
	uint8_t d[255];
	unsigned sw;
	int i;

	ready(fx);
	memset(d, 0x33, sizeof(d));
	/* a command in between aborts the chain: the last link alone is
	 * then a malformed PUT DATA */
	assert_int_equal(cmd(fx, 0x10, 0xdb, 0x3f, 0xff, (const uint8_t *)
	    "\x5c\x03\x5f\xc1\x05\x53\x82\x01\x04", 9, -1), 0x9000);
	assert_int_equal(verify(fx, NULL), 0x63c8);
	assert_int_equal(cmd(fx, 0x00, 0xdb, 0x3f, 0xff, d, 255, -1), 0x6a80);
	/* a chain of another command replaces the first */
	assert_int_equal(cmd(fx, 0x10, 0xdb, 0x3f, 0xff, d, 10, -1), 0x9000);
	assert_int_equal(cmd(fx, 0x10, 0x87, 0x11, 0x9a, (const uint8_t *)
	    "\x7c\x24", 2, -1), 0x9000);
	assert_int_equal(cmd(fx, 0x00, 0x87, 0x11, 0x9a, (const uint8_t *)
	    "\x82\x00\x81\x20" "0123456789abcdef0123456789abcdef", 36, 0),
	    0x6a82); /* whole and well formed: only the key is missing */
	/* over 8 KB: refused, and the chain is gone */
	sw = 0;
	for (i = 0; i < 40; i++) {
		sw = cmd(fx, 0x10, 0xdb, 0x3f, 0xff, d, 255, -1);
		if (sw != 0x9000)
			break;
	}
	assert_int_equal(sw, 0x6a84);
	assert_int_equal(i, SIM_CHAIN_MAX / 255);
	assert_int_equal(cmd(fx, 0x00, 0xdb, 0x3f, 0xff, d, 10, -1), 0x6a80);
	/* chaining outside an applet and for card commands: 6884 */
	assert_int_equal(cmd(fx, 0x10, 0xa4, 0x04, 0x00, d, 5, -1), 0x6884);
	sim_card_reset(fx->card);
	assert_int_equal(cmd(fx, 0x10, 0xdb, 0x3f, 0xff, d, 10, -1), 0x6884);
}

static void
get_response_rules(void **state)
{
	static const uint8_t get_response[] = { 0x00, 0xc0, 0x00, 0x00, 0x00 };
	static const uint8_t get_resp_16[] = { 0x00, 0xc0, 0x00, 0x00, 0x10 };
	struct fx *fx = *state;
	uint8_t obj[600];
	unsigned sw;

	ready(fx);
	memset(obj, 0x77, sizeof(obj));
	assert_int_equal(put_data(fx, 0x5fc105, obj, sizeof(obj)), 0x9000);
	assert_int_equal(xmit(fx, get_response, 5), 0x6985);  /* nothing */
	/* 4 + 600 bytes: 256 + 61 00, 256 + 61 5C, then 92 */
	sw = cmd(fx, 0, 0xcb, 0x3f, 0xff, (const uint8_t *)"\x5c\x03\x5f\xc1"
	    "\x05", 5, 0);
	assert_int_equal(sw, 0x6100);
	assert_int_equal(fx->rlen, 256);
	/* GET RESPONSE with a smaller Le takes less */
	assert_int_equal(xmit(fx, get_resp_16, 5), 0x6100);
	assert_int_equal(fx->rlen, 16);
	assert_int_equal(xmit(fx, get_response, 5), 0x6100 | (604 - 528));
	assert_int_equal(fx->rlen, 256);
	assert_int_equal(xmit(fx, get_response, 5), 0x9000);
	assert_int_equal(fx->rlen, 604 - 528);
	assert_int_equal(xmit(fx, get_response, 5), 0x6985);
	/* a short Le below the size: that much, then 61xx */
	sw = cmd(fx, 0, 0xcb, 0x3f, 0xff, (const uint8_t *)"\x5c\x01\x7e", 3,
	    8);
	assert_int_equal(sw, 0x610c);
	assert_int_equal(fx->rlen, 8);
	/* another command drops what was left */
	assert_int_equal(verify(fx, NULL), 0x63c8);
	assert_int_equal(xmit(fx, get_response, 5), 0x6985);
	/* no Le at all (yubico-piv-tool sends case 3): up to 256 */
	sw = cmd(fx, 0, 0xcb, 0x3f, 0xff, (const uint8_t *)"\x5c\x01\x7e", 3,
	    -1);
	assert_int_equal(sw, 0x9000);
	assert_int_equal(fx->rlen, 20);
	assert_int_equal(cmd(fx, 0, 0xc0, 0x01, 0x00, NULL, 0, 0), 0x6a86);
}

static void
extended_apdus(void **state)
{
	struct fx *fx = *state;
	uint8_t obj[3000], c[9 + 4000];
	size_t n;

	ready(fx);
	memset(obj, 0x5a, sizeof(obj));
	/* PUT DATA in one extended APDU (no chaining) */
	c[0] = 0x00; c[1] = 0xdb; c[2] = 0x3f; c[3] = 0xff;
	c[4] = 0x00;
	n = 7;
	memcpy(c + n, "\x5c\x03\x5f\xc1\x05\x53\x82\x0b\xb8", 9);
	n += 9;
	memcpy(c + n, obj, sizeof(obj));
	n += sizeof(obj);
	c[5] = (uint8_t)((n - 7) >> 8);
	c[6] = (uint8_t)(n - 7);
	assert_int_equal(xmit(fx, c, n), 0x9000);
	/* GET DATA with extended Le: the whole object at once */
	memcpy(c, "\x00\xcb\x3f\xff\x00\x00\x05\x5c\x03\x5f\xc1\x05\x00\x00",
	    14);
	assert_int_equal(xmit(fx, c, 14), 0x9000);
	assert_int_equal(fx->rlen, 4 + 3000);
	assert_memory_equal(fx->r + 4, obj, 3000);
}

/* --- the state file --------------------------------------------------- */

static void
state_persists(void **state)
{
	struct fx *fx = *state;
	struct piv_state *loaded;
	uint8_t hash[32] = { 9 }, cert[100];
	EVP_PKEY *pk;

	strcpy(fx->dir, "/tmp/test-piv-applet.XXXXXX");
	assert_non_null(mkdtemp(fx->dir));
	snprintf(fx->path, sizeof(fx->path), "%s/state", fx->dir);
	fx_card(fx, SIM_TOUCH_APPROVE, 0, fx->path);
	ready(fx);
	assert_non_null(pk = generate(fx, 0x9a, 0x11, NULL));
	memset(cert, 0x30, sizeof(cert));
	assert_int_equal(put_data(fx, 0x5fc105, cert, sizeof(cert)), 0x9000);
	assert_int_equal(verify(fx, "000000"), 0x63c7);
	assert_int_equal(verify(fx, "000000"), 0x63c6);

	/* a restart: the file holds it all */
	assert_non_null(loaded = malloc(sizeof(*loaded)));
	assert_int_equal(piv_state_load(fx->path, loaded), OL_OK);
	assert_int_equal(loaded->pin_set, 1);
	assert_int_equal(loaded->pin_tries, 6);
	memcpy(fx->st, loaded, sizeof(*loaded));
	piv_state_clear(loaded);
	free(loaded);
	fx_card(fx, SIM_TOUCH_APPROVE, 0, fx->path);
	do_select(fx);
	assert_int_equal(verify(fx, NULL), 0x63c6);
	assert_int_equal(get_data(fx, 0x5fc105), 0x9000);
	assert_int_equal(fx->dlen, 2 + 100);
	assert_int_equal(verify(fx, "123456"), 0x9000);
	assert_int_equal(ga(fx, 0x11, 0x9a, 0x81, hash, 32), 0x9000);
	verify_ecdsa(pk, hash, 32, fx->data, fx->dlen);
	/* tries back to 8 after the right PIN: saved too */
	assert_int_equal(piv_state_load(fx->path, fx->st), OL_OK);
	assert_int_equal(fx->st->pin_tries, 8);
	EVP_PKEY_free(pk);
	/* a file that cannot be written: the command says 6581 */
	unlink(fx->path);
	rmdir(fx->dir);
	assert_int_equal(verify(fx, "000000"), 0x6581);
	fx->dir[0] = '\0';
}

/* --- timing --------------------------------------------------------------- */

/* The table: the vendor's 10 s for RSA-2048 key generation; nothing at
 * all with the instant timing. */
static void
timing_table(void **state)
{
	(void)state;
	assert_int_equal(piv_timing_ms(PIV_TIMING_DEVICE, PIV_OP_GENERATE,
	    PIV_ALG_RSA2048), 10000);
	assert_true(piv_timing_ms(PIV_TIMING_DEVICE, PIV_OP_PRIVATE,
	    PIV_ALG_P256) > 0);
	assert_int_equal(piv_timing_ms(PIV_TIMING_INSTANT, PIV_OP_GENERATE,
	    PIV_ALG_RSA2048), 0);
	assert_int_equal(piv_timing_ms(PIV_TIMING_DEVICE, PIV_OP_PRIVATE,
	    PIV_ALG_AES128), 0);
}

/* With the device timing, a P-256 key generation and a blind signature
 * keep the card busy (processing, not waiting for a touch) for at least
 * the modelled time.  Lower bounds only: a loaded machine is slower. */
static void
device_timing(void **state)
{
	struct fx *fx = *state;
	struct sim_card_config cfg;
	struct async a;
	int64_t t0;
	int gen_ms = piv_timing_ms(PIV_TIMING_DEVICE, PIV_OP_GENERATE,
	    PIV_ALG_P256);
	int sign_ms = piv_timing_ms(PIV_TIMING_DEVICE, PIV_OP_PRIVATE,
	    PIV_ALG_P256);

	sim_card_free(&fx->card);
	sim_card_config_init(&cfg);
	cfg.touch = SIM_TOUCH_APPROVE;
	cfg.piv = fx->st;
	cfg.timing = PIV_TIMING_DEVICE;
	assert_int_equal(sim_card_new_config(&cfg, &fx->card), OL_OK);
	ready(fx);
	t0 = ol_now_ms();
	EVP_PKEY_free(generate(fx, 0x9a, PIV_ALG_P256, NULL));
	assert_true(ol_now_ms() - t0 >= gen_ms - 5);
	assert_int_equal(verify(fx, "123456"), 0x9000);
	t0 = ol_now_ms();
	async_sign(&a, fx, 0x9a);
	assert_true(wait_status(fx->card, SIM_CARD_PROCESSING, 2000));
	pthread_join(a.t, NULL);
	assert_int_equal(a.sw, 0x9000);
	assert_true(ol_now_ms() - t0 >= sign_ms - 5);
	assert_int_equal(count_in_log("PIV: waiting for touch"), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(tlv_reader_and_writer),
		cmocka_unit_test_setup_teardown(select_template, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(fresh_objects, setup, teardown),
		cmocka_unit_test_setup_teardown(get_data_errors, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(put_data_objects, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(put_data_fills_up, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(management_key, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(management_key_aes, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(generate_rules, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(sign_p256, setup, teardown),
		cmocka_unit_test_setup_teardown(rsa_raw, setup, teardown),
		cmocka_unit_test_setup_teardown(sign_ed25519, setup, teardown),
		cmocka_unit_test_setup_teardown(ecdh_9d, setup, teardown),
		cmocka_unit_test_setup_teardown(ga_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(no_pin_device, setup, teardown),
		cmocka_unit_test_setup_teardown(pin_from_options, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(pin_counter, setup, teardown),
		cmocka_unit_test_setup_teardown(change_and_puk, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(pin_always_9c, setup, teardown),
		cmocka_unit_test_setup_teardown(touch_after_delay, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(touch_deny, setup, teardown),
		cmocka_unit_test_setup_teardown(on_device_verified, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(on_device_forgets_blind_pin,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(on_device_refusals, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(on_device_no_pin_and_counter,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(touch_never_until_cancel, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(session_reset, setup, teardown),
		cmocka_unit_test_setup_teardown(chaining_rules, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(get_response_rules, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(extended_apdus, setup,
		    teardown),
		cmocka_unit_test(timing_table),
		cmocka_unit_test_setup_teardown(device_timing, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(state_persists, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
