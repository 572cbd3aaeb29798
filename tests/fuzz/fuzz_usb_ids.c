/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Fuzz target: the USB ID parser (src/common/usb_ids.c) on configure's
 * lists and on Info.plist entries.  The input is one list; split at its
 * first NUL it is also a vendor and a product entry of an Info.plist.
 * Whatever parses must print back to the same IDs.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ol_err.h"
#include "usb_ids.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_IDS 16

static void
check_list(const char *s)
{
	struct ol_usb_id ids[MAX_IDS], again;
	char one[16];
	size_t n = 99, i;
	int r;

	r = ol_usb_id_parse_list(s, ids, MAX_IDS, &n);
	if (r != OL_OK) {
		if (r == OL_ERR_ARG && n != 0)
			abort();
		return;
	}
	if (n > MAX_IDS)
		abort();
	for (i = 0; i < n; i++) {
		if (ids[i].vid == 0)
			abort();    /* vendor 0000 is refused */
		snprintf(one, sizeof(one), "%04x:%04x", ids[i].vid,
		    ids[i].pid);
		if (ol_usb_id_parse(one, strlen(one), &again) != OL_OK ||
		    again.vid != ids[i].vid || again.pid != ids[i].pid)
			abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ol_usb_id id;
	char *s, *pid;
	size_t vlen;

	if ((s = malloc(size + 2)) == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	s[size + 1] = '\0';
	check_list(s);
	/* exactly the bytes given: no read past len */
	(void)ol_usb_id_parse((const char *)data, size, &id);
	vlen = strlen(s);
	pid = s + vlen + (vlen < size ? 1 : 0);
	if (ol_usb_id_from_plist(s, pid, &id) == OL_OK && id.vid == 0)
		abort();
	free(s);
	return 0;
}
