/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ifd-openloop simulator: the PIV applet (NIST SP 800-73-4 part 2, card
 * side) of the virtual Openloop, modelled on the vendor guide: keys in
 * 9A/9C/9D/9E (P-256, Ed25519 0x22, RSA-2048 on model C), the PIN and
 * PUK, the 9B management key, data objects, and the "dual mode": a
 * private-key operation without a verified PIN waits for a touch.
 *
 * The card (sim_card.c) owns one applet.  It hands over whole commands:
 * command chaining is assembled and long responses are split (61xx, GET
 * RESPONSE) by the card.  All calls come from the thread that runs
 * sim_card_apdu(), or from any thread while no APDU runs (reset, free).
 * Model and assumptions: docs/simulator.md.
 */
#ifndef OL_PIV_APPLET_H
#define OL_PIV_APPLET_H

#include <stddef.h>
#include <stdint.h>

#include "piv_state.h"
#include "piv_timing.h"
#include "apdu.h"
#include "iso7816.h"
#include "sim_touch.h"

/* SP 800-73-4 part 1, 2.2: the PIV AID with its version */
#define PIV_AID_LEN 11
extern const uint8_t piv_aid[PIV_AID_LEN];

typedef struct piv_applet piv_applet_t;

/*
 * A new applet in the state *st (copied).  With state_path not NULL every
 * change of persistent state (PIN, tries, keys, objects) is written there
 * at once with piv_state_save().  TOUCH is how the applet waits for the user
 * (the card provides it; copied).
 */
int piv_applet_new(const struct sim_touch_port *touch, const struct piv_state *st,
    const char *state_path, piv_applet_t **out);
void piv_applet_free(piv_applet_t **applet);

/* How long key generation and private-key operations take (default:
 * PIV_TIMING_INSTANT).  Never while an APDU runs. */
void piv_applet_set_timing(piv_applet_t *applet, enum piv_timing timing);

/* A new session (card reset, new CTAPHID channel): forgets the verified
 * PIN, the management-key authentication and a pending challenge. */
void piv_applet_reset(piv_applet_t *applet);

/* SELECT by the PIV AID: the application property template. */
uint16_t piv_applet_select(piv_applet_t *applet, const struct sim_apdu *apdu,
    struct sim_resp *resp);

/* Any other command while the applet is selected; ISO_SW_INS_NOT_SUPPORTED
 * for instructions it does not know. */
uint16_t piv_applet_process(piv_applet_t *applet,
    const struct sim_apdu *apdu, struct sim_resp *resp);

/* The persistent state as it is now (tests). */
const struct piv_state *piv_applet_state(const piv_applet_t *applet);

/*
 * A PIN or PUK as the card stores and compares it: 6 to 8 bytes, none of
 * them 0xFF, padded with 0xFF to 8.  OL_ERR_ARG for anything else.  Used
 * for --pin/--puk, so that the command line and VERIFY agree.
 */
int piv_pin_format(const char *text, uint8_t out[PIV_PIN_MAX]);

/* Whether an 8-byte reference value sent by a host is well formed. */
int piv_pin_valid(const uint8_t pin[PIV_PIN_MAX]);

#endif
