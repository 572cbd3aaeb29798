/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The hidg backend: /dev/hidgN of a configfs f_hid function, non-blocking,
 * in one poll() loop with the simulator's other fds.  What f_hid does,
 * and so what this file expects (drivers/usb/gadget/function/f_hid.c):
 *
 * - read() gives at most one OUT transfer, here one 64-byte report; EAGAIN
 *   when none is waiting (also while no host is connected).
 * - write() queues one IN transfer; EAGAIN while the previous one has not
 *   been taken by the host (POLLOUT comes back when it is); ESHUTDOWN
 *   when no host has configured the function (not connected yet, or the
 *   gadget unbound from its UDC).  POLLOUT is set in that state too, so a
 *   write is how "no host" is found out.
 * - Unbinding leaves the node in place; after a new bind it works again.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ol_err.h"
#include "ol_log.h"
#include "sim_hidg.h"
#include "timeutil.h"

struct watch {
	int fd;
	sim_hidg_watch_cb *cb;
	void *arg;
};

struct sim_hidg {
	struct sim_hidg_hooks hooks;
	int fd;              /* read; also written unless wfd differs */
	int wfd;
	uint8_t q[SIM_HIDG_QUEUE][CTAPHID_REPORT_LEN];
	size_t q_head;
	size_t q_len;
	unsigned long dropped;
	int no_host;         /* the last write said ESHUTDOWN (or alike) */
	int queue_full;      /* logged once per episode */
	struct watch watches[SIM_HIDG_MAX_WATCH];
	size_t nwatches;
	struct pollfd pfd[2 + SIM_HIDG_MAX_WATCH];
};

static size_t
q_free(const sim_hidg_t *hg)
{
	return SIM_HIDG_QUEUE - hg->q_len;
}

static void
q_pop(sim_hidg_t *hg)
{
	explicit_bzero(hg->q[hg->q_head], CTAPHID_REPORT_LEN);
	hg->q_head = (hg->q_head + 1) % SIM_HIDG_QUEUE;
	hg->q_len--;
}

/* No host: what waits was for a host that is gone (a new one starts
 * with INIT), so it is dropped rather than kept for whoever comes. */
static void
host_gone(sim_hidg_t *hg, int err)
{
	size_t n = hg->q_len;

	while (hg->q_len > 0)
		q_pop(hg);
	hg->dropped += n;
	if (!hg->no_host)
		ol_log(OL_LOG_INFO, "hidg: no USB host (%s): input reports are "
		    "dropped until one configures the gadget", strerror(err));
	if (n > 0)
		ol_log(OL_LOG_COMM, "hidg: %zu input report%s dropped", n,
		    n == 1 ? "" : "s");
	hg->no_host = 1;
}

static void
host_back(sim_hidg_t *hg)
{
	if (hg->no_host)
		ol_log(OL_LOG_INFO, "hidg: USB host connected");
	hg->no_host = 0;
}

/* Writes queued reports until the node would block.  Never fails: a
 * write error means no host (see host_gone()). */
static void
flush(sim_hidg_t *hg)
{
	ssize_t n;

	while (hg->q_len > 0) {
		n = write(hg->wfd, hg->q[hg->q_head], CTAPHID_REPORT_LEN);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;  /* the host has not taken the last one yet */
		if (n == -1) {
			host_gone(hg, errno);
			return;
		}
		if (n != CTAPHID_REPORT_LEN)
			ol_log(OL_LOG_CRITICAL, "hidg: short write, %zd of %d "
			    "bytes (is report_length 64?)", n,
			    CTAPHID_REPORT_LEN);
		host_back(hg);
		q_pop(hg);
	}
}

void
sim_hidg_send(sim_hidg_t *hg, const uint8_t report[CTAPHID_REPORT_LEN])
{
	size_t slot;

	if (hg == NULL || report == NULL)
		return;
	if (q_free(hg) == 0) {
		/* the host stopped polling the IN endpoint (nobody has the
		 * hidraw node open) while the device kept talking */
		hg->dropped++;
		if (!hg->queue_full)
			ol_log(OL_LOG_CRITICAL, "hidg: %d input reports wait "
			    "for the host: new ones are dropped",
			    SIM_HIDG_QUEUE);
		hg->queue_full = 1;
		return;
	}
	hg->queue_full = 0;
	slot = (hg->q_head + hg->q_len) % SIM_HIDG_QUEUE;
	memcpy(hg->q[slot], report, CTAPHID_REPORT_LEN);
	hg->q_len++;
	flush(hg);
}

int
sim_hidg_ready(const sim_hidg_t *hg)
{
	return hg != NULL && q_free(hg) >= SIM_HIDG_READY_FREE;
}

static int
device_ready(const sim_hidg_t *hg)
{
	if (!sim_hidg_ready(hg))
		return 0;
	return hg->hooks.ready == NULL || hg->hooks.ready(hg->hooks.arg);
}

size_t
sim_hidg_queued(const sim_hidg_t *hg)
{
	return hg == NULL ? 0 : hg->q_len;
}

unsigned long
sim_hidg_dropped(const sim_hidg_t *hg)
{
	return hg == NULL ? 0 : hg->dropped;
}

/* Reads output reports while there are some and the device takes them.
 * OL_OK, or OL_ERR_IO when the node fails. */
static int
read_reports(sim_hidg_t *hg)
{
	uint8_t buf[CTAPHID_REPORT_LEN + 1];
	ssize_t n;
	int i;

	for (i = 0; i < SIM_HIDG_READ_BURST && device_ready(hg); i++) {
		n = read(hg->fd, buf, sizeof(buf));
		if (n == -1 && errno == EINTR) {
			i--;
			continue;
		}
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return OL_OK;
		if (n == -1 && errno == ESHUTDOWN) {
			host_gone(hg, errno);
			return OL_OK;
		}
		if (n == -1) {
			ol_log(OL_LOG_CRITICAL, "hidg: read: %s", strerror(errno));
			return OL_ERR_IO;
		}
		if (n == 0) {
			ol_log(OL_LOG_CRITICAL, "hidg: the gadget node was "
			    "closed (end of file)");
			return OL_ERR_IO;
		}
		host_back(hg);
		if (n != CTAPHID_REPORT_LEN) {
			/* f_hid hands over what the host sent: a host that
			 * writes another length has another descriptor */
			ol_log(OL_LOG_INFO, "hidg: output report of %zd bytes "
			    "ignored (want %d)", n, CTAPHID_REPORT_LEN);
			continue;
		}
		hg->hooks.report(hg->hooks.arg, buf);
		explicit_bzero(buf, sizeof(buf));
	}
	return OL_OK;
}

int
sim_hidg_watch(sim_hidg_t *hg, int fd, sim_hidg_watch_cb *cb, void *arg)
{
	if (hg == NULL || fd < 0 || cb == NULL ||
	    hg->nwatches == SIM_HIDG_MAX_WATCH)
		return OL_ERR_ARG;
	hg->watches[hg->nwatches].fd = fd;
	hg->watches[hg->nwatches].cb = cb;
	hg->watches[hg->nwatches].arg = arg;
	hg->nwatches++;
	return OL_OK;
}

/* Layout: [read fd] [write fd if separate] [watches...] */
int
sim_hidg_run_once(sim_hidg_t *hg, int64_t timeout_us)
{
	struct timespec ts;
	size_t i, n = 0, first_watch;
	short rev, wrev;
	int r;

	if (hg == NULL)
		return OL_ERR_ARG;
	hg->pfd[n].fd = hg->fd;
	hg->pfd[n].events = device_ready(hg) ? POLLIN : 0;
	if (hg->wfd == hg->fd && hg->q_len > 0)
		hg->pfd[n].events |= POLLOUT;
	n++;
	if (hg->wfd != hg->fd) {
		hg->pfd[n].fd = hg->wfd;
		hg->pfd[n].events = hg->q_len > 0 ? POLLOUT : 0;
		n++;
	}
	first_watch = n;
	for (i = 0; i < hg->nwatches; i++, n++) {
		hg->pfd[n].fd = hg->watches[i].fd;
		hg->pfd[n].events = POLLIN;
	}
	for (i = 0; i < n; i++)
		hg->pfd[i].revents = 0;
	if (ppoll(hg->pfd, n, ol_us_to_timespec(timeout_us, &ts), NULL) == -1) {
		if (errno == EINTR)
			return OL_OK;
		ol_log(OL_LOG_CRITICAL, "poll: %s", strerror(errno));
		return OL_ERR_IO;
	}
	rev = hg->pfd[0].revents;
	wrev = hg->wfd == hg->fd ? rev : hg->pfd[1].revents;
	if ((rev | wrev) & POLLNVAL) {
		ol_log(OL_LOG_CRITICAL, "hidg: the gadget node is not open");
		return OL_ERR_IO;
	}
	for (i = first_watch; i < n; i++)
		if (hg->pfd[i].revents != 0)
			hg->watches[i - first_watch].cb(
			    hg->watches[i - first_watch].arg);
	if (wrev & (POLLOUT | POLLERR | POLLHUP))
		flush(hg);
	/* f_hid never reports POLLHUP; a stand-in (socket, pipe) does when
	 * its other end is gone, with POLLIN if a read would say so */
	if ((rev & POLLHUP) && !(rev & POLLIN)) {
		ol_log(OL_LOG_CRITICAL, "hidg: the other end hung up");
		return OL_ERR_IO;
	}
	if ((rev & (POLLIN | POLLERR)) &&
	    (r = read_reports(hg)) != OL_OK)
		return r;
	/* what the reports just read made the device say */
	flush(hg);
	return OL_OK;
}

int
sim_hidg_new(int fd, int wfd, const struct sim_hidg_hooks *hooks,
    sim_hidg_t **out)
{
	sim_hidg_t *hg;
	int fl;

	if (wfd == -1)
		wfd = fd;
	if (out != NULL)
		*out = NULL;
	if (out == NULL || fd < 0 || hooks == NULL || hooks->report == NULL)
		goto fail;
	if ((hg = calloc(1, sizeof(*hg))) == NULL) {
		if (fd >= 0)
			close(fd);
		if (wfd != fd && wfd >= 0)
			close(wfd);
		return OL_ERR_NOMEM;
	}
	hg->hooks = *hooks;
	hg->fd = fd;
	hg->wfd = wfd;
	if ((fl = fcntl(fd, F_GETFL)) == -1 ||
	    fcntl(fd, F_SETFL, fl | O_NONBLOCK) == -1 ||
	    (wfd != fd && ((fl = fcntl(wfd, F_GETFL)) == -1 ||
	    fcntl(wfd, F_SETFL, fl | O_NONBLOCK) == -1))) {
		ol_log(OL_LOG_CRITICAL, "hidg: fcntl: %s", strerror(errno));
		sim_hidg_free(&hg);
		return OL_ERR_IO;
	}
	*out = hg;
	return OL_OK;
fail:
	if (fd >= 0)
		close(fd);
	if (wfd != fd && wfd >= 0)
		close(wfd);
	return OL_ERR_ARG;
}

int
sim_hidg_open(const char *path, const struct sim_hidg_hooks *hooks,
    sim_hidg_t **out)
{
	struct stat st;
	int fd, e;

	if (out != NULL)
		*out = NULL;
	if (path == NULL || out == NULL)
		return OL_ERR_ARG;
	if ((fd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC | O_NOCTTY)) ==
	    -1) {
		e = errno;
		ol_log(OL_LOG_CRITICAL, "hidg: cannot open %s: %s%s", path,
		    strerror(e), e == ENOENT ? " (is the gadget's hid "
		    "function created and usb_f_hid loaded?)" : "");
		if (e == ENOENT || e == ENODEV || e == ENXIO)
			return OL_ERR_NO_DEVICE;
		if (e == EACCES || e == EPERM)
			return OL_ERR_PERMISSION;
		return OL_ERR_IO;
	}
	if (fstat(fd, &st) == -1 || !S_ISCHR(st.st_mode)) {
		ol_log(OL_LOG_CRITICAL, "hidg: %s is not a character device "
		    "(a /dev/hidgN node)", path);
		close(fd);
		return OL_ERR_ARG;
	}
	ol_log(OL_LOG_INFO, "hidg: serving %s", path);
	return sim_hidg_new(fd, -1, hooks, out);
}

void
sim_hidg_free(sim_hidg_t **hgp)
{
	sim_hidg_t *hg;

	if (hgp == NULL || (hg = *hgp) == NULL)
		return;
	if (hg->wfd != hg->fd && hg->wfd >= 0)
		close(hg->wfd);
	if (hg->fd >= 0)
		close(hg->fd);
	explicit_bzero(hg, sizeof(*hg));
	free(hg);
	*hgp = NULL;
}
