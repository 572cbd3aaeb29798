/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "ol_err.h"

const char *
ol_strerror(int err)
{
	switch (err) {
	case OL_OK:
		return "success";
	case OL_ERR_ARG:
		return "invalid argument";
	case OL_ERR_NOMEM:
		return "out of memory";
	case OL_ERR_IO:
		return "input/output error on the device";
	case OL_ERR_GONE:
		return "the device was disconnected";
	case OL_ERR_TIMEOUT:
		return "the device did not answer in time";
	case OL_ERR_USER_TIMEOUT:
		return "no confirmation on the device in time; the operation was cancelled";
	case OL_ERR_BUSY:
		return "the device is busy with another program; try again";
	case OL_ERR_PROTOCOL:
		return "the device sent a malformed reply";
	case OL_ERR_DEVICE:
		return "the device reported a CTAPHID error";
	case OL_ERR_TOO_LONG:
		return "message too long for CTAPHID (7609 bytes at most)";
	case OL_ERR_NO_DEVICE:
		return "no such device";
	case OL_ERR_PERMISSION:
		return "permission denied (see the udev rules in the README)";
	case OL_ERR_SESSION_LOST:
		return "the device lost the card session (it restarted or was "
		    "reset); the card must be powered up again";
	default:
		return "unknown error";
	}
}
