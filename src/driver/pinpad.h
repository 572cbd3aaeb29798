/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ifd-openloop: the reader's "PIN pad" (PC/SC v2 part 10
 * FEATURE_VERIFY_PIN_DIRECT), which is the device itself.
 *
 * Openloop has a screen: without a PIN sent over USB, every private-key
 * operation waits for the user's touch on the device (the vendor's dual
 * mode).  Announcing a PIN pad lets PKCS#11 applications that always log in
 * (ssh, Firefox, GnuTLS through OpenSC) log in on the device: a keypad
 * VERIFY becomes the device's VERIFY ON DEVICE (80 20 00 80), where the
 * user types the PIN on the device's screen (or confirms, on a device
 * without a PIN), and the device's status word is the pad's answer.  No
 * PIN crosses USB and each operation then asks for its touch.  A PIN typed
 * into the application still goes to the card as a plain VERIFY (blind
 * signing).  The model: docs/transport.md, "The device as PIN pad".
 */
#ifndef OL_PINPAD_H
#define OL_PINPAD_H

#include <stddef.h>
#include <stdint.h>

#include "iso7816.h"

/* PIN_VERIFY_STRUCTURE up to and including ulDataLength */
#define OL_PIN_VERIFY_HEADER 19

struct ol_pin_verify {
	uint8_t timeout;             /* bTimerOut, seconds, 0 = default */
	uint8_t min_len, max_len;    /* from wPINMaxExtraDigit */
	const uint8_t *apdu;         /* abData: the VERIFY template */
	size_t apdu_len;
};

/* Parses a PIN_VERIFY_STRUCTURE: OL_OK, or OL_ERR_PROTOCOL if it is
 * short, its ulDataLength disagrees with len, or abData is not a VERIFY
 * command APDU (CLA INS=20 P1 P2 at least). */
int ol_pinpad_parse_verify(const uint8_t *buf, size_t len,
    struct ol_pin_verify *out);

/*
 * The keypad VERIFY as pure logic over the parsed structure and the card's
 * answers, so that every case is testable without a device.  Use:
 *
 *	struct ol_pad_step step;
 *	struct ol_pad pad;
 *	int more = ol_pad_start(&pad, &pv, &step);
 *	while (more)
 *		more = ol_pad_answer(&pad, send(step.apdu, step.apdu_len,
 *		    step.user_timeout_s, &sw), sw, &step);
 *	then pad.err != OL_OK: report that error; else answer pad.sw.
 *
 * The application gets 90 00 only when the device said 90 00 to VERIFY ON
 * DEVICE, i.e. when the card's PIN is now verified (on the device).  Any
 * other outcome is followed by a PIV logout, so that the card holds no
 * verified PIN (an earlier blind one included) while the application
 * believes its login failed.
 */
#define OL_PAD_SW_TIMEOUT    ISO_SW_PINPAD_TIMEOUT   /* no entry in time */
#define OL_PAD_SW_CANCELLED  ISO_SW_PINPAD_CANCELLED /* the user cancelled */
#define OL_PAD_SW_WRONG_P1P2 ISO_SW_INCORRECT_P1P2

struct ol_pad_step {
	uint8_t apdu[4];
	size_t apdu_len;
	/* the longest wait for the user, seconds; 0 = the reader's
	 * default (ifdUserConfirmationTimeout) */
	unsigned user_timeout_s;
};

struct ol_pad {
	int state;              /* private */
	uint16_t sw;            /* for the application, when done */
	int err;                /* OL_OK, or a transport error to report */
	uint16_t failed_sw;     /* private */
	int failed_err;         /* private */
	int logout_refused;     /* the card may still hold a verified PIN */
};

/* 1 and the first step to send, or 0 when answered at once (pad->sw). */
int ol_pad_start(struct ol_pad *pad, const struct ol_pin_verify *req,
    struct ol_pad_step *next);

/* The result of the step just sent: its transport error (OL_OK if the
 * card answered) and status word.  1 and the next step, or 0 when done. */
int ol_pad_answer(struct ol_pad *pad, int err, uint16_t sw,
    struct ol_pad_step *next);

/* PIN_PROPERTIES_STRUCTURE (FEATURE_IFD_PIN_PROPERTIES): no display, entry
 * validated by the device.  Returns bytes written or OL_ERR_TOO_LONG. */
int ol_pinpad_properties(uint8_t *out, size_t cap);

#endif
