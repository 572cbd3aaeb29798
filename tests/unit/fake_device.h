/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ifd-openloop unit tests: a scripted CTAPHID device on the other end of a
 * socketpair, for testing the host side (ctaphid_host.c) without hardware
 * or the simulator.
 *
 * fake_dev_start() makes a SOCK_SEQPACKET socketpair, gives the host end to
 * ol_hid_wrap_fds() (with a temporary lock file) and runs a thread on the
 * device end.  The thread reads the host's 65-byte output reports, checks
 * their layout, reassembles requests, logs each one and calls the test's
 * handler, which answers with the fake_send_*() helpers.
 *
 * The handler runs on the device thread: it must not use cmocka asserts
 * (they longjmp), it records what it saw and the test asserts afterwards.
 */
#ifndef OL_FAKE_DEVICE_H
#define OL_FAKE_DEVICE_H

#include <stddef.h>
#include <stdint.h>

#include "ctaphid.h"
#include "hid_dev.h"

#define FAKE_LOG_MAX 64 /* requests kept in full; later ones only counted */

/* One request as the device reassembled it. */
struct fake_req {
	uint32_t cid;
	uint8_t cmd;                   /* without the 0x80 bit */
	size_t len;
	uint8_t data[CTAPHID_MAX_MSG];
	int lock_held;  /* someone held the lock file when it arrived */
};

struct fake_dev;

typedef void fake_handler_t(struct fake_dev *dev, const struct fake_req *req,
    void *arg);

/* Starts the device; *hid is the host end (the caller closes it). */
int fake_dev_start(fake_handler_t *handler, void *arg, struct fake_dev **out,
    ol_hid_t **hid);

/* Stops the thread, then logs whatever the host sent that is still queued,
 * so the log is complete and stable afterwards.  Idempotent. */
void fake_dev_quiesce(struct fake_dev *dev);

/* Quiesces, closes the device end, removes the lock file, frees. */
void fake_dev_free(struct fake_dev **dev);

/* The device end hangs up (like an unplugged key).  From the handler, or
 * from the test (then the thread is stopped first). */
void fake_dev_hangup(struct fake_dev *dev);

/* --- what the host sent (lock-protected; exact after fake_dev_quiesce) */
size_t fake_dev_nreq(struct fake_dev *dev);            /* all requests */
size_t fake_dev_ncmd(struct fake_dev *dev, uint8_t cmd);
/* Copy of logged request i (i < FAKE_LOG_MAX); -1 if not logged. */
int fake_dev_req(struct fake_dev *dev, size_t i, struct fake_req *out);
/* Datagrams that were not 65 bytes with report ID 0 */
unsigned fake_dev_bad_reports(struct fake_dev *dev);
/* Continuation packets out of order or without an init packet */
unsigned fake_dev_seq_errors(struct fake_dev *dev);
/* Is the lock file free right now (nobody holds flock on it)? */
int fake_dev_lock_free(struct fake_dev *dev);
const char *fake_dev_lock_path(const struct fake_dev *dev);

/* --- device -> host (64-byte datagrams); usable from the handler or the
 * test thread while the device is idle.  0 on success, -1 on error. */
int fake_send_report(struct fake_dev *dev, const uint8_t report[64]);
/* Packets [0, npkt) of the message; npkt = 0 means all of them. */
int fake_send_msg_part(struct fake_dev *dev, uint32_t cid, uint8_t cmd,
    const uint8_t *data, size_t len, size_t npkt);
int fake_send_msg(struct fake_dev *dev, uint32_t cid, uint8_t cmd,
    const uint8_t *data, size_t len);
int fake_send_error(struct fake_dev *dev, uint32_t cid, uint8_t code);
int fake_send_keepalive(struct fake_dev *dev, uint32_t cid, uint8_t status);

/* Answers an INIT request with nonce echo and new_cid; nonce_xor != 0
 * corrupts the nonce (a reply meant for someone else). */
int fake_answer_init(struct fake_dev *dev, const struct fake_req *req,
    uint32_t new_cid, uint8_t nonce_xor);

/*
 * Sends KEEPALIVE(status) on cid every interval_ms for duration_ms
 * (-1: until cancelled, at most 5 s), logging requests that arrive meanwhile.
 * Returns 1 when a CANCEL on cid arrived, 0 when the time ran out,
 * -1 when the device is stopping or the host hung up.
 */
int fake_keepalives(struct fake_dev *dev, uint32_t cid, uint8_t status,
    int interval_ms, int duration_ms);

#endif
