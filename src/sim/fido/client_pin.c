/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * authenticatorClientPIN with PIN protocol 1: ECDH on P-256 with the
 * platform, AES-256-CBC (IV 0) and HMAC-SHA-256 over the shared secret
 * SHA-256(Z), retries in the persistent state, the in-a-row count and
 * the token volatile.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <openssl/crypto.h>

#include "client_pin.h"
#include "cose.h"
#include "cred_store.h"
#include "fido_cbor.h"
#include "fido_crypto.h"
#include "ol_err.h"
#include "ol_log.h"

#define SUB_GET_RETRIES       1
#define SUB_GET_KEY_AGREEMENT 2
#define SUB_SET_PIN           3
#define SUB_CHANGE_PIN        4
#define SUB_GET_PIN_TOKEN     5

#define P_PROTOCOL      1
#define P_SUBCOMMAND    2
#define P_KEY_AGREEMENT 3
#define P_PIN_AUTH      4
#define P_NEW_PIN_ENC   5
#define P_PIN_HASH_ENC  6

#define R_KEY_AGREEMENT 1
#define R_PIN_TOKEN     2
#define R_RETRIES       3

#define PIN_MIN         4
#define PIN_ENC_MIN     64   /* newPinEnc: the PIN padded to 64 at least */
#define PIN_ENC_MAX     256
#define PIN_AUTH_LEN    16

static int
new_key_agreement(struct fido_auth *a)
{
	uint8_t xy[64];
	size_t n;
	int r;

	if ((r = fcr_keygen(COSE_ES256, a->ka_priv)) == OL_OK &&
	    (r = fcr_public(COSE_ES256, a->ka_priv, xy, &n)) == OL_OK) {
		memcpy(a->ka_x, xy, 32);
		memcpy(a->ka_y, xy + 32, 32);
	}
	return r;
}

int
client_pin_power_up(struct fido_auth *a)
{
	int r;

	a->pin_fails_in_row = 0;
	if ((r = new_key_agreement(a)) != OL_OK)
		return r;
	return fcr_random(a->pin_token, sizeof(a->pin_token));
}

static int
save(struct fido_auth *a)
{
	if (a->state_path == NULL)
		return OL_OK;
	return cred_store_save(a->state_path, &a->st);
}

/* The shared secret from the platform's keyAgreement parameter. */
static uint8_t
shared_secret(struct fido_auth *a, const cbor_item_t *params,
    uint8_t ss[32])
{
	uint8_t x[32], y[32], z[32];
	uint8_t st;
	int r;

	st = cose_decode_ecdh(fc_map_get_int(params, P_KEY_AGREEMENT), x, y);
	if (st != CTAP2_OK)
		return st;
	r = fcr_ecdh(a->ka_priv, x, y, z);
	if (r == OL_ERR_PROTOCOL)
		return CTAP1_ERR_INVALID_PARAMETER;
	if (r != OL_OK)
		return CTAP1_ERR_OTHER;
	fcr_sha256(z, sizeof(z), ss);
	explicit_bzero(z, sizeof(z));
	return CTAP2_OK;
}

/* pinAuth == LEFT(HMAC(ss, m1 || m2), 16) */
static uint8_t
check_auth(const uint8_t ss[32], const cbor_item_t *pin_auth,
    const uint8_t *m1, size_t l1, const uint8_t *m2, size_t l2)
{
	uint8_t buf[2 * PIN_ENC_MAX], mac[32];
	const uint8_t *p;
	size_t n;
	uint8_t st = CTAP2_ERR_PIN_AUTH_INVALID;

	if (!fc_get_bytes(pin_auth, &p, &n))
		return CTAP2_ERR_CBOR_UNEXPECTED_TYPE;
	if (n != PIN_AUTH_LEN || l1 > PIN_ENC_MAX || l2 > PIN_ENC_MAX)
		return CTAP2_ERR_PIN_AUTH_INVALID;
	memcpy(buf, m1, l1);
	if (l2 > 0)
		memcpy(buf + l1, m2, l2);
	if (fcr_hmac_sha256(ss, 32, buf, l1 + l2, mac) == OL_OK &&
	    CRYPTO_memcmp(mac, p, PIN_AUTH_LEN) == 0)
		st = CTAP2_OK;
	explicit_bzero(mac, sizeof(mac));
	explicit_bzero(buf, sizeof(buf));
	return st;
}

/* Decrypts newPinEnc and sets the PIN hash from it. */
static uint8_t
set_new_pin(struct fido_auth *a, const uint8_t ss[32], const uint8_t *enc,
    size_t len)
{
	uint8_t pin[PIN_ENC_MAX], hash[32];
	size_t n;
	uint8_t st = CTAP1_ERR_OTHER;

	if (len < PIN_ENC_MIN || len > PIN_ENC_MAX || len % 16 != 0)
		return CTAP2_ERR_PIN_POLICY_VIOLATION;
	if (fcr_aes256_cbc(0, ss, enc, len, pin) != OL_OK)
		goto fail;
	for (n = 0; n < len && pin[n] != 0; n++)
		;
	/* 4 to 63 bytes of UTF-8 (CTAP 2.0 section 5.5.5) */
	if (n < PIN_MIN || n > 63) {
		st = CTAP2_ERR_PIN_POLICY_VIOLATION;
		goto fail;
	}
	fcr_sha256(pin, n, hash);
	memcpy(a->st.pin_hash, hash, FIDO_PIN_HASH_LEN);
	a->st.pin_set = 1;
	a->st.pin_retries = FIDO_PIN_RETRIES;
	a->pin_fails_in_row = 0;
	st = save(a) == OL_OK ? CTAP2_OK : CTAP1_ERR_OTHER;
	ol_log(OL_LOG_INFO, "FIDO: PIN set");
fail:
	explicit_bzero(pin, sizeof(pin));
	explicit_bzero(hash, sizeof(hash));
	return st;
}

/* pinHashEnc against the stored hash, retries counted first (CTAP 2.0
 * section 5.5.5, changePIN and getPINToken). */
static uint8_t
check_pin_hash(struct fido_auth *a, const uint8_t ss[32],
    const uint8_t *enc, size_t len)
{
	uint8_t hash[FIDO_PIN_HASH_LEN];
	uint8_t st = CTAP1_ERR_OTHER;

	if (len != FIDO_PIN_HASH_LEN)
		return CTAP1_ERR_INVALID_LENGTH;
	a->st.pin_retries--;
	if (save(a) != OL_OK)
		goto fail;
	if (fcr_aes256_cbc(0, ss, enc, len, hash) != OL_OK)
		goto fail;
	if (CRYPTO_memcmp(hash, a->st.pin_hash, sizeof(hash)) == 0) {
		a->st.pin_retries = FIDO_PIN_RETRIES;
		a->pin_fails_in_row = 0;
		st = save(a) == OL_OK ? CTAP2_OK : CTAP1_ERR_OTHER;
		goto fail;
	}
	/* a wrong PIN: a new key agreement key, so that the platform has
	 * to start over */
	a->pin_fails_in_row++;
	(void)new_key_agreement(a);
	ol_log(OL_LOG_INFO, "FIDO: wrong PIN, %d tries left%s",
	    a->st.pin_retries, a->pin_fails_in_row >= FIDO_PIN_IN_A_ROW ?
	    " (blocked until power cycle)" : "");
	if (a->st.pin_retries == 0)
		st = CTAP2_ERR_PIN_BLOCKED;
	else if (a->pin_fails_in_row >= FIDO_PIN_IN_A_ROW)
		st = CTAP2_ERR_PIN_AUTH_BLOCKED;
	else
		st = CTAP2_ERR_PIN_INVALID;
fail:
	explicit_bzero(hash, sizeof(hash));
	return st;
}

static uint8_t
get_key_agreement(struct fido_auth *a, cbor_item_t **resp)
{
	uint8_t xy[64];
	cbor_item_t *m;

	memcpy(xy, a->ka_x, 32);
	memcpy(xy + 32, a->ka_y, 32);
	if ((m = cbor_new_definite_map(1)) == NULL)
		return CTAP1_ERR_OTHER;
	if (!fc_put(m, fc_int(R_KEY_AGREEMENT), cose_encode(COSE_ES256,
	    COSE_ECDH_ES_HKDF_256, xy, sizeof(xy)))) {
		cbor_decref(&m);
		return CTAP1_ERR_OTHER;
	}
	*resp = m;
	return CTAP2_OK;
}

static uint8_t
get_retries(struct fido_auth *a, cbor_item_t **resp)
{
	cbor_item_t *m;

	if ((m = cbor_new_definite_map(1)) == NULL)
		return CTAP1_ERR_OTHER;
	if (!fc_put(m, fc_int(R_RETRIES), fc_int(a->st.pin_retries))) {
		cbor_decref(&m);
		return CTAP1_ERR_OTHER;
	}
	*resp = m;
	return CTAP2_OK;
}

/* The byte string under key, or a status for its absence or type */
static uint8_t
need_bytes(const cbor_item_t *params, int64_t key, const uint8_t **p,
    size_t *n)
{
	const cbor_item_t *v = fc_map_get_int(params, key);

	if (v == NULL)
		return CTAP2_ERR_MISSING_PARAMETER;
	if (!fc_get_bytes(v, p, n))
		return CTAP2_ERR_CBOR_UNEXPECTED_TYPE;
	return CTAP2_OK;
}

static uint8_t
set_pin(struct fido_auth *a, const cbor_item_t *params)
{
	const uint8_t *enc;
	uint8_t ss[32];
	size_t len;
	uint8_t st;

	if (fc_map_get_int(params, P_KEY_AGREEMENT) == NULL ||
	    fc_map_get_int(params, P_PIN_AUTH) == NULL)
		return CTAP2_ERR_MISSING_PARAMETER;
	if ((st = need_bytes(params, P_NEW_PIN_ENC, &enc, &len)) != CTAP2_OK)
		return st;
	if (a->st.pin_set)
		return CTAP2_ERR_NOT_ALLOWED;
	if ((st = shared_secret(a, params, ss)) != CTAP2_OK)
		goto fail;
	if ((st = check_auth(ss, fc_map_get_int(params, P_PIN_AUTH), enc, len,
	    NULL, 0)) != CTAP2_OK)
		goto fail;
	st = set_new_pin(a, ss, enc, len);
fail:
	explicit_bzero(ss, sizeof(ss));
	return st;
}

/* What changePIN and getPINToken check before the PIN itself */
static uint8_t
pin_usable(const struct fido_auth *a)
{
	if (!a->st.pin_set)
		return CTAP2_ERR_PIN_NOT_SET;
	if (a->st.pin_retries == 0)
		return CTAP2_ERR_PIN_BLOCKED;
	if (a->pin_fails_in_row >= FIDO_PIN_IN_A_ROW)
		return CTAP2_ERR_PIN_AUTH_BLOCKED;
	return CTAP2_OK;
}

static uint8_t
change_pin(struct fido_auth *a, const cbor_item_t *params)
{
	const uint8_t *enc, *hash_enc;
	size_t len, hash_len;
	uint8_t ss[32];
	uint8_t st;

	if (fc_map_get_int(params, P_KEY_AGREEMENT) == NULL ||
	    fc_map_get_int(params, P_PIN_AUTH) == NULL)
		return CTAP2_ERR_MISSING_PARAMETER;
	if ((st = need_bytes(params, P_NEW_PIN_ENC, &enc, &len)) != CTAP2_OK ||
	    (st = need_bytes(params, P_PIN_HASH_ENC, &hash_enc,
	    &hash_len)) != CTAP2_OK)
		return st;
	if ((st = pin_usable(a)) != CTAP2_OK)
		return st;
	if ((st = shared_secret(a, params, ss)) != CTAP2_OK)
		goto fail;
	if ((st = check_auth(ss, fc_map_get_int(params, P_PIN_AUTH), enc, len,
	    hash_enc, hash_len)) != CTAP2_OK)
		goto fail;
	if ((st = check_pin_hash(a, ss, hash_enc, hash_len)) != CTAP2_OK)
		goto fail;
	if ((st = set_new_pin(a, ss, enc, len)) == CTAP2_OK)
		ol_log(OL_LOG_INFO, "FIDO: PIN changed");
fail:
	explicit_bzero(ss, sizeof(ss));
	return st;
}

static uint8_t
get_pin_token(struct fido_auth *a, const cbor_item_t *params,
    cbor_item_t **resp)
{
	const uint8_t *hash_enc;
	uint8_t ss[32], tok[FIDO_TOKEN_LEN];
	cbor_item_t *m = NULL;
	size_t hash_len;
	uint8_t st;

	if (fc_map_get_int(params, P_KEY_AGREEMENT) == NULL)
		return CTAP2_ERR_MISSING_PARAMETER;
	if ((st = need_bytes(params, P_PIN_HASH_ENC, &hash_enc,
	    &hash_len)) != CTAP2_OK)
		return st;
	if ((st = pin_usable(a)) != CTAP2_OK)
		return st;
	if ((st = shared_secret(a, params, ss)) != CTAP2_OK)
		goto fail;
	if ((st = check_pin_hash(a, ss, hash_enc, hash_len)) != CTAP2_OK)
		goto fail;
	st = CTAP1_ERR_OTHER;
	if (fcr_aes256_cbc(1, ss, a->pin_token, sizeof(a->pin_token),
	    tok) != OL_OK || (m = cbor_new_definite_map(1)) == NULL)
		goto fail;
	if (!fc_put(m, fc_int(R_PIN_TOKEN), fc_bytes(tok, sizeof(tok)))) {
		cbor_decref(&m);
		goto fail;
	}
	*resp = m;
	ol_log(OL_LOG_INFO, "FIDO: PIN token issued");
	st = CTAP2_OK;
fail:
	explicit_bzero(ss, sizeof(ss));
	explicit_bzero(tok, sizeof(tok));
	return st;
}

uint8_t
client_pin(struct fido_auth *a, const cbor_item_t *params,
    cbor_item_t **resp)
{
	int64_t proto, sub;

	*resp = NULL;
	if (params == NULL || fc_map_get_int(params, P_PROTOCOL) == NULL ||
	    fc_map_get_int(params, P_SUBCOMMAND) == NULL)
		return CTAP2_ERR_MISSING_PARAMETER;
	if (!fc_get_int(fc_map_get_int(params, P_PROTOCOL), &proto) ||
	    !fc_get_int(fc_map_get_int(params, P_SUBCOMMAND), &sub))
		return CTAP2_ERR_CBOR_UNEXPECTED_TYPE;
	if (proto != 1)
		return CTAP1_ERR_INVALID_PARAMETER;
	switch (sub) {
	case SUB_GET_RETRIES:
		return get_retries(a, resp);
	case SUB_GET_KEY_AGREEMENT:
		return get_key_agreement(a, resp);
	case SUB_SET_PIN:
		return set_pin(a, params);
	case SUB_CHANGE_PIN:
		return change_pin(a, params);
	case SUB_GET_PIN_TOKEN:
		return get_pin_token(a, params, resp);
	default:
		return CTAP1_ERR_INVALID_PARAMETER;
	}
}

uint8_t
client_pin_check(struct fido_auth *a, const cbor_item_t *pin_auth,
    const cbor_item_t *pin_protocol, const uint8_t cdh[FIDO_HASH_LEN])
{
	int64_t proto;

	if (pin_protocol == NULL)
		return CTAP2_ERR_MISSING_PARAMETER;
	if (!fc_get_int(pin_protocol, &proto))
		return CTAP2_ERR_CBOR_UNEXPECTED_TYPE;
	if (proto != 1)
		return CTAP2_ERR_PIN_AUTH_INVALID;
	if (!a->st.pin_set)
		return CTAP2_ERR_PIN_NOT_SET;
	return check_auth(a->pin_token, pin_auth, cdh, FIDO_HASH_LEN, NULL, 0);
}
