/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ifd-openloop simulator: the socket that stands in for /dev/hidrawN.
 *
 * A SOCK_SEQPACKET unix socket, one datagram per report with hidraw's
 * byte layout: clients write 65 bytes (report ID 0 + output report) and
 * read 64 (one input report).  Every input report goes to every client,
 * and each client has hidraw's ring: 64 slots, at most 63 reports unread,
 * new reports dropped while it is full.  Beside the socket: PATH.lock
 * (clients flock() it around an exchange) and PATH.serial (the USB
 * serial number).  See docs/simulator.md.
 */
#ifndef OL_SIM_SERVER_H
#define OL_SIM_SERVER_H

#include <stddef.h>
#include <stdint.h>

#include "ctaphid.h"

#define SIM_RING_SLOTS   64                   /* HIDRAW_BUFFER_SIZE */
#define SIM_RING_REPORTS (SIM_RING_SLOTS - 1) /* one slot stays empty */
#define SIM_SERVER_MAX_WATCH 4

struct sim_server_hooks {
	/* one output report from a client (64 bytes, report ID removed) */
	void (*report)(void *arg, const uint8_t report[CTAPHID_REPORT_LEN]);
	/* may the device take an output report now?  NULL: always.  While
	 * it may not, clients' writes stay unread in their sockets. */
	int (*ready)(void *arg);
	void *arg;
};

typedef void sim_server_watch_cb(void *arg);

typedef struct sim_server sim_server_t;

int sim_server_new(const struct sim_server_hooks *hooks, sim_server_t **out);

/* Closes every client and the socket; removes PATH, PATH.lock and
 * PATH.serial if sim_server_listen() created them. */
void sim_server_free(sim_server_t **srv);

/*
 * Binds PATH (replacing a stale socket nobody listens on), writes
 * PATH.lock (mode 0660) and PATH.serial, then listens.  Errors, each
 * logged in words: OL_ERR_NO_DEVICE (directory missing), OL_ERR_PERMISSION
 * (directory not writable), OL_ERR_BUSY (someone listens on PATH, or PATH
 * is not a socket), OL_ERR_ARG (path too long, bad serial), OL_ERR_IO.
 */
int sim_server_listen(sim_server_t *srv, const char *path, const char *serial);

/* Adds a connected SOCK_SEQPACKET socket as a client (tests: one end of
 * a socketpair); takes ownership of fd, also on failure. */
int sim_server_add_client(sim_server_t *srv, int fd);

size_t sim_server_client_count(const sim_server_t *srv);

/* Input reports dropped so far because a client's ring was full. */
unsigned long sim_server_dropped(const sim_server_t *srv);

/* Delivers one input report to every client (hidraw semantics). */
void sim_server_broadcast(sim_server_t *srv,
    const uint8_t report[CTAPHID_REPORT_LEN]);

/* Calls cb from sim_server_run_once() whenever fd is readable. */
int sim_server_watch(sim_server_t *srv, int fd, sim_server_watch_cb *cb,
    void *arg);

/* One poll() round of at most timeout_us microseconds (-1: no limit): accepts clients,
 * reads at most one report per client, moves queued reports into client
 * sockets, runs watch callbacks.  OL_OK, or OL_ERR_IO if poll() fails. */
int sim_server_run_once(sim_server_t *srv, int64_t timeout_us);

#endif
