/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ifd-openloop: CTAPHID messages over the packet layer of ctaphid.h.
 * Both directions and both sides (host, simulator, test fakes) assemble
 * and fragment messages here, so that the rules of CTAP 2.1 section 11.2
 * (SEQ 0, 1, 2 ..., BCNT at most 7609) are written once.
 */
#ifndef OL_CTAPHID_MSG_H
#define OL_CTAPHID_MSG_H

#include <stddef.h>
#include <stdint.h>

#include "ctaphid.h"

/* What ctaphid_asm_start() and ctaphid_asm_add() say. */
enum ctaphid_asm_status {
	CTAPHID_ASM_DONE = 0,    /* the whole message is in the buffer */
	CTAPHID_ASM_MORE,        /* continuation packets are due */
	CTAPHID_ASM_TOO_LONG,    /* read to its end, but over the buffer's
	                          * capacity: nothing of it was kept */
	CTAPHID_ASM_BAD_SEQ,     /* continuation out of order: dropped */
	CTAPHID_ASM_BAD_LEN,     /* BCNT over CTAPHID_MAX_MSG: refused */
	CTAPHID_ASM_NO_INIT,     /* continuation with no message pending */
	CTAPHID_ASM_PENDING,     /* init packet while a message was pending:
	                          * that one is dropped, this one not taken */
	CTAPHID_ASM_FOREIGN,     /* continuation of another channel: ignored,
	                          * the pending message is left as it was */
	CTAPHID_ASM_ARG,         /* wrong packet type for the call, NULL */
};

/*
 * One message being received.  The fields are for reading: after DONE or
 * TOO_LONG they describe the message, after an error the one that failed
 * (for the log).  Only bytes that fit the caller's buffer are copied;
 * those of a message that failed are wiped (they may be a PIN).
 */
struct ctaphid_asm {
	uint8_t *buf;       /* the caller's; a message never goes past cap */
	size_t cap;
	uint32_t cid;
	uint8_t cmd;        /* without the 0x80 bit */
	size_t total;       /* BCNT */
	size_t got;         /* bytes received so far, kept or not */
	uint8_t next_seq;
	int pending;        /* an init packet came, the message is not done */
	int discarding;     /* total > cap: counted, not kept */
};

/* Binds the caller's buffer (NULL with cap 0 is fine: then every non-empty
 * message is TOO_LONG); no message pending. */
void ctaphid_asm_init(struct ctaphid_asm *a, uint8_t *buf, size_t cap);

/* pkt must be an init packet.  DONE, MORE, TOO_LONG, BAD_LEN, PENDING,
 * ARG.  Deciding about other channels' init packets is the caller's
 * business, before this call. */
int ctaphid_asm_start(struct ctaphid_asm *a, const struct ctaphid_packet *pkt);

/* pkt must be a continuation packet.  DONE, MORE, TOO_LONG, BAD_SEQ,
 * NO_INIT, FOREIGN, ARG. */
int ctaphid_asm_add(struct ctaphid_asm *a, const struct ctaphid_packet *pkt);

/* start() for an init packet, add() for a continuation packet. */
int ctaphid_asm_feed(struct ctaphid_asm *a, const struct ctaphid_packet *pkt);

/* Is pkt on the channel of the message pending? */
int ctaphid_asm_is_mine(const struct ctaphid_asm *a,
    const struct ctaphid_packet *pkt);

/* Gives up the pending message (cancel, resync, timeout): its bytes are
 * wiped.  A finished message is left alone. */
void ctaphid_asm_abort(struct ctaphid_asm *a);

const char *ctaphid_asm_status_name(int status);

/*
 * Writes one report; OL_OK to go on.  Anything else stops the fragmenter,
 * which returns it.
 */
typedef int ctaphid_emit_fn(void *arg, const uint8_t report[CTAPHID_REPORT_LEN]);

/*
 * Hands every report of the message (cid, cmd, msg, len) to emit, in
 * order.  OL_ERR_TOO_LONG over CTAPHID_MAX_MSG (nothing emitted),
 * OL_ERR_ARG, or what emit returned.
 */
int ctaphid_fragment(uint32_t cid, uint8_t cmd, const uint8_t *msg,
    size_t len, ctaphid_emit_fn *emit, void *arg);

/* The same, but only the first nreports reports (tests that cut a message
 * short); nreports past the message's count means all of them. */
int ctaphid_fragment_head(uint32_t cid, uint8_t cmd, const uint8_t *msg,
    size_t len, size_t nreports, ctaphid_emit_fn *emit, void *arg);

#endif
