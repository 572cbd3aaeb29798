/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libfido2 on the simulator's socket (tests only): I/O functions for
 * fido_dev_set_io_functions().  A datagram out is report ID 0 and 64
 * bytes, a datagram in one 64-byte report (docs/simulator.md).
 *
 * fido_sock_io_locking also does what libfido2 does on a hidraw node
 * (hid_linux.c, fido_hid_open): it takes flock(LOCK_EX) on the
 * simulator's PATH.lock, trying LOCK_NB and sleeping 100, 200, ... ms
 * between tries, 15 in all, and holds it until the device is closed.
 */
#ifndef OL_FIDO_SOCK_IO_H
#define OL_FIDO_SOCK_IO_H

#include <fido.h>

extern const fido_dev_io_t fido_sock_io;
extern const fido_dev_io_t fido_sock_io_locking;

#endif
