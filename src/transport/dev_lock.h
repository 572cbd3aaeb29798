/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ifd-openloop: the device lock shared with every other program that
 * talks to the same node (libfido2 and its users, our own tools, another
 * driver instance): flock(LOCK_EX) on the node, or on the simulator's
 * PATH.lock.
 *
 * flock() alone is not fair: a client that unlocks and locks again at
 * once keeps winning against one that retries now and then (libfido2
 * 1.12, Debian 12's, tries LOCK_EX|LOCK_NB, then sleeps 100, 200, ...
 * 2000 ms, about 21 s in all; up to 1.11 it stopped at 1500 ms, 12 s).
 * Fairness here costs nothing while nobody else wants the device:
 *
 *  - Every handle of ours marks itself present, and waiting or holding
 *    when it does, with open file description locks (fcntl F_OFD_SETLK,
 *    independent of flock) on bytes of the same file.
 *  - Somebody else opening the node (inotify IN_OPEN not explained by a
 *    new presence mark, minus IN_CLOSE) is a contender.  Every handle of
 *    ours that goes to lock leaves the lock free for up to
 *    DEVLOCK_YIELD_MAX_MS per contender, until the contender holds it
 *    (held, and not by one of ours), closes the node, or
 *    DEVLOCK_CONTENDER_MAX_MS after its open (libfido2 has given up).
 *  - A handle that waited out a foreign holder has its turn: it does
 *    not yield to a contender until DEVLOCK_TURN_MS after it got the
 *    lock (FIDO sessions back to back would otherwise leave ours one
 *    exchange per session).  libfido2's second try comes 100 ms after
 *    its open.
 *  - A contender that closes the node before it was seen holding the
 *    lock, or within DEVLOCK_REOPEN_HELD_MS of it, is waited for
 *    DEVLOCK_REOPEN_GRACE_MS more: libfido2 1.12 closes the node after a
 *    lock it had to wait for and opens and locks it again at once.
 *  - A holder that sees a waiting mark when it unlocks wakes the waiter
 *    (futimens() on the node: an inotify IN_ATTRIB) and yields to
 *    it before it locks again.
 *  - A wait sleeps on the inotify descriptor (a close or a wake-up ends
 *    it at once) with a timeout that doubles from 1 ms to
 *    DEVLOCK_WAIT_MAX_MS: no polling every millisecond.
 *
 * Without inotify (no watch possible, e.g. a deleted lock file) the lock
 * still works, by the timeouts alone.  Docs: docs/transport.md, "The
 * device lock".
 */
#ifndef OL_DEV_LOCK_H
#define OL_DEV_LOCK_H

#define DEVLOCK_YIELD_MAX_MS      2100  /* > libfido2's longest pause */
#define DEVLOCK_CONTENDER_MAX_MS 22000  /* > libfido2's whole retrying */
#define DEVLOCK_WAIT_MAX_MS         64
#define DEVLOCK_REOPEN_GRACE_MS     30  /* libfido2 1.12's close, open, lock */
#define DEVLOCK_REOPEN_HELD_MS      10  /* a lock held longer was a session */
#define DEVLOCK_TURN_MS             50  /* < libfido2's first pause */

typedef struct ol_devlock ol_devlock_t;

/* lock_fd and name stay the caller's and must outlive the lock.  OL_OK
 * or OL_ERR_NOMEM. */
int ol_devlock_new(int lock_fd, const char *name, ol_devlock_t **out);
void ol_devlock_free(ol_devlock_t **lock);

/* OL_OK, OL_ERR_BUSY after timeout_ms, or the error of flock(). */
int ol_devlock_acquire(ol_devlock_t *lock, int timeout_ms);
void ol_devlock_release(ol_devlock_t *lock);

#endif
