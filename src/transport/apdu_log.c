/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ifd-openloop: APDU formatting for the COMM log that never shows a
 * secret.
 *
 * An allow-list, not a deny-list: every APDU shows its header, its
 * length and its status word, and data only where the instruction and
 * the direction are known to carry nothing secret (SELECT, GET DATA of a
 * public PIV object and the GET RESPONSE that continues it, GENERATE's
 * public key).  Everything else (VERIFY, CHANGE REFERENCE DATA, RESET
 * RETRY COUNTER, GENERAL AUTHENTICATE whatever its key, PUT DATA, GET
 * CHALLENGE, Yubico's key import and management-key change, any
 * proprietary class, instructions this code does not know) is shown as
 * a length.  For a hidden command everything after the Lc field is
 * hidden, Le included: if Lc is wrong (shorter than the data), the bytes
 * after it may still be secret.
 *
 * Output is built token by token into a bounded buffer.  Every token is
 * only written if the room for the tail ("..." and, for responses, the
 * status word) stays free, so truncation never cuts the status word and
 * never needs to move back.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stdio.h>
#include <string.h>

#include "apdu_log.h"

#define INS_GENERATE                0x47
#define INS_SELECT                  0xa4
#define INS_GET_RESPONSE            0xc0
#define INS_GET_DATA                0xcb
#define CLA_PROPRIETARY             0x80
#define TAG_LIST                    0x5c    /* GET DATA's tag list */

#define ELLIPSIS    "..."
#define SW_TEXT_LEN 6                       /* " 90 00" */

struct sbuf {
	char *p;
	size_t cap;
	size_t len;
	int full;   /* a token did not fit: only the tail may follow */
};

static void
sb_init(struct sbuf *b, char *out, size_t cap)
{
	b->p = out;
	b->cap = (out == NULL) ? 0 : cap;
	b->len = 0;
	b->full = 0;
	if (b->cap > 0)
		b->p[0] = '\0';
}

/* Appends s if, afterwards, keep bytes (plus the NUL) are still free. */
static void
sb_put(struct sbuf *b, const char *s, size_t keep)
{
	size_t n = strlen(s);

	if (b->full)
		return;
	if (b->cap == 0 || n + keep >= b->cap - b->len) {
		b->full = 1;
		return;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

/* Appends the tail: s whole if it fits, or (partial) as much as fits. */
static void
sb_tail(struct sbuf *b, const char *s, int partial)
{
	size_t n = strlen(s), room;

	if (b->cap == 0)
		return;
	room = b->cap - 1 - b->len;
	if (n > room) {
		if (!partial)
			return;
		n = room;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void
sb_finish_truncated(struct sbuf *b)
{
	if (b->full)
		sb_tail(b, ELLIPSIS, 1);
}

static void
hex_token(uint8_t v, char tok[4])
{
	static const char digits[] = "0123456789ABCDEF";

	tok[0] = ' ';
	tok[1] = digits[v >> 4];
	tok[2] = digits[v & 0x0f];
	tok[3] = '\0';
}

/* " XX" for each byte; the last one keeps last_keep free, the others
 * keep room for "..." plus last_keep. */
static void
put_hex(struct sbuf *b, const uint8_t *buf, size_t n, size_t last_keep)
{
	char tok[4];
	size_t i;

	for (i = 0; i < n && !b->full; i++) {
		hex_token(buf[i], tok);
		sb_put(b, tok, (i + 1 == n) ? last_keep :
		    last_keep + strlen(ELLIPSIS));
	}
}

static void
put_hidden(struct sbuf *b, size_t n, size_t keep)
{
	char tok[48];

	(void)snprintf(tok, sizeof(tok), " <%zu %s hidden>", n,
	    n == 1 ? "byte" : "bytes");
	sb_put(b, tok, keep);
}

/* Where a command's data starts (len if it has none). */
static size_t
data_offset(const uint8_t *capdu, size_t len)
{
	if (len <= 5)
		return len;             /* case 1 or short case 2 */
	if (capdu[4] != 0)
		return 5;               /* short Lc */
	return len >= 7 ? 7 : len;      /* extended Lc */
}

/*
 * The PIV data objects SP 800-73-4 lets anybody read (Table 3, "Always"):
 * Discovery, CHUID, CCC, Key History, the Security Object and the
 * certificates (current and retired, and the secure-messaging signer's).
 * Fingerprints, facial image, printed information, iris images and the
 * pairing code stay hidden, and so does any object this list does not
 * name.
 */
static int
public_object(const uint8_t *capdu, size_t len)
{
	size_t off = data_offset(capdu, len);
	uint32_t tag;

	if (off + 2 > len || capdu[off] != TAG_LIST)
		return 0;
	if (capdu[off + 1] == 1 && off + 3 <= len)
		return capdu[off + 2] == 0x7e;
	if (capdu[off + 1] != 3 || off + 5 > len)
		return 0;
	tag = (uint32_t)capdu[off + 2] << 16 | (uint32_t)capdu[off + 3] << 8 |
	    capdu[off + 4];
	switch (tag) {
	case 0x5fc101:  /* card authentication certificate (9E) */
	case 0x5fc102:  /* CHUID */
	case 0x5fc105:  /* PIV authentication certificate (9A) */
	case 0x5fc106:  /* security object */
	case 0x5fc107:  /* CCC */
	case 0x5fc10a:  /* digital signature certificate (9C) */
	case 0x5fc10b:  /* key management certificate (9D) */
	case 0x5fc10c:  /* key history */
	case 0x5fc122:  /* secure messaging certificate signer */
		return 1;
	default:
		/* retired key management certificates 82..95 */
		return tag >= 0x5fc10d && tag <= 0x5fc120;
	}
}

static int
interindustry(const uint8_t *capdu)
{
	return (capdu[0] & CLA_PROPRIETARY) == 0;
}

int
ol_apdu_is_sensitive(const uint8_t *capdu, size_t len)
{
	if (capdu == NULL || len < 2)
		return 0;       /* no data to hide */
	if (!interindustry(capdu))
		return 1;
	switch (capdu[1]) {
	case INS_SELECT:
	case INS_GET_DATA:
	case INS_GET_RESPONSE:
	case INS_GENERATE:
		return 0;
	default:
		return 1;
	}
}

int
ol_apdu_response_is_sensitive(const uint8_t *capdu, size_t len)
{
	if (capdu == NULL || len < 2 || !interindustry(capdu))
		return 1;
	switch (capdu[1]) {
	case INS_SELECT:
	case INS_GENERATE:
		return 0;
	case INS_GET_DATA:
		return !public_object(capdu, len);
	default:
		/* GET RESPONSE: only ol_apdu_redactor knows what it continues */
		return 1;
	}
}

void
ol_apdu_redactor_init(struct ol_apdu_redactor *r)
{
	memset(r, 0, sizeof(*r));
	r->hide_response = 1;
}

int
ol_apdu_redactor_command(struct ol_apdu_redactor *r, uint32_t channel,
    const uint8_t *capdu, size_t len)
{
	int continues = capdu != NULL && len >= 2 && interindustry(capdu) &&
	    capdu[1] == INS_GET_RESPONSE;

	if (continues)
		r->hide_response = !(r->chain_public && r->channel == channel);
	else
		r->hide_response = ol_apdu_response_is_sensitive(capdu, len);
	r->channel = channel;
	r->chain_public = 0;
	return r->hide_response;
}

void
ol_apdu_redactor_response(struct ol_apdu_redactor *r, const uint8_t *rapdu,
    size_t len)
{
	r->chain_public = !r->hide_response && rapdu != NULL && len >= 2 &&
	    rapdu[len - 2] == 0x61;
}

/* Bytes of a sensitive command that may be shown: the header and the Lc
 * field.  Case 1 (header only) and short case 2 (header + Le) carry no
 * data and are shown whole: a VERIFY without data asks for the PIN
 * status. */
static size_t
sensitive_visible(const uint8_t *capdu, size_t len)
{
	if (len <= 5)
		return len;
	if (capdu[4] != 0)
		return 5;               /* short Lc */
	if (len >= 7)
		return 7;               /* extended Lc (00 XX XX), or case 2E */
	return 5;                       /* malformed: hide the lone byte */
}

char *
ol_apdu_format_command(const uint8_t *capdu, size_t len, char *out,
    size_t cap)
{
	struct sbuf b;
	size_t shown, hidden;
	const size_t dots = strlen(ELLIPSIS);

	sb_init(&b, out, cap);
	if (capdu == NULL)
		len = 0;

	shown = len;
	hidden = 0;
	if (ol_apdu_is_sensitive(capdu, len)) {
		shown = sensitive_visible(capdu, len);
		hidden = len - shown;
	}

	sb_put(&b, "C:", dots);
	if (len == 0)
		sb_put(&b, " (empty)", 0);
	put_hex(&b, capdu, shown, hidden > 0 ? dots : 0);
	if (hidden > 0)
		put_hidden(&b, hidden, 0);
	sb_finish_truncated(&b);
	return out;
}

char *
ol_apdu_format_response(const uint8_t *rapdu, size_t len, int sensitive,
    char *out, size_t cap)
{
	struct sbuf b;
	char sw[SW_TEXT_LEN + 1];
	size_t data;
	const size_t dots = strlen(ELLIPSIS);

	sb_init(&b, out, cap);
	if (rapdu == NULL)
		len = 0;

	if (len < 2) {
		/* No status word: malformed, hide it all if sensitive. */
		sb_put(&b, "R:", dots);
		if (len == 0)
			sb_put(&b, " (empty)", 0);
		else if (sensitive)
			put_hidden(&b, len, 0);
		else
			put_hex(&b, rapdu, len, 0);
		sb_finish_truncated(&b);
		goto out;
	}

	data = len - 2;
	hex_token(rapdu[data], sw);
	hex_token(rapdu[data + 1], sw + 3);

	sb_put(&b, "R:", dots + SW_TEXT_LEN);
	if (sensitive) {
		if (data > 0)
			put_hidden(&b, data, SW_TEXT_LEN);
	} else {
		put_hex(&b, rapdu, data, SW_TEXT_LEN);
	}
	sb_finish_truncated(&b);
	/* The status word is what a reader of the log needs most. */
	sb_tail(&b, sw, 0);
out:
	return out;
}
