/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The FIDO authenticator object: its state at start (the file or a fresh
 * one), what a power-up makes (PIN protocol key and token, the U2F
 * attestation certificate), and the entry points the CTAPHID worker
 * calls.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "client_pin.h"
#include "cred_store.h"
#include "ctap2.h"
#include "fido_auth.h"
#include "fido_crypto.h"
#include "ol_err.h"
#include "ol_log.h"
#include "sim_fido.h"
#include "u2f.h"

struct sim_fido {
	struct fido_auth a;
	char *path;
};

void
sim_fido_free(sim_fido_t **fp)
{
	sim_fido_t *f;

	if (fp == NULL || (f = *fp) == NULL)
		return;
	OPENSSL_free(f->a.u2f_cert);
	free(f->path);
	explicit_bzero(f, sizeof(*f));
	free(f);
	*fp = NULL;
}

int
sim_fido_new(const struct sim_fido_config *cfg, sim_fido_t **out)
{
	sim_fido_t *f = NULL;
	int r = OL_ERR_ARG;

	if (out == NULL)
		return OL_ERR_ARG;
	*out = NULL;
	if (cfg == NULL)
		goto fail;
	r = OL_ERR_NOMEM;
	if ((f = calloc(1, sizeof(*f))) == NULL)
		goto fail;
	f->a.touch = cfg->touch;
	if (cfg->state_path != NULL &&
	    (f->path = strdup(cfg->state_path)) == NULL)
		goto fail;
	f->a.state_path = f->path;
	r = f->path != NULL ? cred_store_load(f->path, &f->a.st) :
	    OL_ERR_NO_DEVICE;
	if (r == OL_ERR_NO_DEVICE) {
		if ((r = cred_store_fresh(&f->a.st)) != OL_OK)
			goto fail;
		ol_log(OL_LOG_INFO, "FIDO: fresh authenticator, no PIN");
		if (f->path != NULL &&
		    (r = cred_store_save(f->path, &f->a.st)) != OL_OK)
			goto fail;
	} else if (r != OL_OK) {
		goto fail;
	} else {
		ol_log(OL_LOG_INFO, "FIDO: state loaded from %s (%zu "
		    "discoverable credential%s, %s)", f->path, f->a.st.n_rk,
		    f->a.st.n_rk == 1 ? "" : "s",
		    f->a.st.pin_set ? "PIN set" : "no PIN");
	}
	if ((r = client_pin_power_up(&f->a)) != OL_OK ||
	    (r = fcr_self_signed_cert(f->a.st.attest_key, &f->a.u2f_cert,
	    &f->a.u2f_cert_len)) != OL_OK)
		goto fail;
	*out = f;
	f = NULL;
	r = OL_OK;
fail:
	sim_fido_free(&f);
	return r;
}

int
sim_fido_cbor(sim_fido_t *f, const uint8_t *req, size_t len, uint8_t *resp,
    size_t cap, size_t *resp_len)
{
	if (f == NULL)
		return OL_ERR_ARG;
	return ctap2_request(&f->a, req, len, resp, cap, resp_len);
}

int
sim_fido_msg(sim_fido_t *f, const uint8_t *req, size_t len, uint8_t *resp,
    size_t cap, size_t *resp_len)
{
	if (f == NULL)
		return OL_ERR_ARG;
	/* a U2F message ends a GetAssertion's series too */
	memset(&f->a.next, 0, sizeof(f->a.next));
	return u2f_request(&f->a, req, len, resp, cap, resp_len);
}

static int
ops_cbor(void *f, const uint8_t *req, size_t len, uint8_t *resp, size_t cap,
    size_t *resp_len)
{
	return sim_fido_cbor(f, req, len, resp, cap, resp_len);
}

static int
ops_msg(void *f, const uint8_t *req, size_t len, uint8_t *resp, size_t cap,
    size_t *resp_len)
{
	return sim_fido_msg(f, req, len, resp, cap, resp_len);
}

const struct sim_fido_ops sim_fido_ops = {
	.cbor = ops_cbor,
	.msg = ops_msg,
};
