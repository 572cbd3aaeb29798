/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ifd-openloop simulator: the cryptography of the simulated PIV applet,
 * done for real by OpenSSL 3 libcrypto.  Private keys travel as PKCS#8
 * DER (what struct piv_key stores); every function parses the key it is
 * given and checks that it is of the PIV algorithm the caller names.
 *
 * Errors: OL_ERR_ARG when the caller's input is unacceptable (the card
 * answers 6A80: a block not below the modulus, a point not on the curve,
 * a wrong length), OL_ERR_PROTOCOL when a stored key does not parse or is
 * not of the named algorithm, OL_ERR_IO when OpenSSL fails otherwise.
 */
#ifndef OL_PIV_CRYPTO_H
#define OL_PIV_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

#define PIV_RSA_BYTES      256   /* RSA-2048 */
#define PIV_RSA_EXP_MAX    8     /* public exponent bytes we hand out */
#define PIV_P256_BYTES     32
#define PIV_P256_POINT     65    /* 04 || X || Y */
#define PIV_ED25519_PUB    32
#define PIV_ED25519_SIG    64
#define PIV_ECDSA_SIG_MAX  72    /* DER SEQUENCE { r, s } for P-256 */
#define PIV_ECDSA_HASH_MAX 64    /* longest hash accepted (SHA-512) */
#define PIV_BLOCK_MAX      16    /* AES; 3DES is 8 */

/* A public key as GENERATE returns it (tag 7F49). */
struct piv_pubkey {
	uint8_t alg;
	uint8_t modulus[PIV_RSA_BYTES];         /* RSA */
	uint8_t exponent[PIV_RSA_EXP_MAX];      /* RSA, no leading zeros */
	size_t exponent_len;
	uint8_t point[PIV_P256_POINT];          /* P-256: 65, Ed25519: 32 */
	size_t point_len;
};

/* Whether the PIV algorithm is an asymmetric one this applet can hold. */
int piv_crypto_alg_asymmetric(uint8_t alg);
const char *piv_crypto_alg_name(uint8_t alg);

/* A new key pair of alg (P-256, Ed25519, RSA-2048) as PKCS#8 DER in
 * der[cap].  RSA-2048 takes OpenSSL a fraction of a second to a few. */
int piv_crypto_generate(uint8_t alg, uint8_t *der, size_t cap,
    size_t *der_len);

int piv_crypto_public(uint8_t alg, const uint8_t *der, size_t der_len,
    struct piv_pubkey *pub);

/* ECDSA of a host-computed hash; hash_len 1..64, cut to the curve's
 * size as FIPS 186-4 section 6.4 says.  sig: DER SEQUENCE { r, s }. */
int piv_crypto_ecdsa(const uint8_t *der, size_t der_len, const uint8_t *hash,
    size_t hash_len, uint8_t *sig, size_t cap, size_t *sig_len);

/* Ed25519 (RFC 8032, pure) of the message as given. */
int piv_crypto_ed25519(const uint8_t *der, size_t der_len,
    const uint8_t *msg, size_t msg_len, uint8_t sig[PIV_ED25519_SIG]);

/* The raw RSA private-key operation on one 256-byte block (the host did
 * the padding); OL_ERR_ARG if the block is not below the modulus. */
int piv_crypto_rsa_raw(const uint8_t *der, size_t der_len,
    const uint8_t in[PIV_RSA_BYTES], uint8_t out[PIV_RSA_BYTES]);

/* ECDH on P-256 with the peer's uncompressed point: the shared X. */
int piv_crypto_ecdh(const uint8_t *der, size_t der_len, const uint8_t *peer,
    size_t peer_len, uint8_t out[PIV_P256_BYTES]);

/* The management key's block cipher (3DES or AES by key length and alg),
 * ECB, exactly one block; 0 for an algorithm that is not one. */
size_t piv_crypto_block_size(uint8_t alg);
int piv_crypto_block(uint8_t alg, const uint8_t *key, size_t key_len,
    int encrypt, const uint8_t *in, uint8_t *out, size_t len);

int piv_crypto_random(uint8_t *buf, size_t len);

/* SHA-256 of a || b (identifiers derived from the serial number). */
int piv_crypto_sha256(const void *a, size_t alen, const void *b, size_t blen,
    uint8_t out[32]);

/* Constant-time comparison: 1 if equal. */
int piv_crypto_equal(const void *a, const void *b, size_t len);

#endif
