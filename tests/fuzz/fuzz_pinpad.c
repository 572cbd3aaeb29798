/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Fuzz target: PC/SC part 10 PIN_VERIFY_STRUCTURE from any application,
 * then the keypad VERIFY policy fed with status words and errors taken
 * from the input's last bytes, as a device would answer
 * (src/driver/pinpad.c). */
#include <stdint.h>
#include <stdlib.h>

#include "ol_err.h"
#include "ol_log.h"
#include "pinpad.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* the refusals are logged on every other input: millions of lines */
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
	struct ol_pin_verify pv;
	struct ol_pad_step step;
	struct ol_pad pad;
	size_t i = size, steps = 0;
	int more, err;
	uint16_t sw;

	ol_log_set_sink(quiet);
	if (ol_pinpad_parse_verify(data, size, &pv) != OL_OK)
		return 0;
	if (pv.apdu < data || pv.apdu + pv.apdu_len != data + size ||
	    pv.apdu_len < 4 || pv.apdu[1] != 0x20)
		abort(); /* the template must be the tail of the input */
	more = ol_pad_start(&pad, &pv, &step);
	while (more) {
		if (step.apdu_len != 4 || ++steps > 2)
			abort(); /* VERIFY ON DEVICE, then at most a logout */
		sw = i >= 2 ? (uint16_t)(data[i - 2] << 8 | data[i - 1]) : 0;
		err = i >= 3 && data[i - 3] < 12 ? -(int)data[i - 3] : OL_OK;
		i = i >= 3 ? i - 3 : 0;
		more = ol_pad_answer(&pad, err, sw, &step);
	}
	/* 90 00 only when the device said 90 00 to the verification */
	if (pad.err == OL_OK && pad.sw == 0x9000 && steps != 1)
		abort();
	return 0;
}
