/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The device lock: flock(), made fair only when somebody else wants the
 * device.  The rules are in dev_lock.h.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "dev_lock.h"
#include "ol_err.h"
#include "ol_log.h"
#include "proc_locks.h"
#include "timeutil.h"

/* a wait longer than this is logged, with what it was for */
#define DEVLOCK_LOG_WAIT_MS 1000
#define DEVLOCK_YIELD_PROBE_MAX_MS 16

struct ol_devlock {
	int fd;              /* flock() target, the caller's */
	int ino_fd;          /* inotify on the same file, or -1 */
	char *path;          /* what is watched (for the wake-up) */
	const char *name;    /* for logs */
	int locked;
	int marked;          /* our POSIX read lock: "waiting" */
	int others_open;     /* opens minus closes seen, not ours */
	int64_t contender_at;    /* last foreign open, 0 none */
	int contender_served;    /* ... seen holding the lock since */
};

/* --- the inotify side ----------------------------------------------------- */

static int
watch_open(ol_devlock_t *l)
{
	char link[64], path[PATH_MAX];
	ssize_t n;

	/* the file the descriptor is open on, whatever name it was given */
	snprintf(link, sizeof(link), "/proc/self/fd/%d", l->fd);
	if ((n = readlink(link, path, sizeof(path) - 1)) <= 0)
		return -1;
	path[n] = '\0';
	if (path[0] != '/')
		return -1; /* a socket, a pipe, a deleted file's "(deleted)" */
	if ((l->ino_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) < 0)
		return -1;
	if (inotify_add_watch(l->ino_fd, path, IN_OPEN | IN_CLOSE) < 0 ||
	    (l->path = strdup(path)) == NULL) {
		close(l->ino_fd);
		l->ino_fd = -1;
		return -1;
	}
	return 0;
}

static void
watch_close(ol_devlock_t *l)
{
	if (l->ino_fd >= 0)
		close(l->ino_fd);
	l->ino_fd = -1;
}

/* Counts what the queued events say; every event's length checked
 * against what read() returned. */
static void
watch_read(ol_devlock_t *l)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct
	    inotify_event))));
	const struct inotify_event *ev;
	size_t off, evlen;
	ssize_t n;

	while (l->ino_fd >= 0) {
		n = read(l->ino_fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		for (off = 0; (size_t)n - off >= sizeof(*ev); off += evlen) {
			ev = (const struct inotify_event *)(buf + off);
			if (ev->len > (size_t)n - off - sizeof(*ev))
				break;
			evlen = sizeof(*ev) + ev->len;
			if (ev->mask & IN_Q_OVERFLOW) {
				l->others_open = 0; /* lost count: no guess */
			} else if (ev->mask & IN_IGNORED) {
				/* the node is gone (unplugged) */
				watch_close(l);
				return;
			} else if (ev->mask & IN_OPEN) {
				l->others_open++;
				l->contender_at = ol_now_ms();
				l->contender_served = 0;
			} else if ((ev->mask & IN_CLOSE) && l->others_open > 0) {
				l->others_open--;
			}
		}
	}
}

/* Sleeps until an event or timeout_ms, then reads the events. */
static void
watch_wait(ol_devlock_t *l, int timeout_ms)
{
	struct pollfd pfd;

	if (l->ino_fd < 0) {
		ol_sleep_ms(timeout_ms);
		return;
	}
	pfd.fd = l->ino_fd;
	pfd.events = POLLIN;
	pfd.revents = 0;
	(void)poll(&pfd, 1, timeout_ms);
	watch_read(l);
}

/* An open and a close of the node: wakes whoever sleeps in watch_wait(). */
static void
wake_waiters(ol_devlock_t *l)
{
	int fd;

	if (l->path != NULL &&
	    (fd = open(l->path, O_RDONLY | O_CLOEXEC | O_NONBLOCK |
	    O_NOCTTY)) >= 0)
		close(fd);
}

/* --- the waiting mark: a POSIX read lock on byte 0 ------------------------ */

static void
mark_set(ol_devlock_t *l, int on)
{
	struct flock fl;

	if (l->marked == on)
		return;
	memset(&fl, 0, sizeof(fl));
	fl.l_type = on ? F_RDLCK : F_UNLCK;
	fl.l_whence = SEEK_SET;
	fl.l_start = 0;
	fl.l_len = 1;
	if (fcntl(l->fd, F_SETLK, &fl) == 0)
		l->marked = on;
}

/* Another process's handle is waiting for the lock. */
static int
someone_waits(const ol_devlock_t *l)
{
	struct flock fl;

	memset(&fl, 0, sizeof(fl));
	fl.l_type = F_WRLCK;
	fl.l_whence = SEEK_SET;
	fl.l_start = 0;
	fl.l_len = 1;
	return fcntl(l->fd, F_GETLK, &fl) == 0 && fl.l_type != F_UNLCK;
}

/* Another open file holds the flock (LOCK_SH fails only against
 * LOCK_EX).  A shared lock held for two system calls is the price. */
static int
someone_holds(const ol_devlock_t *l)
{
	if (flock(l->fd, LOCK_SH | LOCK_NB) == 0) {
		flock(l->fd, LOCK_UN);
		return 0;
	}
	return errno == EWOULDBLOCK;
}

/* --- acquire and release -------------------------------------------------- */

/* Somebody opened the node and has not yet been seen holding the lock:
 * it may be libfido2 between two attempts. */
static int
contender_pending(const ol_devlock_t *l)
{
	return l->others_open > 0 && l->contender_at != 0 &&
	    !l->contender_served &&
	    ol_now_ms() - l->contender_at < DEVLOCK_CONTENDER_MAX_MS;
}

/* Lets a contender or a marked waiter go first; returns why we yielded
 * ("" if we did not), for the log. */
static const char *
yield(ol_devlock_t *l, int64_t deadline)
{
	int64_t until = ol_now_ms() + DEVLOCK_YIELD_MAX_MS;
	int backoff = 1, foreign, waiter;
	const char *why = "";

	if (until > deadline)
		until = deadline;
	for (;;) {
		foreign = contender_pending(l);
		waiter = !foreign && someone_waits(l);
		if (!foreign && !waiter)
			break;
		if (*why == '\0')
			why = foreign ? "a program that opened the device" :
			    "another program waiting for the device";
		if (someone_holds(l)) {
			l->contender_served = 1;
			break;
		}
		if (ol_now_ms() >= until) {
			/* it opened the node without ever locking it (a
			 * browser that does not use flock): stop waiting */
			l->contender_served = 1;
			break;
		}
		watch_wait(l, backoff < ol_ms_left(until) ? backoff :
		    ol_ms_left(until));
		if (backoff < DEVLOCK_YIELD_PROBE_MAX_MS)
			backoff *= 2;
	}
	return why;
}

int
ol_devlock_acquire(ol_devlock_t *l, int timeout_ms)
{
	int64_t start = ol_now_ms(), deadline;
	char holder[OL_PROC_COMM_MAX + 32] = "";
	const char *why;
	int backoff = 1, waited = 0, said = 0, r;

	if (l == NULL)
		return OL_ERR_ARG;
	if (l->locked)
		return OL_OK;
	deadline = start + (timeout_ms < 0 ? 0 : timeout_ms);
	watch_read(l);
	why = yield(l, deadline);
	for (;;) {
		if (flock(l->fd, LOCK_EX | LOCK_NB) == 0) {
			l->locked = 1;
			r = OL_OK;
			break;
		}
		if (errno != EWOULDBLOCK && errno != EINTR) {
			ol_log(OL_LOG_CRITICAL, "%s: flock: %s", l->name,
			    strerror(errno));
			r = OL_ERR_IO;
			break;
		}
		/* whoever holds it came in: nobody is left to yield to,
		 * and what we wait for now is its release */
		l->contender_served = 1;
		why = "another program holding the device";
		if (!said && ol_now_ms() - start >= DEVLOCK_LOG_WAIT_MS) {
			/* a long wait: say for whom, while it still holds */
			ol_proc_locks_describe_holder(l->fd, holder,
			    sizeof(holder));
			ol_log(OL_LOG_INFO, "%s: waiting for the device, held "
			    "by %s", l->name, holder[0] ? holder :
			    "another program");
			said = 1;
		}
		if (ol_ms_left(deadline) == 0) {
			r = OL_ERR_BUSY;
			break;
		}
		mark_set(l, 1);
		waited = 1;
		watch_wait(l, backoff < ol_ms_left(deadline) ? backoff :
		    ol_ms_left(deadline));
		if (backoff < DEVLOCK_WAIT_MAX_MS)
			backoff *= 2;
	}
	mark_set(l, 0);
	if ((waited || *why != '\0') &&
	    ol_now_ms() - start >= DEVLOCK_LOG_WAIT_MS)
		ol_log(OL_LOG_INFO, "%s: waited %lld ms for %s%s%s%s",
		    l->name, (long long)(ol_now_ms() - start), why,
		    holder[0] ? ", " : "", holder,
		    r == OL_OK ? "" : "; gave up");
	return r;
}

void
ol_devlock_release(ol_devlock_t *l)
{
	if (l == NULL || !l->locked)
		return;
	flock(l->fd, LOCK_UN);
	l->locked = 0;
	if (someone_waits(l))
		wake_waiters(l);
}

int
ol_devlock_new(int lock_fd, const char *name, ol_devlock_t **out)
{
	ol_devlock_t *l;

	if (out == NULL || lock_fd < 0)
		return OL_ERR_ARG;
	if ((l = calloc(1, sizeof(*l))) == NULL)
		return OL_ERR_NOMEM;
	l->fd = lock_fd;
	l->ino_fd = -1;
	l->name = name != NULL ? name : "device";
	if (watch_open(l) != 0)
		ol_log(OL_LOG_INFO, "%s: cannot watch the lock's file (%s); "
		    "the lock works, waits end by time-outs only", l->name,
		    strerror(errno));
	*out = l;
	return OL_OK;
}

void
ol_devlock_free(ol_devlock_t **lp)
{
	ol_devlock_t *l;

	if (lp == NULL || (l = *lp) == NULL)
		return;
	if (l->locked)
		ol_devlock_release(l);
	mark_set(l, 0);
	watch_close(l);
	free(l->path);
	free(l);
	*lp = NULL;
}
