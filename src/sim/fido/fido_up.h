/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ifd-openloop simulator: the authenticator's test of user presence,
 * through the device's one touch model (sim_touch.h, --touch): the card's
 * wait, so that CTAPHID sends KEEPALIVE UPNEEDED meanwhile and CANCEL
 * ends it.  At most FIDO_UP_TIMEOUT_MS (30 s).  why is logged ("FIDO:
 * waiting for touch (why)") and must hold no secret.
 */
#ifndef OL_FIDO_UP_H
#define OL_FIDO_UP_H

#include <stdint.h>

#include "fido_auth.h"

/* CTAP2_OK, CTAP2_ERR_OPERATION_DENIED, CTAP2_ERR_USER_ACTION_TIMEOUT or
 * CTAP2_ERR_KEEPALIVE_CANCEL */
uint8_t fido_up(struct fido_auth *a, const char *why);

#endif
