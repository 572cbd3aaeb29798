/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ifd-openloop: strings from a device, made safe for logs and terminals. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stddef.h>

#include "printable.h"

static int
is_printable(unsigned char c, int keep_space)
{
	return (c > 0x20 && c < 0x7f) || (keep_space && c == 0x20);
}

void
ol_make_printable(char *s, int keep_space)
{
	if (s == NULL)
		return;
	for (; *s != '\0'; s++)
		if (!is_printable((unsigned char)*s, keep_space))
			*s = '?';
}

int
ol_is_printable_token(const char *s)
{
	if (s == NULL || *s == '\0')
		return 0;
	for (; *s != '\0'; s++)
		if (!is_printable((unsigned char)*s, 0))
			return 0;
	return 1;
}
