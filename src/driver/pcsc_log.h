/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ifd-openloop: the bridge from ol_log to pcscd's logger. */
#ifndef OL_PCSC_LOG_H
#define OL_PCSC_LOG_H

/* Routes ol_log() to pcscd's log_msg(), found at run time so that the
 * driver also loads outside pcscd (then it logs to stderr). */
void ol_pcsc_log_init(void);

#endif
