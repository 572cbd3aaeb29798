/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libfido2's I/O on the simulator's socket; see fido_sock_io.h.  Built
 * only where configure found libfido2 (HAVE_LIBFIDO2). */
#ifdef HAVE_LIBFIDO2
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "fido_sock_io.h"
#include "libfido2_lock.h"

struct sock_io {
	int fd;
	int lock_fd;
};

/* libfido2's way into PATH.lock (libfido2_lock.h); -1 when it would
 * give up */
static int
lock_like_libfido2(const char *path)
{
	char lock_path[PATH_MAX];

	if (snprintf(lock_path, sizeof(lock_path), "%s.lock", path) >=
	    (int)sizeof(lock_path))
		return -1;
	return libfido2_lock_open(lock_path, NULL, NULL);
}

static void *
open_sock(const char *path, int locking)
{
	struct sockaddr_un sa;
	struct sock_io *h;

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa.sun_path) ||
	    (h = calloc(1, sizeof(*h))) == NULL)
		return NULL;
	memcpy(sa.sun_path, path, strlen(path));
	h->fd = -1;
	h->lock_fd = -1;
	if ((locking && (h->lock_fd = lock_like_libfido2(path)) < 0) ||
	    (h->fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0)) < 0 ||
	    connect(h->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		if (h->fd >= 0)
			close(h->fd);
		if (h->lock_fd >= 0)
			close(h->lock_fd);
		free(h);
		return NULL;
	}
	return h;
}

static void *
io_open(const char *path)
{
	return open_sock(path, 0);
}

static void *
io_open_locking(const char *path)
{
	return open_sock(path, 1);
}

static void
io_close(void *handle)
{
	struct sock_io *h = handle;

	close(h->fd);
	if (h->lock_fd >= 0)
		close(h->lock_fd); /* releases the lock, as libfido2's close */
	free(h);
}

static int
io_read(void *handle, unsigned char *buf, size_t len, int ms)
{
	struct sock_io *h = handle;
	struct pollfd p = { .fd = h->fd, .events = POLLIN };
	ssize_t n;
	int r;

	do {
		r = poll(&p, 1, ms);
	} while (r == -1 && errno == EINTR);
	if (r <= 0)
		return -1;
	if ((n = recv(h->fd, buf, len, 0)) < 0)
		return -1;
	return (int)n;
}

static int
io_write(void *handle, const unsigned char *buf, size_t len)
{
	struct sock_io *h = handle;
	ssize_t n;

	if ((n = send(h->fd, buf, len, MSG_NOSIGNAL)) < 0)
		return -1;
	return (int)n;
}

const fido_dev_io_t fido_sock_io = {
	.open = io_open,
	.close = io_close,
	.read = io_read,
	.write = io_write,
};

const fido_dev_io_t fido_sock_io_locking = {
	.open = io_open_locking,
	.close = io_close,
	.read = io_read,
	.write = io_write,
};

#endif /* HAVE_LIBFIDO2 */
