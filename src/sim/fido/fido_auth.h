/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ifd-openloop simulator: the authenticator's one object, shared by the
 * files of src/sim/fido/ (no code here).  What persists (struct
 * fido_state, cred_store.c writes it) and what a power cycle forgets
 * (the PIN protocol's key agreement key and token, the consecutive
 * wrong-PIN count, a GetNextAssertion in progress).  Everything runs on
 * the CTAPHID worker, one request at a time, as single-threaded firmware.
 * CTAP 2.0/2.1 status codes used by the files of this folder are here too.
 */
#ifndef OL_FIDO_AUTH_H
#define OL_FIDO_AUTH_H

#include <stddef.h>
#include <stdint.h>

#include "sim_touch.h"

/* CTAP 2.1 section 8.2: status codes */
#define CTAP2_OK                          0x00
#define CTAP1_ERR_INVALID_COMMAND         0x01
#define CTAP1_ERR_INVALID_PARAMETER       0x02
#define CTAP1_ERR_INVALID_LENGTH          0x03
#define CTAP1_ERR_OTHER                   0x7f
#define CTAP2_ERR_CBOR_UNEXPECTED_TYPE    0x11
#define CTAP2_ERR_INVALID_CBOR            0x12
#define CTAP2_ERR_MISSING_PARAMETER       0x14
#define CTAP2_ERR_CREDENTIAL_EXCLUDED     0x19
#define CTAP2_ERR_UNSUPPORTED_ALGORITHM   0x26
#define CTAP2_ERR_OPERATION_DENIED        0x27
#define CTAP2_ERR_KEY_STORE_FULL          0x28
#define CTAP2_ERR_UNSUPPORTED_OPTION      0x2b
#define CTAP2_ERR_INVALID_OPTION          0x2c
#define CTAP2_ERR_KEEPALIVE_CANCEL        0x2d
#define CTAP2_ERR_NO_CREDENTIALS          0x2e
#define CTAP2_ERR_USER_ACTION_TIMEOUT     0x2f
#define CTAP2_ERR_NOT_ALLOWED             0x30
#define CTAP2_ERR_PIN_INVALID             0x31
#define CTAP2_ERR_PIN_BLOCKED             0x32
#define CTAP2_ERR_PIN_AUTH_INVALID        0x33
#define CTAP2_ERR_PIN_AUTH_BLOCKED        0x34
#define CTAP2_ERR_PIN_NOT_SET             0x35
#define CTAP2_ERR_PIN_REQUIRED            0x36
#define CTAP2_ERR_PIN_POLICY_VIOLATION    0x37
#define CTAP2_ERR_REQUEST_TOO_LARGE       0x39

/* COSE algorithm identifiers (IANA COSE registry) */
#define COSE_ES256   (-7)
#define COSE_EDDSA   (-8)
#define COSE_ECDH_ES_HKDF_256 (-25)

#define FIDO_SECRET_LEN    32   /* device secret, attestation key, keys */
#define FIDO_HASH_LEN      32   /* SHA-256: rpIdHash, clientDataHash */
#define FIDO_PIN_HASH_LEN  16   /* LEFT(SHA-256(PIN), 16) */
#define FIDO_TOKEN_LEN     32   /* pinToken */
#define FIDO_PIN_RETRIES   8
#define FIDO_PIN_IN_A_ROW  3    /* then PIN_AUTH_BLOCKED until power cycle */
#define FIDO_RK_MAX        50   /* the vendor guide: 50 resident keys */
#define FIDO_USER_ID_MAX   64
#define FIDO_NAME_MAX      64   /* user name, display name: cut to this */
#define FIDO_CRED_ID_LEN   62   /* cred_id.h */
#define FIDO_UP_TIMEOUT_MS 30000
#define FIDO_MAX_MSG       1200 /* maxMsgSize in GetInfo */

/* credProtect levels (CTAP 2.1 section 12.1) */
#define FIDO_PROT_UV_OPTIONAL           1
#define FIDO_PROT_UV_OPTIONAL_WITH_LIST 2
#define FIDO_PROT_UV_REQUIRED           3

/* "OLSIM-FIDO2-0001" in ASCII: fixed, the simulator's own */
#define FIDO_AAGUID "OLSIM-FIDO2-0001"
#define FIDO_AAGUID_LEN 16

/* One discoverable (resident) credential.  Its private key is not here:
 * it is inside the credential ID, as for every credential (cred_id.c). */
struct fido_rk {
	uint8_t id[FIDO_CRED_ID_LEN];
	uint8_t rp_hash[FIDO_HASH_LEN];
	uint8_t user_id[FIDO_USER_ID_MAX];
	size_t user_id_len;
	char user_name[FIDO_NAME_MAX + 1];
	char display_name[FIDO_NAME_MAX + 1];
	uint32_t counter;    /* its own signature counter */
	uint64_t created;    /* creation order: newest first in assertions */
};

/* What a power cycle keeps (the flash): cred_store.c */
struct fido_state {
	uint8_t secret[FIDO_SECRET_LEN];      /* wraps credential IDs */
	uint8_t attest_key[FIDO_SECRET_LEN];  /* U2F attestation, P-256 */
	uint32_t counter;     /* the counter of non-resident credentials */
	int pin_set;
	uint8_t pin_hash[FIDO_PIN_HASH_LEN];
	int pin_retries;
	uint64_t next_created;
	size_t n_rk;
	struct fido_rk rk[FIDO_RK_MAX];
};

/* A GetAssertion that found several discoverable credentials */
struct fido_next {
	int active;
	size_t n, next;
	size_t idx[FIDO_RK_MAX];
	uint8_t cdh[FIDO_HASH_LEN];
	uint8_t flags;
	int64_t deadline;   /* 30 s after the last response */
};

struct fido_auth {
	struct fido_state st;
	const char *state_path;       /* NULL: kept in memory only */
	struct sim_touch_port touch;
	/* volatile: a power cycle makes new ones */
	uint8_t ka_priv[FIDO_SECRET_LEN];   /* PIN protocol 1 key agreement */
	uint8_t ka_x[32], ka_y[32];
	uint8_t pin_token[FIDO_TOKEN_LEN];
	int pin_fails_in_row;
	struct fido_next next;
	/* the U2F attestation certificate, made from attest_key at start */
	uint8_t *u2f_cert;
	size_t u2f_cert_len;
};

#endif
