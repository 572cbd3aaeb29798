/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "ol_log.h"

/* Plain ints: set once at load (driver) or start-up (tools); a torn read
 * of a mask costs at most one log line. */
static ol_log_sink_t *log_sink;
static unsigned log_mask = OL_LOG_DEFAULT_MASK;

void
ol_log_set_sink(ol_log_sink_t *sink)
{
	log_sink = sink;
}

void
ol_log_set_mask(unsigned mask)
{
	log_mask = mask;
}

unsigned
ol_log_mask(void)
{
	return log_mask;
}

int
ol_log_enabled(unsigned category)
{
	return (log_mask & category) != 0;
}

static void
emit(const char *file, int line, const char *func, unsigned category,
    const char *msg)
{
	struct ol_log_origin origin;
	const char *slash = strrchr(file, '/');

	origin.file = slash != NULL ? slash + 1 : file;
	origin.line = line;
	origin.func = func;
	if (log_sink != NULL)
		log_sink(category, &origin, msg);
	else
		fprintf(stderr, "openloop: %s\n", msg);
}

void
ol_log_at(const char *file, int line, const char *func, unsigned category,
    const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	if (!ol_log_enabled(category))
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	emit(file, line, func, category, msg);
	explicit_bzero(msg, sizeof(msg));
}

void
ol_log_hex_at(const char *file, int line, const char *func,
    unsigned category, const char *prefix, const uint8_t *buf, size_t len)
{
	char msg[1024];
	size_t off, i;
	int n;

	if (!ol_log_enabled(category))
		return;
	n = snprintf(msg, sizeof(msg), "%s (%zu bytes):", prefix, len);
	off = (n < 0 || (size_t)n >= sizeof(msg)) ? sizeof(msg) - 1 : (size_t)n;
	for (i = 0; i < len && off + 16 < sizeof(msg); i++) {
		n = snprintf(msg + off, sizeof(msg) - off, " %02x", buf[i]);
		if (n < 0)
			break;
		off += (size_t)n;
	}
	if (i < len)
		snprintf(msg + off, sizeof(msg) - off, " ...");
	emit(file, line, func, category, msg);
	explicit_bzero(msg, sizeof(msg));
}
