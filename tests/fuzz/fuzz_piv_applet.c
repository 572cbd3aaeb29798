/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Fuzz target: the PIV applet (src/sim/piv/piv_applet.c, tlv.c, the card's
 * chaining and GET RESPONSE) fed with sequences of APDUs, the way a host
 * talks to it: after SELECT, and optionally with the PIN verified and the
 * management key authenticated, so that the fuzzer reaches the commands
 * behind them.  Keys of every algorithm are in the slots.
 *
 * Input: byte 0 = flags (1 verify PIN, 2 authenticate 9B, 4 reset and
 * re-SELECT after each APDU), then [length(2, big-endian)][APDU]...
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "ol_err.h"
#include "ol_log.h"
#include "piv_applet.h"
#include "piv_crypto.h"
#include "piv_state.h"
#include "sim_card.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct piv_state *base;
static uint8_t resp[7609];

static void
quiet(unsigned category, const struct ol_log_origin *origin,
    const char *msg)
{
	(void)origin;
	(void)category;
	(void)msg;
}

/* Every answer is a whole R-APDU: the card never fails silently. */
static unsigned
transmit(sim_card_t *card, const uint8_t *apdu, size_t len)
{
	size_t rlen = 0;

	if (sim_card_apdu(card, apdu, len, resp, sizeof(resp), &rlen) !=
	    OL_OK || rlen < 2 || rlen > sizeof(resp))
		abort();
	return (unsigned)resp[rlen - 2] << 8 | resp[rlen - 1];
}

static void
des3_decrypt(const uint8_t key[24], const uint8_t *in, uint8_t *out)
{
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	int n = 0, fin = 0;

	if (ctx == NULL ||
	    !EVP_CipherInit_ex2(ctx, EVP_des_ede3_ecb(), key, NULL, 0, NULL) ||
	    !EVP_CIPHER_CTX_set_padding(ctx, 0) ||
	    !EVP_CipherUpdate(ctx, out, &n, in, 8) ||
	    !EVP_CipherFinal_ex(ctx, out + n, &fin))
		abort();
	EVP_CIPHER_CTX_free(ctx);
}

/* Mutual authentication with the default 3DES management key. */
static void
authenticate_mgm(sim_card_t *card)
{
	static const uint8_t key[24] = { 1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4,
	    5, 6, 7, 8, 1, 2, 3, 4, 5, 6, 7, 8 };
	static const uint8_t step1[] = { 0x00, 0x87, 0x03, 0x9b, 0x04, 0x7c,
	    0x02, 0x80, 0x00, 0x00 };
	uint8_t step2[27] = { 0x00, 0x87, 0x03, 0x9b, 0x16, 0x7c, 0x14, 0x80,
	    0x08 };

	if (transmit(card, step1, sizeof(step1)) != 0x9000)
		abort();
	des3_decrypt(key, resp + 4, step2 + 9);
	memcpy(step2 + 17, "\x81\x08\x01\x02\x03\x04\x05\x06\x07\x08", 10);
	if (transmit(card, step2, sizeof(step2)) != 0x9000)
		abort();
}

static void
init_base(void)
{
	static const uint8_t algs[PIV_KEY_SLOTS] = { PIV_ALG_P256,
	    PIV_ALG_RSA2048, PIV_ALG_P256, PIV_ALG_ED25519 };
	size_t i;

	ol_log_set_sink(quiet);
	if ((base = malloc(sizeof(*base))) == NULL)
		abort();
	piv_state_init(base, PIV_MODEL_C, "FUZZ0001");
	if (piv_pin_format("123456", base->pin) != OL_OK)
		abort();
	base->pin_set = 1;
	for (i = 0; i < PIV_KEY_SLOTS; i++) {
		base->keys[i].alg = algs[i];
		if (piv_crypto_generate(algs[i], base->keys[i].der,
		    sizeof(base->keys[i].der), &base->keys[i].der_len) != OL_OK)
			abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t select_piv[] = { 0x00, 0xa4, 0x04, 0x00, 0x05,
	    0xa0, 0x00, 0x00, 0x03, 0x08 };
	static const uint8_t verify[] = { 0x00, 0x20, 0x00, 0x80, 0x08, '1',
	    '2', '3', '4', '5', '6', 0xff, 0xff };
	struct sim_card_config cfg;
	sim_card_t *card = NULL;
	size_t off = 1, n;

	if (base == NULL)
		init_base();
	if (size < 1)
		return 0;
	sim_card_config_init(&cfg);
	cfg.touch = SIM_TOUCH_APPROVE;
	cfg.piv = base;
	if (sim_card_new_config(&cfg, &card) != OL_OK)
		abort();
	sim_card_arm(card);
	transmit(card, select_piv, sizeof(select_piv));
	if (data[0] & 1)
		transmit(card, verify, sizeof(verify));
	if (data[0] & 2)
		authenticate_mgm(card);
	while (off + 2 <= size) {
		n = (size_t)data[off] << 8 | data[off + 1];
		off += 2;
		if (n > size - off)
			n = size - off;
		transmit(card, data + off, n);
		off += n;
		if (data[0] & 4) {
			sim_card_reset(card);
			transmit(card, select_piv, sizeof(select_piv));
		}
	}
	sim_card_free(&card);
	return 0;
}
