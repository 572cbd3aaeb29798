/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * openloop-sim's FIDO authenticator in-process (sim_fido.c and the files
 * of src/sim/fido/): GetInfo byte for byte, every CTAP2 command's
 * parameter checks and status codes, the touch results, GetNextAssertion,
 * ClientPIN's refusals, U2F framing and status words, credential IDs,
 * and the state file (round trip, malformed files refused, nothing kept
 * of a refused one).  The happy paths with signatures verified by an
 * independent implementation are in test_fido_host.c (libfido2).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "cose.h"
#include "cred_id.h"
#include "cred_store.h"
#include "ctap2.h"
#include "ctap2_params.h"
#include "fido_auth.h"
#include "fido_cbor.h"
#include "fido_crypto.h"
#include "ol_err.h"
#include "ol_log.h"
#include "sim_fido.h"

/* --- the simulated user --------------------------------------------------- */

struct user {
	enum sim_touch_result res;
	int calls;
	int last_timeout;
};

static enum sim_touch_result
user_wait(void *ctx)
{
	struct user *u = ctx;

	u->calls++;
	u->last_timeout = -1;
	return u->res;
}

static enum sim_touch_result
user_wait_for(void *ctx, int timeout_ms)
{
	struct user *u = ctx;

	u->calls++;
	u->last_timeout = timeout_ms;
	return u->res;
}

struct fx {
	struct user user;
	sim_fido_t *fido;
	char dir[64];
	char path[96];
};

static sim_fido_t *
fido_open(struct fx *fx, int with_file)
{
	struct sim_fido_config cfg;
	sim_fido_t *f = NULL;

	memset(&cfg, 0, sizeof(cfg));
	cfg.touch.wait = user_wait;
	cfg.touch.wait_for = user_wait_for;
	cfg.touch.ctx = &fx->user;
	cfg.state_path = with_file ? fx->path : NULL;
	assert_int_equal(sim_fido_new(&cfg, &f), OL_OK);
	return f;
}

static int
setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));

	ol_log_set_mask(0);
	assert_non_null(fx);
	strcpy(fx->dir, "/tmp/ol-fido-unit.XXXXXX");
	assert_non_null(mkdtemp(fx->dir));
	snprintf(fx->path, sizeof(fx->path), "%s/state.fido", fx->dir);
	fx->user.res = SIM_TOUCH_APPROVED;
	fx->fido = fido_open(fx, 1);
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *fx = *state;
	char tmp[128];

	sim_fido_free(&fx->fido);
	assert_null(fx->fido);
	(void)unlink(fx->path);
	snprintf(tmp, sizeof(tmp), "%s", fx->dir);
	(void)rmdir(tmp);
	free(fx);
	return 0;
}

/* --- requests ------------------------------------------------------------- */

static uint8_t resp[2048];
static size_t resp_len;

/* cmd and params (consumed; NULL: none) -> status; the CBOR in resp+1 */
static uint8_t
ctap(struct fx *fx, uint8_t cmd, cbor_item_t *params)
{
	uint8_t req[2048];
	size_t n = 0;

	req[0] = cmd;
	if (params != NULL) {
		n = fc_encode(params, req + 1, sizeof(req) - 1);
		assert_true(n > 0);
		cbor_decref(&params);
	}
	assert_int_equal(sim_fido_cbor(fx->fido, req, 1 + n, resp,
	    sizeof(resp), &resp_len), OL_OK);
	assert_true(resp_len >= 1);
	if (resp[0] != CTAP2_OK)
		assert_int_equal(resp_len, 1);
	return resp[0];
}

static cbor_item_t *
resp_map(void)
{
	cbor_item_t *m = NULL;

	assert_true(resp_len > 1);
	assert_int_equal(fc_decode(resp + 1, resp_len - 1, &m), CTAP2_OK);
	assert_true(cbor_isa_map(m));
	return m;
}

static const uint8_t cdh[32] = { 0xcd, 0x01, 0x02 };

static cbor_item_t *
entity(const char *key, cbor_item_t *id, const char *name)
{
	cbor_item_t *m = cbor_new_definite_map(name != NULL ? 2 : 1);

	(void)key;
	assert_true(fc_put(m, fc_text("id"), id));
	if (name != NULL)
		assert_true(fc_put(m, fc_text("name"), fc_text(name)));
	return m;
}

static cbor_item_t *
alg_list(int alg)
{
	cbor_item_t *a = cbor_new_definite_array(1), *m;

	m = cbor_new_definite_map(2);
	assert_true(fc_put(m, fc_text("alg"), fc_int(alg)));
	assert_true(fc_put(m, fc_text("type"), fc_text("public-key")));
	assert_true(fc_push(a, m));
	return a;
}

static cbor_item_t *
options(const char *k1, int v1, const char *k2, int v2)
{
	cbor_item_t *m = cbor_new_definite_map(k2 != NULL ? 2 : 1);

	assert_true(fc_put(m, fc_text(k1), cbor_build_bool(v1)));
	if (k2 != NULL)
		assert_true(fc_put(m, fc_text(k2), cbor_build_bool(v2)));
	return m;
}

/* makeCredential parameters; the caller may add to the map (8 slots) */
static cbor_item_t *
mc_params(const char *rp, uint8_t user, int alg, int rk)
{
	cbor_item_t *m = cbor_new_definite_map(8);

	assert_true(fc_put(m, fc_int(1), fc_bytes(cdh, sizeof(cdh))));
	assert_true(fc_put(m, fc_int(2), entity("rp", fc_text(rp), "RP")));
	assert_true(fc_put(m, fc_int(3), entity("user", fc_bytes(&user, 1),
	    "bob")));
	assert_true(fc_put(m, fc_int(4), alg_list(alg)));
	if (rk)
		assert_true(fc_put(m, fc_int(7), options("rk", 1, NULL, 0)));
	return m;
}

static cbor_item_t *
descriptor_list(const uint8_t *id, size_t len)
{
	cbor_item_t *a = cbor_new_definite_array(1), *d;

	d = cbor_new_definite_map(2);
	assert_true(fc_put(d, fc_text("id"), fc_bytes(id, len)));
	assert_true(fc_put(d, fc_text("type"), fc_text("public-key")));
	assert_true(fc_push(a, d));
	return a;
}

static cbor_item_t *
ga_params(const char *rp, const uint8_t *allow_id, size_t allow_len)
{
	cbor_item_t *m = cbor_new_definite_map(7);

	assert_true(fc_put(m, fc_int(1), fc_text(rp)));
	assert_true(fc_put(m, fc_int(2), fc_bytes(cdh, sizeof(cdh))));
	if (allow_id != NULL)
		assert_true(fc_put(m, fc_int(3), descriptor_list(allow_id,
		    allow_len)));
	return m;
}

/* makes a credential and returns its ID (62 bytes) */
static void
make(struct fx *fx, const char *rp, uint8_t user, int alg, int rk,
    uint8_t id[FIDO_CRED_ID_LEN])
{
	cbor_item_t *m;
	const uint8_t *ad;
	size_t n;

	assert_int_equal(ctap(fx, CTAP2_CMD_MAKE_CREDENTIAL,
	    mc_params(rp, user, alg, rk)), CTAP2_OK);
	m = resp_map();
	assert_true(fc_text_is(fc_map_get_int(m, 1), "packed"));
	assert_true(fc_get_bytes(fc_map_get_int(m, 2), &ad, &n));
	/* rpIdHash, flags UP|AT, counter, aaguid, L, ID, key */
	assert_true(n > 37 + 16 + 2 + FIDO_CRED_ID_LEN);
	assert_int_equal(ad[32], 0x41);
	assert_memory_equal(ad + 37, FIDO_AAGUID, 16);
	assert_int_equal(ad[53], 0);
	assert_int_equal(ad[54], FIDO_CRED_ID_LEN);
	memcpy(id, ad + 55, FIDO_CRED_ID_LEN);
	cbor_decref(&m);
}

/* --- GetInfo -------------------------------------------------------------- */

static const uint8_t expected_info[] = {
	0xa8,                                     /* map(8) */
	0x01, 0x82,                               /* versions */
	0x66, 'U', '2', 'F', '_', 'V', '2',
	0x68, 'F', 'I', 'D', 'O', '_', '2', '_', '0',
	0x02, 0x81,                               /* extensions */
	0x6b, 'c', 'r', 'e', 'd', 'P', 'r', 'o', 't', 'e', 'c', 't',
	0x03, 0x50,                               /* aaguid bytes(16) */
	'O', 'L', 'S', 'I', 'M', '-', 'F', 'I', 'D', 'O', '2', '-',
	'0', '0', '0', '1',
	0x04, 0xa4,                               /* options map(4) */
	0x62, 'r', 'k', 0xf5,
	0x62, 'u', 'p', 0xf5,
	0x64, 'p', 'l', 'a', 't', 0xf4,
	0x69, 'c', 'l', 'i', 'e', 'n', 't', 'P', 'i', 'n', 0xf4,
	0x05, 0x19, 0x04, 0xb0,                   /* maxMsgSize 1200 */
	0x06, 0x81, 0x01,                         /* pinProtocols [1] */
	0x09, 0x81, 0x63, 'u', 's', 'b',          /* transports */
	0x0a, 0x82,                               /* algorithms */
	0xa2, 0x63, 'a', 'l', 'g', 0x26,          /* -7 */
	0x64, 't', 'y', 'p', 'e',
	0x6a, 'p', 'u', 'b', 'l', 'i', 'c', '-', 'k', 'e', 'y',
	0xa2, 0x63, 'a', 'l', 'g', 0x27,          /* -8 */
	0x64, 't', 'y', 'p', 'e',
	0x6a, 'p', 'u', 'b', 'l', 'i', 'c', '-', 'k', 'e', 'y',
};

static void
get_info_bytes(void **state)
{
	struct fx *fx = *state;
	static const uint8_t with_param[] = { CTAP2_CMD_GET_INFO, 0xa0 };

	assert_int_equal(ctap(fx, CTAP2_CMD_GET_INFO, NULL), CTAP2_OK);
	assert_int_equal(resp_len, 1 + sizeof(expected_info));
	assert_memory_equal(resp + 1, expected_info, sizeof(expected_info));
	assert_int_equal(sim_fido_cbor(fx->fido, with_param,
	    sizeof(with_param), resp, sizeof(resp), &resp_len), OL_OK);
	assert_int_equal(resp_len, 1);
	assert_int_equal(resp[0], CTAP1_ERR_INVALID_LENGTH);
	/* too small a buffer: CTAP1_ERR_OTHER, never a cut response */
	assert_int_equal(sim_fido_cbor(fx->fido, with_param, 1, resp, 50,
	    &resp_len), OL_OK);
	assert_int_equal(resp_len, 1);
	assert_int_equal(resp[0], CTAP1_ERR_OTHER);
	assert_int_equal(sim_fido_cbor(fx->fido, with_param, 0, resp,
	    sizeof(resp), &resp_len), OL_ERR_ARG);
}

/* --- makeCredential ------------------------------------------------------- */

static void
make_cred_errors(void **state)
{
	struct fx *fx = *state;
	static const uint8_t not_map[] = { CTAP2_CMD_MAKE_CREDENTIAL, 0x80 };
	static const uint8_t bad_cbor[] = { CTAP2_CMD_MAKE_CREDENTIAL, 0xa1,
	    0x01 };
	cbor_item_t *m;
	uint8_t big[65];

	assert_int_equal(ctap(fx, CTAP2_CMD_MAKE_CREDENTIAL, NULL),
	    CTAP2_ERR_MISSING_PARAMETER);
	assert_int_equal(sim_fido_cbor(fx->fido, not_map, sizeof(not_map),
	    resp, sizeof(resp), &resp_len), OL_OK);
	assert_int_equal(resp[0], CTAP2_ERR_CBOR_UNEXPECTED_TYPE);
	assert_int_equal(sim_fido_cbor(fx->fido, bad_cbor, sizeof(bad_cbor),
	    resp, sizeof(resp), &resp_len), OL_OK);
	assert_int_equal(resp[0], CTAP2_ERR_INVALID_CBOR);

	/* clientDataHash missing, of the wrong type or length */
	m = cbor_new_definite_map(1);
	assert_true(fc_put(m, fc_int(2), entity("rp", fc_text("x"), NULL)));
	assert_int_equal(ctap(fx, CTAP2_CMD_MAKE_CREDENTIAL, m),
	    CTAP2_ERR_MISSING_PARAMETER);
	m = cbor_new_definite_map(1);
	assert_true(fc_put(m, fc_int(1), fc_text("hash")));
	assert_int_equal(ctap(fx, CTAP2_CMD_MAKE_CREDENTIAL, m),
	    CTAP2_ERR_CBOR_UNEXPECTED_TYPE);
	m = cbor_new_definite_map(1);
	assert_true(fc_put(m, fc_int(1), fc_bytes(cdh, 31)));
	assert_int_equal(ctap(fx, CTAP2_CMD_MAKE_CREDENTIAL, m),
	    CTAP1_ERR_INVALID_LENGTH);

	/* no supported algorithm (RS256 -257) */
	assert_int_equal(ctap(fx, CTAP2_CMD_MAKE_CREDENTIAL,
	    mc_params("a.example", 1, -257, 0)),
	    CTAP2_ERR_UNSUPPORTED_ALGORITHM);
	/* a user handle over 64 bytes */
	m = cbor_new_definite_map(4);
	memset(big, 1, sizeof(big));
	assert_true(fc_put(m, fc_int(1), fc_bytes(cdh, sizeof(cdh))));
	assert_true(fc_put(m, fc_int(2), entity("rp", fc_text("a"), NULL)));
	assert_true(fc_put(m, fc_int(3), entity("user", fc_bytes(big,
	    sizeof(big)), NULL)));
	assert_true(fc_put(m, fc_int(4), alg_list(COSE_ES256)));
	assert_int_equal(ctap(fx, CTAP2_CMD_MAKE_CREDENTIAL, m),
	    CTAP1_ERR_INVALID_LENGTH);
	/* the rp id must be text */
	m = cbor_new_definite_map(4);
	assert_true(fc_put(m, fc_int(1), fc_bytes(cdh, sizeof(cdh))));
	assert_true(fc_put(m, fc_int(2), entity("rp", fc_int(5), NULL)));
	assert_true(fc_put(m, fc_int(3), entity("user", fc_bytes(big, 1),
	    NULL)));
	assert_true(fc_put(m, fc_int(4), alg_list(COSE_ES256)));
	assert_int_equal(ctap(fx, CTAP2_CMD_MAKE_CREDENTIAL, m),
	    CTAP2_ERR_CBOR_UNEXPECTED_TYPE);

	/* uv: no built-in verification; up false: invalid */
	m = mc_params("a.example", 1, COSE_ES256, 0);
	assert_true(fc_put(m, fc_int(7), options("uv", 1, NULL, 0)));
	assert_int_equal(ctap(fx, CTAP2_CMD_MAKE_CREDENTIAL, m),
	    CTAP2_ERR_UNSUPPORTED_OPTION);
	m = mc_params("a.example", 1, COSE_ES256, 0);
	assert_true(fc_put(m, fc_int(7), options("up", 0, NULL, 0)));
	assert_int_equal(ctap(fx, CTAP2_CMD_MAKE_CREDENTIAL, m),
	    CTAP2_ERR_INVALID_OPTION);
	/* an option that is not a boolean */
	m = mc_params("a.example", 1, COSE_ES256, 0);
	{
		cbor_item_t *o = cbor_new_definite_map(1);

		assert_true(fc_put(o, fc_text("rk"), fc_int(1)));
		assert_true(fc_put(m, fc_int(7), o));
	}
	assert_int_equal(ctap(fx, CTAP2_CMD_MAKE_CREDENTIAL, m),
	    CTAP2_ERR_CBOR_UNEXPECTED_TYPE);
	/* a pinAuth without a PIN */
	m = mc_params("a.example", 1, COSE_ES256, 0);
	assert_true(fc_put(m, fc_int(8), fc_bytes(big, 16)));
	assert_true(fc_put(m, fc_int(9), fc_int(1)));
	assert_int_equal(ctap(fx, CTAP2_CMD_MAKE_CREDENTIAL, m),
	    CTAP2_ERR_PIN_NOT_SET);
	/* the empty pinAuth probe: a touch, then "no PIN" */
	fx->user.calls = 0;
	m = mc_params("a.example", 1, COSE_ES256, 0);
	assert_true(fc_put(m, fc_int(8), fc_bytes(big, 0)));
	assert_int_equal(ctap(fx, CTAP2_CMD_MAKE_CREDENTIAL, m),
	    CTAP2_ERR_PIN_NOT_SET);
	assert_int_equal(fx->user.calls, 1);
	/* none of that asked the user otherwise */
}

static void
make_cred_touch(void **state)
{
	struct fx *fx = *state;
	static const struct {
		enum sim_touch_result res;
		uint8_t status;
	} t[] = {
		{ SIM_TOUCH_DENIED, CTAP2_ERR_OPERATION_DENIED },
		{ SIM_TOUCH_TIMEOUT, CTAP2_ERR_USER_ACTION_TIMEOUT },
		{ SIM_TOUCH_CANCELLED, CTAP2_ERR_KEEPALIVE_CANCEL },
	};
	uint8_t id[FIDO_CRED_ID_LEN];
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		fx->user.res = t[i].res;
		fx->user.calls = 0;
		assert_int_equal(ctap(fx, CTAP2_CMD_MAKE_CREDENTIAL,
		    mc_params("t.example", 1, COSE_EDDSA, 1)), t[i].status);
		assert_int_equal(fx->user.calls, 1);
		assert_int_equal(fx->user.last_timeout, FIDO_UP_TIMEOUT_MS);
	}
	/* nothing was stored */
	fx->user.res = SIM_TOUCH_APPROVED;
	assert_int_equal(ctap(fx, CTAP2_CMD_GET_ASSERTION,
	    ga_params("t.example", NULL, 0)), CTAP2_ERR_NO_CREDENTIALS);
	/* excluded: after a touch; denied: denied */
	make(fx, "t.example", 2, COSE_ES256, 0, id);
	{
		cbor_item_t *m = mc_params("t.example", 3, COSE_ES256, 0);

		assert_true(fc_put(m, fc_int(5), descriptor_list(id,
		    sizeof(id))));
		fx->user.calls = 0;
		assert_int_equal(ctap(fx, CTAP2_CMD_MAKE_CREDENTIAL, m),
		    CTAP2_ERR_CREDENTIAL_EXCLUDED);
		assert_int_equal(fx->user.calls, 1);
		m = mc_params("t.example", 3, COSE_ES256, 0);
		assert_true(fc_put(m, fc_int(5), descriptor_list(id,
		    sizeof(id))));
		fx->user.res = SIM_TOUCH_DENIED;
		assert_int_equal(ctap(fx, CTAP2_CMD_MAKE_CREDENTIAL, m),
		    CTAP2_ERR_OPERATION_DENIED);
		/* another RP's exclude list does not know the ID */
		fx->user.res = SIM_TOUCH_APPROVED;
		m = mc_params("u.example", 3, COSE_ES256, 0);
		assert_true(fc_put(m, fc_int(5), descriptor_list(id,
		    sizeof(id))));
		assert_int_equal(ctap(fx, CTAP2_CMD_MAKE_CREDENTIAL, m),
		    CTAP2_OK);
	}
}

/* --- getAssertion, getNextAssertion -------------------------------------- */

static void
get_assert_paths(void **state)
{
	struct fx *fx = *state;
	uint8_t id[3][FIDO_CRED_ID_LEN], bad[FIDO_CRED_ID_LEN];
	const uint8_t *ad, *p;
	cbor_item_t *m, *o;
	int64_t v;
	size_t n;
	int i;

	assert_int_equal(ctap(fx, CTAP2_CMD_GET_NEXT_ASSERTION, NULL),
	    CTAP2_ERR_NOT_ALLOWED);
	for (i = 0; i < 3; i++)
		make(fx, "g.example", (uint8_t)(10 + i), i == 1 ? COSE_EDDSA :
		    COSE_ES256, 1, id[i]);
	/* three, newest first, numberOfCredentials in the first */
	assert_int_equal(ctap(fx, CTAP2_CMD_GET_ASSERTION,
	    ga_params("g.example", NULL, 0)), CTAP2_OK);
	m = resp_map();
	assert_true(fc_get_int(fc_map_get_int(m, 5), &v));
	assert_int_equal(v, 3);
	assert_true(fc_get_bytes(fc_map_get_text(fc_map_get_int(m, 1), "id"),
	    &p, &n));
	assert_memory_equal(p, id[2], FIDO_CRED_ID_LEN);
	/* no UV: only the user handle */
	o = fc_map_get_int(m, 4);
	assert_int_equal(cbor_map_size(o), 1);
	assert_true(fc_get_bytes(fc_map_get_text(o, "id"), &p, &n));
	assert_int_equal(p[0], 12);
	cbor_decref(&m);
	for (i = 1; i >= 0; i--) {
		assert_int_equal(ctap(fx, CTAP2_CMD_GET_NEXT_ASSERTION, NULL),
		    CTAP2_OK);
		m = resp_map();
		assert_null(fc_map_get_int(m, 5));
		assert_true(fc_get_bytes(fc_map_get_text(fc_map_get_int(m, 1),
		    "id"), &p, &n));
		assert_memory_equal(p, id[i], FIDO_CRED_ID_LEN);
		cbor_decref(&m);
	}
	assert_int_equal(ctap(fx, CTAP2_CMD_GET_NEXT_ASSERTION, NULL),
	    CTAP2_ERR_NOT_ALLOWED);
	/* another command in between ends the series */
	assert_int_equal(ctap(fx, CTAP2_CMD_GET_ASSERTION,
	    ga_params("g.example", NULL, 0)), CTAP2_OK);
	assert_int_equal(ctap(fx, CTAP2_CMD_GET_INFO, NULL), CTAP2_OK);
	assert_int_equal(ctap(fx, CTAP2_CMD_GET_NEXT_ASSERTION, NULL),
	    CTAP2_ERR_NOT_ALLOWED);

	/* up false: no touch, no UP flag; counters per credential */
	fx->user.calls = 0;
	m = ga_params("g.example", id[0], sizeof(id[0]));
	assert_true(fc_put(m, fc_int(5), options("up", 0, NULL, 0)));
	assert_int_equal(ctap(fx, CTAP2_CMD_GET_ASSERTION, m), CTAP2_OK);
	assert_int_equal(fx->user.calls, 0);
	m = resp_map();
	assert_true(fc_get_bytes(fc_map_get_int(m, 2), &ad, &n));
	assert_int_equal(n, 37);
	assert_int_equal(ad[32], 0x00);
	/* id[0]: once in the series of three, once now */
	assert_int_equal(ad[36], 2);
	cbor_decref(&m);

	/* rk and uv options refused; a tampered ID is not ours */
	m = ga_params("g.example", NULL, 0);
	assert_true(fc_put(m, fc_int(5), options("rk", 1, NULL, 0)));
	assert_int_equal(ctap(fx, CTAP2_CMD_GET_ASSERTION, m),
	    CTAP2_ERR_UNSUPPORTED_OPTION);
	m = ga_params("g.example", NULL, 0);
	assert_true(fc_put(m, fc_int(5), options("uv", 1, NULL, 0)));
	assert_int_equal(ctap(fx, CTAP2_CMD_GET_ASSERTION, m),
	    CTAP2_ERR_UNSUPPORTED_OPTION);
	memcpy(bad, id[0], sizeof(bad));
	bad[40] ^= 1;
	fx->user.calls = 0;
	assert_int_equal(ctap(fx, CTAP2_CMD_GET_ASSERTION,
	    ga_params("g.example", bad, sizeof(bad))),
	    CTAP2_ERR_NO_CREDENTIALS);
	/* the user is asked even then (no silent probing) */
	assert_int_equal(fx->user.calls, 1);
	/* missing rpId, a descriptor without "id" */
	m = cbor_new_definite_map(1);
	assert_true(fc_put(m, fc_int(2), fc_bytes(cdh, sizeof(cdh))));
	assert_int_equal(ctap(fx, CTAP2_CMD_GET_ASSERTION, m),
	    CTAP2_ERR_MISSING_PARAMETER);
	m = ga_params("g.example", NULL, 0);
	{
		cbor_item_t *a = cbor_new_definite_array(1);
		cbor_item_t *d = cbor_new_definite_map(1);

		assert_true(fc_put(d, fc_text("type"), fc_text("public-key")));
		assert_true(fc_push(a, d));
		assert_true(fc_put(m, fc_int(3), a));
	}
	assert_int_equal(ctap(fx, CTAP2_CMD_GET_ASSERTION, m),
	    CTAP2_ERR_MISSING_PARAMETER);
	/* a denied touch */
	fx->user.res = SIM_TOUCH_DENIED;
	assert_int_equal(ctap(fx, CTAP2_CMD_GET_ASSERTION,
	    ga_params("g.example", NULL, 0)), CTAP2_ERR_OPERATION_DENIED);
}

/* --- credProtect --------------------------------------------------------- */

static uint16_t u2f(struct fx *fx, const uint8_t *apdu, size_t len);

/* makeCredential with extensions ext (consumed): status; on success the
 * credential ID into id and the authenticator data's flags and
 * extension outputs (after the COSE key) into *flags, ext_out */
static uint8_t
make_ext(struct fx *fx, const char *rp, uint8_t user, int rk,
    cbor_item_t *ext, uint8_t id[FIDO_CRED_ID_LEN], uint8_t *flags,
    uint8_t *ext_out, size_t *ext_len)
{
	cbor_item_t *m = mc_params(rp, user, COSE_ES256, rk), *key = NULL;
	struct cbor_load_result r;
	const uint8_t *ad;
	size_t n, k;
	uint8_t st;

	assert_true(fc_put(m, fc_int(6), ext));
	if ((st = ctap(fx, CTAP2_CMD_MAKE_CREDENTIAL, m)) != CTAP2_OK)
		return st;
	m = resp_map();
	assert_true(fc_get_bytes(fc_map_get_int(m, 2), &ad, &n));
	*flags = ad[32];
	memcpy(id, ad + 55, FIDO_CRED_ID_LEN);
	/* the COSE key ends where its encoding ends */
	key = cbor_load(ad + 55 + FIDO_CRED_ID_LEN, n - 55 - FIDO_CRED_ID_LEN,
	    &r);
	assert_non_null(key);
	k = r.read;
	cbor_decref(&key);
	*ext_len = n - 55 - FIDO_CRED_ID_LEN - k;
	memcpy(ext_out, ad + 55 + FIDO_CRED_ID_LEN + k, *ext_len);
	cbor_decref(&m);
	return CTAP2_OK;
}

static cbor_item_t *
ext_map(const char *name, cbor_item_t *value)
{
	cbor_item_t *m = cbor_new_definite_map(1);

	assert_true(fc_put(m, fc_text(name), value));
	return m;
}

static void
cred_protect(void **state)
{
	struct fx *fx = *state;
	/* {"credProtect": 2} */
	static const uint8_t out2[] = { 0xa1, 0x6b, 'c', 'r', 'e', 'd', 'P',
	    'r', 'o', 't', 'e', 'c', 't', 0x02 };
	uint8_t id1[FIDO_CRED_ID_LEN], id2[FIDO_CRED_ID_LEN];
	uint8_t id3[FIDO_CRED_ID_LEN], idx[FIDO_CRED_ID_LEN];
	uint8_t flags, out[64], apdu[7 + 65 + FIDO_CRED_ID_LEN + 2], app[32];
	const uint8_t *p;
	size_t out_len, n;
	cbor_item_t *m;
	int64_t v;

	/* level 2: answered in the extension outputs, ED flag set */
	assert_int_equal(make_ext(fx, "p.example", 2, 1, ext_map("credProtect",
	    fc_int(2)), id2, &flags, out, &out_len), CTAP2_OK);
	assert_int_equal(flags, 0x41 | 0x80);
	assert_int_equal(out_len, sizeof(out2));
	assert_memory_equal(out, out2, sizeof(out2));
	assert_int_equal(cred_id_prot(id2, sizeof(id2)), 2);
	/* an unknown extension: ignored, no output, no ED */
	assert_int_equal(make_ext(fx, "p.example", 1, 1, ext_map("hmac-secret",
	    cbor_build_bool(true)), id1, &flags, out, &out_len), CTAP2_OK);
	assert_int_equal(flags, 0x41);
	assert_int_equal(out_len, 0);
	assert_int_equal(cred_id_prot(id1, sizeof(id1)), 1);
	/* a level that does not exist: ignored as well */
	assert_int_equal(make_ext(fx, "p.example", 9, 0, ext_map("credProtect",
	    fc_int(7)), idx, &flags, out, &out_len), CTAP2_OK);
	assert_int_equal(flags, 0x41);
	assert_int_equal(out_len, 0);
	/* not an unsigned integer: refused */
	assert_int_equal(make_ext(fx, "p.example", 9, 0, ext_map("credProtect",
	    fc_text("2")), idx, &flags, out, &out_len),
	    CTAP2_ERR_CBOR_UNEXPECTED_TYPE);
	assert_int_equal(make_ext(fx, "p.example", 9, 0, ext_map("credProtect",
	    fc_int(-1)), idx, &flags, out, &out_len),
	    CTAP2_ERR_CBOR_UNEXPECTED_TYPE);
	/* level 3, resident */
	assert_int_equal(make_ext(fx, "p.example", 3, 1, ext_map("credProtect",
	    fc_int(3)), id3, &flags, out, &out_len), CTAP2_OK);
	assert_int_equal(out[out_len - 1], 3);

	/* without UV and without allowList only level 1 is discovered */
	assert_int_equal(ctap(fx, CTAP2_CMD_GET_ASSERTION,
	    ga_params("p.example", NULL, 0)), CTAP2_OK);
	m = resp_map();
	assert_null(fc_map_get_int(m, 5));
	assert_true(fc_get_bytes(fc_map_get_text(fc_map_get_int(m, 1), "id"),
	    &p, &n));
	assert_memory_equal(p, id1, FIDO_CRED_ID_LEN);
	cbor_decref(&m);
	/* level 2 with its ID: found; level 3 with its ID: not without UV */
	assert_int_equal(ctap(fx, CTAP2_CMD_GET_ASSERTION,
	    ga_params("p.example", id2, sizeof(id2))), CTAP2_OK);
	m = resp_map();
	assert_true(fc_get_bytes(fc_map_get_text(fc_map_get_int(m, 1), "id"),
	    &p, &n));
	assert_memory_equal(p, id2, FIDO_CRED_ID_LEN);
	cbor_decref(&m);
	fx->user.calls = 0;
	assert_int_equal(ctap(fx, CTAP2_CMD_GET_ASSERTION,
	    ga_params("p.example", id3, sizeof(id3))), CTAP2_ERR_NO_CREDENTIALS);
	assert_int_equal(fx->user.calls, 1);
	/* nor does it exclude without UV (CTAP 2.1 6.1.2 step 11) */
	m = mc_params("p.example", 4, COSE_ES256, 0);
	assert_true(fc_put(m, fc_int(5), descriptor_list(id3, sizeof(id3))));
	assert_int_equal(ctap(fx, CTAP2_CMD_MAKE_CREDENTIAL, m), CTAP2_OK);
	m = mc_params("p.example", 4, COSE_ES256, 0);
	assert_true(fc_put(m, fc_int(5), descriptor_list(id2, sizeof(id2))));
	assert_int_equal(ctap(fx, CTAP2_CMD_MAKE_CREDENTIAL, m),
	    CTAP2_ERR_CREDENTIAL_EXCLUDED);
	/* the level survives a power cycle with the stored credential */
	sim_fido_free(&fx->fido);
	fx->fido = fido_open(fx, 1);
	assert_int_equal(ctap(fx, CTAP2_CMD_GET_ASSERTION,
	    ga_params("p.example", NULL, 0)), CTAP2_OK);
	m = resp_map();
	assert_true(fc_get_bytes(fc_map_get_text(fc_map_get_int(m, 1), "id"),
	    &p, &n));
	assert_memory_equal(p, id1, FIDO_CRED_ID_LEN);
	assert_false(fc_get_int(fc_map_get_int(m, 5), &v));
	cbor_decref(&m);

	/* U2F cannot verify the user: a level-3 key handle is not one */
	fcr_sha256((const uint8_t *)"q.example", 9, app);
	assert_int_equal(make_ext(fx, "q.example", 1, 0, ext_map("credProtect",
	    fc_int(3)), id3, &flags, out, &out_len), CTAP2_OK);
	assert_int_equal(make_ext(fx, "q.example", 2, 0, ext_map("credProtect",
	    fc_int(2)), id2, &flags, out, &out_len), CTAP2_OK);
	memset(apdu, 0, sizeof(apdu));
	apdu[1] = 0x02;
	apdu[2] = 0x03;
	apdu[6] = (uint8_t)(65 + FIDO_CRED_ID_LEN);
	memcpy(apdu + 7 + 32, app, 32);
	apdu[7 + 64] = FIDO_CRED_ID_LEN;
	memcpy(apdu + 7 + 65, id3, FIDO_CRED_ID_LEN);
	n = 7 + 65 + FIDO_CRED_ID_LEN;
	assert_int_equal(u2f(fx, apdu, n), 0x6a80);
	memcpy(apdu + 7 + 65, id2, FIDO_CRED_ID_LEN);
	assert_int_equal(u2f(fx, apdu, n), 0x9000);
}

/* --- ClientPIN, reset ----------------------------------------------------- */

static cbor_item_t *
pin_params(int proto, int sub)
{
	cbor_item_t *m = cbor_new_definite_map(6);

	assert_true(fc_put(m, fc_int(1), fc_int(proto)));
	if (sub >= 0)
		assert_true(fc_put(m, fc_int(2), fc_int(sub)));
	return m;
}

static void
client_pin_refusals(void **state)
{
	struct fx *fx = *state;
	cbor_item_t *m, *k;
	uint8_t x[32], y[32], junk[64];
	int64_t v;

	assert_int_equal(ctap(fx, CTAP2_CMD_CLIENT_PIN, NULL),
	    CTAP2_ERR_MISSING_PARAMETER);
	assert_int_equal(ctap(fx, CTAP2_CMD_CLIENT_PIN, pin_params(1, -1)),
	    CTAP2_ERR_MISSING_PARAMETER);
	assert_int_equal(ctap(fx, CTAP2_CMD_CLIENT_PIN, pin_params(2, 1)),
	    CTAP1_ERR_INVALID_PARAMETER);
	assert_int_equal(ctap(fx, CTAP2_CMD_CLIENT_PIN, pin_params(1, 9)),
	    CTAP1_ERR_INVALID_PARAMETER);
	/* getRetries */
	assert_int_equal(ctap(fx, CTAP2_CMD_CLIENT_PIN, pin_params(1, 1)),
	    CTAP2_OK);
	m = resp_map();
	assert_true(fc_get_int(fc_map_get_int(m, 3), &v));
	assert_int_equal(v, 8);
	cbor_decref(&m);
	/* getKeyAgreement: an EC2 P-256 key for ECDH-ES+HKDF-256 */
	assert_int_equal(ctap(fx, CTAP2_CMD_CLIENT_PIN, pin_params(1, 2)),
	    CTAP2_OK);
	m = resp_map();
	k = fc_map_get_int(m, 1);
	assert_int_equal(cose_decode_ecdh(k, x, y), CTAP2_OK);
	assert_true(fc_get_int(fc_map_get_int(k, 3), &v));
	assert_int_equal(v, COSE_ECDH_ES_HKDF_256);
	/* our own point is on the curve: a platform key like it decodes,
	 * one with a short coordinate does not */
	assert_true(fc_get_int(fc_map_get_int(k, 1), &v));
	assert_int_equal(v, 2);
	cbor_decref(&m);
	/* setPIN with parameters missing; change and token without PIN */
	assert_int_equal(ctap(fx, CTAP2_CMD_CLIENT_PIN, pin_params(1, 3)),
	    CTAP2_ERR_MISSING_PARAMETER);
	memset(junk, 0, sizeof(junk));
	m = pin_params(1, 4);
	assert_true(fc_put(m, fc_int(3), cose_encode(COSE_ES256,
	    COSE_ECDH_ES_HKDF_256, junk, 64)));
	assert_true(fc_put(m, fc_int(4), fc_bytes(junk, 16)));
	assert_true(fc_put(m, fc_int(5), fc_bytes(junk, 64)));
	assert_true(fc_put(m, fc_int(6), fc_bytes(junk, 16)));
	assert_int_equal(ctap(fx, CTAP2_CMD_CLIENT_PIN, m),
	    CTAP2_ERR_PIN_NOT_SET);
	m = pin_params(1, 5);
	assert_true(fc_put(m, fc_int(3), cose_encode(COSE_ES256,
	    COSE_ECDH_ES_HKDF_256, junk, 64)));
	assert_true(fc_put(m, fc_int(6), fc_bytes(junk, 16)));
	assert_int_equal(ctap(fx, CTAP2_CMD_CLIENT_PIN, m),
	    CTAP2_ERR_PIN_NOT_SET);
	/* setPIN with a point that is not on the curve */
	m = pin_params(1, 3);
	assert_true(fc_put(m, fc_int(3), cose_encode(COSE_ES256,
	    COSE_ECDH_ES_HKDF_256, junk, 64)));
	assert_true(fc_put(m, fc_int(4), fc_bytes(junk, 16)));
	assert_true(fc_put(m, fc_int(5), fc_bytes(junk, 64)));
	assert_int_equal(ctap(fx, CTAP2_CMD_CLIENT_PIN, m),
	    CTAP1_ERR_INVALID_PARAMETER);
}

static void
reset_needs_touch(void **state)
{
	struct fx *fx = *state;
	uint8_t id[FIDO_CRED_ID_LEN];

	make(fx, "r.example", 1, COSE_ES256, 1, id);
	fx->user.res = SIM_TOUCH_DENIED;
	assert_int_equal(ctap(fx, CTAP2_CMD_RESET, NULL),
	    CTAP2_ERR_OPERATION_DENIED);
	fx->user.res = SIM_TOUCH_APPROVED;
	assert_int_equal(ctap(fx, CTAP2_CMD_GET_ASSERTION,
	    ga_params("r.example", NULL, 0)), CTAP2_OK);
	assert_int_equal(ctap(fx, CTAP2_CMD_RESET, NULL), CTAP2_OK);
	assert_int_equal(ctap(fx, CTAP2_CMD_GET_ASSERTION,
	    ga_params("r.example", NULL, 0)), CTAP2_ERR_NO_CREDENTIALS);
	assert_int_equal(ctap(fx, CTAP2_CMD_GET_ASSERTION,
	    ga_params("r.example", id, sizeof(id))), CTAP2_ERR_NO_CREDENTIALS);
}

/* --- U2F ------------------------------------------------------------------ */

static uint16_t
u2f(struct fx *fx, const uint8_t *apdu, size_t len)
{
	assert_int_equal(sim_fido_msg(fx->fido, apdu, len, resp, sizeof(resp),
	    &resp_len), OL_OK);
	assert_true(resp_len >= 2);
	return (uint16_t)(resp[resp_len - 2] << 8 | resp[resp_len - 1]);
}

static void
u2f_messages(void **state)
{
	struct fx *fx = *state;
	uint8_t apdu[7 + 65 + 255 + 2], kh[FIDO_CRED_ID_LEN], app[32];
	uint8_t ed[FIDO_CRED_ID_LEN];
	static const uint8_t version[] = { 0x00, 0x03, 0x00, 0x00 };
	static const uint8_t version_data[] = { 0x00, 0x03, 0x00, 0x00, 0x01,
	    0x00 };
	static const uint8_t cla[] = { 0x80, 0x03, 0x00, 0x00 };
	static const uint8_t ins[] = { 0x00, 0x05, 0x00, 0x00 };
	size_t n;

	assert_int_equal(u2f(fx, version, sizeof(version)), 0x9000);
	assert_int_equal(resp_len, 8);
	assert_memory_equal(resp, "U2F_V2", 6);
	assert_int_equal(u2f(fx, version_data, sizeof(version_data)), 0x6700);
	assert_int_equal(u2f(fx, cla, sizeof(cla)), 0x6e00);
	assert_int_equal(u2f(fx, ins, sizeof(ins)), 0x6d00);
	assert_int_equal(u2f(fx, version, 3), 0x6700);

	/* REGISTER: extended APDU, 64 bytes of data */
	memset(apdu, 0, sizeof(apdu));
	apdu[1] = 0x01;
	apdu[6] = 64;
	memset(apdu + 7, 0x11, 32);      /* challenge */
	fcr_sha256((const uint8_t *)"u.example", 9, app);
	memcpy(apdu + 7 + 32, app, 32);
	assert_int_equal(u2f(fx, apdu, 7 + 64 + 2), 0x9000);
	assert_int_equal(resp[0], 0x05);
	assert_int_equal(resp[1], 0x04);
	assert_int_equal(resp[66], FIDO_CRED_ID_LEN);
	memcpy(kh, resp + 67, sizeof(kh));
	/* the certificate: a DER SEQUENCE */
	assert_int_equal(resp[67 + sizeof(kh)], 0x30);
	/* wrong length */
	apdu[6] = 63;
	assert_int_equal(u2f(fx, apdu, 7 + 63), 0x6700);
	/* denied: 6985 */
	fx->user.res = SIM_TOUCH_DENIED;
	apdu[6] = 64;
	assert_int_equal(u2f(fx, apdu, 7 + 64), 0x6985);
	assert_int_equal(resp_len, 2);
	fx->user.res = SIM_TOUCH_APPROVED;

	/* AUTHENTICATE: challenge, application, L, key handle */
	apdu[1] = 0x02;
	apdu[6] = (uint8_t)(65 + sizeof(kh));
	memcpy(apdu + 7 + 32, app, 32);
	apdu[7 + 64] = (uint8_t)sizeof(kh);
	memcpy(apdu + 7 + 65, kh, sizeof(kh));
	n = 7 + 65 + sizeof(kh);
	apdu[2] = 0x07;   /* check-only: "mine" */
	fx->user.calls = 0;
	assert_int_equal(u2f(fx, apdu, n), 0x6985);
	assert_int_equal(fx->user.calls, 0);
	apdu[2] = 0x03;   /* enforce */
	assert_int_equal(u2f(fx, apdu, n), 0x9000);
	assert_int_equal(fx->user.calls, 1);
	assert_int_equal(resp[0], 0x01);
	assert_int_equal(resp[4], 1);       /* counter 1 */
	apdu[2] = 0x08;   /* don't enforce: no touch, no UP */
	assert_int_equal(u2f(fx, apdu, n), 0x9000);
	assert_int_equal(fx->user.calls, 1);
	assert_int_equal(resp[0], 0x00);
	assert_int_equal(resp[4], 2);
	fx->user.res = SIM_TOUCH_TIMEOUT;
	apdu[2] = 0x03;
	assert_int_equal(u2f(fx, apdu, n), 0x6985);
	fx->user.res = SIM_TOUCH_APPROVED;
	apdu[2] = 0x01;   /* unknown control byte */
	assert_int_equal(u2f(fx, apdu, n), 0x6a86);
	/* another application: not ours */
	apdu[2] = 0x07;
	apdu[7 + 32] ^= 1;
	assert_int_equal(u2f(fx, apdu, n), 0x6a80);
	apdu[7 + 32] ^= 1;
	/* L that disagrees with the length */
	apdu[7 + 64] = (uint8_t)(sizeof(kh) + 1);
	assert_int_equal(u2f(fx, apdu, n), 0x6700);
	apdu[7 + 64] = (uint8_t)sizeof(kh);
	/* an EdDSA CTAP2 credential cannot sign U2F */
	make(fx, "u.example", 1, COSE_EDDSA, 0, ed);
	memcpy(apdu + 7 + 65, ed, sizeof(ed));
	assert_int_equal(u2f(fx, apdu, n), 0x6a80);
	/* the U2F key handle in CTAP2 */
	assert_int_equal(ctap(fx, CTAP2_CMD_GET_ASSERTION,
	    ga_params("u.example", kh, sizeof(kh))), CTAP2_OK);
}

/* --- credential IDs and the state file ------------------------------------ */

static void
cred_ids(void **state)
{
	uint8_t secret[32], other[32], rp[32], rp2[32], priv[32], out[32];
	uint8_t id[FIDO_CRED_ID_LEN], bad[FIDO_CRED_ID_LEN];
	size_t i;
	int alg;

	(void)state;
	memset(secret, 0x5e, sizeof(secret));
	memset(other, 0x5f, sizeof(other));
	memset(rp, 1, sizeof(rp));
	memset(rp2, 2, sizeof(rp2));
	assert_int_equal(fcr_keygen(COSE_ES256, priv), OL_OK);
	assert_int_equal(cred_id_wrap(secret, COSE_ES256, FIDO_PROT_UV_OPTIONAL,
	    priv, rp, id), OL_OK);
	assert_int_equal(cred_id_unwrap(secret, id, sizeof(id), rp, &alg,
	    out), OL_OK);
	assert_int_equal(alg, COSE_ES256);
	assert_memory_equal(out, priv, 32);
	/* an ID of before credProtect (type byte 01) is level 1 */
	assert_int_equal(id[1], 0x01);
	assert_int_equal(cred_id_prot(id, sizeof(id)), FIDO_PROT_UV_OPTIONAL);
	assert_int_equal(cred_id_unwrap(secret, id, sizeof(id), rp2, &alg,
	    out), OL_ERR_PROTOCOL);
	assert_int_equal(cred_id_unwrap(other, id, sizeof(id), rp, &alg,
	    out), OL_ERR_PROTOCOL);
	assert_int_equal(cred_id_unwrap(secret, id, sizeof(id) - 1, rp, &alg,
	    out), OL_ERR_PROTOCOL);
	/* every single bit matters, the algorithm byte too */
	for (i = 0; i < sizeof(id) * 8; i++) {
		memcpy(bad, id, sizeof(bad));
		bad[i / 8] ^= (uint8_t)(1u << (i % 8));
		assert_int_equal(cred_id_unwrap(secret, bad, sizeof(bad), rp,
		    &alg, out), OL_ERR_PROTOCOL);
	}
	assert_int_equal(cred_id_wrap(secret, -257, FIDO_PROT_UV_OPTIONAL,
	    priv, rp, id), OL_ERR_ARG);
	assert_int_equal(cred_id_wrap(secret, COSE_ES256, 0, priv, rp, id),
	    OL_ERR_ARG);
	assert_int_equal(cred_id_wrap(secret, COSE_ES256, 4, priv, rp, id),
	    OL_ERR_ARG);
	/* the level travels in the ID, authenticated: lowering it breaks it */
	assert_int_equal(cred_id_wrap(secret, COSE_EDDSA, FIDO_PROT_UV_REQUIRED,
	    priv, rp, id), OL_OK);
	assert_int_equal(cred_id_prot(id, sizeof(id)), FIDO_PROT_UV_REQUIRED);
	assert_int_equal(cred_id_unwrap(secret, id, sizeof(id), rp, &alg,
	    out), OL_OK);
	assert_int_equal(alg, COSE_EDDSA);
	memcpy(bad, id, sizeof(bad));
	bad[1] = 0x02;
	assert_int_equal(cred_id_prot(bad, sizeof(bad)), FIDO_PROT_UV_OPTIONAL);
	assert_int_equal(cred_id_unwrap(secret, bad, sizeof(bad), rp, &alg,
	    out), OL_ERR_PROTOCOL);
	bad[1] = 0x32;   /* level 4 does not exist */
	assert_int_equal(cred_id_prot(bad, sizeof(bad)), 0);
	assert_int_equal(cred_id_prot(id, sizeof(id) - 1), 0);
	assert_int_equal(cred_id_prot(NULL, sizeof(id)), 0);
}

static void
state_file(void **state)
{
	struct fx *fx = *state;
	struct fido_state st, st2;
	uint8_t id[FIDO_CRED_ID_LEN], *buf = NULL;
	struct stat sb;
	size_t len, i;
	FILE *f;

	/* a fresh device wrote its file at once, mode 0600 */
	assert_int_equal(stat(fx->path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	make(fx, "s.example", 1, COSE_EDDSA, 1, id);
	/* a power cycle: the credential is still there */
	sim_fido_free(&fx->fido);
	fx->fido = fido_open(fx, 1);
	assert_int_equal(ctap(fx, CTAP2_CMD_GET_ASSERTION,
	    ga_params("s.example", NULL, 0)), CTAP2_OK);

	/* encode/decode round trip; every truncation refused */
	assert_int_equal(cred_store_load(fx->path, &st), OL_OK);
	assert_int_equal(st.n_rk, 1);
	assert_int_equal(st.rk[0].counter, 1);
	assert_int_equal(cred_store_encode(&st, &buf, &len), OL_OK);
	assert_int_equal(cred_store_decode(buf, len, &st2), OL_OK);
	assert_memory_equal(&st.rk[0], &st2.rk[0], sizeof(st.rk[0]));
	assert_memory_equal(st.secret, st2.secret, sizeof(st.secret));
	for (i = 0; i < len; i++)
		assert_int_equal(cred_store_decode(buf, i, &st2),
		    OL_ERR_PROTOCOL);
	/* a flipped magic byte or a flipped version */
	buf[0] ^= 1;
	assert_int_equal(cred_store_decode(buf, len, &st2), OL_ERR_PROTOCOL);
	buf[0] ^= 1;
	/* a malformed file: sim_fido_new() refuses it and leaves it */
	f = fopen(fx->path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(buf, 1, len / 2, f), len / 2);
	fclose(f);
	sim_fido_free(&fx->fido);
	{
		struct sim_fido_config cfg;
		sim_fido_t *g = NULL;

		memset(&cfg, 0, sizeof(cfg));
		cfg.state_path = fx->path;
		assert_int_equal(sim_fido_new(&cfg, &g), OL_ERR_PROTOCOL);
		assert_null(g);
	}
	assert_int_equal(stat(fx->path, &sb), 0);
	assert_int_equal((size_t)sb.st_size, len / 2);
	explicit_bzero(buf, len);
	free(buf);
	cred_store_clear(&st);
	cred_store_clear(&st2);
	fx->fido = fido_open(fx, 0);
}

/* What fc_decode() refuses before libcbor allocates */
static void
cbor_decoder_limits(void **state)
{
	static const struct {
		const uint8_t *p;
		size_t n;
	} bad[] = {
		/* an array of 2^32 items in 9 bytes */
		{ (const uint8_t *)"\x9b\x00\x00\x00\x01\x00\x00\x00\x00", 9 },
		/* a map of 3 entries with 4 bytes left */
		{ (const uint8_t *)"\xa3\x01\x02\x03\x04", 5 },
		/* a byte string longer than the input */
		{ (const uint8_t *)"\x59\xff\xff\x00", 4 },
		/* indefinite map, tag, reserved additional information */
		{ (const uint8_t *)"\xbf\x01\x02\xff", 4 },
		{ (const uint8_t *)"\xc1\x01", 2 },
		{ (const uint8_t *)"\x1c", 1 },
		/* nine levels of arrays */
		{ (const uint8_t *)"\x81\x81\x81\x81\x81\x81\x81\x81\x81\x01",
		    10 },
		/* something after the item */
		{ (const uint8_t *)"\xa0\x00", 2 },
		/* a head cut short */
		{ (const uint8_t *)"\x19\x01", 2 },
	};
	static const uint8_t eight[] = { 0x81, 0x81, 0x81, 0x81, 0x81, 0x81,
	    0x81, 0x81, 0x01 };
	cbor_item_t *item = NULL;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(fc_decode(bad[i].p, bad[i].n, &item),
		    CTAP2_ERR_INVALID_CBOR);
		assert_null(item);
	}
	assert_int_equal(fc_decode(eight, sizeof(eight), &item), CTAP2_OK);
	cbor_decref(&item);
	assert_int_equal(fc_decode(eight, 0, &item), CTAP2_ERR_INVALID_CBOR);
}

/*
 * A float where a boolean belongs: libcbor 0.8's cbor_is_bool() asserts
 * on it, so one CTAP2 request with {"rk": 1.0} killed the simulator
 * (found by fuzz_fido_state in CI).  Only the simple values true and
 * false are booleans; every other item is refused, not fatal.
 */
static void
bool_only_from_simple_values(void **state)
{
	static const struct {
		const char *cbor;
		size_t n;
		int ok, v;
	} items[] = {
		{ "\xf5", 1, 1, 1 },
		{ "\xf4", 1, 1, 0 },
		{ "\xf6", 1, 0, 0 },                     /* null */
		{ "\xf7", 1, 0, 0 },                     /* undefined */
		{ "\xf9\x3c\x00", 3, 0, 0 },             /* half 1.0 */
		{ "\xfa\x3f\x80\x00\x00", 5, 0, 0 },     /* float 1.0 */
		{ "\xfa\xff\xff\xff\xf4", 5, 0, 0 },     /* a NaN */
		{ "\xfb\x3f\xf0\x00\x00\x00\x00\x00\x00", 9, 0, 0 },
		{ "\x01", 1, 0, 0 },
		{ "\x61\x74", 2, 0, 0 },                 /* "t" */
	};
	/* {"rk": 1.0f} and {"up": half 0.0}: options of a request */
	static const uint8_t rk_float[] = { 0xa1, 0x62, 'r', 'k', 0xfa,
	    0x3f, 0x80, 0x00, 0x00 };
	static const uint8_t up_half[] = { 0xa1, 0x62, 'u', 'p', 0xf9,
	    0x00, 0x00 };
	struct ctap2_options o;
	cbor_item_t *item = NULL;
	size_t i;
	int v;

	(void)state;
	for (i = 0; i < sizeof(items) / sizeof(items[0]); i++) {
		assert_int_equal(fc_decode((const uint8_t *)items[i].cbor,
		    items[i].n, &item), CTAP2_OK);
		v = -1;
		assert_int_equal(fc_get_bool(item, &v), items[i].ok);
		assert_int_equal(v, items[i].ok ? items[i].v : -1);
		cbor_decref(&item);
	}
	assert_int_equal(fc_get_bool(NULL, &v), 0);
	assert_int_equal(fc_decode(rk_float, sizeof(rk_float), &item),
	    CTAP2_OK);
	assert_int_equal(ctap2_parse_options(item, &o),
	    CTAP2_ERR_CBOR_UNEXPECTED_TYPE);
	cbor_decref(&item);
	assert_int_equal(fc_decode(up_half, sizeof(up_half), &item),
	    CTAP2_OK);
	assert_int_equal(ctap2_parse_options(item, &o),
	    CTAP2_ERR_CBOR_UNEXPECTED_TYPE);
	cbor_decref(&item);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(get_info_bytes, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(make_cred_errors, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(make_cred_touch, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(get_assert_paths, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(cred_protect, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(client_pin_refusals, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(reset_needs_touch, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(u2f_messages, setup, teardown),
		cmocka_unit_test_setup_teardown(cred_ids, setup, teardown),
		cmocka_unit_test_setup_teardown(state_file, setup, teardown),
		cmocka_unit_test(cbor_decoder_limits),
		cmocka_unit_test(bool_only_from_simple_values),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
