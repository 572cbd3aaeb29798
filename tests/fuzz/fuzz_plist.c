/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Fuzz target: the Info.plist reader (src/common/plist.c). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ol_err.h"
#include "plist.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const keys[] = { "ifdVendorID", "ifdProductID",
	    "ifdFriendlyName", "ifdLogLevel", "CFBundleExecutable", "a" };
	ol_plist_t *plist = NULL;
	size_t i, j, n;
	const char *v;

	/* not NUL-terminated on purpose: the parser must honour size */
	if (ol_plist_parse((const char *)data, size, &plist) != OL_OK)
		return 0;
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		n = ol_plist_count(plist, keys[i]);
		for (j = 0; j <= n; j++) {
			v = ol_plist_get(plist, keys[i], j);
			if ((j < n) != (v != NULL))
				abort();
			if (v != NULL)
				(void)strlen(v);
		}
		(void)ol_plist_get_long(plist, keys[i], -1);
	}
	ol_plist_free(&plist);
	return 0;
}
