/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdint.h>
#include <time.h>

#include "timeutil.h"

int64_t
ol_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t
ol_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void
ol_sleep_ms(int ms)
{
	struct timespec ts;

	if (ms <= 0)
		return;
	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (long)(ms % 1000) * 1000000L;
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

struct timespec *
ol_us_to_timespec(int64_t timeout_us, struct timespec *ts)
{
	if (timeout_us < 0)
		return NULL;
	ts->tv_sec = (time_t)(timeout_us / 1000000);
	ts->tv_nsec = (long)(timeout_us % 1000000) * 1000L;
	return ts;
}

int
ol_ms_left(int64_t deadline)
{
	int64_t left = deadline - ol_now_ms();

	if (left < 0)
		return 0;
	if (left > INT32_MAX)
		return INT32_MAX;
	return (int)left;
}
