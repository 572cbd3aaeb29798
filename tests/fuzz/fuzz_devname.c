/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Fuzz target: pcscd's DEVICENAME strings (src/driver/devname.c). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "devname.h"
#include "ol_err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ol_devname dev;
	const char *why = NULL;
	char *name;

	if ((name = malloc(size + 1)) == NULL)
		return 0;
	memcpy(name, data, size);
	name[size] = '\0';
	if (ol_devname_parse(name, &dev, &why) == OL_OK) {
		/* what was parsed must be a terminated string */
		if (strlen(dev.path) >= sizeof(dev.path))
			abort();
	} else if (why == NULL)
		abort();
	free(name);
	return 0;
}
