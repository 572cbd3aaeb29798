/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ifd-openloop: the driver's settings, read from the bundle's Info.plist
 * (found next to the shared object) with environment overrides for
 * troubleshooting, as libccid does with LIBCCID_ifdLogLevel.
 */
#ifndef OL_BUNDLE_CONFIG_H
#define OL_BUNDLE_CONFIG_H

#include "reader.h"

/* Environment variable that overrides ifdLogLevel. */
#define OL_ENV_LOG_LEVEL "IFDOPENLOOP_ifdLogLevel"

/* Fills cfg and *log_mask; missing file or keys leave the defaults. */
void ol_bundle_config_load(struct ol_reader_config *cfg, unsigned *log_mask);

#endif
