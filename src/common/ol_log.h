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

/* Where a line comes from: libccid's lines name file, line and function
 * (pcsc-lite's Log macros), so a pcscd debug log reads without the
 * source.  Sinks for users (the tools' stderr) may leave it out. */
struct ol_log_origin {
	const char *file;   /* basename */
	int line;
	const char *func;
};

/* category is one OL_LOG_* bit; msg has no trailing newline */
typedef void ol_log_sink_t(unsigned category,
    const struct ol_log_origin *origin, const char *msg);

void ol_log_set_sink(ol_log_sink_t *sink); /* NULL: stderr */
void ol_log_set_mask(unsigned mask);
unsigned ol_log_mask(void);
int ol_log_enabled(unsigned category);

#define ol_log(category, ...) \
	ol_log_at(__FILE__, __LINE__, __func__, (category), __VA_ARGS__)
void ol_log_at(const char *file, int line, const char *func,
    unsigned category, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* "prefix: 00 a4 04 00 ..." (long buffers are shortened with a byte count) */
#define ol_log_hex(category, prefix, buf, len) \
	ol_log_hex_at(__FILE__, __LINE__, __func__, (category), (prefix), \
	    (buf), (len))
void ol_log_hex_at(const char *file, int line, const char *func,
    unsigned category, const char *prefix, const uint8_t *buf, size_t len);

#endif
