/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ifd-openloop tests: building fake sysfs trees in a temporary directory
 * (test_hotplug, test_sysfs).  See fake_tree.h.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#define _GNU_SOURCE 1
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <ftw.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "fake_tree.h"

void
mkdirs(const char *fmt, ...)
{
	char path[PATH_MAX], *p;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(path, sizeof(path), fmt, ap);
	va_end(ap);
	assert_true(n > 0 && (size_t)n < sizeof(path));
	for (p = path + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		(void)mkdir(path, 0755);
		*p = '/';
	}
	(void)mkdir(path, 0755);
}

void
put(const char *dir, const char *name, const void *data, size_t len)
{
	char path[PATH_MAX];
	FILE *f;

	assert_true((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) <
	    sizeof(path));
	assert_non_null(f = fopen(path, "wb"));
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

void
put_str(const char *dir, const char *name, const char *text)
{
	put(dir, name, text, strlen(text));
}

void
link_to(const char *target, const char *fmt, ...)
{
	char path[PATH_MAX];
	va_list ap;

	va_start(ap, fmt);
	assert_true(vsnprintf(path, sizeof(path), fmt, ap) <
	    (int)sizeof(path));
	va_end(ap);
	assert_int_equal(symlink(target, path), 0);
}

static int
rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb; (void)flag; (void)ftw;
	return remove(path);
}

void
rm_tree(const char *path)
{
	if (path[0] != '\0')
		(void)nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

