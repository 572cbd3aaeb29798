/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Fuzz target: the CTAPHID message assembler (src/transport/ctaphid_msg.c)
 * fed with a stream of reports, as the host, the simulator and the fake
 * device feed it.
 *
 * Input: two bytes, big-endian, give the buffer's capacity (modulo 7610),
 * then 64-byte reports; a shorter tail is ignored.  The buffer is
 * allocated to exactly that capacity, so a copy past it is an ASan error.
 * Every verdict is checked against the assembler's fields, and every
 * message it completes is fragmented again: the reports must be the ones
 * that were fed, byte for byte as far as the message goes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ctaphid.h"
#include "ctaphid_msg.h"
#include "ol_err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_REPORTS (CTAPHID_MAX_SEQ + 2)

/* The reports the message being assembled was made of. */
struct parts {
	const uint8_t *rep[MAX_REPORTS];
	size_t n;
	size_t checked;     /* reports the fragmenter gave back so far */
	size_t total;
};

/* The bytes of report idx that belong to a message of total bytes. */
static size_t
used_len(size_t idx, size_t total)
{
	size_t off, n;

	if (idx == 0)
		return 7 + (total < CTAPHID_INIT_DATA ? total :
		    CTAPHID_INIT_DATA);
	off = CTAPHID_INIT_DATA + (idx - 1) * CTAPHID_CONT_DATA;
	n = total - off;
	return 5 + (n < CTAPHID_CONT_DATA ? n : CTAPHID_CONT_DATA);
}

static int
compare_emit(void *arg, const uint8_t report[CTAPHID_REPORT_LEN])
{
	struct parts *p = arg;

	if (p->checked >= p->n ||
	    memcmp(report, p->rep[p->checked],
	    used_len(p->checked, p->total)) != 0)
		abort();
	p->checked++;
	return OL_OK;
}

/* What a failed message leaves in the buffer: nothing (it may be a PIN). */
static void
check_wiped(const struct ctaphid_asm *a)
{
	size_t i, kept;

	if (a->discarding)
		return;
	kept = a->got < a->cap ? a->got : a->cap;
	for (i = 0; i < kept; i++)
		if (a->buf[i] != 0)
			abort();
}

static void
check(const struct ctaphid_asm *a, const struct ctaphid_asm *before,
    const struct ctaphid_packet *pkt, int st, struct parts *p)
{
	switch (st) {
	case CTAPHID_ASM_MORE:
		if (!a->pending || a->got >= a->total ||
		    a->total > CTAPHID_MAX_MSG || a->cid != pkt->cid)
			abort();
		break;
	case CTAPHID_ASM_DONE:
	case CTAPHID_ASM_TOO_LONG:
		if (a->pending || a->got != a->total ||
		    (st == CTAPHID_ASM_DONE) != (a->total <= a->cap))
			abort();
		break;
	case CTAPHID_ASM_BAD_LEN:
		if (a->pending || a->total <= CTAPHID_MAX_MSG)
			abort();
		break;
	case CTAPHID_ASM_BAD_SEQ:
		if (a->pending || pkt->seq == a->next_seq)
			abort();
		check_wiped(a);
		break;
	case CTAPHID_ASM_PENDING:
		if (a->pending || !before->pending)
			abort();
		check_wiped(a);
		break;
	case CTAPHID_ASM_NO_INIT:
		if (a->pending || before->pending)
			abort();
		break;
	case CTAPHID_ASM_FOREIGN:
		/* left exactly as it was */
		if (memcmp(a, before, sizeof(*a)) != 0 || pkt->cid == a->cid)
			abort();
		break;
	default:
		/* parsed packets are never refused as arguments */
		abort();
	}
	/* bytes so far: init data, then 59 per continuation */
	if ((st == CTAPHID_ASM_MORE || st == CTAPHID_ASM_DONE ||
	    st == CTAPHID_ASM_TOO_LONG) &&
	    (a->next_seq > CTAPHID_MAX_SEQ + 1 || a->got !=
	    (a->total < CTAPHID_INIT_DATA + (size_t)a->next_seq *
	    CTAPHID_CONT_DATA ? a->total : CTAPHID_INIT_DATA +
	    (size_t)a->next_seq * CTAPHID_CONT_DATA)))
		abort();
	if (st == CTAPHID_ASM_DONE) {
		/* fragmenting it again gives back what was fed */
		p->checked = 0;
		p->total = a->total;
		if (ctaphid_fragment(a->cid, a->cmd, a->buf, a->total,
		    compare_emit, p) != OL_OK || p->checked != p->n)
			abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ctaphid_asm a, before;
	struct ctaphid_packet pkt;
	struct parts p;
	uint8_t *buf;
	size_t cap, off;
	int st;

	if (size < 2)
		return 0;
	cap = ((size_t)data[0] << 8 | data[1]) % (CTAPHID_MAX_MSG + 1);
	/* exactly cap bytes, so that ASan sees one past it */
	if ((buf = malloc(cap > 0 ? cap : 1)) == NULL)
		return 0;
	memset(buf, 0, cap > 0 ? cap : 1);
	ctaphid_asm_init(&a, cap > 0 ? buf : NULL, cap);
	memset(&p, 0, sizeof(p));
	for (off = 2; size - off >= CTAPHID_REPORT_LEN;
	    off += CTAPHID_REPORT_LEN) {
		if (ctaphid_packet_parse(data + off, CTAPHID_REPORT_LEN,
		    &pkt) != OL_OK)
			abort();
		before = a;
		st = ctaphid_asm_feed(&a, &pkt);
		if (pkt.is_init && st != CTAPHID_ASM_PENDING &&
		    st != CTAPHID_ASM_BAD_LEN)
			p.n = 0;
		if (st == CTAPHID_ASM_MORE || st == CTAPHID_ASM_DONE ||
		    st == CTAPHID_ASM_TOO_LONG) {
			if (p.n >= MAX_REPORTS)
				abort();
			p.rep[p.n++] = data + off;
		}
		check(&a, &before, &pkt, st, &p);
		/* the owner takes a finished message; keep the buffer
		 * clean for check_wiped() */
		if (st == CTAPHID_ASM_DONE && cap > 0)
			memset(buf, 0, cap);
	}
	free(buf);
	return 0;
}
