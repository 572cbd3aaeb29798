/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vpcd-relay: the peer a user could pick instead of this driver, for the
 * benchmark (docs/performance.md).  vsmartcard's vpcd is a pcscd reader
 * driver that waits on a TCP port for a "virtual card"; this relay is
 * that card, and passes every APDU to a simulated Openloop over CTAPHID
 * (src/transport), as the driver does.
 *
 *   vpcd-relay PORT DEVICE       (DEVICE: unix:/path of openloop-sim)
 *
 * vpcd's wire format: every message is a 2-byte big-endian length and
 * that many bytes.  From vpcd, one byte is a control (0 power off, 1
 * power on, 2 reset, 4 the ATR, answered with it), more is a C-APDU,
 * answered with the R-APDU.  Power on and reset start a new session (a
 * new channel), as the driver's power-up does.  Runs until vpcd closes
 * the connection or the device fails.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ctaphid.h"
#include "ctaphid_host.h"
#include "hid_dev.h"
#include "ol_err.h"
#include "ol_log.h"

/* the ATR the driver synthesizes (docs/transport.md, section 5) */
static const uint8_t atr[] = {
	0x3B, 0x8E, 0x81, 0x31, 0xFE, 0x45, 0x80, 0x58, 0x4F, 0x70, 0x65,
	0x6E, 0x6C, 0x6F, 0x6F, 0x70, 0x73, 0x80, 0x00, 0xC0, 0x46
};

/*
 * vpcd writes a message's length and its bytes in two writes without
 * TCP_NODELAY, so Nagle holds the second until the first is acknowledged,
 * and a receiver that delays its ACK (Linux: up to 40 ms) adds that to
 * every APDU.  TCP_QUICKACK, set again before every read (the kernel
 * clears it), acknowledges at once: the peer at its best.
 */
static int
read_full(int fd, uint8_t *buf, size_t len)
{
	size_t got = 0;
	ssize_t n;
	int one = 1;

	while (got < len) {
		setsockopt(fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof(one));
		n = read(fd, buf + got, len - got);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		got += (size_t)n;
	}
	return 0;
}

static int
send_msg(int fd, const uint8_t *data, size_t len)
{
	uint8_t buf[2 + CTAPHID_MAX_MSG];
	size_t off = 0;
	ssize_t n;

	buf[0] = (uint8_t)(len >> 8);
	buf[1] = (uint8_t)len;
	memcpy(buf + 2, data, len);
	while (off < len + 2) {
		n = write(fd, buf + off, len + 2 - off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		off += (size_t)n;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	static uint8_t req[65536], resp[CTAPHID_MAX_MSG];
	struct sockaddr_in sa;
	ol_hid_t *hid = NULL;
	ol_ctap_t *ctap = NULL;
	int fd = -1, one = 1, tries, r;
	long port;
	size_t len, rlen;

	if (argc != 3 || (port = strtol(argv[1], NULL, 10)) <= 0 ||
	    port > 65535) {
		fprintf(stderr, "usage: vpcd-relay PORT unix:/path\n");
		return 2;
	}
	ol_log_set_mask(OL_LOG_CRITICAL);
	if ((r = ol_hid_open(argv[2], &hid)) != OL_OK ||
	    (r = ol_ctap_new(hid, NULL, &ctap)) != OL_OK) {
		fprintf(stderr, "vpcd-relay: %s: %s\n", argv[2], ol_strerror(r));
		return 1;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	/* vpcd listens once pcscd has loaded it: wait up to 10 s */
	for (tries = 0; tries < 100; tries++) {
		if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1)
			return 1;
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
			break;
		close(fd);
		fd = -1;
		usleep(100000);
	}
	if (fd == -1) {
		fprintf(stderr, "vpcd-relay: no vpcd on port %ld\n", port);
		return 1;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	for (;;) {
		uint8_t hdr[2];

		if (read_full(fd, hdr, 2) != 0)
			break;
		len = (size_t)hdr[0] << 8 | hdr[1];
		if (len == 0 || read_full(fd, req, len) != 0)
			break;
		if (len == 1) {
			switch (req[0]) {
			case 1: /* power on */
			case 2: /* reset */
				if ((r = ol_ctap_init(ctap)) != OL_OK)
					fprintf(stderr, "vpcd-relay: INIT: %s\n",
					    ol_strerror(r));
				break;
			case 4:
				if (send_msg(fd, atr, sizeof(atr)) != 0)
					goto out;
				break;
			default: /* power off */
				break;
			}
			continue;
		}
		r = ol_ctap_apdu(ctap, req, len, resp, sizeof(resp), &rlen);
		if (r != OL_OK) {
			/* vpcd takes an empty answer as a failure */
			fprintf(stderr, "vpcd-relay: APDU: %s\n", ol_strerror(r));
			rlen = 0;
		}
		if (send_msg(fd, resp, rlen) != 0)
			break;
	}
out:
	close(fd);
	ol_ctap_free(&ctap);
	ol_hid_close(&hid);
	return 0;
}
