/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * pcsc-probe: a plain PC/SC client (libpcsclite) for the integration tests.
 * It shows what stock tools do not: reader attributes, the part 10
 * features and TLV properties, and extended APDUs.
 *
 *   pcsc-probe READER-SUBSTRING attrs
 *   pcsc-probe READER-SUBSTRING features
 *   pcsc-probe READER-SUBSTRING apdu HEX|wait:FILE [HEX|wait:FILE...]
 *   pcsc-probe READER-SUBSTRING txn HEX [HEX...]
 *   pcsc-probe READER-SUBSTRING loop GAP-MS HEX [HEX...]
 *
 * "loop" is an application that survives its reader: it sends the APDUs
 * in a transaction, over and over with GAP-MS between rounds (so other
 * clients get the card too), until SIGTERM; on a PC/SC error it
 * disconnects and waits for a reader to match again.  It prints an
 * "event:" line (wall-clock ms) when the outcome changes and a summary.
 *
 * In "apdu", wait:FILE stops (on the same card handle) until FILE exists,
 * at most a minute, so that a test can do something to the device between
 * two APDUs of one connection.
 *
 * "txn" sends the APDUs in one transaction, so that no other client's
 * APDU comes between them (a logout, then a signature that must wait for
 * the touch), and prints each response's data ("data: HEX") as well.
 *
 * Output is line oriented, "key: value", for grep in tests.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sys/stat.h>

#include <PCSC/reader.h>
#include <PCSC/winscard.h>

#ifndef SCARD_ATTR_VENDOR_IFD_SERIAL_NO
#define SCARD_ATTR_VENDOR_IFD_SERIAL_NO SCARD_ATTR_VALUE(SCARD_CLASS_VENDOR_INFO, 0x0103)
#endif

static SCARDCONTEXT ctx;
static SCARDHANDLE card;

static void
die(const char *what, LONG rv)
{
	fprintf(stderr, "%s: %s (0x%lx)\n", what, pcsc_stringify_error(rv),
	    (unsigned long)rv);
	exit(1);
}

static void
print_hex(const char *key, const unsigned char *b, size_t n)
{
	size_t i;

	printf("%s:", key);
	for (i = 0; i < n; i++)
		printf(" %02X", b[i]);
	printf("\n");
}

static size_t
parse_hex(const char *s, unsigned char *out, size_t cap)
{
	size_t n = 0;
	unsigned v;

	while (*s) {
		if (*s == ' ' || *s == ':') {
			s++;
			continue;
		}
		if (n >= cap || sscanf(s, "%2x", &v) != 1) {
			fprintf(stderr, "bad hex near \"%s\"\n", s);
			exit(2);
		}
		out[n++] = (unsigned char)v;
		s += 2;
	}
	return n;
}

static void
connect_reader(const char *want)
{
	char readers[4096], *r;
	DWORD len = sizeof(readers), proto;
	LONG rv;

	if ((rv = SCardEstablishContext(SCARD_SCOPE_SYSTEM, NULL, NULL,
	    &ctx)) != SCARD_S_SUCCESS)
		die("SCardEstablishContext", rv);
	if ((rv = SCardListReaders(ctx, NULL, readers, &len)) !=
	    SCARD_S_SUCCESS)
		die("SCardListReaders", rv);
	for (r = readers; *r; r += strlen(r) + 1)
		if (strstr(r, want) != NULL)
			break;
	if (*r == '\0') {
		fprintf(stderr, "no reader matching \"%s\"\n", want);
		exit(1);
	}
	printf("reader: %s\n", r);
	if ((rv = SCardConnect(ctx, r, SCARD_SHARE_SHARED, SCARD_PROTOCOL_T1,
	    &card, &proto)) != SCARD_S_SUCCESS)
		die("SCardConnect", rv);
	printf("protocol: %s\n", proto == SCARD_PROTOCOL_T1 ? "T=1" : "other");
}

static void
attrs(void)
{
	unsigned char buf[256];
	DWORD len;
	LONG rv;

	len = sizeof(buf);
	if ((rv = SCardGetAttrib(card, SCARD_ATTR_ATR_STRING, buf, &len)) ==
	    SCARD_S_SUCCESS)
		print_hex("atr", buf, len);
	len = sizeof(buf);
	if ((rv = SCardGetAttrib(card, SCARD_ATTR_VENDOR_NAME, buf, &len)) ==
	    SCARD_S_SUCCESS)
		printf("vendor: %.*s\n", (int)len, buf);
	len = sizeof(buf);
	if ((rv = SCardGetAttrib(card, SCARD_ATTR_VENDOR_IFD_SERIAL_NO, buf,
	    &len)) == SCARD_S_SUCCESS)
		printf("serial: %.*s\n", (int)len, buf);
	len = sizeof(buf);
	if ((rv = SCardGetAttrib(card, SCARD_ATTR_VENDOR_IFD_VERSION, buf,
	    &len)) == SCARD_S_SUCCESS && len == 4)
		printf("ifd-version: %u.%u.%u\n", buf[3], buf[2],
		    buf[0] | buf[1] << 8);
	len = sizeof(buf);
	if ((rv = SCardGetAttrib(card, SCARD_ATTR_MAXINPUT, buf, &len)) ==
	    SCARD_S_SUCCESS && len == 4)
		printf("maxinput: %u\n", buf[0] | buf[1] << 8 | buf[2] << 16);
}

static void
features(void)
{
	unsigned char buf[256], props[256];
	DWORD len = 0, plen = 0, code = 0, i;
	LONG rv;

	if ((rv = SCardControl(card, CM_IOCTL_GET_FEATURE_REQUEST, NULL, 0,
	    buf, sizeof(buf), &len)) != SCARD_S_SUCCESS)
		die("SCardControl(GET_FEATURE_REQUEST)", rv);
	for (i = 0; i + 6 <= len; i += 6) {
		printf("feature: 0x%02X ioctl 0x%02X%02X%02X%02X\n", buf[i],
		    buf[i + 2], buf[i + 3], buf[i + 4], buf[i + 5]);
		if (buf[i] == FEATURE_GET_TLV_PROPERTIES)
			code = (DWORD)buf[i + 2] << 24 | (DWORD)buf[i + 3] << 16 |
			    (DWORD)buf[i + 4] << 8 | buf[i + 5];
	}
	if (code == 0)
		return;
	if ((rv = SCardControl(card, code, NULL, 0, props, sizeof(props),
	    &plen)) != SCARD_S_SUCCESS)
		die("SCardControl(GET_TLV_PROPERTIES)", rv);
	for (i = 0; i + 2 <= plen && i + 2 + props[i + 1] <= plen;
	    i += 2 + props[i + 1]) {
		unsigned long v = 0;
		int k;

		if (props[i] == PCSCv2_PART10_PROPERTY_sFirmwareID) {
			printf("property %u: %.*s\n", props[i], props[i + 1],
			    props + i + 2);
			continue;
		}
		for (k = props[i + 1] - 1; k >= 0; k--)
			v = v << 8 | props[i + 2 + k];
		printf("property %u: %lu\n", props[i], v);
	}
}

static void
wait_for_file(const char *path)
{
	struct stat st;
	int i;

	printf("waiting: %s\n", path);
	fflush(stdout);
	for (i = 0; i < 6000 && stat(path, &st) != 0; i++)
		usleep(10000);
	if (i == 6000) {
		fprintf(stderr, "%s did not appear\n", path);
		exit(1);
	}
}

static void
apdus(int argc, char **argv, int show_data)
{
	static unsigned char cmd[70000], resp[70000];
	DWORD rlen;
	size_t clen;
	LONG rv;
	int i;

	for (i = 0; i < argc; i++) {
		if (strncmp(argv[i], "wait:", 5) == 0) {
			wait_for_file(argv[i] + 5);
			continue;
		}
		clen = parse_hex(argv[i], cmd, sizeof(cmd));
		rlen = sizeof(resp);
		if ((rv = SCardTransmit(card, SCARD_PCI_T1, cmd, clen, NULL,
		    resp, &rlen)) != SCARD_S_SUCCESS)
			die("SCardTransmit", rv);
		printf("response-length: %lu\n", (unsigned long)rlen);
		if (show_data && rlen > 2)
			print_hex("data", resp, rlen - 2);
		if (rlen >= 2)
			printf("sw: %02X%02X\n", resp[rlen - 2], resp[rlen - 1]);
	}
}

static void
txn(int argc, char **argv)
{
	LONG rv;

	if ((rv = SCardBeginTransaction(card)) != SCARD_S_SUCCESS)
		die("SCardBeginTransaction", rv);
	apdus(argc, argv, 1);
	if ((rv = SCardEndTransaction(card, SCARD_LEAVE_CARD)) !=
	    SCARD_S_SUCCESS)
		die("SCardEndTransaction", rv);
}

static volatile sig_atomic_t stop;

static void
on_stop(int sig)
{
	(void)sig;
	stop = 1;
}

static long long
now_ms(int clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int
cmp_ll(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;

	return x < y ? -1 : x > y;
}

/* one outcome per round: "ok", "sw XXXX" or "FUNCTION: PC/SC error" */
#define OUTCOME_LEN 96

struct outcome {
	char what[OUTCOME_LEN];
	unsigned long count;
};

#define LOOP_MAX_ROUNDS 200000
#define LOOP_MAX_KINDS  16

static void
record(struct outcome *kinds, size_t *nkinds, char *last, const char *what)
{
	size_t i;

	if (strcmp(last, what) != 0) {
		printf("event: %lld %s\n", now_ms(CLOCK_REALTIME), what);
		fflush(stdout);
		snprintf(last, OUTCOME_LEN, "%s", what);
	}
	for (i = 0; i < *nkinds; i++)
		if (strcmp(kinds[i].what, what) == 0)
			break;
	if (i == *nkinds) {
		if (*nkinds == LOOP_MAX_KINDS)
			return;
		snprintf(kinds[i].what, sizeof(kinds[i].what), "%s", what);
		kinds[i].count = 0;
		(*nkinds)++;
	}
	kinds[i].count++;
}

/* find a reader whose name contains WANT and connect; 0 when connected */
static LONG
loop_connect(const char *want, char *err, size_t errlen)
{
	char readers[4096], *r;
	DWORD len = sizeof(readers), proto;
	LONG rv;

	if ((rv = SCardListReaders(ctx, NULL, readers, &len)) !=
	    SCARD_S_SUCCESS) {
		snprintf(err, errlen, "SCardListReaders: %s",
		    pcsc_stringify_error(rv));
		return rv;
	}
	for (r = readers; *r; r += strlen(r) + 1)
		if (strstr(r, want) != NULL)
			break;
	if (*r == '\0') {
		snprintf(err, errlen, "no reader matching \"%s\"", want);
		return SCARD_E_UNKNOWN_READER;
	}
	if ((rv = SCardConnect(ctx, r, SCARD_SHARE_SHARED, SCARD_PROTOCOL_T1,
	    &card, &proto)) != SCARD_S_SUCCESS)
		snprintf(err, errlen, "SCardConnect: %s",
		    pcsc_stringify_error(rv));
	return rv;
}

static int
loop(const char *want, int argc, char **argv)
{
	static unsigned char cmd[16][300], resp[70000];
	static long long round_ms[LOOP_MAX_ROUNDS];
	struct outcome kinds[LOOP_MAX_KINDS];
	size_t clen[16], nkinds = 0, nok = 0, i;
	char last[OUTCOME_LEN] = "", what[OUTCOME_LEN];
	unsigned long rounds = 0;
	struct timespec gap;
	long gap_ms;
	int connected = 0, k;
	long long t0;
	DWORD rlen;
	LONG rv;

	if (argc < 2 || argc > 17) {
		fprintf(stderr, "loop: GAP-MS and 1 to 16 APDUs\n");
		return 2;
	}
	gap_ms = atol(argv[0]);
	if (gap_ms < 0 || gap_ms > 60000) {
		fprintf(stderr, "loop: GAP-MS from 0 to 60000\n");
		return 2;
	}
	gap.tv_sec = gap_ms / 1000;
	gap.tv_nsec = gap_ms % 1000 * 1000000L;
	argc--;
	argv++;
	for (k = 0; k < argc; k++)
		clen[k] = parse_hex(argv[k], cmd[k], sizeof(cmd[k]));
	signal(SIGTERM, on_stop);
	signal(SIGINT, on_stop);
	if ((rv = SCardEstablishContext(SCARD_SCOPE_SYSTEM, NULL, NULL,
	    &ctx)) != SCARD_S_SUCCESS)
		die("SCardEstablishContext", rv);
	while (!stop) {
		if (!connected) {
			if (loop_connect(want, what, sizeof(what)) !=
			    SCARD_S_SUCCESS) {
				record(kinds, &nkinds, last, what);
				nanosleep(&(struct timespec){ 0, 50000000 },
				    NULL);
				continue;
			}
			connected = 1;
		}
		t0 = now_ms(CLOCK_MONOTONIC);
		rounds++;
		if ((rv = SCardBeginTransaction(card)) != SCARD_S_SUCCESS) {
			snprintf(what, sizeof(what), "SCardBeginTransaction: %s",
			    pcsc_stringify_error(rv));
			goto failed;
		}
		snprintf(what, sizeof(what), "ok");
		for (k = 0; k < argc; k++) {
			rlen = sizeof(resp);
			if ((rv = SCardTransmit(card, SCARD_PCI_T1, cmd[k],
			    clen[k], NULL, resp, &rlen)) != SCARD_S_SUCCESS) {
				snprintf(what, sizeof(what), "SCardTransmit: %s",
				    pcsc_stringify_error(rv));
				goto failed;
			}
			if (rlen < 2 || resp[rlen - 2] != 0x90 ||
			    resp[rlen - 1] != 0x00) {
				snprintf(what, sizeof(what), "sw %02X%02X",
				    rlen < 2 ? 0 : resp[rlen - 2],
				    rlen < 2 ? 0 : resp[rlen - 1]);
				break;
			}
		}
		if ((rv = SCardEndTransaction(card, SCARD_LEAVE_CARD)) !=
		    SCARD_S_SUCCESS) {
			snprintf(what, sizeof(what), "SCardEndTransaction: %s",
			    pcsc_stringify_error(rv));
			goto failed;
		}
		if (strcmp(what, "ok") == 0 && nok < LOOP_MAX_ROUNDS)
			round_ms[nok++] = now_ms(CLOCK_MONOTONIC) - t0;
		record(kinds, &nkinds, last, what);
		if (gap_ms > 0)
			nanosleep(&gap, NULL);
		continue;
failed:
		/* the handle is stale once the reader went away: start over */
		record(kinds, &nkinds, last, what);
		SCardDisconnect(card, SCARD_LEAVE_CARD);
		connected = 0;
	}
	if (connected)
		SCardDisconnect(card, SCARD_LEAVE_CARD);
	SCardReleaseContext(ctx);
	printf("rounds: %lu\n", rounds);
	for (i = 0; i < nkinds; i++)
		printf("outcome: %lu %s\n", kinds[i].count, kinds[i].what);
	if (nok > 0) {
		qsort(round_ms, nok, sizeof(round_ms[0]), cmp_ll);
		printf("ms per ok round: min %lld, median %lld, max %lld\n",
		    round_ms[0], round_ms[(nok - 1) / 2], round_ms[nok - 1]);
	}
	return 0;
}

int
main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: pcsc-probe READER attrs|features|apdu|txn|loop HEX...\n");
		return 2;
	}
	if (strcmp(argv[2], "loop") == 0)
		return loop(argv[1], argc - 3, argv + 3);
	connect_reader(argv[1]);
	if (strcmp(argv[2], "attrs") == 0)
		attrs();
	else if (strcmp(argv[2], "features") == 0)
		features();
	else if (strcmp(argv[2], "apdu") == 0)
		apdus(argc - 3, argv + 3, 0);
	else if (strcmp(argv[2], "txn") == 0)
		txn(argc - 3, argv + 3);
	else {
		fprintf(stderr, "unknown command %s\n", argv[2]);
		return 2;
	}
	SCardDisconnect(card, SCARD_LEAVE_CARD);
	SCardReleaseContext(ctx);
	return 0;
}
