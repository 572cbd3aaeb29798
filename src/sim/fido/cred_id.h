/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ifd-openloop simulator: credential IDs that carry their own private key,
 * so that non-resident credentials need no storage (and resident ones
 * use the same form).  62 bytes:
 *
 *   version 01 | type | IV (12) | AES-256-GCM(private key, 32) | tag (16)
 *
 * type: the key type in the low nibble (1 ES256, 2 EdDSA), the
 * credProtect level minus one in the high nibble (0: userVerification-
 * Optional, the level of every credential made without the extension
 * and of every ID made before the extension existed; 1: ...Optional-
 * WithCredentialIDList; 2: userVerificationRequired).
 *
 * The AES key is HMAC-SHA-256(device secret, "openloop cred id"), the
 * additional data the RP ID hash (U2F: the application parameter, the
 * same SHA-256), with the version and type bytes: the protection level
 * cannot be lowered without the ID failing to open.  A credential ID
 * of another RP, another device (or the same device after a reset), or
 * one bit changed fails to open.  The U2F key handle is the same bytes.
 */
#ifndef OL_CRED_ID_H
#define OL_CRED_ID_H

#include <stddef.h>
#include <stdint.h>

#include "fido_auth.h"

/* prot: FIDO_PROT_UV_OPTIONAL .. FIDO_PROT_UV_REQUIRED */
int cred_id_wrap(const uint8_t secret[FIDO_SECRET_LEN], int alg, int prot,
    const uint8_t priv[32], const uint8_t rp_hash[FIDO_HASH_LEN],
    uint8_t id[FIDO_CRED_ID_LEN]);

/* OL_OK with *alg and priv; OL_ERR_PROTOCOL if the ID is not one of
 * this device's for this RP (any length but FIDO_CRED_ID_LEN too). */
int cred_id_unwrap(const uint8_t secret[FIDO_SECRET_LEN], const uint8_t *id,
    size_t id_len, const uint8_t rp_hash[FIDO_HASH_LEN], int *alg,
    uint8_t priv[32]);

/* The credProtect level an ID says, unauthenticated (cred_id_unwrap
 * authenticates it): for choosing among stored credentials, whose IDs
 * the device made itself.  0 if the bytes are no ID of this format. */
int cred_id_prot(const uint8_t *id, size_t id_len);

#endif
