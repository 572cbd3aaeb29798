/*
 * ifd-openloop: APDU formatting for the COMM log that never shows a PIN,
 * a PUK or the PIV management key exchange.
 *
 * The decision is made on INS (and P2 for GENERAL AUTHENTICATE) only, not
 * on CLA: chained (CLA 0x10), secure-messaging and proprietary classes
 * carry the same secrets, and hiding a harmless command costs nothing.
 * For a sensitive command everything after the Lc field is hidden, Le
 * included: if Lc is wrong (shorter than the data), the bytes after it may
 * still be PIN bytes.
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

#define INS_VERIFY                  0x20
#define INS_CHANGE_REFERENCE_DATA   0x24
#define INS_RESET_RETRY_COUNTER     0x2c
#define INS_GENERAL_AUTHENTICATE    0x87
#define PIV_KEY_MANAGEMENT          0x9b    /* P2 of the admin key */

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

int
ol_apdu_is_sensitive(const uint8_t *capdu, size_t len)
{
	if (capdu == NULL || len < 2)
		return 0;
	switch (capdu[1]) {
	case INS_VERIFY:
	case INS_CHANGE_REFERENCE_DATA:
	case INS_RESET_RETRY_COUNTER:
		return 1;
	case INS_GENERAL_AUTHENTICATE:
		return len >= 4 && capdu[3] == PIV_KEY_MANAGEMENT;
	default:
		return 0;
	}
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
