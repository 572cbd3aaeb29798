/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * openloop-sim's hidg backend, with a SOCK_SEQPACKET socketpair (or two
 * pipes) standing in for /dev/hidg0: one datagram is one 64-byte report,
 * no report ID, as f_hid reads and writes them.  INIT, PING, APDU and
 * CBOR round trips through the real device state machine and card; a
 * node that would block (EAGAIN), a host that is gone (write errors),
 * the queue limit, odd report sizes, end of file, sim_hidg_open().
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "ctaphid.h"
#include "ctaphid_msg.h"
#include "ol_err.h"
#include "ol_log.h"
#include "sim_card.h"
#include "sim_ctaphid.h"
#include "ctap2.h"
#include "fido_auth.h"
#include "sim_fido.h"
#include "sim_hidg.h"
#include "timeutil.h"

#define FIRST_CID 0x00000200u
#define WAIT_MS   5000

struct fx {
	sim_card_t *card;
	sim_fido_t *fido;
	sim_ctaphid_t *dev;
	sim_hidg_t *hg;
	int host_r;   /* the host reads input reports here */
	int host_w;   /* and writes output reports here */
	int gadget_w; /* the gadget's write end (owned by hg) */
	int reports;  /* output reports handed to the device */
};

static void
on_report(void *arg, const uint8_t report[CTAPHID_REPORT_LEN])
{
	struct fx *fx = arg;

	fx->reports++;
	sim_ctaphid_feed(fx->dev, report, CTAPHID_REPORT_LEN, ol_now_ms());
}

static int
on_ready(void *arg)
{
	struct fx *fx = arg;

	return sim_ctaphid_ready(fx->dev);
}

static void
on_emit(void *arg, const uint8_t report[CTAPHID_REPORT_LEN])
{
	struct fx *fx = arg;

	sim_hidg_send(fx->hg, report);
}

static void
on_worker(void *arg)
{
	(void)arg;
}

/* gfd/gwfd: the gadget's ends, as sim_hidg_new() takes them */
static struct fx *
fx_new(int gfd, int gwfd, int host_r, int host_w)
{
	struct sim_ctaphid_opts o;
	struct sim_hidg_hooks h;
	struct fx *fx = calloc(1, sizeof(*fx));

	assert_non_null(fx);
	fx->host_r = host_r;
	fx->host_w = host_w;
	fx->gadget_w = gwfd == -1 ? gfd : gwfd;
	assert_int_equal(sim_card_new(&fx->card), OL_OK);
	{
		struct sim_fido_config fc;

		memset(&fc, 0, sizeof(fc));
		sim_card_touch_port(fx->card, &fc.touch);
		assert_int_equal(sim_fido_new(&fc, &fx->fido), OL_OK);
	}
	memset(&h, 0, sizeof(h));
	h.report = on_report;
	h.ready = on_ready;
	h.arg = fx;
	assert_int_equal(sim_hidg_new(gfd, gwfd, &h, &fx->hg), OL_OK);
	memset(&o, 0, sizeof(o));
	o.card_ops = &sim_card_ops;
	o.card = fx->card;
	o.fido_ops = &sim_fido_ops;
	o.fido = fx->fido;
	o.emit = on_emit;
	o.emit_arg = fx;
	o.report_interval_ms = 0;
	o.first_cid = FIRST_CID;
	assert_int_equal(sim_ctaphid_new(&o, &fx->dev), OL_OK);
	assert_int_equal(sim_hidg_watch(fx->hg, sim_ctaphid_fd(fx->dev),
	    on_worker, fx), OL_OK);
	return fx;
}

static int
setup_socketpair(void **state)
{
	int sv[2];

	ol_log_set_mask(0);
	signal(SIGPIPE, SIG_IGN);
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0,
	    sv), 0);
	*state = fx_new(sv[1], -1, sv[0], sv[0]);
	return 0;
}

static int
setup_pipes(void **state)
{
	int to_gadget[2], to_host[2];

	ol_log_set_mask(0);
	signal(SIGPIPE, SIG_IGN);
	assert_int_equal(pipe2(to_gadget, O_CLOEXEC), 0);
	assert_int_equal(pipe2(to_host, O_CLOEXEC), 0);
	*state = fx_new(to_gadget[0], to_host[1], to_host[0], to_gadget[1]);
	return 0;
}

static int
teardown(void **state)
{
	struct fx *fx = *state;

	sim_ctaphid_free(&fx->dev);
	sim_hidg_free(&fx->hg);
	assert_null(fx->hg);
	sim_fido_free(&fx->fido);
	sim_card_free(&fx->card);
	if (fx->host_r >= 0)
		close(fx->host_r);
	if (fx->host_w >= 0 && fx->host_w != fx->host_r)
		close(fx->host_w);
	free(fx);
	return 0;
}

/* --- the simulator's loop, one round ------------------------------------ */

static int
round_once(struct fx *fx, int max_ms)
{
	int64_t now = ol_now_ms();
	int t;

	sim_ctaphid_tick(fx->dev, now);
	t = sim_ctaphid_next_timeout(fx->dev, now);
	if (t < 0 || t > max_ms)
		t = max_ms;
	return sim_hidg_run_once(fx->hg, (int64_t)t * 1000);
}

/* --- the host ------------------------------------------------------------ */

static void
host_write(struct fx *fx, const uint8_t *buf, size_t len)
{
	assert_int_equal(write(fx->host_w, buf, len), (ssize_t)len);
}

static int
host_emit(void *arg, const uint8_t report[CTAPHID_REPORT_LEN])
{
	struct fx *fx = arg;

	host_write(fx, report, CTAPHID_REPORT_LEN);
	/* let the simulator take it, as the device would */
	return round_once(fx, 0);
}

static void
host_send(struct fx *fx, uint32_t cid, uint8_t cmd, const uint8_t *msg,
    size_t len)
{
	assert_int_equal(ctaphid_fragment(cid, cmd, msg, len, host_emit, fx),
	    OL_OK);
}

/* One input report, running the simulator until it comes: exactly 64
 * bytes (no report ID).  The pipe variant reads exactly 64 too. */
static void
host_read(struct fx *fx, uint8_t r[CTAPHID_REPORT_LEN])
{
	struct pollfd p;
	int64_t end = ol_now_ms() + WAIT_MS;
	uint8_t buf[CTAPHID_REPORT_LEN + 8];
	ssize_t n;

	for (;;) {
		p.fd = fx->host_r;
		p.events = POLLIN;
		if (poll(&p, 1, 0) == 1) {
			n = read(fx->host_r, buf, CTAPHID_REPORT_LEN);
			assert_int_equal(n, CTAPHID_REPORT_LEN);
			memcpy(r, buf, CTAPHID_REPORT_LEN);
			return;
		}
		assert_true(ol_now_ms() < end);
		assert_int_equal(round_once(fx, 10), OL_OK);
	}
}

static int
host_has_input(struct fx *fx)
{
	struct pollfd p;

	p.fd = fx->host_r;
	p.events = POLLIN;
	return poll(&p, 1, 0) == 1;
}

/* Reassembles the next message, which must be want_cid's and come
 * whole, with nothing between its reports.  KEEPALIVEs are skipped as a
 * host skips them: an APDU on a loaded machine (make -j check under ASan)
 * can take longer than the 100 ms after which the device sends one. */
static size_t
host_recv(struct fx *fx, uint32_t want_cid, uint8_t *cmd, uint8_t *buf,
    size_t cap)
{
	uint8_t r[CTAPHID_REPORT_LEN];
	struct ctaphid_packet p;
	struct ctaphid_asm a;
	int st;

	ctaphid_asm_init(&a, buf, cap);
	do {
		host_read(fx, r);
		assert_int_equal(ctaphid_packet_parse(r, sizeof(r), &p), OL_OK);
		assert_int_equal(p.cid, want_cid);
		if (p.is_init && p.cmd == CTAPHID_KEEPALIVE && !a.pending) {
			st = CTAPHID_ASM_MORE;
			continue;
		}
		st = ctaphid_asm_feed(&a, &p);
	} while (st == CTAPHID_ASM_MORE);
	assert_int_equal(st, CTAPHID_ASM_DONE);
	*cmd = a.cmd;
	return a.total;
}

static uint32_t
host_init(struct fx *fx)
{
	static const uint8_t nonce[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	uint8_t buf[64], cmd;
	uint32_t cid;

	host_send(fx, CTAPHID_CID_BROADCAST, CTAPHID_INIT, nonce, 8);
	assert_int_equal(host_recv(fx, CTAPHID_CID_BROADCAST, &cmd, buf,
	    sizeof(buf)), CTAPHID_INIT_RESP_LEN);
	assert_int_equal(cmd, CTAPHID_INIT);
	assert_memory_equal(buf, nonce, 8);
	cid = (uint32_t)buf[8] << 24 | (uint32_t)buf[9] << 16 |
	    (uint32_t)buf[10] << 8 | buf[11];
	assert_int_equal(buf[12], CTAPHID_PROTOCOL_VERSION);
	/* WINK | CBOR: CTAP2 and U2F */
	assert_int_equal(buf[16], 0x05);
	return cid;
}

/* --- tests --------------------------------------------------------------- */

static void
round_trips(void **state)
{
	static const uint8_t gc[] = { 0x00, 0x84, 0x00, 0x00, 0x08 };
	static const uint8_t sel[] = { 0x00, 0xa4, 0x04, 0x00, 0x09, 0xa0,
	    0x00, 0x00, 0x03, 0x08, 0x00, 0x00, 0x10, 0x00, 0x00 };
	static const uint8_t get_info = CTAP2_CMD_GET_INFO;
	struct fx *fx = *state;
	uint8_t ping[300], buf[CTAPHID_MAX_MSG], cmd;
	uint32_t cid;
	size_t n, i;

	cid = host_init(fx);
	assert_int_equal(cid, FIRST_CID);
	/* PING over six reports */
	for (i = 0; i < sizeof(ping); i++)
		ping[i] = (uint8_t)(i * 7);
	host_send(fx, cid, CTAPHID_PING, ping, sizeof(ping));
	assert_int_equal(host_recv(fx, cid, &cmd, buf, sizeof(buf)),
	    sizeof(ping));
	assert_int_equal(cmd, CTAPHID_PING);
	assert_memory_equal(buf, ping, sizeof(ping));
	/* APDUs through the worker thread */
	host_send(fx, cid, CTAPHID_OPENLOOP_APDU, gc, sizeof(gc));
	assert_int_equal(host_recv(fx, cid, &cmd, buf, sizeof(buf)), 10);
	assert_int_equal(cmd, CTAPHID_OPENLOOP_APDU);
	assert_int_equal(buf[8], 0x90);
	assert_int_equal(buf[9], 0x00);
	host_send(fx, cid, CTAPHID_OPENLOOP_APDU, sel, sizeof(sel));
	n = host_recv(fx, cid, &cmd, buf, sizeof(buf));
	assert_true(n > 2);
	assert_int_equal(buf[0], 0x61);
	assert_int_equal(buf[n - 2], 0x90);
	assert_int_equal(buf[n - 1], 0x00);
	/* CBOR GetInfo */
	host_send(fx, cid, CTAPHID_CBOR, &get_info, 1);
	n = host_recv(fx, cid, &cmd, buf, sizeof(buf));
	assert_int_equal(cmd, CTAPHID_CBOR);
	assert_true(n > 1);
	assert_int_equal(buf[0], CTAP2_OK);
	assert_int_equal(buf[1], 0xa8);  /* a map of 8 */
	assert_int_equal(sim_hidg_queued(fx->hg), 0);
	assert_int_equal(sim_hidg_dropped(fx->hg), 0);
}

static void
odd_sizes_ignored(void **state)
{
	struct fx *fx = *state;
	uint8_t r[CTAPHID_REPORT_LEN + 1], buf[64], cmd;
	uint32_t cid;
	int i;

	cid = host_init(fx);
	/* hidraw's layout (report ID first) is not what f_hid hands over;
	 * nor is a short report */
	memset(r, 0, sizeof(r));
	r[1] = (uint8_t)(cid >> 24);
	r[2] = (uint8_t)(cid >> 16);
	r[3] = (uint8_t)(cid >> 8);
	r[4] = (uint8_t)cid;
	r[5] = CTAPHID_PING | CTAPHID_TYPE_INIT;
	host_write(fx, r, sizeof(r));
	host_write(fx, r + 1, 10);
	for (i = 0; i < 5; i++)
		assert_int_equal(round_once(fx, 5), OL_OK);
	assert_false(host_has_input(fx));
	assert_int_equal(fx->reports, 1);  /* only the INIT */
	/* still fine afterwards */
	host_send(fx, cid, CTAPHID_PING, buf, 0);
	assert_int_equal(host_recv(fx, cid, &cmd, buf, sizeof(buf)), 0);
	assert_int_equal(cmd, CTAPHID_PING);
}

/* The host does not take input reports (EAGAIN): they wait, in order. */
static void
would_block_queues(void **state)
{
	struct fx *fx = *state;
	uint8_t ping[CTAPHID_MAX_MSG], buf[CTAPHID_MAX_MSG], cmd;
	uint32_t cid;
	int small = 1, i;
	size_t k;

	cid = host_init(fx);
	/* the smallest send buffer the kernel allows: a few reports */
	assert_int_equal(setsockopt(fx->gadget_w, SOL_SOCKET, SO_SNDBUF, &small,
	    sizeof(small)), 0);
	for (k = 0; k < sizeof(ping); k++)
		ping[k] = (uint8_t)(k ^ (k >> 8));
	host_send(fx, cid, CTAPHID_PING, ping, sizeof(ping));
	for (i = 0; i < 10; i++)
		assert_int_equal(round_once(fx, 1), OL_OK);
	assert_true(sim_hidg_queued(fx->hg) > 0);
	assert_int_equal(sim_hidg_dropped(fx->hg), 0);
	/* the host reads: all 130 reports, in order */
	assert_int_equal(host_recv(fx, cid, &cmd, buf, sizeof(buf)),
	    sizeof(ping));
	assert_memory_equal(buf, ping, sizeof(ping));
	assert_int_equal(sim_hidg_queued(fx->hg), 0);
}

/* Nobody reads: the queue fills, output reports are left unread, then
 * new input reports are dropped; nothing fails. */
static void
queue_limit(void **state)
{
	struct fx *fx = *state;
	uint8_t r[CTAPHID_REPORT_LEN];
	unsigned long i;
	int small = 1;

	assert_int_equal(setsockopt(fx->gadget_w, SOL_SOCKET, SO_SNDBUF, &small,
	    sizeof(small)), 0);
	memset(r, 0x42, sizeof(r));
	assert_true(sim_hidg_ready(fx->hg));
	for (i = 0; i < SIM_HIDG_QUEUE + 100; i++)
		sim_hidg_send(fx->hg, r);
	assert_int_equal(sim_hidg_queued(fx->hg), SIM_HIDG_QUEUE);
	assert_false(sim_hidg_ready(fx->hg));
	assert_true(sim_hidg_dropped(fx->hg) > 0);
	assert_true(sim_hidg_dropped(fx->hg) <= 100);
	/* an output report now stays unread */
	host_write(fx, r, sizeof(r));
	assert_int_equal(round_once(fx, 1), OL_OK);
	assert_int_equal(fx->reports, 0);
}

/* The host is gone (f_hid: ESHUTDOWN; here EPIPE): queued input reports
 * are dropped, the loop goes on, output reports are still read. */
static void
host_gone_drops(void **state)
{
	struct fx *fx = *state;
	uint8_t r[CTAPHID_REPORT_LEN];
	int i;

	memset(r, 0x42, sizeof(r));
	assert_int_equal(shutdown(fx->host_r, SHUT_RD), 0);
	for (i = 0; i < 3; i++)
		sim_hidg_send(fx->hg, r);
	assert_int_equal(sim_hidg_queued(fx->hg), 0);
	assert_int_equal(sim_hidg_dropped(fx->hg), 3);
	assert_int_equal(round_once(fx, 1), OL_OK);
	/* the host can still write: an INIT is read and answered into the
	 * void */
	memset(r, 0, sizeof(r));
	r[0] = r[1] = r[2] = r[3] = 0xff;
	r[4] = CTAPHID_INIT | CTAPHID_TYPE_INIT;
	r[6] = 8;
	host_write(fx, r, sizeof(r));
	for (i = 0; i < 3; i++)
		assert_int_equal(round_once(fx, 1), OL_OK);
	assert_int_equal(fx->reports, 1);
	assert_int_equal(sim_hidg_dropped(fx->hg), 4);
}

static void
end_of_file_fails(void **state)
{
	struct fx *fx = *state;
	int i, r = OL_OK;

	(void)host_init(fx);
	close(fx->host_r);
	if (fx->host_w != fx->host_r)
		close(fx->host_w);
	fx->host_r = fx->host_w = -1;
	for (i = 0; i < 3 && r == OL_OK; i++)
		r = round_once(fx, 10);
	assert_int_equal(r, OL_ERR_IO);
}

static void
pipes_round_trip(void **state)
{
	struct fx *fx = *state;
	uint8_t ping[100], buf[128], cmd;
	uint32_t cid;

	memset(ping, 0x5a, sizeof(ping));
	cid = host_init(fx);
	host_send(fx, cid, CTAPHID_PING, ping, sizeof(ping));
	assert_int_equal(host_recv(fx, cid, &cmd, buf, sizeof(buf)),
	    sizeof(ping));
	assert_memory_equal(buf, ping, sizeof(ping));
}

static void
open_checks(void **state)
{
	struct sim_hidg_hooks h;
	sim_hidg_t *hg = NULL;
	char path[] = "/tmp/test_sim_hidg.XXXXXX";
	int fd;

	(void)state;
	ol_log_set_mask(0);
	memset(&h, 0, sizeof(h));
	h.report = on_report;
	assert_int_equal(sim_hidg_open("/nonexistent/hidg0", &h, &hg),
	    OL_ERR_NO_DEVICE);
	assert_null(hg);
	assert_int_not_equal((fd = mkstemp(path)), -1);
	close(fd);
	assert_int_equal(sim_hidg_open(path, &h, &hg), OL_ERR_ARG);
	assert_null(hg);
	unlink(path);
	/* a character device is accepted */
	assert_int_equal(sim_hidg_open("/dev/null", &h, &hg), OL_OK);
	assert_non_null(hg);
	sim_hidg_free(&hg);
	assert_null(hg);
	sim_hidg_free(NULL);
	/* bad arguments close the fd they were given */
	assert_int_not_equal((fd = open("/dev/null", O_RDONLY)), -1);
	assert_int_equal(sim_hidg_new(fd, -1, NULL, &hg), OL_ERR_ARG);
	assert_int_equal(fcntl(fd, F_GETFD), -1);
	assert_int_equal(sim_hidg_new(-1, -1, &h, &hg), OL_ERR_ARG);
	assert_int_equal(sim_hidg_run_once(NULL, 0), OL_ERR_ARG);
	assert_int_equal(sim_hidg_watch(NULL, 0, on_worker, NULL), OL_ERR_ARG);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(round_trips, setup_socketpair,
		    teardown),
		cmocka_unit_test_setup_teardown(odd_sizes_ignored,
		    setup_socketpair, teardown),
		cmocka_unit_test_setup_teardown(would_block_queues,
		    setup_socketpair, teardown),
		cmocka_unit_test_setup_teardown(queue_limit, setup_socketpair,
		    teardown),
		cmocka_unit_test_setup_teardown(host_gone_drops,
		    setup_socketpair, teardown),
		cmocka_unit_test_setup_teardown(end_of_file_fails,
		    setup_socketpair, teardown),
		cmocka_unit_test_setup_teardown(end_of_file_fails, setup_pipes,
		    teardown),
		cmocka_unit_test_setup_teardown(pipes_round_trip, setup_pipes,
		    teardown),
		cmocka_unit_test(open_checks),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
