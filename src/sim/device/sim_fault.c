/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The fault control file of openloop-sim: see sim_fault.h.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ol_log.h"
#include "sim_fault.h"

static const struct {
	const char *name;
	unsigned kind;
} names[] = {
	{ "late", SIM_FAULT_LATE },
	{ "mute", SIM_FAULT_MUTE },
	{ "noise", SIM_FAULT_NOISE },
	{ "busy", SIM_FAULT_BUSY },
	{ "keepalive", SIM_FAULT_KEEPALIVE },
	{ "truncate", SIM_FAULT_TRUNCATE },
	{ "dropcont", SIM_FAULT_DROPCONT },
	{ "huge", SIM_FAULT_HUGE },
	{ "extra", SIM_FAULT_EXTRA },
	{ "reboot", SIM_FAULT_REBOOT },
	{ "unplug", SIM_FAULT_UNPLUG },
};

int
sim_fault_parse(const char *text, struct sim_fault *f)
{
	char buf[256], *tok, *save = NULL, *colon, *end;
	size_t i;
	long v;

	f->kinds = 0;
	f->ms = SIM_FAULT_DEFAULT_MS;
	f->after = 0;
	if (strlen(text) >= sizeof(buf))
		return -1;
	strcpy(buf, text);
	for (tok = strtok_r(buf, ", \t\r\n", &save); tok != NULL;
	    tok = strtok_r(NULL, ", \t\r\n", &save)) {
		if ((colon = strchr(tok, ':')) != NULL) {
			*colon = '\0';
			v = strtol(colon + 1, &end, 10);
			if (end == colon + 1 || *end != '\0' || v < 0 ||
			    v > 600000)
				return -1;
			if (strcmp(tok, "after") == 0) {
				f->after = (int)v;
				continue;
			}
			f->ms = (int)v;
		}
		for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
			if (strcmp(tok, names[i].name) == 0)
				break;
		if (i == sizeof(names) / sizeof(names[0]))
			return -1;
		f->kinds |= names[i].kind;
	}
	return f->kinds != 0 ? 0 : -1;
}

int
sim_fault_take(const char *path, struct sim_fault *f)
{
	char buf[256];
	ssize_t n;
	int fd;

	if (path == NULL)
		return 0;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	unlink(path);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	if (sim_fault_parse(buf, f) != 0) {
		ol_log(OL_LOG_CRITICAL, "fault: cannot parse '%s'; ignored",
		    buf);
		return 0;
	}
	return 1;
}

const char *
sim_fault_names(unsigned kinds, char *buf, size_t len)
{
	size_t i, used = 0;
	int n;

	if (len == 0)
		return "";
	buf[0] = '\0';
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (!(kinds & names[i].kind))
			continue;
		n = snprintf(buf + used, len - used, "%s%s", used ? "," : "",
		    names[i].name);
		if (n < 0 || (size_t)n >= len - used)
			break;
		used += (size_t)n;
	}
	return buf;
}
