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
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dev_lock.h"
#include "ol_err.h"
#include "ol_log.h"
#include "proc_locks.h"
#include "timeutil.h"

/* a wait longer than this is logged, with what it was for */
#define DEVLOCK_LOG_WAIT_MS 1000
#define DEVLOCK_YIELD_PROBE_MAX_MS 16
/* marks: open file description read locks (fcntl F_OFD_SETLK; independent
 * of flock, and unlike POSIX locks neither dropped when the process closes
 * another descriptor of the file, as the wake-up does, nor hidden from
 * another handle of the same process): byte 0 "a handle of ours waits",
 * byte 1 "a handle of ours holds the lock", byte PRESENT_BASE + its slot
 * "a handle of ours is open" (the slot, drawn at random, tells handles
 * apart).  F_OFD_GETLK shows every other open file description's marks. */
#define MARK_WAITING 0
#define MARK_HOLDING 1
#define PRESENT_BASE 16
#define PRESENT_SLOTS 65536
#define DEVLOCK_KNOWN_MAX 32

struct ol_devlock {
	int fd;              /* flock() target, the caller's */
	int ino_fd;          /* inotify on the same file, or -1 */
	char *path;          /* what is watched (for the wake-up) */
	const char *name;    /* for logs */
	int locked;
	int marked;          /* our POSIX mark "waiting" (byte 0) */
	int holding_marked;  /* ... "holding" (byte 1) */
	int others_open;     /* foreign opens minus foreign closes */
	int64_t contender_at;    /* last foreign open, 0 none */
	unsigned contender_seq;  /* counts them: each is owed its yield */
	int contender_served;    /* ... seen holding the lock since */
	int64_t served_at;       /* ... when it was first seen holding it */
	int64_t reopen_until;    /* it closed: it may open again till then */
	int64_t turn_until;      /* ours after a foreign session, till then */
	int new_opens, new_closes;  /* seen, not yet told ours or foreign */
	int ours_closing;   /* handles of ours gone, their closes not yet seen */
	off_t present_at;        /* our presence mark's byte */
	off_t known[DEVLOCK_KNOWN_MAX];  /* other handles of ours, by mark */
	int nknown;
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
	if (inotify_add_watch(l->ino_fd, path,
	    IN_OPEN | IN_CLOSE | IN_ATTRIB) < 0 ||
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
				/* lost count: no guess */
				l->others_open = l->new_opens = 0;
				l->new_closes = l->ours_closing = 0;
			} else if (ev->mask & IN_IGNORED) {
				/* the node is gone (unplugged) */
				watch_close(l);
				return;
			} else if (ev->mask & IN_OPEN) {
				l->new_opens++;
			} else if (ev->mask & IN_CLOSE) {
				l->new_closes++;
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

	/* A time stamp, not an open and a close: inotify merges an event
	 * with an identical one still unread, so a wake-up's open could
	 * swallow a contender's and its close then cancel the contender.
	 * futimens() needs write access to the file, which a handle that
	 * talks to the device has; the open and close are the fallback. */
	if (futimens(l->fd, NULL) == 0)
		return;
	if (l->path != NULL &&
	    (fd = open(l->path, O_RDONLY | O_CLOEXEC | O_NONBLOCK |
	    O_NOCTTY)) >= 0)
		close(fd);
}

/* --- marks ---------------------------------------------------------------- */

/* One byte's mark, up (a read lock) or down; 0 or -1 as fcntl(). */
static int
byte_mark(int fd, off_t byte, int up)
{
	struct flock fl;

	memset(&fl, 0, sizeof(fl));
	fl.l_type = up ? F_RDLCK : F_UNLCK;
	fl.l_whence = SEEK_SET;
	fl.l_start = byte;
	fl.l_len = 1;
	return fcntl(fd, F_OFD_SETLK, &fl);
}

static void
mark_set(ol_devlock_t *l, int byte, int on)
{
	int *state = byte == MARK_WAITING ? &l->marked : &l->holding_marked;

	if (*state != on && byte_mark(l->fd, byte, on) == 0)
		*state = on;
}

/* A handle of ours is open on the file: its open is not a contender for
 * the other handles.  Held until the descriptor is closed. */
static void
mark_present(ol_devlock_t *l)
{
	l->present_at = PRESENT_BASE +
	    (off_t)(((uint64_t)ol_now_us() * 2654435761u ^
	    (uint64_t)getpid() * 40503u) % PRESENT_SLOTS);
	(void)byte_mark(l->fd, l->present_at, 1);
}

static void
mark_absent(const ol_devlock_t *l)
{
	(void)byte_mark(l->fd, l->present_at, 0);
}

/* The other handles' presence marks in [lo, hi): F_OFD_GETLK names one
 * conflicting lock, not necessarily the lowest, so the range is split
 * around each one found.  Adds their bytes to at, at most max. */
static void
present_marks(const ol_devlock_t *l, off_t lo, off_t hi, off_t *at, int *n,
    int max)
{
	struct flock fl;
	off_t found;

	if (lo >= hi || *n >= max)
		return;
	memset(&fl, 0, sizeof(fl));
	fl.l_type = F_WRLCK;
	fl.l_whence = SEEK_SET;
	fl.l_start = lo;
	fl.l_len = hi - lo;
	if (fcntl(l->fd, F_OFD_GETLK, &fl) != 0 || fl.l_type == F_UNLCK)
		return;
	found = fl.l_start < lo ? lo : fl.l_start;
	at[(*n)++] = found;
	present_marks(l, lo, found, at, n, max);
	present_marks(l, found + 1, hi, at, n, max);
}

static int
count_missing(const off_t *from, int nfrom, const off_t *in, int nin)
{
	int i, j, missing = 0;

	for (i = 0; i < nfrom; i++) {
		for (j = 0; j < nin && in[j] != from[i]; j++)
			;
		missing += j == nin;
	}
	return missing;
}

/*
 * Opens and closes seen since the last look, told apart: a handle of
 * ours that appeared (a new presence mark) explains an open, one that
 * went away a close; ours take their turns through the marks.  The rest
 * are foreign (libfido2, a browser, a wake-up), and a foreign open is a
 * contender until it is seen holding the lock or closes.
 *
 * The order matters, as nothing makes an event and a mark change at
 * once.  A handle of ours opens, then raises its mark: so the marks are
 * looked at first and the events read again after them, and every mark
 * seen has its open among the events counted.  (The other way round, an
 * open between the read and the look was explained by nothing when its
 * event came: a foreign open that was ours, and a yield of
 * DEVLOCK_YIELD_MAX_MS for nobody.  An open read now whose mark comes
 * later is explained at the next look.)  A handle of ours lowers its
 * mark, then closes: a mark gone is owed a close, whenever it is read,
 * so the closes read after the look wait for the next one.
 */
static int contender_pending(const ol_devlock_t *l);

static void
attribute(ol_devlock_t *l, int force)
{
	off_t now[DEVLOCK_KNOWN_MAX];
	int n = 0, opens, closes, owed, waited_for;

	if (!force && l->new_opens == 0 && l->new_closes == 0)
		return;
	waited_for = contender_pending(l) || (l->contender_served &&
	    ol_now_ms() - l->served_at <= DEVLOCK_REOPEN_HELD_MS);
	present_marks(l, PRESENT_BASE, PRESENT_BASE + PRESENT_SLOTS, now, &n,
	    DEVLOCK_KNOWN_MAX);
	closes = l->new_closes;
	l->new_closes = 0;
	watch_read(l);
	opens = l->new_opens - count_missing(now, n, l->known, l->nknown);
	/* (A child forked without exec keeps the description open: its
	 * parent's close then makes no event, and one foreign close is taken
	 * for that one, which keeps a contender pending too long: bounded by
	 * DEVLOCK_CONTENDER_MAX_MS.) */
	l->ours_closing += count_missing(l->known, l->nknown, now, n);
	owed = closes < l->ours_closing ? closes : l->ours_closing;
	l->ours_closing -= owed;
	closes -= owed;
	if (opens > 0) {
		l->others_open += opens;
		l->contender_at = ol_now_ms();
		l->contender_seq++;
		l->contender_served = 0;
	} else if (opens < 0) {
		/* a handle of ours whose open was counted before its mark
		 * went up, as foreign then */
		l->others_open -= -opens < l->others_open ? -opens :
		    l->others_open;
	}
	if (closes > 0) {
		l->others_open -= closes < l->others_open ? closes :
		    l->others_open;
		/* libfido2 1.12 closes the node right after a lock it had
		 * to wait for, opens it again and locks again: taking the
		 * lock in between sends it back to sleeping 100 ms more
		 * than last time.  It holds that lock for microseconds (more
		 * only when it is preempted), so it closes before it is seen
		 * holding or just after: a contender seen holding longer had
		 * its session, and its close ends the yield (a grace after
		 * every session starved PC/SC between FIDO sessions 10 ms
		 * apart: 5 APDUs in 5 s) */
		if (waited_for && l->others_open == 0)
			l->reopen_until = ol_now_ms() + DEVLOCK_REOPEN_GRACE_MS;
	}
	memcpy(l->known, now, (size_t)n * sizeof(now[0]));
	l->nknown = n;
	l->new_opens = 0;
}

/* Another process has the mark at byte. */
static int
mark_seen(const ol_devlock_t *l, int byte)
{
	struct flock fl;

	memset(&fl, 0, sizeof(fl));
	fl.l_type = F_WRLCK;
	fl.l_whence = SEEK_SET;
	fl.l_start = byte;
	fl.l_len = 1;
	return fcntl(l->fd, F_OFD_GETLK, &fl) == 0 && fl.l_type != F_UNLCK;
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

/* A program that is not ours holds the lock.  A handle of ours raises
 * its holding mark before it locks and lowers it after it unlocks, so a
 * holder without the mark both before and after the probe is not ours;
 * one look after the probe took a handle of ours that unlocked in
 * between for a foreign holder (a contender then counted as served, and
 * never yielded to again). */
static int
foreign_holds(const ol_devlock_t *l)
{
	return !mark_seen(l, MARK_HOLDING) && someone_holds(l) &&
	    !mark_seen(l, MARK_HOLDING);
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

/*
 * Whom this acquisition lets go first, if anyone:
 *   a contender (a foreign open not yet seen holding the lock), by every
 *   handle of ours, waiting or not: while it is pending none of ours
 *   takes the lock, so a holder that is not one of ours is the
 *   contender, and it is served;  for at most DEVLOCK_YIELD_MAX_MS per
 *   contender, also one that opens while this acquisition waits;
 *   a contender that closed and may open again at once, until
 *   reopen_until;
 *   another process's waiting handle of ours, by a handle that has not
 *   waited in this acquisition (it held the lock last), for at most
 *   DEVLOCK_YIELD_MAX_MS per acquisition.
 */
enum yield_to { YIELD_NONE, YIELD_CONTENDER, YIELD_REOPEN, YIELD_WAITER };

static enum yield_to
yield_to(ol_devlock_t *l, int fresh)
{
	/* while a contender is pending, look again even without events: its
	 * presence mark may have come up after its open was read */
	attribute(l, contender_pending(l));
	if (contender_pending(l)) {
		if (!foreign_holds(l))
			return YIELD_CONTENDER;
		l->contender_served = 1; /* it holds the lock */
		l->served_at = ol_now_ms();
	} else if (ol_now_ms() < l->reopen_until && !someone_holds(l)) {
		return YIELD_REOPEN;  /* it may be opening again */
	}
	if (fresh && mark_seen(l, MARK_WAITING) && !someone_holds(l))
		return YIELD_WAITER;
	return YIELD_NONE;
}

/* This acquisition found the lock held by a foreign holder from
 * foreign_first to foreign_last, longer than libfido2 holds the lock it
 * closes to open again: a session. */
static int
waited_session(int64_t foreign_first, int64_t foreign_last)
{
	return foreign_first != 0 &&
	    foreign_last - foreign_first > DEVLOCK_REOPEN_HELD_MS;
}

int
ol_devlock_acquire(ol_devlock_t *l, int timeout_ms)
{
	int64_t start = ol_now_ms(), deadline, yield_until = 0, until;
	int64_t foreign_first = 0, foreign_last = 0;
	char holder[OL_PROC_COMM_MAX + 32] = "";
	const char *why = "";
	enum yield_to to;
	unsigned yield_seq = 0;
	int backoff = 1, fresh = 1, said = 0, yielding = 0, r;

	if (l == NULL)
		return OL_ERR_ARG;
	if (l->locked)
		return OL_OK;
	deadline = start + (timeout_ms < 0 ? 0 : timeout_ms);
	for (;;) {
		watch_read(l);
		to = yield_to(l, fresh);
		/* Ours have their turn after a foreign session: a handle
		 * that waited one out makes its exchanges for
		 * DEVLOCK_TURN_MS before it yields to the next contender,
		 * which is not served by that.  A FIDO client making
		 * sessions back to back would otherwise keep every one of
		 * ours out but for one exchange per session, and a PC/SC
		 * transaction of several APDUs across several sessions.
		 * (libfido2 1.12's lock before its reopen is no session:
		 * held for microseconds, it gets no turn after it.) */
		if (to == YIELD_CONTENDER &&
		    (waited_session(foreign_first, foreign_last) ||
		    ol_now_ms() < l->turn_until))
			to = YIELD_NONE;
		/* Otherwise the yield is owed to each contender: taking one
		 * that opened during a wait for the yield already spent on
		 * the session before (a touch longer than the yield) gave it
		 * up as a browser that never locks, and libfido2 retried for
		 * 21 s against handles of ours taking turns. */
		if (to == YIELD_CONTENDER && (!yielding ||
		    yield_seq != l->contender_seq)) {
			yield_seq = l->contender_seq;
			yield_until = ol_now_ms() + DEVLOCK_YIELD_MAX_MS;
			yielding = 1;
		} else if (to == YIELD_WAITER && !yielding) {
			yield_until = ol_now_ms() + DEVLOCK_YIELD_MAX_MS;
			yielding = 1;
		}
		until = to == YIELD_REOPEN ? l->reopen_until : yield_until;
		if (until > deadline)
			until = deadline;
		if (to != YIELD_NONE && ol_now_ms() < until) {
			why = to == YIELD_WAITER ? "another program waiting "
			    "for the device" : "a program that opened the "
			    "device";
			watch_wait(l, backoff < ol_ms_left(until) ?
			    backoff : ol_ms_left(until));
			if (backoff < DEVLOCK_YIELD_PROBE_MAX_MS)
				backoff *= 2;
			continue;
		}
		if (to == YIELD_CONTENDER)
			/* it opened the node and never locked it (a browser
			 * without flock): not waited for again */
			l->contender_served = 1;
		/* the holding mark goes up before the lock and comes down
		 * after it: a holder without the mark is never one of ours,
		 * so it is the contender */
		mark_set(l, MARK_HOLDING, 1);
		if (flock(l->fd, LOCK_EX | LOCK_NB) == 0) {
			l->locked = 1;
			if (waited_session(foreign_first, foreign_last))
				l->turn_until = ol_now_ms() + DEVLOCK_TURN_MS;
			r = OL_OK;
			break;
		}
		mark_set(l, MARK_HOLDING, 0);
		if (errno != EWOULDBLOCK && errno != EINTR) {
			ol_log(OL_LOG_CRITICAL, "%s: flock: %s", l->name,
			    strerror(errno));
			r = OL_ERR_IO;
			break;
		}
		/* held by a program that is not ours (no holding mark); after
		 * the errno test, as the probe's own calls set errno */
		if (foreign_holds(l)) {
			foreign_last = ol_now_ms();
			if (foreign_first == 0)
				foreign_first = foreign_last;
		}
		fresh = 0;
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
		mark_set(l, MARK_WAITING, 1);
		watch_wait(l, backoff < ol_ms_left(deadline) ? backoff :
		    ol_ms_left(deadline));
		if (backoff < DEVLOCK_WAIT_MAX_MS)
			backoff *= 2;
	}
	mark_set(l, MARK_WAITING, 0);
	if (*why != '\0' && ol_now_ms() - start >= DEVLOCK_LOG_WAIT_MS)
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
	mark_set(l, MARK_HOLDING, 0);
	l->locked = 0;
	if (mark_seen(l, MARK_WAITING))
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
	mark_present(l);
	/* our handles already there, before the watch: a handle that comes
	 * while it is set up is then a new mark, and its open, if the watch
	 * saw it, is explained by it at the first look */
	present_marks(l, PRESENT_BASE, PRESENT_BASE + PRESENT_SLOTS, l->known,
	    &l->nknown, DEVLOCK_KNOWN_MAX);
	if (watch_open(l) != 0)
		ol_log(OL_LOG_INFO, "%s: cannot watch the lock's file (%s); "
		    "the lock works, waits end by time-outs only", l->name,
		    strerror(errno));
	else
		attribute(l, 1);
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
	mark_set(l, MARK_WAITING, 0);
	mark_absent(l);
	watch_close(l);
	free(l->path);
	free(l);
	*lp = NULL;
}
