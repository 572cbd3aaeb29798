/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The simulator's socket: clients, their hidraw-like rings, and the files
 * beside the socket.  Single-threaded; sim_server_run_once() is the loop.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <linux/sockios.h>

#include "ol_err.h"
#include "ol_log.h"
#include "sim_server.h"
#include "sim_socket.h"
#include "timeutil.h"

#define DATAGRAM_LEN     (1 + CTAPHID_REPORT_LEN) /* report ID + report */
#define ACCEPT_PAUSE_MS  100  /* after EMFILE: do not spin on the listener */
#define SERIAL_MAX       126  /* a USB string descriptor's limit */

struct client {
	int fd;
	unsigned id;
	int dead;
	size_t head;
	size_t count;                /* reports in ring, not yet in the socket */
	unsigned long dropped;       /* in the current overflow */
	int drain_answer;            /* DRAIN to send before the ring */
	uint8_t ring[SIM_RING_SLOTS][CTAPHID_REPORT_LEN];
};

struct watch {
	int fd;
	sim_server_watch_cb *cb;
	void *arg;
};

struct sim_server {
	struct sim_server_hooks hooks;
	int listen_fd;
	char *path;                  /* set once the files exist */
	char *lock_path;
	char *serial_path;
	dev_t sock_dev;
	ino_t sock_ino;
	struct client **clients;
	size_t nclients;
	size_t clients_cap;
	struct watch watches[SIM_SERVER_MAX_WATCH];
	size_t nwatches;
	struct pollfd *pfd;
	size_t pfd_cap;
	unsigned next_id;
	size_t truesize;             /* kernel bytes per queued datagram */
	int64_t accept_resume;
	unsigned long dropped;
};

/* --- per-client queue ---------------------------------------------------- */

/*
 * What the kernel charges one 64-byte datagram in a sender's queue.  With
 * it, SIOCOUTQ tells how many reports a client has not read yet, so the
 * ring limit counts those too and a client never holds more than hidraw
 * would give it, however large the socket buffer.
 */
static size_t
measure_truesize(void)
{
	uint8_t report[CTAPHID_REPORT_LEN] = { 0 };
	int sv[2], outq = 0;
	size_t r = 0;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == -1)
		return 0;
	if (send(sv[0], report, sizeof(report), MSG_DONTWAIT) ==
	    (ssize_t)sizeof(report) && ioctl(sv[0], SIOCOUTQ, &outq) == 0 &&
	    outq > 0)
		r = (size_t)outq;
	close(sv[0]);
	close(sv[1]);
	return r;
}

static size_t
client_queued(const sim_server_t *srv, const struct client *c)
{
	int outq = 0;
	size_t in_kernel = 0;

	if (srv->truesize > 0 && ioctl(c->fd, SIOCOUTQ, &outq) == 0 && outq > 0)
		in_kernel = (size_t)outq / srv->truesize;
	return c->count + in_kernel;
}

static const uint8_t drain_msg[OL_SIM_SOCKET_DRAIN_LEN] =
    OL_SIM_SOCKET_DRAIN;

static void
client_flush(struct client *c)
{
	ssize_t n;

	while (c->drain_answer && !c->dead) {
		n = send(c->fd, drain_msg, sizeof(drain_msg),
		    MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n == (ssize_t)sizeof(drain_msg)) {
			c->drain_answer = 0;
			break;
		}
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return; /* POLLOUT will call again */
		ol_log(OL_LOG_INFO, "client %u: %s", c->id,
		    n == -1 ? strerror(errno) : "short send");
		c->dead = 1;
	}
	while (c->count > 0 && !c->dead) {
		n = send(c->fd, c->ring[c->head], CTAPHID_REPORT_LEN,
		    MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n == CTAPHID_REPORT_LEN) {
			explicit_bzero(c->ring[c->head], CTAPHID_REPORT_LEN);
			c->head = (c->head + 1) % SIM_RING_SLOTS;
			c->count--;
			continue;
		}
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return; /* POLLOUT will call again */
		ol_log(OL_LOG_INFO, "client %u: %s", c->id,
		    n == -1 ? strerror(errno) : "short send");
		c->dead = 1;
	}
}

static void
client_enqueue(sim_server_t *srv, struct client *c,
    const uint8_t report[CTAPHID_REPORT_LEN])
{
	size_t slot;

	if (client_queued(srv, c) >= SIM_RING_REPORTS) {
		/* hidraw drops the NEW report for a reader that is full */
		if (c->dropped++ == 0)
			ol_log(OL_LOG_INFO, "client %u: %d reports unread, "
			    "dropping new input reports", c->id,
			    SIM_RING_REPORTS);
		srv->dropped++;
		return;
	}
	if (c->dropped > 0) {
		ol_log(OL_LOG_INFO, "client %u: %lu input reports were dropped",
		    c->id, c->dropped);
		c->dropped = 0;
	}
	slot = (c->head + c->count) % SIM_RING_SLOTS;
	memcpy(c->ring[slot], report, CTAPHID_REPORT_LEN);
	c->count++;
	client_flush(c);
}

/* DRAIN (sim_socket.h): the client has read what the kernel held; what
 * is still in its ring is stale too.  The answer follows whatever the
 * kernel still holds, and precedes every later report. */
static void
client_drain(struct client *c)
{
	explicit_bzero(c->ring, sizeof(c->ring));
	c->head = 0;
	c->count = 0;
	c->dropped = 0;
	c->drain_answer = 1;
	client_flush(c);
}

/* Reads one datagram.  Returns what recv() returned: 0 is EOF or an
 * empty datagram, which SOCK_SEQPACKET cannot tell apart. */
static ssize_t
client_read(sim_server_t *srv, struct client *c)
{
	uint8_t buf[DATAGRAM_LEN + 1];
	ssize_t n;

	/* MSG_TRUNC: the real length of a longer datagram, for the log */
	n = recv(c->fd, buf, sizeof(buf), MSG_DONTWAIT | MSG_TRUNC);
	if (n == -1) {
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
			ol_log(OL_LOG_INFO, "client %u: %s", c->id,
			    strerror(errno));
			c->dead = 1;
		}
		return n;
	}
	if (n == OL_SIM_SOCKET_DRAIN_LEN &&
	    memcmp(buf, drain_msg, sizeof(drain_msg)) == 0) {
		client_drain(c);
	} else if (n != DATAGRAM_LEN || buf[0] != 0) {
		if (n != 0)
			ol_log(OL_LOG_INFO, "client %u: datagram of %zd bytes "
			    "(first byte %02x) ignored: want %d, report ID 0",
			    c->id, n, buf[0], DATAGRAM_LEN);
	} else {
		srv->hooks.report(srv->hooks.arg, buf + 1);
	}
	explicit_bzero(buf, sizeof(buf));
	return n;
}

static void
client_free(struct client *c)
{
	if (c == NULL)
		return;
	if (c->fd != -1)
		close(c->fd);
	explicit_bzero(c, sizeof(*c));
	free(c);
}

/* --- client list --------------------------------------------------------- */

int
sim_server_add_client(sim_server_t *srv, int fd)
{
	struct client *c = NULL, **grown;
	size_t cap;
	int one = 1, flags, r = OL_ERR_ARG;

	if (srv == NULL || fd < 0)
		goto fail;
	r = OL_ERR_NOMEM;
	if (srv->nclients == srv->clients_cap) {
		cap = srv->clients_cap ? 2 * srv->clients_cap : 8;
		if ((grown = reallocarray(srv->clients, cap,
		    sizeof(*grown))) == NULL)
			goto fail;
		srv->clients = grown;
		srv->clients_cap = cap;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL)
		goto fail;
	c->fd = fd;
	fd = -1;
	c->id = ++srv->next_id;
	r = OL_ERR_IO;
	if ((flags = fcntl(c->fd, F_GETFL)) == -1 ||
	    fcntl(c->fd, F_SETFL, flags | O_NONBLOCK) == -1)
		goto fail;
	/* The smallest socket buffer: reports wait in our ring, where the
	 * hidraw limit is applied, not in the kernel.  (SIOCOUTQ covers what
	 * is in the kernel anyway.)  The kernel raises 1 to its minimum. */
	(void)setsockopt(c->fd, SOL_SOCKET, SO_SNDBUF, &one, sizeof(one));
	srv->clients[srv->nclients++] = c;
	ol_log(OL_LOG_INFO, "client %u connected (%zu open)", c->id,
	    srv->nclients);
	c = NULL;
	r = OL_OK;
fail:
	if (fd >= 0)
		close(fd);
	client_free(c);
	return r;
}

static void
remove_dead_clients(sim_server_t *srv)
{
	size_t i, j;

	for (i = 0, j = 0; i < srv->nclients; i++) {
		if (srv->clients[i]->dead) {
			ol_log(OL_LOG_INFO, "client %u disconnected",
			    srv->clients[i]->id);
			client_free(srv->clients[i]);
		} else {
			srv->clients[j++] = srv->clients[i];
		}
	}
	srv->nclients = j;
}

size_t
sim_server_client_count(const sim_server_t *srv)
{
	return srv == NULL ? 0 : srv->nclients;
}

unsigned long
sim_server_dropped(const sim_server_t *srv)
{
	return srv == NULL ? 0 : srv->dropped;
}

void
sim_server_broadcast(sim_server_t *srv, const uint8_t report[CTAPHID_REPORT_LEN])
{
	size_t i;

	if (srv == NULL || report == NULL)
		return;
	for (i = 0; i < srv->nclients; i++)
		if (!srv->clients[i]->dead)
			client_enqueue(srv, srv->clients[i], report);
}

/* --- the socket and its files -------------------------------------------- */

static char *
path_with_suffix(const char *path, const char *suffix)
{
	size_t a = strlen(path), b = strlen(suffix);
	char *s;

	if (a > PATH_MAX || b > PATH_MAX || (s = malloc(a + b + 1)) == NULL)
		return NULL;
	memcpy(s, path, a);
	memcpy(s + a, suffix, b + 1);
	return s;
}

static int
check_directory(const char *path)
{
	char *copy, *slash;
	const char *dir;
	struct stat st;
	int r = OL_ERR_NOMEM;

	if ((copy = strdup(path)) == NULL)
		return r;
	if ((slash = strrchr(copy, '/')) == NULL)
		dir = ".";
	else if (slash == copy)
		dir = "/";
	else {
		*slash = '\0';
		dir = copy;
	}
	if (stat(dir, &st) == -1) {
		ol_log(OL_LOG_CRITICAL, "cannot create %s: directory %s: %s",
		    path, dir, errno == ENOENT ? "does not exist" :
		    strerror(errno));
		r = errno == EACCES ? OL_ERR_PERMISSION : OL_ERR_NO_DEVICE;
	} else if (!S_ISDIR(st.st_mode)) {
		ol_log(OL_LOG_CRITICAL, "cannot create %s: %s is not a "
		    "directory", path, dir);
		r = OL_ERR_NO_DEVICE;
	} else if (access(dir, W_OK | X_OK) == -1) {
		ol_log(OL_LOG_CRITICAL, "cannot create %s: directory %s is not "
		    "writable (%s)", path, dir, strerror(errno));
		r = OL_ERR_PERMISSION;
	} else {
		r = OL_OK;
	}
	free(copy);
	return r;
}

/* PATH is in use.  A socket nobody listens on is a dead simulator's:
 * remove it.  Anything else is somebody's and stays. */
static int
clear_stale_socket(const char *path, const struct sockaddr_un *sa)
{
	struct stat st;
	int fd, r = OL_ERR_BUSY;

	if (lstat(path, &st) == -1) {
		/* gone meanwhile: binding again will tell */
		return errno == ENOENT ? OL_OK : OL_ERR_IO;
	}
	if (!S_ISSOCK(st.st_mode)) {
		ol_log(OL_LOG_CRITICAL, "%s exists and is not a socket; "
		    "not replacing it", path);
		return OL_ERR_BUSY;
	}
	if ((fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0)) == -1)
		return OL_ERR_IO;
	if (connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) == 0) {
		ol_log(OL_LOG_CRITICAL, "another process is listening on %s "
		    "(a simulator already running?)", path);
	} else if (errno == ECONNREFUSED) {
		ol_log(OL_LOG_INFO, "removing stale socket %s", path);
		r = unlink(path) == 0 || errno == ENOENT ? OL_OK : OL_ERR_IO;
	} else {
		ol_log(OL_LOG_CRITICAL, "%s is in use: %s", path,
		    strerror(errno));
	}
	close(fd);
	return r;
}

static int
bind_socket(int fd, const char *path, const struct sockaddr_un *sa)
{
	mode_t old;
	int attempt, r, e;

	for (attempt = 0; attempt < 2; attempt++) {
		/* 0660 from the start: no window with a world-usable socket */
		old = umask(0117);
		r = bind(fd, (const struct sockaddr *)sa, sizeof(*sa));
		e = errno;
		umask(old);
		if (r == 0)
			return OL_OK;
		if (e != EADDRINUSE || attempt > 0)
			break;
		if ((r = clear_stale_socket(path, sa)) != OL_OK)
			return r;
	}
	if (e == EACCES || e == EROFS || e == EPERM) {
		ol_log(OL_LOG_CRITICAL, "cannot create socket %s: its directory "
		    "is not writable (%s)", path, strerror(e));
		return OL_ERR_PERMISSION;
	}
	ol_log(OL_LOG_CRITICAL, "cannot bind %s: %s", path, strerror(e));
	return e == EADDRINUSE ? OL_ERR_BUSY : OL_ERR_IO;
}

/* A regular file of mode mode holding text (NULL: empty); O_NOFOLLOW:
 * never through a symbolic link. */
static int
write_file(const char *path, mode_t mode, const char *text)
{
	struct stat st;
	size_t len = text == NULL ? 0 : strlen(text);
	int fd, r = OL_ERR_IO;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC,
	    mode);
	if (fd == -1) {
		ol_log(OL_LOG_CRITICAL, "cannot create %s: %s", path,
		    strerror(errno));
		return errno == EACCES ? OL_ERR_PERMISSION : OL_ERR_IO;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		ol_log(OL_LOG_CRITICAL, "%s is not a regular file", path);
		goto fail;
	}
	/* umask may have cleared bits, an old file may have others */
	if (fchmod(fd, mode) == -1) {
		ol_log(OL_LOG_CRITICAL, "cannot set the mode of %s: %s", path,
		    strerror(errno));
		goto fail;
	}
	if (len > 0 && write(fd, text, len) != (ssize_t)len) {
		ol_log(OL_LOG_CRITICAL, "cannot write %s", path);
		goto fail;
	}
	r = OL_OK;
fail:
	close(fd);
	return r;
}

static int
serial_valid(const char *serial)
{
	size_t i, len = strlen(serial);

	if (len == 0 || len > SERIAL_MAX)
		return 0;
	for (i = 0; i < len; i++)
		if (serial[i] <= ' ' || serial[i] > '~')
			return 0;
	return 1;
}

static void
remove_files(sim_server_t *srv)
{
	struct stat st;

	/* only our socket: a successor may have replaced it */
	if (srv->path != NULL && lstat(srv->path, &st) == 0 &&
	    st.st_dev == srv->sock_dev && st.st_ino == srv->sock_ino)
		unlink(srv->path);
	if (srv->lock_path != NULL)
		unlink(srv->lock_path);
	if (srv->serial_path != NULL)
		unlink(srv->serial_path);
	free(srv->path);
	free(srv->lock_path);
	free(srv->serial_path);
	srv->path = srv->lock_path = srv->serial_path = NULL;
}

int
sim_server_listen(sim_server_t *srv, const char *path, const char *serial)
{
	struct sockaddr_un sa;
	struct stat st;
	char *line = NULL;
	size_t len;
	int fd = -1, bound = 0, r = OL_ERR_ARG;

	if (srv == NULL || path == NULL || serial == NULL ||
	    srv->listen_fd != -1 || srv->path != NULL)
		return OL_ERR_ARG;
	len = strlen(path);
	if (len == 0 || len >= sizeof(sa.sun_path)) {
		ol_log(OL_LOG_CRITICAL, "socket path must be 1 to %zu bytes: "
		    "%s", sizeof(sa.sun_path) - 1, path);
		goto fail;
	}
	if (!serial_valid(serial)) {
		ol_log(OL_LOG_CRITICAL, "serial must be 1 to %d printable "
		    "ASCII characters without spaces", SERIAL_MAX);
		goto fail;
	}
	r = OL_ERR_NOMEM;
	if ((srv->path = strdup(path)) == NULL ||
	    (srv->lock_path = path_with_suffix(path, ".lock")) == NULL ||
	    (srv->serial_path = path_with_suffix(path, ".serial")) == NULL ||
	    (line = path_with_suffix(serial, "\n")) == NULL)
		goto fail;
	if ((r = check_directory(path)) != OL_OK)
		goto fail;
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, path, len + 1);
	r = OL_ERR_IO;
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1) {
		ol_log(OL_LOG_CRITICAL, "socket: %s", strerror(errno));
		goto fail;
	}
	if ((r = bind_socket(fd, path, &sa)) != OL_OK)
		goto fail;
	bound = 1;
	r = OL_ERR_IO;
	if (lstat(path, &st) == -1)
		goto fail;
	srv->sock_dev = st.st_dev;
	srv->sock_ino = st.st_ino;
	/* the files before listen(): a client that can connect finds them */
	if ((r = write_file(srv->lock_path, 0660, NULL)) != OL_OK ||
	    (r = write_file(srv->serial_path, 0644, line)) != OL_OK)
		goto fail;
	r = OL_ERR_IO;
	if (listen(fd, SOMAXCONN) == -1) {
		ol_log(OL_LOG_CRITICAL, "listen on %s: %s", path,
		    strerror(errno));
		goto fail;
	}
	srv->listen_fd = fd;
	fd = -1;
	ol_log(OL_LOG_INFO, "listening on %s (serial %s)", path, serial);
	r = OL_OK;
fail:
	if (fd != -1)
		close(fd);
	if (r != OL_OK) {
		if (bound)
			remove_files(srv);
		free(srv->path);
		free(srv->lock_path);
		free(srv->serial_path);
		srv->path = srv->lock_path = srv->serial_path = NULL;
	}
	free(line);
	return r;
}

/* --- the loop ------------------------------------------------------------ */

static void
accept_clients(sim_server_t *srv)
{
	int fd;

	for (;;) {
		fd = accept4(srv->listen_fd, NULL, NULL,
		    SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd != -1) {
			sim_server_add_client(srv, fd);
			continue;
		}
		if (errno == EINTR || errno == ECONNABORTED)
			continue;
		if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
		    errno == ENOMEM) {
			ol_log(OL_LOG_CRITICAL, "accept: %s; pausing",
			    strerror(errno));
			srv->accept_resume = ol_now_ms() + ACCEPT_PAUSE_MS;
		} else if (errno != EAGAIN && errno != EWOULDBLOCK) {
			ol_log(OL_LOG_CRITICAL, "accept: %s", strerror(errno));
		}
		return;
	}
}

static int
input_ready(const sim_server_t *srv)
{
	return srv->hooks.ready == NULL || srv->hooks.ready(srv->hooks.arg);
}

static int
grow_pollfds(sim_server_t *srv, size_t n)
{
	struct pollfd *p;

	if (n <= srv->pfd_cap)
		return OL_OK;
	if ((p = reallocarray(srv->pfd, n, sizeof(*p))) == NULL)
		return OL_ERR_NOMEM;
	srv->pfd = p;
	srv->pfd_cap = n;
	return OL_OK;
}

/* Layout: [listener] [watches...] [clients...]; returns the count. */
static size_t
fill_pollfds(sim_server_t *srv, int64_t now, int64_t *timeout_us)
{
	size_t i, n = 0;
	int accepting, ready = input_ready(srv);
	struct client *c;

	accepting = srv->listen_fd != -1 && now >= srv->accept_resume;
	srv->pfd[n].fd = accepting ? srv->listen_fd : -1;
	srv->pfd[n++].events = POLLIN;
	if (srv->listen_fd != -1 && !accepting &&
	    (*timeout_us < 0 || (srv->accept_resume - now) * 1000 < *timeout_us))
		*timeout_us = (srv->accept_resume - now) * 1000;
	for (i = 0; i < srv->nwatches; i++) {
		srv->pfd[n].fd = srv->watches[i].fd;
		srv->pfd[n++].events = POLLIN;
	}
	for (i = 0; i < srv->nclients; i++) {
		c = srv->clients[i];
		srv->pfd[n].fd = c->fd;
		srv->pfd[n].events = (short)((ready ? POLLIN : 0) |
		    (c->count > 0 || c->drain_answer ? POLLOUT : 0));
		srv->pfd[n++].revents = 0;
	}
	return n;
}

static void
service_client(sim_server_t *srv, struct client *c, short revents)
{
	ssize_t n;

	if (revents & (POLLERR | POLLNVAL)) {
		c->dead = 1;
		return;
	}
	if (revents & POLLOUT)
		client_flush(c);
	if ((revents & POLLIN) && input_ready(srv)) {
		n = client_read(srv, c);
		if (n == 0 && (revents & POLLHUP))
			c->dead = 1;
		else if (n == 0)
			ol_log(OL_LOG_INFO, "client %u: empty datagram ignored",
			    c->id);
	} else if (revents & POLLHUP) {
		/* closed, and the device takes no input now: what it wrote
		 * last is lost, as with a host that closes its handle */
		c->dead = 1;
	}
}

int
sim_server_run_once(sim_server_t *srv, int64_t timeout_us)
{
	size_t i, n, first_client;
	int64_t now = ol_now_ms();
	struct timespec ts;
	int rc;

	if (srv == NULL)
		return OL_ERR_ARG;
	if (grow_pollfds(srv, 1 + srv->nwatches + srv->nclients) != OL_OK)
		return OL_ERR_NOMEM;
	n = fill_pollfds(srv, now, &timeout_us);
	first_client = 1 + srv->nwatches;
	if ((rc = ppoll(srv->pfd, n, ol_us_to_timespec(timeout_us, &ts),
	    NULL)) == -1) {
		if (errno == EINTR)
			return OL_OK;
		ol_log(OL_LOG_CRITICAL, "poll: %s", strerror(errno));
		return OL_ERR_IO;
	}
	for (i = 1; i < first_client; i++)
		if (srv->pfd[i].revents != 0)
			srv->watches[i - 1].cb(srv->watches[i - 1].arg);
	/* the client array is unchanged since fill_pollfds(): accepting
	 * and removal come after */
	for (i = first_client; i < n; i++)
		if (srv->pfd[i].revents != 0)
			service_client(srv, srv->clients[i - first_client],
			    srv->pfd[i].revents);
	if (srv->pfd[0].revents & POLLIN)
		accept_clients(srv);
	remove_dead_clients(srv);
	return OL_OK;
}

int
sim_server_watch(sim_server_t *srv, int fd, sim_server_watch_cb *cb,
    void *arg)
{
	if (srv == NULL || fd < 0 || cb == NULL ||
	    srv->nwatches == SIM_SERVER_MAX_WATCH)
		return OL_ERR_ARG;
	srv->watches[srv->nwatches].fd = fd;
	srv->watches[srv->nwatches].cb = cb;
	srv->watches[srv->nwatches].arg = arg;
	srv->nwatches++;
	return OL_OK;
}

int
sim_server_new(const struct sim_server_hooks *hooks, sim_server_t **out)
{
	sim_server_t *srv;

	if (out == NULL)
		return OL_ERR_ARG;
	*out = NULL;
	if (hooks == NULL || hooks->report == NULL)
		return OL_ERR_ARG;
	if ((srv = calloc(1, sizeof(*srv))) == NULL)
		return OL_ERR_NOMEM;
	srv->hooks = *hooks;
	srv->listen_fd = -1;
	srv->truesize = measure_truesize();
	if (srv->truesize == 0)
		ol_log(OL_LOG_INFO, "SIOCOUTQ unusable: a client may hold a "
		    "few more unread reports than hidraw allows");
	*out = srv;
	return OL_OK;
}

void
sim_server_free(sim_server_t **srvp)
{
	sim_server_t *srv;
	size_t i;

	if (srvp == NULL || (srv = *srvp) == NULL)
		return;
	for (i = 0; i < srv->nclients; i++)
		client_free(srv->clients[i]);
	free(srv->clients);
	if (srv->listen_fd != -1)
		close(srv->listen_fd);
	remove_files(srv);
	free(srv->pfd);
	free(srv);
	*srvp = NULL;
}
