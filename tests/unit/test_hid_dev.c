/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ifd-openloop unit tests: the HID handle (hid_dev.c) on the simulator's
 * kind of node, a listening SOCK_SEQPACKET socket "unix:PATH" with
 * PATH.lock (the flock target) and PATH.serial beside it, written from
 * hid_dev.h.  The server end is driven by the test itself: connect()
 * to a listening unix socket completes from the backlog, so no thread is
 * needed, and every wait has a timeout so that a bug cannot hang the run.
 */
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "hid_dev.h"
#include "ol_err.h"
#include "timeutil.h"

#define SERIAL "OLTEST-0042"
#define SLACK_MS 1500 /* a loaded CI machine (ASan, make -j) */
#define WATCHDOG_S 10 /* a wait that never ends fails the run */

static volatile sig_atomic_t sigpipes;

static void
on_sigpipe(int sig)
{
	(void)sig;
	sigpipes++;
}

struct srv {
	char dir[64];
	char path[128];        /* DIR/s.sock */
	char name[160];        /* "unix:" DIR/s.sock */
	int lfd;               /* listening socket */
	int cfd[2];            /* accepted connections */
	ol_hid_t *hid[2];
};

static void
path_join(char *out, size_t cap, const char *a, const char *b)
{
	int n = snprintf(out, cap, "%s%s", a, b);

	assert_true(n > 0 && (size_t)n < cap);
}

static void
write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

/* Listening SOCK_SEQPACKET socket at path, like openloop-sim's. */
static int
listen_at(const char *path, int do_listen)
{
	struct sockaddr_un sa;
	int fd;

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	assert_true(strlen(path) < sizeof(sa.sun_path));
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	if (do_listen)
		assert_int_equal(listen(fd, 8), 0);
	return fd;
}

static int
srv_setup(void **state)
{
	struct srv *s = calloc(1, sizeof(*s));
	char p[200];

	if (s == NULL)
		return -1;
	s->lfd = s->cfd[0] = s->cfd[1] = -1;
	strcpy(s->dir, "/tmp/ol-hid-XXXXXX");
	if (mkdtemp(s->dir) == NULL) {
		free(s);
		return -1;
	}
	path_join(s->path, sizeof(s->path), s->dir, "/s.sock");
	path_join(s->name, sizeof(s->name), OL_UNIX_PREFIX, s->path);
	s->lfd = listen_at(s->path, 1);
	path_join(p, sizeof(p), s->path, ".lock");
	write_file(p, "");
	path_join(p, sizeof(p), s->path, ".serial");
	write_file(p, SERIAL "\n");
	*state = s;
	alarm(WATCHDOG_S);
	return 0;
}

static void
rm_in(const char *dir, const char *file)
{
	char p[256];

	snprintf(p, sizeof(p), "%s/%s", dir, file);
	unlink(p);
}

static int
srv_teardown(void **state)
{
	static const char *const files[] = { "s.sock", "s.sock.lock",
	    "s.sock.serial", "t.sock", "t.sock.lock", "stale.sock", "hidraw0",
	    "n.sock", "n.sock.lock" };
	struct srv *s = *state;
	size_t i;

	for (i = 0; i < 2; i++) {
		if (s->hid[i] != NULL)
			ol_hid_close(&s->hid[i]);
		if (s->cfd[i] >= 0)
			close(s->cfd[i]);
	}
	if (s->lfd >= 0)
		close(s->lfd);
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		rm_in(s->dir, files[i]);
	rmdir(s->dir);
	free(s);
	alarm(0);
	return 0;
}

/* Opens handle i on the server's socket and accepts its connection. */
static void
srv_open(struct srv *s, int i)
{
	struct pollfd pfd = { .fd = s->lfd, .events = POLLIN };

	assert_int_equal(ol_hid_open(s->name, &s->hid[i]), OL_OK);
	assert_non_null(s->hid[i]);
	assert_int_equal(poll(&pfd, 1, 1000), 1);
	s->cfd[i] = accept4(s->lfd, NULL, NULL, SOCK_CLOEXEC);
	assert_true(s->cfd[i] >= 0);
}

static void
srv_send(struct srv *s, int i, const uint8_t *buf, size_t len)
{
	assert_int_equal(send(s->cfd[i], buf, len, MSG_NOSIGNAL), (ssize_t)len);
}

/* One datagram from the handle, its true length in *len. */
static void
srv_recv(struct srv *s, int i, uint8_t *buf, size_t cap, size_t *len)
{
	struct pollfd pfd = { .fd = s->cfd[i], .events = POLLIN };
	ssize_t n;

	assert_int_equal(poll(&pfd, 1, 1000), 1);
	n = recv(s->cfd[i], buf, cap, MSG_TRUNC);
	assert_true(n >= 0);
	*len = (size_t)n;
}

static void
fill_report(uint8_t r[OL_HID_REPORT_LEN], uint8_t seed)
{
	size_t i;

	for (i = 0; i < OL_HID_REPORT_LEN; i++)
		r[i] = (uint8_t)(seed + i * 7);
}

/* ------------------------------------------------------------------ */

static void
expect_open_fails(const char *name, int want)
{
	ol_hid_t *h = NULL;
	int r = ol_hid_open(name, &h);

	if (h != NULL && r == OL_OK)
		ol_hid_close(&h); /* no leak report on top of the failure */
	assert_int_equal(r, want);
	assert_null(h);
}

static void
test_open_missing(void **state)
{
	struct srv *s = *state;
	char name[256];

	expect_open_fails("/nonexistent-ol-dir/hidraw7", OL_ERR_NO_DEVICE);
	expect_open_fails("/dev/hidraw-ol-nonexistent", OL_ERR_NO_DEVICE);
	snprintf(name, sizeof(name), "unix:%s/n.sock", s->dir);
	expect_open_fails(name, OL_ERR_NO_DEVICE);
}

/*
 * Things that exist but are not our kind of node.  Decision: a path that
 * is not a character device (hidraw) or not a listening socket (unix:) is
 * "no such device", not a usable handle: a regular file would open, then
 * ol_hid_write() would append requests to it and ol_hid_read() would
 * return its contents.
 */
static void
test_open_regular_file(void **state)
{
	struct srv *s = *state;
	char p[256], name[300];

	path_join(p, sizeof(p), s->dir, "/hidraw0");
	write_file(p, "not a device\n");
	path_join(name, sizeof(name), OL_UNIX_PREFIX, p);
	expect_open_fails(name, OL_ERR_NO_DEVICE);     /* unix: regular file */
	expect_open_fails(p, OL_ERR_NO_DEVICE);        /* hidraw: regular file */
}

static void
test_open_directory(void **state)
{
	struct srv *s = *state;

	expect_open_fails(s->dir, OL_ERR_NO_DEVICE);
}

static void
test_open_stale_socket(void **state)
{
	struct srv *s = *state;
	char p[256], name[300];
	int fd;

	/* a socket left behind by a simulator that is gone: nobody listens */
	path_join(p, sizeof(p), s->dir, "/stale.sock");
	fd = listen_at(p, 0);
	path_join(name, sizeof(name), OL_UNIX_PREFIX, p);
	expect_open_fails(name, OL_ERR_NO_DEVICE);
	close(fd);
	expect_open_fails(name, OL_ERR_NO_DEVICE);
}

/* The node exists but this user may not open it (no udev uaccess, not in
 * the group): OL_ERR_PERMISSION, so that the user is told what to fix.
 * Tried from a child that drops root, since root may open anything. */
static void
test_open_permission(void **state)
{
	struct srv *s = *state;
	pid_t pid;
	int status;

	assert_int_equal(chmod(s->dir, 0711), 0);   /* reachable ... */
	assert_int_equal(chmod(s->path, 0600), 0);  /* ... but not ours */
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		ol_hid_t *h = NULL;
		int r;

		if (setgid(65534) != 0 || setuid(65534) != 0)
			_exit(100);
		r = ol_hid_open(s->name, &h);
		_exit(r == OL_ERR_PERMISSION && h == NULL ? 0 : 1);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	if (WEXITSTATUS(status) == 100)
		skip(); /* not root: cannot drop to another user */
	assert_int_equal(WEXITSTATUS(status), 0);
}

static void
test_open_bad_args(void **state)
{
	char name[300];
	ol_hid_t *h = NULL;
	int r;

	(void)state;
	assert_int_equal(ol_hid_open(NULL, &h), OL_ERR_ARG);
	assert_null(h);
	assert_int_equal(ol_hid_open("/dev/hidraw0", NULL), OL_ERR_ARG);

	/* longer than sun_path: refused, not truncated to another path */
	memset(name, 'a', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	memcpy(name, "unix:/tmp/", 10);
	r = ol_hid_open(name, &h);
	assert_true(r == OL_ERR_ARG || r == OL_ERR_NO_DEVICE);
	assert_null(h);
	r = ol_hid_open("unix:", &h);
	assert_true(r == OL_ERR_ARG || r == OL_ERR_NO_DEVICE);
	assert_null(h);
	r = ol_hid_open("", &h);
	assert_true(r == OL_ERR_ARG || r == OL_ERR_NO_DEVICE);
	assert_null(h);
}

/* Output reports arrive as 65-byte datagrams, report ID 0 first. */
static void
test_write_layout(void **state)
{
	struct srv *s = *state;
	uint8_t r[OL_HID_REPORT_LEN], buf[256];
	size_t len;
	uint8_t seed;

	srv_open(s, 0);
	for (seed = 1; seed <= 3; seed++) {
		fill_report(r, seed);
		assert_int_equal(ol_hid_write(s->hid[0], r), OL_OK);
	}
	for (seed = 1; seed <= 3; seed++) {
		fill_report(r, seed);
		srv_recv(s, 0, buf, sizeof(buf), &len);
		assert_int_equal(len, 1 + OL_HID_REPORT_LEN);
		assert_int_equal(buf[0], 0);
		assert_memory_equal(buf + 1, r, OL_HID_REPORT_LEN);
	}
}

/* Input reports are 64-byte datagrams, read one by one in order. */
static void
test_read_reports(void **state)
{
	struct srv *s = *state;
	uint8_t r[OL_HID_REPORT_LEN], got[OL_HID_REPORT_LEN];
	uint8_t seed;

	srv_open(s, 0);
	for (seed = 10; seed < 13; seed++) {
		fill_report(r, seed);
		srv_send(s, 0, r, sizeof(r));
	}
	for (seed = 10; seed < 13; seed++) {
		fill_report(r, seed);
		memset(got, 0, sizeof(got));
		/* -1 waits forever: fine, the report is already there */
		assert_int_equal(ol_hid_read(s->hid[0], got,
		    seed == 10 ? -1 : 1000), OL_OK);
		assert_memory_equal(got, r, sizeof(r));
	}
}

static void
test_read_timeout(void **state)
{
	struct srv *s = *state;
	uint8_t got[OL_HID_REPORT_LEN];
	int64_t t0, dt;

	srv_open(s, 0);
	t0 = ol_now_ms();
	assert_int_equal(ol_hid_read(s->hid[0], got, 100), OL_ERR_TIMEOUT);
	dt = ol_now_ms() - t0;
	assert_in_range(dt, 95, 100 + SLACK_MS);
	t0 = ol_now_ms();
	assert_int_equal(ol_hid_read(s->hid[0], got, 0), OL_ERR_TIMEOUT);
	dt = ol_now_ms() - t0;
	assert_in_range(dt, 0, SLACK_MS);
}

/* A datagram that is not a 64-byte report is never handed out as one. */
static void
test_read_wrong_size(void **state)
{
	struct srv *s = *state;
	uint8_t shortr[10], good[OL_HID_REPORT_LEN], got[OL_HID_REPORT_LEN];
	int r;

	srv_open(s, 0);
	memset(shortr, 0x55, sizeof(shortr));
	fill_report(good, 99);
	srv_send(s, 0, shortr, sizeof(shortr));
	srv_send(s, 0, good, sizeof(good));
	r = ol_hid_read(s->hid[0], got, 500);
	if (r != OL_OK) {
		/* reported as an error: the next read has the good one */
		assert_int_not_equal(r, OL_ERR_TIMEOUT);
		r = ol_hid_read(s->hid[0], got, 500);
	}
	assert_int_equal(r, OL_OK);
	assert_memory_equal(got, good, sizeof(good));
}

static void
test_drain(void **state)
{
	struct srv *s = *state;
	uint8_t r[OL_HID_REPORT_LEN], got[OL_HID_REPORT_LEN];
	uint8_t seed;

	srv_open(s, 0);
	assert_int_equal(ol_hid_drain(s->hid[0]), 0);
	for (seed = 0; seed < 3; seed++) {
		fill_report(r, seed);
		srv_send(s, 0, r, sizeof(r));
	}
	assert_int_equal(ol_hid_drain(s->hid[0]), 3);
	assert_int_equal(ol_hid_read(s->hid[0], got, 0), OL_ERR_TIMEOUT);
	assert_int_equal(ol_hid_drain(s->hid[0]), 0);
	/* what comes after the drain is read normally */
	fill_report(r, 77);
	srv_send(s, 0, r, sizeof(r));
	assert_int_equal(ol_hid_read(s->hid[0], got, 1000), OL_OK);
	assert_memory_equal(got, r, sizeof(r));
}

/* A device that never stops sending (a broken or hostile peer that also
 * ignores DRAIN) must not keep the drain reading forever: it gives up
 * after its time limit with what it counted. */
static void
test_drain_flood_is_bounded(void **state)
{
	struct srv *s = *state;
	uint8_t r[OL_HID_REPORT_LEN];
	struct pollfd pfd = { .fd = -1, .events = POLLIN };
	int64_t t0, took;
	pid_t pid[3];
	int i, n, st;

	srv_open(s, 0);
	fill_report(r, 9);
	/* three writers keep the socket's queue from ever running dry */
	for (i = 0; i < 3; i++) {
		if ((pid[i] = fork()) == 0) {
			for (;;)
				if (send(s->cfd[0], r, sizeof(r),
				    MSG_NOSIGNAL) < 0)
					_exit(0);
		}
		assert_true(pid[i] > 0);
	}
	pfd.fd = ol_hid_fileno(s->hid[0]);
	assert_int_equal(poll(&pfd, 1, 2000), 1); /* the flood has begun */
	t0 = ol_now_ms();
	n = ol_hid_drain(s->hid[0]);
	took = ol_now_ms() - t0;
	for (i = 0; i < 3; i++) {
		kill(pid[i], SIGKILL);
		waitpid(pid[i], &st, 0);
	}
	print_message("drain against a flood: %d reports, %lld ms\n", n,
	    (long long)took);
	assert_true(n > 4096);
	assert_in_range(took, 0, 1000 + SLACK_MS);
}

/* check_alive looks, it does not consume input. */
static void
test_check_alive_keeps_input(void **state)
{
	struct srv *s = *state;
	uint8_t r[OL_HID_REPORT_LEN], got[OL_HID_REPORT_LEN];

	srv_open(s, 0);
	assert_int_equal(ol_hid_check_alive(s->hid[0]), OL_OK);
	fill_report(r, 5);
	srv_send(s, 0, r, sizeof(r));
	assert_int_equal(ol_hid_check_alive(s->hid[0]), OL_OK);
	assert_int_equal(ol_hid_read(s->hid[0], got, 1000), OL_OK);
	assert_memory_equal(got, r, sizeof(r));
}

/* The simulator exits: read, check_alive and write say OL_ERR_GONE at
 * once (not after the timeout), without SIGPIPE. */
static void
test_server_gone(void **state)
{
	struct srv *s = *state;
	uint8_t r[OL_HID_REPORT_LEN] = { 0 };
	int64_t t0, dt;

	srv_open(s, 0);
	close(s->cfd[0]);
	s->cfd[0] = -1;
	close(s->lfd);
	s->lfd = -1;
	t0 = ol_now_ms();
	assert_int_equal(ol_hid_read(s->hid[0], r, 2000), OL_ERR_GONE);
	dt = ol_now_ms() - t0;
	assert_in_range(dt, 0, 500);
	assert_int_equal(ol_hid_check_alive(s->hid[0]), OL_ERR_GONE);
	assert_int_equal(ol_hid_write(s->hid[0], r), OL_ERR_GONE);
	assert_int_equal(sigpipes, 0);
	/* and it stays gone */
	assert_int_equal(ol_hid_read(s->hid[0], r, 0), OL_ERR_GONE);
}

static void
test_serial_and_name(void **state)
{
	struct srv *s = *state;
	char p[200], name[200];
	const char *serial;
	ol_hid_t *h = NULL;
	int fd, cfd;

	srv_open(s, 0);
	serial = ol_hid_serial(s->hid[0]);
	assert_non_null(serial);
	assert_string_equal(serial, SERIAL);
	assert_non_null(ol_hid_name(s->hid[0]));
	assert_string_equal(ol_hid_name(s->hid[0]), s->name);

	/* a serial with a space, control characters and non-ASCII bytes:
	 * only printable ASCII reaches the logs */
	path_join(p, sizeof(p), s->path, ".serial");
	write_file(p, "OL 1\t2\033[31m\xc3\xa9\n");
	assert_int_equal(ol_hid_open(s->name, &h), OL_OK);
	cfd = accept4(s->lfd, NULL, NULL, SOCK_CLOEXEC);
	assert_non_null(ol_hid_serial(h));
	assert_string_equal(ol_hid_serial(h), "OL?1?2?[31m??");
	ol_hid_close(&h);
	if (cfd >= 0)
		close(cfd);

	/* no PATH.serial: the backend does not know the serial */
	path_join(p, sizeof(p), s->dir, "/t.sock");
	fd = listen_at(p, 1);
	path_join(name, sizeof(name), OL_UNIX_PREFIX, p);
	assert_int_equal(ol_hid_open(name, &h), OL_OK);
	cfd = accept4(fd, NULL, NULL, SOCK_CLOEXEC);
	assert_null(ol_hid_serial(h));
	ol_hid_close(&h);
	assert_null(h);
	if (cfd >= 0)
		close(cfd);
	close(fd);
}

/* The cross-process lock is flock(LOCK_EX) on PATH.lock. */
static void
test_lock_two_handles(void **state)
{
	struct srv *s = *state;
	char p[200];
	int64_t t0, dt;
	int fd;

	srv_open(s, 0);
	srv_open(s, 1);
	path_join(p, sizeof(p), s->path, ".lock");
	fd = open(p, O_RDWR | O_CLOEXEC);
	assert_true(fd >= 0);

	assert_int_equal(ol_hid_lock(s->hid[0], 100), OL_OK);
	/* another program (another open of PATH.lock) is kept out too */
	assert_int_equal(flock(fd, LOCK_EX | LOCK_NB), -1);
	assert_int_equal(errno, EWOULDBLOCK);

	t0 = ol_now_ms();
	assert_int_equal(ol_hid_lock(s->hid[1], 150), OL_ERR_BUSY);
	dt = ol_now_ms() - t0;
	assert_in_range(dt, 150 * 3 / 4, 150 + SLACK_MS);
	t0 = ol_now_ms();
	assert_int_equal(ol_hid_lock(s->hid[1], 0), OL_ERR_BUSY);
	assert_in_range(ol_now_ms() - t0, 0, SLACK_MS);

	ol_hid_unlock(s->hid[0]);
	assert_int_equal(ol_hid_lock(s->hid[1], 150), OL_OK);
	assert_int_equal(ol_hid_lock(s->hid[0], 50), OL_ERR_BUSY);
	ol_hid_unlock(s->hid[1]);

	/* released: anyone can take it */
	assert_int_equal(flock(fd, LOCK_EX | LOCK_NB), 0);
	/* and a handle waits for it while someone else holds it */
	assert_int_equal(ol_hid_lock(s->hid[0], 50), OL_ERR_BUSY);
	flock(fd, LOCK_UN);
	assert_int_equal(ol_hid_lock(s->hid[0], 50), OL_OK);
	ol_hid_unlock(s->hid[0]);
	close(fd);
}

/* ol_hid_wrap_fds: the same behaviour on a socketpair, ownership of both
 * descriptors, lock_fd -1 means no cross-process lock. */
static void
test_wrap_fds(void **state)
{
	uint8_t r[OL_HID_REPORT_LEN], got[OL_HID_REPORT_LEN], buf[128];
	char lock_path[] = "/tmp/ol-hid-lock-XXXXXX";
	ol_hid_t *h = NULL;
	int sv[2], lock_fd;
	ssize_t n;

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0,
	    sv), 0);
	assert_int_equal(ol_hid_wrap_fds(sv[0], -1, "pair", &h), OL_OK);
	assert_non_null(h);
	assert_string_equal(ol_hid_name(h), "pair");
	assert_null(ol_hid_serial(h));
	assert_int_equal(ol_hid_check_alive(h), OL_OK);
	assert_int_equal(ol_hid_lock(h, 0), OL_OK);
	ol_hid_unlock(h);

	fill_report(r, 3);
	assert_int_equal(ol_hid_write(h, r), OL_OK);
	n = recv(sv[1], buf, sizeof(buf), MSG_DONTWAIT | MSG_TRUNC);
	assert_int_equal(n, 1 + OL_HID_REPORT_LEN);
	assert_int_equal(buf[0], 0);
	assert_memory_equal(buf + 1, r, sizeof(r));
	assert_int_equal(send(sv[1], r, sizeof(r), 0), (ssize_t)sizeof(r));
	assert_int_equal(ol_hid_read(h, got, 1000), OL_OK);
	assert_memory_equal(got, r, sizeof(r));

	/* closing the handle closes io_fd: the peer sees end of file */
	ol_hid_close(&h);
	assert_null(h);
	n = recv(sv[1], buf, sizeof(buf), MSG_DONTWAIT);
	assert_int_equal(n, 0);
	close(sv[1]);

	/* ... and lock_fd */
	lock_fd = mkstemp(lock_path);
	assert_true(lock_fd >= 0);
	unlink(lock_path);
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0,
	    sv), 0);
	assert_int_equal(ol_hid_wrap_fds(sv[0], lock_fd, "pair", &h), OL_OK);
	assert_int_equal(ol_hid_lock(h, 0), OL_OK);
	ol_hid_unlock(h);
	ol_hid_close(&h);
	assert_int_equal(fcntl(lock_fd, F_GETFD), -1);
	assert_int_equal(errno, EBADF);
	close(sv[1]);
}

#define SRV_TEST(f) cmocka_unit_test_setup_teardown(f, srv_setup, srv_teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		SRV_TEST(test_open_missing),
		SRV_TEST(test_open_regular_file),
		SRV_TEST(test_open_directory),
		SRV_TEST(test_open_stale_socket),
		SRV_TEST(test_open_permission),
		cmocka_unit_test(test_open_bad_args),
		SRV_TEST(test_write_layout),
		SRV_TEST(test_read_reports),
		SRV_TEST(test_read_timeout),
		SRV_TEST(test_read_wrong_size),
		SRV_TEST(test_drain),
		SRV_TEST(test_drain_flood_is_bounded),
		SRV_TEST(test_check_alive_keeps_input),
		SRV_TEST(test_server_gone),
		SRV_TEST(test_serial_and_name),
		SRV_TEST(test_lock_two_handles),
		cmocka_unit_test(test_wrap_fds),
	};
	struct sigaction sa;

	/* count SIGPIPE instead of dying of it: the library must not raise it */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sigpipe;
	sigaction(SIGPIPE, &sa, NULL);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
