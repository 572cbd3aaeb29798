/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The simulator's flash: bounded whole-file reads, atomic durable
 * replacement (sim_flash.h).  Every buffer that held file contents is
 * wiped before it is freed: the files hold keys and PIN hashes.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ol_err.h"
#include "ol_log.h"
#include "sim_flash.h"

static int
errno_to_err(int e)
{
	switch (e) {
	case ENOENT:
		return OL_ERR_NO_DEVICE;
	case EACCES:
	case EPERM:
	case EROFS:
		return OL_ERR_PERMISSION;
	case ENOMEM:
		return OL_ERR_NOMEM;
	default:
		return OL_ERR_IO;
	}
}

int
sim_flash_read(const char *path, size_t max, uint8_t **out, size_t *len,
    const char **why)
{
	struct stat sb;
	uint8_t *buf = NULL;
	size_t cap = 0, got = 0;
	ssize_t n;
	int fd, r, e = 0;

	*why = "open";
	if (path == NULL || out == NULL || len == NULL)
		return OL_ERR_ARG;
	/* O_NONBLOCK: a FIFO at path must not hang the simulator's start */
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)) ==
	    -1)
		return errno_to_err(errno);
	if (fstat(fd, &sb) == -1) {
		e = errno;
		r = errno_to_err(e);
		*why = "fstat";
		goto out;
	}
	r = OL_ERR_IO;
	*why = "not a regular file";
	if (!S_ISREG(sb.st_mode))
		goto out;
	r = OL_ERR_PROTOCOL;
	*why = "over the size limit, not a state file";
	if ((uint64_t)sb.st_size > (uint64_t)max)
		goto out;
	/* one byte more than fstat said, to notice a file that grows */
	cap = (size_t)sb.st_size + 1;
	r = OL_ERR_NOMEM;
	*why = "out of memory";
	if ((buf = malloc(cap)) == NULL)
		goto out;
	for (;;) {
		n = read(fd, buf + got, cap - got);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			e = errno;
			r = errno_to_err(e);
			*why = "read";
			goto out;
		}
		if (n == 0)
			break;
		got += (size_t)n;
		if (got == cap) {
			r = OL_ERR_IO;
			*why = "changed while being read";
			goto out;
		}
	}
	*out = buf;
	*len = got;
	buf = NULL;
	*why = NULL;
	r = OL_OK;
out:
	if (buf != NULL) {
		explicit_bzero(buf, cap);
		free(buf);
	}
	close(fd);
	errno = e;
	return r;
}

void
sim_flash_log_read_error(const char *what, const char *path, int r,
    const char *why, size_t max)
{
	int e = errno;

	if (r == OL_ERR_PROTOCOL)
		ol_log(OL_LOG_CRITICAL, "%s %s: over %zu bytes, not a state "
		    "file", what, path, max);
	else if (r != OL_ERR_NO_DEVICE)
		ol_log(OL_LOG_CRITICAL, "%s %s: %s%s%s", what, path,
		    why != NULL ? why : ol_strerror(r), e != 0 ? ": " : "",
		    e != 0 ? strerror(e) : "");
}

static int
write_all(int fd, const uint8_t *p, size_t n)
{
	ssize_t w;

	while (n > 0) {
		w = write(fd, p, n);
		if (w == -1 && errno == EINTR)
			continue;
		if (w == -1)
			return -1;
		if (w == 0) { /* cannot happen for a regular file; no spin */
			errno = EIO;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* The directory part of path ("." for a bare name), malloc'd. */
static char *
dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *d;
	size_t n;

	if (slash == NULL)
		return strdup(".");
	n = slash == path ? 1 : (size_t)(slash - path); /* "/x" -> "/" */
	if ((d = malloc(n + 1)) == NULL)
		return NULL;
	memcpy(d, path, n);
	d[n] = '\0';
	return d;
}

/*
 * The rename makes the new file visible atomically; the directory fsync
 * makes the rename itself survive a power cut.
 */
static int
sync_dir(const char *path, const char **why)
{
	char *dir;
	int fd, r = OL_OK, e = 0;

	*why = "out of memory";
	if ((dir = dir_of(path)) == NULL)
		return OL_ERR_NOMEM;
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1) {
		e = errno;
		r = errno_to_err(e);
		*why = "open the directory to sync it (the file is saved)";
	} else {
		if (fsync(fd) == -1 && errno != EINVAL) {
			e = errno;
			r = OL_ERR_IO;
			*why = "fsync of the directory (the file is saved)";
		}
		close(fd);
	}
	free(dir);
	errno = e;
	return r;
}

int
sim_flash_write(const char *path, const uint8_t *buf, size_t len,
    const char **why)
{
	static const char suffix[] = ".tmp.XXXXXX";
	char *tmp = NULL;
	size_t plen;
	int fd = -1, r = OL_ERR_NOMEM, e = ENOMEM;

	*why = "out of memory";
	if (path == NULL || *path == '\0' || (buf == NULL && len > 0))
		return OL_ERR_ARG;
	plen = strlen(path);
	if ((tmp = malloc(plen + sizeof(suffix))) == NULL)
		goto out;
	memcpy(tmp, path, plen);
	memcpy(tmp + plen, suffix, sizeof(suffix));
	*why = "create a temporary file";
	if ((fd = mkostemp(tmp, O_CLOEXEC)) == -1) {
		free(tmp);
		tmp = NULL; /* nothing to remove */
		goto fail;
	}
	/* mkostemp's 0600 is subject to the umask; secrets: exactly 0600 */
	*why = "chmod";
	if (fchmod(fd, S_IRUSR | S_IWUSR) == -1)
		goto fail;
	*why = "write";
	if (write_all(fd, buf, len) == -1)
		goto fail;
	*why = "fsync";
	if (fsync(fd) == -1)
		goto fail;
	*why = "close";
	r = close(fd);
	fd = -1;
	if (r == -1)
		goto fail;
	*why = "rename";
	if (rename(tmp, path) == -1)
		goto fail;
	free(tmp);
	tmp = NULL;
	/* the new file is in place; a failure here only risks durability */
	r = sync_dir(path, why);
	e = errno;
	if (r == OL_OK)
		*why = NULL;
	goto out;
fail:
	e = errno;
	r = errno_to_err(e);
	if (r == OL_ERR_NO_DEVICE)
		r = OL_ERR_IO; /* a missing directory: not "no such device" */
out:
	if (fd != -1)
		close(fd);
	if (tmp != NULL) {
		(void)unlink(tmp);
		free(tmp);
	}
	errno = e;
	return r;
}
