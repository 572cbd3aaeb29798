/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ifd-openloop: strings from a device, made safe for logs and terminals. */
#ifndef OL_PRINTABLE_H
#define OL_PRINTABLE_H

/* Replaces every byte outside printable ASCII with '?', in place; a space
 * is kept when keep_space is non-zero (product names have them, serial
 * numbers do not).  A device cannot then forge log lines or send escape
 * sequences to a terminal. */
void ol_make_printable(char *s, int keep_space);

/* 1 if s is not empty and is printable ASCII without spaces: a USB serial
 * string a real device could have. */
int ol_is_printable_token(const char *s);

#endif
