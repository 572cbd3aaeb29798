/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * authenticatorMakeCredential: parameters checked in full before the user
 * is asked, the key generated after the touch, its private key wrapped
 * into the credential ID (cred_id.c), a discoverable credential stored
 * (cred_store.c), attestation "packed" with the credential's own key
 * (self attestation: no certificate, nothing that links two credentials).
 * The one extension: credProtect (CTAP 2.1 section 12.1), its level
 * kept inside the credential ID and answered in the extension outputs;
 * others are ignored and not answered.
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
#include "make_cred.h"
#include "ol_err.h"
#include "ol_log.h"

#define P_CDH          1
#define P_RP           2
#define P_USER         3
#define P_PARAMS       4
#define P_EXCLUDE      5
#define P_EXTENSIONS   6
#define P_OPTIONS      7
#define P_PIN_AUTH     8
#define P_PIN_PROTOCOL 9

struct mc_req {
	uint8_t cdh[FIDO_HASH_LEN];
	uint8_t rp_hash[FIDO_HASH_LEN];
	const uint8_t *user_id;
	size_t user_id_len;
	const char *user_name, *display_name;
	size_t user_name_len, display_name_len;
	int alg;
	int cred_protect;   /* 0: not asked for */
	struct ctap2_options opt;
	const cbor_item_t *exclude;
	const cbor_item_t *pin_auth, *pin_protocol;
};

/* an optional text member of an entity */
static uint8_t
opt_text(const cbor_item_t *map, const char *key, const char **p,
    size_t *n)
{
	const cbor_item_t *v = fc_map_get_text(map, key);

	*p = NULL;
	*n = 0;
	if (v != NULL && !fc_get_text(v, p, n))
		return CTAP2_ERR_CBOR_UNEXPECTED_TYPE;
	return CTAP2_OK;
}

static uint8_t
parse_rp(const cbor_item_t *rp, struct mc_req *q)
{
	const char *id, *other;
	size_t id_len, n;
	uint8_t st;

	if (rp == NULL)
		return CTAP2_ERR_MISSING_PARAMETER;
	if (!cbor_isa_map(rp))
		return CTAP2_ERR_CBOR_UNEXPECTED_TYPE;
	if (fc_map_get_text(rp, "id") == NULL)
		return CTAP2_ERR_MISSING_PARAMETER;
	if (!fc_get_text(fc_map_get_text(rp, "id"), &id, &id_len))
		return CTAP2_ERR_CBOR_UNEXPECTED_TYPE;
	/* name and icon are only type-checked: nothing shows them */
	if ((st = opt_text(rp, "name", &other, &n)) != CTAP2_OK ||
	    (st = opt_text(rp, "icon", &other, &n)) != CTAP2_OK)
		return st;
	fcr_sha256((const uint8_t *)id, id_len, q->rp_hash);
	return CTAP2_OK;
}

static uint8_t
parse_user(const cbor_item_t *user, struct mc_req *q)
{
	const char *icon;
	size_t n;
	uint8_t st;

	if (user == NULL)
		return CTAP2_ERR_MISSING_PARAMETER;
	if (!cbor_isa_map(user))
		return CTAP2_ERR_CBOR_UNEXPECTED_TYPE;
	if (fc_map_get_text(user, "id") == NULL)
		return CTAP2_ERR_MISSING_PARAMETER;
	if (!fc_get_bytes(fc_map_get_text(user, "id"), &q->user_id,
	    &q->user_id_len))
		return CTAP2_ERR_CBOR_UNEXPECTED_TYPE;
	if (q->user_id_len == 0 || q->user_id_len > FIDO_USER_ID_MAX)
		return CTAP1_ERR_INVALID_LENGTH;
	if ((st = opt_text(user, "name", &q->user_name,
	    &q->user_name_len)) != CTAP2_OK ||
	    (st = opt_text(user, "displayName", &q->display_name,
	    &q->display_name_len)) != CTAP2_OK ||
	    (st = opt_text(user, "icon", &icon, &n)) != CTAP2_OK)
		return st;
	return CTAP2_OK;
}

/* The first supported algorithm of pubKeyCredParams, in its order */
static uint8_t
parse_algs(const cbor_item_t *list, struct mc_req *q)
{
	const cbor_item_t *d, *alg, *type;
	size_t i;
	int64_t v;

	q->alg = 0;
	if (list == NULL)
		return CTAP2_ERR_MISSING_PARAMETER;
	if (!cbor_isa_array(list) || !cbor_array_is_definite(list))
		return CTAP2_ERR_CBOR_UNEXPECTED_TYPE;
	for (i = 0; i < cbor_array_size(list); i++) {
		d = cbor_array_handle(list)[i];
		if (!cbor_isa_map(d))
			return CTAP2_ERR_CBOR_UNEXPECTED_TYPE;
		alg = fc_map_get_text(d, "alg");
		type = fc_map_get_text(d, "type");
		if (alg == NULL || type == NULL)
			return CTAP2_ERR_MISSING_PARAMETER;
		if (!fc_get_int(alg, &v) || !cbor_isa_string(type))
			return CTAP2_ERR_CBOR_UNEXPECTED_TYPE;
		if (q->alg == 0 && fc_text_is(type, "public-key") &&
		    (v == COSE_ES256 || v == COSE_EDDSA))
			q->alg = (int)v;
	}
	return q->alg == 0 ? CTAP2_ERR_UNSUPPORTED_ALGORITHM : CTAP2_OK;
}

/* The extensions map: credProtect 1..3 is taken; another value of it,
 * like any other extension, is ignored (no output for it). */
static uint8_t
parse_extensions(const cbor_item_t *ext, struct mc_req *q)
{
	const cbor_item_t *cp;
	int64_t v;

	q->cred_protect = 0;
	if (ext == NULL)
		return CTAP2_OK;
	if (!cbor_isa_map(ext))
		return CTAP2_ERR_CBOR_UNEXPECTED_TYPE;
	if ((cp = fc_map_get_text(ext, "credProtect")) == NULL)
		return CTAP2_OK;
	if (!cbor_isa_uint(cp) || !fc_get_int(cp, &v))
		return CTAP2_ERR_CBOR_UNEXPECTED_TYPE;
	if (v >= FIDO_PROT_UV_OPTIONAL && v <= FIDO_PROT_UV_REQUIRED)
		q->cred_protect = (int)v;
	return CTAP2_OK;
}

static uint8_t
parse(const cbor_item_t *p, struct mc_req *q)
{
	uint8_t st;

	if (p == NULL)
		return CTAP2_ERR_MISSING_PARAMETER;
	if ((st = ctap2_parse_cdh(fc_map_get_int(p, P_CDH), q->cdh)) !=
	    CTAP2_OK ||
	    (st = parse_rp(fc_map_get_int(p, P_RP), q)) != CTAP2_OK ||
	    (st = parse_user(fc_map_get_int(p, P_USER), q)) != CTAP2_OK ||
	    (st = parse_algs(fc_map_get_int(p, P_PARAMS), q)) != CTAP2_OK)
		return st;
	q->exclude = fc_map_get_int(p, P_EXCLUDE);
	if (q->exclude != NULL &&
	    (st = ctap2_check_cred_list(q->exclude)) != CTAP2_OK)
		return st;
	if ((st = parse_extensions(fc_map_get_int(p, P_EXTENSIONS), q)) !=
	    CTAP2_OK)
		return st;
	if ((st = ctap2_parse_options(fc_map_get_int(p, P_OPTIONS),
	    &q->opt)) != CTAP2_OK)
		return st;
	q->pin_auth = fc_map_get_int(p, P_PIN_AUTH);
	q->pin_protocol = fc_map_get_int(p, P_PIN_PROTOCOL);
	return CTAP2_OK;
}

/* UTF-8 cut to FIDO_NAME_MAX bytes at a character boundary */
static void
copy_name(char *dst, const char *src, size_t n)
{
	if (src == NULL)
		n = 0;
	if (n > FIDO_NAME_MAX) {
		n = FIDO_NAME_MAX;
		while (n > 0 && ((uint8_t)src[n] & 0xc0) == 0x80)
			n--;
	}
	if (n > 0)
		memcpy(dst, src, n);
	dst[n] = '\0';  /* an embedded NUL ends the name earlier */
}

static uint8_t
respond(const uint8_t *ad, size_t ad_len, int alg, const uint8_t *sig,
    size_t sig_len, cbor_item_t **resp)
{
	cbor_item_t *m = NULL, *att = NULL;

	if ((m = cbor_new_definite_map(3)) == NULL ||
	    (att = cbor_new_definite_map(2)) == NULL)
		goto fail;
	if (!fc_put(att, fc_text("alg"), fc_int(alg)) ||
	    !fc_put(att, fc_text("sig"), fc_bytes(sig, sig_len)))
		goto fail;
	if (!fc_put(m, fc_int(1), fc_text("packed")) ||
	    !fc_put(m, fc_int(2), fc_bytes(ad, ad_len)))
		goto fail;
	if (!fc_put(m, fc_int(3), att)) {
		att = NULL;
		goto fail;
	}
	*resp = m;
	return CTAP2_OK;
fail:
	if (att != NULL)
		cbor_decref(&att);
	if (m != NULL)
		cbor_decref(&m);
	return CTAP1_ERR_OTHER;
}

uint8_t
make_cred(struct fido_auth *a, const cbor_item_t *params, cbor_item_t **resp)
{
	struct mc_req q;
	struct fido_rk rk;
	uint8_t priv[32], xpriv[32], id[FIDO_CRED_ID_LEN], pub[FCR_PUB_MAX];
	uint8_t ad[AD_MAX], msg[AD_MAX + FIDO_HASH_LEN], sig[FCR_SIG_MAX];
	const uint8_t *xid;
	size_t pub_len, ad_len, sig_len, xid_len, pa_len;
	const uint8_t *pa;
	uint8_t st, flags = AD_FLAG_UP;
	int xalg, rk_on;

	*resp = NULL;
	memset(&q, 0, sizeof(q));
	memset(&rk, 0, sizeof(rk));
	if ((st = parse(params, &q)) != CTAP2_OK)
		goto fail;
	rk_on = q.opt.rk == 1;
	if (q.opt.uv == 1) {
		/* no built-in user verification: only the PIN */
		st = CTAP2_ERR_UNSUPPORTED_OPTION;
		goto fail;
	}
	if (q.opt.up == 0) {
		st = CTAP2_ERR_INVALID_OPTION;
		goto fail;
	}
	/* a zero-length pinAuth: "is there a PIN?" after a touch */
	if (q.pin_auth != NULL && fc_get_bytes(q.pin_auth, &pa, &pa_len) &&
	    pa_len == 0) {
		if ((st = fido_up(a, "makeCredential, PIN probe")) ==
		    CTAP2_OK)
			st = a->st.pin_set ? CTAP2_ERR_PIN_INVALID :
			    CTAP2_ERR_PIN_NOT_SET;
		goto fail;
	}
	if (q.pin_auth != NULL) {
		if ((st = client_pin_check(a, q.pin_auth, q.pin_protocol,
		    q.cdh)) != CTAP2_OK)
			goto fail;
		flags |= AD_FLAG_UV;
	} else if (a->st.pin_set) {
		st = CTAP2_ERR_PIN_REQUIRED;
		goto fail;
	}
	/* an excluded credential that needs UV counts only with UV (CTAP
	 * 2.1 6.1.2 step 11) */
	if (ctap2_find_cred(a, q.exclude, q.rp_hash, (flags & AD_FLAG_UV) != 0,
	    &xid, &xid_len, &xalg, xpriv) >= 0) {
		explicit_bzero(xpriv, sizeof(xpriv));
		ol_log(OL_LOG_INFO, "FIDO: makeCredential: excluded "
		    "credential present");
		if ((st = fido_up(a, "makeCredential, excluded")) == CTAP2_OK)
			st = CTAP2_ERR_CREDENTIAL_EXCLUDED;
		goto fail;
	}
	if (rk_on && !cred_store_has_room(&a->st, q.rp_hash, q.user_id,
	    q.user_id_len)) {
		ol_log(OL_LOG_INFO, "FIDO: makeCredential: %d discoverable "
		    "credentials, no room", FIDO_RK_MAX);
		st = CTAP2_ERR_KEY_STORE_FULL;
		goto fail;
	}
	if ((st = fido_up(a, "makeCredential")) != CTAP2_OK)
		goto fail;
	st = CTAP1_ERR_OTHER;
	if (fcr_keygen(q.alg, priv) != OL_OK ||
	    fcr_public(q.alg, priv, pub, &pub_len) != OL_OK ||
	    cred_id_wrap(a->st.secret, q.alg, q.cred_protect != 0 ?
	    q.cred_protect : FIDO_PROT_UV_OPTIONAL, priv, q.rp_hash, id) !=
	    OL_OK)
		goto fail;
	if (auth_data_make(q.rp_hash, flags, rk_on ? 0 : a->st.counter, id,
	    sizeof(id), q.alg, pub, pub_len, ad, sizeof(ad), &ad_len) != OL_OK)
		goto fail;
	if (q.cred_protect != 0 && auth_data_put_cred_protect(ad, sizeof(ad),
	    &ad_len, q.cred_protect) != OL_OK)
		goto fail;
	memcpy(msg, ad, ad_len);
	memcpy(msg + ad_len, q.cdh, FIDO_HASH_LEN);
	if (fcr_sign(q.alg, priv, msg, ad_len + FIDO_HASH_LEN, sig,
	    sizeof(sig), &sig_len) != OL_OK)
		goto fail;
	if (rk_on) {
		memcpy(rk.id, id, sizeof(id));
		memcpy(rk.rp_hash, q.rp_hash, FIDO_HASH_LEN);
		memcpy(rk.user_id, q.user_id, q.user_id_len);
		rk.user_id_len = q.user_id_len;
		copy_name(rk.user_name, q.user_name, q.user_name_len);
		copy_name(rk.display_name, q.display_name,
		    q.display_name_len);
		rk.counter = 0;
		rk.created = a->st.next_created++;
		if (cred_store_put(&a->st, &rk) != OL_OK) {
			st = CTAP2_ERR_KEY_STORE_FULL;
			goto fail;
		}
		if (a->state_path != NULL &&
		    cred_store_save(a->state_path, &a->st) != OL_OK)
			goto fail;
	}
	ol_log(OL_LOG_INFO, "FIDO: %s credential made (%s, credProtect %d)",
	    rk_on ? "discoverable" : "non-resident", q.alg == COSE_ES256 ?
	    "ES256" : "EdDSA", q.cred_protect != 0 ? q.cred_protect :
	    FIDO_PROT_UV_OPTIONAL);
	st = respond(ad, ad_len, q.alg, sig, sig_len, resp);
fail:
	explicit_bzero(priv, sizeof(priv));
	explicit_bzero(msg, sizeof(msg));
	explicit_bzero(&rk, sizeof(rk));
	return st;
}
