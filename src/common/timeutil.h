/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ifd-openloop: monotonic milliseconds, for deadlines that survive clock
 * changes. */
#ifndef OL_TIMEUTIL_H
#define OL_TIMEUTIL_H

#include <stdint.h>

int64_t ol_now_ms(void);
void ol_sleep_ms(int ms);

/* Milliseconds left until deadline, clamped to [0, INT32_MAX]. */
int ol_ms_left(int64_t deadline);

#endif
