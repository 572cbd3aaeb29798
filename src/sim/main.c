/*
 * openloop-sim: a virtual Openloop on a unix socket, for the driver's
 * tests.  This file only wires the parts together: options, signals and
 * the loop.  What is simulated: docs/simulator.md.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "ol_err.h"
#include "ol_log.h"
#include "sim_card.h"
#include "sim_ctaphid.h"
#include "sim_server.h"
#include "timeutil.h"

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "unknown"
#endif

#define DEFAULT_SERIAL "OL0000000001"
#define MAX_DELAY_MS   600000
#define MAX_INTERVAL_MS 1000

#define EXIT_USAGE 2 /* bad options or an unusable socket path */

struct options {
	const char *socket_path;
	const char *serial;
	int processing_delay_ms;
	int report_interval_ms;
	int verbose;
};

struct sim {
	sim_card_t *card;
	sim_ctaphid_t *dev;
	sim_server_t *srv;
	int sigfd;
	int stop;
};

static int64_t log_epoch;
static int log_timestamps;

static void
log_sink(unsigned category, const char *msg)
{
	int64_t t;

	(void)category;
	if (log_timestamps) {
		t = ol_now_ms() - log_epoch;
		fprintf(stderr, "openloop-sim: [%5lld.%03lld] %s\n",
		    (long long)(t / 1000), (long long)(t % 1000), msg);
	} else {
		fprintf(stderr, "openloop-sim: %s\n", msg);
	}
}

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: openloop-sim --socket PATH [options]\n"
	    "\n"
	    "A virtual Openloop security key: CTAPHID with APDUs in vendor\n"
	    "command 0x70, on a SOCK_SEQPACKET socket with hidraw's report\n"
	    "layout.  Creates PATH, PATH.lock and PATH.serial; SIGTERM or\n"
	    "SIGINT removes them and exits.\n"
	    "\n"
	    "  -s, --socket PATH           where to listen (required)\n"
	    "      --serial S              USB serial number (default %s)\n"
	    "      --processing-delay MS   extra time for every APDU "
	    "(default 0)\n"
	    "      --report-interval MS    time between input reports, like\n"
	    "                              the USB polling interval "
	    "(default %d; 0: none)\n"
	    "  -v, --verbose               log every packet to stderr\n"
	    "  -h, --help                  this text\n"
	    "  -V, --version               version\n"
	    "\n"
	    "Exit status: 0 after SIGTERM/SIGINT, 1 on a runtime failure,\n"
	    "2 on bad options or an unusable socket path.\n",
	    DEFAULT_SERIAL, SIM_REPORT_INTERVAL_MS);
}

static int
parse_ms(const char *opt, const char *s, int max, int *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < 0 || v > max) {
		fprintf(stderr, "openloop-sim: %s wants milliseconds from 0 "
		    "to %d, got '%s'\n", opt, max, s);
		return -1;
	}
	*out = (int)v;
	return 0;
}

/* 0 to run, 1 to exit 0 (help, version), -1 to exit EXIT_USAGE */
static int
parse_options(int argc, char **argv, struct options *o)
{
	enum { OPT_SERIAL = 256, OPT_DELAY, OPT_INTERVAL };
	static const struct option longopts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "serial", required_argument, NULL, OPT_SERIAL },
		{ "processing-delay", required_argument, NULL, OPT_DELAY },
		{ "report-interval", required_argument, NULL, OPT_INTERVAL },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	memset(o, 0, sizeof(*o));
	o->serial = DEFAULT_SERIAL;
	o->report_interval_ms = SIM_REPORT_INTERVAL_MS;
	while ((c = getopt_long(argc, argv, "s:vhV", longopts, NULL)) != -1) {
		switch (c) {
		case 's':
			o->socket_path = optarg;
			break;
		case OPT_SERIAL:
			o->serial = optarg;
			break;
		case OPT_DELAY:
			if (parse_ms("--processing-delay", optarg, MAX_DELAY_MS,
			    &o->processing_delay_ms) == -1)
				return -1;
			break;
		case OPT_INTERVAL:
			if (parse_ms("--report-interval", optarg,
			    MAX_INTERVAL_MS, &o->report_interval_ms) == -1)
				return -1;
			break;
		case 'v':
			o->verbose = 1;
			break;
		case 'h':
			usage(stdout);
			return 1;
		case 'V':
			printf("openloop-sim (ifd-openloop) %s, simulating "
			    "Openloop firmware %d.%d.%d\n", PACKAGE_VERSION,
			    SIM_FW_MAJOR, SIM_FW_MINOR, SIM_FW_BUILD);
			return 1;
		default:
			fprintf(stderr, "Try 'openloop-sim --help'.\n");
			return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "openloop-sim: unexpected argument '%s'\n"
		    "Try 'openloop-sim --help'.\n", argv[optind]);
		return -1;
	}
	if (o->socket_path == NULL) {
		fprintf(stderr, "openloop-sim: --socket PATH is required\n"
		    "Try 'openloop-sim --help'.\n");
		return -1;
	}
	return 0;
}

/* --- glue between the parts ---------------------------------------------- */

static void
on_output_report(void *arg, const uint8_t report[CTAPHID_REPORT_LEN])
{
	struct sim *sim = arg;

	sim_ctaphid_feed(sim->dev, report, CTAPHID_REPORT_LEN, ol_now_ms());
}

static int
on_ready(void *arg)
{
	struct sim *sim = arg;

	return sim_ctaphid_ready(sim->dev);
}

static void
on_input_report(void *arg, const uint8_t report[CTAPHID_REPORT_LEN])
{
	struct sim *sim = arg;

	sim_server_broadcast(sim->srv, report);
}

static void
on_signal(void *arg)
{
	struct sim *sim = arg;
	struct signalfd_siginfo si;

	if (read(sim->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		ol_log(OL_LOG_INFO, "%s: shutting down",
		    strsignal((int)si.ssi_signo));
		sim->stop = 1;
	}
}

static void
on_worker_done(void *arg)
{
	/* the loop ticks after every round; this only ends the poll() */
	(void)arg;
}

/* Blocked before any thread exists, so that every thread inherits the
 * mask and the signals only ever arrive through the signalfd. */
static int
setup_signals(void)
{
	sigset_t set;

	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	if (sigprocmask(SIG_BLOCK, &set, NULL) == -1)
		return -1;
	return signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
}

static int
run(struct sim *sim)
{
	int64_t now;

	while (!sim->stop) {
		now = ol_now_ms();
		sim_ctaphid_tick(sim->dev, now);
		if (sim_server_run_once(sim->srv,
		    sim_ctaphid_next_timeout(sim->dev, now)) != OL_OK)
			return EXIT_FAILURE;
	}
	return EXIT_SUCCESS;
}

int
main(int argc, char **argv)
{
	struct options o;
	struct sim sim;
	struct sim_server_hooks hooks;
	struct sim_ctaphid_opts dopts;
	int r, status = EXIT_FAILURE;

	memset(&sim, 0, sizeof(sim));
	sim.sigfd = -1;
	if ((r = parse_options(argc, argv, &o)) != 0)
		return r > 0 ? EXIT_SUCCESS : EXIT_USAGE;

	log_epoch = ol_now_ms();
	log_timestamps = o.verbose;
	ol_log_set_sink(log_sink);
	ol_log_set_mask(o.verbose ? OL_LOG_DEFAULT_MASK | OL_LOG_COMM :
	    OL_LOG_DEFAULT_MASK);

	if ((sim.sigfd = setup_signals()) == -1) {
		ol_log(OL_LOG_CRITICAL, "signals: %s", strerror(errno));
		goto fail;
	}
	if ((r = sim_card_new(&sim.card)) != OL_OK) {
		ol_log(OL_LOG_CRITICAL, "card: %s", ol_strerror(r));
		goto fail;
	}
	hooks.report = on_output_report;
	hooks.ready = on_ready;
	hooks.arg = &sim;
	if ((r = sim_server_new(&hooks, &sim.srv)) != OL_OK) {
		ol_log(OL_LOG_CRITICAL, "server: %s", ol_strerror(r));
		goto fail;
	}
	if (sim_server_listen(sim.srv, o.socket_path, o.serial) != OL_OK) {
		/* sim_server_listen() has said why */
		status = EXIT_USAGE;
		goto fail;
	}
	memset(&dopts, 0, sizeof(dopts));
	dopts.card_ops = &sim_card_ops;
	dopts.card = sim.card;
	dopts.emit = on_input_report;
	dopts.emit_arg = &sim;
	dopts.processing_delay_ms = o.processing_delay_ms;
	dopts.report_interval_ms = o.report_interval_ms;
	if ((r = sim_ctaphid_new(&dopts, &sim.dev)) != OL_OK) {
		ol_log(OL_LOG_CRITICAL, "device: %s", ol_strerror(r));
		goto fail;
	}
	if (sim_server_watch(sim.srv, sim.sigfd, on_signal, &sim) != OL_OK ||
	    sim_server_watch(sim.srv, sim_ctaphid_fd(sim.dev), on_worker_done,
	    &sim) != OL_OK)
		goto fail;
	ol_log(OL_LOG_INFO, "firmware %d.%d.%d, processing delay %d ms, "
	    "report interval %d ms", SIM_FW_MAJOR, SIM_FW_MINOR, SIM_FW_BUILD,
	    o.processing_delay_ms, o.report_interval_ms);
	status = run(&sim);
fail:
	/* the device first: it joins the worker, which uses the card */
	sim_ctaphid_free(&sim.dev);
	sim_server_free(&sim.srv);
	sim_card_free(&sim.card);
	if (sim.sigfd != -1)
		close(sim.sigfd);
	return status;
}
