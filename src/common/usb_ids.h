/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ifd-openloop: USB vendor and product IDs as the build and the
 * Info.plist write them.  One parser, so configure's list, the installed
 * Info.plist and openloop-usb-ids (which checks the same shape in sh)
 * accept the same IDs.
 *
 *   "VVVV:PPPP"        exactly four hex digits each, either case (lsusb)
 *   "0xVVVV", "0xPPPP" an Info.plist entry: "0x" and one to four hex
 *                      digits, as pcscd reads them
 *
 * Vendor 0000 is no USB vendor and is refused; product 0000 is a product.
 */
#ifndef OL_USB_IDS_H
#define OL_USB_IDS_H

#include <stddef.h>
#include <stdint.h>

struct ol_usb_id {
	uint16_t vid, pid;
};

/* The len bytes at s are one "VVVV:PPPP".  OL_OK or OL_ERR_ARG. */
int ol_usb_id_parse(const char *s, size_t len, struct ol_usb_id *id);

/* "VVVV:PPPP[,VVVV:PPPP...]", or "" for none: every entry valid, single
 * commas, no blanks.  At most cap IDs are stored (OL_ERR_TOO_LONG for
 * more); *n is how many.  OL_ERR_ARG for any bad entry, and then *n = 0. */
int ol_usb_id_parse_list(const char *s, struct ol_usb_id *ids, size_t cap,
    size_t *n);

/* One entry of the Info.plist's ifdVendorID and ifdProductID lists. */
int ol_usb_id_from_plist(const char *vid, const char *pid,
    struct ol_usb_id *id);

#endif
