/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ifd-openloop simulator: the device's flash, a file on the host.  Both
 * applications keep their state through it (piv_state.c, cred_store.c):
 * a whole file read with a size limit, and a whole file replaced
 * atomically, mode 0600, durable once the call returns.  Log messages
 * are the caller's (it knows which state it is); these say what failed
 * in *why, a static string, and keep errno for strerror().
 */
#ifndef OL_SIM_FLASH_H
#define OL_SIM_FLASH_H

#include <stddef.h>
#include <stdint.h>

/*
 * The whole regular file at path, at most max bytes, into a malloc'd
 * buffer (*out, *len; the caller wipes and frees it).  OL_OK;
 * OL_ERR_NO_DEVICE if it does not exist (nothing logged by anyone: a
 * fresh device); OL_ERR_PERMISSION, OL_ERR_IO (*why set, errno kept, 0
 * for no regular file); OL_ERR_PROTOCOL if it is larger than max.
 * A FIFO at path does not block (O_NONBLOCK).
 */
int sim_flash_read(const char *path, size_t max, uint8_t **out, size_t *len,
    const char **why);

/*
 * Replaces path with len bytes of buf: a temporary file in the same
 * directory (so that rename() is atomic), mode exactly 0600, fsync,
 * rename, fsync of the directory (EINVAL, a directory that cannot be
 * synced, is accepted).  OL_OK, or an OL_ERR_* with *why the step that
 * failed and errno its cause; path is then unchanged, unless only the
 * directory's fsync failed (*why says so).
 */
/* Logs why sim_flash_read() failed (r, why, errno), as "WHAT PATH: ...";
 * nothing for OL_ERR_NO_DEVICE. */
void sim_flash_log_read_error(const char *what, const char *path, int r,
    const char *why, size_t max);

int sim_flash_write(const char *path, const uint8_t *buf, size_t len,
    const char **why);

#endif
