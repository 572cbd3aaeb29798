/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * soak: clients of one simulated Openloop under injected faults.
 *
 *   soak [-t SECONDS] [-s SEED] [-i MIN-MS:MAX-MS] READER SOCKET FAULTFILE
 *        -- OPENLOOP-SIM-COMMAND...
 *
 * Starts the simulator (the command after "--", which must listen on
 * SOCKET with --fault-control FAULTFILE) and restarts it whenever it exits
 * (fault "unplug").  Three clients run at once:
 *
 *   pcsc-A, pcsc-B  PC/SC (libpcsclite) on the reader whose name contains
 *                   READER: SCardConnect, then rounds of BeginTransaction,
 *                   SELECT PIV, GET DATA (A: CHUID, B: Discovery),
 *                   EndTransaction; reconnecting after errors and every
 *                   25 rounds;
 *   ping            CTAPHID PING of random sizes on its own channel
 *                   (libtransport), checking every echo;
 *   fido            (built with libfido2) authenticatorGetAssertion
 *                   through libfido2, each in a session of its own as
 *                   ssh-sk and pam_u2f open one: flock on the
 *                   simulator's PATH.lock with libfido2's retry schedule,
 *                   INIT, the assertion (the simulated user touches),
 *                   close, a pause of 200 to 1200 ms; every signature
 *                   verified with the public key of the credential made
 *                   at the start.
 *
 * A fault injector writes a random fault (seeded; the seed is printed)
 * into FAULTFILE every MIN..MAX ms, the simulator applies it to the next
 * APDU.  Every request ends as
 *
 *   right  the expected answer (byte for byte, taken before any fault);
 *   error  the client was told: a PC/SC error, a CTAPHID error, or the
 *          status words 6982 (cancelled) / 6F00 (card failed);
 *   wrong  any other answer: that is a bug;
 *   lost   no answer and no error within the time-out: a bug too.
 *
 * Prints counts per client and per fault kind, latency median/p95 of the
 * right answers, and last "soak: N right, W wrong, L lost".  Exit 0 only
 * when wrong and lost are 0 and each client got right answers.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE  /* pthread_tryjoin_np */
#endif
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <PCSC/winscard.h>
#include <PCSC/reader.h>

#ifdef HAVE_LIBFIDO2
#include <fido.h>
#include <fido/es256.h>
#include "fido_sock_io.h"
#endif

#include "ctaphid.h"
#include "ctaphid_host.h"
#include "hid_dev.h"
#include "ol_err.h"
#include "ol_log.h"

#define LOST_PCSC_MS   60000  /* any PC/SC call: busy + user + reply limits */
#define LOST_PING_MS   30000
/* libfido2's lock retries (21 s), the simulated touch, a busy device */
#define LOST_FIDO_MS   60000
/* between two FIDO sessions: 200 to 1200 ms */
#define FIDO_PAUSE_MIN_MS    200
#define FIDO_PAUSE_SPREAD_MS 1000
#define SETTLE_MS      5000   /* a fault's window after it was taken */

/* --- faults ---------------------------------------------------------------- */

static const char *const fault_kinds[] = {
	"late:5000",        /* a: the reply crosses the next request */
	"mute:4000,noise",  /* b: no answer, other channels every ms */
	"busy:1500",        /* c: CHANNEL_BUSY shorter than ifdBusyTimeout */
	"busy:6000",        /* c: ... and longer */
	"keepalive",        /* d: keepalives until CANCEL */
	"truncate",         /* e: BCNT says more than is sent */
	"dropcont",         /* e: a continuation packet missing */
	"huge",             /* e: BCNT over 7609 */
	"extra",            /* e: continuation packets past the end */
	"reboot",           /* f: INVALID_CHANNEL, all channels forgotten */
	"unplug",           /* g: the device gone mid-reply */
};
#define NKINDS (sizeof(fault_kinds) / sizeof(fault_kinds[0]))
#define KIND_NONE NKINDS   /* outcome outside any fault's window */

enum outcome { O_RIGHT, O_ERROR, O_WRONG, O_LOST, O_COUNT };

static atomic_int current_kind = KIND_NONE;
static atomic_int stop;
static pthread_mutex_t stats_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned long by_kind[NKINDS + 1][O_COUNT];
static unsigned long injected[NKINDS], taken[NKINDS];

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

static uint64_t
rnd(uint64_t *s)
{
	/* xorshift64* */
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ULL;
}

/* --- clients and their figures ------------------------------------------ */

struct client {
	const char *name;
	unsigned long n[O_COUNT];
	int *lat;                 /* ms of right answers */
	size_t nlat, caplat;
	atomic_llong inflight;    /* start of the running call, 0: none */
	atomic_int inflight_kind;
	atomic_int lost_marked;   /* the watchdog counted this call lost */
	int lost_ms;
	int ready;                /* expected answers known */
	unsigned long sw_err[2];  /* 6982, 6F00 */
	int fido_codes;           /* codes[] are libfido2's, not PC/SC's */
	LONG codes[16];           /* errors met, and how often */
	unsigned long ncodes[16];
	unsigned long shown;
};

static struct client clients[] = {
	{ .name = "pcsc-A", .lost_ms = LOST_PCSC_MS },
	{ .name = "pcsc-B", .lost_ms = LOST_PCSC_MS },
	{ .name = "ping", .lost_ms = LOST_PING_MS },
#ifdef HAVE_LIBFIDO2
	{ .name = "fido", .lost_ms = LOST_FIDO_MS, .fido_codes = 1 },
#endif
};
#define NCLIENTS (sizeof(clients) / sizeof(clients[0]))

static void
call_begin(struct client *c)
{
	atomic_store(&c->lost_marked, 0);
	atomic_store(&c->inflight_kind, atomic_load(&current_kind));
	atomic_store(&c->inflight, (long long)now_ms());
}

/* Ends a call; 1 if the watchdog has already counted it lost.  A call
 * that began before a fault was written may be the one that takes it:
 * then it counts for that fault. */
static int
call_end(struct client *c)
{
	if (atomic_load(&c->inflight_kind) == (int)KIND_NONE)
		atomic_store(&c->inflight_kind, atomic_load(&current_kind));
	atomic_store(&c->inflight, 0);
	return atomic_load(&c->lost_marked);
}

static void
count(struct client *c, enum outcome o, int kind, int64_t t0)
{
	pthread_mutex_lock(&stats_lock);
	c->n[o]++;
	by_kind[kind][o]++;
	if (o == O_RIGHT) {
		if (c->nlat == c->caplat) {
			size_t cap = c->caplat ? 2 * c->caplat : 4096;
			int *p = realloc(c->lat, cap * sizeof(*p));

			if (p != NULL) {
				c->lat = p;
				c->caplat = cap;
			}
		}
		if (c->nlat < c->caplat)
			c->lat[c->nlat++] = (int)(now_ms() - t0);
	}
	pthread_mutex_unlock(&stats_lock);
}

/* PC/SC error codes per client, for the figures */
static void
tally(struct client *c, LONG rv)
{
	size_t i;

	pthread_mutex_lock(&stats_lock);
	for (i = 0; i < 16; i++) {
		if (c->ncodes[i] == 0)
			c->codes[i] = rv;
		if (c->codes[i] == rv) {
			c->ncodes[i]++;
			break;
		}
	}
	pthread_mutex_unlock(&stats_lock);
}

static void
show_hex(const char *what, const unsigned char *b, size_t n)
{
	size_t i;

	fprintf(stderr, "  %s:", what);
	for (i = 0; i < n && i < 48; i++)
		fprintf(stderr, " %02X", b[i]);
	fprintf(stderr, "%s\n", n > 48 ? " ..." : "");
}

static void
report_wrong(struct client *c, int kind, const char *req,
    const unsigned char *got, size_t glen, const unsigned char *want,
    size_t wlen)
{
	if (c->shown++ >= 20)
		return;
	fprintf(stderr, "soak: WRONG %s %s (fault window: %s)\n", c->name, req,
	    kind == (int)KIND_NONE ? "none" : fault_kinds[kind]);
	show_hex("got ", got, glen);
	show_hex("want", want, wlen);
}

/* --- PC/SC clients --------------------------------------------------------- */

struct pcsc_arg {
	struct client *c;
	const char *reader_want;
	const unsigned char *getdata;
	size_t getdata_len;
};

static const unsigned char apdu_select[] = { 0x00, 0xA4, 0x04, 0x00, 0x09,
	0xA0, 0x00, 0x00, 0x03, 0x08, 0x00, 0x00, 0x10, 0x00, 0x00 };
static const unsigned char apdu_chuid[] = { 0x00, 0xCB, 0x3F, 0xFF, 0x05,
	0x5C, 0x03, 0x5F, 0xC1, 0x02, 0x00 };
static const unsigned char apdu_discovery[] = { 0x00, 0xCB, 0x3F, 0xFF,
	0x03, 0x5C, 0x01, 0x7E, 0x00 };

static LONG
pcsc_connect(SCARDCONTEXT ctx, const char *want, SCARDHANDLE *h)
{
	char readers[4096], *r;
	DWORD len = sizeof(readers), proto;
	LONG rv;

	if ((rv = SCardListReaders(ctx, NULL, readers, &len)) !=
	    SCARD_S_SUCCESS)
		return rv;
	for (r = readers; *r; r += strlen(r) + 1)
		if (strstr(r, want) != NULL)
			break;
	if (*r == '\0')
		return SCARD_E_UNKNOWN_READER;
	return SCardConnect(ctx, r, SCARD_SHARE_SHARED, SCARD_PROTOCOL_T1, h,
	    &proto);
}

/* One APDU, classified.  Returns the PC/SC result. */
static LONG
pcsc_request(struct client *c, SCARDHANDLE h, const char *name,
    const unsigned char *cmd, size_t clen, unsigned char *want,
    size_t *wlen)
{
	unsigned char resp[4096];
	DWORD rlen = sizeof(resp);
	int64_t t0 = now_ms();
	int kind, lost;
	LONG rv;

	call_begin(c);
	rv = SCardTransmit(h, SCARD_PCI_T1, cmd, clen, NULL, resp, &rlen);
	lost = call_end(c);
	kind = atomic_load(&c->inflight_kind);
	if (!c->ready) {
		/* the expected answer, before any fault */
		if (rv == SCARD_S_SUCCESS && rlen >= 2 &&
		    resp[rlen - 2] == 0x90 && resp[rlen - 1] == 0x00) {
			memcpy(want, resp, rlen);
			*wlen = rlen;
		}
		return rv;
	}
	if (lost)
		return rv;
	if (rv != SCARD_S_SUCCESS) {
		count(c, O_ERROR, kind, t0);
		tally(c, rv);
		return rv;
	}
	if (rlen == *wlen && memcmp(resp, want, rlen) == 0) {
		count(c, O_RIGHT, kind, t0);
		return rv;
	}
	if (rlen == 2 && ((resp[0] == 0x69 && resp[1] == 0x82) ||
	    (resp[0] == 0x6F && resp[1] == 0x00))) {
		c->sw_err[resp[0] == 0x6F]++;
		count(c, O_ERROR, kind, t0);
		return rv;
	}
	count(c, O_WRONG, kind, t0);
	report_wrong(c, kind, name, resp, rlen, want, *wlen);
	return rv;
}

static void *
pcsc_main(void *arg)
{
	struct pcsc_arg *a = arg;
	struct client *c = a->c;
	unsigned char want_sel[512], want_gd[4096];
	size_t wsel = 0, wgd = 0;
	SCARDCONTEXT ctx;
	SCARDHANDLE h = 0;
	int connected = 0, rounds = 0, pauses = 0, lost;
	LONG rv;

	/* pcscd may start after the soak */
	while ((rv = SCardEstablishContext(SCARD_SCOPE_SYSTEM, NULL, NULL,
	    &ctx)) != SCARD_S_SUCCESS) {
		if (atomic_load(&stop))
			return NULL;
		sleep_ms(200);
	}
	while (!atomic_load(&stop)) {
		if (!connected) {
			call_begin(c);
			rv = pcsc_connect(ctx, a->reader_want, &h);
			(void)call_end(c);
			if (rv != SCARD_S_SUCCESS) {
				sleep_ms(200);
				continue;
			}
			connected = 1;
		}
		call_begin(c);
		rv = SCardBeginTransaction(h);
		lost = call_end(c);
		if (!lost && rv != SCARD_S_SUCCESS && c->ready)
			tally(c, rv);
		if (lost) {
			/* counted by the watchdog */
		} else if (rv == SCARD_S_SUCCESS) {
			rv = pcsc_request(c, h, "SELECT", apdu_select,
			    sizeof(apdu_select), want_sel, &wsel);
			if (rv == SCARD_S_SUCCESS)
				rv = pcsc_request(c, h, "GET DATA", a->getdata,
				    a->getdata_len, want_gd, &wgd);
			if (!c->ready && rv == SCARD_S_SUCCESS && wsel > 0 &&
			    wgd > 0) {
				c->ready = 1;
				printf("soak: %s ready: SELECT answers %zu "
				    "bytes, GET DATA %zu\n", c->name, wsel,
				    wgd);
				fflush(stdout);
			}
			if (rv == SCARD_S_SUCCESS) {
				call_begin(c);
				rv = SCardEndTransaction(h, SCARD_LEAVE_CARD);
				(void)call_end(c);
			}
		}
		if (rv == SCARD_W_RESET_CARD || rv == SCARD_W_REMOVED_CARD) {
			/* a card reset or a new card: connect again */
			call_begin(c);
			rv = SCardReconnect(h, SCARD_SHARE_SHARED,
			    SCARD_PROTOCOL_T1, SCARD_LEAVE_CARD, NULL);
			(void)call_end(c);
		}
		if (rv != SCARD_S_SUCCESS || ++rounds % 25 == 0) {
			call_begin(c);
			(void)SCardDisconnect(h, SCARD_LEAVE_CARD);
			(void)call_end(c);
			connected = 0;
			if (rv != SCARD_S_SUCCESS)
				sleep_ms(50);
		}
		/* the other client's turn: pcsc-lite's SCardBeginTransaction
		 * polls every 100 ms, so a pause of 2 ms between transactions
		 * is often missed, and when the device is busy with FIDO
		 * sessions the other client can wait for over 60 s; every
		 * tenth pause is longer than a poll */
		sleep_ms(++pauses % 10 == 0 ? 110 : 2);
	}
	if (connected)
		(void)SCardDisconnect(h, SCARD_LEAVE_CARD);
	SCardReleaseContext(ctx);
	return NULL;
}

/* --- the CTAPHID PING client ---------------------------------------------- */

static char ping_device[512];
static uint64_t ping_seed;

static void *
ping_main(void *arg)
{
	static uint8_t req[CTAPHID_MAX_MSG], resp[CTAPHID_MAX_MSG];
	struct client *c = arg;
	struct ol_ctap_opts opts;
	ol_hid_t *hid = NULL;
	ol_ctap_t *ctap = NULL;
	uint64_t s = ping_seed;
	size_t len, got, i;
	int64_t t0;
	int r, kind, lost;

	ol_ctap_default_opts(&opts);
	opts.busy_timeout_ms = 5000;
	while (!atomic_load(&stop)) {
		if (ctap == NULL) {
			if (ol_hid_open(ping_device, &hid) != OL_OK) {
				sleep_ms(200);
				continue;
			}
			if (ol_ctap_new(hid, &opts, &ctap) != OL_OK ||
			    ol_ctap_init(ctap) != OL_OK) {
				ol_ctap_free(&ctap);
				ol_hid_close(&hid);
				sleep_ms(200);
				continue;
			}
			c->ready = 1;
		}
		/* half short (one report), half up to the limit */
		if (rnd(&s) & 1)
			len = 1 + rnd(&s) % CTAPHID_INIT_DATA;
		else
			len = 1 + rnd(&s) % CTAPHID_MAX_MSG;
		for (i = 0; i < len; i++)
			req[i] = (uint8_t)rnd(&s);
		t0 = now_ms();
		call_begin(c);
		r = ol_ctap_transact(ctap, CTAPHID_PING, req, len, resp,
		    sizeof(resp), &got);
		lost = call_end(c);
		kind = atomic_load(&c->inflight_kind);
		if (!lost) {
			if (r != OL_OK)
				count(c, O_ERROR, kind, t0);
			else if (got == len && memcmp(req, resp, len) == 0)
				count(c, O_RIGHT, kind, t0);
			else {
				count(c, O_WRONG, kind, t0);
				report_wrong(c, kind, "PING", resp, got, req,
				    len);
			}
		}
		if (r == OL_ERR_GONE || r == OL_ERR_IO ||
		    r == OL_ERR_NO_DEVICE) {
			ol_ctap_free(&ctap);
			ol_hid_close(&hid);
			sleep_ms(100);
		} else if (r != OL_OK) {
			/* a new channel: after INVALID_CHANNEL the old one is
			 * gone, after a time-out it may still be busy */
			(void)ol_ctap_init(ctap);
		}
	}
	ol_ctap_free(&ctap);
	ol_hid_close(&hid);
	return NULL;
}

/* --- a FIDO client through libfido2 --------------------------------------- */

#ifdef HAVE_LIBFIDO2
#define FIDO_RP "soak.openloop.invalid"

struct fido_cred_kept {
	unsigned char id[256];
	size_t id_len;
	es256_pk_t *pk;
};

/* a session: open (libfido2's lock), then f, then close */
static int
fido_session(const char *sock, int (*f)(fido_dev_t *, void *), void *arg)
{
	fido_dev_t *dev;
	int r;

	if ((dev = fido_dev_new()) == NULL)
		return FIDO_ERR_INTERNAL;
	if ((r = fido_dev_set_io_functions(dev, &fido_sock_io_locking)) ==
	    FIDO_OK && (r = fido_dev_open(dev, sock)) == FIDO_OK) {
		r = f(dev, arg);
		fido_dev_close(dev);
	}
	fido_dev_free(&dev);
	return r;
}

static int
make_cred(fido_dev_t *dev, void *arg)
{
	struct fido_cred_kept *k = arg;
	static const unsigned char user_id[] = { 's', 'o', 'a', 'k' };
	unsigned char cdh[32];
	fido_cred_t *c;
	int r;

	if ((c = fido_cred_new()) == NULL)
		return FIDO_ERR_INTERNAL;
	memset(cdh, 0x5a, sizeof(cdh));
	if ((r = fido_cred_set_type(c, COSE_ES256)) == FIDO_OK &&
	    (r = fido_cred_set_clientdata_hash(c, cdh, sizeof(cdh))) ==
	    FIDO_OK &&
	    (r = fido_cred_set_rp(c, FIDO_RP, "soak")) == FIDO_OK &&
	    (r = fido_cred_set_user(c, user_id, sizeof(user_id), "soak",
	    NULL, NULL)) == FIDO_OK &&
	    (r = fido_dev_make_cred(dev, c, NULL)) == FIDO_OK &&
	    (r = fido_cred_verify_self(c)) == FIDO_OK) {
		if (fido_cred_id_len(c) > sizeof(k->id) ||
		    (k->pk = es256_pk_new()) == NULL ||
		    es256_pk_from_ptr(k->pk, fido_cred_pubkey_ptr(c),
		    fido_cred_pubkey_len(c)) != FIDO_OK)
			r = FIDO_ERR_INTERNAL;
		else {
			k->id_len = fido_cred_id_len(c);
			memcpy(k->id, fido_cred_id_ptr(c), k->id_len);
		}
	}
	fido_cred_free(&c);
	return r;
}

struct fido_round {
	const struct fido_cred_kept *k;
	const unsigned char *cdh;
	fido_assert_t *a;
};

static int
get_assert(fido_dev_t *dev, void *arg)
{
	struct fido_round *rd = arg;
	int r;

	if ((r = fido_assert_set_rp(rd->a, FIDO_RP)) != FIDO_OK ||
	    (r = fido_assert_set_clientdata_hash(rd->a, rd->cdh, 32)) !=
	    FIDO_OK ||
	    (r = fido_assert_allow_cred(rd->a, rd->k->id, rd->k->id_len)) !=
	    FIDO_OK)
		return r;
	return fido_dev_get_assert(dev, rd->a, NULL);
}

static char fido_sock[512];

static void *
fido_main(void *arg)
{
	struct client *c = arg;
	struct fido_cred_kept k;
	struct fido_round rd;
	unsigned char cdh[32];
	uint64_t s = ping_seed ^ 0xF1D0;
	size_t i;
	int64_t t0;
	int r, kind, lost;

	memset(&k, 0, sizeof(k));
	fido_init(0);
	while (!atomic_load(&stop) && k.pk == NULL) {
		if (fido_session(fido_sock, make_cred, &k) != FIDO_OK)
			sleep_ms(200);
	}
	c->ready = k.pk != NULL;
	while (!atomic_load(&stop)) {
		for (i = 0; i < sizeof(cdh); i++)
			cdh[i] = (uint8_t)rnd(&s);
		rd.k = &k;
		rd.cdh = cdh;
		if ((rd.a = fido_assert_new()) == NULL)
			break;
		t0 = now_ms();
		call_begin(c);
		r = fido_session(fido_sock, get_assert, &rd);
		lost = call_end(c);
		kind = atomic_load(&c->inflight_kind);
		if (!lost) {
			if (r != FIDO_OK) {
				count(c, O_ERROR, kind, t0);
				tally(c, r);
				fprintf(stderr, "soak: fido: %s after %lld ms "
				    "(fault window: %s)\n", fido_strerr(r),
				    (long long)(now_ms() - t0),
				    kind == (int)KIND_NONE ? "none" :
				    fault_kinds[kind]);
			} else if (fido_assert_count(rd.a) == 1 &&
			    fido_assert_verify(rd.a, 0, COSE_ES256, k.pk) ==
			    FIDO_OK)
				count(c, O_RIGHT, kind, t0);
			else {
				count(c, O_WRONG, kind, t0);
				fprintf(stderr, "soak: WRONG fido: an assertion "
				    "that does not verify (fault window: %s)\n",
				    kind == (int)KIND_NONE ? "none" :
				    fault_kinds[kind]);
			}
		}
		fido_assert_free(&rd.a);
		if (r != FIDO_OK)
			sleep_ms(100); /* the device restarting, say */
		/* A person's next login, not the next at once: sessions
		 * back to back, each 500 ms of touch, held the device 95%
		 * of the time once the lock served every session at its
		 * second try, and pcsc-lite's SCardBeginTransaction, which
		 * polls every 100 ms, then left the second PC/SC client
		 * without a transaction for over 60 s (docs/robustness.md). */
		sleep_ms(FIDO_PAUSE_MIN_MS +
		    (int)(rnd(&s) % FIDO_PAUSE_SPREAD_MS));
	}
	es256_pk_free(&k.pk);
	return NULL;
}
#endif /* HAVE_LIBFIDO2 */

/* --- the simulator --------------------------------------------------------- */

static char **sim_argv;
static const char *sim_socket;
static pid_t sim_pid = -1;
static unsigned long sim_starts, sim_unplugs, sim_other_exits;

static int
start_sim(void)
{
	int i;

	unlink(sim_socket);
	if ((sim_pid = fork()) == -1)
		return -1;
	if (sim_pid == 0) {
		execv(sim_argv[0], sim_argv);
		_exit(127);
	}
	sim_starts++;
	for (i = 0; i < 100; i++) {
		if (access(sim_socket, F_OK) == 0)
			return 0;
		sleep_ms(50);
	}
	fprintf(stderr, "soak: the simulator did not create %s\n", sim_socket);
	return -1;
}

/* 1 if the simulator exited (and was started again). */
static int
watch_sim(void)
{
	int status;

	if (sim_pid <= 0 || waitpid(sim_pid, &status, WNOHANG) != sim_pid)
		return 0;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 3) {
		sim_unplugs++;
	} else {
		sim_other_exits++;
		fprintf(stderr, "soak: the simulator ended unexpectedly "
		    "(status 0x%x)\n", status);
	}
	sim_pid = -1;
	sleep_ms(500);  /* unplugged for a while */
	if (start_sim() != 0)
		atomic_store(&stop, 1);
	return 1;
}

/* --- watchdog and figures -------------------------------------------------- */

static void
watchdog(void)
{
	int64_t now = now_ms();
	long long t;
	size_t i;

	for (i = 0; i < NCLIENTS; i++) {
		t = atomic_load(&clients[i].inflight);
		if (t == 0 || now - t < clients[i].lost_ms ||
		    atomic_load(&clients[i].lost_marked))
			continue;
		atomic_store(&clients[i].lost_marked, 1);
		fprintf(stderr, "soak: LOST %s: a call got no answer within "
		    "%d ms (fault window: %s)\n", clients[i].name,
		    clients[i].lost_ms,
		    atomic_load(&clients[i].inflight_kind) == (int)KIND_NONE ?
		    "none" : fault_kinds[atomic_load(
		    &clients[i].inflight_kind)]);
		count(&clients[i], O_LOST,
		    atomic_load(&clients[i].inflight_kind), t);
	}
}

static int
cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	return x < y ? -1 : x > y;
}

static void
print_figures(void)
{
	unsigned long tot[O_COUNT] = { 0 };
	size_t i, k;
	struct client *c;

	for (i = 0; i < NCLIENTS; i++) {
		c = &clients[i];
		qsort(c->lat, c->nlat, sizeof(int), cmp_int);
		printf("client %-7s %8lu right %6lu error %3lu wrong %3lu lost"
		    "   latency median %d ms, p95 %d ms, max %d ms",
		    c->name, c->n[O_RIGHT], c->n[O_ERROR], c->n[O_WRONG],
		    c->n[O_LOST], c->nlat ? c->lat[c->nlat / 2] : -1,
		    c->nlat ? c->lat[c->nlat * 95 / 100] : -1,
		    c->nlat ? c->lat[c->nlat - 1] : -1);
		if (c->sw_err[0] || c->sw_err[1])
			printf("   (errors as SW 6982: %lu, 6F00: %lu)",
			    c->sw_err[0], c->sw_err[1]);
		printf("\n");
		for (k = 0; k < 16 && c->ncodes[k] > 0; k++)
			printf("    %s: %s (0x%lx) %lu times\n", c->name,
#ifdef HAVE_LIBFIDO2
			    c->fido_codes ? fido_strerr((int)c->codes[k]) :
#endif
			    pcsc_stringify_error(c->codes[k]),
			    (unsigned long)c->codes[k], c->ncodes[k]);
		for (k = 0; k < O_COUNT; k++)
			tot[k] += c->n[k];
	}
	printf("%-18s %8s %8s %6s %6s %6s %6s\n", "fault", "injected",
	    "taken", "right", "error", "wrong", "lost");
	for (k = 0; k <= NKINDS; k++)
		printf("%-18s %8lu %8lu %6lu %6lu %6lu %6lu\n",
		    k == KIND_NONE ? "(none)" : fault_kinds[k],
		    k == KIND_NONE ? 0 : injected[k],
		    k == KIND_NONE ? 0 : taken[k], by_kind[k][O_RIGHT],
		    by_kind[k][O_ERROR], by_kind[k][O_WRONG],
		    by_kind[k][O_LOST]);
	printf("simulator: %lu starts, %lu unplugs, %lu unexpected exits\n",
	    sim_starts, sim_unplugs, sim_other_exits);
	printf("soak: %lu right, %lu wrong, %lu lost\n", tot[O_RIGHT],
	    tot[O_WRONG], tot[O_LOST]);
}

static void
on_signal(int sig)
{
	(void)sig;
	atomic_store(&stop, 1);
}

static void
write_fault(const char *path, const char *text)
{
	char tmp[600];
	int fd;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) ==
	    -1)
		return;
	if (write(fd, text, strlen(text)) != (ssize_t)strlen(text)) {
		close(fd);
		return;
	}
	close(fd);
	(void)rename(tmp, path);
}

int
main(int argc, char **argv)
{
	struct pcsc_arg pa[2];
	pthread_t th[NCLIENTS];
	int all_ready;
	const char *fault_path;
	uint64_t seed = 0, s;
	int seconds = 120, gap_min = 500, gap_max = 3000, opt, i, rc;
	int64_t start, end, next_fault, window_end = 0, wait_taken = 0;
	int state = 0;  /* 0 idle, 1 fault written, 2 taken (window) */
	int kind = 0;
	char *end_s;

	while ((opt = getopt(argc, argv, "+t:s:i:")) != -1) {
		switch (opt) {
		case 't':
			seconds = atoi(optarg);
			break;
		case 's':
			seed = strtoull(optarg, NULL, 0);
			break;
		case 'i':
			gap_min = (int)strtol(optarg, &end_s, 10);
			gap_max = *end_s == ':' ? atoi(end_s + 1) : gap_min;
			break;
		default:
			goto usage;
		}
	}
	if (argc - optind < 5 || strcmp(argv[optind + 3], "--") != 0 ||
	    seconds <= 0 || gap_min <= 0 || gap_max < gap_min) {
usage:
		fprintf(stderr, "usage: soak [-t SECONDS] [-s SEED] "
		    "[-i MIN-MS:MAX-MS] READER SOCKET FAULTFILE -- "
		    "SIM-COMMAND...\n");
		return 2;
	}
	if (seed == 0)
		seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 20);
	s = seed;
	ping_seed = seed * 0x9E3779B97F4A7C15ULL | 1;
	sim_socket = argv[optind + 1];
	fault_path = argv[optind + 2];
	sim_argv = argv + optind + 4;
	snprintf(ping_device, sizeof(ping_device), "unix:%s", sim_socket);
#ifdef HAVE_LIBFIDO2
	snprintf(fido_sock, sizeof(fido_sock), "%s", sim_socket);
#endif
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("soak: seed %llu, %d s, a fault every %d..%d ms\n",
	    (unsigned long long)seed, seconds, gap_min, gap_max);
	ol_log_set_mask(0);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGPIPE, SIG_IGN);
	unlink(fault_path);
	if (start_sim() != 0)
		return 1;

	pa[0] = (struct pcsc_arg){ &clients[0], argv[optind], apdu_chuid,
	    sizeof(apdu_chuid) };
	pa[1] = (struct pcsc_arg){ &clients[1], argv[optind], apdu_discovery,
	    sizeof(apdu_discovery) };
	pthread_create(&th[0], NULL, pcsc_main, &pa[0]);
	pthread_create(&th[1], NULL, pcsc_main, &pa[1]);
	pthread_create(&th[2], NULL, ping_main, &clients[2]);
#ifdef HAVE_LIBFIDO2
	pthread_create(&th[3], NULL, fido_main, &clients[3]);
#endif

	/* the clients learn the right answers before any fault */
	start = now_ms();
	for (;;) {
		for (all_ready = 1, i = 0; i < (int)NCLIENTS; i++)
			all_ready &= clients[i].ready;
		if (atomic_load(&stop) || all_ready)
			break;
		if (now_ms() - start > 60000) {
			fprintf(stderr, "soak: the clients did not get going "
			    "within 60 s:");
			for (i = 0; i < (int)NCLIENTS; i++)
				fprintf(stderr, " %s %d", clients[i].name,
				    clients[i].ready);
			fprintf(stderr, "\n");
			atomic_store(&stop, 1);
			break;
		}
		sleep_ms(100);
	}
	start = now_ms();
	end = start + (int64_t)seconds * 1000;
	next_fault = start + gap_min;
	while (!atomic_load(&stop) && now_ms() < end) {
		int64_t now = now_ms();

		watchdog();
		watch_sim();
		if (state == 0 && now >= next_fault) {
			kind = (int)(rnd(&s) % NKINDS);
			injected[kind]++;
			atomic_store(&current_kind, kind);
			write_fault(fault_path, fault_kinds[kind]);
			state = 1;
			wait_taken = now + 15000;
		} else if (state == 1) {
			if (access(fault_path, F_OK) != 0) {
				taken[kind]++;
				state = 2;
				window_end = now + SETTLE_MS;
			} else if (now >= wait_taken) {
				/* no APDU came: never mind */
				unlink(fault_path);
				state = 2;
				window_end = now;
			}
		} else if (state == 2 && now >= window_end) {
			atomic_store(&current_kind, KIND_NONE);
			state = 0;
			next_fault = now + gap_min +
			    (int64_t)(rnd(&s) % (uint64_t)(gap_max - gap_min + 1));
		}
		sleep_ms(50);
	}
	unlink(fault_path);
	atomic_store(&stop, 1);
	/* the clients finish their calls; the watchdog still counts */
	end = now_ms() + LOST_PCSC_MS + 10000;
	for (i = 0; i < (int)NCLIENTS; i++) {
		while (pthread_tryjoin_np(th[i], NULL) == EBUSY) {
			watchdog();
			watch_sim();
			if (now_ms() > end) {
				/* a call that never returns: counted lost */
				fprintf(stderr, "soak: %s never returned\n",
				    clients[i].name);
				print_figures();
				_exit(1);
			}
			sleep_ms(50);
		}
	}
	if (sim_pid > 0) {
		kill(sim_pid, SIGTERM);
		waitpid(sim_pid, NULL, 0);
	}
	print_figures();
	rc = 0;
	for (i = 0; i < (int)NCLIENTS; i++)
		if (clients[i].n[O_WRONG] || clients[i].n[O_LOST] ||
		    clients[i].n[O_RIGHT] == 0)
			rc = 1;
	if (sim_other_exits > 0)
		rc = 1;
	return rc;
}
