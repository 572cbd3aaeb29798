/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The PIV applet's cryptography through OpenSSL 3's EVP interfaces.  Keys
 * are parsed from PKCS#8 DER for every operation: a state file is
 * untrusted input, and parsing costs microseconds next to the operation.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "ol_err.h"
#include "piv_crypto.h"
#include "piv_state.h"

#define RSA_BITS 2048

int
piv_crypto_alg_asymmetric(uint8_t alg)
{
	return alg == PIV_ALG_RSA2048 || alg == PIV_ALG_P256 ||
	    alg == PIV_ALG_ED25519;
}

const char *
piv_crypto_alg_name(uint8_t alg)
{
	switch (alg) {
	case PIV_ALG_3DES:
		return "3DES";
	case PIV_ALG_RSA2048:
		return "RSA-2048";
	case PIV_ALG_AES128:
		return "AES-128";
	case PIV_ALG_AES192:
		return "AES-192";
	case PIV_ALG_AES256:
		return "AES-256";
	case PIV_ALG_P256:
		return "P-256";
	case PIV_ALG_ED25519:
		return "Ed25519";
	default:
		return "unknown";
	}
}

/* --- keys ---------------------------------------------------------------- */

static int
key_matches(EVP_PKEY *k, uint8_t alg)
{
	char group[32];
	size_t glen = 0;

	switch (alg) {
	case PIV_ALG_RSA2048:
		return EVP_PKEY_is_a(k, "RSA") &&
		    EVP_PKEY_get_bits(k) == RSA_BITS;
	case PIV_ALG_P256:
		if (!EVP_PKEY_is_a(k, "EC") ||
		    EVP_PKEY_get_group_name(k, group, sizeof(group),
		    &glen) != 1)
			return 0;
		return strcmp(group, "prime256v1") == 0 ||
		    strcmp(group, "P-256") == 0;
	case PIV_ALG_ED25519:
		return EVP_PKEY_is_a(k, "ED25519");
	default:
		return 0;
	}
}

/* The private key in der, if it is one of alg; NULL otherwise. */
static EVP_PKEY *
load_key(uint8_t alg, const uint8_t *der, size_t der_len)
{
	const unsigned char *p = der;
	EVP_PKEY *k;

	if (der == NULL || der_len == 0 || der_len > (size_t)INT32_MAX)
		return NULL;
	if ((k = d2i_AutoPrivateKey(NULL, &p, (long)der_len)) == NULL)
		return NULL;
	if (p != der + der_len || !key_matches(k, alg)) {
		EVP_PKEY_free(k);
		return NULL;
	}
	return k;
}

static int
encode_pkcs8(EVP_PKEY *k, uint8_t *der, size_t cap, size_t *der_len)
{
	PKCS8_PRIV_KEY_INFO *p8;
	unsigned char *p = der;
	int n, r = OL_ERR_IO;

	if ((p8 = EVP_PKEY2PKCS8(k)) == NULL)
		return OL_ERR_IO;
	if ((n = i2d_PKCS8_PRIV_KEY_INFO(p8, NULL)) <= 0)
		goto out;
	if ((size_t)n > cap) {
		r = OL_ERR_TOO_LONG;
		goto out;
	}
	if (i2d_PKCS8_PRIV_KEY_INFO(p8, &p) != n)
		goto out;
	*der_len = (size_t)n;
	r = OL_OK;
out:
	/* the structure's free wipes the key octets it holds */
	PKCS8_PRIV_KEY_INFO_free(p8);
	return r;
}

int
piv_crypto_generate(uint8_t alg, uint8_t *der, size_t cap, size_t *der_len)
{
	EVP_PKEY_CTX *ctx = NULL;
	EVP_PKEY *k = NULL;
	const char *type;
	int r = OL_ERR_IO;

	if (der == NULL || der_len == NULL)
		return OL_ERR_ARG;
	switch (alg) {
	case PIV_ALG_RSA2048:
		type = "RSA";
		break;
	case PIV_ALG_P256:
		type = "EC";
		break;
	case PIV_ALG_ED25519:
		type = "ED25519";
		break;
	default:
		return OL_ERR_ARG;
	}
	if ((ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL)) == NULL ||
	    EVP_PKEY_keygen_init(ctx) != 1)
		goto out;
	if (alg == PIV_ALG_P256 &&
	    EVP_PKEY_CTX_set_group_name(ctx, "P-256") != 1)
		goto out;
	if (alg == PIV_ALG_RSA2048 &&
	    EVP_PKEY_CTX_set_rsa_keygen_bits(ctx, RSA_BITS) != 1)
		goto out;
	if (EVP_PKEY_generate(ctx, &k) != 1)
		goto out;
	r = encode_pkcs8(k, der, cap, der_len);
out:
	EVP_PKEY_free(k);
	EVP_PKEY_CTX_free(ctx);
	return r;
}

static int
rsa_public(EVP_PKEY *k, struct piv_pubkey *pub)
{
	BIGNUM *n = NULL, *e = NULL;
	int r = OL_ERR_IO;

	if (EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_RSA_N, &n) != 1 ||
	    EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_RSA_E, &e) != 1)
		goto out;
	if (BN_bn2binpad(n, pub->modulus, PIV_RSA_BYTES) != PIV_RSA_BYTES ||
	    BN_num_bytes(e) < 1 || BN_num_bytes(e) > PIV_RSA_EXP_MAX)
		goto out;
	pub->exponent_len = (size_t)BN_bn2bin(e, pub->exponent);
	r = OL_OK;
out:
	BN_free(n);
	BN_free(e);
	return r;
}

int
piv_crypto_public(uint8_t alg, const uint8_t *der, size_t der_len,
    struct piv_pubkey *pub)
{
	EVP_PKEY *k;
	size_t len = 0;
	int r = OL_ERR_IO;

	if (pub == NULL)
		return OL_ERR_ARG;
	memset(pub, 0, sizeof(*pub));
	if ((k = load_key(alg, der, der_len)) == NULL)
		return OL_ERR_PROTOCOL;
	pub->alg = alg;
	switch (alg) {
	case PIV_ALG_RSA2048:
		r = rsa_public(k, pub);
		break;
	case PIV_ALG_P256:
		if (EVP_PKEY_get_octet_string_param(k,
		    OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, pub->point,
		    sizeof(pub->point), &len) == 1 && len == PIV_P256_POINT &&
		    pub->point[0] == 0x04) {
			pub->point_len = len;
			r = OL_OK;
		}
		break;
	case PIV_ALG_ED25519:
		len = PIV_ED25519_PUB;
		if (EVP_PKEY_get_raw_public_key(k, pub->point, &len) == 1 &&
		    len == PIV_ED25519_PUB) {
			pub->point_len = len;
			r = OL_OK;
		}
		break;
	}
	EVP_PKEY_free(k);
	return r;
}

/* --- private-key operations ---------------------------------------------- */

int
piv_crypto_ecdsa(const uint8_t *der, size_t der_len, const uint8_t *hash,
    size_t hash_len, uint8_t *sig, size_t cap, size_t *sig_len)
{
	EVP_PKEY_CTX *ctx = NULL;
	EVP_PKEY *k;
	size_t len = cap;
	int r = OL_ERR_IO;

	if (hash == NULL || sig == NULL || sig_len == NULL)
		return OL_ERR_ARG;
	if (hash_len < 1 || hash_len > PIV_ECDSA_HASH_MAX)
		return OL_ERR_ARG;
	if ((k = load_key(PIV_ALG_P256, der, der_len)) == NULL)
		return OL_ERR_PROTOCOL;
	/* the leftmost bits of a longer hash, as FIPS 186-4 6.4 says;
	 * explicit so as not to rely on what a provider does with it */
	if (hash_len > PIV_P256_BYTES)
		hash_len = PIV_P256_BYTES;
	if ((ctx = EVP_PKEY_CTX_new_from_pkey(NULL, k, NULL)) == NULL ||
	    EVP_PKEY_sign_init(ctx) != 1 ||
	    EVP_PKEY_sign(ctx, sig, &len, hash, hash_len) != 1)
		goto out;
	*sig_len = len;
	r = OL_OK;
out:
	EVP_PKEY_CTX_free(ctx);
	EVP_PKEY_free(k);
	return r;
}

int
piv_crypto_ed25519(const uint8_t *der, size_t der_len, const uint8_t *msg,
    size_t msg_len, uint8_t sig[PIV_ED25519_SIG])
{
	EVP_MD_CTX *md = NULL;
	EVP_PKEY *k;
	size_t len = PIV_ED25519_SIG;
	int r = OL_ERR_IO;

	if ((msg == NULL && msg_len > 0) || sig == NULL)
		return OL_ERR_ARG;
	if ((k = load_key(PIV_ALG_ED25519, der, der_len)) == NULL)
		return OL_ERR_PROTOCOL;
	if ((md = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestSignInit_ex(md, NULL, NULL, NULL, NULL, k, NULL) != 1 ||
	    EVP_DigestSign(md, sig, &len, msg_len > 0 ? msg :
	    (const uint8_t *)"", msg_len) != 1 || len != PIV_ED25519_SIG)
		goto out;
	r = OL_OK;
out:
	EVP_MD_CTX_free(md);
	EVP_PKEY_free(k);
	return r;
}

int
piv_crypto_rsa_raw(const uint8_t *der, size_t der_len,
    const uint8_t in[PIV_RSA_BYTES], uint8_t out[PIV_RSA_BYTES])
{
	EVP_PKEY_CTX *ctx = NULL;
	EVP_PKEY *k;
	BIGNUM *n = NULL, *m = NULL;
	size_t len = PIV_RSA_BYTES;
	int r = OL_ERR_IO;

	if (in == NULL || out == NULL)
		return OL_ERR_ARG;
	if ((k = load_key(PIV_ALG_RSA2048, der, der_len)) == NULL)
		return OL_ERR_PROTOCOL;
	if (EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_RSA_N, &n) != 1 ||
	    (m = BN_bin2bn(in, PIV_RSA_BYTES, NULL)) == NULL)
		goto out;
	/* m^d mod n is only an RSA operation for m < n */
	if (BN_ucmp(m, n) >= 0) {
		r = OL_ERR_ARG;
		goto out;
	}
	if ((ctx = EVP_PKEY_CTX_new_from_pkey(NULL, k, NULL)) == NULL ||
	    EVP_PKEY_decrypt_init(ctx) != 1 ||
	    EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_NO_PADDING) != 1 ||
	    EVP_PKEY_decrypt(ctx, out, &len, in, PIV_RSA_BYTES) != 1 ||
	    len != PIV_RSA_BYTES)
		goto out;
	r = OL_OK;
out:
	BN_clear_free(m);
	BN_free(n);
	EVP_PKEY_CTX_free(ctx);
	EVP_PKEY_free(k);
	return r;
}

static EVP_PKEY *
p256_public(const uint8_t *point, size_t len)
{
	EVP_PKEY_CTX *ctx;
	EVP_PKEY *peer = NULL;
	OSSL_PARAM params[3];
	char group[] = "prime256v1";

	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME,
	    group, 0);
	params[1] = OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY,
	    (void *)(uintptr_t)point, len);
	params[2] = OSSL_PARAM_construct_end();
	if ((ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL)) == NULL)
		return NULL;
	/* decoding the point checks that it lies on the curve */
	if (EVP_PKEY_fromdata_init(ctx) != 1 ||
	    EVP_PKEY_fromdata(ctx, &peer, EVP_PKEY_PUBLIC_KEY, params) != 1)
		peer = NULL;
	EVP_PKEY_CTX_free(ctx);
	return peer;
}

int
piv_crypto_ecdh(const uint8_t *der, size_t der_len, const uint8_t *peer,
    size_t peer_len, uint8_t out[PIV_P256_BYTES])
{
	EVP_PKEY_CTX *ctx = NULL;
	EVP_PKEY *k = NULL, *pk = NULL;
	size_t len = PIV_P256_BYTES;
	int r = OL_ERR_IO;

	if (peer == NULL || out == NULL)
		return OL_ERR_ARG;
	/* PIV sends the uncompressed point (SP 800-73-4 part 2, 3.2.4) */
	if (peer_len != PIV_P256_POINT || peer[0] != 0x04)
		return OL_ERR_ARG;
	if ((k = load_key(PIV_ALG_P256, der, der_len)) == NULL)
		return OL_ERR_PROTOCOL;
	if ((pk = p256_public(peer, peer_len)) == NULL) {
		r = OL_ERR_ARG;
		goto out;
	}
	if ((ctx = EVP_PKEY_CTX_new_from_pkey(NULL, k, NULL)) == NULL ||
	    EVP_PKEY_derive_init(ctx) != 1)
		goto out;
	if (EVP_PKEY_derive_set_peer_ex(ctx, pk, 1) != 1) {
		r = OL_ERR_ARG;
		goto out;
	}
	if (EVP_PKEY_derive(ctx, out, &len) != 1 || len != PIV_P256_BYTES)
		goto out;
	r = OL_OK;
out:
	EVP_PKEY_CTX_free(ctx);
	EVP_PKEY_free(pk);
	EVP_PKEY_free(k);
	return r;
}

/* --- the management key's block cipher ----------------------------------- */

static const EVP_CIPHER *
block_cipher(uint8_t alg, size_t key_len)
{
	switch (alg) {
	case PIV_ALG_3DES:
		return key_len == 24 ? EVP_des_ede3_ecb() : NULL;
	case PIV_ALG_AES128:
		return key_len == 16 ? EVP_aes_128_ecb() : NULL;
	case PIV_ALG_AES192:
		return key_len == 24 ? EVP_aes_192_ecb() : NULL;
	case PIV_ALG_AES256:
		return key_len == 32 ? EVP_aes_256_ecb() : NULL;
	default:
		return NULL;
	}
}

size_t
piv_crypto_block_size(uint8_t alg)
{
	switch (alg) {
	case PIV_ALG_3DES:
		return 8;
	case PIV_ALG_AES128:
	case PIV_ALG_AES192:
	case PIV_ALG_AES256:
		return 16;
	default:
		return 0;
	}
}

int
piv_crypto_block(uint8_t alg, const uint8_t *key, size_t key_len,
    int encrypt, const uint8_t *in, uint8_t *out, size_t len)
{
	const EVP_CIPHER *c = block_cipher(alg, key_len);
	EVP_CIPHER_CTX *ctx;
	int n = 0, fin = 0, r = OL_ERR_IO;

	if (c == NULL || key == NULL || in == NULL || out == NULL ||
	    len != piv_crypto_block_size(alg))
		return OL_ERR_ARG;
	if ((ctx = EVP_CIPHER_CTX_new()) == NULL)
		return OL_ERR_NOMEM;
	if (EVP_CipherInit_ex2(ctx, c, key, NULL, encrypt ? 1 : 0, NULL) != 1 ||
	    EVP_CIPHER_CTX_set_padding(ctx, 0) != 1 ||
	    EVP_CipherUpdate(ctx, out, &n, in, (int)len) != 1 ||
	    EVP_CipherFinal_ex(ctx, out + n, &fin) != 1 ||
	    (size_t)(n + fin) != len)
		goto out;
	r = OL_OK;
out:
	/* the context holds the key schedule: its free wipes it */
	EVP_CIPHER_CTX_free(ctx);
	return r;
}

int
piv_crypto_random(uint8_t *buf, size_t len)
{
	if (buf == NULL || len > (size_t)INT32_MAX)
		return OL_ERR_ARG;
	if (len == 0)
		return OL_OK;
	return RAND_bytes(buf, (int)len) == 1 ? OL_OK : OL_ERR_IO;
}

int
piv_crypto_sha256(const void *a, size_t alen, const void *b, size_t blen,
    uint8_t out[32])
{
	EVP_MD_CTX *md;
	unsigned int n = 0;
	int r = OL_ERR_IO;

	if ((a == NULL && alen > 0) || (b == NULL && blen > 0) || out == NULL)
		return OL_ERR_ARG;
	if ((md = EVP_MD_CTX_new()) == NULL)
		return OL_ERR_NOMEM;
	if (EVP_DigestInit_ex(md, EVP_sha256(), NULL) == 1 &&
	    EVP_DigestUpdate(md, a, alen) == 1 &&
	    EVP_DigestUpdate(md, b, blen) == 1 &&
	    EVP_DigestFinal_ex(md, out, &n) == 1 && n == 32)
		r = OL_OK;
	EVP_MD_CTX_free(md);
	return r;
}

int
piv_crypto_equal(const void *a, const void *b, size_t len)
{
	return CRYPTO_memcmp(a, b, len) == 0;
}
