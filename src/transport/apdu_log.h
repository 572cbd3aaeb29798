/*
 * ifd-openloop: APDU logging that never shows secrets.  The data of
 * VERIFY (20), CHANGE REFERENCE DATA (24), RESET RETRY COUNTER (2C) and of
 * GENERAL AUTHENTICATE (87) with the management key (P2 = 9B), and the
 * response to that GENERAL AUTHENTICATE, are replaced by their length.
 */
#ifndef OL_APDU_LOG_H
#define OL_APDU_LOG_H

#include <stddef.h>
#include <stdint.h>

/* True if the data of this command APDU (and of its response) must not be
 * logged.  Looks at CLA/INS/P2 only; safe on any length. */
int ol_apdu_is_sensitive(const uint8_t *capdu, size_t len);

/*
 * Formats "C: 00 20 00 80 08 <8 bytes hidden>" (command) into out.
 * Returns out.  Non-sensitive APDUs are printed in full up to the size of
 * out, then truncated with "...".
 */
char *ol_apdu_format_command(const uint8_t *capdu, size_t len, char *out,
    size_t cap);

/* Formats a response; sensitive=1 hides the data but shows SW1 SW2. */
char *ol_apdu_format_response(const uint8_t *rapdu, size_t len,
    int sensitive, char *out, size_t cap);

#endif
