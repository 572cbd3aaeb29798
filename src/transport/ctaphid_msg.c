/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * CTAPHID messages: reassembly from packets, and fragmentation into
 * reports.  Policy stays with the callers (which channels to listen to,
 * what to answer an error with); the framing rules live here only.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "ctaphid.h"
#include "ctaphid_msg.h"
#include "ol_err.h"

void
ctaphid_asm_init(struct ctaphid_asm *a, uint8_t *buf, size_t cap)
{
	if (a == NULL)
		return;
	memset(a, 0, sizeof(*a));
	a->buf = buf;
	a->cap = buf != NULL ? cap : 0;
}

int
ctaphid_asm_is_mine(const struct ctaphid_asm *a,
    const struct ctaphid_packet *pkt)
{
	return a != NULL && pkt != NULL && a->pending && pkt->cid == a->cid;
}

void
ctaphid_asm_abort(struct ctaphid_asm *a)
{
	if (a == NULL)
		return;
	/* not discarding means total <= cap, and got <= total */
	if (a->pending && !a->discarding && a->got > 0)
		explicit_bzero(a->buf, a->got);
	a->pending = 0;
}

/* Takes the data of one packet: as much of it as the message has left. */
static int
take(struct ctaphid_asm *a, const struct ctaphid_packet *pkt)
{
	size_t n = a->total - a->got;

	if (n > pkt->data_len)
		n = pkt->data_len;
	if (!a->discarding && n > 0) {
		/* total <= cap was checked at the start; checked again
		 * here, where the copy is */
		if (a->got > a->cap || n > a->cap - a->got) {
			ctaphid_asm_abort(a);
			return CTAPHID_ASM_ARG;
		}
		memcpy(a->buf + a->got, pkt->data, n);
	}
	a->got += n;
	if (a->got < a->total) {
		a->pending = 1;
		return CTAPHID_ASM_MORE;
	}
	a->pending = 0;
	return a->discarding ? CTAPHID_ASM_TOO_LONG : CTAPHID_ASM_DONE;
}

/* A packet from ctaphid_packet_parse(), or one built to look like it. */
static int
packet_ok(const struct ctaphid_packet *pkt)
{
	return pkt != NULL && pkt->data != NULL &&
	    pkt->data_len == (pkt->is_init ? CTAPHID_INIT_DATA :
	    CTAPHID_CONT_DATA);
}

int
ctaphid_asm_start(struct ctaphid_asm *a, const struct ctaphid_packet *pkt)
{
	if (a == NULL || !packet_ok(pkt) || !pkt->is_init)
		return CTAPHID_ASM_ARG;
	if (a->pending) {
		/* a new message before the last one ended: neither is whole */
		ctaphid_asm_abort(a);
		return CTAPHID_ASM_PENDING;
	}
	a->cid = pkt->cid;
	a->cmd = pkt->cmd;
	a->total = pkt->bcnt;
	a->got = 0;
	a->next_seq = 0;
	a->discarding = 0;
	if (a->total > CTAPHID_MAX_MSG)
		return CTAPHID_ASM_BAD_LEN;
	/* Too long for the caller: still counted to its end, so that its
	 * tail is not taken for the start of the next message. */
	a->discarding = a->total > a->cap;
	return take(a, pkt);
}

int
ctaphid_asm_add(struct ctaphid_asm *a, const struct ctaphid_packet *pkt)
{
	if (a == NULL || !packet_ok(pkt) || pkt->is_init)
		return CTAPHID_ASM_ARG;
	if (!a->pending)
		return CTAPHID_ASM_NO_INIT;
	if (pkt->cid != a->cid)
		return CTAPHID_ASM_FOREIGN;
	if (pkt->seq != a->next_seq) {
		/* a packet lost or repeated: the message cannot be whole */
		ctaphid_asm_abort(a);
		return CTAPHID_ASM_BAD_SEQ;
	}
	a->next_seq++;
	return take(a, pkt);
}

int
ctaphid_asm_feed(struct ctaphid_asm *a, const struct ctaphid_packet *pkt)
{
	if (pkt == NULL)
		return CTAPHID_ASM_ARG;
	return pkt->is_init ? ctaphid_asm_start(a, pkt) :
	    ctaphid_asm_add(a, pkt);
}

const char *
ctaphid_asm_status_name(int status)
{
	switch (status) {
	case CTAPHID_ASM_DONE:
		return "done";
	case CTAPHID_ASM_MORE:
		return "more to come";
	case CTAPHID_ASM_TOO_LONG:
		return "longer than the buffer";
	case CTAPHID_ASM_BAD_SEQ:
		return "continuation out of sequence";
	case CTAPHID_ASM_BAD_LEN:
		return "BCNT over the CTAPHID limit";
	case CTAPHID_ASM_NO_INIT:
		return "continuation without an init packet";
	case CTAPHID_ASM_PENDING:
		return "init packet inside a message";
	case CTAPHID_ASM_FOREIGN:
		return "another channel's continuation";
	case CTAPHID_ASM_ARG:
		return "invalid argument";
	default:
		return "unknown";
	}
}

int
ctaphid_fragment_head(uint32_t cid, uint8_t cmd, const uint8_t *msg,
    size_t len, size_t nreports, ctaphid_emit_fn *emit, void *arg)
{
	uint8_t report[CTAPHID_REPORT_LEN];
	size_t i, count;
	int r;

	if (len > CTAPHID_MAX_MSG)
		return OL_ERR_TOO_LONG;
	if (emit == NULL || (msg == NULL && len > 0))
		return OL_ERR_ARG;
	count = ctaphid_packet_count(len);
	if (nreports < count)
		count = nreports;
	r = OL_OK;
	for (i = 0; i < count && r == OL_OK; i++) {
		if ((r = ctaphid_packet_build(cid, cmd, msg, len, i,
		    report)) == OL_OK)
			r = emit(arg, report);
	}
	/* the report held part of the message: a PIN, a key */
	explicit_bzero(report, sizeof(report));
	return r;
}

int
ctaphid_fragment(uint32_t cid, uint8_t cmd, const uint8_t *msg, size_t len,
    ctaphid_emit_fn *emit, void *arg)
{
	return ctaphid_fragment_head(cid, cmd, msg, len, SIZE_MAX, emit, arg);
}
