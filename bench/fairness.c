/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * openloop-bench-fairness: how the device lock shares one device between
 * a PC/SC application and a FIDO client, and what the driver costs while
 * nothing happens (docs/performance.md, "Fairness and idle").
 *
 * The FIDO client does what libfido2 does on a hidraw node, on the
 * simulator's lock file (tests/unit/libfido2_lock.h, libfido2 1.12's): it
 * opens the file, tries flock(LOCK_EX|LOCK_NB) and sleeps 100, 200, ...
 * ms between tries (21 at most), opens the file again and locks it
 * again if it had to wait, then runs
 * CTAPHID INIT and authenticatorGetInfo on a channel of its own, holds
 * the lock for the rest of its session and closes.  (On a real node
 * libfido2 itself does this; the guest test of the FIDO2 issue measures
 * that.)
 *
 *   a "FIDO client starts while a PC/SC loop runs flat out": the time
 *     from its open to its lock, and the PC/SC APDUs' latency meanwhile
 *   b "FIDO sessions back to back": a PC/SC client's APDU latency (is it
 *     starved?) against a FIDO client that starts a new session 10 ms
 *     after the last one ended, as a program started again would.  (One
 *     that locks again within microseconds of its close cannot be beaten
 *     by any flock() user: the kernel hands the lock to whoever asks
 *     first.)
 *   c "idle": pcscd's CPU (the driver runs inside it) over N seconds with
 *     the readers present and no application
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <PCSC/winscard.h>

#include "bench_util.h"
#include "ctaphid.h"
#include "ctaphid_host.h"
#include "hid_dev.h"
#include "libfido2_lock.h"
#include "ol_err.h"
#include "ol_log.h"

#define PROG "openloop-bench-fairness"
#define FIDO_TRIES (LIBFIDO2_LOCK_RETRIES + 1)  /* then it gives up */

static const BYTE select_piv[] = {
	0x00, 0xa4, 0x04, 0x00, 0x09, 0xa0, 0x00, 0x00, 0x03, 0x08, 0x00,
	0x00, 0x10, 0x00
};

struct series {
	double *v;
	size_t n, cap;
};

struct summary {
	size_t n;
	double median, p95, max;
};

static int
series_add(struct series *s, double v)
{
	double *grown;
	size_t cap;

	if (s->n == s->cap) {
		cap = s->cap ? 2 * s->cap : 1024;
		if ((grown = realloc(s->v, cap * sizeof(*grown))) == NULL)
			return -1;
		s->v = grown;
		s->cap = cap;
	}
	s->v[s->n++] = v;
	return 0;
}

static struct summary
summarize(struct series *s)
{
	struct summary r = { s->n, -1, -1, -1 };

	if (s->n == 0)
		return r;
	bench_percentiles(s->v, s->n, &r.median, &r.p95);
	r.max = s->v[s->n - 1];
	return r;
}

/* --- the PC/SC client ----------------------------------------------------- */

struct pcsc_loop {
	SCARDCONTEXT ctx;
	SCARDHANDLE card;
	volatile int stop;
	struct series lat;
	unsigned long errors;
	double started, ended;
};

/* Connects to the first reader whose name contains `reader` (pcscd adds
 * " 00 00" and the like to the configured name). */
static int
pcsc_connect(struct pcsc_loop *l, const char *reader)
{
	char *readers = NULL;
	const char *r = NULL;
	DWORD proto, len = SCARD_AUTOALLOCATE;
	LONG rv;

	if ((rv = SCardEstablishContext(SCARD_SCOPE_SYSTEM, NULL, NULL,
	    &l->ctx)) != SCARD_S_SUCCESS ||
	    (rv = SCardListReaders(l->ctx, NULL, (LPSTR)&readers, &len)) !=
	    SCARD_S_SUCCESS)
		goto fail;
	for (r = readers; r < readers + len && *r; r += strlen(r) + 1)
		if (strstr(r, reader) != NULL)
			break;
	rv = SCARD_E_UNKNOWN_READER;
	if (r >= readers + len || *r == '\0' ||
	    (rv = SCardConnect(l->ctx, r, SCARD_SHARE_SHARED,
	    SCARD_PROTOCOL_T1, &l->card, &proto)) != SCARD_S_SUCCESS)
		goto fail;
	SCardFreeMemory(l->ctx, readers);
	return 0;
fail:
	fprintf(stderr, "openloop-bench-fairness: %s: %s\n", reader,
	    pcsc_stringify_error(rv));
	if (readers != NULL)
		SCardFreeMemory(l->ctx, readers);
	return -1;
}

static void
pcsc_disconnect(struct pcsc_loop *l)
{
	SCardDisconnect(l->card, SCARD_LEAVE_CARD);
	SCardReleaseContext(l->ctx);
	free(l->lat.v);
	memset(&l->lat, 0, sizeof(l->lat));
}

static int
pcsc_apdu(struct pcsc_loop *l)
{
	BYTE resp[258];
	DWORD len = sizeof(resp);
	double t = bench_now_ms();

	if (SCardTransmit(l->card, SCARD_PCI_T1, select_piv,
	    sizeof(select_piv), NULL, resp, &len) != SCARD_S_SUCCESS ||
	    len < 2 || resp[len - 2] != 0x90) {
		l->errors++;
		return -1;
	}
	return series_add(&l->lat, bench_now_ms() - t);
}

static void *
pcsc_thread(void *arg)
{
	struct pcsc_loop *l = arg;

	l->started = bench_now_ms();
	while (!l->stop)
		(void)pcsc_apdu(l);
	l->ended = bench_now_ms();
	return NULL;
}

/* --- the FIDO client ------------------------------------------------------ */

struct fido_result {
	double wait_ms;    /* open to lock */
	int tries;
	int ok;
};

/* One libfido2-like session on the simulator at sock_path. */
static struct fido_result
fido_session(const char *sock_path, double hold_ms)
{
	static const uint8_t get_info[] = { 0x04 };
	struct fido_result res = { -1, 0, 0 };
	struct sockaddr_un sa;
	char lock_path[PATH_MAX];
	uint8_t resp[1024];
	ol_hid_t *hid = NULL;
	ol_ctap_t *c = NULL;
	size_t resp_len = 0;
	double t0;
	int lock_fd = -1, sfd = -1;

	snprintf(lock_path, sizeof(lock_path), "%s.lock", sock_path);
	t0 = bench_now_ms();
	if ((lock_fd = libfido2_lock_open(lock_path, &res.tries, NULL)) < 0)
		goto out;
	res.wait_ms = bench_now_ms() - t0;
	/* its own connection, which takes no lock of ours: it has its own */
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (strlen(sock_path) >= sizeof(sa.sun_path))
		goto out;
	memcpy(sa.sun_path, sock_path, strlen(sock_path));
	if ((sfd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0)) < 0 ||
	    connect(sfd, (struct sockaddr *)&sa, sizeof(sa)) != 0)
		goto out;
	if (ol_hid_wrap_fds(sfd, -1, "fido-client", &hid) != OL_OK) {
		sfd = -1;
		goto out;
	}
	sfd = -1;
	if (ol_ctap_new(hid, NULL, &c) != OL_OK ||
	    ol_ctap_transact(c, CTAPHID_CBOR, get_info, sizeof(get_info),
	    resp, sizeof(resp), &resp_len) != OL_OK || resp_len < 1 ||
	    resp[0] != 0x00)
		goto out;
	bench_sleep_ms(hold_ms);
	res.ok = 1;
out:
	ol_ctap_free(&c);
	ol_hid_close(&hid);
	if (sfd >= 0)
		close(sfd);
	if (lock_fd >= 0)
		close(lock_fd); /* ends its lock, as libfido2's close does */
	return res;
}

struct fido_loop {
	const char *sock_path;
	double hold_ms, gap_ms;
	volatile int stop;
	struct series wait;
	unsigned long sessions, failures;
};

static void *
fido_thread(void *arg)
{
	struct fido_loop *f = arg;
	struct fido_result r;

	while (!f->stop) {
		r = fido_session(f->sock_path, f->hold_ms);
		bench_sleep_ms(f->gap_ms);
		if (!r.ok) {
			f->failures++;
			continue;
		}
		f->sessions++;
		(void)series_add(&f->wait, r.wait_ms);
	}
	return NULL;
}

/* --- CPU of pcscd --------------------------------------------------------- */

static double
proc_cpu_ms(long pid)
{
	double us = bench_proc_cpu_us(pid);

	return us < 0 ? -1 : us / 1000.0;
}

/* Context switches (voluntary + not) of each thread of pid: the wake-ups
 * of an idle pcscd, thread by thread.  Returns the number of threads. */
#define MAX_TASKS 64
struct task_switches {
	long tid;
	unsigned long switches;
};

static int
proc_task_switches(long pid, struct task_switches *t, int max)
{
	char path[320], line[128];
	struct dirent *de;
	unsigned long v;
	DIR *d;
	FILE *f;
	int n = 0;

	snprintf(path, sizeof(path), "/proc/%ld/task", pid);
	if ((d = opendir(path)) == NULL)
		return 0;
	while (n < max && (de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/%ld/task/%s/status", pid,
		    de->d_name);
		if ((f = fopen(path, "r")) == NULL)
			continue;
		t[n].tid = atol(de->d_name);
		t[n].switches = 0;
		while (fgets(line, sizeof(line), f) != NULL)
			if (sscanf(line, "voluntary_ctxt_switches: %lu", &v) ==
			    1 || sscanf(line, "nonvoluntary_ctxt_switches: %lu",
			    &v) == 1)
				t[n].switches += v;
		fclose(f);
		n++;
	}
	closedir(d);
	return n;
}

/* --- main ----------------------------------------------------------------- */

static void
usage(FILE *f)
{
	fprintf(f, "usage: openloop-bench-fairness --reader NAME --device "
	    "unix:PATH [--sessions N] [--starve-seconds S]\n"
	    "       [--idle-seconds S] [--pcscd-pid PID] [--json FILE]\n"
	    "       openloop-bench-fairness --idle-only --pcscd-pid PID "
	    "[--idle-seconds S]\n"
	    "NAME is a reader of this driver on the simulator at PATH.\n");
}

/* pcscd's CPU and its threads' wake-ups over idle_s seconds */
static int
idle_report(long pid, int idle_s)
{
	struct task_switches tb[MAX_TASKS], ta[MAX_TASKS];
	unsigned long wakeups = 0;
	double cpu0, cpu1;
	int ntb, nta, i, j, woke = 0;

	if ((cpu0 = proc_cpu_ms(pid)) < 0)
		return 1;
	ntb = proc_task_switches(pid, tb, MAX_TASKS);
	bench_sleep_ms(idle_s * 1000.0);
	nta = proc_task_switches(pid, ta, MAX_TASKS);
	if ((cpu1 = proc_cpu_ms(pid)) < 0)
		return 1;
	for (i = 0; i < nta; i++) {
		for (j = 0; j < ntb && tb[j].tid != ta[i].tid; j++)
			;
		if (j < ntb && ta[i].switches > tb[j].switches) {
			woke++;
			wakeups += ta[i].switches - tb[j].switches;
		}
	}
	printf("idle %d s, pcscd with this driver's readers only: %.0f ms of "
	    "CPU (%.3f %% of one CPU; clock ticks of %.0f ms); %d of its %d "
	    "threads woke up, %lu times in all\n", idle_s, cpu1 - cpu0,
	    (cpu1 - cpu0) / (idle_s * 10.0),
	    1000.0 / (double)sysconf(_SC_CLK_TCK), woke, nta, wakeups);
	return 0;
}

static void
print_summary(FILE *f, const char *what, struct summary s, const char *unit)
{
	fprintf(f, "%-44s %6zu %9.3f %9.3f %9.3f %s\n", what, s.n, s.median,
	    s.p95, s.max, unit);
}

static void
json_summary(FILE *f, const char *key, struct summary s, int last)
{
	fprintf(f, "  \"%s\": {\"n\": %zu, \"median_ms\": %.3f, \"p95_ms\": "
	    "%.3f, \"max_ms\": %.3f}%s\n", key, s.n, s.median, s.p95, s.max,
	    last ? "" : ",");
}

int
main(int argc, char **argv)
{
	enum { O_READER = 256, O_DEVICE, O_SESSIONS, O_STARVE, O_IDLE,
	    O_PID, O_JSON, O_IDLE_ONLY };
	static const struct option lopts[] = {
		{ "reader", required_argument, NULL, O_READER },
		{ "device", required_argument, NULL, O_DEVICE },
		{ "sessions", required_argument, NULL, O_SESSIONS },
		{ "starve-seconds", required_argument, NULL, O_STARVE },
		{ "idle-seconds", required_argument, NULL, O_IDLE },
		{ "pcscd-pid", required_argument, NULL, O_PID },
		{ "json", required_argument, NULL, O_JSON },
		{ "idle-only", no_argument, NULL, O_IDLE_ONLY },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *reader = NULL, *device = NULL, *json = NULL, *sock;
	int sessions = 20, starve_s = 5, idle_s = 60, opt, i, rc = 1;
	int idle_only = 0, pid_arg;
	long pid = 0;
	struct pcsc_loop alone, busy, starve;
	struct fido_loop fl;
	struct series fido_wait = { NULL, 0, 0 };
	struct fido_result r;
	struct summary s_alone, s_busy, s_wait, s_starve, s_fl;
	double rate_alone, rate_busy, cpu0, cpu1 = -1, idle_cpu_ms = -1;
	struct task_switches tb[MAX_TASKS], ta[MAX_TASKS];
	int ntb = 0, nta = 0, j, woke_tasks = 0;
	unsigned long wakeups = 0;
	unsigned long fido_fail = 0;
	int max_tries = 0;
	pthread_t th;
	FILE *jf;

	while ((opt = getopt_long(argc, argv, "h", lopts, NULL)) != -1) {
		switch (opt) {
		case O_READER: reader = optarg; break;
		case O_DEVICE: device = optarg; break;
		case O_SESSIONS:
			if (bench_parse_int(PROG, "--sessions", optarg, 1,
			    100000, &sessions))
				return 2;
			break;
		case O_STARVE:
			if (bench_parse_int(PROG, "--starve-seconds", optarg, 1,
			    3600, &starve_s))
				return 2;
			break;
		case O_IDLE:
			if (bench_parse_int(PROG, "--idle-seconds", optarg, 0,
			    3600, &idle_s))
				return 2;
			break;
		case O_PID:
			if (bench_parse_int(PROG, "--pcscd-pid", optarg, 1,
			    1 << 30, &pid_arg))
				return 2;
			pid = pid_arg;
			break;
		case O_JSON: json = optarg; break;
		case O_IDLE_ONLY: idle_only = 1; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (idle_only && pid > 0 && idle_s > 0 && optind == argc)
		return idle_report(pid, idle_s);
	if (reader == NULL || device == NULL || optind != argc ||
	    strncmp(device, OL_UNIX_PREFIX, strlen(OL_UNIX_PREFIX)) != 0 ||
	    sessions < 1 || starve_s < 1 || idle_s < 1) {
		usage(stderr);
		return 2;
	}
	sock = device + strlen(OL_UNIX_PREFIX);
	ol_log_set_mask(OL_LOG_CRITICAL);
	memset(&alone, 0, sizeof(alone));
	memset(&busy, 0, sizeof(busy));
	memset(&starve, 0, sizeof(starve));
	memset(&fl, 0, sizeof(fl));

	/* the PC/SC loop alone, for its rate */
	if (pcsc_connect(&alone, reader) != 0)
		return 1;
	for (i = 0; i < 20; i++)
		(void)pcsc_apdu(&alone);
	alone.lat.n = 0;
	alone.started = bench_now_ms();
	while (bench_now_ms() - alone.started < 1000)
		(void)pcsc_apdu(&alone);
	rate_alone = (double)alone.lat.n / ((bench_now_ms() - alone.started) / 1e3);
	s_alone = summarize(&alone.lat);
	pcsc_disconnect(&alone);

	/* a: FIDO clients arriving while the loop runs flat out */
	if (pcsc_connect(&busy, reader) != 0)
		return 1;
	if (pthread_create(&th, NULL, pcsc_thread, &busy) != 0)
		return 1;
	bench_sleep_ms(200);
	for (i = 0; i < sessions; i++) {
		bench_sleep_ms(100 + rand() % 200);
		r = fido_session(sock, 0);
		if (!r.ok) {
			fido_fail++;
			continue;
		}
		if (r.tries > max_tries)
			max_tries = r.tries;
		(void)series_add(&fido_wait, r.wait_ms);
	}
	busy.stop = 1;
	pthread_join(th, NULL);
	rate_busy = (double)busy.lat.n / ((busy.ended - busy.started) / 1e3);
	s_busy = summarize(&busy.lat);
	s_wait = summarize(&fido_wait);

	/* b: FIDO sessions back to back, each holding the lock 20 ms, and a
	 * PC/SC client that wants its turn */
	fl.sock_path = sock;
	fl.hold_ms = 20;
	fl.gap_ms = 10;
	if (pcsc_connect(&starve, reader) != 0)
		return 1;
	if (pthread_create(&th, NULL, fido_thread, &fl) != 0)
		return 1;
	bench_sleep_ms(300);
	starve.started = bench_now_ms();
	while (bench_now_ms() - starve.started < starve_s * 1000.0)
		(void)pcsc_apdu(&starve);
	fl.stop = 1;
	pthread_join(th, NULL);
	s_starve = summarize(&starve.lat);
	s_fl = summarize(&fl.wait);

	/* c: idle */
	if (pid > 0 && (cpu0 = proc_cpu_ms(pid)) >= 0) {
		ntb = proc_task_switches(pid, tb, MAX_TASKS);
		bench_sleep_ms(idle_s * 1000.0);
		nta = proc_task_switches(pid, ta, MAX_TASKS);
		if ((cpu1 = proc_cpu_ms(pid)) >= 0)
			idle_cpu_ms = cpu1 - cpu0;
		for (i = 0; i < nta; i++) {
			for (j = 0; j < ntb && tb[j].tid != ta[i].tid; j++)
				;
			if (j < ntb && ta[i].switches > tb[j].switches) {
				woke_tasks++;
				wakeups += ta[i].switches - tb[j].switches;
			}
		}
	}

	printf("openloop-bench-fairness: the device lock between a PC/SC "
	    "client and a libfido2-like FIDO client; times in ms\n\n");
	printf("%-44s %6s %9s %9s %9s\n", "", "n", "median", "p95", "max");
	print_summary(stdout, "PC/SC APDU alone", s_alone, "");
	print_summary(stdout, "a: FIDO client open -> lock (PC/SC flat out)",
	    s_wait, "");
	print_summary(stdout, "a: PC/SC APDU meanwhile", s_busy, "");
	print_summary(stdout, "b: PC/SC APDU vs FIDO sessions back to back",
	    s_starve, "");
	print_summary(stdout, "b: FIDO client open -> lock", s_fl, "");
	printf("\na: %lu FIDO sessions failed, most tries %d (libfido2 gives "
	    "up after %d); PC/SC %.0f APDUs/s alone, %.0f with FIDO sessions, "
	    "%lu errors\n", fido_fail, max_tries, FIDO_TRIES, rate_alone,
	    rate_busy, busy.errors);
	printf("b: %lu FIDO sessions of 20 ms, 10 ms apart, %lu failed, in %d "
	    "s; PC/SC %zu APDUs, %lu errors\n", fl.sessions, fl.failures, starve_s,
	    s_starve.n, starve.errors);
	if (idle_cpu_ms >= 0)
		printf("c: idle %d s: pcscd (with the driver) used %.0f ms of "
		    "CPU (%.3f %% of one CPU; clock ticks of %.0f ms)\n", idle_s,
		    idle_cpu_ms, idle_cpu_ms / (idle_s * 10.0),
		    1000.0 / (double)sysconf(_SC_CLK_TCK));
	if (nta > 0)
		printf("c: idle %d s: %d of pcscd's %d threads woke up, %lu "
		    "times in all (each reader has a thread; a reader whose "
		    "driver pcscd must poll wakes 2.5 times a second)\n",
		    idle_s, woke_tasks, nta, wakeups);
	if (json != NULL) {
		if ((jf = fopen(json, "w")) == NULL) {
			perror(json);
			goto done;
		}
		fprintf(jf, "{\n");
		json_summary(jf, "pcsc_alone", s_alone, 0);
		json_summary(jf, "a_fido_open_to_lock", s_wait, 0);
		json_summary(jf, "a_pcsc_meanwhile", s_busy, 0);
		json_summary(jf, "b_pcsc_vs_fido_sessions", s_starve, 0);
		json_summary(jf, "b_fido_open_to_lock", s_fl, 0);
		fprintf(jf, "  \"a_fido_failed\": %lu, \"a_most_tries\": %d,\n"
		    "  \"pcsc_rate_alone\": %.1f, \"pcsc_rate_with_fido\": "
		    "%.1f,\n  \"pcsc_errors\": %lu,\n  \"b_fido_sessions\": %lu, "
		    "\"b_fido_failed\": %lu,\n  \"idle_seconds\": %d, "
		    "\"idle_pcscd_cpu_ms\": %.0f,\n  \"idle_pcscd_threads\": "
		    "%d, \"idle_threads_woken\": %d, \"idle_wakeups\": %lu\n}\n",
		    fido_fail, max_tries, rate_alone, rate_busy,
		    busy.errors + starve.errors, fl.sessions, fl.failures,
		    idle_s, idle_cpu_ms, nta, woke_tasks, wakeups);
		fclose(jf);
	}
	/* a benchmark: it fails only if something failed to run */
	rc = (fido_fail == 0 && fl.failures == 0 && busy.errors == 0 &&
	    starve.errors == 0 && s_wait.n > 0 && s_starve.n > 0) ? 0 : 1;
done:
	pcsc_disconnect(&busy);
	pcsc_disconnect(&starve);
	free(fido_wait.v);
	free(fl.wait.v);
	return rc;
}
