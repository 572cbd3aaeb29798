/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ifd-openloop: bounded reads of sysfs attributes and walks that stay
 * below a root.  See sysfs.h.
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
#include "sysfs.h"

int
ol_sysfs_root_init(struct ol_sysfs_root *r, const char *root)
{
	if (r == NULL || root == NULL)
		return OL_ERR_ARG;
	if (realpath(root[0] != '\0' ? root : "/", r->path) == NULL) {
		r->path[0] = '\0';
		r->len = 0;
		return OL_ERR_ARG;
	}
	r->len = strlen(r->path);
	return OL_OK;
}

int
ol_sysfs_join(char *out, size_t cap, const char *a, const char *b)
{
	int n = snprintf(out, cap, "%s/%s", a, b);

	if (n < 0 || (size_t)n >= cap)
		return OL_ERR_TOO_LONG;
	return OL_OK;
}

/* path lies in the root: equal to it or below it, not beside it
 * ("/tmp/root2" is not inside "/tmp/root") */
static int
inside(const struct ol_sysfs_root *r, const char *path)
{
	if (r->len == 1) /* "/" */
		return path[0] == '/';
	return strncmp(path, r->path, r->len) == 0 &&
	    (path[r->len] == '/' || path[r->len] == '\0');
}

int
ol_sysfs_resolve(const struct ol_sysfs_root *r, const char *path, char *out)
{
	if (r == NULL || r->len == 0 || path == NULL || out == NULL)
		return OL_ERR_ARG;
	if (realpath(path, out) == NULL || !inside(r, out)) {
		out[0] = '\0';
		return OL_ERR_NO_DEVICE;
	}
	return OL_OK;
}

int
ol_sysfs_parent(const struct ol_sysfs_root *r, const char *path, char *out,
    size_t cap)
{
	const char *slash;
	size_t n;

	if (r == NULL || path == NULL || out == NULL || cap == 0)
		return OL_ERR_ARG;
	out[0] = '\0';
	if ((slash = strrchr(path, '/')) == NULL)
		return OL_ERR_NO_DEVICE;
	n = (size_t)(slash - path);
	if (n == 0)
		n = 1; /* the parent of "/x" is "/" */
	if (n >= cap)
		return OL_ERR_TOO_LONG;
	memcpy(out, path, n);
	out[n] = '\0';
	/* the parent of the root is outside it; so is the root's own
	 * parent when path is the root */
	if (strcmp(path, r->path) == 0 || !inside(r, out)) {
		out[0] = '\0';
		return OL_ERR_NO_DEVICE;
	}
	return OL_OK;
}

int
ol_sysfs_is_entry(const char *name)
{
	return name != NULL && name[0] != '\0' && strcmp(name, ".") != 0 &&
	    strcmp(name, "..") != 0 && strchr(name, '/') == NULL;
}

int
ol_sysfs_read_raw(const char *dir, const char *name, uint8_t *buf,
    size_t cap, size_t *len)
{
	char path[PATH_MAX];
	struct stat st;
	size_t got = 0;
	ssize_t n;
	uint8_t extra;
	int fd = -1, e;

	if (len != NULL)
		*len = 0;
	if (dir == NULL || name == NULL || buf == NULL || len == NULL)
		return OL_ERR_ARG;
	if ((e = ol_sysfs_join(path, sizeof(path), dir, name)) != OL_OK)
		return e;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY |
	    O_NONBLOCK)) < 0) {
		e = (errno == EACCES || errno == EPERM) ? OL_ERR_PERMISSION :
		    OL_ERR_NO_DEVICE;
		goto out;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		e = OL_ERR_NO_DEVICE;
		goto out;
	}
	/* sysfs hands attributes out in pieces (and reports a size of a
	 * page whatever they hold): read until EOF, not st_size */
	while (got < cap) {
		n = read(fd, buf + got, cap - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			e = OL_ERR_IO;
			goto out;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	/* a full buffer: more behind it is an error, not a cut value */
	if (got == cap) {
		do
			n = read(fd, &extra, 1);
		while (n < 0 && errno == EINTR);
		if (n != 0) {
			e = n > 0 ? OL_ERR_TOO_LONG : OL_ERR_IO;
			goto out;
		}
	}
	*len = got;
	e = OL_OK;
out:
	if (fd >= 0)
		close(fd);
	return e;
}

int
ol_sysfs_parse_text(const uint8_t *data, size_t len, char *out, size_t cap)
{
	if (out == NULL || cap == 0)
		return OL_ERR_ARG;
	out[0] = '\0';
	if (data == NULL && len > 0)
		return OL_ERR_ARG;
	/* the kernel never writes a NUL into a text attribute: one there
	 * would hide what follows it from every string function */
	if (len > 0 && memchr(data, '\0', len) != NULL)
		return OL_ERR_PROTOCOL;
	if (len >= cap)
		return OL_ERR_TOO_LONG;
	if (len > 0)
		memcpy(out, data, len);
	out[len] = '\0';
	return OL_OK;
}

int
ol_sysfs_parse_attr(const uint8_t *data, size_t len, char *out, size_t cap)
{
	/* the kernel ends an attribute with one newline */
	if (len > 0 && data != NULL && data[len - 1] == '\n')
		len--;
	if (len > 0 && data != NULL && memchr(data, '\n', len) != NULL) {
		if (out != NULL && cap > 0)
			out[0] = '\0';
		return OL_ERR_PROTOCOL;
	}
	return ol_sysfs_parse_text(data, len, out, cap);
}

static int
digit_value(char c, int base)
{
	int v;

	if (c >= '0' && c <= '9')
		v = c - '0';
	else if (c >= 'a' && c <= 'f')
		v = c - 'a' + 10;
	else if (c >= 'A' && c <= 'F')
		v = c - 'A' + 10;
	else
		return -1;
	return v < base ? v : -1;
}

int
ol_sysfs_parse_uint(const char *s, int base, unsigned long max,
    unsigned long *out)
{
	unsigned long v = 0;
	int d;

	/* strtoul() would take blanks, signs and octal, and wrap: by hand */
	if (s == NULL || out == NULL || (base != 10 && base != 16))
		return OL_ERR_ARG;
	if (base == 16 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		s += 2;
	if (*s == '\0')
		return OL_ERR_PROTOCOL;
	for (; *s != '\0'; s++) {
		if ((d = digit_value(*s, base)) < 0 ||
		    (unsigned long)d > max ||
		    v > (max - (unsigned long)d) / (unsigned long)base)
			return OL_ERR_PROTOCOL;
		v = v * (unsigned long)base + (unsigned long)d;
	}
	*out = v;
	return OL_OK;
}

int
ol_sysfs_uevent_get(const char *text, const char *key, char *out,
    size_t cap)
{
	size_t klen, vlen;
	const char *line, *end;

	if (text == NULL || key == NULL || out == NULL || cap == 0)
		return OL_ERR_ARG;
	out[0] = '\0';
	klen = strlen(key);
	for (line = text; *line != '\0'; line = *end != '\0' ? end + 1 : end) {
		end = strchr(line, '\n');
		if (end == NULL)
			end = line + strlen(line);
		if ((size_t)(end - line) <= klen ||
		    strncmp(line, key, klen) != 0 || line[klen] != '=')
			continue;
		vlen = (size_t)(end - line) - klen - 1;
		if (vlen >= cap)
			return OL_ERR_TOO_LONG;
		memcpy(out, line + klen + 1, vlen);
		out[vlen] = '\0';
		return OL_OK;
	}
	return OL_ERR_NO_DEVICE;
}

/* reads dir/name into a page-sized heap buffer, then parses it */
static int
read_parsed(const char *dir, const char *name, char *out, size_t cap,
    int (*parse)(const uint8_t *, size_t, char *, size_t))
{
	uint8_t *buf;
	size_t len;
	int e;

	if (out == NULL || cap == 0)
		return OL_ERR_ARG;
	out[0] = '\0';
	/* on the heap: pcscd runs the driver on small thread stacks */
	if ((buf = malloc(OL_SYSFS_ATTR_MAX)) == NULL)
		return OL_ERR_NOMEM;
	e = ol_sysfs_read_raw(dir, name, buf, OL_SYSFS_ATTR_MAX, &len);
	if (e == OL_OK)
		e = parse(buf, len, out, cap);
	free(buf);
	return e;
}

int
ol_sysfs_read_text(const char *dir, const char *name, char *out, size_t cap)
{
	return read_parsed(dir, name, out, cap, ol_sysfs_parse_text);
}

int
ol_sysfs_read_attr(const char *dir, const char *name, char *out, size_t cap)
{
	return read_parsed(dir, name, out, cap, ol_sysfs_parse_attr);
}

int
ol_sysfs_read_uint(const char *dir, const char *name, int base,
    unsigned long max, unsigned long *out)
{
	char buf[32];
	int e;

	if ((e = ol_sysfs_read_attr(dir, name, buf, sizeof(buf))) != OL_OK)
		return e;
	return ol_sysfs_parse_uint(buf, base, max, out);
}

int
ol_sysfs_read_hex(const char *dir, const char *name, unsigned long max,
    unsigned long *out)
{
	return ol_sysfs_read_uint(dir, name, 16, max, out);
}
