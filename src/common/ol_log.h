/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ifd-openloop: logging that knows nothing of its sink.
 *
 * Modules log through ol_log(); the driver points the sink at pcscd's
 * logger, the tools and the simulator at stderr.  Categories are bits,
 * with the same values libccid gives its ifdLogLevel, so one Info.plist
 * number means the same thing to users of both drivers.
 */
#ifndef OL_LOG_H
#define OL_LOG_H

#include <stddef.h>
#include <stdint.h>

#define OL_LOG_CRITICAL 0x01 /* errors the user must know about */
#define OL_LOG_INFO     0x02 /* open, close, channel allocation */
#define OL_LOG_COMM     0x04 /* APDUs and CTAPHID packets */
#define OL_LOG_PERIODIC 0x08 /* presence polling */

#define OL_LOG_DEFAULT_MASK (OL_LOG_CRITICAL | OL_LOG_INFO)

/* category is one OL_LOG_* bit; msg has no trailing newline */
typedef void ol_log_sink_t(unsigned category, const char *msg);

void ol_log_set_sink(ol_log_sink_t *sink); /* NULL: stderr */
void ol_log_set_mask(unsigned mask);
unsigned ol_log_mask(void);
int ol_log_enabled(unsigned category);

void ol_log(unsigned category, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* "prefix: 00 a4 04 00 ..." (long buffers are shortened with a byte count) */
void ol_log_hex(unsigned category, const char *prefix, const uint8_t *buf,
    size_t len);

#endif
