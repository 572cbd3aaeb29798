/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Credential IDs as AES-256-GCM-wrapped private keys bound to their RP
 * (the format: cred_id.h).
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "cred_id.h"
#include "fido_crypto.h"
#include "ol_err.h"

#define ID_VERSION  0x01
#define TYPE_ES256  0x01
#define TYPE_EDDSA  0x02
#define TYPE_KEY(t)  ((t) & 0x0f)
#define TYPE_PROT(t) (((t) >> 4) + 1)
#define OFF_IV      2
#define OFF_CT      14
#define OFF_TAG     46

static const char label[] = "openloop cred id";

static int
wrap_key(const uint8_t secret[FIDO_SECRET_LEN], uint8_t key[32])
{
	return fcr_hmac_sha256(secret, FIDO_SECRET_LEN,
	    (const uint8_t *)label, sizeof(label) - 1, key);
}

static void
make_aad(const uint8_t *id, const uint8_t rp_hash[FIDO_HASH_LEN],
    uint8_t aad[FIDO_HASH_LEN + 2])
{
	memcpy(aad, rp_hash, FIDO_HASH_LEN);
	aad[FIDO_HASH_LEN] = id[0];
	aad[FIDO_HASH_LEN + 1] = id[1];
}

int
cred_id_wrap(const uint8_t secret[FIDO_SECRET_LEN], int alg, int prot,
    const uint8_t priv[32], const uint8_t rp_hash[FIDO_HASH_LEN],
    uint8_t id[FIDO_CRED_ID_LEN])
{
	uint8_t key[32], aad[FIDO_HASH_LEN + 2];
	int r;

	if ((alg != COSE_ES256 && alg != COSE_EDDSA) ||
	    prot < FIDO_PROT_UV_OPTIONAL || prot > FIDO_PROT_UV_REQUIRED)
		return OL_ERR_ARG;
	id[0] = ID_VERSION;
	id[1] = (uint8_t)((alg == COSE_ES256 ? TYPE_ES256 : TYPE_EDDSA) |
	    (prot - 1) << 4);
	if ((r = fcr_random(id + OFF_IV, 12)) != OL_OK ||
	    (r = wrap_key(secret, key)) != OL_OK)
		goto fail;
	make_aad(id, rp_hash, aad);
	r = fcr_gcm_seal(key, id + OFF_IV, aad, sizeof(aad), priv, 32,
	    id + OFF_CT, id + OFF_TAG);
fail:
	explicit_bzero(key, sizeof(key));
	return r;
}

int
cred_id_unwrap(const uint8_t secret[FIDO_SECRET_LEN], const uint8_t *id,
    size_t id_len, const uint8_t rp_hash[FIDO_HASH_LEN], int *alg,
    uint8_t priv[32])
{
	uint8_t key[32], aad[FIDO_HASH_LEN + 2];
	int r = OL_ERR_PROTOCOL;

	if (cred_id_prot(id, id_len) == 0)
		return OL_ERR_PROTOCOL;
	if ((r = wrap_key(secret, key)) != OL_OK)
		goto fail;
	make_aad(id, rp_hash, aad);
	if ((r = fcr_gcm_open(key, id + OFF_IV, aad, sizeof(aad),
	    id + OFF_CT, 32, id + OFF_TAG, priv)) != OL_OK) {
		r = OL_ERR_PROTOCOL;
		goto fail;
	}
	*alg = TYPE_KEY(id[1]) == TYPE_ES256 ? COSE_ES256 : COSE_EDDSA;
fail:
	explicit_bzero(key, sizeof(key));
	return r;
}

int
cred_id_prot(const uint8_t *id, size_t id_len)
{
	if (id == NULL || id_len != FIDO_CRED_ID_LEN ||
	    id[0] != ID_VERSION ||
	    (TYPE_KEY(id[1]) != TYPE_ES256 && TYPE_KEY(id[1]) != TYPE_EDDSA) ||
	    TYPE_PROT(id[1]) > FIDO_PROT_UV_REQUIRED)
		return 0;
	return TYPE_PROT(id[1]);
}
