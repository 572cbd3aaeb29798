/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * User presence for CTAP2 and U2F: one wait through the device's touch
 * port, its result as a CTAP2 status.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stdint.h>

#include "fido_up.h"
#include "ol_log.h"

uint8_t
fido_up(struct fido_auth *a, const char *why)
{
	enum sim_touch_result res;

	ol_log(OL_LOG_INFO, "FIDO: waiting for touch (%s)", why);
	if (a->touch.wait_for != NULL)
		res = a->touch.wait_for(a->touch.ctx, FIDO_UP_TIMEOUT_MS);
	else if (a->touch.wait != NULL)
		res = a->touch.wait(a->touch.ctx);
	else
		res = SIM_TOUCH_APPROVED;  /* no user model: a test */
	switch (res) {
	case SIM_TOUCH_APPROVED:
		ol_log(OL_LOG_INFO, "FIDO: touch approved");
		return CTAP2_OK;
	case SIM_TOUCH_DENIED:
		ol_log(OL_LOG_INFO, "FIDO: touch denied");
		return CTAP2_ERR_OPERATION_DENIED;
	case SIM_TOUCH_TIMEOUT:
		ol_log(OL_LOG_INFO, "FIDO: no touch within %d s",
		    FIDO_UP_TIMEOUT_MS / 1000);
		return CTAP2_ERR_USER_ACTION_TIMEOUT;
	case SIM_TOUCH_CANCELLED:
	default:
		ol_log(OL_LOG_INFO, "FIDO: touch wait cancelled by the host");
		return CTAP2_ERR_KEEPALIVE_CANCEL;
	}
}
