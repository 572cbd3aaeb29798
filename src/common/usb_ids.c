/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ifd-openloop: USB ID parsing.  See usb_ids.h.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>

#include "hexutil.h"
#include "ol_err.h"
#include "usb_ids.h"

/* n hex digits at s, no more, no fewer */
static int
hex_field(const char *s, size_t n, uint16_t *out)
{
	unsigned v = 0;
	int h;

	for (size_t i = 0; i < n; i++) {
		if ((h = ol_hexval(s[i])) < 0)
			return OL_ERR_ARG;
		v = v << 4 | (unsigned)h;
	}
	*out = (uint16_t)v;
	return OL_OK;
}

int
ol_usb_id_parse(const char *s, size_t len, struct ol_usb_id *id)
{
	struct ol_usb_id t;

	if (s == NULL || id == NULL || len != 9 || s[4] != ':' ||
	    hex_field(s, 4, &t.vid) != OL_OK ||
	    hex_field(s + 5, 4, &t.pid) != OL_OK || t.vid == 0)
		return OL_ERR_ARG;
	*id = t;
	return OL_OK;
}

int
ol_usb_id_parse_list(const char *s, struct ol_usb_id *ids, size_t cap,
    size_t *n)
{
	struct ol_usb_id id;
	const char *comma;
	size_t len, count = 0;
	int e = OL_OK;

	if (n != NULL)
		*n = 0;
	if (s == NULL || n == NULL || (ids == NULL && cap > 0))
		return OL_ERR_ARG;
	if (*s == '\0')
		return OL_OK;
	for (;;) {
		comma = strchr(s, ',');
		len = comma != NULL ? (size_t)(comma - s) : strlen(s);
		if (ol_usb_id_parse(s, len, &id) != OL_OK)
			return OL_ERR_ARG;
		if (count < cap)
			ids[count++] = id;
		else
			e = OL_ERR_TOO_LONG; /* keep checking the rest */
		if (comma == NULL)
			break;
		s = comma + 1;
	}
	*n = count;
	return e;
}

/* "0x" and one to four hex digits */
static int
plist_field(const char *s, uint16_t *out)
{
	size_t n;

	if (s == NULL || s[0] != '0' || (s[1] != 'x' && s[1] != 'X'))
		return OL_ERR_ARG;
	n = strlen(s + 2);
	if (n < 1 || n > 4)
		return OL_ERR_ARG;
	return hex_field(s + 2, n, out);
}

int
ol_usb_id_from_plist(const char *vid, const char *pid, struct ol_usb_id *id)
{
	struct ol_usb_id t;

	if (id == NULL || plist_field(vid, &t.vid) != OL_OK ||
	    plist_field(pid, &t.pid) != OL_OK || t.vid == 0)
		return OL_ERR_ARG;
	*id = t;
	return OL_OK;
}
