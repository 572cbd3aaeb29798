/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ifd-openloop: APDU logging that never shows secrets.  Headers, lengths
 * and status words are always shown; data only for what is known to be
 * public: SELECT, GET DATA of a public PIV object (and the GET RESPONSEs
 * that continue it), GENERATE's public key.  The rest is replaced by its
 * length (apdu_log.c says why).
 */
#ifndef OL_APDU_LOG_H
#define OL_APDU_LOG_H

#include <stddef.h>
#include <stdint.h>

/* True if the data of this command APDU must not be logged.  Safe on any
 * length. */
int ol_apdu_is_sensitive(const uint8_t *capdu, size_t len);

/* True if the data of the response to this command must not be logged.
 * A GET RESPONSE is always sensitive here: use ol_apdu_redactor, which
 * knows what it continues. */
int ol_apdu_response_is_sensitive(const uint8_t *capdu, size_t len);

/*
 * Decides, APDU after APDU on one device, whether a response's data may
 * be logged, following 61xx / GET RESPONSE chains per channel (a GET
 * RESPONSE shows data only if it continues a shown response of the same
 * channel, the APDU just before).  Call _command before logging a
 * command (it returns whether its response must be hidden) and
 * _response with each response.
 */
struct ol_apdu_redactor {
	uint32_t channel;       /* of the last command */
	int chain_public;       /* its response was shown and said 61xx */
	int hide_response;      /* for the command in flight */
};

void ol_apdu_redactor_init(struct ol_apdu_redactor *r);
int ol_apdu_redactor_command(struct ol_apdu_redactor *r, uint32_t channel,
    const uint8_t *capdu, size_t len);
void ol_apdu_redactor_response(struct ol_apdu_redactor *r,
    const uint8_t *rapdu, size_t len);

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
