/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ifd-openloop simulator: the device side of CTAPHID (CTAP 2.1 section
 * 11.2) with Openloop's vendor command 0x70.
 *
 * Knows nothing of sockets: feed it output reports (host to device, 64
 * bytes, no report ID), it sends input reports through the emit callback.
 * Time is a parameter (monotonic milliseconds, e.g. ol_now_ms()), so
 * tests can run it on a fake clock.  APDUs, CTAP2 and U2F requests run
 * on one worker thread; when
 * the worker finishes, sim_ctaphid_fd() becomes readable and the owner
 * calls sim_ctaphid_tick().  A card session is a channel: the first APDU
 * of another channel, or after an INIT of this one, resets the card first
 * (struct sim_card_ops.reset).  All functions must be called from one
 * thread.
 * Behaviour and the decisions behind it: docs/simulator.md.
 */
#ifndef OL_SIM_CTAPHID_H
#define OL_SIM_CTAPHID_H

#include <stddef.h>
#include <stdint.h>

#include "ctaphid.h"

#define SIM_FW_MAJOR 0   /* the vendor guide describes firmware 0.91.0 */
#define SIM_FW_MINOR 91
#define SIM_FW_BUILD 0

#define SIM_KEEPALIVE_MS      100  /* KEEPALIVE period while an APDU runs */
#define SIM_MSG_TIMEOUT_MS    500  /* longest gap between request packets */
#define SIM_REPORT_INTERVAL_MS  1  /* default: USB full speed, bInterval 1 */

/* Called with every input report, in the order the device sends them. */
typedef void sim_ctaphid_emit_t(void *arg,
    const uint8_t report[CTAPHID_REPORT_LEN]);

/* Processing and user-presence equal the CTAPHID keepalive status codes
 * on purpose: the transport copies them into KEEPALIVE packets. */
enum sim_card_status {
	SIM_CARD_IDLE = 0,
	SIM_CARD_PROCESSING = 1,
	SIM_CARD_UPNEEDED = 2,
};

/*
 * What the CTAPHID layer needs from a card.  The simulator's card
 * (piv/sim_card.c, sim_card_ops) implements it; tests substitute a fake
 * card, e.g. one that waits for a touch.  Defined here so that the
 * device core depends on no application.
 */
struct sim_card_ops {
	int (*apdu)(void *card, const uint8_t *capdu, size_t capdu_len,
	    uint8_t *rapdu, size_t rapdu_cap, size_t *rapdu_len);
	enum sim_card_status (*status)(void *card);
	void (*cancel)(void *card);
	void (*arm)(void *card);
	/* optional (NULL: none): a new session begins, see sim_card_reset();
	 * called before the first APDU of a channel, never while one runs */
	void (*reset)(void *card);
};

/*
 * What the CTAPHID layer needs from a FIDO authenticator: one CTAP2
 * request (CTAPHID_CBOR: command byte and CBOR) or one U2F message
 * (CTAPHID_MSG: an ISO 7816-4 APDU) in, its response out.  Both run on
 * the same worker as APDUs, one request at a time; a touch is waited for
 * through the card's port (sim_touch.h), so the card's status() and
 * cancel() are the authenticator's too.  OL_OK whenever there is a
 * response; anything else is a device failure (CTAP1_ERR_OTHER, 6F00).
 */
struct sim_fido_ops {
	int (*cbor)(void *fido, const uint8_t *req, size_t req_len,
	    uint8_t *resp, size_t resp_cap, size_t *resp_len);
	int (*msg)(void *fido, const uint8_t *req, size_t req_len,
	    uint8_t *resp, size_t resp_cap, size_t *resp_len);
};

struct sim_ctaphid_opts {
	const struct sim_card_ops *card_ops;
	void *card;
	/* optional (NULL: CBOR and MSG give INVALID_CMD, caps without CBOR,
	 * with NMSG) */
	const struct sim_fido_ops *fido_ops;
	void *fido;
	sim_ctaphid_emit_t *emit;
	void *emit_arg;
	int processing_delay_ms;  /* added to every APDU (>= 0) */
	/* At most one input report per interval, as the USB host polls the
	 * IN endpoint; 0 sends each message's reports back to back. */
	int report_interval_ms;
	uint32_t first_cid;       /* 0: random, so stale host CIDs fail */
	/* tests: the fault control file (sim_fault.h), or NULL */
	const char *fault_path;
};

typedef struct sim_ctaphid sim_ctaphid_t;

int sim_ctaphid_new(const struct sim_ctaphid_opts *opts, sim_ctaphid_t **out);

/* Cancels and waits for a running APDU, then frees. */
void sim_ctaphid_free(sim_ctaphid_t **dev);

/* One output report; len must be 64 (anything else is logged, ignored). */
void sim_ctaphid_feed(sim_ctaphid_t *dev, const uint8_t *report, size_t len,
    int64_t now_ms);

/* Timers (message timeout, keepalive, processing delay, report pacing)
 * and worker completion. */
void sim_ctaphid_tick(sim_ctaphid_t *dev, int64_t now_ms);

/* Milliseconds until sim_ctaphid_tick() has work, -1 if only the worker
 * (sim_ctaphid_fd()) or new input can create some. */
int sim_ctaphid_next_timeout(const sim_ctaphid_t *dev, int64_t now_ms);

/* Readable when the APDU worker has finished; call sim_ctaphid_tick(). */
int sim_ctaphid_fd(const sim_ctaphid_t *dev);

/* Whether the device takes another output report now.  While its queue
 * of input reports is long it does not, as a device NAKs its OUT
 * endpoint: the owner then leaves host writes unread. */
int sim_ctaphid_ready(const sim_ctaphid_t *dev);

#endif
