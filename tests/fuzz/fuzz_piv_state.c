/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Fuzz target: the PIV state file decoder (src/sim/piv/piv_state.c).
 *
 * Whatever the input: a refused file leaves exactly a fresh state; an
 * accepted one encodes again, and that encoding decodes to the same state
 * byte for byte and re-encodes to the same bytes (the encoding is
 * canonical), so no field is lost or changed on the way.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ol_err.h"
#include "piv_state.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* static: a state is about 140 KiB */
static struct piv_state a, b, fresh;

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *enc = NULL, *enc2 = NULL;
	size_t len = 0, len2 = 0;
	int r;

	piv_state_init(&fresh, PIV_MODEL_A, "FUZZ");
	piv_state_init(&a, PIV_MODEL_A, "FUZZ");
	a.keys[0].alg = PIV_ALG_P256; /* must not survive a failure */
	a.keys[0].der_len = 1;
	r = piv_state_decode(data, size, &a);
	if (r != OL_OK) {
		if (r != OL_ERR_PROTOCOL && r != OL_ERR_NOMEM)
			abort();
		if (memcmp(&a, &fresh, sizeof(a)) != 0)
			abort(); /* partially filled */
		return 0;
	}
	if (piv_state_encode(&a, &enc, &len) != OL_OK)
		abort(); /* decoded a state the encoder calls invalid */
	piv_state_init(&b, PIV_MODEL_C, "OTHER");
	if (piv_state_decode(enc, len, &b) != OL_OK)
		abort();
	if (memcmp(&a, &b, sizeof(a)) != 0)
		abort(); /* not a round trip */
	if (piv_state_encode(&b, &enc2, &len2) != OL_OK || len2 != len ||
	    memcmp(enc, enc2, len) != 0)
		abort(); /* not canonical */
	explicit_bzero(enc, len);
	free(enc);
	explicit_bzero(enc2, len2);
	free(enc2);
	piv_state_clear(&a);
	piv_state_clear(&b);
	return 0;
}
