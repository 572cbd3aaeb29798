/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ifd-openloop simulator: the CTAP2 command dispatcher (CTAPHID_CBOR):
 * command byte and CBOR parameters in, status byte and canonical CBOR
 * out.  authenticatorGetInfo and authenticatorReset live here; the
 * others in make_cred.c, get_assert.c, client_pin.c.
 */
#ifndef OL_CTAP2_H
#define OL_CTAP2_H

#include <stddef.h>
#include <stdint.h>

#include "fido_auth.h"

#define CTAP2_CMD_MAKE_CREDENTIAL   0x01
#define CTAP2_CMD_GET_ASSERTION     0x02
#define CTAP2_CMD_GET_INFO          0x04
#define CTAP2_CMD_CLIENT_PIN        0x06
#define CTAP2_CMD_RESET             0x07
#define CTAP2_CMD_GET_NEXT_ASSERTION 0x08

/* resp_cap >= 1; OL_OK with a response (errors are status bytes),
 * OL_ERR_ARG for an empty request. */
int ctap2_request(struct fido_auth *a, const uint8_t *req, size_t len,
    uint8_t *resp, size_t resp_cap, size_t *resp_len);

/* "authenticatorGetInfo", ..., "unknown", for logs */
const char *ctap2_cmd_name(uint8_t cmd);

#endif
