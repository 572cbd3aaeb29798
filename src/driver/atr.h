/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ifd-openloop: the ATR the reader reports for the always-present card.
 * The device has no ATR of its own (it speaks APDUs over CTAPHID), so we
 * synthesize a valid ISO 7816-3 one: T=1, TCK, and historical bytes that
 * name Openloop in compact-TLV form.  See docs/transport.md.
 */
#ifndef OL_ATR_H
#define OL_ATR_H

#include <stddef.h>
#include <stdint.h>

#define OL_ATR_MAX 33

/* Writes the ATR into out (cap >= its length); returns its length or
 * OL_ERR_ARG. */
int ol_atr_build(uint8_t *out, size_t cap);

/* Checks an ATR's structure (TS, T0, interface bytes, historical bytes,
 * TCK).  OL_OK or OL_ERR_PROTOCOL.  Used by tests and by openloop-hid. */
int ol_atr_check(const uint8_t *atr, size_t len);

#endif
