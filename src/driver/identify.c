/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ifd-openloop: the proof a hotplugged device gives that it is an
 * Openloop (identify.h).  Kept out of reader.c: reader.c calls it once,
 * after CTAPHID INIT, for usb: names only.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctaphid.h"
#include "identify.h"
#include "ol_err.h"
#include "ol_log.h"

/* SELECT PIV (AID A0 00 00 03 08 00 00 10 00), Le 00 */
static const uint8_t probe[] = { 0x00, 0xa4, 0x04, 0x00, 0x09, 0xa0, 0x00,
    0x00, 0x03, 0x08, 0x00, 0x00, 0x10, 0x00, 0x00 };

int
ol_identify_openloop(ol_ctap_t *ctap, const char *node,
    const char *devicename)
{
	uint8_t *resp, sw1 = 0, sw2 = 0;
	char why[96];
	size_t len = 0;
	int old, e;

	if (ctap == NULL || node == NULL || devicename == NULL)
		return OL_ERR_ARG;
	/* room for any reply the device may send: one that does not fit
	 * must not count against it */
	if ((resp = malloc(CTAPHID_MAX_MSG)) == NULL)
		return OL_ERR_NOMEM;
	/* a SELECT needs no touch: do not wait a minute for one */
	old = ol_ctap_set_user_timeout(ctap, 0);
	(void)ol_ctap_set_user_timeout(ctap, old < OL_IDENTIFY_USER_TIMEOUT_MS ?
	    old : OL_IDENTIFY_USER_TIMEOUT_MS);
	e = ol_ctap_apdu(ctap, probe, sizeof(probe), resp, CTAPHID_MAX_MSG,
	    &len);
	(void)ol_ctap_set_user_timeout(ctap, old);
	if (e == OL_OK && len >= 2) {
		sw1 = resp[len - 2];
		sw2 = resp[len - 1];
	}
	/* public data, but wiped as every buffer that held an APDU is */
	explicit_bzero(resp, CTAPHID_MAX_MSG);
	free(resp);

	if (e == OL_OK && len >= 2) {
		ol_log(OL_LOG_INFO, "%s at %s answers Openloop's APDU command "
		    "(SELECT PIV: SW %02X%02X): an Openloop", node, devicename,
		    sw1, sw2);
		return OL_OK;
	}
	switch (e) {
	case OL_ERR_NOMEM:
		return e;
	case OL_ERR_GONE:
		ol_log(OL_LOG_INFO, "%s at %s went away while it was asked "
		    "whether it is an Openloop", node, devicename);
		return OL_ERR_NO_DEVICE;
	case OL_ERR_BUSY:
		ol_log(OL_LOG_CRITICAL, "%s at %s stayed busy with another "
		    "program: cannot tell whether it is an Openloop; ignored "
		    "(replug it)", node, devicename);
		return OL_ERR_NO_DEVICE;
	case OL_ERR_DEVICE:
		snprintf(why, sizeof(why), "CTAPHID error 0x%02x %s",
		    ol_ctap_last_error(ctap),
		    ctaphid_error_name(ol_ctap_last_error(ctap)));
		break;
	case OL_OK: /* a reply without a status word */
		snprintf(why, sizeof(why), "a reply of %zu bytes", len);
		break;
	default:
		snprintf(why, sizeof(why), "%s", ol_strerror(e));
		break;
	}
	ol_log(OL_LOG_CRITICAL, "%s at %s answers CTAPHID but not Openloop's "
	    "APDU command (%s): not an Openloop; ignored", node, devicename,
	    why);
	return OL_ERR_NO_DEVICE;
}
