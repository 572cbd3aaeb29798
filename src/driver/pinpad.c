/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Parsing of PC/SC part 10 PIN pad structures.  The bytes come from any
 * PC/SC application through SCardControl(): every length is checked.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "ol_err.h"
#include "ol_log.h"
#include "iso7816.h"
#include "pinpad.h"

/* PIV's application PIN, the only reference the device verifies itself */
#define PIV_REF_PIN 0x80

enum pad_state {
	PAD_VERIFYING,   /* VERIFY ON DEVICE sent */
	PAD_LOGGING_OUT, /* it failed: logout sent */
	PAD_DONE,
};

static const uint8_t verify_on_device[] = { 0x80, 0x20, 0x00, PIV_REF_PIN };
static const uint8_t piv_logout[] = { 0x00, 0x20, 0xff, PIV_REF_PIN };

static void
step_set(struct ol_pad_step *step, const uint8_t *apdu, size_t len,
    unsigned user_timeout_s)
{
	memcpy(step->apdu, apdu, len);
	step->apdu_len = len;
	step->user_timeout_s = user_timeout_s;
}

static int
pad_done(struct ol_pad *pad, int err, uint16_t sw)
{
	pad->state = PAD_DONE;
	pad->err = err;
	pad->sw = sw;
	return 0;
}

int
ol_pinpad_parse_verify(const uint8_t *buf, size_t len,
    struct ol_pin_verify *out)
{
	uint32_t data_len;

	if (buf == NULL || out == NULL || len < OL_PIN_VERIFY_HEADER)
		return OL_ERR_PROTOCOL;
	memset(out, 0, sizeof(*out));
	/* part 10 structures are little-endian and packed */
	data_len = (uint32_t)buf[15] | (uint32_t)buf[16] << 8 |
	    (uint32_t)buf[17] << 16 | (uint32_t)buf[18] << 24;
	if (data_len != len - OL_PIN_VERIFY_HEADER || data_len < 4)
		return OL_ERR_PROTOCOL;
	out->apdu = buf + OL_PIN_VERIFY_HEADER;
	out->apdu_len = data_len;
	if (out->apdu[1] != 0x20)
		return OL_ERR_PROTOCOL; /* only VERIFY goes through the pad */
	out->timeout = buf[0];
	/* wPINMaxExtraDigit: 0xXXYY, XX minimum and YY maximum */
	out->max_len = buf[5];
	out->min_len = buf[6];
	return OL_OK;
}

int
ol_pad_start(struct ol_pad *pad, const struct ol_pin_verify *req,
    struct ol_pad_step *next)
{
	memset(pad, 0, sizeof(*pad));
	memset(next, 0, sizeof(*next));
	/* The device verifies PIV's application PIN (00 20 00 80) and
	 * nothing else; say so before touching the card's state. */
	if (req->apdu == NULL || req->apdu_len < 4 || req->apdu[0] != 0x00 ||
	    req->apdu[2] != 0x00 || req->apdu[3] != PIV_REF_PIN) {
		ol_log(OL_LOG_CRITICAL, "PIN pad: only the PIV PIN (reference "
		    "80) is verified on the device; refused");
		return pad_done(pad, OL_OK, OL_PAD_SW_WRONG_P1P2);
	}
	pad->state = PAD_VERIFYING;
	step_set(next, verify_on_device, sizeof(verify_on_device),
	    req->timeout);
	return 1;
}

/* After a failed verification: the card must hold no verified PIN. */
static int
logout_next(struct ol_pad *pad, int err, uint16_t sw,
    struct ol_pad_step *next)
{
	pad->failed_err = err;
	pad->failed_sw = sw;
	pad->state = PAD_LOGGING_OUT;
	step_set(next, piv_logout, sizeof(piv_logout), 0);
	return 1;
}

static void
log_failure(uint16_t sw)
{
	switch (sw) {
	case OL_PAD_SW_TIMEOUT:
		ol_log(OL_LOG_CRITICAL, "PIN pad: nothing entered on the "
		    "device in time; confirm on the device when it asks");
		break;
	case OL_PAD_SW_CANCELLED:
		ol_log(OL_LOG_INFO, "PIN pad: cancelled on the device");
		break;
	case ISO_SW_AUTH_BLOCKED:
		ol_log(OL_LOG_CRITICAL, "PIN pad: the PIN is blocked; unblock "
		    "it with the PUK or clear it on the device");
		break;
	case ISO_SW_INS_NOT_SUPPORTED:
	case ISO_SW_CLA_NOT_SUPPORTED:
		ol_log(OL_LOG_CRITICAL, "PIN pad: the device cannot verify "
		    "on its screen (SW %04X); update its firmware, or use "
		    "the PIN mode (opensc-pin-mode.conf)", (unsigned)sw);
		break;
	default:
		if ((sw & 0xfff0) == ISO_SW_VERIFY_FAIL)
			ol_log(OL_LOG_INFO, "PIN pad: wrong PIN entered on the "
			    "device, %u tries left", (unsigned)(sw & 0x0f));
		else
			ol_log(OL_LOG_CRITICAL, "PIN pad: the device refused "
			    "the verification (SW %04X)", (unsigned)sw);
		break;
	}
}

int
ol_pad_answer(struct ol_pad *pad, int err, uint16_t sw,
    struct ol_pad_step *next)
{
	memset(next, 0, sizeof(*next));
	switch (pad->state) {
	case PAD_VERIFYING:
		if (err == OL_OK && sw == ISO_SW_OK) {
			ol_log(OL_LOG_INFO, "PIN pad: verified on the device; "
			    "each private-key operation asks for a touch");
			return pad_done(pad, OL_OK, sw);
		}
		if (err == OL_ERR_GONE)
			return pad_done(pad, err, 0);
		/* a wait the reader cancelled is the pad's time-out */
		if (err == OL_ERR_USER_TIMEOUT) {
			err = OL_OK;
			sw = OL_PAD_SW_TIMEOUT;
		}
		if (err == OL_OK)
			log_failure(sw);
		return logout_next(pad, err, err == OL_OK ? sw : 0, next);
	case PAD_LOGGING_OUT:
		if (err != OL_OK || sw != ISO_SW_OK) {
			/* a PIN verified earlier may still be valid */
			pad->logout_refused = 1;
			ol_log(OL_LOG_CRITICAL, "PIN pad: the device refused "
			    "the logout after a failed verification (%s %04X)",
			    err == OL_OK ? "SW" : ol_strerror(err),
			    (unsigned)sw);
		}
		return pad_done(pad, pad->failed_err, pad->failed_sw);
	default:
		return pad_done(pad, pad->err, pad->sw);
	}
}

int
ol_pinpad_properties(uint8_t *out, size_t cap)
{
	if (out == NULL || cap < 4)
		return OL_ERR_TOO_LONG;
	out[0] = 0;     /* wLcdLayout: no display the host can drive */
	out[1] = 0;
	out[2] = 0x02;  /* bEntryValidationCondition: confirmed on the device */
	out[3] = 0;     /* bTimeOut2 */
	return 4;
}
