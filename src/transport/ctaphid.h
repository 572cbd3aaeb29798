/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ifd-openloop: CTAPHID framing (CTAP 2.1 section 11.2) on 64-byte reports,
 * shared by the host side (driver, openloop-hid) and the device side
 * (openloop-sim).  See docs/transport.md.
 */
#ifndef OL_CTAPHID_H
#define OL_CTAPHID_H

#include <stddef.h>
#include <stdint.h>

#define CTAPHID_REPORT_LEN   64
#define CTAPHID_INIT_DATA    57                  /* 64 - CID(4) CMD(1) BCNT(2) */
#define CTAPHID_CONT_DATA    59                  /* 64 - CID(4) SEQ(1) */
#define CTAPHID_MAX_SEQ      0x7f
#define CTAPHID_MAX_MSG      (CTAPHID_INIT_DATA + (CTAPHID_MAX_SEQ + 1) * CTAPHID_CONT_DATA) /* 7609 */
#define CTAPHID_CID_BROADCAST 0xffffffffu

#define CTAPHID_TYPE_INIT    0x80

#define CTAPHID_PING         0x01
#define CTAPHID_MSG          0x03
#define CTAPHID_LOCK         0x04
#define CTAPHID_INIT         0x06
#define CTAPHID_WINK         0x08
#define CTAPHID_CBOR         0x10
#define CTAPHID_CANCEL       0x11
#define CTAPHID_KEEPALIVE    0x3b
#define CTAPHID_ERROR        0x3f
#define CTAPHID_VENDOR_FIRST 0x40
#define CTAPHID_VENDOR_LAST  0x7f

/* Openloop's vendor command: an ISO 7816-4 APDU, request = C-APDU,
 * response = response data || SW1 SW2 */
#define CTAPHID_OPENLOOP_APDU 0x70

#define CTAPHID_NONCE_LEN    8
#define CTAPHID_INIT_RESP_LEN 17 /* nonce(8) cid(4) proto ver(1) major minor build(3) caps(1) */
#define CTAPHID_PROTOCOL_VERSION 2

#define CTAPHID_CAP_WINK     0x01
#define CTAPHID_CAP_CBOR     0x04
#define CTAPHID_CAP_NMSG     0x08

#define CTAPHID_STATUS_PROCESSING 1
#define CTAPHID_STATUS_UPNEEDED   2

#define CTAPHID_ERR_INVALID_CMD     0x01
#define CTAPHID_ERR_INVALID_PAR     0x02
#define CTAPHID_ERR_INVALID_LEN     0x03
#define CTAPHID_ERR_INVALID_SEQ     0x04
#define CTAPHID_ERR_MSG_TIMEOUT     0x05
#define CTAPHID_ERR_CHANNEL_BUSY    0x06
#define CTAPHID_ERR_LOCK_REQUIRED   0x0a
#define CTAPHID_ERR_INVALID_CHANNEL 0x0b
#define CTAPHID_ERR_OTHER           0x7f

/* A parsed report.  For init packets cmd has the 0x80 bit removed. */
struct ctaphid_packet {
	uint32_t cid;
	int is_init;
	uint8_t cmd;          /* init packets only */
	uint8_t seq;          /* continuation packets only */
	uint16_t bcnt;        /* init packets only: total payload length */
	const uint8_t *data;  /* points into the report */
	size_t data_len;      /* 57 or 59: what the packet can carry */
};

/* Parses one report; OL_ERR_PROTOCOL if len != 64. */
int ctaphid_packet_parse(const uint8_t *report, size_t len,
    struct ctaphid_packet *pkt);

/* Number of reports a message of msg_len bytes needs (>= 1). */
size_t ctaphid_packet_count(size_t msg_len);

/*
 * Builds report number idx (0 = init packet) of the message
 * (cid, cmd, msg, msg_len) into out[64], zero-padded.
 * OL_ERR_TOO_LONG if msg_len > CTAPHID_MAX_MSG, OL_ERR_ARG if idx is past
 * the last report.
 */
int ctaphid_packet_build(uint32_t cid, uint8_t cmd, const uint8_t *msg,
    size_t msg_len, size_t idx, uint8_t out[CTAPHID_REPORT_LEN]);

const char *ctaphid_error_name(uint8_t code);
const char *ctaphid_cmd_name(uint8_t cmd);

#endif
