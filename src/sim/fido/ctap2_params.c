/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Parameters makeCredential and getAssertion have in common: options,
 * credential descriptor lists, clientDataHash.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "cred_id.h"
#include "ctap2_params.h"
#include "fido_cbor.h"
#include "ol_err.h"

uint8_t
ctap2_parse_options(const cbor_item_t *opts, struct ctap2_options *o)
{
	struct cbor_pair *pairs;
	size_t i, n;
	int *slot, v;

	o->rk = o->up = o->uv = OPT_ABSENT;
	if (opts == NULL)
		return CTAP2_OK;
	if (!cbor_isa_map(opts) || !cbor_map_is_definite(opts))
		return CTAP2_ERR_CBOR_UNEXPECTED_TYPE;
	pairs = cbor_map_handle(opts);
	n = cbor_map_size(opts);
	for (i = 0; i < n; i++) {
		if (!cbor_isa_string(pairs[i].key))
			return CTAP2_ERR_CBOR_UNEXPECTED_TYPE;
		if (!fc_get_bool(pairs[i].value, &v))
			return CTAP2_ERR_CBOR_UNEXPECTED_TYPE;
		if (fc_text_is(pairs[i].key, "rk"))
			slot = &o->rk;
		else if (fc_text_is(pairs[i].key, "up"))
			slot = &o->up;
		else if (fc_text_is(pairs[i].key, "uv"))
			slot = &o->uv;
		else
			continue;
		*slot = v;
	}
	return CTAP2_OK;
}

uint8_t
ctap2_parse_cdh(const cbor_item_t *item, uint8_t cdh[FIDO_HASH_LEN])
{
	const uint8_t *p;
	size_t n;

	if (item == NULL)
		return CTAP2_ERR_MISSING_PARAMETER;
	if (!fc_get_bytes(item, &p, &n))
		return CTAP2_ERR_CBOR_UNEXPECTED_TYPE;
	if (n != FIDO_HASH_LEN)
		return CTAP1_ERR_INVALID_LENGTH;
	memcpy(cdh, p, FIDO_HASH_LEN);
	return CTAP2_OK;
}

uint8_t
ctap2_check_cred_list(const cbor_item_t *list)
{
	const uint8_t *p;
	const char *t;
	size_t i, n;
	cbor_item_t *d;

	if (!cbor_isa_array(list) || !cbor_array_is_definite(list))
		return CTAP2_ERR_CBOR_UNEXPECTED_TYPE;
	for (i = 0; i < cbor_array_size(list); i++) {
		d = cbor_array_handle(list)[i];
		if (!cbor_isa_map(d))
			return CTAP2_ERR_CBOR_UNEXPECTED_TYPE;
		if (fc_map_get_text(d, "type") == NULL ||
		    fc_map_get_text(d, "id") == NULL)
			return CTAP2_ERR_MISSING_PARAMETER;
		if (!fc_get_text(fc_map_get_text(d, "type"), &t, &n) ||
		    !fc_get_bytes(fc_map_get_text(d, "id"), &p, &n))
			return CTAP2_ERR_CBOR_UNEXPECTED_TYPE;
	}
	return CTAP2_OK;
}

int
ctap2_find_cred(const struct fido_auth *a, const cbor_item_t *list,
    const uint8_t rp_hash[FIDO_HASH_LEN], int uv, const uint8_t **id,
    size_t *id_len, int *alg, uint8_t priv[32])
{
	cbor_item_t *d;
	size_t i;

	if (list == NULL)
		return -1;
	for (i = 0; i < cbor_array_size(list); i++) {
		d = cbor_array_handle(list)[i];
		if (!fc_text_is(fc_map_get_text(d, "type"), "public-key") ||
		    !fc_get_bytes(fc_map_get_text(d, "id"), id, id_len))
			continue;
		if (!uv && cred_id_prot(*id, *id_len) == FIDO_PROT_UV_REQUIRED)
			continue;
		if (cred_id_unwrap(a->st.secret, *id, *id_len, rp_hash, alg,
		    priv) == OL_OK)
			return (int)i;
	}
	return -1;
}
