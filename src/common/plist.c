/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ifd-openloop: read an Info.plist the way pcscd does.
 *
 * pcscd (src/tokenparser.l) is a flex scanner, not an XML parser.  Its
 * rules, tried at every position with the longest match winning:
 *   '#' to end of line                   ignored (a "comment")
 *   <key>[A-Za-z0-9 \t]+</key>           starts a key
 *   <string>.+</string>                  greedy up to the LAST </string>
 *                                        of the line; the value is the
 *                                        text up to the FIRST '<'
 *   any other byte                       ignored
 * No token crosses a newline.  In a value, "&amp;" becomes "&" (one pass,
 * so "&amp;amp;" gives "&amp;").  A value belongs to the most recent key;
 * when a key appears twice, lookups see the last one.
 *
 * We reproduce that, so a test that reads our Info.plist here sees what
 * pcscd will see.  Where pcscd silently drops something that was meant to
 * be a key or a value (a malformed <key> line, an unterminated <string>)
 * or would crash (a value before any key), we return OL_ERR_PROTOCOL
 * instead: the plist is broken and someone must fix it.  An empty
 * <string></string> is valid XML; pcscd skips it and so do we.
 *
 * The input is a byte buffer with a length: it is never assumed to be
 * NUL-terminated, and may contain NUL bytes (a value containing one reads,
 * like in pcscd, as the C string before it).
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "plist.h"
#include "ol_err.h"

/* Far above any real bundle (libccid's has ~30 keys and ~1500 values),
 * low enough that a hostile file cannot make us allocate much. */
#define PLIST_MAX_KEYS      256
#define PLIST_MAX_VALUES    4096
#define PLIST_MAX_TOKEN     4096        /* bytes in a key or a value */
#define PLIST_MAX_FILE      (1024 * 1024)

#define TAG_KEY         "<key>"
#define TAG_KEY_END     "</key>"
#define TAG_STRING      "<string>"
#define TAG_STRING_END  "</string>"

struct plist_key {
	char *name;
	size_t first;   /* index of its first value in values[] */
	size_t count;
};

struct ol_plist {
	struct plist_key *keys;
	size_t nkeys;
	char **values;  /* a key's values are contiguous: values only ever
	                 * go to the last key */
	size_t nvalues;
	size_t values_cap;
};

static int
starts_with(const char *p, size_t avail, const char *lit)
{
	size_t n = strlen(lit);

	return avail >= n && memcmp(p, lit, n) == 0;
}

static int
is_key_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == ' ' || c == '\t';
}

static char *
dup_bytes(const char *p, size_t n)
{
	char *s;

	s = malloc(n + 1);
	if (s == NULL)
		return NULL;
	if (n > 0)
		memcpy(s, p, n);
	s[n] = '\0';
	return s;
}

/* Copies a value, turning each "&amp;" into "&" in a single pass. */
static char *
dup_value(const char *p, size_t n)
{
	char *s;
	size_t i = 0, o = 0;

	s = malloc(n + 1);
	if (s == NULL)
		return NULL;
	while (i < n) {
		if (starts_with(p + i, n - i, "&amp;")) {
			s[o++] = '&';
			i += 5;
		} else {
			s[o++] = p[i++];
		}
	}
	s[o] = '\0';
	return s;
}

static int
add_key(struct ol_plist *pl, const char *name, size_t n)
{
	struct plist_key *k;

	if (pl->nkeys == PLIST_MAX_KEYS || n > PLIST_MAX_TOKEN)
		return OL_ERR_PROTOCOL;
	/* Grown one by one: at most 256 entries, each realloc is cheap. */
	k = realloc(pl->keys, (pl->nkeys + 1) * sizeof(*k));
	if (k == NULL)
		return OL_ERR_NOMEM;
	pl->keys = k;
	k = &pl->keys[pl->nkeys];
	k->name = dup_bytes(name, n);
	if (k->name == NULL)
		return OL_ERR_NOMEM;
	k->first = pl->nvalues;
	k->count = 0;
	pl->nkeys++;
	return OL_OK;
}

static int
add_value(struct ol_plist *pl, const char *val, size_t n)
{
	char **v;
	size_t want;

	if (pl->nkeys == 0)
		return OL_ERR_PROTOCOL; /* pcscd would append to no list */
	if (pl->nvalues == PLIST_MAX_VALUES || n > PLIST_MAX_TOKEN)
		return OL_ERR_PROTOCOL;
	if (pl->nvalues == pl->values_cap) {
		want = (pl->values_cap == 0) ? 16 : pl->values_cap * 2;
		if (want > PLIST_MAX_VALUES)
			want = PLIST_MAX_VALUES;
		v = realloc(pl->values, want * sizeof(*v));
		if (v == NULL)
			return OL_ERR_NOMEM;
		pl->values = v;
		pl->values_cap = want;
	}
	pl->values[pl->nvalues] = dup_value(val, n);
	if (pl->values[pl->nvalues] == NULL)
		return OL_ERR_NOMEM;
	pl->nvalues++;
	pl->keys[pl->nkeys - 1].count++;
	return OL_OK;
}

/* <key>...</key> at p (which starts with "<key>"), line ends at p + avail.
 * On success *used is the token length. */
static int
scan_key(struct ol_plist *pl, const char *p, size_t avail, size_t *used)
{
	size_t open = strlen(TAG_KEY), close = strlen(TAG_KEY_END);
	size_t n = 0;
	int r;

	while (open + n < avail && is_key_char(p[open + n]))
		n++;
	/* pcscd ignores what does not match; a line meant to be a key that
	 * is lost would shift every value after it to the previous key. */
	if (n == 0 || !starts_with(p + open + n, avail - open - n, TAG_KEY_END))
		return OL_ERR_PROTOCOL;
	r = add_key(pl, p + open, n);
	if (r == OL_OK)
		*used = open + n + close;
	return r;
}

/* <string>...</string> at p (which starts with "<string>"). */
static int
scan_string(struct ol_plist *pl, const char *p, size_t avail, size_t *used)
{
	size_t open = strlen(TAG_STRING), close = strlen(TAG_STRING_END);
	size_t end, vlen;
	int found = 0;

	/* flex's ".+" is greedy: the token ends at the last "</string>" of
	 * the line that leaves at least one byte between the tags. */
	if (avail >= open + 1 + close) {
		for (end = avail - close; end > open; end--) {
			if (memcmp(p + end, TAG_STRING_END, close) == 0) {
				found = 1;
				break;
			}
		}
	}
	if (!found) {
		/* "<string></string>": no match for pcscd, nothing lost. */
		if (starts_with(p + open, avail - open, TAG_STRING_END)) {
			*used = open + close;
			return OL_OK;
		}
		return OL_ERR_PROTOCOL; /* unterminated: pcscd drops it */
	}

	/* The value stops at the first '<', which exists: p[end] is one. */
	vlen = 0;
	while (p[open + vlen] != '<')
		vlen++;
	*used = end + close;
	return add_value(pl, p + open, vlen);
}

static int
scan_line(struct ol_plist *pl, const char *p, size_t n)
{
	size_t i = 0, used = 0;
	int r = OL_OK;

	while (i < n && r == OL_OK) {
		if (p[i] == '#')
			break;  /* the rest of the line is a comment */
		if (starts_with(p + i, n - i, TAG_KEY)) {
			r = scan_key(pl, p + i, n - i, &used);
			i += used;
		} else if (starts_with(p + i, n - i, TAG_STRING)) {
			r = scan_string(pl, p + i, n - i, &used);
			i += used;
		} else {
			i++;
		}
	}
	return r;
}

int
ol_plist_parse(const char *text, size_t len, ol_plist_t **out)
{
	struct ol_plist *pl = NULL;
	const char *nl;
	size_t pos = 0, n;
	int r = OL_ERR_ARG;

	if (out == NULL)
		goto fail;
	*out = NULL;
	if (text == NULL && len > 0)
		goto fail;

	r = OL_ERR_NOMEM;
	pl = calloc(1, sizeof(*pl));
	if (pl == NULL)
		goto fail;

	r = OL_OK;
	while (pos < len && r == OL_OK) {
		nl = memchr(text + pos, '\n', len - pos);
		n = (nl != NULL) ? (size_t)(nl - (text + pos)) : len - pos;
		r = scan_line(pl, text + pos, n);
		pos += n + 1;   /* may step one past len on the last line */
	}
	if (r != OL_OK)
		goto fail;

	*out = pl;
	pl = NULL;
fail:
	ol_plist_free(&pl);
	return r;
}

int
ol_plist_load(const char *path, ol_plist_t **out)
{
	struct stat st;
	char *buf = NULL;
	size_t len = 0;
	ssize_t got;
	int fd = -1;
	int r = OL_ERR_ARG;

	if (out == NULL)
		goto out;
	*out = NULL;
	if (path == NULL)
		goto out;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			r = OL_ERR_NO_DEVICE;
		else if (errno == EACCES || errno == EPERM)
			r = OL_ERR_PERMISSION;
		else
			r = OL_ERR_IO;
		goto out;
	}
	r = OL_ERR_IO;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
		goto out;
	r = OL_ERR_TOO_LONG;
	if (st.st_size > PLIST_MAX_FILE)
		goto out;

	r = OL_ERR_NOMEM;
	/* One byte more than allowed, to notice a file that grew. */
	buf = malloc(PLIST_MAX_FILE + 1);
	if (buf == NULL)
		goto out;
	for (;;) {
		got = read(fd, buf + len, PLIST_MAX_FILE + 1 - len);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			r = OL_ERR_IO;
			goto out;
		}
		if (got == 0)
			break;
		len += (size_t)got;
		if (len > PLIST_MAX_FILE) {
			r = OL_ERR_TOO_LONG;
			goto out;
		}
	}
	r = ol_plist_parse(buf, len, out);
out:
	free(buf);
	if (fd >= 0)
		close(fd);
	return r;
}

void
ol_plist_free(ol_plist_t **plist)
{
	struct ol_plist *pl;
	size_t i;

	if (plist == NULL || *plist == NULL)
		return;
	pl = *plist;
	for (i = 0; i < pl->nkeys; i++)
		free(pl->keys[i].name);
	for (i = 0; i < pl->nvalues; i++)
		free(pl->values[i]);
	free(pl->keys);
	free(pl->values);
	free(pl);
	*plist = NULL;
}

/* The last key of that name, as pcscd's LTPBundleFindValueWithKey(). */
static const struct plist_key *
find_key(const ol_plist_t *pl, const char *key)
{
	const struct plist_key *found = NULL;
	size_t i;

	if (pl == NULL || key == NULL)
		return NULL;
	for (i = 0; i < pl->nkeys; i++)
		if (strcmp(pl->keys[i].name, key) == 0)
			found = &pl->keys[i];
	return found;
}

size_t
ol_plist_count(const ol_plist_t *plist, const char *key)
{
	const struct plist_key *k = find_key(plist, key);

	return (k != NULL) ? k->count : 0;
}

const char *
ol_plist_get(const ol_plist_t *plist, const char *key, size_t idx)
{
	const struct plist_key *k = find_key(plist, key);

	if (k == NULL || idx >= k->count)
		return NULL;
	return plist->values[k->first + idx];
}

long
ol_plist_get_long(const ol_plist_t *plist, const char *key, long def)
{
	const char *s = ol_plist_get(plist, key, 0);
	const char *digits;
	char *end;
	long v;
	int base = 10;

	if (s == NULL)
		return def;
	digits = s;
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		digits = s + 2;
	} else if (s[0] == '-') {
		digits = s + 1;
	}
	/* strtol() would also take spaces, a sign after "0x", or octal. */
	if (!(digits[0] >= '0' && digits[0] <= '9') &&
	    !(base == 16 && ((digits[0] >= 'a' && digits[0] <= 'f') ||
	    (digits[0] >= 'A' && digits[0] <= 'F'))))
		return def;
	errno = 0;
	v = strtol(base == 16 ? digits : s, &end, base);
	if (errno != 0 || *end != '\0')
		return def;
	return v;
}
