/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * pcscd exports log_msg(); libccid links against it directly.  We look it
 * up with dlsym instead, so that a test program can dlopen the driver too.
 */
#include <dlfcn.h>
#include <stdio.h>

#include <PCSC/debuglog.h>

#include "ol_log.h"
#include "pcsc_log.h"

typedef void log_msg_fn(const int priority, const char *fmt, ...);

static log_msg_fn *pcscd_log_msg;

/* "ifd-openloop: reader.c:123:ol_reader_open() ...", as libccid's lines */
static void
pcsc_sink(unsigned category, const struct ol_log_origin *o, const char *msg)
{
	int priority;

	switch (category) {
	case OL_LOG_CRITICAL:
		priority = PCSC_LOG_ERROR;
		break;
	case OL_LOG_INFO:
		priority = PCSC_LOG_INFO;
		break;
	default:
		priority = PCSC_LOG_DEBUG;
		break;
	}
	if (pcscd_log_msg != NULL)
		pcscd_log_msg(priority, "ifd-openloop: %s:%d:%s() %s", o->file,
		    o->line, o->func, msg);
	else
		fprintf(stderr, "ifd-openloop: %s:%d:%s() %s\n", o->file,
		    o->line, o->func, msg);
}

void
ol_pcsc_log_init(void)
{
	pcscd_log_msg = (log_msg_fn *)dlsym(RTLD_DEFAULT, "log_msg");
	ol_log_set_sink(pcsc_sink);
}
