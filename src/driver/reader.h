/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ifd-openloop: one reader = one Openloop device with its CTAPHID channel
 * and the always-present card behind it.  Knows nothing of pcscd: the
 * IFDH layer maps a Lun to an ol_reader_t and its results to IFD codes.
 */
#ifndef OL_READER_H
#define OL_READER_H

#include <stddef.h>
#include <stdint.h>

#include "ctaphid_host.h"
#include "pinpad.h"

struct ol_reader_config {
	struct ol_ctap_opts ctap;
	uint16_t vid, pid;          /* reported when the node does not say */
	int pinpad;                 /* the device confirms: see pinpad.h */
	uint16_t usage_page;        /* HID usage page of the interface to
	                             * drive; 0 = FIDO (0xF1D0) */
};

typedef struct ol_reader ol_reader_t;

void ol_reader_default_config(struct ol_reader_config *cfg);

/*
 * Opens the device named the way pcscd names it and allocates a channel.
 * OL_ERR_ARG for a name we do not understand (logged with what we
 * expected), OL_ERR_NO_DEVICE for a node that is absent or not ours.
 */
int ol_reader_open(const char *devicename, const struct ol_reader_config *cfg,
    ol_reader_t **out);
void ol_reader_close(ol_reader_t **reader);

/* True if the name came from pcscd's USB hotplug (not from reader.conf). */
int ol_reader_is_hotplug(const ol_reader_t *reader);

/* OL_OK while the device is there and the card session holds;
 * OL_ERR_GONE once it disappeared; OL_ERR_SESSION_LOST once (then
 * OL_OK) when the device is there but lost the session the card stood
 * for: report the card absent, pcscd then powers a new one up.  A device
 * that reappears under the same name is reopened. */
int ol_reader_check_present(ol_reader_t *reader);

/*
 * For a presence watcher that waits without the reader's lock (pcscd's
 * polling thread):
 *   OL_READER_WATCH_NOW   check presence at once: a lost session is to
 *                         be reported
 *   OL_READER_WATCH_POLL  no device open: check again in a while
 *   OL_READER_WATCH_FD    *fd (if fd is not NULL) is a duplicate of the
 *                         device's descriptor, for the caller to poll()
 *                         with events 0 and close: it reports POLLHUP or
 *                         POLLERR once the device is gone, nothing else
 */
#define OL_READER_WATCH_NOW  0
#define OL_READER_WATCH_POLL 1
#define OL_READER_WATCH_FD   2
int ol_reader_watch(ol_reader_t *reader, int *fd);

/* Power up or reset: a fresh CTAPHID channel, which resets the applet's
 * security state on the device (a card reset), and the ATR. */
int ol_reader_power_up(ol_reader_t *reader, uint8_t *atr, size_t cap,
    size_t *atr_len);
void ol_reader_power_down(ol_reader_t *reader);
int ol_reader_is_powered(const ol_reader_t *reader);

/* The stored ATR (length 0 before the first power-up). */
const uint8_t *ol_reader_atr(const ol_reader_t *reader, size_t *len);

/* One APDU in the current card session; OL_ERR_SESSION_LOST (nothing
 * sent) when there is none, or when the device lost it meanwhile. */
int ol_reader_transmit(ol_reader_t *reader, const uint8_t *capdu,
    size_t capdu_len, uint8_t *rapdu, size_t rapdu_cap, size_t *rapdu_len);

/* A keypad VERIFY (PIN_VERIFY_STRUCTURE already parsed): the device
 * verifies the PIN on its own screen (pinpad.h, ol_pad_*); rapdu gets the
 * pad's status word.  OL_ERR_GONE without a device. */
int ol_reader_verify_on_device(ol_reader_t *reader,
    const struct ol_pin_verify *req, uint8_t *rapdu, size_t rapdu_cap,
    size_t *rapdu_len);

const char *ol_reader_serial(const ol_reader_t *reader); /* may be NULL */
/* "major.minor.build" of the device firmware, from CTAPHID INIT */
const char *ol_reader_firmware(const ol_reader_t *reader);
uint32_t ol_reader_firmware_version(const ol_reader_t *reader);
uint16_t ol_reader_vid(const ol_reader_t *reader);
uint16_t ol_reader_pid(const ol_reader_t *reader);

#endif
