/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Fuzz target: the FIDO state file decoder (src/sim/fido/cred_store.c).
 *
 * Whatever the input: a refused file leaves the state untouched; an
 * accepted one encodes again, and that encoding decodes to the same
 * state and re-encodes to the same bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cred_store.h"
#include "ol_err.h"
#include "ol_log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct fido_state a, b, before;

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *enc = NULL, *enc2 = NULL;
	size_t len = 0, len2 = 0;
	int r;

	ol_log_set_mask(0);
	memset(&a, 0x3c, sizeof(a));
	memcpy(&before, &a, sizeof(a));
	r = cred_store_decode(data, size, &a);
	if (r != OL_OK) {
		if (r != OL_ERR_PROTOCOL && r != OL_ERR_NOMEM)
			abort();
		if (memcmp(&a, &before, sizeof(a)) != 0)
			abort();
		return 0;
	}
	if (cred_store_encode(&a, &enc, &len) != OL_OK)
		abort();
	memset(&b, 0, sizeof(b));
	if (cred_store_decode(enc, len, &b) != OL_OK)
		abort();
	if (cred_store_encode(&b, &enc2, &len2) != OL_OK || len2 != len ||
	    memcmp(enc, enc2, len) != 0)
		abort();
	free(enc);
	free(enc2);
	cred_store_clear(&a);
	cred_store_clear(&b);
	return 0;
}
