/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Authenticator data for makeCredential (with the attested credential)
 * and getAssertion, every length checked before it is copied.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "auth_data.h"
#include "cose.h"
#include "fido_cbor.h"
#include "ol_err.h"

int
auth_data_make(const uint8_t rp_hash[FIDO_HASH_LEN], uint8_t flags,
    uint32_t counter, const uint8_t *cred_id, size_t cred_id_len, int alg,
    const uint8_t *pub, size_t pub_len, uint8_t *out, size_t cap,
    size_t *len)
{
	cbor_item_t *key = NULL;
	size_t n = AD_BASE_LEN, k;
	int r = OL_ERR_TOO_LONG;

	if (cap < AD_BASE_LEN)
		goto fail;
	memcpy(out, rp_hash, FIDO_HASH_LEN);
	out[32] = flags | (cred_id != NULL ? AD_FLAG_AT : 0);
	out[33] = (uint8_t)(counter >> 24);
	out[34] = (uint8_t)(counter >> 16);
	out[35] = (uint8_t)(counter >> 8);
	out[36] = (uint8_t)counter;
	if (cred_id != NULL) {
		if (cred_id_len > UINT16_MAX ||
		    cap - n < FIDO_AAGUID_LEN + 2 + cred_id_len)
			goto fail;
		memcpy(out + n, FIDO_AAGUID, FIDO_AAGUID_LEN);
		n += FIDO_AAGUID_LEN;
		out[n++] = (uint8_t)(cred_id_len >> 8);
		out[n++] = (uint8_t)cred_id_len;
		memcpy(out + n, cred_id, cred_id_len);
		n += cred_id_len;
		r = OL_ERR_NOMEM;
		if ((key = cose_encode(alg, alg, pub, pub_len)) == NULL)
			goto fail;
		r = OL_ERR_TOO_LONG;
		if ((k = fc_encode(key, out + n, cap - n)) == 0)
			goto fail;
		n += k;
	}
	*len = n;
	r = OL_OK;
fail:
	if (key != NULL)
		cbor_decref(&key);
	return r;
}

int
auth_data_put_cred_protect(uint8_t *ad, size_t cap, size_t *len, int level)
{
	cbor_item_t *m;
	size_t k = 0;

	if (*len < AD_BASE_LEN || *len > cap)
		return OL_ERR_ARG;
	if ((m = cbor_new_definite_map(1)) == NULL)
		return OL_ERR_NOMEM;
	if (fc_put(m, fc_text("credProtect"), fc_int(level)))
		k = fc_encode(m, ad + *len, cap - *len);
	cbor_decref(&m);
	if (k == 0)
		return OL_ERR_TOO_LONG;
	ad[FIDO_HASH_LEN] |= AD_FLAG_ED;
	*len += k;
	return OL_OK;
}
