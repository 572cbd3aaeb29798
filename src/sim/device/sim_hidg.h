/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ifd-openloop simulator: the gadget side of a real USB HID function
 * (Linux configfs f_hid, /dev/hidgN), instead of the socket.
 *
 * read() on the node returns one OUTPUT report the host wrote (64 bytes,
 * no report ID: the FIDO descriptor has none); write() of 64 bytes sends
 * one INPUT report, which the host kernel hands to every hidraw reader
 * itself, so there are no per-client rings here.  The node is used
 * non-blocking: input reports wait in a queue while the previous one is
 * not yet taken by the host (EAGAIN), and are dropped, with a log line,
 * while no host has the function configured (ESHUTDOWN: not connected
 * yet, or the gadget unbound).  Unbinding is not an error: the node stays
 * and works again after the next bind.  Only a failing node (EOF, EIO,
 * ENODEV, ...) ends the loop with OL_ERR_IO.  See docs/simulator.md.
 */
#ifndef OL_SIM_HIDG_H
#define OL_SIM_HIDG_H

#include <stddef.h>
#include <stdint.h>

#include "ctaphid.h"

#define SIM_HIDG_QUEUE       512   /* input reports waiting for the host */
/* Below this much room, output reports are left unread (the device NAKs
 * its OUT endpoint): the reply to one more maximal request and a
 * keepalive still fit. */
#define SIM_HIDG_READY_FREE  (2 * (CTAPHID_MAX_SEQ + 2) + 2)
#define SIM_HIDG_MAX_WATCH   4
#define SIM_HIDG_READ_BURST  16    /* output reports read per round */

struct sim_hidg_hooks {
	/* one output report from the host (64 bytes) */
	void (*report)(void *arg, const uint8_t report[CTAPHID_REPORT_LEN]);
	/* may the device take an output report now?  NULL: always */
	int (*ready)(void *arg);
	void *arg;
};

typedef void sim_hidg_watch_cb(void *arg);

typedef struct sim_hidg sim_hidg_t;

/*
 * Opens PATH (O_RDWR | O_NONBLOCK | O_CLOEXEC), which must be a character
 * device.  Errors, logged in words: OL_ERR_NO_DEVICE (missing: is the
 * gadget's function created, usb_f_hid loaded?), OL_ERR_PERMISSION,
 * OL_ERR_ARG (not a character device), OL_ERR_IO, OL_ERR_NOMEM.
 */
int sim_hidg_open(const char *path, const struct sim_hidg_hooks *hooks,
    sim_hidg_t **out);

/* The same on an fd already open (tests: one end of a socketpair or a
 * pipe pair); made non-blocking; ownership of fd passes, also on
 * failure.  wfd is the fd written to: fd itself for a gadget node or a
 * socket, the write end of a second pipe otherwise (-1: fd). */
int sim_hidg_new(int fd, int wfd, const struct sim_hidg_hooks *hooks,
    sim_hidg_t **out);

/* Closes the node. */
void sim_hidg_free(sim_hidg_t **hg);

/* One input report to the host (the device's emit callback): written at
 * once if the node takes it, else queued. */
void sim_hidg_send(sim_hidg_t *hg, const uint8_t report[CTAPHID_REPORT_LEN]);

/* Calls cb from sim_hidg_run_once() whenever fd is readable. */
int sim_hidg_watch(sim_hidg_t *hg, int fd, sim_hidg_watch_cb *cb, void *arg);

/* Whether the backend has room for a maximal reply (see READY_FREE). */
int sim_hidg_ready(const sim_hidg_t *hg);

/* Input reports waiting for the host, and dropped so far (no host, or
 * the queue full). */
size_t sim_hidg_queued(const sim_hidg_t *hg);
unsigned long sim_hidg_dropped(const sim_hidg_t *hg);

/*
 * One poll() round of at most timeout_us microseconds (-1: no limit): reads up to
 * SIM_HIDG_READ_BURST output reports while the device is ready, writes
 * queued input reports, runs watch callbacks.  OL_OK, or OL_ERR_IO when
 * poll() or the node fails (said why).
 */
int sim_hidg_run_once(sim_hidg_t *hg, int64_t timeout_us);

#endif
