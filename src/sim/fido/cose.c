/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * COSE_Key encoding of credential public keys and decoding of the
 * platform's PIN-protocol key-agreement key.  Map keys in CTAP2
 * canonical order: 1, 3, -1, -2, -3.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "cose.h"
#include "fido_auth.h"
#include "fido_cbor.h"

#define COSE_KTY      1
#define COSE_ALG      3
#define COSE_CRV     (-1)
#define COSE_X       (-2)
#define COSE_Y       (-3)
#define KTY_OKP       1
#define KTY_EC2       2
#define CRV_P256      1
#define CRV_ED25519   6

cbor_item_t *
cose_encode(int kind, int alg_id, const uint8_t *pub, size_t pub_len)
{
	cbor_item_t *m;
	int ec = kind == COSE_ES256;

	if (pub == NULL || (ec && pub_len != 64) ||
	    (kind == COSE_EDDSA && pub_len != 32) ||
	    (!ec && kind != COSE_EDDSA))
		return NULL;
	if ((m = cbor_new_definite_map(ec ? 5 : 4)) == NULL)
		return NULL;
	if (!fc_put(m, fc_int(COSE_KTY), fc_int(ec ? KTY_EC2 : KTY_OKP)) ||
	    !fc_put(m, fc_int(COSE_ALG), fc_int(alg_id)) ||
	    !fc_put(m, fc_int(COSE_CRV), fc_int(ec ? CRV_P256 :
	    CRV_ED25519)) ||
	    !fc_put(m, fc_int(COSE_X), fc_bytes(pub, 32)) ||
	    (ec && !fc_put(m, fc_int(COSE_Y), fc_bytes(pub + 32, 32))))
		cbor_decref(&m);
	return m;
}

uint8_t
cose_decode_ecdh(const cbor_item_t *key, uint8_t x[32], uint8_t y[32])
{
	const cbor_item_t *kty, *alg, *crv, *xi, *yi;
	const uint8_t *p, *q;
	size_t n, m;
	int64_t v;

	if (key == NULL || !cbor_isa_map(key))
		return CTAP2_ERR_CBOR_UNEXPECTED_TYPE;
	kty = fc_map_get_int(key, COSE_KTY);
	alg = fc_map_get_int(key, COSE_ALG);
	crv = fc_map_get_int(key, COSE_CRV);
	xi = fc_map_get_int(key, COSE_X);
	yi = fc_map_get_int(key, COSE_Y);
	if (kty == NULL || crv == NULL || xi == NULL || yi == NULL)
		return CTAP2_ERR_MISSING_PARAMETER;
	if (!fc_get_int(kty, &v) || !fc_get_int(crv, &v) ||
	    !fc_get_bytes(xi, &p, &n) || !fc_get_bytes(yi, &q, &m))
		return CTAP2_ERR_CBOR_UNEXPECTED_TYPE;
	if (alg != NULL && !fc_get_int(alg, &v))
		return CTAP2_ERR_CBOR_UNEXPECTED_TYPE;
	if (alg != NULL && v != COSE_ECDH_ES_HKDF_256)
		return CTAP1_ERR_INVALID_PARAMETER;
	if (!fc_get_int(kty, &v) || v != KTY_EC2 || !fc_get_int(crv, &v) ||
	    v != CRV_P256 || n != 32 || m != 32)
		return CTAP1_ERR_INVALID_PARAMETER;
	memcpy(x, p, 32);
	memcpy(y, q, 32);
	return CTAP2_OK;
}
