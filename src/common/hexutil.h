/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ifd-openloop: hexadecimal digits, for parsers of names and arguments. */
#ifndef OL_HEXUTIL_H
#define OL_HEXUTIL_H

/* The value of one hex digit (either case), or -1. */
int ol_hexval(char c);

#endif
