/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ifd-openloop simulator: BER-TLV as PIV uses it (SP 800-73-4 part 2,
 * ISO 7816-4 section 5.2): tags of 1 to 3 bytes, definite lengths whose
 * encoding takes at most 3 bytes (81 xx, 82 xx xx), so values up to
 * 65535 bytes.  The reader never reads outside the buffer it was given;
 * the writer never writes outside its buffer and remembers overflow.
 */
#ifndef OL_TLV_H
#define OL_TLV_H

#include <stddef.h>
#include <stdint.h>

#define TLV_LEN_MAX 0xffff

/* One element; val points into the parsed buffer. */
struct tlv {
	uint32_t tag;          /* the tag bytes, big-endian: 0x5c, 0x5fc102 */
	const uint8_t *val;
	size_t len;
};

/*
 * Parses the element at the start of buf.  On OL_OK *out describes it and
 * *used (optional) is its whole size; OL_ERR_PROTOCOL if the bytes are not
 * one complete element (truncated, a tag over 3 bytes, an indefinite or
 * over-long length, a value past the end).
 */
int tlv_parse(const uint8_t *buf, size_t len, struct tlv *out, size_t *used);

/*
 * Walks the elements of buf (a sequence of TLVs, e.g. a template's
 * value).  tlv_next returns 1 with the next element, 0 at the clean end,
 * -1 on malformed bytes (and stays there).
 */
struct tlv_iter {
	const uint8_t *p;
	size_t left;
	int bad;
};

void tlv_iter_init(struct tlv_iter *it, const uint8_t *buf, size_t len);
int tlv_next(struct tlv_iter *it, struct tlv *out);

/* The first element with this tag at the top level of buf: 1 found, 0
 * absent, -1 if buf is malformed before the tag was found. */
int tlv_find(const uint8_t *buf, size_t len, uint32_t tag, struct tlv *out);

/* Bytes a header takes: tag and length fields. */
size_t tlv_header_size(uint32_t tag, size_t len);

/* The writer.  Every put is all or nothing; once one does not fit,
 * overflow is set and nothing more is written. */
struct tlv_writer {
	uint8_t *buf;
	size_t cap;
	size_t len;
	int overflow;
};

void tlv_writer_init(struct tlv_writer *w, uint8_t *buf, size_t cap);
void tlv_put_raw(struct tlv_writer *w, const void *data, size_t len);
void tlv_put(struct tlv_writer *w, uint32_t tag, const void *val, size_t len);
void tlv_put_byte(struct tlv_writer *w, uint32_t tag, uint8_t v);

/*
 * A constructed element whose size is not known in advance: tlv_open
 * writes the tag and reserves a 3-byte length; tlv_close fills it in with
 * the shortest encoding and moves the value up.  Opens nest.
 */
size_t tlv_open(struct tlv_writer *w, uint32_t tag);
void tlv_close(struct tlv_writer *w, size_t mark);

#endif
