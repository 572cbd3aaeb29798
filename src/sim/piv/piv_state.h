/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ifd-openloop: everything the simulated PIV applet keeps across power
 * cycles and restarts (openloop-sim --state FILE).  Volatile things (which
 * PIN was verified, a pending management-key challenge, chaining buffers)
 * live in the applet, not here.
 *
 * The applet owns a struct piv_state; piv_state_load()/piv_state_save()
 * move it to and from a file.  The format is specified in
 * docs/simulator.md; every byte read back is untrusted and bounds-checked.
 */
#ifndef OL_PIV_STATE_H
#define OL_PIV_STATE_H

#include <stddef.h>
#include <stdint.h>

#define PIV_PIN_MAX        8      /* PIV: 6..8 bytes, padded with 0xFF */
#define PIV_PIN_TRIES      8      /* the vendor guide: 8 wrong PINs lock */
#define PIV_PUK_TRIES      8
#define PIV_MGM_KEY_MAX    32     /* 3DES 24, AES-128/192/256 16/24/32 */
#define PIV_SERIAL_MAX     32
#define PIV_KEY_SLOTS      4      /* 9A 9C 9D 9E */
#define PIV_KEY_DER_MAX    2048   /* PKCS#8 DER of an RSA-2048 key fits */
#define PIV_OBJECTS_MAX    32
#define PIV_OBJECT_MAX     4096   /* content of one data object (tag 53) */

/* PIV algorithm identifiers (SP 800-78-4, and the vendor's 0x22) */
#define PIV_ALG_3DES       0x03
#define PIV_ALG_RSA2048    0x07
#define PIV_ALG_AES128     0x08
#define PIV_ALG_AES192     0x0a
#define PIV_ALG_AES256     0x0c
#define PIV_ALG_P256       0x11
#define PIV_ALG_ED25519    0x22   /* Openloop's id; Yubico uses 0xE0 */

enum piv_model {
	PIV_MODEL_A = 0,   /* SE050 without RSA: P-256 and Ed25519 only */
	PIV_MODEL_C = 1,   /* SE050 C1/C2: also RSA-2048 */
};

struct piv_key {
	uint8_t slot;                  /* 0x9a, 0x9c, 0x9d, 0x9e */
	uint8_t alg;                   /* 0 = empty, else PIV_ALG_* */
	size_t der_len;                /* PKCS#8 private key, 0 = empty */
	uint8_t der[PIV_KEY_DER_MAX];
};

struct piv_object {
	uint32_t tag;                  /* 0x7e, 0x5fc102, ... ; 0 = unused */
	size_t len;                    /* content, without the outer 53 */
	uint8_t data[PIV_OBJECT_MAX];
};

struct piv_state {
	enum piv_model model;
	char serial[PIV_SERIAL_MAX + 1];  /* USB serial; CHUID GUID from it */

	int pin_set;                   /* 0: the device has no PIN (dual mode) */
	uint8_t pin[PIV_PIN_MAX];      /* padded with 0xFF */
	uint8_t pin_tries;             /* left */
	uint8_t puk[PIV_PIN_MAX];
	uint8_t puk_tries;

	uint8_t mgm_alg;               /* PIV_ALG_3DES or AES */
	size_t mgm_len;
	uint8_t mgm_key[PIV_MGM_KEY_MAX];

	struct piv_key keys[PIV_KEY_SLOTS];
	struct piv_object objects[PIV_OBJECTS_MAX];
};

/* A fresh device: no PIN, PUK 12345678, 8 tries each, the well-known
 * 3DES management key 0102030405060708 x3, no keys, no objects. */
void piv_state_init(struct piv_state *st, enum piv_model model,
    const char *serial);

/* Reads FILE into st.  OL_ERR_NO_DEVICE if it does not exist (the caller
 * then starts fresh), OL_ERR_PROTOCOL if it is malformed (never a partial
 * state: st is left initialised as fresh). */
int piv_state_load(const char *path, struct piv_state *st);

/* Writes st to FILE atomically (temporary file, fsync, rename), mode 0600. */
int piv_state_save(const char *path, const struct piv_state *st);

/* The same, to and from memory (fuzzing, tests).  piv_state_encode sets
 * *out to a malloc'd buffer the caller frees with explicit_bzero + free. */
int piv_state_encode(const struct piv_state *st, uint8_t **out, size_t *len);
int piv_state_decode(const uint8_t *buf, size_t len, struct piv_state *st);

/* Wipes secrets. */
void piv_state_clear(struct piv_state *st);

#endif
