/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Fuzz target: the authenticator's CTAP2 request parser and commands
 * (src/sim/fido/ctap2.c and what it calls), one request per input: the
 * command byte, then CBOR.  The user approves every touch at once.
 *
 * Whatever the input: a response of at least the status byte that fits
 * the buffer; an error is the status byte alone; a success carries
 * nothing or exactly one well-formed CBOR map.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fido_auth.h"
#include "fido_cbor.h"
#include "ol_err.h"
#include "ol_log.h"
#include "sim_fido.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static sim_fido_t *fido;
static uint8_t resp[7609];

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sim_fido_config cfg;
	cbor_item_t *item = NULL;
	size_t len = 0;
	int r;

	if (fido == NULL) {
		ol_log_set_mask(0);
		memset(&cfg, 0, sizeof(cfg));  /* in memory; touch approved */
		if (sim_fido_new(&cfg, &fido) != OL_OK)
			abort();
	}
	r = sim_fido_cbor(fido, data, size, resp, sizeof(resp), &len);
	if (size == 0) {
		if (r != OL_ERR_ARG)
			abort();
		return 0;
	}
	if (r != OL_OK || len < 1 || len > sizeof(resp))
		abort();
	if (resp[0] != CTAP2_OK) {
		if (len != 1)
			abort();
		return 0;
	}
	if (len > 1) {
		if (fc_decode(resp + 1, len - 1, &item) != CTAP2_OK ||
		    !cbor_isa_map(item))
			abort();
		cbor_decref(&item);
	}
	return 0;
}
