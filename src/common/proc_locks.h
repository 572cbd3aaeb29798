/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ifd-openloop: who holds a flock() on a file, from /proc/locks
 * (proc(5)), so that a wait for the device lock can say which program it
 * waited for ("held by fido2-assert, pid 4242").
 */
#ifndef OL_PROC_LOCKS_H
#define OL_PROC_LOCKS_H

#include <stddef.h>

#define OL_PROC_LOCKS_LINE_MAX 256   /* longer lines are not locks */
#define OL_PROC_COMM_MAX 64

/*
 * In text (len bytes of /proc/locks, not NUL-terminated), the first
 * granted FLOCK WRITE lock on the file major:minor:inode; blocked waiters
 * ("->") are not holders.  1 with *pid set, 0 if there is none.
 */
int ol_proc_locks_flock_holder(const char *text, size_t len,
    unsigned long major, unsigned long minor, unsigned long long inode,
    long *pid);

/*
 * "NAME (pid N)" of the process holding a flock() on the file open at fd,
 * or "" if it cannot be told (no /proc, a holder in another PID
 * namespace shows pid 0 or a stranger's number).  Printable ASCII only.
 */
void ol_proc_locks_describe_holder(int fd, char *out, size_t cap);

#endif
