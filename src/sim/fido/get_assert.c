/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * authenticatorGetAssertion and GetNextAssertion: finding the
 * credentials, the user's touch, the counters, the signature over
 * authenticatorData || clientDataHash.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "auth_data.h"
#include "client_pin.h"
#include "cred_id.h"
#include "cred_store.h"
#include "ctap2_params.h"
#include "fido_cbor.h"
#include "fido_crypto.h"
#include "fido_up.h"
#include "get_assert.h"
#include "ol_err.h"
#include "ol_log.h"
#include "timeutil.h"

#define P_RP_ID        1
#define P_CDH          2
#define P_ALLOW        3
#define P_EXTENSIONS   4
#define P_OPTIONS      5
#define P_PIN_AUTH     6
#define P_PIN_PROTOCOL 7

/*
 * Discoverable credentials of rp_hash, newest first, into idx.  With no
 * allowList, credProtect hides every level above userVerification-
 * Optional unless the user was verified (CTAP 2.1 section 12.1).
 */
static size_t
find_resident(const struct fido_state *st,
    const uint8_t rp_hash[FIDO_HASH_LEN], int uv, size_t idx[FIDO_RK_MAX])
{
	size_t i, j, n = 0, t;

	for (i = 0; i < st->n_rk; i++)
		if (memcmp(st->rk[i].rp_hash, rp_hash, FIDO_HASH_LEN) == 0 &&
		    (uv || cred_id_prot(st->rk[i].id, FIDO_CRED_ID_LEN) ==
		    FIDO_PROT_UV_OPTIONAL))
			idx[n++] = i;
	/* insertion sort on creation order, descending */
	for (i = 1; i < n; i++)
		for (j = i; j > 0 &&
		    st->rk[idx[j]].created > st->rk[idx[j - 1]].created; j--) {
			t = idx[j];
			idx[j] = idx[j - 1];
			idx[j - 1] = t;
		}
	return n;
}

static cbor_item_t *
user_entity(const struct fido_rk *rk, int identifiable)
{
	cbor_item_t *m;
	int names = identifiable && (rk->user_name[0] != '\0' ||
	    rk->display_name[0] != '\0');

	if ((m = cbor_new_definite_map(names ? 3 : 1)) == NULL)
		return NULL;
	/* canonical: "id", "name", "displayName" (shorter keys first) */
	if (!fc_put(m, fc_text("id"), fc_bytes(rk->user_id,
	    rk->user_id_len)) ||
	    (names && (!fc_put(m, fc_text("name"), fc_text(rk->user_name)) ||
	    !fc_put(m, fc_text("displayName"),
	    fc_text(rk->display_name)))))
		cbor_decref(&m);
	return m;
}

/*
 * One assertion with credential id (rk_i >= 0: discoverable credential
 * rk_i).  n_creds > 1 adds numberOfCredentials (the first response).
 */
static uint8_t
assert_one(struct fido_auth *a, int rk_i, const uint8_t *id, size_t id_len,
    int alg, const uint8_t priv[32], const uint8_t rp_hash[FIDO_HASH_LEN],
    const uint8_t cdh[FIDO_HASH_LEN], uint8_t flags, size_t n_creds,
    cbor_item_t **resp)
{
	uint8_t ad[AD_BASE_LEN], msg[AD_BASE_LEN + FIDO_HASH_LEN];
	uint8_t sig[FCR_SIG_MAX];
	cbor_item_t *m = NULL, *cred = NULL;
	size_t ad_len, sig_len, n_items;
	uint32_t counter;
	uint8_t st = CTAP1_ERR_OTHER;

	if (rk_i >= 0)
		counter = ++a->st.rk[rk_i].counter;
	else
		counter = ++a->st.counter;
	if (a->state_path != NULL &&
	    cred_store_save(a->state_path, &a->st) != OL_OK)
		goto fail;
	if (auth_data_make(rp_hash, flags, counter, NULL, 0, alg, NULL, 0, ad,
	    sizeof(ad), &ad_len) != OL_OK)
		goto fail;
	memcpy(msg, ad, ad_len);
	memcpy(msg + ad_len, cdh, FIDO_HASH_LEN);
	if (fcr_sign(alg, priv, msg, ad_len + FIDO_HASH_LEN, sig, sizeof(sig),
	    &sig_len) != OL_OK)
		goto fail;
	n_items = 3 + (rk_i >= 0) + (n_creds > 1);
	if ((m = cbor_new_definite_map(n_items)) == NULL ||
	    (cred = cbor_new_definite_map(2)) == NULL)
		goto fail;
	if (!fc_put(cred, fc_text("id"), fc_bytes(id, id_len)) ||
	    !fc_put(cred, fc_text("type"), fc_text("public-key")))
		goto fail;
	if (!fc_put(m, fc_int(1), cred)) {
		cred = NULL;
		goto fail;
	}
	cred = NULL;
	if (!fc_put(m, fc_int(2), fc_bytes(ad, ad_len)) ||
	    !fc_put(m, fc_int(3), fc_bytes(sig, sig_len)))
		goto fail;
	if (rk_i >= 0 && !fc_put(m, fc_int(4), user_entity(&a->st.rk[rk_i],
	    (flags & AD_FLAG_UV) != 0)))
		goto fail;
	if (n_creds > 1 && !fc_put(m, fc_int(5), fc_int((int64_t)n_creds)))
		goto fail;
	*resp = m;
	m = NULL;
	st = CTAP2_OK;
fail:
	explicit_bzero(msg, sizeof(msg));
	if (cred != NULL)
		cbor_decref(&cred);
	if (m != NULL)
		cbor_decref(&m);
	return st;
}

struct ga_req {
	uint8_t rp_hash[FIDO_HASH_LEN];
	uint8_t cdh[FIDO_HASH_LEN];
	const cbor_item_t *allow;
	struct ctap2_options opt;
	const cbor_item_t *pin_auth, *pin_protocol;
};

static uint8_t
parse(const cbor_item_t *p, struct ga_req *q)
{
	const cbor_item_t *rp, *ext;
	const char *id;
	size_t n;
	uint8_t st;

	if (p == NULL)
		return CTAP2_ERR_MISSING_PARAMETER;
	if ((rp = fc_map_get_int(p, P_RP_ID)) == NULL)
		return CTAP2_ERR_MISSING_PARAMETER;
	if (!fc_get_text(rp, &id, &n))
		return CTAP2_ERR_CBOR_UNEXPECTED_TYPE;
	fcr_sha256((const uint8_t *)id, n, q->rp_hash);
	if ((st = ctap2_parse_cdh(fc_map_get_int(p, P_CDH), q->cdh)) !=
	    CTAP2_OK)
		return st;
	q->allow = fc_map_get_int(p, P_ALLOW);
	if (q->allow != NULL &&
	    (st = ctap2_check_cred_list(q->allow)) != CTAP2_OK)
		return st;
	if ((ext = fc_map_get_int(p, P_EXTENSIONS)) != NULL &&
	    !cbor_isa_map(ext))
		return CTAP2_ERR_CBOR_UNEXPECTED_TYPE;
	if ((st = ctap2_parse_options(fc_map_get_int(p, P_OPTIONS),
	    &q->opt)) != CTAP2_OK)
		return st;
	q->pin_auth = fc_map_get_int(p, P_PIN_AUTH);
	q->pin_protocol = fc_map_get_int(p, P_PIN_PROTOCOL);
	return CTAP2_OK;
}

uint8_t
get_assert(struct fido_auth *a, const cbor_item_t *params,
    cbor_item_t **resp)
{
	struct ga_req q;
	struct fido_next *nx = &a->next;
	const uint8_t *id = NULL, *pa;
	uint8_t priv[32];
	size_t id_len = 0, n = 0, pa_len;
	uint8_t st, flags = 0;
	int alg = 0, rk_i = -1;

	*resp = NULL;
	memset(&q, 0, sizeof(q));
	memset(nx, 0, sizeof(*nx));
	if ((st = parse(params, &q)) != CTAP2_OK)
		goto fail;
	if (q.opt.rk != OPT_ABSENT || q.opt.uv == 1) {
		st = CTAP2_ERR_UNSUPPORTED_OPTION;
		goto fail;
	}
	if (q.pin_auth != NULL && fc_get_bytes(q.pin_auth, &pa, &pa_len) &&
	    pa_len == 0) {
		if ((st = fido_up(a, "getAssertion, PIN probe")) == CTAP2_OK)
			st = a->st.pin_set ? CTAP2_ERR_PIN_INVALID :
			    CTAP2_ERR_PIN_NOT_SET;
		goto fail;
	}
	if (q.pin_auth != NULL) {
		if ((st = client_pin_check(a, q.pin_auth, q.pin_protocol,
		    q.cdh)) != CTAP2_OK)
			goto fail;
		flags |= AD_FLAG_UV;
	}
	if (q.allow != NULL) {
		if (ctap2_find_cred(a, q.allow, q.rp_hash,
		    (flags & AD_FLAG_UV) != 0, &id, &id_len, &alg, priv) >= 0) {
			n = 1;
			rk_i = cred_store_find_id(&a->st, q.rp_hash, id,
			    id_len);
		}
	} else {
		n = find_resident(&a->st, q.rp_hash, (flags & AD_FLAG_UV) != 0,
		    nx->idx);
	}
	/* the user is asked even when nothing was found, so that a page
	 * cannot probe for credentials silently (CTAP 2.1 6.2.2 step 9) */
	if (q.opt.up != 0) {
		if ((st = fido_up(a, "getAssertion")) != CTAP2_OK)
			goto fail;
		flags |= AD_FLAG_UP;
	}
	if (n == 0) {
		ol_log(OL_LOG_INFO, "FIDO: getAssertion: no credentials");
		st = CTAP2_ERR_NO_CREDENTIALS;
		goto fail;
	}
	if (q.allow == NULL) {
		rk_i = (int)nx->idx[0];
		id = a->st.rk[rk_i].id;
		id_len = FIDO_CRED_ID_LEN;
		if (cred_id_unwrap(a->st.secret, id, id_len, q.rp_hash, &alg,
		    priv) != OL_OK) {
			st = CTAP1_ERR_OTHER;
			goto fail;
		}
	}
	if ((st = assert_one(a, rk_i, id, id_len, alg, priv, q.rp_hash, q.cdh,
	    flags, q.allow == NULL ? n : 1, resp)) != CTAP2_OK)
		goto fail;
	ol_log(OL_LOG_INFO, "FIDO: assertion (%s, %zu credential%s)",
	    alg == COSE_ES256 ? "ES256" : "EdDSA", n, n == 1 ? "" : "s");
	if (q.allow == NULL && n > 1) {
		nx->active = 1;
		nx->n = n;
		nx->next = 1;
		memcpy(nx->cdh, q.cdh, FIDO_HASH_LEN);
		nx->flags = flags;
		nx->deadline = ol_now_ms() + FIDO_NEXT_TIMEOUT_MS;
	}
fail:
	explicit_bzero(priv, sizeof(priv));
	if (!nx->active)
		memset(nx, 0, sizeof(*nx));
	return st;
}

uint8_t
get_next_assert(struct fido_auth *a, cbor_item_t **resp)
{
	struct fido_next *nx = &a->next;
	struct fido_rk *rk;
	uint8_t priv[32];
	uint8_t st;
	int alg;

	*resp = NULL;
	if (!nx->active || nx->next >= nx->n ||
	    ol_now_ms() >= nx->deadline) {
		memset(nx, 0, sizeof(*nx));
		return CTAP2_ERR_NOT_ALLOWED;
	}
	rk = &a->st.rk[nx->idx[nx->next]];
	if (cred_id_unwrap(a->st.secret, rk->id, FIDO_CRED_ID_LEN,
	    rk->rp_hash, &alg, priv) != OL_OK) {
		st = CTAP1_ERR_OTHER;
		goto fail;
	}
	st = assert_one(a, (int)nx->idx[nx->next], rk->id, FIDO_CRED_ID_LEN,
	    alg, priv, rk->rp_hash, nx->cdh, nx->flags, 0, resp);
	nx->next++;
	nx->deadline = ol_now_ms() + FIDO_NEXT_TIMEOUT_MS;
fail:
	explicit_bzero(priv, sizeof(priv));
	return st;
}
