/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Fuzz target: U2F messages (src/sim/fido/u2f.c), one ISO 7816-4 APDU per
 * input, through sim_fido_msg().  The user approves every touch at once.
 *
 * Whatever the input: a response of data || SW within the buffer; any
 * SW but 9000 carries no data.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

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
	size_t len = 0;

	if (fido == NULL) {
		ol_log_set_mask(0);
		memset(&cfg, 0, sizeof(cfg));
		if (sim_fido_new(&cfg, &fido) != OL_OK)
			abort();
	}
	if (sim_fido_msg(fido, data, size, resp, sizeof(resp), &len) != OL_OK)
		abort();
	if (len < 2 || len > sizeof(resp))
		abort();
	if ((resp[len - 2] != 0x90 || resp[len - 1] != 0x00) && len != 2)
		abort();
	return 0;
}
