/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ifd-openloop simulator: COSE_Key (RFC 8152 section 7, CTAP 2.1 section
 * 6.5.6) for the authenticator: credential public keys written in
 * canonical order, and the platform's key-agreement key of PIN protocol
 * 1 read with every field checked.
 */
#ifndef OL_COSE_H
#define OL_COSE_H

#include <stddef.h>
#include <stdint.h>

#include <cbor.h>

/* A credential public key: alg COSE_ES256 with pub = X || Y (64),
 * COSE_EDDSA with the 32-byte key; alg_id is what goes in key 3 (for the
 * key-agreement key: COSE_ECDH_ES_HKDF_256 with an ES256 point).  NULL
 * on bad arguments or no memory. */
cbor_item_t *cose_encode(int kind, int alg_id, const uint8_t *pub,
    size_t pub_len);

/* The platform's keyAgreement: an EC2 P-256 key (kty 2, crv 1, x and y
 * of 32 bytes; alg, if present, -25).  CTAP2 status: CTAP2_OK,
 * CTAP2_ERR_CBOR_UNEXPECTED_TYPE, CTAP2_ERR_MISSING_PARAMETER or
 * CTAP1_ERR_INVALID_PARAMETER. */
uint8_t cose_decode_ecdh(const cbor_item_t *key, uint8_t x[32],
    uint8_t y[32]);

#endif
