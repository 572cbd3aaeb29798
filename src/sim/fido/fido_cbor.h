/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ifd-openloop simulator: the authenticator's CBOR, over libcbor.
 * Reading: typed look-ups in a decoded request map that say why they
 * failed as a CTAP2 status.  Writing: items built smallest-first so that
 * libcbor's encoder gives CTAP2 canonical CBOR (CTAP 2.1 section 8: the
 * shortest integer and length forms, definite lengths), provided the
 * caller adds map keys in canonical order (integers ascending, then text
 * shorter first and bytewise), which every writer here does.
 */
#ifndef OL_FIDO_CBOR_H
#define OL_FIDO_CBOR_H

#include <stddef.h>
#include <stdint.h>

#include <cbor.h>

/* Decodes one whole CBOR item (nothing may follow it).  Definite
 * lengths only, no tags, at most 8 levels deep, and no count larger than
 * the bytes that follow (checked before libcbor allocates anything).
 * CTAP2 status: CTAP2_OK with *out set, or CTAP2_ERR_INVALID_CBOR. */
uint8_t fc_decode(const uint8_t *buf, size_t len, cbor_item_t **out);

/* The value under an integer (or text) key of a map, or NULL. */
cbor_item_t *fc_map_get_int(const cbor_item_t *map, int64_t key);
cbor_item_t *fc_map_get_text(const cbor_item_t *map, const char *key);

/* An integer item's value (unsigned or negative); 0 if not an integer
 * or out of int64_t. */
int fc_get_int(const cbor_item_t *item, int64_t *v);
/* A definite byte/text string's bytes; 0 if not one. */
int fc_get_bytes(const cbor_item_t *item, const uint8_t **p, size_t *len);
int fc_get_text(const cbor_item_t *item, const char **p, size_t *len);
/* A true/false item's value; 0 if not one.  Unlike cbor_is_bool(), safe
 * on floats: libcbor 0.8 asserts (aborts) on a float given to it. */
int fc_get_bool(const cbor_item_t *item, int *v);
/* 1 if a text item equals s */
int fc_text_is(const cbor_item_t *item, const char *s);

/* Builders: NULL when out of memory; maps and arrays are definite. */
cbor_item_t *fc_int(int64_t v);
cbor_item_t *fc_bytes(const uint8_t *p, size_t len);
cbor_item_t *fc_text(const char *s);
cbor_item_t *fc_textn(const char *s, size_t len);

/* Adds key -> value to a definite map and releases the caller's
 * references; fails (0) if either is NULL or the map is full (the items
 * are released either way). */
int fc_put(cbor_item_t *map, cbor_item_t *key, cbor_item_t *value);
int fc_push(cbor_item_t *array, cbor_item_t *value);

/* Serialises into out (cap bytes); 0 if it does not fit. */
size_t fc_encode(const cbor_item_t *item, uint8_t *out, size_t cap);

#endif
