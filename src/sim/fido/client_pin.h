/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ifd-openloop simulator: authenticatorClientPIN, PIN protocol 1 (CTAP
 * 2.0 section 5.5): getRetries, getKeyAgreement, setPIN, changePIN,
 * getPINToken; and the pinAuth check makeCredential and getAssertion do.
 * 8 retries, then blocked (only a reset helps); 3 wrong PINs in a row
 * give PIN_AUTH_BLOCKED until the next power cycle.  No PIN, PIN hash,
 * shared secret or token is ever logged.
 */
#ifndef OL_CLIENT_PIN_H
#define OL_CLIENT_PIN_H

#include <stdint.h>

#include <cbor.h>

#include "fido_auth.h"

/* A power cycle (or a reset): new key-agreement key and PIN token, the
 * count of wrong PINs in a row forgotten.  OL_OK or OL_ERR_IO. */
int client_pin_power_up(struct fido_auth *a);

/* The request's parameter map (may be NULL) to a CTAP2 status and, for
 * CTAP2_OK, a response map or NULL. */
uint8_t client_pin(struct fido_auth *a, const cbor_item_t *params,
    cbor_item_t **resp);

/* pinAuth (a byte string of 16) and pinProtocol (1) over clientDataHash
 * with the PIN token.  CTAP2_OK, or CTAP2_ERR_PIN_AUTH_INVALID,
 * CTAP2_ERR_MISSING_PARAMETER, CTAP2_ERR_CBOR_UNEXPECTED_TYPE,
 * CTAP2_ERR_PIN_NOT_SET. */
uint8_t client_pin_check(struct fido_auth *a, const cbor_item_t *pin_auth,
    const cbor_item_t *pin_protocol, const uint8_t cdh[FIDO_HASH_LEN]);

#endif
