/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * authenticatorGetInfo in CTAP2 canonical CBOR (CTAP 2.1 section 8,
 * RFC 8949 with map keys sorted: integers ascending, text strings
 * shorter first, then bytewise).  A writer with every length checked;
 * the first overflow sticks and fails the whole encoding.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "ol_err.h"
#include "sim_fido.h"

const uint8_t sim_fido_aaguid[SIM_FIDO_AAGUID_LEN] = {
	'O', 'L', 'S', 'I', 'M', '-', 'F', 'I',
	'D', 'O', '2', '-', '0', '0', '0', '1',
};

/* COSE algorithm identifiers (IANA COSE registry) */
#define COSE_ES256  (-7)
#define COSE_EDDSA  (-8)

/* CBOR major types */
#define CBOR_UINT   0
#define CBOR_NINT   1
#define CBOR_BYTES  2
#define CBOR_TEXT   3
#define CBOR_ARRAY  4
#define CBOR_MAP    5
#define CBOR_FALSE  0xf4
#define CBOR_TRUE   0xf5

struct cbor_w {
	uint8_t *p;
	size_t cap;
	size_t len;
	int overflow;
};

static void
put_raw(struct cbor_w *w, const void *data, size_t n)
{
	if (w->overflow || n > w->cap - w->len) {
		w->overflow = 1;
		return;
	}
	if (n > 0)
		memcpy(w->p + w->len, data, n);
	w->len += n;
}

static void
put_byte(struct cbor_w *w, uint8_t b)
{
	put_raw(w, &b, 1);
}

/* initial byte and argument, shortest form */
static void
put_head(struct cbor_w *w, unsigned major, uint64_t v)
{
	uint8_t b[9];
	size_t n, i;

	if (v < 24) {
		b[0] = (uint8_t)(major << 5 | v);
		n = 1;
	} else if (v <= 0xff) {
		b[0] = (uint8_t)(major << 5 | 24);
		n = 2;
	} else if (v <= 0xffff) {
		b[0] = (uint8_t)(major << 5 | 25);
		n = 3;
	} else if (v <= 0xffffffffu) {
		b[0] = (uint8_t)(major << 5 | 26);
		n = 5;
	} else {
		b[0] = (uint8_t)(major << 5 | 27);
		n = 9;
	}
	for (i = 1; i < n; i++)
		b[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
	put_raw(w, b, n);
}

static void
put_int(struct cbor_w *w, int64_t v)
{
	if (v >= 0)
		put_head(w, CBOR_UINT, (uint64_t)v);
	else
		put_head(w, CBOR_NINT, (uint64_t)(-(v + 1)));
}

static void
put_text(struct cbor_w *w, const char *s)
{
	size_t n = strlen(s);

	put_head(w, CBOR_TEXT, n);
	put_raw(w, s, n);
}

static void
put_bytes(struct cbor_w *w, const uint8_t *b, size_t n)
{
	put_head(w, CBOR_BYTES, n);
	put_raw(w, b, n);
}

static void
put_bool(struct cbor_w *w, int v)
{
	put_byte(w, v ? CBOR_TRUE : CBOR_FALSE);
}

static void
put_algorithm(struct cbor_w *w, int64_t alg)
{
	put_head(w, CBOR_MAP, 2);
	put_text(w, "alg");          /* 3 characters before 4 */
	put_int(w, alg);
	put_text(w, "type");
	put_text(w, "public-key");
}

int
sim_fido_get_info(uint8_t *out, size_t cap, size_t *len)
{
	struct cbor_w w;

	if (out == NULL || len == NULL)
		return OL_ERR_ARG;
	*len = 0;
	memset(&w, 0, sizeof(w));
	w.p = out;
	w.cap = cap;

	put_head(&w, CBOR_MAP, 7);
	put_int(&w, 0x01);                    /* versions */
	put_head(&w, CBOR_ARRAY, 1);
	put_text(&w, "FIDO_2_0");
	put_int(&w, 0x02);                    /* extensions: none */
	put_head(&w, CBOR_ARRAY, 0);
	put_int(&w, 0x03);                    /* aaguid */
	put_bytes(&w, sim_fido_aaguid, sizeof(sim_fido_aaguid));
	put_int(&w, 0x04);                    /* options, canonical order */
	put_head(&w, CBOR_MAP, 4);
	put_text(&w, "rk");
	put_bool(&w, 1);
	put_text(&w, "up");
	put_bool(&w, 1);
	put_text(&w, "plat");
	put_bool(&w, 0);
	put_text(&w, "clientPin");            /* false, as asked: see the doc */
	put_bool(&w, 0);
	put_int(&w, 0x05);                    /* maxMsgSize */
	put_int(&w, SIM_FIDO_MAX_MSG);
	/* 0x06 pinUvAuthProtocols: omitted, no PIN protocol is served */
	put_int(&w, 0x09);                    /* transports */
	put_head(&w, CBOR_ARRAY, 1);
	put_text(&w, "usb");
	put_int(&w, 0x0a);                    /* algorithms */
	put_head(&w, CBOR_ARRAY, 2);
	put_algorithm(&w, COSE_ES256);
	put_algorithm(&w, COSE_EDDSA);

	if (w.overflow) {
		memset(out, 0, cap);
		return OL_ERR_TOO_LONG;
	}
	*len = w.len;
	return OL_OK;
}

int
sim_fido_request(const uint8_t *req, size_t req_len, uint8_t *resp,
    size_t cap, size_t *resp_len)
{
	size_t n;
	int r;

	if (resp_len != NULL)
		*resp_len = 0;
	if (req == NULL || resp == NULL || resp_len == NULL || req_len == 0)
		return OL_ERR_ARG;
	if (cap < 1)
		return OL_ERR_TOO_LONG;
	switch (req[0]) {
	case CTAP2_CMD_GET_INFO:
		if (req_len != 1) {
			/* GetInfo takes no parameters */
			resp[0] = CTAP2_ERR_INVALID_LENGTH;
			*resp_len = 1;
			return OL_OK;
		}
		if ((r = sim_fido_get_info(resp + 1, cap - 1, &n)) != OL_OK)
			return r;
		resp[0] = CTAP2_OK;
		*resp_len = 1 + n;
		return OL_OK;
	default:
		resp[0] = CTAP2_ERR_INVALID_COMMAND;
		*resp_len = 1;
		return OL_OK;
	}
}

const char *
sim_fido_cmd_name(uint8_t cmd)
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
	default:
		return "unknown";
	}
}
