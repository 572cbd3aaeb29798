/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ifd-openloop: the host side of CTAPHID on one HID handle: channel
 * allocation, request/response with keepalive, busy and error handling,
 * and the Openloop APDU command.  See docs/transport.md.
 */
#ifndef OL_CTAPHID_HOST_H
#define OL_CTAPHID_HOST_H

#include <stddef.h>
#include <stdint.h>

#include "hid_dev.h"

#define OL_CTAP_DEFAULT_USER_TIMEOUT_MS  60000
/* A FIDO client (ssh-sk, pam_u2f) holds the node's lock for its whole
 * session, touch wait included, which the device ends after 30 s: the
 * busy limit outlasts that by the rest of such a session. */
#define OL_CTAP_DEFAULT_BUSY_TIMEOUT_MS  45000
#define OL_CTAP_DEFAULT_REPLY_TIMEOUT_MS  3000

struct ol_ctap_opts {
	/* longest wait while the device sends KEEPALIVE (processing or
	 * waiting for a touch); then CANCEL is sent */
	int user_timeout_ms;
	/* how long CHANNEL_BUSY (or a held flock) is retried */
	int busy_timeout_ms;
	/* longest silence from the device before a reply or keepalive */
	int reply_timeout_ms;
};

struct ol_ctap_info {
	uint32_t cid;
	uint8_t protocol;
	uint8_t major, minor, build;
	uint8_t caps;
};

/* Called once when the device starts asking for a touch (UPNEEDED) during
 * an exchange, so a user interface can say so. */
typedef void ol_ctap_upneeded_cb_t(void *arg);

typedef struct ol_ctap ol_ctap_t;

void ol_ctap_default_opts(struct ol_ctap_opts *opts);

/* hid stays owned by the caller and must outlive ctap; opts may be NULL */
int ol_ctap_new(ol_hid_t *hid, const struct ol_ctap_opts *opts,
    ol_ctap_t **out);
void ol_ctap_free(ol_ctap_t **ctap);

void ol_ctap_set_upneeded_cb(ol_ctap_t *ctap, ol_ctap_upneeded_cb_t *cb,
    void *arg);

/* True once the channel, and with it the session, is lost: the device
 * restarted or vanished, or the channel may still deliver an answer to a
 * request given up (a reply time-out, a message cut short).  Cleared by
 * ol_ctap_init(). */
int ol_ctap_session_lost(const ol_ctap_t *ctap);

/* Sets the longest wait for the user (opts.user_timeout_ms) for the next
 * exchanges; ms <= 0 restores the default of ol_ctap_new().  Returns the
 * previous value. */
int ol_ctap_set_user_timeout(ol_ctap_t *ctap, int ms);

/* Allocates a channel (INIT on the broadcast CID with a fresh nonce): a
 * new session on the device. */
int ol_ctap_init(ol_ctap_t *ctap);
const struct ol_ctap_info *ol_ctap_info(const ol_ctap_t *ctap);

/*
 * One exchange: takes the lock, drains stale input, allocates a channel if
 * there has never been one, sends (cmd, req), and waits for the reply,
 * skipping other channels and keepalives, retrying CHANNEL_BUSY with
 * back-off.  INVALID_CHANNEL (the device restarted) and a vanished device
 * end the session: OL_ERR_SESSION_LOST (or OL_ERR_GONE), the request is
 * never sent again; so do a reply time-out and a malformed or cut reply
 * (OL_ERR_TIMEOUT, OL_ERR_PROTOCOL), after which the channel may still
 * deliver the late answer, and every exchange answers OL_ERR_SESSION_LOST until
 * ol_ctap_init() starts a new session.  On OL_ERR_DEVICE,
 * ol_ctap_last_error() has the CTAPHID error code.
 */
int ol_ctap_transact(ol_ctap_t *ctap, uint8_t cmd, const uint8_t *req,
    size_t req_len, uint8_t *resp, size_t resp_cap, size_t *resp_len);

/* An ISO 7816-4 APDU through vendor command 0x70; the response ends with
 * SW1 SW2 (OL_ERR_PROTOCOL if it is shorter than 2 bytes). */
int ol_ctap_apdu(ol_ctap_t *ctap, const uint8_t *capdu, size_t capdu_len,
    uint8_t *rapdu, size_t rapdu_cap, size_t *rapdu_len);

uint8_t ol_ctap_last_error(const ol_ctap_t *ctap);

#endif
