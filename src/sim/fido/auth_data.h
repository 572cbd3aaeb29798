/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ifd-openloop simulator: authenticator data (WebAuthn section 6.1):
 * rpIdHash (32) | flags (1) | signCount (4, big-endian) [| aaguid (16) |
 * credentialIdLength (2) | credentialId | credentialPublicKey (COSE)]
 * [| extensions (CBOR map)].
 */
#ifndef OL_AUTH_DATA_H
#define OL_AUTH_DATA_H

#include <stddef.h>
#include <stdint.h>

#include "fido_auth.h"

#define AD_FLAG_UP  0x01
#define AD_FLAG_UV  0x04
#define AD_FLAG_AT  0x40
#define AD_FLAG_ED  0x80
#define AD_BASE_LEN (FIDO_HASH_LEN + 1 + 4)
#define AD_MAX      256

/* OL_OK, or OL_ERR_TOO_LONG if cap is too small.  cred_id NULL: no
 * attested credential data (assertions); else alg and pub make the COSE
 * key. */
int auth_data_make(const uint8_t rp_hash[FIDO_HASH_LEN], uint8_t flags,
    uint32_t counter, const uint8_t *cred_id, size_t cred_id_len, int alg,
    const uint8_t *pub, size_t pub_len, uint8_t *out, size_t cap,
    size_t *len);

/* Appends the extension outputs {"credProtect": level} to the
 * authenticator data ad of *len bytes and sets its ED flag.  OL_OK, or
 * OL_ERR_TOO_LONG if cap is too small (ad unchanged). */
int auth_data_put_cred_protect(uint8_t *ad, size_t cap, size_t *len,
    int level);

#endif
