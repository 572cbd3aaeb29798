/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * How libfido2 1.12 (Debian 12) takes a hidraw node: fido_hid_open() in
 * its hid_linux.c, imitated on any file, for the tests and the benchmark
 * that put a FIDO client beside ours.
 *
 *  - open(), then flock(LOCK_EX|LOCK_NB);
 *  - after a failure, a sleep 100 ms longer than the one before (100,
 *    200, ... 2000 ms) and another try; the 21st failure gives up
 *    (about 21 s).  libfido2 up to 1.11 gave up after 15 (about 12 s);
 *  - a lock that took more than one try is let go at once: the node is
 *    closed, opened again and locked again, the tries still counted
 *    ("hid_linux: reopen hidraw(4) after flock(2)", 1.12.0).
 *
 * Measured against the real library in the QEMU guest:
 * docs/fido2-coexistence.md, "libfido2's retrying".
 */
#ifndef OL_TEST_LIBFIDO2_LOCK_H
#define OL_TEST_LIBFIDO2_LOCK_H

#define LIBFIDO2_LOCK_RETRIES 20     /* failures it sleeps after */
#define LIBFIDO2_LOCK_STEP_MS 100

/* A descriptor of path holding the lock, or -1 (errno EWOULDBLOCK when
 * it gave up, else open's or flock's).  tries (may be NULL): the flock
 * attempts made; reopens: how many times it opened the file again. */
int libfido2_lock_open(const char *path, int *tries, int *reopens);

#endif
