/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ifd-openloop simulator: the card behind the CTAPHID vendor command 0x70.
 *
 * sim_card_apdu() takes one ISO 7816-4 command APDU and returns
 * response data || SW1 SW2.  The card knows SELECT, GET CHALLENGE and GET
 * RESPONSE, assembles command chaining (CLA 10) and splits long responses
 * (61xx) for its applets; the one applet is PIV (piv_applet.c).  See
 * docs/simulator.md.
 *
 * Threads: the CTAPHID layer runs sim_card_apdu() on a worker thread, one
 * APDU at a time, and meanwhile calls sim_card_status() and
 * sim_card_cancel() from its own thread.  A command that must wait for a
 * touch (sim_card_wait_touch(), as --touch says) sets the status to
 * SIM_CARD_UPNEEDED, waits until touched or cancelled, and answers 6982
 * when cancelled or denied.
 */
#ifndef OL_SIM_CARD_H
#define OL_SIM_CARD_H

#include <stddef.h>
#include <stdint.h>

#include "apdu.h"
#include "iso7816.h"
#include "piv_timing.h"
#include "sim_ctaphid.h"
#include "sim_touch.h"

struct piv_state;

#define SIM_CHAIN_MAX  8192  /* command data a chain may accumulate */
#define SIM_RESP_MAX   8192  /* response data an applet may produce */
#define SIM_DEFAULT_SERIAL "OL0000000001"

struct sim_card_config {
	enum sim_touch_mode touch;
	int touch_ms;                   /* for SIM_TOUCH_AFTER */
	/* the PIV applet's persistent state at start (copied); NULL: a
	 * fresh model C device with serial SIM_DEFAULT_SERIAL */
	const struct piv_state *piv;
	/* where the PIV applet saves its state after every change; NULL:
	 * nowhere (the state lives as long as the card) */
	const char *piv_state_path;
	/* the secure element's speed (default PIV_TIMING_INSTANT; openloop-sim
	 * runs with PIV_TIMING_DEVICE unless told otherwise) */
	enum piv_timing timing;
};

typedef struct sim_card sim_card_t;

/* The defaults: touch approved after SIM_TOUCH_DEFAULT_MS, a fresh PIV
 * applet, no state file. */
void sim_card_config_init(struct sim_card_config *cfg);
int sim_card_new_config(const struct sim_card_config *cfg, sim_card_t **out);
int sim_card_new(sim_card_t **out);  /* with the defaults */
void sim_card_free(sim_card_t **card);

/* A new session, as after a card reset: no applet selected, chaining and
 * pending response data dropped, the applets' security state (verified
 * PIN, management key) forgotten.  Never while an APDU runs. */
void sim_card_reset(sim_card_t *card);

/*
 * Runs one command APDU.  rapdu receives data || SW1 SW2 and *rapdu_len
 * its length; data is cut so that it and the SW fit in rapdu_cap.
 * Returns OL_OK whenever there is a response (errors of the APDU are
 * status words); OL_ERR_ARG for NULL pointers or rapdu_cap < 2.
 */
int sim_card_apdu(sim_card_t *card, const uint8_t *capdu, size_t capdu_len,
    uint8_t *rapdu, size_t rapdu_cap, size_t *rapdu_len);

/* Any thread: what the card is doing now (idle, processing, waiting for
 * a touch). */
enum sim_card_status sim_card_status(sim_card_t *card);

/* Any thread: asks the running APDU to give up as soon as it can (a
 * pending touch wait ends with 6982).  Sticky until sim_card_arm(). */
void sim_card_cancel(sim_card_t *card);

/* Called before an APDU is handed to the worker, never while one runs:
 * forgets an earlier cancel.  Separate from sim_card_apdu() so that a
 * CANCEL arriving before the worker starts is not lost. */
void sim_card_arm(sim_card_t *card);

/*
 * For applets, inside sim_card_apdu(): the user presence check.  Shows
 * SIM_CARD_UPNEEDED through sim_card_status() while it waits, and
 * returns as --touch decides, or SIM_TOUCH_CANCELLED as soon as
 * sim_card_cancel() is called.
 */
enum sim_touch_result sim_card_wait_touch(sim_card_t *card);

/* The same with a limit: SIM_TOUCH_TIMEOUT when the simulated user has
 * not answered within timeout_ms (--touch never, or MS > timeout_ms). */
enum sim_touch_result sim_card_wait_touch_for(sim_card_t *card,
    int timeout_ms);

/* The port another application of the device (the FIDO authenticator)
 * waits through: the same user, status and cancel flag as the card's, so
 * that CTAPHID's KEEPALIVE and CANCEL reach it. */
void sim_card_touch_port(sim_card_t *card, struct sim_touch_port *port);

extern const struct sim_card_ops sim_card_ops;

#endif
