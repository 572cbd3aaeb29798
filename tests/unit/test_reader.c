/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * reader.c against the real simulator (the openloop-sim built beside this
 * test, started per test on a fresh socket): device names, the ATR, APDU
 * round trips, log redaction, a vanished and a returning device.
 */
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "atr.h"
#include "ctaphid.h"
#include "ctaphid_host.h"
#include "hid_dev.h"
#include "ol_err.h"
#include "ol_log.h"
#include "reader.h"
#include "sim_child.h"
#include "timeutil.h"

static char dir[64], sock[128], devname[160];
static pid_t sim_pid = -1;
static char logbuf[16384];

static void
capture(unsigned category, const struct ol_log_origin *origin,
    const char *msg)
{
	size_t n = strlen(logbuf);

	(void)origin;
	(void)category;
	snprintf(logbuf + n, sizeof(logbuf) - n, "%s\n", msg);
}

/* the simulator with the unit tests' serial; extra: an option taking 400 */
static void
start_sim(const char *extra)
{
	const char *const args[] = { "--serial", "OLUNIT0001", extra,
	    extra != NULL ? "400" : NULL, NULL };

	sim_pid = sim_child_start(sock, args);
	assert_true(sim_pid > 0);
}

static void
stop_sim(void)
{
	sim_child_stop(&sim_pid);
}

static int
setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/ol-reader-XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(sock, sizeof(sock), "%s/sim.sock", dir);
	snprintf(devname, sizeof(devname), "unix:%s", sock);
	logbuf[0] = '\0';
	ol_log_set_sink(capture);
	ol_log_set_mask(OL_LOG_CRITICAL | OL_LOG_INFO | OL_LOG_COMM);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	stop_sim();
	rmdir(dir);
	return 0;
}

static ol_reader_t *
open_reader(void)
{
	struct ol_reader_config cfg;
	ol_reader_t *r = NULL;

	ol_reader_default_config(&cfg);
	cfg.ctap.reply_timeout_ms = 1000;
	assert_int_equal(ol_reader_open(devname, &cfg, &r), OL_OK);
	assert_non_null(r);
	return r;
}

static void
test_bad_names(void **state)
{
	ol_reader_t *r = NULL;

	(void)state;
	assert_int_equal(ol_reader_open("pcsc:reader", NULL, &r), OL_ERR_ARG);
	assert_null(r);
	assert_non_null(strstr(logbuf, "cannot use device name \"pcsc:reader\""));
	assert_int_equal(ol_reader_open("unix:/nonexistent/sim.sock", NULL,
	    &r), OL_ERR_NO_DEVICE);
	assert_int_equal(ol_reader_open(
	    "usb:1209/0001:libusb-1.0:1:4:0", NULL, &r), OL_ERR_NO_DEVICE);
	assert_null(r);
}

static void
test_open_power_transmit(void **state)
{
	static const uint8_t expect_atr[] = { 0x3b, 0x8e, 0x81, 0x31, 0xfe,
	    0x45, 0x80, 0x58, 'O', 'p', 'e', 'n', 'l', 'o', 'o', 'p', 0x73,
	    0x80, 0x00, 0xc0, 0x46 };
	uint8_t atr[OL_ATR_MAX], resp[300];
	size_t len = 0;
	ol_reader_t *r;

	(void)state;
	start_sim(NULL);
	r = open_reader();
	assert_string_equal(ol_reader_serial(r), "OLUNIT0001");
	assert_string_equal(ol_reader_firmware(r), "0.91.0");
	assert_int_equal(ol_reader_firmware_version(r), 0x005b0000);
	assert_false(ol_reader_is_hotplug(r));
	assert_false(ol_reader_is_powered(r));

	assert_int_equal(ol_reader_power_up(r, atr, sizeof(atr), &len), OL_OK);
	assert_int_equal(len, sizeof(expect_atr));
	assert_memory_equal(atr, expect_atr, len);
	assert_int_equal(ol_atr_check(atr, len), OL_OK);
	assert_true(ol_reader_is_powered(r));

	assert_int_equal(ol_reader_transmit(r,
	    (const uint8_t *)"\x00\x84\x00\x00\x08", 5, resp, sizeof(resp),
	    &len), OL_OK);
	assert_int_equal(len, 10);
	assert_memory_equal(resp + 8, "\x90\x00", 2);

	/* 256 + SW does not fit 100 bytes: refused, and the next APDU is
	 * not confused by the tail of the long reply */
	assert_int_equal(ol_reader_transmit(r,
	    (const uint8_t *)"\x00\x84\x00\x00\x00", 5, resp, 100, &len),
	    OL_ERR_TOO_LONG);
	assert_int_equal(ol_reader_transmit(r,
	    (const uint8_t *)"\x00\x84\x00\x00\x04", 5, resp, sizeof(resp),
	    &len), OL_OK);
	assert_int_equal(len, 6);

	ol_reader_power_down(r);
	assert_false(ol_reader_is_powered(r));
	ol_reader_close(&r);
	assert_null(r);
}

static void
test_log_hides_pin(void **state)
{
	uint8_t atr[OL_ATR_MAX], resp[64];
	size_t len;
	ol_reader_t *r;

	(void)state;
	start_sim(NULL);
	r = open_reader();
	assert_int_equal(ol_reader_power_up(r, atr, sizeof(atr), &len), OL_OK);
	assert_int_equal(ol_reader_transmit(r, (const uint8_t *)
	    "\x00\x20\x00\x80\x08" "123456\xff\xff", 13, resp, sizeof(resp),
	    &len), OL_OK);
	assert_non_null(strstr(logbuf, "C: 00 20 00 80 08 <8 bytes hidden>"));
	assert_null(strstr(logbuf, "31 32 33 34 35 36"));
	/* a harmless APDU is logged in full */
	assert_int_equal(ol_reader_transmit(r,
	    (const uint8_t *)"\x00\x84\x00\x00\x02", 5, resp, sizeof(resp),
	    &len), OL_OK);
	assert_non_null(strstr(logbuf, "C: 00 84 00 00 02"));
	ol_reader_close(&r);
}

/* The card session (docs/transport.md, "The card session"): a device
 * that vanished and came back is a new card, never the old session. */
static void
test_device_vanishes_and_returns(void **state)
{
	static const uint8_t challenge[] = { 0x00, 0x84, 0x00, 0x00, 0x02 };
	uint8_t atr[OL_ATR_MAX], resp[64];
	size_t len;
	ol_reader_t *r;

	(void)state;
	start_sim(NULL);
	r = open_reader();
	/* no session before the power-up: nothing is sent */
	assert_int_equal(ol_reader_transmit(r, challenge, 5, resp,
	    sizeof(resp), &len), OL_ERR_SESSION_LOST);
	assert_int_equal(ol_reader_check_present(r), OL_OK);
	assert_int_equal(ol_reader_power_up(r, atr, sizeof(atr), &len), OL_OK);
	assert_int_equal(ol_reader_transmit(r, challenge, 5, resp,
	    sizeof(resp), &len), OL_OK);
	stop_sim();
	assert_int_equal(ol_reader_check_present(r), OL_ERR_GONE);
	assert_int_not_equal(ol_reader_transmit(r, challenge, 5, resp,
	    sizeof(resp), &len), OL_OK);
	assert_int_equal(ol_reader_check_present(r), OL_ERR_GONE);

	/* back: present, but only a power-up gives a session */
	start_sim(NULL);
	assert_int_equal(ol_reader_check_present(r), OL_OK);
	assert_int_equal(ol_reader_transmit(r, challenge, 5, resp,
	    sizeof(resp), &len), OL_ERR_SESSION_LOST);
	assert_int_equal(ol_reader_power_up(r, atr, sizeof(atr), &len), OL_OK);
	assert_int_equal(ol_reader_transmit(r, challenge, 5, resp,
	    sizeof(resp), &len), OL_OK);
	assert_int_equal(len, 4);

	/* gone and back between two polls: the session is lost, the card is
	 * reported removed exactly once, then present; the APDU in between
	 * is refused, not sent into the new device */
	stop_sim();
	start_sim(NULL);
	assert_int_equal(ol_reader_transmit(r, challenge, 5, resp,
	    sizeof(resp), &len), OL_ERR_GONE);
	assert_int_equal(ol_reader_transmit(r, challenge, 5, resp,
	    sizeof(resp), &len), OL_ERR_GONE);
	assert_int_equal(ol_reader_check_present(r), OL_ERR_SESSION_LOST);
	assert_false(ol_reader_is_powered(r));
	assert_non_null(strstr(logbuf, "the card session was lost"));
	assert_int_equal(ol_reader_check_present(r), OL_OK);
	assert_int_equal(ol_reader_check_present(r), OL_OK);
	assert_int_equal(ol_reader_power_up(r, atr, sizeof(atr), &len), OL_OK);
	assert_int_equal(ol_reader_transmit(r, challenge, 5, resp,
	    sizeof(resp), &len), OL_OK);
	/* a power-down ends the session as well */
	ol_reader_power_down(r);
	assert_int_equal(ol_reader_transmit(r, challenge, 5, resp,
	    sizeof(resp), &len), OL_ERR_SESSION_LOST);
	assert_int_equal(ol_reader_check_present(r), OL_OK);
	ol_reader_close(&r);
}

/*
 * What pcscd's polling thread waits on: the device's descriptor wakes it
 * when the device goes, and not for traffic (another client's exchanges
 * reach every handle); a lost session asks for a check at once; no device
 * means polling.
 */
static void
test_watch(void **state)
{
	static const uint8_t challenge[] = { 0x00, 0x84, 0x00, 0x00, 0x02 };
	static const uint8_t ping[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	uint8_t atr[OL_ATR_MAX], resp[64];
	struct pollfd pfd;
	ol_hid_t *other = NULL;
	ol_ctap_t *c = NULL;
	size_t len;
	ol_reader_t *r;
	int fd = -1, i;

	(void)state;
	start_sim(NULL);
	r = open_reader();
	assert_int_equal(ol_reader_power_up(r, atr, sizeof(atr), &len), OL_OK);
	assert_int_equal(ol_reader_watch(r, &fd), OL_READER_WATCH_FD);
	assert_true(fd >= 0);
	assert_int_equal(ol_reader_watch(r, NULL), OL_READER_WATCH_FD);

	/* traffic of another client: the watcher sleeps through it */
	assert_int_equal(ol_hid_open(devname, &other), OL_OK);
	assert_int_equal(ol_ctap_new(other, NULL, &c), OL_OK);
	for (i = 0; i < 20; i++)
		assert_int_equal(ol_ctap_transact(c, CTAPHID_PING, ping,
		    sizeof(ping), resp, sizeof(resp), &len), OL_OK);
	pfd.fd = fd;
	pfd.events = 0;
	pfd.revents = 0;
	assert_int_equal(poll(&pfd, 1, 200), 0);
	ol_ctap_free(&c);
	ol_hid_close(&other);

	/* the device goes: the watcher wakes, though nothing was read */
	stop_sim();
	pfd.revents = 0;
	assert_int_equal(poll(&pfd, 1, 2000), 1);
	assert_true(pfd.revents & (POLLHUP | POLLERR));
	close(fd);
	/* gone and back: the session is lost, to be checked at once */
	start_sim(NULL);
	assert_int_not_equal(ol_reader_transmit(r, challenge, 5, resp,
	    sizeof(resp), &len), OL_OK);
	assert_int_equal(ol_reader_watch(r, &fd), OL_READER_WATCH_NOW);
	assert_int_equal(fd, -1);
	assert_int_equal(ol_reader_check_present(r), OL_ERR_SESSION_LOST);
	assert_int_equal(ol_reader_check_present(r), OL_OK);
	assert_int_equal(ol_reader_watch(r, NULL), OL_READER_WATCH_FD);
	/* no device at all: polling */
	stop_sim();
	assert_int_equal(ol_reader_check_present(r), OL_ERR_GONE);
	assert_int_equal(ol_reader_watch(r, &fd), OL_READER_WATCH_POLL);
	assert_int_equal(fd, -1);
	ol_reader_close(&r);
}

static void
test_gone_mid_exchange(void **state)
{
	uint8_t atr[OL_ATR_MAX], resp[64];
	size_t len;
	int64_t t0;
	ol_reader_t *r;
	pid_t killer;

	(void)state;
	start_sim("--processing-delay");
	r = open_reader();
	assert_int_equal(ol_reader_power_up(r, atr, sizeof(atr), &len), OL_OK);
	killer = fork();
	assert_true(killer >= 0);
	if (killer == 0) {
		ol_sleep_ms(150);
		kill(sim_pid, SIGKILL);
		_exit(0);
	}
	t0 = ol_now_ms();
	assert_int_equal(ol_reader_transmit(r,
	    (const uint8_t *)"\x00\x84\x00\x00\x02", 5, resp, sizeof(resp),
	    &len), OL_ERR_GONE);
	assert_true(ol_now_ms() - t0 < 1000);
	waitpid(killer, NULL, 0);
	waitpid(sim_pid, NULL, 0);
	sim_pid = -1;
	unlink(sock);
	{
		char p[160];

		snprintf(p, sizeof(p), "%s.lock", sock);
		unlink(p);
		snprintf(p, sizeof(p), "%s.serial", sock);
		unlink(p);
	}
	assert_int_equal(ol_reader_check_present(r), OL_ERR_GONE);
	ol_reader_close(&r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_bad_names, setup, teardown),
		cmocka_unit_test_setup_teardown(test_open_power_transmit, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_log_hides_pin, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_device_vanishes_and_returns,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_watch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gone_mid_exchange, setup,
		    teardown),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
