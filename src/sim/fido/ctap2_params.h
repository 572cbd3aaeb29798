/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ifd-openloop simulator: the request structures makeCredential and
 * getAssertion share (CTAP 2.0 section 5.8 and WebAuthn): the options
 * map, lists of PublicKeyCredentialDescriptors (excludeList,
 * allowList), the clientDataHash.  Each returns a CTAP2 status.
 */
#ifndef OL_CTAP2_PARAMS_H
#define OL_CTAP2_PARAMS_H

#include <stddef.h>
#include <stdint.h>

#include <cbor.h>

#include "fido_auth.h"

#define OPT_ABSENT  (-1)

struct ctap2_options {
	int rk, up, uv;   /* OPT_ABSENT, 0 or 1 */
};

/* NULL opts: all absent.  Unknown options are ignored (CTAP 2.0). */
uint8_t ctap2_parse_options(const cbor_item_t *opts,
    struct ctap2_options *o);

/* A clientDataHash: a byte string of exactly 32. */
uint8_t ctap2_parse_cdh(const cbor_item_t *item, uint8_t cdh[FIDO_HASH_LEN]);

/* Checks a descriptor list: an array of maps with "type" (text) and "id"
 * (bytes); other types than "public-key" are allowed and skipped. */
uint8_t ctap2_check_cred_list(const cbor_item_t *list);

/* The first descriptor of list (checked) that is one of this device's
 * credentials for rp_hash and usable with uv (the user verified or not):
 * its index, ID, algorithm and private key; -1 if none.  A credential
 * with credProtect userVerificationRequired is invisible without uv
 * (CTAP 2.1 section 12.1); the lower levels are found by their ID. */
int ctap2_find_cred(const struct fido_auth *a, const cbor_item_t *list,
    const uint8_t rp_hash[FIDO_HASH_LEN], int uv, const uint8_t **id,
    size_t *id_len, int *alg, uint8_t priv[32]);

#endif
