/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ifd-openloop simulator: the FIDO2 side, as far as a host needs it to
 * recognise an authenticator.  CTAPHID_CBOR (0x10) payloads go in, the
 * CTAP2 response (status byte, then CBOR) comes out.  Only
 * authenticatorGetInfo is answered; every other CTAP2 command gets
 * CTAP2_ERR_INVALID_COMMAND.  Pure functions: no state, no I/O.
 * Behaviour: docs/simulator.md, "FIDO2 side".
 */
#ifndef OL_SIM_FIDO_H
#define OL_SIM_FIDO_H

#include <stddef.h>
#include <stdint.h>

/* CTAP 2.1 section 6: command bytes and status codes used here */
#define CTAP2_CMD_MAKE_CREDENTIAL  0x01
#define CTAP2_CMD_GET_ASSERTION    0x02
#define CTAP2_CMD_GET_INFO         0x04
#define CTAP2_CMD_CLIENT_PIN       0x06
#define CTAP2_CMD_RESET            0x07
#define CTAP2_OK                   0x00
#define CTAP2_ERR_INVALID_COMMAND  0x01
#define CTAP2_ERR_INVALID_LENGTH   0x03

#define SIM_FIDO_AAGUID_LEN  16
#define SIM_FIDO_MAX_MSG     1200  /* maxMsgSize in GetInfo */
#define SIM_FIDO_RESP_MAX    256   /* room for any response made here */

/* "OLSIM-FIDO2-0001" in ASCII: fixed, so that a test can recognise it;
 * no real device uses it. */
extern const uint8_t sim_fido_aaguid[SIM_FIDO_AAGUID_LEN];

/* The CBOR map of authenticatorGetInfo (without the status byte).
 * OL_OK, OL_ERR_TOO_LONG if cap is too small (nothing usable in out). */
int sim_fido_get_info(uint8_t *out, size_t cap, size_t *len);

/*
 * One CTAP2 request (req[0] = command byte, then its CBOR parameters,
 * req_len >= 1) to one response: status byte, then CBOR for CTAP2_OK.
 * OL_OK with a response, OL_ERR_ARG for req_len 0 (a CTAPHID-level
 * INVALID_LEN), OL_ERR_TOO_LONG if cap is too small.
 */
int sim_fido_request(const uint8_t *req, size_t req_len, uint8_t *resp,
    size_t cap, size_t *resp_len);

/* "authenticatorGetInfo", ..., "unknown" for logs */
const char *sim_fido_cmd_name(uint8_t cmd);

#endif
