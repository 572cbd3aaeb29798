/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ifd-openloop unit tests: /proc/locks parsing (src/common/proc_locks.c),
 * on texts as the kernel writes them and on broken ones, and the holder
 * of a real flock() found through the real /proc.
 */
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "proc_locks.h"

static const char locks[] =
    "1: POSIX  ADVISORY  READ 900 fe:00:77 0 0\n"
    "2: FLOCK  ADVISORY  WRITE 23658 fe:00:10952723 0 EOF\n"
    "2: -> FLOCK  ADVISORY  WRITE 23700 00:05:1234 0 EOF\n"
    "3: FLOCK  ADVISORY  READ 500 00:05:1234 0 EOF\n"
    "4: FLOCK  ADVISORY  WRITE 4242 00:05:1234 0 EOF\n"
    "5: OFDLCK ADVISORY  WRITE -1 00:05:999 0 EOF\n";

static void
finds_the_writer(void **state)
{
	long pid = 0;

	(void)state;
	assert_int_equal(ol_proc_locks_flock_holder(locks, strlen(locks),
	    0xfe, 0, 10952723ULL, &pid), 1);
	assert_int_equal(pid, 23658);
	/* the waiter ("->") and the reader are not the holder */
	assert_int_equal(ol_proc_locks_flock_holder(locks, strlen(locks),
	    0, 5, 1234, &pid), 1);
	assert_int_equal(pid, 4242);
	/* POSIX and OFD locks are not flock()s; unknown files have none */
	assert_int_equal(ol_proc_locks_flock_holder(locks, strlen(locks),
	    0xfe, 0, 77, &pid), 0);
	assert_int_equal(ol_proc_locks_flock_holder(locks, strlen(locks),
	    0, 5, 999, &pid), 0);
	assert_int_equal(ol_proc_locks_flock_holder(locks, strlen(locks),
	    0, 5, 1235, &pid), 0);
}

static void
refuses_broken_lines(void **state)
{
	static const char *bad[] = {
		"1: FLOCK ADVISORY WRITE 4242 00:05:1234x 0 EOF\n",
		"1: FLOCK ADVISORY WRITE 4242 00:05 0 EOF\n",
		"1: FLOCK ADVISORY WRITE 4242x 00:05:1234 0 EOF\n",
		"1: FLOCK ADVISORY WRITE 0 00:05:1234 0 EOF\n",
		"1: FLOCK ADVISORY WRITE -7 00:05:1234 0 EOF\n",
		"1: FLOCK ADVISORY WRITE 99999999999999999999 00:05:1234 0 EOF\n",
		"1: FLOCK ADVISORY WRITE 4242 zz:05:1234 0 EOF\n",
		"1: FLOCK ADVISORY WRITE\n",
		"",
		"\n\n\n",
	};
	char longline[600];
	long pid = 0;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(ol_proc_locks_flock_holder(bad[i],
		    strlen(bad[i]), 0, 5, 1234, &pid), 0);
	/* a line longer than any lock line is skipped, the next one read */
	memset(longline, 'x', sizeof(longline));
	memcpy(longline + 500, "\n1: FLOCK ADVISORY WRITE 7 00:05:1234 0 EOF",
	    43);
	assert_int_equal(ol_proc_locks_flock_holder(longline, 543, 0, 5, 1234,
	    &pid), 1);
	assert_int_equal(pid, 7);
	/* no newline at the end, and a length that cuts a line */
	assert_int_equal(ol_proc_locks_flock_holder(locks, 40, 0xfe, 0,
	    10952723ULL, &pid), 0);
	assert_int_equal(ol_proc_locks_flock_holder(NULL, 5, 0, 0, 0, &pid), 0);
	assert_int_equal(ol_proc_locks_flock_holder(locks, 5, 0, 0, 0, NULL), 0);
}

/* Through the real /proc: a child holds the lock. */
static void
describes_a_real_holder(void **state)
{
	char path[] = "/tmp/ol-proclocks-XXXXXX", out[128], want[64];
	int fd, p[2];
	pid_t child;
	char c;

	(void)state;
	fd = mkstemp(path);
	assert_true(fd >= 0);
	ol_proc_locks_describe_holder(fd, out, sizeof(out));
	assert_string_equal(out, "");
	assert_int_equal(pipe(p), 0);
	child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		int cfd = open(path, O_RDONLY);

		if (cfd < 0 || flock(cfd, LOCK_EX) != 0 ||
		    write(p[1], "x", 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	assert_int_equal(read(p[0], &c, 1), 1);
	ol_proc_locks_describe_holder(fd, out, sizeof(out));
	snprintf(want, sizeof(want), "(pid %ld)", (long)child);
	print_message("holder: %s\n", out);
	assert_non_null(strstr(out, want));
	assert_non_null(strstr(out, "test_proc_locks"));
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	close(p[0]);
	close(p[1]);
	close(fd);
	unlink(path);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(finds_the_writer),
		cmocka_unit_test(refuses_broken_lines),
		cmocka_unit_test(describes_a_real_holder),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
