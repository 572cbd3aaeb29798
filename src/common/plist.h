/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ifd-openloop: Info.plist read the way pcscd reads it (pcsc-lite's
 * tokenparser): line based, each <key> and each non-empty <string> on a
 * line of its own, keys of [A-Za-z0-9_], values kept verbatim except that
 * &amp; becomes &.  <array> lists are collected under the preceding key.
 *
 * Note: pcscd's own key rule is [A-Za-z0-9 \t]+ (no '_', spaces kept);
 * plist.c follows pcscd and refuses a <key> line it would drop.
 * ol_plist_load() may also return OL_ERR_TOO_LONG (over 1 MiB),
 * OL_ERR_PERMISSION and OL_ERR_IO; both functions OL_ERR_ARG on NULL.
 */
#ifndef OL_PLIST_H
#define OL_PLIST_H

#include <stddef.h>

typedef struct ol_plist ol_plist_t;

/* Parses text of len bytes.  OL_OK, OL_ERR_NOMEM, OL_ERR_PROTOCOL (a
 * <string> before any <key>, a key with illegal characters, too many
 * entries). */
int ol_plist_parse(const char *text, size_t len, ol_plist_t **out);
int ol_plist_load(const char *path, ol_plist_t **out); /* + OL_ERR_NO_DEVICE if absent */
void ol_plist_free(ol_plist_t **plist);

/* Number of values of key (0 if absent) and value number idx, or NULL. */
size_t ol_plist_count(const ol_plist_t *plist, const char *key);
const char *ol_plist_get(const ol_plist_t *plist, const char *key,
    size_t idx);

/* First value of key parsed as a number (decimal, or hex with 0x);
 * returns def if absent or malformed. */
long ol_plist_get_long(const ol_plist_t *plist, const char *key, long def);

#endif
