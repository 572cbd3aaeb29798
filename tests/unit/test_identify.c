/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * identify.c: a hotplugged device is presented as a reader only if it
 * answers Openloop's APDU command.  Against the scripted device of
 * fake_device.c (an Openloop, a FIDO board that does not know 0x70, one
 * that stays silent, one that keeps asking for a touch, one that goes
 * away), and against the real simulator, which make check-vm's USB gadget
 * runs: it must pass.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "ctaphid.h"
#include "ctaphid_host.h"
#include "fake_device.h"
#include "hid_dev.h"
#include "identify.h"
#include "ol_err.h"
#include "ol_log.h"
#include "sim_child.h"
#include "timeutil.h"

#define DEVNAME "usb:1209/0001:libudev:0:/dev/bus/usb/001/007"
#define NODE    "/dev/hidraw7"
#define CID     0x01020304u
#define REPLY_MS 200
#define USER_MS  300
#define SLACK_MS 1500 /* a loaded CI machine (ASan, make -j) */
#define WATCHDOG_S 20

static const uint8_t select_piv[] = { 0x00, 0xa4, 0x04, 0x00, 0x09, 0xa0,
    0x00, 0x00, 0x03, 0x08, 0x00, 0x00, 0x10, 0x00, 0x00 };

static char logbuf[8192];

static void
capture(unsigned category, const struct ol_log_origin *origin,
    const char *msg)
{
	size_t n = strlen(logbuf);

	(void)origin;
	snprintf(logbuf + n, sizeof(logbuf) - n, "[%u] %s\n", category, msg);
}

enum behaviour {
	OPENLOOP,      /* answers the APDU with a PIV SELECT response */
	OPENLOOP_PIV_OFF, /* answers 6A82 */
	INVALID_CMD,   /* a FIDO board: CTAPHID ERROR INVALID_CMD */
	SILENT,        /* says nothing to 0x70 */
	NO_SW,         /* a 1-byte reply */
	UPNEEDED,      /* keepalives asking for a touch, for ever */
	HANGUP,        /* unplugged when asked */
};

struct fx {
	enum behaviour b;
	struct fake_dev *dev;
	ol_hid_t *hid;
	ol_ctap_t *ctap;
	int napdu;
	int probe_ok;   /* the APDU was exactly the SELECT PIV probe */
};

static void
handler(struct fake_dev *dev, const struct fake_req *req, void *arg)
{
	static const uint8_t fci[] = { 0x61, 0x06, 0x4f, 0x04, 0x00, 0x00,
	    0x10, 0x00, 0x90, 0x00 };
	struct fx *fx = arg;

	if (req->cmd == CTAPHID_INIT) {
		fake_answer_init(dev, req, CID, 0);
		return;
	}
	if (req->cmd != CTAPHID_OPENLOOP_APDU)
		return;
	fx->napdu++;
	fx->probe_ok = req->len == sizeof(select_piv) &&
	    memcmp(req->data, select_piv, sizeof(select_piv)) == 0;
	switch (fx->b) {
	case OPENLOOP:
		fake_send_msg(dev, req->cid, CTAPHID_OPENLOOP_APDU, fci,
		    sizeof(fci));
		break;
	case OPENLOOP_PIV_OFF:
		fake_send_msg(dev, req->cid, CTAPHID_OPENLOOP_APDU,
		    (const uint8_t *)"\x6a\x82", 2);
		break;
	case INVALID_CMD:
		fake_send_error(dev, req->cid, CTAPHID_ERR_INVALID_CMD);
		break;
	case SILENT:
		break;
	case NO_SW:
		fake_send_msg(dev, req->cid, CTAPHID_OPENLOOP_APDU,
		    (const uint8_t *)"\x90", 1);
		break;
	case UPNEEDED:
		fake_keepalives(dev, req->cid, CTAPHID_STATUS_UPNEEDED, 50, -1);
		break;
	case HANGUP:
		fake_dev_hangup(dev);
		break;
	}
}

static int
setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));

	if (fx == NULL)
		return -1;
	*state = fx;
	logbuf[0] = '\0';
	ol_log_set_sink(capture);
	ol_log_set_mask(OL_LOG_CRITICAL | OL_LOG_INFO);
	alarm(WATCHDOG_S);
	return 0;
}

static int
teardown(void **state)
{
	struct fx *fx = *state;

	fake_dev_quiesce(fx->dev);
	ol_ctap_free(&fx->ctap);
	ol_hid_close(&fx->hid);
	fake_dev_free(&fx->dev);
	free(fx);
	alarm(0);
	return 0;
}

/* A device of behaviour b on a channel allocated as reader.c does. */
static void
start(struct fx *fx, enum behaviour b)
{
	struct ol_ctap_opts opts;

	fx->b = b;
	ol_ctap_default_opts(&opts);
	opts.reply_timeout_ms = REPLY_MS;
	opts.user_timeout_ms = USER_MS;
	opts.busy_timeout_ms = 300;
	assert_int_equal(fake_dev_start(handler, fx, &fx->dev, &fx->hid), 0);
	assert_int_equal(ol_ctap_new(fx->hid, &opts, &fx->ctap), OL_OK);
	assert_int_equal(ol_ctap_init(fx->ctap), OL_OK);
}

static void
assert_ignored(void)
{
	assert_non_null(strstr(logbuf, "[1] " NODE " at " DEVNAME
	    " answers CTAPHID but not Openloop's APDU command ("));
	assert_non_null(strstr(logbuf, "): not an Openloop; ignored\n"));
}

static void
test_openloop(void **state)
{
	struct fx *fx = *state;

	start(fx, OPENLOOP);
	assert_int_equal(ol_identify_openloop(fx->ctap, NODE, DEVNAME), OL_OK);
	fake_dev_quiesce(fx->dev);
	assert_int_equal(fx->napdu, 1);
	assert_true(fx->probe_ok);
	assert_non_null(strstr(logbuf, "[2] " NODE " at " DEVNAME
	    " answers Openloop's APDU command (SELECT PIV: SW 9000): an "
	    "Openloop"));
	assert_null(strstr(logbuf, "[1]"));
	/* the channel is still usable afterwards, with its own time-out */
	assert_int_equal(ol_ctap_set_user_timeout(fx->ctap, 0), USER_MS);
}

static void
test_piv_switched_off(void **state)
{
	struct fx *fx = *state;

	/* any status word proves the command is known */
	start(fx, OPENLOOP_PIV_OFF);
	assert_int_equal(ol_identify_openloop(fx->ctap, NODE, DEVNAME), OL_OK);
	assert_non_null(strstr(logbuf, "SW 6A82"));
}

static void
test_fido_board(void **state)
{
	struct fx *fx = *state;

	start(fx, INVALID_CMD);
	assert_int_equal(ol_identify_openloop(fx->ctap, NODE, DEVNAME),
	    OL_ERR_NO_DEVICE);
	assert_ignored();
	assert_non_null(strstr(logbuf, "(CTAPHID error 0x01 INVALID_CMD)"));
	fake_dev_quiesce(fx->dev);
	assert_int_equal(fx->napdu, 1);
}

static void
test_silent(void **state)
{
	struct fx *fx = *state;
	int64_t t0;

	start(fx, SILENT);
	t0 = ol_now_ms();
	assert_int_equal(ol_identify_openloop(fx->ctap, NODE, DEVNAME),
	    OL_ERR_NO_DEVICE);
	assert_true(ol_now_ms() - t0 < REPLY_MS + SLACK_MS);
	assert_ignored();
}

static void
test_no_status_word(void **state)
{
	struct fx *fx = *state;

	start(fx, NO_SW);
	assert_int_equal(ol_identify_openloop(fx->ctap, NODE, DEVNAME),
	    OL_ERR_NO_DEVICE);
	assert_ignored();
}

static void
test_touch_for_ever(void **state)
{
	struct fx *fx = *state;
	int64_t t0;

	/* bounded by the channel's user time-out (here below the probe's
	 * own limit), and the time-out is restored afterwards */
	start(fx, UPNEEDED);
	t0 = ol_now_ms();
	assert_int_equal(ol_identify_openloop(fx->ctap, NODE, DEVNAME),
	    OL_ERR_NO_DEVICE);
	assert_true(ol_now_ms() - t0 < USER_MS + SLACK_MS);
	assert_ignored();
	assert_int_equal(ol_ctap_set_user_timeout(fx->ctap, 0), USER_MS);
}

static void
test_unplugged(void **state)
{
	struct fx *fx = *state;

	start(fx, HANGUP);
	assert_int_equal(ol_identify_openloop(fx->ctap, NODE, DEVNAME),
	    OL_ERR_NO_DEVICE);
	assert_non_null(strstr(logbuf, "[2] " NODE " at " DEVNAME
	    " went away"));
	assert_null(strstr(logbuf, "not an Openloop"));
}

static void
test_bad_args(void **state)
{
	struct fx *fx = *state;

	start(fx, OPENLOOP);
	assert_int_equal(ol_identify_openloop(NULL, NODE, DEVNAME), OL_ERR_ARG);
	assert_int_equal(ol_identify_openloop(fx->ctap, NULL, DEVNAME),
	    OL_ERR_ARG);
	assert_int_equal(ol_identify_openloop(fx->ctap, NODE, NULL),
	    OL_ERR_ARG);
}

/* --- the simulator (what make check-vm's gadget runs) passes ------------ */

static void
test_simulator(void **state)
{
	char dir[] = "/tmp/ol-identify-XXXXXX", sock[96], name[112], p[112];
	ol_hid_t *hid = NULL;
	ol_ctap_t *ctap = NULL;
	pid_t pid;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(sock, sizeof(sock), "%s/sim.sock", dir);
	snprintf(name, sizeof(name), "unix:%s", sock);
	pid = sim_child_start(sock, NULL);
	assert_true(pid > 0);
	assert_int_equal(ol_hid_open(name, &hid), OL_OK);
	assert_int_equal(ol_ctap_new(hid, NULL, &ctap), OL_OK);
	assert_int_equal(ol_ctap_init(ctap), OL_OK);
	assert_int_equal(ol_identify_openloop(ctap, NODE, DEVNAME), OL_OK);
	assert_non_null(strstr(logbuf, "(SELECT PIV: SW 9000): an Openloop"));
	ol_ctap_free(&ctap);
	ol_hid_close(&hid);
	sim_child_stop(&pid);
	unlink(sock);
	snprintf(p, sizeof(p), "%s.lock", sock);
	unlink(p);
	snprintf(p, sizeof(p), "%s.serial", sock);
	unlink(p);
	assert_int_equal(rmdir(dir), 0);
}

static int
setup_sim(void **state)
{
	*state = NULL;
	logbuf[0] = '\0';
	ol_log_set_sink(capture);
	ol_log_set_mask(OL_LOG_CRITICAL | OL_LOG_INFO);
	alarm(WATCHDOG_S);
	return 0;
}

static int
teardown_sim(void **state)
{
	(void)state;
	alarm(0);
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_openloop, setup, teardown),
		cmocka_unit_test_setup_teardown(test_piv_switched_off, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_fido_board, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_silent, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_status_word, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_touch_for_ever, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_unplugged, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_bad_args, setup, teardown),
		cmocka_unit_test_setup_teardown(test_simulator, setup_sim,
		    teardown_sim),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
