/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * /proc/locks lines look like
 *   1: FLOCK  ADVISORY  WRITE 23658 fe:00:10952723 0 EOF
 *   1: -> FLOCK  ADVISORY  WRITE 23700 fe:00:10952723 0 EOF
 * (the second a blocked waiter); the device is "%02x:%02x:%lu", major and
 * minor in hex.  Each line is copied into a bounded buffer and split into
 * at most 8 fields before any is read.
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
#include <sys/sysmacros.h>
#include <unistd.h>

#include "printable.h"
#include "proc_locks.h"

#define MAX_FIELDS 8
#define PROC_LOCKS_READ_MAX (256 * 1024)

/* Splits line (NUL-terminated, modified) at blanks; returns the count. */
static int
split(char *line, char *field[MAX_FIELDS])
{
	char *save = NULL, *tok;
	int n = 0;

	for (tok = strtok_r(line, " \t", &save); tok != NULL && n < MAX_FIELDS;
	    tok = strtok_r(NULL, " \t", &save))
		field[n++] = tok;
	return n;
}

/* "fe:00:10952723" -> its parts; 0 if the field is anything else */
static int
parse_file_id(const char *s, unsigned long *maj, unsigned long *min,
    unsigned long long *ino)
{
	char *end;

	errno = 0;
	*maj = strtoul(s, &end, 16);
	if (end == s || *end != ':' || errno != 0)
		return 0;
	s = end + 1;
	*min = strtoul(s, &end, 16);
	if (end == s || *end != ':' || errno != 0)
		return 0;
	s = end + 1;
	*ino = strtoull(s, &end, 10);
	return end != s && *end == '\0' && errno == 0;
}

int
ol_proc_locks_flock_holder(const char *text, size_t len, unsigned long major,
    unsigned long minor, unsigned long long inode, long *pid)
{
	char line[OL_PROC_LOCKS_LINE_MAX], *field[MAX_FIELDS], *end;
	unsigned long maj, min;
	unsigned long long ino;
	size_t off = 0, n;
	const char *nl;
	long p;
	int nf;

	if (text == NULL || pid == NULL)
		return 0;
	while (off < len) {
		nl = memchr(text + off, '\n', len - off);
		n = (nl != NULL ? (size_t)(nl - text) : len) - off;
		if (n < sizeof(line)) {
			memcpy(line, text + off, n);
			line[n] = '\0';
			nf = split(line, field);
			/* N: FLOCK ADVISORY WRITE PID MAJ:MIN:INO START END */
			if (nf >= 6 && strcmp(field[1], "FLOCK") == 0 &&
			    strcmp(field[3], "WRITE") == 0 &&
			    parse_file_id(field[5], &maj, &min, &ino) &&
			    maj == major && min == minor && ino == inode) {
				errno = 0;
				p = strtol(field[4], &end, 10);
				if (end != field[4] && *end == '\0' &&
				    errno == 0 && p > 0) {
					*pid = p;
					return 1;
				}
			}
		}
		off += n + 1;
	}
	return 0;
}

/* Reads a small /proc file whole, at most cap - 1 bytes; the length. */
static size_t
read_proc(const char *path, char *buf, size_t cap)
{
	size_t len = 0;
	ssize_t n;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return 0;
	while (len < cap - 1) {
		n = read(fd, buf + len, cap - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	buf[len] = '\0';
	return len;
}

void
ol_proc_locks_describe_holder(int fd, char *out, size_t cap)
{
	char path[64], comm[OL_PROC_COMM_MAX], *text = NULL;
	struct stat st;
	size_t len;
	long pid;

	if (out == NULL || cap == 0)
		return;
	out[0] = '\0';
	if (fstat(fd, &st) != 0 ||
	    (text = malloc(PROC_LOCKS_READ_MAX)) == NULL)
		goto out;
	len = read_proc("/proc/locks", text, PROC_LOCKS_READ_MAX);
	/* a device node's lock is on the node's inode, in devtmpfs */
	if (!ol_proc_locks_flock_holder(text, len, major(st.st_dev),
	    minor(st.st_dev), (unsigned long long)st.st_ino, &pid))
		goto out;
	snprintf(path, sizeof(path), "/proc/%ld/comm", pid);
	len = read_proc(path, comm, sizeof(comm));
	while (len > 0 && (comm[len - 1] == '\n' || comm[len - 1] == '\r'))
		comm[--len] = '\0';
	ol_make_printable(comm, 1);
	snprintf(out, cap, "%s (pid %ld)", len > 0 ? comm : "?", pid);
out:
	free(text);
}
