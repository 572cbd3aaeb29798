/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ISO/IEC 7816-4 status words and class bits that more than one part of
 * ifd-openloop speaks: the simulator's card and PIV applet answer with
 * them, the driver's PIN pad reads them.  Values only, no code.
 */
#ifndef OL_ISO7816_H
#define OL_ISO7816_H

#define ISO_SW_OK                 0x9000
#define ISO_SW_PINPAD_TIMEOUT     0x6400 /* PC/SC part 10: no input in time */
#define ISO_SW_PINPAD_CANCELLED   0x6401 /* PC/SC part 10: user cancelled */
#define ISO_SW_BYTES_REMAINING    0x6100 /* | bytes left, 00 = 256 or more */
#define ISO_SW_VERIFY_FAIL        0x63c0 /* | tries left */
#define ISO_SW_MEMORY_FAILURE     0x6581
#define ISO_SW_WRONG_LENGTH       0x6700
#define ISO_SW_CHAINING_UNSUPP    0x6884
#define ISO_SW_SECURITY_STATUS    0x6982 /* also: cancelled by the host */
#define ISO_SW_AUTH_BLOCKED       0x6983
#define ISO_SW_CONDITIONS         0x6985
#define ISO_SW_WRONG_DATA         0x6a80
#define ISO_SW_FUNC_NOT_SUPPORTED 0x6a81
#define ISO_SW_FILE_NOT_FOUND     0x6a82
#define ISO_SW_NOT_ENOUGH_MEMORY  0x6a84
#define ISO_SW_INCORRECT_P1P2     0x6a86
#define ISO_SW_REF_NOT_FOUND      0x6a88
#define ISO_SW_INS_NOT_SUPPORTED  0x6d00
#define ISO_SW_CLA_NOT_SUPPORTED  0x6e00
#define ISO_SW_UNKNOWN            0x6f00

#define ISO_CLA_CHAINING 0x10   /* command chaining, section 5.1.1.1 */

#endif
