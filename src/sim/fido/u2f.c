/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * U2F (CTAP1) messages: the APDU parsed by the card's parser (apdu.c),
 * REGISTER with the device's attestation key and certificate,
 * AUTHENTICATE with the key unwrapped from the key handle, VERSION.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "apdu.h"
#include "cred_id.h"
#include "cred_store.h"
#include "fido_crypto.h"
#include "fido_up.h"
#include "iso7816.h"
#include "ol_err.h"
#include "ol_log.h"
#include "u2f.h"

#define U2F_REGISTER      0x01
#define U2F_AUTHENTICATE  0x02
#define U2F_VERSION       0x03

#define U2F_CHECK_ONLY    0x07
#define U2F_ENFORCE_UP    0x03
#define U2F_DONT_ENFORCE  0x08

#define SW_NO_ERROR          0x9000
#define SW_CONDITIONS        0x6985   /* no presence; valid key handle */
#define SW_WRONG_DATA        0x6a80
#define SW_WRONG_LENGTH      0x6700
#define SW_WRONG_P1P2        0x6a86
#define SW_INS_NOT_SUPPORTED 0x6d00
#define SW_CLA_NOT_SUPPORTED 0x6e00
#define SW_FAILED            0x6f00

struct out {
	uint8_t *p;
	size_t cap;   /* without the 2 bytes of SW */
	size_t len;
};

static int
put(struct out *o, const void *data, size_t n)
{
	if (n > o->cap - o->len)
		return 0;
	memcpy(o->p + o->len, data, n);
	o->len += n;
	return 1;
}

static uint16_t
version(const struct sim_apdu *apdu, struct out *o)
{
	if (apdu->lc != 0)
		return SW_WRONG_LENGTH;
	return put(o, "U2F_V2", 6) ? SW_NO_ERROR : SW_FAILED;
}

/* challenge (32) || application (32) */
static uint16_t
reg(struct fido_auth *a, const struct sim_apdu *apdu, struct out *o)
{
	const uint8_t *chal, *app;
	uint8_t priv[32], pub[65], kh[FIDO_CRED_ID_LEN], sig[FCR_SIG_MAX];
	uint8_t msg[1 + 32 + 32 + FIDO_CRED_ID_LEN + 65], khl;
	size_t n, sig_len;
	uint16_t sw = SW_FAILED;

	if (apdu->lc != 64)
		return SW_WRONG_LENGTH;
	chal = apdu->data;
	app = apdu->data + 32;
	if (fido_up(a, "U2F register") != CTAP2_OK)
		return SW_CONDITIONS;
	pub[0] = 0x04;
	if (fcr_keygen(COSE_ES256, priv) != OL_OK ||
	    fcr_public(COSE_ES256, priv, pub + 1, &n) != OL_OK ||
	    cred_id_wrap(a->st.secret, COSE_ES256, FIDO_PROT_UV_OPTIONAL, priv,
	    app, kh) != OL_OK)
		goto fail;
	msg[0] = 0x00;
	memcpy(msg + 1, app, 32);
	memcpy(msg + 33, chal, 32);
	memcpy(msg + 65, kh, sizeof(kh));
	memcpy(msg + 65 + sizeof(kh), pub, sizeof(pub));
	if (fcr_sign(COSE_ES256, a->st.attest_key, msg, sizeof(msg), sig,
	    sizeof(sig), &sig_len) != OL_OK)
		goto fail;
	khl = (uint8_t)sizeof(kh);
	if (!put(o, "\x05", 1) || !put(o, pub, sizeof(pub)) ||
	    !put(o, &khl, 1) || !put(o, kh, sizeof(kh)) ||
	    !put(o, a->u2f_cert, a->u2f_cert_len) || !put(o, sig, sig_len))
		goto fail;
	ol_log(OL_LOG_INFO, "FIDO: U2F registration made");
	sw = SW_NO_ERROR;
fail:
	explicit_bzero(priv, sizeof(priv));
	return sw;
}

/* challenge (32) || application (32) || L (1) || key handle (L) */
static uint16_t
authenticate(struct fido_auth *a, const struct sim_apdu *apdu, struct out *o)
{
	const uint8_t *chal, *app, *kh;
	uint8_t priv[32], sig[FCR_SIG_MAX], msg[32 + 1 + 4 + 32], flags = 0;
	size_t khl, sig_len;
	uint32_t counter;
	uint16_t sw = SW_FAILED;
	int alg, rk_i;

	if (apdu->lc < 65 || apdu->lc != 65 + (size_t)apdu->data[64])
		return SW_WRONG_LENGTH;
	if (apdu->p1 != U2F_CHECK_ONLY && apdu->p1 != U2F_ENFORCE_UP &&
	    apdu->p1 != U2F_DONT_ENFORCE)
		return SW_WRONG_P1P2;
	chal = apdu->data;
	app = apdu->data + 32;
	khl = apdu->data[64];
	kh = apdu->data + 65;
	/* U2F signs with P-256 only: an EdDSA credential is not one; nor
	 * is one that needs user verification, which U2F cannot give */
	if (cred_id_unwrap(a->st.secret, kh, khl, app, &alg, priv) != OL_OK ||
	    alg != COSE_ES256 ||
	    cred_id_prot(kh, khl) == FIDO_PROT_UV_REQUIRED) {
		sw = SW_WRONG_DATA;
		goto fail;
	}
	if (apdu->p1 == U2F_CHECK_ONLY) {
		sw = SW_CONDITIONS;  /* "this key handle is mine" */
		goto fail;
	}
	if (apdu->p1 == U2F_ENFORCE_UP) {
		if (fido_up(a, "U2F authenticate") != CTAP2_OK) {
			sw = SW_CONDITIONS;
			goto fail;
		}
		flags = 0x01;
	}
	rk_i = cred_store_find_id(&a->st, app, kh, khl);
	counter = rk_i >= 0 ? ++a->st.rk[rk_i].counter : ++a->st.counter;
	if (a->state_path != NULL &&
	    cred_store_save(a->state_path, &a->st) != OL_OK)
		goto fail;
	memcpy(msg, app, 32);
	msg[32] = flags;
	msg[33] = (uint8_t)(counter >> 24);
	msg[34] = (uint8_t)(counter >> 16);
	msg[35] = (uint8_t)(counter >> 8);
	msg[36] = (uint8_t)counter;
	memcpy(msg + 37, chal, 32);
	if (fcr_sign(COSE_ES256, priv, msg, sizeof(msg), sig, sizeof(sig),
	    &sig_len) != OL_OK)
		goto fail;
	if (!put(o, msg + 32, 5) || !put(o, sig, sig_len))
		goto fail;
	ol_log(OL_LOG_INFO, "FIDO: U2F authentication%s", flags ? "" :
	    " without user presence");
	sw = SW_NO_ERROR;
fail:
	explicit_bzero(priv, sizeof(priv));
	return sw;
}

int
u2f_request(struct fido_auth *a, const uint8_t *req, size_t len,
    uint8_t *resp, size_t resp_cap, size_t *resp_len)
{
	struct sim_apdu apdu;
	struct out o;
	uint16_t sw;

	if (a == NULL || req == NULL || resp == NULL || resp_cap < 2 ||
	    resp_len == NULL)
		return OL_ERR_ARG;
	o.p = resp;
	o.cap = resp_cap - 2;
	o.len = 0;
	if (sim_apdu_parse(req, len, &apdu) != OL_OK)
		sw = SW_WRONG_LENGTH;
	else if (apdu.cla != 0x00)
		sw = SW_CLA_NOT_SUPPORTED;
	else if (apdu.ins == U2F_REGISTER)
		sw = reg(a, &apdu, &o);
	else if (apdu.ins == U2F_AUTHENTICATE)
		sw = authenticate(a, &apdu, &o);
	else if (apdu.ins == U2F_VERSION)
		sw = version(&apdu, &o);
	else
		sw = SW_INS_NOT_SUPPORTED;
	if (sw != SW_NO_ERROR) {
		explicit_bzero(resp, o.len);
		o.len = 0;
		ol_log(OL_LOG_INFO, "FIDO: U2F %02x: SW %04x", len > 1 ?
		    req[1] : 0, sw);
	}
	resp[o.len] = (uint8_t)(sw >> 8);
	resp[o.len + 1] = (uint8_t)sw;
	*resp_len = o.len + 2;
	return OL_OK;
}
