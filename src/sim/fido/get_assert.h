/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ifd-openloop simulator: authenticatorGetAssertion and
 * authenticatorGetNextAssertion (CTAP 2.0 sections 5.2, 5.3): allowList
 * or discoverable credentials (newest first), pinAuth, a touch unless
 * "up" is false, a signature counter per discoverable credential (one
 * shared counter for the others, which have no storage).
 */
#ifndef OL_GET_ASSERT_H
#define OL_GET_ASSERT_H

#include <stdint.h>

#include <cbor.h>

#include "fido_auth.h"

#define FIDO_NEXT_TIMEOUT_MS 30000

uint8_t get_assert(struct fido_auth *a, const cbor_item_t *params,
    cbor_item_t **resp);
uint8_t get_next_assert(struct fido_auth *a, cbor_item_t **resp);

#endif
