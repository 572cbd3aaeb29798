/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ifd-openloop: monotonic milliseconds, for deadlines that survive clock
 * changes. */
#ifndef OL_TIMEUTIL_H
#define OL_TIMEUTIL_H

#include <stdint.h>

int64_t ol_now_ms(void);
int64_t ol_now_us(void);
void ol_sleep_ms(int ms);

/* A relative timeout in microseconds (< 0: none) for ppoll(): NULL for
 * none, else ts filled in. */
struct timespec;
struct timespec *ol_us_to_timespec(int64_t timeout_us, struct timespec *ts);

/* Milliseconds left until deadline, clamped to [0, INT32_MAX]. */
int ol_ms_left(int64_t deadline);

#endif
