/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Fuzz target: the simulator's device-side CTAPHID state machine
 * (src/sim/device/sim_ctaphid.c) fed with arbitrary output reports from hosts,
 * interleaved with the passing of time, with the PIV card and the FIDO
 * authenticator behind it (CTAP2 and U2F requests run on the worker like
 * APDUs; the user approves at once).  Every emitted input report must
 * parse as a CTAPHID packet.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ctaphid.h"
#include "ol_err.h"
#include "ol_log.h"
#include "sim_card.h"
#include "sim_ctaphid.h"
#include "sim_fido.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
quiet(unsigned category, const struct ol_log_origin *origin,
    const char *msg)
{
	(void)origin;
	(void)category;
	(void)msg;
}

static void
check_report(void *arg, const uint8_t report[CTAPHID_REPORT_LEN])
{
	struct ctaphid_packet pkt;

	(void)arg;
	if (ctaphid_packet_parse(report, CTAPHID_REPORT_LEN, &pkt) != OL_OK)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sim_ctaphid_opts opts;
	struct sim_card_config cc;
	struct sim_fido_config fc;
	sim_ctaphid_t *dev = NULL;
	sim_card_t *card = NULL;
	sim_fido_t *fido = NULL;
	int64_t now = 1000;
	size_t off = 0, n;

	ol_log_set_sink(quiet);
	sim_card_config_init(&cc);
	cc.touch = SIM_TOUCH_APPROVE;
	if (sim_card_new_config(&cc, &card) != OL_OK)
		return 0;
	memset(&fc, 0, sizeof(fc));
	sim_card_touch_port(card, &fc.touch);
	if (sim_fido_new(&fc, &fido) != OL_OK) {
		sim_card_free(&card);
		return 0;
	}
	memset(&opts, 0, sizeof(opts));
	opts.card_ops = &sim_card_ops;
	opts.card = card;
	opts.fido_ops = &sim_fido_ops;
	opts.fido = fido;
	opts.emit = check_report;
	opts.first_cid = 1; /* lets the fuzzer find the channel */
	if (sim_ctaphid_new(&opts, &dev) != OL_OK) {
		sim_fido_free(&fido);
		sim_card_free(&card);
		return 0;
	}
	/* Input: [gap][report of up to 64 bytes]...; the gap advances the
	 * clock, odd lengths test the "not 64 bytes" path. */
	while (off < size) {
		now += data[off++] * 4;
		sim_ctaphid_tick(dev, now);
		n = size - off < CTAPHID_REPORT_LEN ? size - off :
		    CTAPHID_REPORT_LEN;
		sim_ctaphid_feed(dev, data + off, n, now);
		off += n;
	}
	now += 2000;
	sim_ctaphid_tick(dev, now);
	sim_ctaphid_free(&dev);
	sim_fido_free(&fido);
	sim_card_free(&card);
	return 0;
}
