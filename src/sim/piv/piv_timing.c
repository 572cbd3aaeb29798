/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The secure element's speed, as a table.  Sources: the vendor guide for
 * RSA-2048 key generation; the rest are stated assumptions (see
 * docs/simulator.md, "Timing") until someone measures a device.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stdint.h>
#include <string.h>

#include "piv_state.h"
#include "piv_timing.h"
#include "timeutil.h"

struct op_time {
	uint8_t alg;
	int generate_ms;
	int private_ms;
};

static const struct op_time table[] = {
	{ PIV_ALG_RSA2048, 10000, 450 },  /* vendor: keygen about 10 s */
	{ PIV_ALG_P256,      250, 100 },
	{ PIV_ALG_ED25519,   250, 100 },
};

int
piv_timing_ms(enum piv_timing timing, enum piv_op op, uint8_t alg)
{
	size_t i;

	if (timing != PIV_TIMING_DEVICE)
		return 0;
	for (i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		if (table[i].alg == alg)
			return op == PIV_OP_GENERATE ? table[i].generate_ms :
			    table[i].private_ms;
	return 0;
}

void
piv_timing_pace(enum piv_timing timing, enum piv_op op, uint8_t alg,
    int64_t started)
{
	int ms = piv_timing_ms(timing, op, alg), left;

	if (ms <= 0)
		return;
	left = ol_ms_left(started + ms);
	if (left > 0)
		ol_sleep_ms(left);
}

int
piv_timing_parse(const char *name, enum piv_timing *out)
{
	if (name == NULL || out == NULL)
		return -1;
	if (strcmp(name, "device") == 0)
		*out = PIV_TIMING_DEVICE;
	else if (strcmp(name, "instant") == 0)
		*out = PIV_TIMING_INSTANT;
	else
		return -1;
	return 0;
}
