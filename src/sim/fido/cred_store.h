/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ifd-openloop simulator: what the authenticator keeps across power
 * cycles (struct fido_state: device secret, U2F attestation key, counter
 * of non-resident credentials, PIN hash and retries, the discoverable
 * credentials), its file, and the discoverable-credential table.
 *
 * The file is FILE.fido beside the PIV state FILE (--state), written
 * atomically (temporary file, fsync, rename, fsync of the directory),
 * mode 0600: "OLFIDOST" then one CBOR map (docs/simulator.md, "FIDO2
 * side").  Secrets are in clear in it, as in the PIV state.
 */
#ifndef OL_CRED_STORE_H
#define OL_CRED_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "fido_auth.h"

#define CRED_STORE_FILE_MAX  (64 * 1024)

/* A fresh authenticator: new secret and attestation key, no PIN (8
 * retries), no credentials. */
int cred_store_fresh(struct fido_state *st);

/* OL_OK; OL_ERR_NO_DEVICE when the file does not exist (start fresh);
 * OL_ERR_PROTOCOL for a malformed file (logged, never a secret);
 * OL_ERR_IO, OL_ERR_PERMISSION.  st is untouched unless OL_OK. */
int cred_store_load(const char *path, struct fido_state *st);
int cred_store_save(const char *path, const struct fido_state *st);

/* Encoding, for the file and the fuzz target: malloc'd, wipe and free. */
int cred_store_encode(const struct fido_state *st, uint8_t **out,
    size_t *len);
int cred_store_decode(const uint8_t *buf, size_t len, struct fido_state *st);

/* The discoverable credential with this ID (and RP), or -1. */
int cred_store_find_id(const struct fido_state *st,
    const uint8_t rp_hash[FIDO_HASH_LEN], const uint8_t *id, size_t id_len);
/* The one of this RP and user handle, or -1. */
int cred_store_find_user(const struct fido_state *st,
    const uint8_t rp_hash[FIDO_HASH_LEN], const uint8_t *user_id,
    size_t user_id_len);
/* Puts rk in: over the same RP and user handle, else in a free place;
 * OL_ERR_BUSY when all FIDO_RK_MAX are taken. */
int cred_store_put(struct fido_state *st, const struct fido_rk *rk);
/* 1 if cred_store_put() of this RP and user would find room */
int cred_store_has_room(const struct fido_state *st,
    const uint8_t rp_hash[FIDO_HASH_LEN], const uint8_t *user_id,
    size_t user_id_len);

void cred_store_clear(struct fido_state *st);

#endif
