/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Fuzz target: /proc/locks text (src/common/proc_locks.c).  The kernel
 * writes it, but the lines name other users' files and processes; the
 * parser must stay inside the bytes it was given whatever they say. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proc_locks.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* a private copy of exactly size bytes: a read past it is caught */
	char *text = malloc(size ? size : 1);
	long pid = -1;

	if (text == NULL)
		return 0;
	if (size > 0)
		memcpy(text, data, size);
	if (ol_proc_locks_flock_holder(text, size, 0, 5, 1234, &pid) == 1 &&
	    pid <= 0)
		abort();
	pid = -1;
	if (ol_proc_locks_flock_holder(text, size, 0xfe, 0, 10952723ULL,
	    &pid) == 1 && pid <= 0)
		abort();
	free(text);
	return 0;
}
