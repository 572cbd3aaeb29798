/*
 * ifd-openloop: the reader's "PIN pad" (PC/SC v2 part 10
 * FEATURE_VERIFY_PIN_DIRECT), which is the device's own confirmation.
 *
 * Openloop has a screen: without a PIN sent over USB, every private-key
 * operation waits for the user's touch on the device (the vendor's dual
 * mode).  Announcing a PIN pad lets PKCS#11 applications that always log in
 * (ssh, Firefox, GnuTLS through OpenSC) defer the login to the reader: we
 * answer the keypad VERIFY as done, no PIN crosses USB, and the device then
 * asks for a touch at each operation.  A PIN typed into the application
 * still goes to the card as a plain VERIFY (blind signing).
 */
#ifndef OL_PINPAD_H
#define OL_PINPAD_H

#include <stddef.h>
#include <stdint.h>

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

/* PIN_PROPERTIES_STRUCTURE (FEATURE_IFD_PIN_PROPERTIES): no display, entry
 * validated by the device.  Returns bytes written or OL_ERR_TOO_LONG. */
int ol_pinpad_properties(uint8_t *out, size_t cap);

#endif
