/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The authenticator's cryptography over OpenSSL 3: P-256 (ECDSA, ECDH)
 * from raw scalars, Ed25519 from raw seeds, AES-256-CBC for PIN protocol
 * 1, AES-256-GCM for credential IDs, HMAC-SHA-256, and the U2F
 * attestation certificate.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/obj_mac.h>
#include <openssl/param_build.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include "fido_auth.h"
#include "fido_crypto.h"
#include "ol_err.h"

int
fcr_random(uint8_t *buf, size_t len)
{
	if (len > INT32_MAX || RAND_bytes(buf, (int)len) != 1)
		return OL_ERR_IO;
	return OL_OK;
}

void
fcr_sha256(const uint8_t *in, size_t len, uint8_t out[32])
{
	unsigned int n = 32;

	if (EVP_Digest(in, len, out, &n, EVP_sha256(), NULL) != 1)
		memset(out, 0, 32);
}

int
fcr_hmac_sha256(const uint8_t *key, size_t key_len, const uint8_t *in,
    size_t len, uint8_t out[32])
{
	unsigned int n = 32;

	if (key_len > INT32_MAX ||
	    HMAC(EVP_sha256(), key, (int)key_len, in, len, out, &n) == NULL ||
	    n != 32)
		return OL_ERR_IO;
	return OL_OK;
}

/* P-256: X || Y of d*G; OL_ERR_ARG for d outside 1..n-1 */
static int
p256_point(const uint8_t priv[32], uint8_t xy[64])
{
	EC_GROUP *g = NULL;
	EC_POINT *pt = NULL;
	BIGNUM *d = NULL;
	uint8_t oct[65];
	int r = OL_ERR_IO;

	if ((g = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1)) == NULL ||
	    (pt = EC_POINT_new(g)) == NULL ||
	    (d = BN_secure_new()) == NULL ||
	    BN_bin2bn(priv, 32, d) == NULL)
		goto fail;
	if (BN_is_zero(d) || BN_cmp(d, EC_GROUP_get0_order(g)) >= 0) {
		r = OL_ERR_ARG;
		goto fail;
	}
	if (EC_POINT_mul(g, pt, d, NULL, NULL, NULL) != 1 ||
	    EC_POINT_point2oct(g, pt, POINT_CONVERSION_UNCOMPRESSED, oct,
	    sizeof(oct), NULL) != sizeof(oct))
		goto fail;
	memcpy(xy, oct + 1, 64);
	r = OL_OK;
fail:
	BN_clear_free(d);
	EC_POINT_free(pt);
	EC_GROUP_free(g);
	return r;
}

/* An EVP key for P-256 from a scalar (with its public point) or from a
 * public point only (priv NULL). */
static EVP_PKEY *
p256_pkey(const uint8_t *priv, const uint8_t xy[64])
{
	OSSL_PARAM_BLD *bld = NULL;
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	EVP_PKEY *pkey = NULL;
	BIGNUM *d = NULL;
	uint8_t oct[65];

	oct[0] = 0x04;
	memcpy(oct + 1, xy, 64);
	if ((bld = OSSL_PARAM_BLD_new()) == NULL ||
	    !OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME,
	    "prime256v1", 0) ||
	    !OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY,
	    oct, sizeof(oct)))
		goto fail;
	if (priv != NULL && ((d = BN_secure_new()) == NULL ||
	    BN_bin2bn(priv, 32, d) == NULL ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, d)))
		goto fail;
	if ((params = OSSL_PARAM_BLD_to_param(bld)) == NULL ||
	    (ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL)) == NULL ||
	    EVP_PKEY_fromdata_init(ctx) != 1 ||
	    EVP_PKEY_fromdata(ctx, &pkey, priv != NULL ? EVP_PKEY_KEYPAIR :
	    EVP_PKEY_PUBLIC_KEY, params) != 1)
		pkey = NULL;
fail:
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	BN_clear_free(d);
	return pkey;
}

static EVP_PKEY *
priv_pkey(int alg, const uint8_t priv[32])
{
	uint8_t xy[64];

	if (alg == COSE_EDDSA)
		return EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL,
		    priv, 32);
	if (alg != COSE_ES256 || p256_point(priv, xy) != OL_OK)
		return NULL;
	return p256_pkey(priv, xy);
}

int
fcr_keygen(int alg, uint8_t priv[32])
{
	uint8_t xy[64];
	int r, tries;

	if (alg == COSE_EDDSA)
		return fcr_random(priv, 32);
	if (alg != COSE_ES256)
		return OL_ERR_ARG;
	/* a scalar in 1..n-1: almost every 32 random bytes are one */
	for (tries = 0; tries < 16; tries++) {
		if ((r = fcr_random(priv, 32)) != OL_OK)
			return r;
		if ((r = p256_point(priv, xy)) != OL_ERR_ARG)
			return r;
	}
	return OL_ERR_IO;
}

int
fcr_public(int alg, const uint8_t priv[32], uint8_t *pub, size_t *pub_len)
{
	EVP_PKEY *pkey;
	size_t n = 32;
	int r = OL_ERR_IO;

	if (alg == COSE_ES256) {
		if ((r = p256_point(priv, pub)) == OL_OK)
			*pub_len = 64;
		return r;
	}
	if (alg != COSE_EDDSA)
		return OL_ERR_ARG;
	if ((pkey = priv_pkey(alg, priv)) == NULL)
		return OL_ERR_IO;
	if (EVP_PKEY_get_raw_public_key(pkey, pub, &n) == 1 && n == 32) {
		*pub_len = 32;
		r = OL_OK;
	}
	EVP_PKEY_free(pkey);
	return r;
}

int
fcr_sign(int alg, const uint8_t priv[32], const uint8_t *msg, size_t len,
    uint8_t *sig, size_t cap, size_t *sig_len)
{
	EVP_MD_CTX *md = NULL;
	EVP_PKEY *pkey = NULL;
	size_t n = cap;
	int r = OL_ERR_IO;

	if ((pkey = priv_pkey(alg, priv)) == NULL ||
	    (md = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestSignInit(md, NULL, alg == COSE_ES256 ? EVP_sha256() :
	    NULL, NULL, pkey) != 1)
		goto fail;
	if (EVP_DigestSign(md, NULL, &n, msg, len) != 1 || n > cap) {
		r = OL_ERR_TOO_LONG;
		goto fail;
	}
	n = cap;
	if (EVP_DigestSign(md, sig, &n, msg, len) != 1)
		goto fail;
	*sig_len = n;
	r = OL_OK;
fail:
	EVP_MD_CTX_free(md);
	EVP_PKEY_free(pkey);
	return r;
}

int
fcr_ecdh(const uint8_t priv[32], const uint8_t x[32], const uint8_t y[32],
    uint8_t shared[32])
{
	EVP_PKEY *mine = NULL, *peer = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	uint8_t xy[64];
	size_t n = 32;
	int r = OL_ERR_IO;

	memcpy(xy, x, 32);
	memcpy(xy + 32, y, 32);
	if ((mine = priv_pkey(COSE_ES256, priv)) == NULL)
		goto fail;
	if ((peer = p256_pkey(NULL, xy)) == NULL) {
		r = OL_ERR_PROTOCOL;
		goto fail;
	}
	if ((ctx = EVP_PKEY_CTX_new(mine, NULL)) == NULL ||
	    EVP_PKEY_derive_init(ctx) != 1)
		goto fail;
	/* validate_peer: a point off the curve is refused */
	if (EVP_PKEY_derive_set_peer_ex(ctx, peer, 1) != 1) {
		r = OL_ERR_PROTOCOL;
		goto fail;
	}
	if (EVP_PKEY_derive(ctx, shared, &n) != 1 || n != 32)
		goto fail;
	r = OL_OK;
fail:
	EVP_PKEY_CTX_free(ctx);
	EVP_PKEY_free(peer);
	EVP_PKEY_free(mine);
	return r;
}

int
fcr_aes256_cbc(int encrypt, const uint8_t key[32], const uint8_t *in,
    size_t len, uint8_t *out)
{
	static const uint8_t iv[16];
	EVP_CIPHER_CTX *c = NULL;
	int n = 0, fin = 0, r = OL_ERR_IO;

	if (len % 16 != 0 || len > INT32_MAX)
		return OL_ERR_ARG;
	if ((c = EVP_CIPHER_CTX_new()) == NULL ||
	    EVP_CipherInit_ex(c, EVP_aes_256_cbc(), NULL, key, iv,
	    encrypt ? 1 : 0) != 1 ||
	    EVP_CIPHER_CTX_set_padding(c, 0) != 1 ||
	    EVP_CipherUpdate(c, out, &n, in, (int)len) != 1 ||
	    EVP_CipherFinal_ex(c, out + n, &fin) != 1 ||
	    (size_t)(n + fin) != len)
		goto fail;
	r = OL_OK;
fail:
	EVP_CIPHER_CTX_free(c);
	return r;
}

static int
gcm(int seal, const uint8_t key[32], const uint8_t iv[12],
    const uint8_t *aad, size_t aad_len, const uint8_t *in, size_t len,
    uint8_t *out, uint8_t tag[16])
{
	EVP_CIPHER_CTX *c = NULL;
	int n = 0, fin = 0, r = OL_ERR_IO;

	if (len > INT32_MAX || aad_len > INT32_MAX)
		return OL_ERR_ARG;
	if ((c = EVP_CIPHER_CTX_new()) == NULL ||
	    EVP_CipherInit_ex(c, EVP_aes_256_gcm(), NULL, key, iv,
	    seal) != 1 ||
	    EVP_CipherUpdate(c, NULL, &n, aad, (int)aad_len) != 1 ||
	    EVP_CipherUpdate(c, out, &n, in, (int)len) != 1)
		goto fail;
	if (!seal && EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, 16,
	    tag) != 1)
		goto fail;
	if (EVP_CipherFinal_ex(c, out + n, &fin) != 1) {
		r = seal ? OL_ERR_IO : OL_ERR_PROTOCOL;
		goto fail;
	}
	if (seal && EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, 16,
	    tag) != 1)
		goto fail;
	r = OL_OK;
fail:
	if (r != OL_OK)
		explicit_bzero(out, len);
	EVP_CIPHER_CTX_free(c);
	return r;
}

int
fcr_gcm_seal(const uint8_t key[32], const uint8_t iv[12], const uint8_t *aad,
    size_t aad_len, const uint8_t *in, size_t len, uint8_t *out,
    uint8_t tag[16])
{
	return gcm(1, key, iv, aad, aad_len, in, len, out, tag);
}

int
fcr_gcm_open(const uint8_t key[32], const uint8_t iv[12], const uint8_t *aad,
    size_t aad_len, const uint8_t *in, size_t len, const uint8_t tag[16],
    uint8_t *out)
{
	uint8_t t[16];

	memcpy(t, tag, 16);
	return gcm(0, key, iv, aad, aad_len, in, len, out, t);
}

int
fcr_self_signed_cert(const uint8_t priv[32], uint8_t **der, size_t *der_len)
{
	static const char cn[] = "Openloop Simulator U2F Attestation";
	EVP_PKEY *pkey = NULL;
	X509_NAME *name = NULL;
	X509 *x = NULL;
	unsigned char *p = NULL;
	int n, r = OL_ERR_IO;

	*der = NULL;
	*der_len = 0;
	if ((pkey = priv_pkey(COSE_ES256, priv)) == NULL ||
	    (x = X509_new()) == NULL || (name = X509_NAME_new()) == NULL ||
	    X509_set_version(x, X509_VERSION_3) != 1 ||
	    ASN1_INTEGER_set(X509_get_serialNumber(x), 1) != 1 ||
	    ASN1_TIME_set_string(X509_getm_notBefore(x),
	    "20260101000000Z") != 1 ||
	    ASN1_TIME_set_string(X509_getm_notAfter(x),
	    "20991231235959Z") != 1 ||
	    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
	    (const unsigned char *)cn, -1, -1, 0) != 1 ||
	    X509_set_subject_name(x, name) != 1 ||
	    X509_set_issuer_name(x, name) != 1 ||
	    X509_set_pubkey(x, pkey) != 1 ||
	    X509_sign(x, pkey, EVP_sha256()) == 0 ||
	    (n = i2d_X509(x, &p)) <= 0)
		goto fail;
	*der = p;
	*der_len = (size_t)n;
	r = OL_OK;
fail:
	X509_NAME_free(name);
	X509_free(x);
	EVP_PKEY_free(pkey);
	return r;
}
