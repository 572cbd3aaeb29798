/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * CBOR helpers of the authenticator over libcbor: typed look-ups in
 * request maps, canonical builders, a bounded encoder.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "fido_auth.h"
#include "fido_cbor.h"

/*
 * Well-formedness before libcbor sees the bytes: libcbor allocates an
 * array or map for the count its header declares before reading the
 * items, so a header claiming 2^32 entries in a 20-byte request would
 * cost gigabytes.  Here every count is bounded by the bytes left (an item
 * takes at least one, a map entry two), nesting by FC_MAX_DEPTH, and
 * what CTAP2 canonical CBOR never has is refused: indefinite lengths,
 * tags, reserved additional information.
 */
#define FC_MAX_DEPTH 8

static int
read_head(const uint8_t *buf, size_t len, size_t *pos, uint8_t *mt,
    uint8_t *ai, uint64_t *val)
{
	size_t n, i;

	if (*pos >= len)
		return 0;
	*mt = buf[*pos] >> 5;
	*ai = buf[*pos] & 0x1f;
	(*pos)++;
	if (*ai < 24) {
		*val = *ai;
		return 1;
	}
	if (*ai > 27)
		return 0;  /* reserved, or indefinite length */
	n = (size_t)1 << (*ai - 24);
	if (n > len - *pos)
		return 0;
	for (*val = 0, i = 0; i < n; i++)
		*val = *val << 8 | buf[(*pos)++];
	return 1;
}

static int
well_formed(const uint8_t *buf, size_t len)
{
	uint64_t left[FC_MAX_DEPTH + 1], val;
	size_t pos = 0, depth = 0;
	uint8_t mt, ai;

	left[0] = 1;
	for (;;) {
		if (left[depth] == 0) {
			if (depth == 0)
				return pos == len;
			depth--;
			continue;
		}
		left[depth]--;
		if (!read_head(buf, len, &pos, &mt, &ai, &val))
			return 0;
		switch (mt) {
		case 0:
		case 1:
		case 7:  /* simple values and floats: the head is all */
			break;
		case 2:
		case 3:
			if (val > len - pos)
				return 0;
			pos += (size_t)val;
			break;
		case 4:
		case 5:
			if (val > (len - pos) / (mt == 5 ? 2 : 1) ||
			    depth == FC_MAX_DEPTH)
				return 0;
			left[++depth] = mt == 5 ? 2 * val : val;
			break;
		default:
			return 0;  /* tags */
		}
	}
}

uint8_t
fc_decode(const uint8_t *buf, size_t len, cbor_item_t **out)
{
	struct cbor_load_result res;
	cbor_item_t *item;

	*out = NULL;
	if (buf == NULL || len == 0 || !well_formed(buf, len))
		return CTAP2_ERR_INVALID_CBOR;
	item = cbor_load(buf, len, &res);
	if (item == NULL || res.error.code != CBOR_ERR_NONE ||
	    res.read != len) {
		if (item != NULL)
			cbor_decref(&item);
		return CTAP2_ERR_INVALID_CBOR;
	}
	*out = item;
	return CTAP2_OK;
}

int
fc_get_int(const cbor_item_t *item, int64_t *v)
{
	uint64_t u;

	if (item == NULL)
		return 0;
	if (cbor_isa_uint(item)) {
		if ((u = cbor_get_int(item)) > INT64_MAX)
			return 0;
		*v = (int64_t)u;
		return 1;
	}
	if (cbor_isa_negint(item)) {
		if ((u = cbor_get_int(item)) > INT64_MAX)
			return 0;
		*v = -1 - (int64_t)u;
		return 1;
	}
	return 0;
}

int
fc_get_bytes(const cbor_item_t *item, const uint8_t **p, size_t *len)
{
	if (item == NULL || !cbor_isa_bytestring(item) ||
	    !cbor_bytestring_is_definite(item))
		return 0;
	*p = cbor_bytestring_handle(item);
	*len = cbor_bytestring_length(item);
	return 1;
}

int
fc_get_text(const cbor_item_t *item, const char **p, size_t *len)
{
	if (item == NULL || !cbor_isa_string(item) ||
	    !cbor_string_is_definite(item))
		return 0;
	*p = (const char *)cbor_string_handle(item);
	*len = cbor_string_length(item);
	return 1;
}

int
fc_get_bool(const cbor_item_t *item, int *v)
{
	/* Only a simple value (width 0) has a control value to ask for. */
	if (item == NULL || !cbor_isa_float_ctrl(item) ||
	    cbor_float_get_width(item) != CBOR_FLOAT_0 || !cbor_is_bool(item))
		return 0;
	*v = cbor_get_bool(item) ? 1 : 0;
	return 1;
}

int
fc_text_is(const cbor_item_t *item, const char *s)
{
	const char *p;
	size_t len;

	return fc_get_text(item, &p, &len) && len == strlen(s) &&
	    (len == 0 || memcmp(p, s, len) == 0);
}

cbor_item_t *
fc_map_get_int(const cbor_item_t *map, int64_t key)
{
	struct cbor_pair *pairs;
	size_t i, n;
	int64_t k;

	if (map == NULL || !cbor_isa_map(map) || !cbor_map_is_definite(map))
		return NULL;
	pairs = cbor_map_handle(map);
	n = cbor_map_size(map);
	for (i = 0; i < n; i++)
		if (fc_get_int(pairs[i].key, &k) && k == key)
			return pairs[i].value;
	return NULL;
}

cbor_item_t *
fc_map_get_text(const cbor_item_t *map, const char *key)
{
	struct cbor_pair *pairs;
	size_t i, n;

	if (map == NULL || !cbor_isa_map(map) || !cbor_map_is_definite(map))
		return NULL;
	pairs = cbor_map_handle(map);
	n = cbor_map_size(map);
	for (i = 0; i < n; i++)
		if (fc_text_is(pairs[i].key, key))
			return pairs[i].value;
	return NULL;
}

/* the shortest form, as canonical CBOR wants */
static cbor_item_t *
build_uint(uint64_t u)
{
	if (u <= UINT8_MAX)
		return cbor_build_uint8((uint8_t)u);
	if (u <= UINT16_MAX)
		return cbor_build_uint16((uint16_t)u);
	if (u <= UINT32_MAX)
		return cbor_build_uint32((uint32_t)u);
	return cbor_build_uint64(u);
}

static cbor_item_t *
build_negint(uint64_t u)
{
	if (u <= UINT8_MAX)
		return cbor_build_negint8((uint8_t)u);
	if (u <= UINT16_MAX)
		return cbor_build_negint16((uint16_t)u);
	if (u <= UINT32_MAX)
		return cbor_build_negint32((uint32_t)u);
	return cbor_build_negint64(u);
}

cbor_item_t *
fc_int(int64_t v)
{
	if (v >= 0)
		return build_uint((uint64_t)v);
	return build_negint((uint64_t)(-1 - v));
}

cbor_item_t *
fc_bytes(const uint8_t *p, size_t len)
{
	static const uint8_t none[1];

	return cbor_build_bytestring(len == 0 ? none : p, len);
}

cbor_item_t *
fc_text(const char *s)
{
	return cbor_build_stringn(s, strlen(s));
}

cbor_item_t *
fc_textn(const char *s, size_t len)
{
	return cbor_build_stringn(len == 0 ? "" : s, len);
}

int
fc_put(cbor_item_t *map, cbor_item_t *key, cbor_item_t *value)
{
	int ok = 0;

	if (map != NULL && key != NULL && value != NULL)
		ok = cbor_map_add(map, (struct cbor_pair){
		    .key = key, .value = value });
	if (key != NULL)
		cbor_decref(&key);
	if (value != NULL)
		cbor_decref(&value);
	return ok;
}

int
fc_push(cbor_item_t *array, cbor_item_t *value)
{
	int ok = 0;

	if (array != NULL && value != NULL)
		ok = cbor_array_push(array, value);
	if (value != NULL)
		cbor_decref(&value);
	return ok;
}

size_t
fc_encode(const cbor_item_t *item, uint8_t *out, size_t cap)
{
	if (item == NULL || out == NULL)
		return 0;
	return cbor_serialize(item, out, cap);
}
