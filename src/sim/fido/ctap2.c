/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * CTAP2 dispatch: decode the parameters (a map, or nothing), run the
 * command, encode the response; authenticatorGetInfo; authenticatorReset.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "client_pin.h"
#include "cred_store.h"
#include "ctap2.h"
#include "fido_cbor.h"
#include "fido_up.h"
#include "get_assert.h"
#include "make_cred.h"
#include "ol_err.h"
#include "ol_log.h"

const char *
ctap2_cmd_name(uint8_t cmd)
{
	switch (cmd) {
	case CTAP2_CMD_MAKE_CREDENTIAL:
		return "authenticatorMakeCredential";
	case CTAP2_CMD_GET_ASSERTION:
		return "authenticatorGetAssertion";
	case CTAP2_CMD_GET_INFO:
		return "authenticatorGetInfo";
	case CTAP2_CMD_CLIENT_PIN:
		return "authenticatorClientPIN";
	case CTAP2_CMD_RESET:
		return "authenticatorReset";
	case CTAP2_CMD_GET_NEXT_ASSERTION:
		return "authenticatorGetNextAssertion";
	default:
		return "unknown";
	}
}

/*
 * GetInfo, keys ascending: versions, extensions, aaguid, options (text
 * keys shorter first, then bytewise: "rk", "up", "plat", "clientPin"),
 * maxMsgSize, pinProtocols, transports, algorithms.  The one extension,
 * credProtect, is an assumption (the vendor guide lists none): OpenSSH
 * makes resident keys only on devices that offer it (docs/simulator.md).
 */
static uint8_t
get_info(const struct fido_auth *a, cbor_item_t **resp)
{
	cbor_item_t *m = NULL, *v = NULL, *o = NULL, *pp = NULL, *t = NULL;
	cbor_item_t *algs = NULL, *alg, *ext = NULL;
	static const int ids[2] = { COSE_ES256, COSE_EDDSA };
	size_t i;

	if ((m = cbor_new_definite_map(8)) == NULL ||
	    (v = cbor_new_definite_array(2)) == NULL ||
	    (ext = cbor_new_definite_array(1)) == NULL ||
	    (o = cbor_new_definite_map(4)) == NULL ||
	    (pp = cbor_new_definite_array(1)) == NULL ||
	    (t = cbor_new_definite_array(1)) == NULL ||
	    (algs = cbor_new_definite_array(2)) == NULL)
		goto fail;
	if (!fc_push(v, fc_text("U2F_V2")) || !fc_push(v, fc_text("FIDO_2_0")) ||
	    !fc_push(ext, fc_text("credProtect")) ||
	    !fc_put(o, fc_text("rk"), cbor_build_bool(true)) ||
	    !fc_put(o, fc_text("up"), cbor_build_bool(true)) ||
	    !fc_put(o, fc_text("plat"), cbor_build_bool(false)) ||
	    !fc_put(o, fc_text("clientPin"),
	    cbor_build_bool(a->st.pin_set != 0)) ||
	    !fc_push(pp, fc_int(1)) || !fc_push(t, fc_text("usb")))
		goto fail;
	for (i = 0; i < 2; i++) {
		if ((alg = cbor_new_definite_map(2)) == NULL)
			goto fail;
		if (!fc_put(alg, fc_text("alg"), fc_int(ids[i])) ||
		    !fc_put(alg, fc_text("type"), fc_text("public-key"))) {
			cbor_decref(&alg);
			goto fail;
		}
		if (!fc_push(algs, alg))
			goto fail;
	}
	if (!fc_put(m, fc_int(1), v)) {
		v = NULL;
		goto fail;
	}
	v = NULL;
	if (!fc_put(m, fc_int(2), ext)) {
		ext = NULL;
		goto fail;
	}
	ext = NULL;
	if (!fc_put(m, fc_int(3), fc_bytes((const uint8_t *)FIDO_AAGUID,
	    FIDO_AAGUID_LEN)))
		goto fail;
	if (!fc_put(m, fc_int(4), o)) {
		o = NULL;
		goto fail;
	}
	o = NULL;
	if (!fc_put(m, fc_int(5), fc_int(FIDO_MAX_MSG)))
		goto fail;
	if (!fc_put(m, fc_int(6), pp)) {
		pp = NULL;
		goto fail;
	}
	pp = NULL;
	if (!fc_put(m, fc_int(9), t)) {
		t = NULL;
		goto fail;
	}
	t = NULL;
	if (!fc_put(m, fc_int(10), algs)) {
		algs = NULL;
		goto fail;
	}
	*resp = m;
	return CTAP2_OK;
fail:
	if (v != NULL)
		cbor_decref(&v);
	if (ext != NULL)
		cbor_decref(&ext);
	if (o != NULL)
		cbor_decref(&o);
	if (pp != NULL)
		cbor_decref(&pp);
	if (t != NULL)
		cbor_decref(&t);
	if (algs != NULL)
		cbor_decref(&algs);
	if (m != NULL)
		cbor_decref(&m);
	return CTAP1_ERR_OTHER;
}

/*
 * Reset: after a touch, a new device secret (every credential ID made
 * so far stops working, U2F key handles too), no discoverable
 * credentials, no PIN, the counter at 0, a new key agreement key and PIN
 * token.  The U2F attestation key stays, as it would in a device's
 * factory data.  Allowed at any time: the 10 s after power-up that CTAP
 * lets authenticators demand is not enforced (docs/simulator.md).
 */
static uint8_t
reset(struct fido_auth *a)
{
	uint8_t attest[FIDO_SECRET_LEN];
	uint8_t st;

	if ((st = fido_up(a, "reset")) != CTAP2_OK)
		return st;
	memcpy(attest, a->st.attest_key, sizeof(attest));
	st = CTAP1_ERR_OTHER;
	if (cred_store_fresh(&a->st) != OL_OK)
		goto fail;
	memcpy(a->st.attest_key, attest, sizeof(attest));
	if (client_pin_power_up(a) != OL_OK)
		goto fail;
	memset(&a->next, 0, sizeof(a->next));
	if (a->state_path != NULL &&
	    cred_store_save(a->state_path, &a->st) != OL_OK)
		goto fail;
	ol_log(OL_LOG_INFO, "FIDO: reset: credentials and PIN erased");
	st = CTAP2_OK;
fail:
	explicit_bzero(attest, sizeof(attest));
	return st;
}

static uint8_t
dispatch(struct fido_auth *a, uint8_t cmd, const cbor_item_t *params,
    cbor_item_t **out)
{
	/* GetNextAssertion follows GetAssertion or itself directly */
	if (cmd != CTAP2_CMD_GET_NEXT_ASSERTION)
		memset(&a->next, 0, sizeof(a->next));
	switch (cmd) {
	case CTAP2_CMD_MAKE_CREDENTIAL:
		return make_cred(a, params, out);
	case CTAP2_CMD_GET_ASSERTION:
		return get_assert(a, params, out);
	case CTAP2_CMD_GET_NEXT_ASSERTION:
		if (params != NULL)
			return CTAP1_ERR_INVALID_LENGTH;
		return get_next_assert(a, out);
	case CTAP2_CMD_GET_INFO:
		if (params != NULL)
			return CTAP1_ERR_INVALID_LENGTH;
		return get_info(a, out);
	case CTAP2_CMD_CLIENT_PIN:
		return client_pin(a, params, out);
	case CTAP2_CMD_RESET:
		if (params != NULL)
			return CTAP1_ERR_INVALID_LENGTH;
		return reset(a);
	default:
		return CTAP1_ERR_INVALID_COMMAND;
	}
}

static int
known(uint8_t cmd)
{
	return strcmp(ctap2_cmd_name(cmd), "unknown") != 0;
}

int
ctap2_request(struct fido_auth *a, const uint8_t *req, size_t len,
    uint8_t *resp, size_t resp_cap, size_t *resp_len)
{
	cbor_item_t *params = NULL, *out = NULL;
	size_t n = 0;
	uint8_t st;

	if (a == NULL || req == NULL || len == 0 || resp == NULL ||
	    resp_cap < 1 || resp_len == NULL)
		return OL_ERR_ARG;
	ol_log(OL_LOG_INFO, "FIDO: CTAP2 %s (%02x)", ctap2_cmd_name(req[0]),
	    req[0]);
	if (!known(req[0])) {
		memset(&a->next, 0, sizeof(a->next));
		st = CTAP1_ERR_INVALID_COMMAND;
		goto out;
	}
	if (len > FIDO_MAX_MSG) {
		st = CTAP1_ERR_INVALID_LENGTH;
		goto out;
	}
	if (len > 1) {
		if ((st = fc_decode(req + 1, len - 1, &params)) != CTAP2_OK)
			goto out;
		if (!cbor_isa_map(params) || !cbor_map_is_definite(params)) {
			st = CTAP2_ERR_CBOR_UNEXPECTED_TYPE;
			goto out;
		}
	}
	st = dispatch(a, req[0], params, &out);
	if (st == CTAP2_OK && out != NULL &&
	    (n = fc_encode(out, resp + 1, resp_cap - 1)) == 0) {
		ol_log(OL_LOG_CRITICAL, "FIDO: response too long");
		st = CTAP1_ERR_OTHER;
	}
out:
	if (st != CTAP2_OK) {
		n = 0;
		ol_log(OL_LOG_INFO, "FIDO: %s: status %02x",
		    ctap2_cmd_name(req[0]), st);
	}
	resp[0] = st;
	*resp_len = 1 + n;
	if (out != NULL)
		cbor_decref(&out);
	if (params != NULL)
		cbor_decref(&params);
	return OL_OK;
}
