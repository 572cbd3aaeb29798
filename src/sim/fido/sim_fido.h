/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ifd-openloop simulator: the FIDO authenticator, the device's second
 * application beside the PIV card.  CTAP2 (FIDO_2_0) over CTAPHID_CBOR
 * and U2F (U2F_V2) over CTAPHID_MSG, with discoverable and non-resident
 * ES256/EdDSA credentials, ClientPIN protocol 1, reset, and a touch
 * through the device's one user model.  The CTAPHID layer runs requests
 * on its worker, one at a time (struct sim_fido_ops, sim_fido_ops).
 *
 * The code, one concern per file (docs/layout.md):
 *   sim_fido.c     this object: start-up (state, power-up), the two entry
 *                  points
 *   ctap2.c        CTAP2 dispatch, GetInfo, Reset
 *   make_cred.c    authenticatorMakeCredential
 *   get_assert.c   authenticatorGetAssertion, GetNextAssertion
 *   client_pin.c   authenticatorClientPIN, PIN protocol 1
 *   u2f.c          U2F REGISTER, AUTHENTICATE, VERSION
 *   ctap2_params.c options, credential lists, clientDataHash
 *   auth_data.c    authenticator data
 *   cred_id.c      credential IDs that wrap their private key
 *   cred_store.c   the persistent state, its file, the resident table
 *   cose.c         COSE keys
 *   fido_cbor.c    CBOR over libcbor
 *   fido_crypto.c  OpenSSL
 *   fido_up.c      user presence
 *   fido_auth.h    the object's layout and the CTAP2 status codes
 * Behaviour: docs/simulator.md, "FIDO2 side".
 */
#ifndef OL_SIM_FIDO_H
#define OL_SIM_FIDO_H

#include <stddef.h>
#include <stdint.h>

#include "sim_ctaphid.h"
#include "sim_touch.h"

struct sim_fido_config {
	/* how the authenticator asks the user (the card's port, so that
	 * KEEPALIVE and CANCEL reach the wait); wait NULL: approved at once */
	struct sim_touch_port touch;
	/* the persistent state's file (FILE.fido beside the PIV state), or
	 * NULL: in memory only, a new device on every start */
	const char *state_path;
};

typedef struct sim_fido sim_fido_t;

/* Loads the state file (missing: a fresh authenticator, written at
 * once).  OL_OK; OL_ERR_PROTOCOL for a malformed file (left untouched);
 * OL_ERR_IO, OL_ERR_PERMISSION, OL_ERR_NOMEM. */
int sim_fido_new(const struct sim_fido_config *cfg, sim_fido_t **out);
void sim_fido_free(sim_fido_t **fido);

/* One CTAP2 request (command byte, CBOR) to its response (status byte,
 * CBOR).  OL_OK whenever there is a response; OL_ERR_ARG for an empty
 * request or NULL pointers. */
int sim_fido_cbor(sim_fido_t *fido, const uint8_t *req, size_t len,
    uint8_t *resp, size_t cap, size_t *resp_len);

/* One U2F request message (an ISO 7816-4 APDU) to data || SW. */
int sim_fido_msg(sim_fido_t *fido, const uint8_t *req, size_t len,
    uint8_t *resp, size_t cap, size_t *resp_len);

/* for sim_ctaphid_opts.fido_ops */
extern const struct sim_fido_ops sim_fido_ops;

#endif
