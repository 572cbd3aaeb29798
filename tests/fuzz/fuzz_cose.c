/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Fuzz target: COSE keys (src/sim/fido/cose.c) as the platform sends its
 * PIN-protocol key agreement key: one CBOR item per input.
 *
 * Whatever the input: a refused key gives a CTAP2 error; an accepted one
 * encodes again (canonical) and that decodes to the same coordinates.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cose.h"
#include "fido_auth.h"
#include "fido_cbor.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	cbor_item_t *item = NULL, *again = NULL, *back = NULL;
	uint8_t x[32], y[32], xy[64], x2[32], y2[32], buf[256];
	size_t n;

	if (fc_decode(data, size, &item) != CTAP2_OK)
		return 0;
	if (cose_decode_ecdh(item, x, y) != CTAP2_OK)
		goto out;
	memcpy(xy, x, 32);
	memcpy(xy + 32, y, 32);
	if ((again = cose_encode(COSE_ES256, COSE_ECDH_ES_HKDF_256, xy,
	    sizeof(xy))) == NULL ||
	    (n = fc_encode(again, buf, sizeof(buf))) == 0 ||
	    fc_decode(buf, n, &back) != CTAP2_OK ||
	    cose_decode_ecdh(back, x2, y2) != CTAP2_OK ||
	    memcmp(x, x2, 32) != 0 || memcmp(y, y2, 32) != 0)
		abort();
out:
	if (back != NULL)
		cbor_decref(&back);
	if (again != NULL)
		cbor_decref(&again);
	cbor_decref(&item);
	return 0;
}
