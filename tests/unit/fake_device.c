/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ifd-openloop unit tests: the scripted CTAPHID device of fake_device.h.
 *
 * Only the device thread reads the device end of the socket.  Everything
 * the host sent is logged under dev->mu; the test reads the log after
 * fake_dev_quiesce(), when the thread is gone and nothing can change it.
 */
#include <sys/file.h>
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctaphid.h"
#include "ctaphid_msg.h"
#include "fake_device.h"
#include "hid_dev.h"
#include "ol_err.h"
#include "timeutil.h"

#define HOST_REPORT_LEN  (1 + CTAPHID_REPORT_LEN) /* report ID 0 + report */
#define CONT_TIMEOUT_MS  1000 /* the host sends continuations at once */
#define IDLE_POLL_MS     10   /* how often the thread looks at dev->stop */
/* "forever" for fake_keepalives(): long enough to outlast any timeout the
 * tests use, short enough that a host which never gives up makes its test
 * fail (with another error) instead of hanging */
#define KEEPALIVE_FOREVER_MS 5000

struct fake_dev {
	int fd;                    /* device end of the socketpair */
	char lock_path[64];
	fake_handler_t *handler;
	void *arg;
	pthread_t thread;
	int running;               /* thread started and not joined */

	pthread_mutex_t mu;        /* protects everything below */
	int stop;
	size_t nreq;
	size_t ncmd[128];
	struct fake_req log[FAKE_LOG_MAX];
	unsigned bad_reports;
	unsigned seq_errors;

	/* request buffers: cur for the thread loop and the handler, aux for
	 * fake_keepalives() so that it does not overwrite the handler's */
	struct fake_req cur, aux;
};

static int
stopping(struct fake_dev *dev)
{
	int stop;

	pthread_mutex_lock(&dev->mu);
	stop = dev->stop;
	pthread_mutex_unlock(&dev->mu);
	return stop;
}

static void
count_bad_report(struct fake_dev *dev)
{
	pthread_mutex_lock(&dev->mu);
	dev->bad_reports++;
	pthread_mutex_unlock(&dev->mu);
}

static void
count_seq_error(struct fake_dev *dev)
{
	pthread_mutex_lock(&dev->mu);
	dev->seq_errors++;
	pthread_mutex_unlock(&dev->mu);
}

static void
log_request(struct fake_dev *dev, const struct fake_req *req)
{
	pthread_mutex_lock(&dev->mu);
	if (dev->nreq < FAKE_LOG_MAX)
		dev->log[dev->nreq] = *req;
	dev->nreq++;
	dev->ncmd[req->cmd & 0x7f]++;
	pthread_mutex_unlock(&dev->mu);
}

int
fake_dev_lock_free(struct fake_dev *dev)
{
	int fd, is_free;

	/* a second open file description conflicts with the host's flock */
	if ((fd = open(dev->lock_path, O_RDWR | O_CLOEXEC)) < 0)
		return 0;
	is_free = flock(fd, LOCK_EX | LOCK_NB) == 0;
	if (is_free)
		flock(fd, LOCK_UN);
	close(fd);
	return is_free;
}

/*
 * One output report of the host: 1 with report[64] filled, 0 if nothing
 * came within timeout_ms, -1 if the host hung up.  Datagrams without
 * hidraw's layout (65 bytes, report ID 0) are counted and skipped.
 */
static int
dev_read_report(struct fake_dev *dev, uint8_t report[CTAPHID_REPORT_LEN],
    int timeout_ms)
{
	uint8_t buf[2 * HOST_REPORT_LEN]; /* larger, to see oversize datagrams */
	struct pollfd pfd;
	int64_t deadline = ol_now_ms() + (timeout_ms > 0 ? timeout_ms : 0);
	ssize_t n;
	int r;

	for (;;) {
		if (dev->fd < 0)
			return -1;
		pfd.fd = dev->fd;
		pfd.events = POLLIN;
		pfd.revents = 0;
		r = poll(&pfd, 1, ol_ms_left(deadline));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return r < 0 ? -1 : 0;
		n = recv(dev->fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0)
			return -1; /* EOF: the host closed its end */
		if (n != HOST_REPORT_LEN || buf[0] != 0) {
			count_bad_report(dev);
			continue;
		}
		memcpy(report, buf + 1, CTAPHID_REPORT_LEN);
		return 1;
	}
}

/*
 * Reassembles one request: 1 with *req filled, 0 if no init packet came
 * within timeout_ms, -1 if the host hung up.  Continuation packets out of
 * order, of another CID or without an init packet, and requests left
 * unfinished, are host bugs: counted.
 */
static int
dev_read_request(struct fake_dev *dev, struct fake_req *req, int timeout_ms)
{
	uint8_t report[CTAPHID_REPORT_LEN];
	struct ctaphid_packet pkt;
	struct ctaphid_asm a;
	int r, st;

	ctaphid_asm_init(&a, req->data, sizeof(req->data));
	for (;;) {
		r = dev_read_report(dev, report,
		    a.pending ? CONT_TIMEOUT_MS : timeout_ms);
		if (r <= 0) {
			if (a.pending)
				count_seq_error(dev); /* host stopped mid-message */
			return r;
		}
		if (ctaphid_packet_parse(report, sizeof(report), &pkt) != OL_OK)
			return -1; /* cannot happen: the length is 64 */
		if ((st = ctaphid_asm_feed(&a, &pkt)) == CTAPHID_ASM_PENDING) {
			/* the previous one abandoned: counted, this one taken */
			count_seq_error(dev);
			st = ctaphid_asm_start(&a, &pkt);
		}
		if (st == CTAPHID_ASM_DONE) {
			req->cid = a.cid;
			req->cmd = a.cmd;
			req->len = a.total;
			req->lock_held = !fake_dev_lock_free(dev);
			return 1;
		}
		if (st != CTAPHID_ASM_MORE)
			count_seq_error(dev);
	}
}

static void *
dev_thread(void *p)
{
	struct fake_dev *dev = p;
	int r;

	while (!stopping(dev)) {
		r = dev_read_request(dev, &dev->cur, IDLE_POLL_MS);
		if (r < 0)
			break;
		if (r == 0)
			continue;
		log_request(dev, &dev->cur);
		if (dev->handler != NULL)
			dev->handler(dev, &dev->cur, dev->arg);
	}
	return NULL;
}

int
fake_dev_start(fake_handler_t *handler, void *arg, struct fake_dev **out,
    ol_hid_t **hid)
{
	struct fake_dev *dev;
	int sv[2] = { -1, -1 }, lock_fd = -1;

	*out = NULL;
	*hid = NULL;
	if ((dev = calloc(1, sizeof(*dev))) == NULL)
		return -1;
	dev->fd = -1;
	dev->handler = handler;
	dev->arg = arg;
	pthread_mutex_init(&dev->mu, NULL);
	strcpy(dev->lock_path, "/tmp/ol-fake-lock-XXXXXX");
	if ((lock_fd = mkstemp(dev->lock_path)) < 0)
		goto fail;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		goto fail;
	dev->fd = sv[1];
	/* the handle owns sv[0] and lock_fd from here on, even on failure */
	if (ol_hid_wrap_fds(sv[0], lock_fd, "fake", hid) != OL_OK) {
		*hid = NULL;
		lock_fd = -1;
		goto fail;
	}
	lock_fd = -1;
	if (pthread_create(&dev->thread, NULL, dev_thread, dev) != 0) {
		ol_hid_close(hid);
		goto fail;
	}
	dev->running = 1;
	*out = dev;
	return 0;
fail:
	if (lock_fd >= 0)
		close(lock_fd);
	if (dev->fd >= 0)
		close(dev->fd);
	if (dev->lock_path[0] != '\0')
		unlink(dev->lock_path);
	pthread_mutex_destroy(&dev->mu);
	free(dev);
	return -1;
}

void
fake_dev_quiesce(struct fake_dev *dev)
{
	if (dev == NULL)
		return;
	if (dev->running) {
		pthread_mutex_lock(&dev->mu);
		dev->stop = 1;
		pthread_mutex_unlock(&dev->mu);
		pthread_join(dev->thread, NULL);
		dev->running = 0;
	}
	/* whatever the host wrote before returning is queued by now */
	while (dev_read_request(dev, &dev->cur, 0) == 1)
		log_request(dev, &dev->cur);
}

void
fake_dev_hangup(struct fake_dev *dev)
{
	if (dev->running && !pthread_equal(pthread_self(), dev->thread))
		fake_dev_quiesce(dev);
	if (dev->fd >= 0) {
		close(dev->fd);
		dev->fd = -1;
	}
}

void
fake_dev_free(struct fake_dev **devp)
{
	struct fake_dev *dev;

	if (devp == NULL || (dev = *devp) == NULL)
		return;
	fake_dev_quiesce(dev);
	if (dev->fd >= 0)
		close(dev->fd);
	unlink(dev->lock_path);
	pthread_mutex_destroy(&dev->mu);
	free(dev);
	*devp = NULL;
}

size_t
fake_dev_nreq(struct fake_dev *dev)
{
	size_t n;

	pthread_mutex_lock(&dev->mu);
	n = dev->nreq;
	pthread_mutex_unlock(&dev->mu);
	return n;
}

size_t
fake_dev_ncmd(struct fake_dev *dev, uint8_t cmd)
{
	size_t n;

	pthread_mutex_lock(&dev->mu);
	n = dev->ncmd[cmd & 0x7f];
	pthread_mutex_unlock(&dev->mu);
	return n;
}

int
fake_dev_req(struct fake_dev *dev, size_t i, struct fake_req *out)
{
	int r = -1;

	pthread_mutex_lock(&dev->mu);
	if (i < dev->nreq && i < FAKE_LOG_MAX) {
		*out = dev->log[i];
		r = 0;
	}
	pthread_mutex_unlock(&dev->mu);
	return r;
}

unsigned
fake_dev_bad_reports(struct fake_dev *dev)
{
	unsigned n;

	pthread_mutex_lock(&dev->mu);
	n = dev->bad_reports;
	pthread_mutex_unlock(&dev->mu);
	return n;
}

unsigned
fake_dev_seq_errors(struct fake_dev *dev)
{
	unsigned n;

	pthread_mutex_lock(&dev->mu);
	n = dev->seq_errors;
	pthread_mutex_unlock(&dev->mu);
	return n;
}

const char *
fake_dev_lock_path(const struct fake_dev *dev)
{
	return dev->lock_path;
}

int
fake_send_report(struct fake_dev *dev, const uint8_t report[64])
{
	ssize_t n;

	if (dev->fd < 0)
		return -1;
	/* MSG_NOSIGNAL: a host that closed must not kill the test runner */
	do
		n = send(dev->fd, report, CTAPHID_REPORT_LEN, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	return n == CTAPHID_REPORT_LEN ? 0 : -1;
}

static int
emit_report(void *arg, const uint8_t report[CTAPHID_REPORT_LEN])
{
	return fake_send_report(arg, report) == 0 ? OL_OK : OL_ERR_IO;
}

int
fake_send_msg_part(struct fake_dev *dev, uint32_t cid, uint8_t cmd,
    const uint8_t *data, size_t len, size_t npkt)
{
	if (npkt == 0)
		npkt = SIZE_MAX;
	return ctaphid_fragment_head(cid, cmd, data, len, npkt, emit_report,
	    dev) == OL_OK ? 0 : -1;
}

int
fake_send_msg(struct fake_dev *dev, uint32_t cid, uint8_t cmd,
    const uint8_t *data, size_t len)
{
	return fake_send_msg_part(dev, cid, cmd, data, len, 0);
}

int
fake_send_error(struct fake_dev *dev, uint32_t cid, uint8_t code)
{
	return fake_send_msg(dev, cid, CTAPHID_ERROR, &code, 1);
}

int
fake_send_keepalive(struct fake_dev *dev, uint32_t cid, uint8_t status)
{
	return fake_send_msg(dev, cid, CTAPHID_KEEPALIVE, &status, 1);
}

int
fake_answer_init(struct fake_dev *dev, const struct fake_req *req,
    uint32_t new_cid, uint8_t nonce_xor)
{
	uint8_t resp[CTAPHID_INIT_RESP_LEN];
	size_t i;

	if (req->len != CTAPHID_NONCE_LEN)
		return -1;
	for (i = 0; i < CTAPHID_NONCE_LEN; i++)
		resp[i] = req->data[i] ^ nonce_xor;
	resp[8] = (uint8_t)(new_cid >> 24);
	resp[9] = (uint8_t)(new_cid >> 16);
	resp[10] = (uint8_t)(new_cid >> 8);
	resp[11] = (uint8_t)new_cid;
	resp[12] = CTAPHID_PROTOCOL_VERSION;
	resp[13] = 1; /* major */
	resp[14] = 2; /* minor */
	resp[15] = 3; /* build */
	resp[16] = CTAPHID_CAP_WINK | CTAPHID_CAP_CBOR;
	return fake_send_msg(dev, CTAPHID_CID_BROADCAST, CTAPHID_INIT, resp,
	    sizeof(resp));
}

int
fake_keepalives(struct fake_dev *dev, uint32_t cid, uint8_t status,
    int interval_ms, int duration_ms)
{
	int64_t end, next;
	int r;

	end = ol_now_ms() + (duration_ms < 0 ? KEEPALIVE_FOREVER_MS :
	    duration_ms);

	for (;;) {
		if (stopping(dev))
			return -1;
		if (ol_now_ms() >= end)
			return 0;
		if (fake_send_keepalive(dev, cid, status) != 0)
			return -1;
		/* listen for one interval: the host may send CANCEL */
		next = ol_now_ms() + interval_ms;
		while ((r = dev_read_request(dev, &dev->aux,
		    ol_ms_left(next))) == 1) {
			log_request(dev, &dev->aux);
			if (dev->aux.cmd == CTAPHID_CANCEL && dev->aux.cid == cid)
				return 1;
		}
		if (r < 0)
			return -1;
	}
}
