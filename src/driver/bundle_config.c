/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The Info.plist that pcscd read to load us lives at
 * .../Contents/Info.plist, the library at .../Contents/Linux/lib.so: find
 * the library's own path with dladdr and walk up.  A driver loaded from a
 * build tree may have no Info.plist: defaults apply.  reader.conf users
 * load us through the symlink drivers/serial/libifdopenloop.so (pcscd
 * warns about LIBPATHs inside a .bundle), hence realpath().
 */
#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bundle_config.h"
#include "ol_err.h"
#include "ol_log.h"
#include "plist.h"
#include "usb_ids.h"

static int
plist_path(char *out, size_t cap)
{
	char real[PATH_MAX], *slash;
	Dl_info info;
	int i;

	if (dladdr((void *)ol_bundle_config_load, &info) == 0 ||
	    info.dli_fname == NULL || realpath(info.dli_fname, real) == NULL)
		return OL_ERR_NO_DEVICE;
	if (snprintf(out, cap, "%s", real) >= (int)cap)
		return OL_ERR_TOO_LONG;
	/* strip "lib.so" and "Linux" */
	for (i = 0; i < 2; i++) {
		if ((slash = strrchr(out, '/')) == NULL)
			return OL_ERR_NO_DEVICE;
		*slash = '\0';
	}
	if (strlen(out) + sizeof("/Info.plist") > cap)
		return OL_ERR_TOO_LONG;
	strcat(out, "/Info.plist");
	return OL_OK;
}

static long
seconds_to_ms(long s, long def_ms)
{
	if (s <= 0 || s > 3600)
		return def_ms;
	return s * 1000;
}

void
ol_bundle_config_load(struct ol_reader_config *cfg, unsigned *log_mask)
{
	char path[PATH_MAX];
	ol_plist_t *plist = NULL;
	struct ol_usb_id id;
	const char *env;
	char *end;
	long n;

	ol_reader_default_config(cfg);
	*log_mask = OL_LOG_DEFAULT_MASK;
	if (plist_path(path, sizeof(path)) == OL_OK &&
	    ol_plist_load(path, &plist) == OL_OK) {
		*log_mask = (unsigned)ol_plist_get_long(plist, "ifdLogLevel",
		    OL_LOG_DEFAULT_MASK);
		cfg->ctap.user_timeout_ms = (int)seconds_to_ms(
		    ol_plist_get_long(plist, "ifdUserConfirmationTimeout", 0),
		    cfg->ctap.user_timeout_ms);
		cfg->ctap.busy_timeout_ms = (int)seconds_to_ms(
		    ol_plist_get_long(plist, "ifdBusyTimeout", 0),
		    cfg->ctap.busy_timeout_ms);
		cfg->pinpad = ol_plist_get_long(plist, "ifdConfirmOnDevice",
		    cfg->pinpad) != 0;
		n = ol_plist_get_long(plist, "ifdHidUsagePage", 0);
		if (n > 0 && n <= 0xffff)
			cfg->usage_page = (uint16_t)n;
		/* the first claimed ID names reader.conf readers */
		if (ol_usb_id_from_plist(ol_plist_get(plist, "ifdVendorID", 0),
		    ol_plist_get(plist, "ifdProductID", 0), &id) == OL_OK) {
			cfg->vid = id.vid;
			cfg->pid = id.pid;
		}
		ol_plist_free(&plist);
	}
	if ((env = getenv(OL_ENV_LOG_LEVEL)) != NULL) {
		n = strtol(env, &end, 0);
		if (*env != '\0' && *end == '\0' && n >= 0)
			*log_mask = (unsigned)n;
	}
}
