/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A HID handle moving 64-byte reports over a hidraw node or over the
 * simulator's SOCK_SEQPACKET socket.  Only opening differs; reading,
 * writing, draining and locking are the same code for both.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <linux/hidraw.h>

#include "dev_lock.h"
#include "hid_dev.h"
#include "printable.h"
#include "sim_socket.h"
#include "sysfs.h"
#include "ol_err.h"
#include "ol_log.h"
#include "timeutil.h"

#define SERIAL_MAX 128
#define SIM_DRAIN_TIMEOUT_MS 1000

struct ol_hid {
	int io_fd;       /* hidraw node or connected socket */
	int lock_fd;     /* flock target: the node itself, or PATH.lock */
	ol_devlock_t *lock;   /* on lock_fd; NULL without one */
	int is_socket;        /* the simulator: no SIGPIPE on its exit */
	int sim_drain;        /* the simulator answers DRAIN (sim_socket.h) */
	char *name;
	char serial[SERIAL_MAX];
};

static int
errno_to_err(int e)
{
	switch (e) {
	case ENOENT:
	case ENXIO:
	case ECONNREFUSED:
	case ENOTDIR:
		return OL_ERR_NO_DEVICE;
	case EACCES:
	case EPERM:
		return OL_ERR_PERMISSION;
	case ENODEV:
	case EPIPE:
	case ECONNRESET:
	case ENOTCONN:
		return OL_ERR_GONE;
	case ENOMEM:
		return OL_ERR_NOMEM;
	default:
		return OL_ERR_IO;
	}
}

/* Reads the first line of a small attribute file into buf (no newline). */
static int
read_line_file(const char *path, char *buf, size_t cap)
{
	ssize_t n;
	int fd;

	if (cap == 0)
		return OL_ERR_ARG;
	buf[0] = '\0';
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) < 0)
		return errno_to_err(errno);
	n = read(fd, buf, cap - 1);
	close(fd);
	if (n < 0)
		return OL_ERR_IO;
	buf[n] = '\0';
	buf[strcspn(buf, "\r\n")] = '\0';
	return OL_OK;
}

/* hidraw: HID_UNIQ of /sys/class/hidraw/hidrawN/device/uevent is the
 * USB serial string the kernel read from the device. */
static void
hidraw_serial(const char *node, char *out, size_t cap)
{
	char dir[PATH_MAX], *uevent = NULL, *uniq;
	const char *base = strrchr(node, '/');

	out[0] = '\0';
	base = base != NULL ? base + 1 : node;
	/* on the heap: pcscd opens devices on its threads */
	if (!ol_sysfs_is_entry(base) ||
	    snprintf(dir, sizeof(dir), "/sys/class/hidraw/%s/device", base) >=
	    (int)sizeof(dir) ||
	    (uevent = malloc(2 * OL_SYSFS_ATTR_MAX)) == NULL)
		goto out;
	uniq = uevent + OL_SYSFS_ATTR_MAX;
	/* a serial longer than cap is shown cut rather than not at all */
	if (ol_sysfs_read_text(dir, "uevent", uevent, OL_SYSFS_ATTR_MAX) ==
	    OL_OK && ol_sysfs_uevent_get(uevent, "HID_UNIQ", uniq,
	    OL_SYSFS_ATTR_MAX) == OL_OK)
		snprintf(out, cap, "%s", uniq);
out:
	free(uevent);
}

static int
open_hidraw(const char *path, int *io_fd, int *lock_fd)
{
	struct hidraw_devinfo info;
	struct stat st;
	int fd;

	if ((fd = open(path, O_RDWR | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)) < 0)
		return errno == EISDIR ? OL_ERR_NO_DEVICE : errno_to_err(errno);
	/* Only a hidraw node speaks in reports: refuse files, ttys, ... */
	if (fstat(fd, &st) < 0 || !S_ISCHR(st.st_mode) ||
	    ioctl(fd, HIDIOCGRAWINFO, &info) < 0) {
		ol_log(OL_LOG_CRITICAL, "%s is not a hidraw device node", path);
		close(fd);
		return OL_ERR_NO_DEVICE;
	}
	*io_fd = fd;
	*lock_fd = -1; /* the node itself; see ol_hid_wrap_fds */
	return OL_OK;
}

static int
open_unix(const char *path, int *io_fd, int *lock_fd)
{
	struct sockaddr_un sa;
	char lock_path[PATH_MAX];
	int fd = -1, lfd = -1, r;

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (path[0] != '/' || strlen(path) >= sizeof(sa.sun_path)) {
		ol_log(OL_LOG_CRITICAL, "unix socket path must be absolute and "
		    "shorter than %zu bytes: %s", sizeof(sa.sun_path), path);
		return OL_ERR_ARG;
	}
	memcpy(sa.sun_path, path, strlen(path));

	if ((fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC |
	    SOCK_NONBLOCK, 0)) < 0) {
		r = errno_to_err(errno);
		goto fail;
	}
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		r = errno_to_err(errno);
		goto fail;
	}
	if (snprintf(lock_path, sizeof(lock_path), "%s.lock", path) >=
	    (int)sizeof(lock_path)) {
		r = OL_ERR_ARG;
		goto fail;
	}
	/* Without the lock file we still work, only without cooperation
	 * with other clients of the same simulator. */
	if ((lfd = open(lock_path, O_RDONLY | O_CLOEXEC)) < 0)
		ol_log(OL_LOG_INFO, "%s: %s; exchanges are not locked",
		    lock_path, strerror(errno));
	*io_fd = fd;
	*lock_fd = lfd;
	return OL_OK;
fail:
	if (fd >= 0)
		close(fd);
	return r;
}

int
ol_hid_wrap_fds(int io_fd, int lock_fd, const char *name, ol_hid_t **out)
{
	struct stat st;
	ol_hid_t *hid;

	if (out == NULL || io_fd < 0 || name == NULL) {
		if (io_fd >= 0)
			close(io_fd);
		if (lock_fd >= 0)
			close(lock_fd);
		return OL_ERR_ARG;
	}
	*out = NULL;
	if ((hid = calloc(1, sizeof(*hid))) == NULL ||
	    (hid->name = strdup(name)) == NULL) {
		free(hid);
		close(io_fd);
		if (lock_fd >= 0)
			close(lock_fd);
		return OL_ERR_NOMEM;
	}
	/* Non-blocking I/O: every wait goes through poll() with a timeout. */
	fcntl(io_fd, F_SETFL, fcntl(io_fd, F_GETFL) | O_NONBLOCK);
	hid->is_socket = fstat(io_fd, &st) == 0 && S_ISSOCK(st.st_mode);
	hid->io_fd = io_fd;
	hid->lock_fd = lock_fd;
	if (lock_fd >= 0 &&
	    ol_devlock_new(lock_fd, hid->name, &hid->lock) != OL_OK) {
		close(io_fd);
		close(lock_fd);
		free(hid->name);
		free(hid);
		return OL_ERR_NOMEM;
	}
	*out = hid;
	return OL_OK;
}

int
ol_hid_open(const char *name, ol_hid_t **out)
{
	const size_t plen = strlen(OL_UNIX_PREFIX);
	int io_fd = -1, lock_fd = -1, is_unix, r;
	char sock_serial[PATH_MAX];

	if (name == NULL || out == NULL)
		return OL_ERR_ARG;
	*out = NULL;
	is_unix = strncmp(name, OL_UNIX_PREFIX, plen) == 0;
	if (is_unix)
		r = open_unix(name + plen, &io_fd, &lock_fd);
	else
		r = open_hidraw(name, &io_fd, &lock_fd);
	if (r != OL_OK)
		return r; /* the caller says what to do about it */
	/* hidraw: libfido2 locks the node itself, so must we. */
	if (!is_unix && (lock_fd = dup(io_fd)) < 0) {
		close(io_fd);
		return OL_ERR_NOMEM;
	}
	if ((r = ol_hid_wrap_fds(io_fd, lock_fd, name, out)) != OL_OK)
		return r;
	if (is_unix) {
		(*out)->sim_drain = 1;
		if (snprintf(sock_serial, sizeof(sock_serial), "%s.serial",
		    name + plen) < (int)sizeof(sock_serial))
			read_line_file(sock_serial, (*out)->serial,
			    sizeof((*out)->serial));
	} else
		hidraw_serial(name, (*out)->serial, sizeof((*out)->serial));
	/* from the device, bound for logs and the reader's attributes */
	ol_make_printable((*out)->serial, 0);
	ol_log(OL_LOG_INFO, "opened %s (serial %s)", name,
	    (*out)->serial[0] ? (*out)->serial : "unknown");
	return OL_OK;
}

void
ol_hid_close(ol_hid_t **hidp)
{
	ol_hid_t *hid;

	if (hidp == NULL || (hid = *hidp) == NULL)
		return;
	/* the lock first: our own closes are nothing it must see */
	ol_devlock_free(&hid->lock);
	close(hid->io_fd);
	if (hid->lock_fd >= 0)
		close(hid->lock_fd);
	free(hid->name);
	free(hid);
	*hidp = NULL;
}

static int
read_report(ol_hid_t *hid, uint8_t report[OL_HID_REPORT_LEN], int timeout_ms,
    uint8_t buf[OL_HID_REPORT_LEN + 1])
{
	struct pollfd pfd;
	int64_t deadline = ol_now_ms() + (timeout_ms < 0 ? 0 : timeout_ms);
	ssize_t n;
	int r;

	if (hid == NULL || report == NULL)
		return OL_ERR_ARG;
	for (;;) {
		n = read(hid->io_fd, buf, OL_HID_REPORT_LEN + 1);
		if (n == OL_HID_REPORT_LEN) {
			memcpy(report, buf, OL_HID_REPORT_LEN);
			return OL_OK;
		}
		if (n == 0)
			return OL_ERR_GONE; /* socket peer closed */
		if (n > 0) {
			ol_log(OL_LOG_COMM, "%s: ignoring input report of %zd "
			    "bytes", hid->name, n);
			continue;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK) {
			/* hidraw answers EIO once the device is unplugged */
			if (errno == EIO &&
			    ol_hid_check_alive(hid) == OL_ERR_GONE)
				return OL_ERR_GONE;
			return errno_to_err(errno);
		}

		pfd.fd = hid->io_fd;
		pfd.events = POLLIN;
		pfd.revents = 0;
		r = poll(&pfd, 1, timeout_ms < 0 ? -1 : ol_ms_left(deadline));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return OL_ERR_IO;
		if (r == 0)
			return OL_ERR_TIMEOUT;
		if ((pfd.revents & (POLLHUP | POLLERR | POLLNVAL)) &&
		    !(pfd.revents & POLLIN))
			return OL_ERR_GONE;
	}
}

int
ol_hid_read(ol_hid_t *hid, uint8_t report[OL_HID_REPORT_LEN], int timeout_ms)
{
	/* One byte more than a report: a longer input report is a device
	 * that is not ours, and must not be silently truncated. */
	uint8_t buf[OL_HID_REPORT_LEN + 1];
	int r;

	r = read_report(hid, report, timeout_ms, buf);
	/* reports carry APDUs: PINs, keys, secret results */
	explicit_bzero(buf, sizeof(buf));
	return r;
}

static int
write_report(ol_hid_t *hid, const uint8_t report[OL_HID_REPORT_LEN],
    uint8_t buf[OL_HID_REPORT_LEN + 1])
{
	const size_t len = OL_HID_REPORT_LEN + 1;
	struct pollfd pfd;
	ssize_t n;

	if (hid == NULL || report == NULL)
		return OL_ERR_ARG;
	buf[0] = 0; /* report ID: the FIDO interface has none */
	memcpy(buf + 1, report, OL_HID_REPORT_LEN);
	for (;;) {
		/* A socket whose simulator exited must give EPIPE, not
		 * kill the program with SIGPIPE. */
		if (hid->is_socket)
			n = send(hid->io_fd, buf, len, MSG_NOSIGNAL);
		else
			n = write(hid->io_fd, buf, len);
		if (n == (ssize_t)len)
			return OL_OK;
		if (n >= 0)
			return OL_ERR_IO;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return errno_to_err(errno);
		/* A full socket buffer: the device is not reading; give it
		 * a moment, as a USB endpoint would NAK. */
		pfd.fd = hid->io_fd;
		pfd.events = POLLOUT;
		pfd.revents = 0;
		if (poll(&pfd, 1, 1000) <= 0)
			return OL_ERR_TIMEOUT;
		if (pfd.revents & (POLLHUP | POLLERR))
			return OL_ERR_GONE;
	}
}

int
ol_hid_write(ol_hid_t *hid, const uint8_t report[OL_HID_REPORT_LEN])
{
	uint8_t buf[OL_HID_REPORT_LEN + 1];
	int r;

	r = write_report(hid, report, buf);
	explicit_bzero(buf, sizeof(buf));
	return r;
}

/*
 * The simulator's part of draining (sim_socket.h): DRAIN, then everything
 * up to its answer is stale.  Only needed when stale reports were found:
 * the simulator keeps reports back only while the socket's queue is full.
 * A simulator that never answers is an old one: said once, not asked
 * again.  Returns the stale reports read, or an error.
 */
static int
drain_simulator(ol_hid_t *hid)
{
	static const uint8_t drain[OL_SIM_SOCKET_DRAIN_LEN] =
	    OL_SIM_SOCKET_DRAIN;
	uint8_t buf[OL_HID_REPORT_LEN + 1];
	int64_t deadline = ol_now_ms() + SIM_DRAIN_TIMEOUT_MS;
	struct pollfd pfd;
	ssize_t n;
	int count = 0, r = OL_OK;

	if (send(hid->io_fd, drain, sizeof(drain), MSG_NOSIGNAL) !=
	    (ssize_t)sizeof(drain))
		return errno == EPIPE ? OL_ERR_GONE : OL_ERR_IO;
	for (;;) {
		n = recv(hid->io_fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n == OL_SIM_SOCKET_DRAIN_LEN &&
		    memcmp(buf, drain, sizeof(drain)) == 0)
			break;
		if (n > 0) {
			/* a peer that floods and ignores DRAIN: the deadline
			 * holds here too, not only when the queue runs dry */
			if (++count % 256 == 0 && ol_ms_left(deadline) == 0) {
				ol_log(OL_LOG_INFO, "%s: the simulator keeps "
				    "sending and does not answer DRAIN",
				    hid->name);
				hid->sim_drain = 0;
				break;
			}
			continue;
		}
		if (n == 0) {
			r = OL_ERR_GONE;
			break;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK) {
			r = errno_to_err(errno);
			break;
		}
		pfd.fd = hid->io_fd;
		pfd.events = POLLIN;
		pfd.revents = 0;
		if (poll(&pfd, 1, ol_ms_left(deadline)) == 0) {
			ol_log(OL_LOG_INFO, "%s: the simulator does not "
			    "answer DRAIN (older than this driver?): stale "
			    "reports may remain", hid->name);
			hid->sim_drain = 0;
			break;
		}
	}
	explicit_bzero(buf, sizeof(buf));
	return r == OL_OK ? count : r;
}

int
ol_hid_drain(ol_hid_t *hid)
{
	uint8_t report[OL_HID_REPORT_LEN];
	int count = 0, r;

	if (hid == NULL)
		return OL_ERR_ARG;
	/* Bounded: a device flooding us must not keep us here forever. */
	while (count < 4096) {
		r = ol_hid_read(hid, report, 0);
		if (r == OL_ERR_TIMEOUT)
			break;
		if (r != OL_OK) {
			count = r;
			break;
		}
		count++;
	}
	explicit_bzero(report, sizeof(report));
	if (count > 0 && hid->is_socket && hid->sim_drain) {
		r = drain_simulator(hid);
		count = r < 0 ? r : count + r;
	}
	return count;
}

/* dev_lock.h has the rules that keep it fair */
int
ol_hid_lock(ol_hid_t *hid, int timeout_ms)
{
	if (hid == NULL)
		return OL_ERR_ARG;
	if (hid->lock == NULL)
		return OL_OK;
	return ol_devlock_acquire(hid->lock, timeout_ms);
}

void
ol_hid_unlock(ol_hid_t *hid)
{
	if (hid != NULL)
		ol_devlock_release(hid->lock);
}

int
ol_hid_check_alive(ol_hid_t *hid)
{
	struct pollfd pfd;

	if (hid == NULL)
		return OL_ERR_ARG;
	pfd.fd = hid->io_fd;
	pfd.events = POLLIN;
	pfd.revents = 0;
	if (poll(&pfd, 1, 0) < 0)
		return OL_ERR_IO;
	/* hidraw reports POLLHUP|POLLERR once the device is gone; a socket
	 * reports POLLHUP when the simulator exits. */
	if (pfd.revents & (POLLHUP | POLLERR | POLLNVAL))
		return OL_ERR_GONE;
	return OL_OK;
}

int
ol_hid_fileno(const ol_hid_t *hid)
{
	return hid != NULL ? hid->io_fd : -1;
}

const char *
ol_hid_name(const ol_hid_t *hid)
{
	return hid != NULL ? hid->name : NULL;
}

const char *
ol_hid_serial(const ol_hid_t *hid)
{
	if (hid == NULL || hid->serial[0] == '\0')
		return NULL;
	return hid->serial;
}
