/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The authenticator's persistent state: the table of discoverable
 * credentials, and its file (CBOR after an 8-byte magic, every field
 * checked on load, written atomically).
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cred_store.h"
#include "fido_cbor.h"
#include "fido_crypto.h"
#include "ol_err.h"
#include "ol_log.h"
#include "sim_flash.h"

static const uint8_t magic[8] = { 'O', 'L', 'F', 'I', 'D', 'O', 'S', 'T' };

#define FILE_VERSION 1

enum {
	K_VERSION = 1, K_SECRET, K_ATTEST, K_COUNTER, K_PIN_SET, K_PIN_HASH,
	K_RETRIES, K_NEXT_CREATED, K_RKS,
};
enum {
	R_ID = 1, R_RP_HASH, R_USER_ID, R_USER_NAME, R_DISPLAY_NAME,
	R_COUNTER, R_CREATED,
};

void
cred_store_clear(struct fido_state *st)
{
	if (st != NULL)
		explicit_bzero(st, sizeof(*st));
}

int
cred_store_fresh(struct fido_state *st)
{
	int r;

	cred_store_clear(st);
	st->pin_retries = FIDO_PIN_RETRIES;
	st->next_created = 1;
	if ((r = fcr_random(st->secret, sizeof(st->secret))) != OL_OK ||
	    (r = fcr_keygen(COSE_ES256, st->attest_key)) != OL_OK)
		cred_store_clear(st);
	return r;
}

/* --- the table ----------------------------------------------------------- */

int
cred_store_find_id(const struct fido_state *st,
    const uint8_t rp_hash[FIDO_HASH_LEN], const uint8_t *id, size_t id_len)
{
	size_t i;

	if (id_len != FIDO_CRED_ID_LEN)
		return -1;
	for (i = 0; i < st->n_rk; i++)
		if (memcmp(st->rk[i].id, id, FIDO_CRED_ID_LEN) == 0 &&
		    memcmp(st->rk[i].rp_hash, rp_hash, FIDO_HASH_LEN) == 0)
			return (int)i;
	return -1;
}

int
cred_store_find_user(const struct fido_state *st,
    const uint8_t rp_hash[FIDO_HASH_LEN], const uint8_t *user_id,
    size_t user_id_len)
{
	size_t i;

	for (i = 0; i < st->n_rk; i++)
		if (st->rk[i].user_id_len == user_id_len &&
		    memcmp(st->rk[i].user_id, user_id, user_id_len) == 0 &&
		    memcmp(st->rk[i].rp_hash, rp_hash, FIDO_HASH_LEN) == 0)
			return (int)i;
	return -1;
}

int
cred_store_has_room(const struct fido_state *st,
    const uint8_t rp_hash[FIDO_HASH_LEN], const uint8_t *user_id,
    size_t user_id_len)
{
	return st->n_rk < FIDO_RK_MAX ||
	    cred_store_find_user(st, rp_hash, user_id, user_id_len) >= 0;
}

int
cred_store_put(struct fido_state *st, const struct fido_rk *rk)
{
	int i;

	i = cred_store_find_user(st, rk->rp_hash, rk->user_id,
	    rk->user_id_len);
	if (i < 0) {
		if (st->n_rk >= FIDO_RK_MAX)
			return OL_ERR_BUSY;
		i = (int)st->n_rk++;
	}
	st->rk[i] = *rk;
	return OL_OK;
}

/* --- encoding ------------------------------------------------------------ */

static cbor_item_t *
encode_rk(const struct fido_rk *rk)
{
	cbor_item_t *m;

	if ((m = cbor_new_definite_map(7)) == NULL)
		return NULL;
	if (!fc_put(m, fc_int(R_ID), fc_bytes(rk->id, FIDO_CRED_ID_LEN)) ||
	    !fc_put(m, fc_int(R_RP_HASH), fc_bytes(rk->rp_hash,
	    FIDO_HASH_LEN)) ||
	    !fc_put(m, fc_int(R_USER_ID), fc_bytes(rk->user_id,
	    rk->user_id_len)) ||
	    !fc_put(m, fc_int(R_USER_NAME), fc_text(rk->user_name)) ||
	    !fc_put(m, fc_int(R_DISPLAY_NAME), fc_text(rk->display_name)) ||
	    !fc_put(m, fc_int(R_COUNTER), fc_int(rk->counter)) ||
	    !fc_put(m, fc_int(R_CREATED), fc_int((int64_t)rk->created)))
		cbor_decref(&m);
	return m;
}

int
cred_store_encode(const struct fido_state *st, uint8_t **out, size_t *len)
{
	cbor_item_t *m = NULL, *a = NULL;
	uint8_t *buf = NULL;
	size_t i, n;
	int r = OL_ERR_NOMEM;

	*out = NULL;
	*len = 0;
	if (st->n_rk > FIDO_RK_MAX || st->next_created > INT64_MAX)
		return OL_ERR_ARG;
	if ((m = cbor_new_definite_map(9)) == NULL ||
	    (a = cbor_new_definite_array(st->n_rk)) == NULL)
		goto fail;
	for (i = 0; i < st->n_rk; i++)
		if (!fc_push(a, encode_rk(&st->rk[i])))
			goto fail;
	if (!fc_put(m, fc_int(K_VERSION), fc_int(FILE_VERSION)) ||
	    !fc_put(m, fc_int(K_SECRET), fc_bytes(st->secret,
	    FIDO_SECRET_LEN)) ||
	    !fc_put(m, fc_int(K_ATTEST), fc_bytes(st->attest_key,
	    FIDO_SECRET_LEN)) ||
	    !fc_put(m, fc_int(K_COUNTER), fc_int(st->counter)) ||
	    !fc_put(m, fc_int(K_PIN_SET), cbor_build_bool(st->pin_set != 0)) ||
	    !fc_put(m, fc_int(K_PIN_HASH), fc_bytes(st->pin_hash,
	    FIDO_PIN_HASH_LEN)) ||
	    !fc_put(m, fc_int(K_RETRIES), fc_int(st->pin_retries)) ||
	    !fc_put(m, fc_int(K_NEXT_CREATED),
	    fc_int((int64_t)st->next_created)))
		goto fail;
	r = fc_put(m, fc_int(K_RKS), a) ? OL_OK : OL_ERR_NOMEM;
	a = NULL;
	if (r != OL_OK)
		goto fail;
	r = OL_ERR_NOMEM;
	if ((buf = malloc(CRED_STORE_FILE_MAX)) == NULL)
		goto fail;
	memcpy(buf, magic, sizeof(magic));
	if ((n = fc_encode(m, buf + sizeof(magic), CRED_STORE_FILE_MAX -
	    sizeof(magic))) == 0) {
		r = OL_ERR_TOO_LONG;
		goto fail;
	}
	*out = buf;
	*len = n + sizeof(magic);
	buf = NULL;
	r = OL_OK;
fail:
	if (buf != NULL) {
		explicit_bzero(buf, CRED_STORE_FILE_MAX);
		free(buf);
	}
	if (a != NULL)
		cbor_decref(&a);
	if (m != NULL)
		cbor_decref(&m);
	return r;
}

/* --- decoding: every field present once, typed and in range ------------ */

static int
get_fixed(const cbor_item_t *m, int64_t key, uint8_t *out, size_t len)
{
	const uint8_t *p;
	size_t n;

	if (!fc_get_bytes(fc_map_get_int(m, key), &p, &n) || n != len)
		return 0;
	memcpy(out, p, len);
	return 1;
}

static int
get_uint(const cbor_item_t *m, int64_t key, int64_t max, int64_t *v)
{
	return fc_get_int(fc_map_get_int(m, key), v) && *v >= 0 && *v <= max;
}

static int
get_name(const cbor_item_t *m, int64_t key, char *out)
{
	const char *p;
	size_t n;

	if (!fc_get_text(fc_map_get_int(m, key), &p, &n) ||
	    n > FIDO_NAME_MAX || memchr(p, '\0', n) != NULL)
		return 0;
	memcpy(out, p, n);
	out[n] = '\0';
	return 1;
}

static int
decode_rk(const cbor_item_t *m, struct fido_rk *rk)
{
	const uint8_t *p;
	size_t n;
	int64_t v;

	if (!cbor_isa_map(m) || cbor_map_size(m) != 7 ||
	    !get_fixed(m, R_ID, rk->id, FIDO_CRED_ID_LEN) ||
	    !get_fixed(m, R_RP_HASH, rk->rp_hash, FIDO_HASH_LEN) ||
	    !fc_get_bytes(fc_map_get_int(m, R_USER_ID), &p, &n) ||
	    n == 0 || n > FIDO_USER_ID_MAX ||
	    !get_name(m, R_USER_NAME, rk->user_name) ||
	    !get_name(m, R_DISPLAY_NAME, rk->display_name))
		return 0;
	memcpy(rk->user_id, p, n);
	rk->user_id_len = n;
	if (!get_uint(m, R_COUNTER, UINT32_MAX, &v))
		return 0;
	rk->counter = (uint32_t)v;
	if (!get_uint(m, R_CREATED, INT64_MAX, &v))
		return 0;
	rk->created = (uint64_t)v;
	return 1;
}

int
cred_store_decode(const uint8_t *buf, size_t len, struct fido_state *out)
{
	struct fido_state *st = NULL;
	cbor_item_t *m = NULL, *a;
	int64_t v;
	size_t i;
	int r = OL_ERR_PROTOCOL;

	if (buf == NULL || len <= sizeof(magic) || len > CRED_STORE_FILE_MAX ||
	    memcmp(buf, magic, sizeof(magic)) != 0)
		return OL_ERR_PROTOCOL;
	if ((st = calloc(1, sizeof(*st))) == NULL)
		return OL_ERR_NOMEM;
	if (fc_decode(buf + sizeof(magic), len - sizeof(magic), &m) !=
	    CTAP2_OK || !cbor_isa_map(m) || cbor_map_size(m) != 9 ||
	    !get_uint(m, K_VERSION, INT64_MAX, &v) || v != FILE_VERSION ||
	    !get_fixed(m, K_SECRET, st->secret, FIDO_SECRET_LEN) ||
	    !get_fixed(m, K_ATTEST, st->attest_key, FIDO_SECRET_LEN) ||
	    !get_fixed(m, K_PIN_HASH, st->pin_hash, FIDO_PIN_HASH_LEN))
		goto fail;
	if (!get_uint(m, K_COUNTER, UINT32_MAX, &v))
		goto fail;
	st->counter = (uint32_t)v;
	if (!fc_get_bool(fc_map_get_int(m, K_PIN_SET), &st->pin_set))
		goto fail;
	if (!get_uint(m, K_RETRIES, FIDO_PIN_RETRIES, &v))
		goto fail;
	st->pin_retries = (int)v;
	if (!get_uint(m, K_NEXT_CREATED, INT64_MAX, &v))
		goto fail;
	st->next_created = (uint64_t)v;
	if ((a = fc_map_get_int(m, K_RKS)) == NULL || !cbor_isa_array(a) ||
	    !cbor_array_is_definite(a) || cbor_array_size(a) > FIDO_RK_MAX)
		goto fail;
	st->n_rk = cbor_array_size(a);
	for (i = 0; i < st->n_rk; i++)
		if (!decode_rk(cbor_array_handle(a)[i], &st->rk[i]))
			goto fail;
	*out = *st;
	r = OL_OK;
fail:
	if (m != NULL)
		cbor_decref(&m);
	cred_store_clear(st);
	free(st);
	return r;
}

/* --- the file ------------------------------------------------------------ */

int
cred_store_load(const char *path, struct fido_state *st)
{
	const char *why = NULL;
	uint8_t *buf = NULL;
	size_t len = 0;
	int r;

	if (path == NULL || st == NULL)
		return OL_ERR_ARG;
	if ((r = sim_flash_read(path, CRED_STORE_FILE_MAX, &buf, &len,
	    &why)) != OL_OK) {
		sim_flash_log_read_error("FIDO state", path, r, why, CRED_STORE_FILE_MAX);
		return r;
	}
	if ((r = cred_store_decode(buf, len, st)) != OL_OK)
		ol_log(OL_LOG_CRITICAL, "FIDO state %s: malformed", path);
	explicit_bzero(buf, len);
	free(buf);
	return r;
}

int
cred_store_save(const char *path, const struct fido_state *st)
{
	const char *why = "encode";
	uint8_t *buf = NULL;
	size_t len = 0;
	int r;

	if (path == NULL || *path == '\0' || st == NULL)
		return OL_ERR_ARG;
	if ((r = cred_store_encode(st, &buf, &len)) == OL_OK)
		r = sim_flash_write(path, buf, len, &why);
	if (r != OL_OK)
		ol_log(OL_LOG_CRITICAL, "FIDO state %s: not saved: %s: %s",
		    path, why, r == OL_ERR_IO || r == OL_ERR_PERMISSION ?
		    strerror(errno) : ol_strerror(r));
	if (buf != NULL) {
		explicit_bzero(buf, len);
		free(buf);
	}
	return r;
}
