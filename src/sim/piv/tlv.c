/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * BER-TLV reading and writing for the PIV applet.  Every byte read is
 * bounds-checked against the caller's length; see tlv.h.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "ol_err.h"
#include "tlv.h"

#define TLV_TAG_MAX_BYTES 3
#define TLV_RESERVED_LEN  3   /* 82 xx xx: what tlv_open reserves */

/* --- reading ------------------------------------------------------------- */

static int
parse_tag(const uint8_t *buf, size_t len, uint32_t *tag, size_t *used)
{
	size_t n = 1;
	uint32_t t;

	if (len < 1)
		return OL_ERR_PROTOCOL;
	t = buf[0];
	/* low five bits all set: subsequent bytes follow while b8 is set */
	if ((buf[0] & 0x1f) == 0x1f) {
		do {
			if (n >= len || n >= TLV_TAG_MAX_BYTES)
				return OL_ERR_PROTOCOL;
			t = t << 8 | buf[n];
		} while (buf[n++] & 0x80);
	}
	*tag = t;
	*used = n;
	return OL_OK;
}

static int
parse_len(const uint8_t *buf, size_t len, size_t *vlen, size_t *used)
{
	if (len < 1)
		return OL_ERR_PROTOCOL;
	if (buf[0] < 0x80) {
		*vlen = buf[0];
		*used = 1;
		return OL_OK;
	}
	if (buf[0] == 0x81 && len >= 2) {
		*vlen = buf[1];
		*used = 2;
		return OL_OK;
	}
	if (buf[0] == 0x82 && len >= 3) {
		*vlen = (size_t)buf[1] << 8 | buf[2];
		*used = 3;
		return OL_OK;
	}
	/* 80 (indefinite) has no place in PIV; 83 and up exceed its sizes */
	return OL_ERR_PROTOCOL;
}

int
tlv_parse(const uint8_t *buf, size_t len, struct tlv *out, size_t *used)
{
	size_t tn, ln, vlen;

	if (buf == NULL || out == NULL)
		return OL_ERR_PROTOCOL;
	if (parse_tag(buf, len, &out->tag, &tn) != OL_OK ||
	    parse_len(buf + tn, len - tn, &vlen, &ln) != OL_OK)
		return OL_ERR_PROTOCOL;
	if (vlen > len - tn - ln)
		return OL_ERR_PROTOCOL;
	out->val = buf + tn + ln;
	out->len = vlen;
	if (used != NULL)
		*used = tn + ln + vlen;
	return OL_OK;
}

void
tlv_iter_init(struct tlv_iter *it, const uint8_t *buf, size_t len)
{
	it->p = buf;
	it->left = buf == NULL ? 0 : len;
	it->bad = 0;
}

int
tlv_next(struct tlv_iter *it, struct tlv *out)
{
	size_t used;

	if (it->bad)
		return -1;
	if (it->left == 0)
		return 0;
	if (tlv_parse(it->p, it->left, out, &used) != OL_OK) {
		it->bad = 1;
		return -1;
	}
	it->p += used;
	it->left -= used;
	return 1;
}

int
tlv_find(const uint8_t *buf, size_t len, uint32_t tag, struct tlv *out)
{
	struct tlv_iter it;
	struct tlv t;
	int r;

	tlv_iter_init(&it, buf, len);
	while ((r = tlv_next(&it, &t)) == 1) {
		if (t.tag == tag) {
			*out = t;
			return 1;
		}
	}
	return r;
}

/* --- writing ------------------------------------------------------------- */

static size_t
tag_size(uint32_t tag)
{
	if (tag > 0xffff)
		return 3;
	if (tag > 0xff)
		return 2;
	return 1;
}

static size_t
len_size(size_t len)
{
	if (len < 0x80)
		return 1;
	if (len <= 0xff)
		return 2;
	return 3;
}

size_t
tlv_header_size(uint32_t tag, size_t len)
{
	return tag_size(tag) + len_size(len);
}

void
tlv_writer_init(struct tlv_writer *w, uint8_t *buf, size_t cap)
{
	w->buf = buf;
	w->cap = buf == NULL ? 0 : cap;
	w->len = 0;
	w->overflow = 0;
}

static int
fits(struct tlv_writer *w, size_t n)
{
	if (w->overflow || n > w->cap - w->len) {
		w->overflow = 1;
		return 0;
	}
	return 1;
}

void
tlv_put_raw(struct tlv_writer *w, const void *data, size_t len)
{
	if (!fits(w, len))
		return;
	if (len > 0)
		memcpy(w->buf + w->len, data, len);
	w->len += len;
}

static void
put_header(struct tlv_writer *w, uint32_t tag, size_t len)
{
	uint8_t h[TLV_TAG_MAX_BYTES + TLV_RESERVED_LEN];
	size_t n = 0, ts = tag_size(tag);

	if (ts == 3)
		h[n++] = (uint8_t)(tag >> 16);
	if (ts >= 2)
		h[n++] = (uint8_t)(tag >> 8);
	h[n++] = (uint8_t)tag;
	if (len < 0x80) {
		h[n++] = (uint8_t)len;
	} else if (len <= 0xff) {
		h[n++] = 0x81;
		h[n++] = (uint8_t)len;
	} else {
		h[n++] = 0x82;
		h[n++] = (uint8_t)(len >> 8);
		h[n++] = (uint8_t)len;
	}
	tlv_put_raw(w, h, n);
}

void
tlv_put(struct tlv_writer *w, uint32_t tag, const void *val, size_t len)
{
	if (len > TLV_LEN_MAX) {
		w->overflow = 1;
		return;
	}
	if (!fits(w, tlv_header_size(tag, len) + len))
		return;
	put_header(w, tag, len);
	tlv_put_raw(w, val, len);
}

void
tlv_put_byte(struct tlv_writer *w, uint32_t tag, uint8_t v)
{
	tlv_put(w, tag, &v, 1);
}

size_t
tlv_open(struct tlv_writer *w, uint32_t tag)
{
	size_t mark;

	if (!fits(w, tag_size(tag) + TLV_RESERVED_LEN))
		return w->len;
	put_header(w, tag, 0x100); /* any length needing 82 xx xx */
	mark = w->len;
	return mark;
}

void
tlv_close(struct tlv_writer *w, size_t mark)
{
	size_t vlen, lpos, need;

	if (w->overflow || mark > w->len || mark < TLV_RESERVED_LEN)
		return;
	vlen = w->len - mark;
	if (vlen > TLV_LEN_MAX) {
		w->overflow = 1;
		return;
	}
	lpos = mark - TLV_RESERVED_LEN;
	need = len_size(vlen);
	if (vlen < 0x80) {
		w->buf[lpos] = (uint8_t)vlen;
	} else if (vlen <= 0xff) {
		w->buf[lpos] = 0x81;
		w->buf[lpos + 1] = (uint8_t)vlen;
	} else {
		w->buf[lpos] = 0x82;
		w->buf[lpos + 1] = (uint8_t)(vlen >> 8);
		w->buf[lpos + 2] = (uint8_t)vlen;
	}
	if (need < TLV_RESERVED_LEN) {
		memmove(w->buf + lpos + need, w->buf + mark, vlen);
		w->len -= TLV_RESERVED_LEN - need;
	}
}
