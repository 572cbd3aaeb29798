/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ifd-openloop simulator: the authenticator's cryptography, OpenSSL 3
 * (EVP) only here.  Private keys are 32 raw bytes (a P-256 scalar, an
 * Ed25519 seed) so that a credential ID can carry one (cred_id.c).  Every
 * function returns OL_OK or an OL_ERR_* code and wipes what it derived.
 */
#ifndef OL_FIDO_CRYPTO_H
#define OL_FIDO_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

#define FCR_PUB_MAX  64   /* P-256: X || Y; Ed25519: 32 bytes */
#define FCR_SIG_MAX  80   /* DER ECDSA (72) or Ed25519 (64) */

int fcr_random(uint8_t *buf, size_t len);
void fcr_sha256(const uint8_t *in, size_t len, uint8_t out[32]);
int fcr_hmac_sha256(const uint8_t *key, size_t key_len, const uint8_t *in,
    size_t len, uint8_t out[32]);

/* A new key of COSE algorithm alg (COSE_ES256, COSE_EDDSA). */
int fcr_keygen(int alg, uint8_t priv[32]);
/* Its public key: ES256 X || Y (64), EdDSA the 32-byte key. */
int fcr_public(int alg, const uint8_t priv[32], uint8_t *pub,
    size_t *pub_len);
/* ES256: ECDSA-SHA256 of msg, DER; EdDSA: PureEdDSA of msg. */
int fcr_sign(int alg, const uint8_t priv[32], const uint8_t *msg,
    size_t len, uint8_t *sig, size_t cap, size_t *sig_len);
/* P-256 ECDH with the peer's point (checked on the curve): shared X. */
int fcr_ecdh(const uint8_t priv[32], const uint8_t x[32],
    const uint8_t y[32], uint8_t shared[32]);
/* AES-256-CBC with IV 0 and no padding (PIN protocol 1); len % 16 == 0 */
int fcr_aes256_cbc(int encrypt, const uint8_t key[32], const uint8_t *in,
    size_t len, uint8_t *out);
/* AES-256-GCM with a 12-byte IV and a 16-byte tag; open checks it
 * (OL_ERR_PROTOCOL when it does not match). */
int fcr_gcm_seal(const uint8_t key[32], const uint8_t iv[12],
    const uint8_t *aad, size_t aad_len, const uint8_t *in, size_t len,
    uint8_t *out, uint8_t tag[16]);
int fcr_gcm_open(const uint8_t key[32], const uint8_t iv[12],
    const uint8_t *aad, size_t aad_len, const uint8_t *in, size_t len,
    const uint8_t tag[16], uint8_t *out);
/* A self-signed X.509 certificate (DER, malloc'd) for the P-256 key. */
int fcr_self_signed_cert(const uint8_t priv[32], uint8_t **der,
    size_t *der_len);

#endif
