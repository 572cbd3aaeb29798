/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ifd-openloop: error codes shared by the transport, the driver, the
 * simulator and the tools.  Every function that can fail returns one of
 * these (OL_OK or a negative value); ol_strerror() says what happened in
 * words a user can act on.
 */
#ifndef OL_ERR_H
#define OL_ERR_H

enum {
	OL_OK = 0,
	OL_ERR_ARG = -1,          /* caller passed something invalid */
	OL_ERR_NOMEM = -2,        /* allocation failed */
	OL_ERR_IO = -3,           /* read or write on the handle failed */
	OL_ERR_GONE = -4,         /* the device went away (unplugged, socket closed) */
	OL_ERR_TIMEOUT = -5,      /* the device stayed silent */
	OL_ERR_USER_TIMEOUT = -6, /* no user confirmation within the limit; cancelled */
	OL_ERR_BUSY = -7,         /* another client kept the device busy */
	OL_ERR_PROTOCOL = -8,     /* malformed or unexpected reply */
	OL_ERR_DEVICE = -9,       /* the device answered CTAPHID ERROR */
	OL_ERR_TOO_LONG = -10,    /* message over 7609 bytes or over the buffer */
	OL_ERR_NO_DEVICE = -11,   /* no such device node or socket */
	OL_ERR_PERMISSION = -12,  /* the node exists but may not be opened */
	OL_ERR_SESSION_LOST = -13, /* the device no longer knows our channel
	                            * (it restarted, or was reset): the card
	                            * session is over; nothing was sent again */
};

const char *ol_strerror(int err);

#endif
