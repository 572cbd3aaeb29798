/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * CTAPHID packet layout, both directions.  Pure functions over byte
 * buffers: every length is checked here so that callers never index a
 * report themselves.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "ctaphid.h"
#include "ol_err.h"

int
ctaphid_packet_parse(const uint8_t *report, size_t len,
    struct ctaphid_packet *pkt)
{
	if (report == NULL || pkt == NULL || len != CTAPHID_REPORT_LEN)
		return OL_ERR_PROTOCOL;

	memset(pkt, 0, sizeof(*pkt));
	pkt->cid = (uint32_t)report[0] << 24 | (uint32_t)report[1] << 16 |
	    (uint32_t)report[2] << 8 | report[3];
	if (report[4] & CTAPHID_TYPE_INIT) {
		pkt->is_init = 1;
		pkt->cmd = report[4] & (uint8_t)~CTAPHID_TYPE_INIT;
		pkt->bcnt = (uint16_t)(report[5] << 8 | report[6]);
		pkt->data = report + 7;
		pkt->data_len = CTAPHID_INIT_DATA;
	} else {
		pkt->seq = report[4];
		pkt->data = report + 5;
		pkt->data_len = CTAPHID_CONT_DATA;
	}
	return OL_OK;
}

size_t
ctaphid_packet_count(size_t msg_len)
{
	if (msg_len <= CTAPHID_INIT_DATA)
		return 1;
	return 1 + (msg_len - CTAPHID_INIT_DATA + CTAPHID_CONT_DATA - 1) /
	    CTAPHID_CONT_DATA;
}

int
ctaphid_packet_build(uint32_t cid, uint8_t cmd, const uint8_t *msg,
    size_t msg_len, size_t idx, uint8_t out[CTAPHID_REPORT_LEN])
{
	size_t off, n;

	if (msg_len > CTAPHID_MAX_MSG)
		return OL_ERR_TOO_LONG;
	if (out == NULL || (msg == NULL && msg_len > 0) ||
	    idx >= ctaphid_packet_count(msg_len))
		return OL_ERR_ARG;

	memset(out, 0, CTAPHID_REPORT_LEN);
	out[0] = (uint8_t)(cid >> 24);
	out[1] = (uint8_t)(cid >> 16);
	out[2] = (uint8_t)(cid >> 8);
	out[3] = (uint8_t)cid;
	if (idx == 0) {
		out[4] = cmd | CTAPHID_TYPE_INIT;
		out[5] = (uint8_t)(msg_len >> 8);
		out[6] = (uint8_t)msg_len;
		n = msg_len < CTAPHID_INIT_DATA ? msg_len : CTAPHID_INIT_DATA;
		if (n > 0)
			memcpy(out + 7, msg, n);
		return OL_OK;
	}
	out[4] = (uint8_t)(idx - 1);
	off = CTAPHID_INIT_DATA + (idx - 1) * CTAPHID_CONT_DATA;
	n = msg_len - off;
	if (n > CTAPHID_CONT_DATA)
		n = CTAPHID_CONT_DATA;
	memcpy(out + 5, msg + off, n);
	return OL_OK;
}

const char *
ctaphid_error_name(uint8_t code)
{
	switch (code) {
	case CTAPHID_ERR_INVALID_CMD:
		return "INVALID_CMD";
	case CTAPHID_ERR_INVALID_PAR:
		return "INVALID_PAR";
	case CTAPHID_ERR_INVALID_LEN:
		return "INVALID_LEN";
	case CTAPHID_ERR_INVALID_SEQ:
		return "INVALID_SEQ";
	case CTAPHID_ERR_MSG_TIMEOUT:
		return "MSG_TIMEOUT";
	case CTAPHID_ERR_CHANNEL_BUSY:
		return "CHANNEL_BUSY";
	case CTAPHID_ERR_LOCK_REQUIRED:
		return "LOCK_REQUIRED";
	case CTAPHID_ERR_INVALID_CHANNEL:
		return "INVALID_CHANNEL";
	case CTAPHID_ERR_OTHER:
		return "OTHER";
	default:
		return "unknown";
	}
}

const char *
ctaphid_cmd_name(uint8_t cmd)
{
	switch (cmd) {
	case CTAPHID_PING:
		return "PING";
	case CTAPHID_MSG:
		return "MSG";
	case CTAPHID_LOCK:
		return "LOCK";
	case CTAPHID_INIT:
		return "INIT";
	case CTAPHID_WINK:
		return "WINK";
	case CTAPHID_CBOR:
		return "CBOR";
	case CTAPHID_CANCEL:
		return "CANCEL";
	case CTAPHID_KEEPALIVE:
		return "KEEPALIVE";
	case CTAPHID_ERROR:
		return "ERROR";
	case CTAPHID_OPENLOOP_APDU:
		return "OPENLOOP_APDU";
	default:
		return cmd >= CTAPHID_VENDOR_FIRST ? "vendor" : "unknown";
	}
}
