/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Fuzz target: the simulated card's APDU parser and dispatcher
 * (src/sim/piv/sim_card.c): every command APDU a host may send. */
#include <stdint.h>
#include <stdlib.h>

#include "ctaphid.h"
#include "ol_err.h"
#include "ol_log.h"
#include "sim_card.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
quiet(unsigned category, const struct ol_log_origin *origin,
    const char *msg)
{
	(void)origin;
	(void)category;
	(void)msg;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t resp[CTAPHID_MAX_MSG];
	struct sim_apdu apdu;
	sim_card_t *card = NULL;
	size_t len = 0;

	ol_log_set_sink(quiet);
	if (sim_apdu_parse(data, size, &apdu) == OL_OK &&
	    (apdu.lc > size || (apdu.lc > 0 && (apdu.data < data ||
	    apdu.data + apdu.lc > data + size))))
		abort(); /* the parsed data must lie inside the input */
	if (sim_card_new(&card) != OL_OK)
		return 0;
	sim_card_arm(card);
	if (sim_card_apdu(card, data, size, resp, sizeof(resp), &len) ==
	    OL_OK && (len < 2 || len > sizeof(resp)))
		abort(); /* every answer ends with a status word */
	sim_card_free(&card);
	return 0;
}
