/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ifd-openloop simulator: the user in front of the device.  Both halves of
 * the device (the PIV card, the FIDO authenticator) ask for a touch
 * through this one model, as --touch sets it.  Values and the port an
 * application waits through; the wait itself runs where the cancel flag
 * and the status live (sim_card.c today).
 */
#ifndef OL_SIM_TOUCH_H
#define OL_SIM_TOUCH_H

/* What the simulated user does when the device asks for a touch. */
enum sim_touch_mode {
	SIM_TOUCH_APPROVE,   /* at once */
	SIM_TOUCH_AFTER,     /* approve after touch_ms */
	SIM_TOUCH_DENY,      /* deny after SIM_TOUCH_DENY_MS (reading the screen) */
	SIM_TOUCH_NEVER,     /* nobody there: wait until the host cancels */
};

#define SIM_TOUCH_DEFAULT_MS 500
#define SIM_TOUCH_DENY_MS    200
#define SIM_TOUCH_MAX_MS     600000

enum sim_touch_result {
	SIM_TOUCH_APPROVED,
	SIM_TOUCH_DENIED,
	SIM_TOUCH_CANCELLED,  /* sim_card_cancel() during the wait */
	SIM_TOUCH_TIMEOUT,    /* nobody touched within the caller's limit */
};

/* How an application asks for a touch without knowing who runs it. */
struct sim_touch_port {
	enum sim_touch_result (*wait)(void *ctx);
	/* the same with a limit (CTAP2: 30 s): SIM_TOUCH_TIMEOUT when the
	 * user has not answered within timeout_ms (never, or after MS >
	 * timeout_ms); optional for applications that do not need it */
	enum sim_touch_result (*wait_for)(void *ctx, int timeout_ms);
	void *ctx;
};

#endif
