/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ifd-openloop simulator: authenticatorMakeCredential (CTAP 2.0 section
 * 5.1, with the check order of CTAP 2.1 section 6.1.2): ES256 or EdDSA,
 * discoverable or not, excludeList, pinAuth (PIN protocol 1), a touch,
 * "packed" self attestation.
 */
#ifndef OL_MAKE_CRED_H
#define OL_MAKE_CRED_H

#include <stdint.h>

#include <cbor.h>

#include "fido_auth.h"

uint8_t make_cred(struct fido_auth *a, const cbor_item_t *params,
    cbor_item_t **resp);

#endif
