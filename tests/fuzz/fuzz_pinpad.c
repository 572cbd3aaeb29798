/* Fuzz target: PC/SC part 10 PIN_VERIFY_STRUCTURE from any application
 * (src/driver/pinpad.c). */
#include <stdint.h>
#include <stdlib.h>

#include "ol_err.h"
#include "pinpad.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ol_pin_verify pv;

	if (ol_pinpad_parse_verify(data, size, &pv) == OL_OK &&
	    (pv.apdu < data || pv.apdu + pv.apdu_len != data + size ||
	    pv.apdu_len < 4 || pv.apdu[1] != 0x20))
		abort(); /* the template must be the tail of the input */
	return 0;
}
