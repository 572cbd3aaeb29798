/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ifd-openloop simulator: how long the device's secure element takes.
 * The vendor states one figure (RSA-2048 key generation: about 10 s); the
 * others are assumptions for a secure element of its class, written down
 * in docs/simulator.md ("Timing").  With the device timing a slow
 * operation keeps the card busy for that long, so the CTAPHID layer sends
 * KEEPALIVE (processing) meanwhile, as the device does; with the instant
 * timing (unit tests, fuzzing) only the real computation counts.
 */
#ifndef OL_PIV_TIMING_H
#define OL_PIV_TIMING_H

#include <stdint.h>

enum piv_timing {
	PIV_TIMING_INSTANT,
	PIV_TIMING_DEVICE,
};

enum piv_op {
	PIV_OP_GENERATE,     /* GENERATE ASYMMETRIC KEY PAIR */
	PIV_OP_PRIVATE,      /* a signature, RSA decryption or ECDH */
};

/* The modelled duration in ms of op with algorithm alg (PIV_ALG_*); 0 for
 * PIV_TIMING_INSTANT or an algorithm the table does not know. */
int piv_timing_ms(enum piv_timing timing, enum piv_op op, uint8_t alg);

/* Sleeps until piv_timing_ms() has passed since started (ol_now_ms()). */
void piv_timing_pace(enum piv_timing timing, enum piv_op op, uint8_t alg,
    int64_t started);

/* "device" or "instant" to the enum; -1 for anything else. */
int piv_timing_parse(const char *name, enum piv_timing *out);

#endif
