/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * openloop-bench: latency of APDUs to one or more simulated Openloops,
 * side by side, through two paths on the same device:
 *
 *   pcsc    SCardTransmit through pcscd and this driver (what every PC/SC
 *           application pays)
 *   direct  the CTAPHID APDU command straight on the device's socket with
 *           src/transport (no pcscd: the floor the driver can reach)
 *
 * and the frame floor: the number of 64-byte reports of request and
 * response (57 bytes in the init packet, 59 in each continuation) times
 * the report interval, which a full-speed device with bInterval 1 cannot
 * beat (one report per 1 ms frame each way).
 *
 * The two paths alternate APDU by APDU, so a load that comes and goes on
 * the machine touches both alike.  Optionally, the CPU time pcscd (with
 * the driver inside it) and this client spend per short APDU, from
 * /proc/PID/stat and getrusage() around a run of them, and whole
 * operations as users run them (--op: a shell command, e.g. pkcs11-tool).
 *
 *   openloop-bench [-n ROUNDS] [--series S] [--warmup ROUNDS]
 *       [--cpu-apdus N] [--pcscd-pid PID] [--op-runs N] [--json FILE]
 *       [--scale-reader NAME ... [--scale-apdus N]]
 *       [--op-count NAME=APDUS/REPORTS ...]
 *       --case LABEL --reader NAME --device unix:PATH --report-interval MS
 *       [--op NAME=COMMAND ...] [--case ...]
 *
 * A benchmark, not a test: it fails (exit 1) only when an APDU fails or
 * answers wrongly, never because of a time.  docs/performance.md.
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sys/resource.h>
#include <sys/wait.h>

#include <PCSC/winscard.h>

#include "bench_util.h"
#include "ctaphid.h"
#include "ctaphid_host.h"
#include "hid_dev.h"
#include "ol_err.h"
#include "ol_log.h"

#define MAX_CASES 8
#define MAX_OPS 8
#define RESP_CAP (CTAPHID_MAX_MSG + 16)

/* what is measured: one APDU each */
struct apdu_kind {
	const char *name;      /* in the table and the JSON */
	const char *what;
	uint8_t capdu[16];
	size_t capdu_len;
	size_t resp_len;       /* expected R-APDU length, SW included */
};

/* SELECT of the PIV applet by the 9-byte AID prefix OpenSC sends: one
 * report each way.  GET CHALLENGE Le 00: 256 bytes + SW, 5 reports back.
 * Extended Le 1500: the longest response measured without pacing too, 26
 * reports back.  Extended Le 3000: a certificate's size in one response,
 * 51 reports back.  Extended Le 0000: the largest response one
 * CTAPHID message carries, 7607 bytes + SW, 129 reports back. */
static const struct apdu_kind kinds[] = {
	{ "short", "SELECT PIV AID (short APDU)",
	  { 0x00, 0xA4, 0x04, 0x00, 0x09, 0xA0, 0x00, 0x00, 0x03, 0x08, 0x00,
	    0x00, 0x10, 0x00, 0x00 }, 15, 0 },
	{ "256B", "GET CHALLENGE Le=00 (256 bytes)",
	  { 0x00, 0x84, 0x00, 0x00, 0x00 }, 5, 258 },
	{ "1500B", "GET CHALLENGE extended Le=1500",
	  { 0x00, 0x84, 0x00, 0x00, 0x00, 0x05, 0xDC }, 7, 1502 },
	{ "3000B", "GET CHALLENGE extended Le=3000 (a certificate's size)",
	  { 0x00, 0x84, 0x00, 0x00, 0x00, 0x0B, 0xB8 }, 7, 3002 },
	{ "7607B", "GET CHALLENGE extended Le=0000 (7607 bytes, the most)",
	  { 0x00, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00 }, 7, 7609 },
};
#define N_KINDS (sizeof(kinds) / sizeof(kinds[0]))
enum { PATH_PCSC, PATH_DIRECT, N_PATHS };
static const char *const path_names[N_PATHS] = { "pcsc", "direct" };

struct stats {
	double median_ms, p95_ms, mean_ms, min_ms;
	int n;
};

/* a whole operation as users see it: a shell command (stock OpenSC's
 * pkcs11-tool), run --op-runs times */
struct bench_op {
	const char *name;
	const char *cmd;
	struct stats st;
};

/* --op-count NAME=APDUS/REPORTS: what the operation NAME sends, counted
 * elsewhere (run-bench.sh: a simulator's packet log); reports both ways */
struct op_count {
	const char *name;
	long apdus, reports;
};
static struct op_count op_counts[MAX_OPS];
static int n_op_counts;

static const struct op_count *
find_op_count(const char *name)
{
	int i;

	for (i = 0; i < n_op_counts; i++)
		if (strcmp(op_counts[i].name, name) == 0)
			return &op_counts[i];
	return NULL;
}

struct bench_case {
	const char *label;
	const char *reader;    /* substring of the PC/SC reader name */
	const char *device;    /* unix:/path */
	int interval_ms;       /* the simulator's --report-interval */
	/* results */
	struct stats st[N_KINDS][N_PATHS];
	size_t resp_seen[N_KINDS]; /* R-APDU length answered, SW included */
	size_t req_reports[N_KINDS], resp_reports[N_KINDS];
	/* APDUs per series for each kind: --series, or fewer without pacing
	 * (unpaced_series()); 0: not measured */
	int series[N_KINDS];
	double cpu_pcscd_us, cpu_client_us; /* per short APDU; < 0: unknown */
	struct bench_op ops[MAX_OPS];
	int nops;
	/* samples while measuring: rounds x series per kind and path */
	double *v[N_KINDS][N_PATHS];
	/* handles */
	SCARDHANDLE card;
	ol_hid_t *hid;
	ol_ctap_t *ctap;
};

static SCARDCONTEXT ctx;

/* --- scaling: 1, 2, 4 devices used at once by parallel PC/SC clients --- */
#define MAX_SCALE 4

struct scale_client {
	const char *reader;
	int apdus;
	double *ms;            /* apdus latencies */
	pthread_barrier_t *go;
	int failed;
};

struct scale_row {
	int devices;
	struct stats st;
	double apdus_per_s;
	double cpu_pcscd_us;   /* per APDU; < 0: unknown */
};

static const char *scale_readers[MAX_SCALE];
static int n_scale_readers;
static struct scale_row scale_rows[3];
static int n_scale_rows;

/* CTAPHID reports a message of len bytes takes (init + continuations) */
static size_t
reports_for(size_t len)
{
	if (len <= CTAPHID_INIT_DATA)
		return 1;
	return 1 + (len - CTAPHID_INIT_DATA + CTAPHID_CONT_DATA - 1) /
	    CTAPHID_CONT_DATA;
}

/* nearest-rank percentiles of v[0..n-1] (sorted here) */
static void
compute_stats(double *v, int n, struct stats *st)
{
	double sum = 0;
	int i;

	st->n = n;
	st->mean_ms = st->min_ms = 0;
	bench_percentiles(v, n > 0 ? (size_t)n : 0, &st->median_ms,
	    &st->p95_ms);
	if (n == 0)
		return;
	for (i = 0; i < n; i++)
		sum += v[i];
	st->mean_ms = sum / n;
	st->min_ms = v[0];
}

static int
check_resp(const struct apdu_kind *k, const uint8_t *r, size_t len,
    const char *label, const char *path)
{
	if (len < 2 || r[len - 2] != 0x90 || r[len - 1] != 0x00 ||
	    (k->resp_len != 0 && len != k->resp_len)) {
		fprintf(stderr, "openloop-bench: %s/%s %s: %zu bytes, SW %02X%02X\n",
		    label, path, k->name, len, len >= 2 ? r[len - 2] : 0,
		    len >= 2 ? r[len - 1] : 0);
		return -1;
	}
	return 0;
}

static int
pcsc_apdu(struct bench_case *c, const struct apdu_kind *k, uint8_t *resp,
    size_t *resp_len)
{
	DWORD len = RESP_CAP;
	LONG rv;

	rv = SCardTransmit(c->card, SCARD_PCI_T1, k->capdu,
	    (DWORD)k->capdu_len, NULL, resp, &len);
	if (rv != SCARD_S_SUCCESS) {
		fprintf(stderr, "openloop-bench: %s: SCardTransmit %s: %s\n",
		    c->label, k->name, pcsc_stringify_error(rv));
		return -1;
	}
	*resp_len = len;
	return 0;
}

static int
direct_apdu(struct bench_case *c, const struct apdu_kind *k, uint8_t *resp,
    size_t *resp_len)
{
	int r = ol_ctap_apdu(c->ctap, k->capdu, k->capdu_len, resp, RESP_CAP,
	    resp_len);

	if (r != OL_OK) {
		fprintf(stderr, "openloop-bench: %s: CTAPHID APDU %s: %s\n",
		    c->label, k->name, ol_strerror(r));
		return -1;
	}
	return 0;
}

/* one timed APDU on one path; returns milliseconds or < 0 */
static double
timed_apdu(struct bench_case *c, size_t ki, int path)
{
	static uint8_t resp[RESP_CAP];
	const struct apdu_kind *k = &kinds[ki];
	size_t len = 0;
	double t0, t1;
	int r;

	t0 = bench_now_ms();
	r = path == PATH_PCSC ? pcsc_apdu(c, k, resp, &len) :
	    direct_apdu(c, k, resp, &len);
	t1 = bench_now_ms();
	if (r != 0 || check_resp(k, resp, len, c->label, path_names[path]))
		return -1;
	c->resp_seen[ki] = len;
	return t1 - t0;
}

static int
open_case(struct bench_case *c, const char *readers, DWORD readers_len)
{
	const char *r;
	DWORD proto;
	LONG rv;
	int e;

	for (r = readers; r < readers + readers_len && *r; r += strlen(r) + 1)
		if (strstr(r, c->reader) != NULL)
			break;
	if (r >= readers + readers_len || !*r) {
		fprintf(stderr, "openloop-bench: %s: no reader matching '%s'\n",
		    c->label, c->reader);
		return -1;
	}
	if ((rv = SCardConnect(ctx, r, SCARD_SHARE_SHARED, SCARD_PROTOCOL_T1,
	    &c->card, &proto)) != SCARD_S_SUCCESS) {
		fprintf(stderr, "openloop-bench: %s: SCardConnect(%s): %s\n",
		    c->label, r, pcsc_stringify_error(rv));
		return -1;
	}
	if ((e = ol_hid_open(c->device, &c->hid)) != OL_OK ||
	    (e = ol_ctap_new(c->hid, NULL, &c->ctap)) != OL_OK ||
	    (e = ol_ctap_init(c->ctap)) != OL_OK) {
		fprintf(stderr, "openloop-bench: %s: %s: %s\n", c->label,
		    c->device, ol_strerror(e));
		return -1;
	}
	return 0;
}

static void
close_case(struct bench_case *c)
{
	if (c->card)
		SCardDisconnect(c->card, SCARD_LEAVE_CARD);
	ol_ctap_free(&c->ctap);
	ol_hid_close(&c->hid);
}

/*
 * While one path runs a series, the other path's handle receives every
 * report too (hidraw broadcasts) and fills up to 63 unread, which its next
 * exchange drains (on the simulator's socket with DRAIN,
 * src/transport/sim_socket.h).  An application sending APDUs back to back
 * pays no such drain, so each series starts with one unmeasured short
 * APDU on its path.
 *
 * Without pacing the simulator sends a whole answer at once: an answer
 * over 62 reports cannot fit the ring of a reader that is not already
 * waiting for it, and is not measured (a real device never bursts).
 */
static int
unpaced_series(const struct apdu_kind *k, int series)
{
	return reports_for(k->resp_len ? k->resp_len : 2) > 62 ? 0 : series;
}

/*
 * N rounds; in each, every case in turn (the first case rotates from
 * round to round), and in each case, for every kind, a series of S APDUs
 * back to back on one path, then a series on the other (which path goes
 * first alternates too), so that a load that comes and goes on the
 * machine touches every case and path alike: pacing-off and vpcd are
 * compared within the same rounds.  Back to back is how applications talk
 * to a card (an OpenSC operation is a series of APDUs).  Each series
 * follows one unmeasured short APDU on its path (see above).  Every APDU
 * of a series counts: N x S per figure.
 */
static int
case_prepare(struct bench_case *c, int n, int series)
{
	size_t ki;
	int p;

	for (ki = 0; ki < N_KINDS; ki++) {
		c->series[ki] = c->interval_ms == 0 ?
		    unpaced_series(&kinds[ki], series) : series;
		for (p = 0; p < N_PATHS; p++)
			if ((c->v[ki][p] = calloc((size_t)(n * series) + 1,
			    sizeof(double))) == NULL)
				return -1;
	}
	return 0;
}

/* round i (< 0: warm-up, not kept) of one case */
static int
case_round(struct bench_case *c, int i, int warmup)
{
	size_t ki;
	int j, p, q;
	double ms;

	for (ki = 0; ki < N_KINDS; ki++) {
		for (q = 0; q < N_PATHS; q++) {
			p = (q + i + warmup) % N_PATHS;
			if (c->series[ki] > 0 && timed_apdu(c, 0, p) < 0)
				return -1;
			for (j = 0; j < c->series[ki]; j++) {
				if ((ms = timed_apdu(c, ki, p)) < 0)
					return -1;
				if (i >= 0)
					c->v[ki][p][i * c->series[ki] + j] = ms;
			}
		}
	}
	return 0;
}

static void
case_finish(struct bench_case *c, int n, int ok)
{
	size_t ki;
	int p;

	for (ki = 0; ki < N_KINDS; ki++) {
		c->req_reports[ki] = reports_for(kinds[ki].capdu_len);
		c->resp_reports[ki] = reports_for(c->resp_seen[ki]);
		for (p = 0; p < N_PATHS; p++) {
			if (ok && c->v[ki][p] != NULL)
				compute_stats(c->v[ki][p], n * c->series[ki],
				    &c->st[ki][p]);
			free(c->v[ki][p]);
			c->v[ki][p] = NULL;
		}
	}
}

static int
measure_cases(struct bench_case *cs, int ncases, int n, int series,
    int warmup)
{
	int i, k, rc = 0;

	for (k = 0; k < ncases && rc == 0; k++)
		rc = case_prepare(&cs[k], n, series);
	for (i = -warmup; i < n && rc == 0; i++)
		for (k = 0; k < ncases && rc == 0; k++)
			rc = case_round(&cs[(k + i + warmup) % ncases], i,
			    warmup);
	for (k = 0; k < ncases; k++)
		case_finish(&cs[k], n, rc == 0);
	return rc;
}

static double
self_cpu_us(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e6 +
	    (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
}

/* CPU per short APDU through pcscd: pcscd's (the driver runs inside it)
 * and this client's, over `count` APDUs in a row.  Clock ticks are 10 ms,
 * so the run must be long enough for the figure to mean something. */
static int
measure_cpu(struct bench_case *c, int count, long pcscd_pid)
{
	double p0, p1, s0, s1;
	int i;

	p0 = pcscd_pid > 0 ? bench_proc_cpu_us(pcscd_pid) : -1;
	s0 = self_cpu_us();
	for (i = 0; i < count; i++)
		if (timed_apdu(c, 0, PATH_PCSC) < 0)
			return -1;
	s1 = self_cpu_us();
	p1 = pcscd_pid > 0 ? bench_proc_cpu_us(pcscd_pid) : -1;
	c->cpu_pcscd_us = p0 >= 0 && p1 >= 0 ? (p1 - p0) / count : -1;
	c->cpu_client_us = (s1 - s0) / count;
	return 0;
}

/* runs cmd with sh -c, its output thrown away (and its messages, if
 * quiet); milliseconds, < 0 if it failed */
static double
timed_command(const char *cmd, int quiet)
{
	double t0, t1;
	pid_t pid;
	int st;

	t0 = bench_now_ms();
	if ((pid = fork()) == -1)
		return -1;
	if (pid == 0) {
		if (freopen("/dev/null", "w", stdout) == NULL ||
		    (quiet && freopen("/dev/null", "w", stderr) == NULL))
			_exit(127);
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	while (waitpid(pid, &st, 0) == -1)
		if (errno != EINTR)
			return -1;
	t1 = bench_now_ms();
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? t1 - t0 : -1;
}

/* every op once unmeasured (OpenSC's first run differs), then `runs`
 * rounds of all ops in turn */
static int
measure_ops(struct bench_case *c, int runs)
{
	double *v[MAX_OPS];
	int i, o, rc = 0;

	if (c->nops == 0)
		return 0;
	for (o = 0; o < c->nops; o++)
		if ((v[o] = calloc((size_t)runs, sizeof(double))) == NULL)
			return -1;
	for (i = -1; i < runs && rc == 0; i++) {
		for (o = 0; o < c->nops; o++) {
			double ms = timed_command(c->ops[o].cmd, 1);

			if (ms < 0) {
				fprintf(stderr, "openloop-bench: %s: op %s "
				    "failed: %s\nagain, with its messages:\n",
				    c->label, c->ops[o].name, c->ops[o].cmd);
				(void)timed_command(c->ops[o].cmd, 0);
				rc = -1;
				break;
			}
			if (i >= 0)
				v[o][i] = ms;
		}
	}
	for (o = 0; o < c->nops; o++) {
		if (rc == 0)
			compute_stats(v[o], runs, &c->ops[o].st);
		free(v[o]);
	}
	return rc;
}

/* one client: its own context (pcsc-lite wants one per thread), its own
 * reader, a few unmeasured APDUs, then the barrier and `apdus` short ones
 * back to back */
static void *
scale_thread(void *arg)
{
	struct scale_client *sc = arg;
	SCARDCONTEXT tctx;
	SCARDHANDLE card;
	char *readers = NULL, *r;
	DWORD rlen = SCARD_AUTOALLOCATE, proto;
	uint8_t resp[RESP_CAP];
	int i, connected = 0, ok = 0;

	if (SCardEstablishContext(SCARD_SCOPE_SYSTEM, NULL, NULL, &tctx) !=
	    SCARD_S_SUCCESS) {
		sc->failed = 1;
		pthread_barrier_wait(sc->go);
		return NULL;
	}
	if (SCardListReaders(tctx, NULL, (LPSTR)&readers, &rlen) ==
	    SCARD_S_SUCCESS) {
		for (r = readers; r < readers + rlen && *r; r += strlen(r) + 1)
			if (strstr(r, sc->reader) != NULL)
				break;
		if (r < readers + rlen && *r && SCardConnect(tctx, r,
		    SCARD_SHARE_SHARED, SCARD_PROTOCOL_T1, &card, &proto) ==
		    SCARD_S_SUCCESS)
			connected = 1;
		SCardFreeMemory(tctx, readers);
	}
	ok = connected;
	for (i = 0; ok && i < 5; i++) {
		DWORD len = sizeof(resp);

		ok = SCardTransmit(card, SCARD_PCI_T1, kinds[0].capdu,
		    (DWORD)kinds[0].capdu_len, NULL, resp, &len) ==
		    SCARD_S_SUCCESS && len >= 2 && resp[len - 2] == 0x90;
	}
	pthread_barrier_wait(sc->go);
	for (i = 0; ok && i < sc->apdus; i++) {
		DWORD len = sizeof(resp);
		double t0 = bench_now_ms();

		ok = SCardTransmit(card, SCARD_PCI_T1, kinds[0].capdu,
		    (DWORD)kinds[0].capdu_len, NULL, resp, &len) ==
		    SCARD_S_SUCCESS && len >= 2 && resp[len - 2] == 0x90;
		sc->ms[i] = bench_now_ms() - t0;
	}
	if (!ok) {
		fprintf(stderr, "openloop-bench: scaling: %s failed\n",
		    sc->reader);
		sc->failed = 1;
	}
	if (connected)
		SCardDisconnect(card, SCARD_LEAVE_CARD);
	SCardReleaseContext(tctx);
	return NULL;
}

/* k parallel clients on k devices, each `apdus` short APDUs */
static int
measure_scale(int k, int apdus, long pcscd_pid, struct scale_row *row)
{
	struct scale_client sc[MAX_SCALE];
	pthread_t th[MAX_SCALE];
	pthread_barrier_t go;
	double *all, t0, t1, c0, c1;
	int i, rc = 0;

	if ((all = calloc((size_t)(k * apdus), sizeof(double))) == NULL)
		return -1;
	pthread_barrier_init(&go, NULL, (unsigned)k + 1);
	for (i = 0; i < k; i++) {
		sc[i].reader = scale_readers[i];
		sc[i].apdus = apdus;
		sc[i].ms = all + i * apdus;
		sc[i].go = &go;
		sc[i].failed = 0;
		pthread_create(&th[i], NULL, scale_thread, &sc[i]);
	}
	pthread_barrier_wait(&go);
	c0 = pcscd_pid > 0 ? bench_proc_cpu_us(pcscd_pid) : -1;
	t0 = bench_now_ms();
	for (i = 0; i < k; i++) {
		pthread_join(th[i], NULL);
		if (sc[i].failed)
			rc = -1;
	}
	t1 = bench_now_ms();
	c1 = pcscd_pid > 0 ? bench_proc_cpu_us(pcscd_pid) : -1;
	pthread_barrier_destroy(&go);
	row->devices = k;
	if (rc == 0) {
		compute_stats(all, k * apdus, &row->st);
		row->apdus_per_s = k * apdus / ((t1 - t0) / 1e3);
		row->cpu_pcscd_us = c0 >= 0 && c1 >= 0 ?
		    (c1 - c0) / (k * apdus) : -1;
	}
	free(all);
	return rc;
}

static double
floor_ms(const struct bench_case *c, size_t ki)
{
	return (double)(c->req_reports[ki] + c->resp_reports[ki]) *
	    c->interval_ms;
}

static void
print_table(const struct bench_case *cs, int ncases, int n, int cpu_apdus)
{
	size_t ki;
	int i;

	printf("openloop-bench: %d rounds; times in ms, median / p95 of "
	    "rounds x series APDUs\n\n", n);
	printf("%-10s %-6s %6s %7s %-19s %-19s %6s %7s\n", "case", "apdu",
	    "series", "reports", "pcsc (pcscd+driver)", "direct (CTAPHID)",
	    "floor", "driver+");
	for (i = 0; i < ncases; i++) {
		const struct bench_case *c = &cs[i];

		for (ki = 0; ki < N_KINDS; ki++) {
			const struct stats *a = &c->st[ki][PATH_PCSC];
			const struct stats *d = &c->st[ki][PATH_DIRECT];
			char rep[16], pc[32], di[32];

			if (c->series[ki] == 0) {
				printf("%-10s %-6s %6d %7s %s\n", c->label,
				    kinds[ki].name, 0, "", "not measured without "
				    "pacing: one burst overflows hidraw's ring");
				continue;
			}
			snprintf(rep, sizeof(rep), "%zu+%zu",
			    c->req_reports[ki], c->resp_reports[ki]);
			snprintf(pc, sizeof(pc), "%7.3f / %7.3f", a->median_ms,
			    a->p95_ms);
			snprintf(di, sizeof(di), "%7.3f / %7.3f", d->median_ms,
			    d->p95_ms);
			printf("%-10s %-6s %6d %7s %-19s %-19s %6.1f %7.3f\n",
			    c->label, kinds[ki].name, c->series[ki], rep, pc, di,
			    floor_ms(c, ki), a->median_ms - d->median_ms);
		}
	}
	printf("\nseries: APDUs back to back per path, after one unmeasured "
	    "(docs/performance.md);\nreports: 64-byte reports "
	    "out+in; floor: reports x report interval (one per USB frame\n"
	    "each way); driver+: pcsc median minus direct median, what pcscd "
	    "and the driver add\n");
	for (i = 0; i < ncases; i++) {
		const struct bench_case *c = &cs[i];
		int o;

		if (c->nops == 0)
			continue;
		printf("\nwhole operations, %s, %d runs (each a process: "
		    "C_Initialize and enumeration included)\n  %-14s %-21s "
		    "%6s %8s %9s\n", c->label, c->ops[0].st.n, "operation",
		    "ms median / p95", "APDUs", "reports", "floor ms");
		for (o = 0; o < c->nops; o++) {
			const struct op_count *oc = find_op_count(c->ops[o].name);

			printf("  %-14s %9.1f / %9.1f", c->ops[o].name,
			    c->ops[o].st.median_ms, c->ops[o].st.p95_ms);
			if (oc != NULL)
				printf(" %6ld %8ld %9ld", oc->apdus, oc->reports,
				    oc->reports * c->interval_ms);
			printf("\n");
		}
	}
	if (n_scale_rows > 0) {
		printf("\nscaling: k devices used at once, one PC/SC client "
		    "each, short APDUs back to back\n  %-8s %-19s %10s %14s\n",
		    "devices", "ms median / p95", "APDUs/s", "pcscd us/APDU");
		for (i = 0; i < n_scale_rows; i++) {
			const struct scale_row *r = &scale_rows[i];

			printf("  %-8d %7.3f / %7.3f   %10.0f %14.1f\n",
			    r->devices, r->st.median_ms, r->st.p95_ms,
			    r->apdus_per_s, r->cpu_pcscd_us);
		}
	}
	if (cpu_apdus > 0) {
		printf("\nCPU per short APDU over %d APDUs (utime+stime, "
		    "clock ticks of %ld us):\n", cpu_apdus,
		    1000000L / sysconf(_SC_CLK_TCK));
		for (i = 0; i < ncases; i++) {
			if (cs[i].cpu_pcscd_us >= 0)
				printf("  %-10s pcscd+driver %7.1f us   client "
				    "%7.1f us\n", cs[i].label, cs[i].cpu_pcscd_us,
				    cs[i].cpu_client_us);
			else
				printf("  %-10s pcscd+driver (no --pcscd-pid)   "
				    "client %7.1f us\n", cs[i].label,
				    cs[i].cpu_client_us);
		}
	}
}

static void
json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fprintf(f, "\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			fprintf(f, "\\u%04x", (unsigned char)*s);
		else
			fputc(*s, f);
	}
	fputc('"', f);
}

static int
write_json(const char *file, const struct bench_case *cs, int ncases, int n,
    int series, int cpu_apdus)
{
	char host[256] = "";
	size_t ki;
	int i, p;
	FILE *f;

	if ((f = fopen(file, "w")) == NULL) {
		fprintf(stderr, "openloop-bench: %s: %s\n", file,
		    strerror(errno));
		return -1;
	}
	gethostname(host, sizeof(host) - 1);
	fprintf(f, "{\n  \"tool\": \"openloop-bench\",\n  \"version\": ");
	json_str(f, PACKAGE_VERSION);
	fprintf(f, ",\n  \"host\": ");
	json_str(f, host);
	fprintf(f, ",\n  \"time\": %lld,\n  \"rounds\": %d,\n"
	    "  \"series\": %d,\n  \"cpu_apdus\": %d,\n  \"cases\": [\n",
	    (long long)time(NULL), n, series, cpu_apdus);
	for (i = 0; i < ncases; i++) {
		const struct bench_case *c = &cs[i];

		fprintf(f, "    {\n      \"label\": ");
		json_str(f, c->label);
		fprintf(f, ",\n      \"reader\": ");
		json_str(f, c->reader);
		fprintf(f, ",\n      \"report_interval_ms\": %d,\n",
		    c->interval_ms);
		if (cpu_apdus > 0) {
			if (c->cpu_pcscd_us >= 0)
				fprintf(f, "      \"cpu_pcscd_us_per_apdu\": "
				    "%.2f,\n", c->cpu_pcscd_us);
			else
				fprintf(f, "      \"cpu_pcscd_us_per_apdu\": "
				    "null,\n");
			fprintf(f, "      \"cpu_client_us_per_apdu\": %.2f,\n",
			    c->cpu_client_us);
		}
		if (c->nops > 0) {
			int o;

			fprintf(f, "      \"operations\": [\n");
			for (o = 0; o < c->nops; o++) {
				const struct stats *st = &c->ops[o].st;

				fprintf(f, "        { \"name\": ");
				json_str(f, c->ops[o].name);
				fprintf(f, ", \"command\": ");
				json_str(f, c->ops[o].cmd);
				const struct op_count *oc =
				    find_op_count(c->ops[o].name);

				if (oc != NULL)
					fprintf(f, ", \"apdus\": %ld, \"reports\": "
					    "%ld, \"floor_ms\": %ld", oc->apdus,
					    oc->reports, oc->reports *
					    c->interval_ms);
				fprintf(f, ", \"n\": %d, \"median_ms\": %.3f, "
				    "\"p95_ms\": %.3f, \"min_ms\": %.3f }%s\n",
				    st->n, st->median_ms, st->p95_ms,
				    st->min_ms, o + 1 < c->nops ? "," : "");
			}
			fprintf(f, "      ],\n");
		}
		fprintf(f, "      \"apdus\": [\n");
		for (ki = 0; ki < N_KINDS; ki++) {
			fprintf(f, "        {\n          \"name\": ");
			json_str(f, kinds[ki].name);
			fprintf(f, ",\n          \"what\": ");
			json_str(f, kinds[ki].what);
			if (c->series[ki] == 0) {
				fprintf(f, ",\n          \"skipped\": \"without "
				    "pacing, one answer overflows hidraw's "
				    "63-report ring\"\n        }%s\n",
				    ki + 1 < N_KINDS ? "," : "");
				continue;
			}
			fprintf(f, ",\n          \"series\": %d", c->series[ki]);
			fprintf(f, ",\n          \"request_reports\": %zu,\n"
			    "          \"response_reports\": %zu,\n"
			    "          \"floor_ms\": %.3f",
			    c->req_reports[ki], c->resp_reports[ki],
			    floor_ms(c, ki));
			for (p = 0; p < N_PATHS; p++) {
				const struct stats *s = &c->st[ki][p];

				fprintf(f, ",\n          \"%s\": { \"n\": %d, "
				    "\"median_ms\": %.4f, \"p95_ms\": %.4f, "
				    "\"mean_ms\": %.4f, \"min_ms\": %.4f }",
				    path_names[p], s->n, s->median_ms,
				    s->p95_ms, s->mean_ms, s->min_ms);
			}
			fprintf(f, "\n        }%s\n", ki + 1 < N_KINDS ? "," : "");
		}
		fprintf(f, "      ]\n    }%s\n", i + 1 < ncases ? "," : "");
	}
	fprintf(f, "  ],\n  \"scaling\": [\n");
	for (i = 0; i < n_scale_rows; i++) {
		const struct scale_row *r = &scale_rows[i];

		fprintf(f, "    { \"devices\": %d, \"n\": %d, \"median_ms\": "
		    "%.4f, \"p95_ms\": %.4f, \"apdus_per_s\": %.1f, "
		    "\"cpu_pcscd_us_per_apdu\": %.2f }%s\n", r->devices,
		    r->st.n, r->st.median_ms, r->st.p95_ms, r->apdus_per_s,
		    r->cpu_pcscd_us, i + 1 < n_scale_rows ? "," : "");
	}
	fprintf(f, "  ]\n}\n");
	if (fclose(f) != 0) {
		fprintf(stderr, "openloop-bench: %s: %s\n", file,
		    strerror(errno));
		return -1;
	}
	return 0;
}

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: openloop-bench [-n ROUNDS] [--series S] [--warmup ROUNDS]\n"
	    "           [--cpu-apdus N] [--pcscd-pid PID] [--op-runs N]\n"
	    "           [--scale-reader NAME ... [--scale-apdus N]]\n"
	    "           [--op-count NAME=APDUS/REPORTS ...] [--json FILE]\n"
	    "           --case LABEL --reader NAME --device unix:PATH\n"
	    "           --report-interval MS [--op NAME=COMMAND ...]\n"
	    "           [--case ...]\n"
	    "Each --case is one simulated device: its PC/SC reader (a\n"
	    "substring of the name) and its socket; --report-interval is the\n"
	    "simulator's, for the frame floor.  Each figure is over\n"
	    "ROUNDS x S APDUs (series of S back to back per path).  Each --op\n"
	    "is a shell command (a whole operation, e.g. pkcs11-tool -L)\n"
	    "timed --op-runs times after the APDUs.  With --scale-reader\n"
	    "(up to 4), 1, 2, 4 of those readers are used at once by\n"
	    "parallel clients, N short APDUs each.  Needs a running pcscd.\n");
}

static int
parse_int(const char *opt, const char *s, int min, int max, int *out)
{
	return bench_parse_int("openloop-bench", opt, s, min, max, out);
}

int
main(int argc, char **argv)
{
	enum { O_CASE = 256, O_READER, O_DEVICE, O_INTERVAL, O_JSON, O_CPU,
	    O_PID, O_WARMUP, O_SERIES, O_OP, O_OP_RUNS, O_SCALE_READER,
	    O_SCALE_APDUS, O_OP_COUNT };
	static const struct option lopts[] = {
		{ "rounds", required_argument, NULL, 'n' },
		{ "warmup", required_argument, NULL, O_WARMUP },
		{ "series", required_argument, NULL, O_SERIES },
		{ "op", required_argument, NULL, O_OP },
		{ "op-runs", required_argument, NULL, O_OP_RUNS },
		{ "scale-reader", required_argument, NULL, O_SCALE_READER },
		{ "scale-apdus", required_argument, NULL, O_SCALE_APDUS },
		{ "op-count", required_argument, NULL, O_OP_COUNT },
		{ "case", required_argument, NULL, O_CASE },
		{ "reader", required_argument, NULL, O_READER },
		{ "device", required_argument, NULL, O_DEVICE },
		{ "report-interval", required_argument, NULL, O_INTERVAL },
		{ "json", required_argument, NULL, O_JSON },
		{ "cpu-apdus", required_argument, NULL, O_CPU },
		{ "pcscd-pid", required_argument, NULL, O_PID },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	static struct bench_case cs[MAX_CASES];
	struct bench_case *cur = NULL;
	const char *json = NULL;
	int n = 200, series = 4, warmup = 10, op_runs = 10, scale_apdus = 200, cpu_apdus = 0, pid = 0, ncases = 0;
	int opt, i, rc = 0;
	char *readers = NULL;
	DWORD rlen = SCARD_AUTOALLOCATE;
	LONG rv;

	while ((opt = getopt_long(argc, argv, "n:h", lopts, NULL)) != -1) {
		if (((opt >= O_READER && opt <= O_INTERVAL) || opt == O_OP) &&
		    cur == NULL) {
			fprintf(stderr, "openloop-bench: --case LABEL first\n");
			return 2;
		}
		switch (opt) {
		case 'n':
			if (parse_int("-n", optarg, 1, 1000000, &n))
				return 2;
			break;
		case O_WARMUP:
			if (parse_int("--warmup", optarg, 0, 10000, &warmup))
				return 2;
			break;
		case O_OP: {
			char *eq = strchr(optarg, '=');

			if (eq == NULL || eq == optarg || cur->nops == MAX_OPS) {
				fprintf(stderr, "openloop-bench: --op NAME=COMMAND"
				    " (at most %d per case)\n", MAX_OPS);
				return 2;
			}
			*eq = '\0';
			cur->ops[cur->nops].name = optarg;
			cur->ops[cur->nops++].cmd = eq + 1;
			break;
		}
		case O_OP_COUNT: {
			char *eq = strchr(optarg, '='), *end;
			struct op_count *oc = &op_counts[n_op_counts];

			if (eq == NULL || eq == optarg || n_op_counts == MAX_OPS)
				goto bad_count;
			*eq = '\0';
			oc->name = optarg;
			oc->apdus = strtol(eq + 1, &end, 10);
			if (end == eq + 1 || *end != '/' || oc->apdus < 0)
				goto bad_count;
			oc->reports = strtol(end + 1, &end, 10);
			if (*end != '\0' || oc->reports < 0)
				goto bad_count;
			n_op_counts++;
			break;
bad_count:
			fprintf(stderr, "openloop-bench: --op-count "
			    "NAME=APDUS/REPORTS (at most %d)\n", MAX_OPS);
			return 2;
		}
		case O_SCALE_READER:
			if (n_scale_readers == MAX_SCALE) {
				fprintf(stderr, "openloop-bench: at most %d "
				    "--scale-reader\n", MAX_SCALE);
				return 2;
			}
			scale_readers[n_scale_readers++] = optarg;
			break;
		case O_SCALE_APDUS:
			if (parse_int("--scale-apdus", optarg, 1, 10000000,
			    &scale_apdus))
				return 2;
			break;
		case O_OP_RUNS:
			if (parse_int("--op-runs", optarg, 1, 100000, &op_runs))
				return 2;
			break;
		case O_SERIES:
			if (parse_int("--series", optarg, 1, 1000, &series))
				return 2;
			break;
		case O_CASE:
			if (ncases == MAX_CASES) {
				fprintf(stderr, "openloop-bench: at most %d "
				    "cases\n", MAX_CASES);
				return 2;
			}
			cur = &cs[ncases++];
			cur->label = optarg;
			cur->interval_ms = -1;
			cur->cpu_pcscd_us = cur->cpu_client_us = -1;
			break;
		case O_READER:
			cur->reader = optarg;
			break;
		case O_DEVICE:
			cur->device = optarg;
			break;
		case O_INTERVAL:
			if (parse_int("--report-interval", optarg, 0, 1000,
			    &cur->interval_ms))
				return 2;
			break;
		case O_JSON:
			json = optarg;
			break;
		case O_CPU:
			if (parse_int("--cpu-apdus", optarg, 0, 10000000,
			    &cpu_apdus))
				return 2;
			break;
		case O_PID:
			if (parse_int("--pcscd-pid", optarg, 1, 1 << 30, &pid))
				return 2;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc || (ncases == 0 && n_scale_readers == 0)) {
		usage(stderr);
		return 2;
	}
	for (i = 0; i < ncases; i++) {
		if (!cs[i].reader || !cs[i].device || cs[i].interval_ms < 0) {
			fprintf(stderr, "openloop-bench: case %s needs "
			    "--reader, --device and --report-interval\n",
			    cs[i].label);
			return 2;
		}
	}

	ol_log_set_mask(OL_LOG_CRITICAL);
	if ((rv = SCardEstablishContext(SCARD_SCOPE_SYSTEM, NULL, NULL,
	    &ctx)) != SCARD_S_SUCCESS) {
		fprintf(stderr, "openloop-bench: SCardEstablishContext: %s\n",
		    pcsc_stringify_error(rv));
		return 1;
	}
	if ((rv = SCardListReaders(ctx, NULL, (LPSTR)&readers, &rlen)) !=
	    SCARD_S_SUCCESS) {
		fprintf(stderr, "openloop-bench: SCardListReaders: %s\n",
		    pcsc_stringify_error(rv));
		SCardReleaseContext(ctx);
		return 1;
	}
	for (i = 0; i < ncases && rc == 0; i++)
		if (open_case(&cs[i], readers, rlen) != 0)
			rc = 1;
	if (rc == 0 && measure_cases(cs, ncases, n, series, warmup) != 0)
		rc = 1;
	for (i = 0; i < ncases && rc == 0; i++)
		if (cpu_apdus > 0 && measure_cpu(&cs[i], cpu_apdus, pid) != 0)
			rc = 1;
	for (i = 0; i < ncases; i++)
		close_case(&cs[i]);
	/* after the APDUs, with no handle of ours open: each op is a process
	 * of its own, as a user runs it */
	for (i = 0; i < ncases && rc == 0; i++)
		if (measure_ops(&cs[i], op_runs) != 0)
			rc = 1;
	for (i = 1; i <= n_scale_readers && rc == 0; i *= 2)
		if (measure_scale(i, scale_apdus, pid,
		    &scale_rows[n_scale_rows++]) != 0)
			rc = 1;
	SCardFreeMemory(ctx, readers);
	SCardReleaseContext(ctx);
	if (rc != 0)
		return rc;
	print_table(cs, ncases, n, cpu_apdus);
	if (json && write_json(json, cs, ncases, n, series, cpu_apdus) != 0)
		return 1;
	return 0;
}
