/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ifd-openloop tests: building fake sysfs trees.  Each helper fails the
 * running cmocka test when the file system says no.
 */
#ifndef OL_FAKE_TREE_H
#define OL_FAKE_TREE_H

#include <stddef.h>

/* mkdir -p of the formatted path */
void mkdirs(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* dir/name holding exactly data, or text */
void put(const char *dir, const char *name, const void *data, size_t len);
void put_str(const char *dir, const char *name, const char *text);
/* a symlink to target at the formatted path */
void link_to(const char *target, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* rm -r, not following links */
void rm_tree(const char *path);

#endif
