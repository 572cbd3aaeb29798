/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ifd-openloop: is the device behind a pcscd hotplug name an Openloop?
 *
 * pcscd loads the driver for every USB device whose VID:PID the
 * Info.plist lists.  IDs are shared: the pid.codes test ID 1209:0001 is on
 * many FIDO prototype boards, and an admin may add a wrong ID.  Answering
 * CTAPHID INIT proves nothing (every FIDO key does), so before a reader is
 * presented for a usb: name, the device must also answer Openloop's APDU
 * command (CTAPHID vendor command 0x70, docs/transport.md) with a status
 * word.  A FIDO board that does not know the command answers CTAPHID
 * ERROR INVALID_CMD and is ignored.  reader.conf names (unix:, /dev/hidrawN)
 * are the admin's explicit choice and are not probed.
 */
#ifndef OL_IDENTIFY_H
#define OL_IDENTIFY_H

#include "ctaphid_host.h"

/* The longest the probe may wait for keepalives; a lower user time-out of
 * the channel wins. */
#define OL_IDENTIFY_USER_TIMEOUT_MS 5000

/*
 * Sends the probe (SELECT of the PIV AID: what every PIV client sends
 * first; it changes nothing on the device, and the reader's power-up
 * allocates a new channel anyway) on ctap's channel.  Any status word
 * (also 6A82, PIV switched off on the device) proves an Openloop: OL_OK.
 * Otherwise OL_ERR_NO_DEVICE, after one log line that names node and
 * devicename and says why (OL_ERR_NOMEM, OL_ERR_ARG as such).
 */
int ol_identify_openloop(ol_ctap_t *ctap, const char *node,
    const char *devicename);

#endif
