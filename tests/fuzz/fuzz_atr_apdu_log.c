/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Fuzz target: ATR validation and APDU log formatting, both fed with
 * bytes an application or a device chose (src/driver/atr.c, apdu_log.c). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "apdu_log.h"
#include "atr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char line[256], tiny[7];

	(void)ol_atr_check(data, size);
	ol_apdu_format_command(data, size, line, sizeof(line));
	if (strlen(line) >= sizeof(line))
		abort();
	ol_apdu_format_command(data, size, tiny, sizeof(tiny));
	ol_apdu_format_response(data, size, ol_apdu_is_sensitive(data, size),
	    line, sizeof(line));
	ol_apdu_format_response(data, size, 1, tiny, sizeof(tiny));
	if (strlen(tiny) >= sizeof(tiny))
		abort();
	return 0;
}
