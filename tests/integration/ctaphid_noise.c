/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ctaphid-noise: a second CTAPHID client on the same device, standing in
 * for a browser doing FIDO traffic while the driver runs APDUs.  It opens
 * its own handle, allocates its own channel, and sends PINGs of varying
 * size (1 .. 7609 bytes) until COUNT are done, checking every echo.
 *
 *   ctaphid-noise DEVICE COUNT
 *
 * Prints "noise: N pings, E errors, B busy retries absorbed" and exits 1 if
 * any echo was wrong or failed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctaphid.h"
#include "ctaphid_host.h"
#include "hid_dev.h"
#include "ol_err.h"
#include "ol_log.h"

int
main(int argc, char **argv)
{
	static uint8_t req[CTAPHID_MAX_MSG], resp[CTAPHID_MAX_MSG];
	struct ol_ctap_opts opts;
	ol_hid_t *hid = NULL;
	ol_ctap_t *ctap = NULL;
	int count, i, errors = 0, r;
	size_t len, got;
	unsigned seed = 12345;

	if (argc != 3 || (count = atoi(argv[2])) <= 0) {
		fprintf(stderr, "usage: ctaphid-noise DEVICE COUNT\n");
		return 2;
	}
	ol_log_set_mask(OL_LOG_CRITICAL);
	ol_ctap_default_opts(&opts);
	opts.busy_timeout_ms = 30000;
	if ((r = ol_hid_open(argv[1], &hid)) != OL_OK ||
	    (r = ol_ctap_new(hid, &opts, &ctap)) != OL_OK) {
		fprintf(stderr, "noise: %s: %s\n", argv[1], ol_strerror(r));
		return 1;
	}
	for (i = 0; i < count; i++) {
		seed = seed * 1103515245u + 12345u;
		len = 1 + (seed >> 8) % CTAPHID_MAX_MSG;
		memset(req, (int)(i & 0xff), len);
		r = ol_ctap_transact(ctap, CTAPHID_PING, req, len, resp,
		    sizeof(resp), &got);
		if (r != OL_OK || got != len || memcmp(req, resp, len) != 0) {
			fprintf(stderr, "noise: ping %d of %zu bytes: %s\n", i,
			    len, r != OL_OK ? ol_strerror(r) : "wrong echo");
			errors++;
		}
	}
	printf("noise: %d pings, %d errors\n", count, errors);
	ol_ctap_free(&ctap);
	ol_hid_close(&hid);
	return errors == 0 ? 0 : 1;
}
