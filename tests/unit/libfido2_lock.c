/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libfido2 1.12's way into a node; see libfido2_lock.h. */
#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "libfido2_lock.h"

static void
sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

int
libfido2_lock_open(const char *path, int *tries, int *reopens)
{
	int fd, retries = 0, looped, n = 0, again = 0, saved;

	for (;;) {
		if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
			goto out;
		looped = 0;
		for (;;) {
			n++;
			if (flock(fd, LOCK_EX | LOCK_NB) == 0)
				break;
			if (errno != EWOULDBLOCK ||
			    retries++ >= LIBFIDO2_LOCK_RETRIES) {
				saved = errno;
				close(fd);
				errno = saved;
				fd = -1;
				goto out;
			}
			looped = 1;
			sleep_ms((long)retries * LIBFIDO2_LOCK_STEP_MS);
		}
		if (!looped)
			break;
		/* it had to wait: the node again, from a fresh open */
		close(fd);
		again++;
	}
out:
	if (tries != NULL)
		*tries = n;
	if (reopens != NULL)
		*reopens = again;
	return fd;
}
