/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ifd-openloop: a HID handle that moves 64-byte reports.
 *
 * Two kinds of node, told apart only when opening:
 *   /dev/hidrawN   writes of 65 bytes (report ID 0 + report), reads of 64
 *   unix:/path     the SOCK_SEQPACKET socket of openloop-sim, one datagram
 *                  per report with exactly hidraw's byte layout
 *
 * Exchanges are serialised with other programs (browsers, libfido2) by
 * flock(LOCK_EX) on the node; a socket cannot be flock()ed meaningfully, so
 * the simulator offers PATH.lock beside its socket for the same purpose.
 */
#ifndef OL_HID_DEV_H
#define OL_HID_DEV_H

#include <stddef.h>
#include <stdint.h>

#define OL_HID_REPORT_LEN 64
#define OL_UNIX_PREFIX "unix:"

typedef struct ol_hid ol_hid_t;

/* name: "/dev/hidrawN" (any path of a hidraw node) or "unix:/path" */
int ol_hid_open(const char *name, ol_hid_t **out);

/* Wraps already open descriptors (tests, socketpair); takes ownership of
 * both.  lock_fd may be -1 (no cross-process lock). */
int ol_hid_wrap_fds(int io_fd, int lock_fd, const char *name, ol_hid_t **out);

void ol_hid_close(ol_hid_t **hid);

/* Waits up to timeout_ms (0: poll, -1: forever) for one input report.
 * OL_OK, OL_ERR_TIMEOUT, OL_ERR_GONE, OL_ERR_IO. */
int ol_hid_read(ol_hid_t *hid, uint8_t report[OL_HID_REPORT_LEN],
    int timeout_ms);

/* Sends one output report (report ID 0 is prepended here). */
int ol_hid_write(ol_hid_t *hid, const uint8_t report[OL_HID_REPORT_LEN]);

/* Discards input reports already queued; returns how many (>= 0) or an
 * error. */
int ol_hid_drain(ol_hid_t *hid);

/* Exclusive lock for one exchange; OL_ERR_BUSY after timeout_ms. */
int ol_hid_lock(ol_hid_t *hid, int timeout_ms);
void ol_hid_unlock(ol_hid_t *hid);

/* The descriptor reports arrive on, for poll() by a watcher that only
 * waits for POLLHUP/POLLERR (events 0); -1 for NULL.  Never read it. */
int ol_hid_fileno(const ol_hid_t *hid);

/* OL_OK while the node is usable, OL_ERR_GONE once it hung up. */
int ol_hid_check_alive(ol_hid_t *hid);

const char *ol_hid_name(const ol_hid_t *hid);

/* The device's USB serial if the backend knows it, else NULL. */
const char *ol_hid_serial(const ol_hid_t *hid);

#endif
