/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ifd-openloop simulator: U2F over CTAPHID_MSG (FIDO U2F raw message
 * formats v1.2): REGISTER, AUTHENTICATE (P1 07 check-only, 03 enforce
 * user presence, 08 do not enforce) and VERSION, in ISO 7816-4 framing
 * (short or extended).  A key handle is a credential ID (cred_id.c), so
 * U2F registrations work in CTAP2 getAssertion and ES256 CTAP2
 * credentials in U2F AUTHENTICATE.  A touch is waited for as in CTAP2
 * (KEEPALIVE UPNEEDED); denied, timed out or cancelled: SW 6985.
 */
#ifndef OL_U2F_H
#define OL_U2F_H

#include <stddef.h>
#include <stdint.h>

#include "fido_auth.h"

/* response data || SW1 SW2; resp_cap >= 2.  OL_OK whenever there is a
 * response, OL_ERR_ARG on bad arguments. */
int u2f_request(struct fido_auth *a, const uint8_t *req, size_t len,
    uint8_t *resp, size_t resp_cap, size_t *resp_len);

#endif
