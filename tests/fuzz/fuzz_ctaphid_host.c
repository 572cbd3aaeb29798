/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Fuzz target: the host side of CTAPHID receiving whatever a device sends
 * (src/transport/ctaphid_host.c, hid_dev.c, ctaphid.c).
 *
 * A peer thread on the far end of a socketpair answers our INIT properly
 * (the nonce is random, a fuzzer could not guess it), then answers the
 * request with the fuzz input cut into 64-byte reports, and hangs up.
 * The first input byte picks the command sent, so that both the APDU path
 * and PING are covered.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ctaphid.h"
#include "ctaphid_host.h"
#include "hid_dev.h"
#include "ol_err.h"
#include "ol_log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct peer {
	int fd;
	const uint8_t *data;
	size_t size;
};

static void
quiet(unsigned category, const struct ol_log_origin *origin,
    const char *msg)
{
	(void)origin;
	(void)category;
	(void)msg;
}

static void *
peer_main(void *arg)
{
	struct peer *p = arg;
	uint8_t out[CTAPHID_REPORT_LEN + 1], rep[CTAPHID_REPORT_LEN];
	size_t off;
	ssize_t n;

	while ((n = read(p->fd, out, sizeof(out))) == (ssize_t)sizeof(out)) {
		/* INIT on the broadcast channel: echo the nonce, CID 1 */
		if (memcmp(out + 1, "\xff\xff\xff\xff\x86", 5) == 0) {
			memset(rep, 0, sizeof(rep));
			memcpy(rep, "\xff\xff\xff\xff\x86\x00\x11", 7);
			memcpy(rep + 7, out + 8, CTAPHID_NONCE_LEN);
			memcpy(rep + 15, "\x00\x00\x00\x01\x02\x00\x5b\x00\x09", 9);
			if (send(p->fd, rep, sizeof(rep), MSG_NOSIGNAL) < 0)
				break;
			continue;
		}
		/* the request's init packet: answer with the fuzz data */
		if (out[5] & CTAPHID_TYPE_INIT) {
			for (off = 0; off < p->size; off += CTAPHID_REPORT_LEN) {
				size_t k = p->size - off;

				memset(rep, 0, sizeof(rep));
				memcpy(rep, p->data + off,
				    k < sizeof(rep) ? k : sizeof(rep));
				if (send(p->fd, rep, sizeof(rep),
				    MSG_NOSIGNAL) < 0)
					break;
			}
			break;
		}
	}
	shutdown(p->fd, SHUT_RDWR);
	return NULL;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t resp[CTAPHID_MAX_MSG];
	struct ol_ctap_opts opts = { 20, 0, 50 };
	ol_hid_t *hid = NULL;
	ol_ctap_t *ctap = NULL;
	struct peer p;
	pthread_t th;
	size_t len = 0;
	int sv[2];
	uint8_t cmd;

	if (size < 1)
		return 0;
	ol_log_set_sink(quiet);
	cmd = data[0] & 1 ? CTAPHID_PING : CTAPHID_OPENLOOP_APDU;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv) < 0)
		return 0;
	p.fd = sv[1];
	p.data = data + 1;
	p.size = size - 1;
	if (ol_hid_wrap_fds(sv[0], -1, "fuzz", &hid) != OL_OK ||
	    ol_ctap_new(hid, &opts, &ctap) != OL_OK) {
		close(sv[1]);
		ol_hid_close(&hid);
		return 0;
	}
	if (pthread_create(&th, NULL, peer_main, &p) != 0)
		abort();
	if (cmd == CTAPHID_PING)
		(void)ol_ctap_transact(ctap, cmd, (const uint8_t *)"x", 1,
		    resp, sizeof(resp), &len);
	else
		(void)ol_ctap_apdu(ctap, (const uint8_t *)"\x00\x84\x00\x00\x08",
		    5, resp, sizeof(resp), &len);
	if (len > sizeof(resp))
		abort();
	/* The host may give up before sending its request (a slow peer
	 * under load misses the INIT reply time-out): hang up, so that a
	 * peer still waiting for that request stops. */
	shutdown(sv[0], SHUT_RDWR);
	pthread_join(th, NULL);
	close(sv[1]);
	ol_ctap_free(&ctap);
	ol_hid_close(&hid);
	return 0;
}
