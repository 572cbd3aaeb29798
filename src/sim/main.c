/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * openloop-sim: a virtual Openloop on a unix socket, for the driver's
 * tests, or on the gadget side of a real USB HID function (/dev/hidgN).  This file only wires the parts together: options, signals and
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
#include "piv_applet.h"
#include "piv_state.h"
#include "printable.h"
#include "sim_card.h"
#include "sim_fido.h"
#include "sim_ctaphid.h"
#include "sim_hidg.h"
#include "sim_server.h"
#include "timeutil.h"

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "unknown"
#endif

#define DEFAULT_SERIAL SIM_DEFAULT_SERIAL
#define MAX_DELAY_MS   600000
#define MAX_INTERVAL_MS 1000

#define EXIT_USAGE 2 /* bad options or an unusable socket path */

struct options {
	const char *socket_path;
	const char *hidg_path;
	const char *serial;
	int serial_given;
	char serial_buf[PIV_SERIAL_MAX + 1];  /* a state file's serial */
	int processing_delay_ms;
	int report_interval_ms;
	int verbose;
	/* the PIV applet */
	const char *pin;             /* NULL: a fresh device has no PIN */
	const char *puk;             /* NULL: the default 12345678 */
	enum sim_touch_mode touch;
	int touch_ms;
	enum piv_timing timing;
	enum piv_model model;
	int model_given;
	const char *state_path;
	const char *fault_path;      /* --fault-control, tests only */
};

struct sim {
	sim_card_t *card;
	sim_fido_t *fido;    /* the FIDO authenticator, beside the card */
	sim_ctaphid_t *dev;
	sim_server_t *srv;   /* --socket */
	sim_hidg_t *hg;      /* --hidg */
	int sigfd;
	int stop;
};

static int64_t log_epoch;
static int log_timestamps;

static void
log_sink(unsigned category, const struct ol_log_origin *origin,
    const char *msg)
{
	int64_t t;

	(void)category;
	(void)origin;
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
	    "       openloop-sim --hidg /dev/hidgN [options]\n"
	    "\n"
	    "A virtual Openloop security key: CTAPHID with APDUs in vendor\n"
	    "command 0x70, on a SOCK_SEQPACKET socket with hidraw's report\n"
	    "layout.  Creates PATH, PATH.lock and PATH.serial; SIGTERM or\n"
	    "SIGINT removes them and exits.\n"
	    "\n"
	    "  -s, --socket PATH           where to listen\n"
	    "      --hidg /dev/hidgN       serve the gadget side of a USB HID\n"
	    "                              function instead (configfs f_hid,\n"
	    "                              report_length 64); exactly one of\n"
	    "                              --socket and --hidg\n"
	    "      --serial S              USB serial number, at most 32\n"
	    "                              characters (default %s); with\n"
	    "                              --hidg only the PIV applet's, the\n"
	    "                              USB one is the gadget's string\n"
	    "      --processing-delay MS   extra time for every APDU "
	    "(default 0)\n"
	    "      --report-interval MS    time between input reports, like\n"
	    "                              the USB polling interval "
	    "(default %d; 0: none)\n"
	    "\n"
	    "The PIV applet:\n"
	    "      --pin PIN               a fresh device's PIN, 6 to 8 "
	    "characters\n"
	    "                              (default: no PIN, every signature "
	    "asks\n"
	    "                              for a touch)\n"
	    "      --puk PUK               a fresh device's PUK (default "
	    "12345678)\n"
	    "      --touch approve|deny|never|MS\n"
	    "                              what the user does when the "
	    "device asks\n"
	    "                              for a touch; MS: approve after "
	    "MS ms\n"
	    "                              (default %d)\n"
	    "      --timing device|instant\n"
	    "                              device: key generation and "
	    "signatures take\n"
	    "                              as long as on the device "
	    "(RSA-2048 key\n"
	    "                              generation about 10 s, "
	    "KEEPALIVE meanwhile);\n"
	    "                              instant: the computation only "
	    "(default device)\n"
	    "      --model A|C             A: P-256 and Ed25519; C: also "
	    "RSA-2048\n"
	    "                              (default C)\n"
	    "      --state FILE            keep keys, certificates, PIN and "
	    "counters\n"
	    "                              in FILE (missing: a fresh device)\n"
	    "      --fault-control FILE    tests only: a fault written into\n"
	    "                              FILE hits the next APDU (see\n"
	    "                              docs/robustness.md)\n"
	    "  -v, --verbose               log every packet to stderr\n"
	    "  -h, --help                  this text\n"
	    "  -V, --version               version\n"
	    "\n"
	    "Exit status: 0 after SIGTERM/SIGINT, 1 on a runtime failure,\n"
	    "2 on bad options, an unusable socket path, gadget node or state\n"
	    "file.\n",
	    DEFAULT_SERIAL, SIM_REPORT_INTERVAL_MS, SIM_TOUCH_DEFAULT_MS);
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

static int
parse_touch(const char *s, struct options *o)
{
	char *end;
	long v;

	if (strcmp(s, "approve") == 0) {
		o->touch = SIM_TOUCH_APPROVE;
		return 0;
	}
	if (strcmp(s, "deny") == 0) {
		o->touch = SIM_TOUCH_DENY;
		return 0;
	}
	if (strcmp(s, "never") == 0) {
		o->touch = SIM_TOUCH_NEVER;
		return 0;
	}
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < 0 ||
	    v > SIM_TOUCH_MAX_MS) {
		fprintf(stderr, "openloop-sim: --touch wants approve, deny, "
		    "never or milliseconds from 0 to %d, got '%s'\n",
		    SIM_TOUCH_MAX_MS, s);
		return -1;
	}
	o->touch = SIM_TOUCH_AFTER;
	o->touch_ms = (int)v;
	return 0;
}

static int
parse_model(const char *s, struct options *o)
{
	if (strcmp(s, "A") == 0 || strcmp(s, "a") == 0)
		o->model = PIV_MODEL_A;
	else if (strcmp(s, "C") == 0 || strcmp(s, "c") == 0)
		o->model = PIV_MODEL_C;
	else {
		fprintf(stderr, "openloop-sim: --model wants A (P-256 and "
		    "Ed25519) or C (also RSA-2048), got '%s'\n", s);
		return -1;
	}
	o->model_given = 1;
	return 0;
}

/* --pin and --puk: the card's own rule, so that VERIFY agrees */
static int
check_pin(const char *opt, const char *s)
{
	uint8_t tmp[PIV_PIN_MAX];
	int r;

	r = piv_pin_format(s, tmp);
	explicit_bzero(tmp, sizeof(tmp));
	if (r != OL_OK) {
		fprintf(stderr, "openloop-sim: %s wants 6 to 8 characters\n",
		    opt);
		return -1;
	}
	return 0;
}

/* 0 to run, 1 to exit 0 (help, version), -1 to exit EXIT_USAGE */
static int
parse_options(int argc, char **argv, struct options *o)
{
	enum { OPT_SERIAL = 256, OPT_DELAY, OPT_INTERVAL, OPT_PIN, OPT_PUK,
	    OPT_TOUCH, OPT_MODEL, OPT_STATE, OPT_HIDG, OPT_FAULT, OPT_TIMING };
	static const struct option longopts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "hidg", required_argument, NULL, OPT_HIDG },
		{ "serial", required_argument, NULL, OPT_SERIAL },
		{ "processing-delay", required_argument, NULL, OPT_DELAY },
		{ "report-interval", required_argument, NULL, OPT_INTERVAL },
		{ "pin", required_argument, NULL, OPT_PIN },
		{ "puk", required_argument, NULL, OPT_PUK },
		{ "touch", required_argument, NULL, OPT_TOUCH },
		{ "model", required_argument, NULL, OPT_MODEL },
		{ "timing", required_argument, NULL, OPT_TIMING },
		{ "state", required_argument, NULL, OPT_STATE },
		{ "fault-control", required_argument, NULL, OPT_FAULT },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	memset(o, 0, sizeof(*o));
	o->serial = DEFAULT_SERIAL;
	o->report_interval_ms = SIM_REPORT_INTERVAL_MS;
	o->touch = SIM_TOUCH_AFTER;
	o->touch_ms = SIM_TOUCH_DEFAULT_MS;
	o->timing = PIV_TIMING_DEVICE;
	o->model = PIV_MODEL_C;
	while ((c = getopt_long(argc, argv, "s:vhV", longopts, NULL)) != -1) {
		switch (c) {
		case 's':
			o->socket_path = optarg;
			break;
		case OPT_HIDG:
			o->hidg_path = optarg;
			break;
		case OPT_SERIAL:
			/* the PIV state (and the CHUID derived from it) keeps
			 * 32 characters: longer would be cut silently */
			if (strlen(optarg) > PIV_SERIAL_MAX) {
				fprintf(stderr, "openloop-sim: --serial: at most "
				    "%d characters\n", PIV_SERIAL_MAX);
				return -1;
			}
			if (!ol_is_printable_token(optarg)) {
				fprintf(stderr, "openloop-sim: --serial: use "
				    "letters, digits and punctuation only "
				    "(printable ASCII, no spaces)\n");
				return -1;
			}
			o->serial = optarg;
			o->serial_given = 1;
			break;
		case OPT_PIN:
			if (check_pin("--pin", optarg) == -1)
				return -1;
			o->pin = optarg;
			break;
		case OPT_PUK:
			if (check_pin("--puk", optarg) == -1)
				return -1;
			o->puk = optarg;
			break;
		case OPT_TIMING:
			if (piv_timing_parse(optarg, &o->timing) == -1) {
				fprintf(stderr, "openloop-sim: --timing wants "
				    "device or instant, got '%s'\n", optarg);
				return -1;
			}
			break;
		case OPT_TOUCH:
			if (parse_touch(optarg, o) == -1)
				return -1;
			break;
		case OPT_MODEL:
			if (parse_model(optarg, o) == -1)
				return -1;
			break;
		case OPT_STATE:
			if (*optarg == '\0') {
				fprintf(stderr, "openloop-sim: --state wants a "
				    "file name\n");
				return -1;
			}
			o->state_path = optarg;
			break;
		case OPT_DELAY:
			if (parse_ms("--processing-delay", optarg, MAX_DELAY_MS,
			    &o->processing_delay_ms) == -1)
				return -1;
			break;
		case OPT_FAULT:
			o->fault_path = optarg;
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
	if ((o->socket_path == NULL) == (o->hidg_path == NULL)) {
		fprintf(stderr, "openloop-sim: give exactly one of --socket "
		    "PATH and --hidg /dev/hidgN\n"
		    "Try 'openloop-sim --help'.\n");
		return -1;
	}
	return 0;
}

/* --- the PIV applet's state ---------------------------------------------- */

static const char *
model_name(enum piv_model m)
{
	return m == PIV_MODEL_A ? "A" : "C";
}

/* An existing state file is the device: options that describe a fresh
 * device must not contradict it.  0 or -1 (said why). */
static int
check_loaded(struct options *o, const struct piv_state *st)
{
	if (o->serial_given &&
	    strncmp(o->serial, st->serial, PIV_SERIAL_MAX) != 0) {
		fprintf(stderr, "openloop-sim: %s belongs to the device with "
		    "serial %s, not %s\n", o->state_path, st->serial,
		    o->serial);
		return -1;
	}
	if (o->model_given && o->model != st->model) {
		fprintf(stderr, "openloop-sim: %s holds a model %s device, "
		    "not model %s\n", o->state_path, model_name(st->model),
		    model_name(o->model));
		return -1;
	}
	if (!o->serial_given && st->serial[0] != '\0') {
		/* the USB serial is the device's */
		memcpy(o->serial_buf, st->serial, sizeof(o->serial_buf) - 1);
		o->serial_buf[sizeof(o->serial_buf) - 1] = '\0';
		o->serial = o->serial_buf;
	}
	if (o->pin != NULL || o->puk != NULL)
		ol_log(OL_LOG_INFO, "PIV: --pin/--puk ignored: %s keeps the "
		    "device's own", o->state_path);
	return 0;
}

/*
 * The state the applet starts with: FILE if it exists, else a fresh
 * device made from the options (and written to FILE at once, so that a
 * path that cannot be written fails now rather than at the first
 * change).  0, or -1 for exit status 2 (said why; a malformed file is
 * left as it is).
 */
static int
load_state(struct options *o, struct piv_state *st)
{
	int r;

	if (o->state_path != NULL) {
		r = piv_state_load(o->state_path, st);
		if (r == OL_OK) {
			if (check_loaded(o, st) == -1)
				return -1;
			ol_log(OL_LOG_INFO, "PIV: state loaded from %s (model "
			    "%s, %s)", o->state_path, model_name(st->model),
			    st->pin_set ? "PIN set" : "no PIN");
			return 0;
		}
		if (r != OL_ERR_NO_DEVICE) {
			fprintf(stderr, "openloop-sim: cannot use the state "
			    "file %s: %s; it is left untouched\n",
			    o->state_path, r == OL_ERR_PROTOCOL ?
			    "not a valid openloop-sim state" : ol_strerror(r));
			return -1;
		}
	}
	piv_state_init(st, o->model, o->serial);
	if (o->pin != NULL) {
		if (piv_pin_format(o->pin, st->pin) != OL_OK)
			return -1;
		st->pin_set = 1;
		st->pin_tries = PIV_PIN_TRIES;
	}
	if (o->puk != NULL && piv_pin_format(o->puk, st->puk) != OL_OK)
		return -1;
	if (o->state_path != NULL) {
		if ((r = piv_state_save(o->state_path, st)) != OL_OK) {
			fprintf(stderr, "openloop-sim: cannot write the state "
			    "file %s: %s\n", o->state_path, ol_strerror(r));
			return -1;
		}
		ol_log(OL_LOG_INFO, "PIV: fresh device saved to %s",
		    o->state_path);
	}
	ol_log(OL_LOG_INFO, "PIV: fresh device, model %s, %s",
	    model_name(st->model), st->pin_set ? "PIN set" : "no PIN");
	return 0;
}

static void
log_touch(const struct options *o)
{
	switch (o->touch) {
	case SIM_TOUCH_APPROVE:
		ol_log(OL_LOG_INFO, "PIV: touch requests are approved at once");
		break;
	case SIM_TOUCH_AFTER:
		ol_log(OL_LOG_INFO, "PIV: touch requests are approved after "
		    "%d ms", o->touch_ms);
		break;
	case SIM_TOUCH_DENY:
		ol_log(OL_LOG_INFO, "PIV: touch requests are denied");
		break;
	case SIM_TOUCH_NEVER:
		ol_log(OL_LOG_INFO, "PIV: touch requests are never answered "
		    "(the host must cancel)");
		break;
	}
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

	if (sim->hg != NULL)
		sim_hidg_send(sim->hg, report);
	else
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

/*
 * The device's clock counts milliseconds, as USB full-speed frames do: one
 * input report per frame.  A report due at frame N is sent when the loop
 * wakes at the start of frame N, so the wait ends at that millisecond's
 * boundary (ppoll, in microseconds).  A poll() of "1 ms" from the middle
 * of a frame would wake a little later each time and, every few reports,
 * miss a whole frame.
 */
static int
run(struct sim *sim)
{
	int64_t now, now_us, timeout_us;
	int timeout, r;

	while (!sim->stop) {
		now_us = ol_now_us();
		now = now_us / 1000;
		sim_ctaphid_tick(sim->dev, now);
		timeout = sim_ctaphid_next_timeout(sim->dev, now);
		timeout_us = -1;
		if (timeout >= 0) {
			timeout_us = (now + timeout) * 1000 - now_us;
			if (timeout_us < 0)
				timeout_us = 0;
		}
		if (sim->hg != NULL)
			r = sim_hidg_run_once(sim->hg, timeout_us);
		else
			r = sim_server_run_once(sim->srv, timeout_us);
		if (r != OL_OK)
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
	struct sim_hidg_hooks hhooks;
	struct sim_ctaphid_opts dopts;
	struct sim_card_config ccfg;
	struct sim_fido_config fcfg;
	struct piv_state *st = NULL;
	char *fido_path = NULL;
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
	if ((st = malloc(sizeof(*st))) == NULL) {
		ol_log(OL_LOG_CRITICAL, "out of memory");
		goto fail;
	}
	if (load_state(&o, st) == -1) {
		status = EXIT_USAGE;
		goto fail;
	}
	sim_card_config_init(&ccfg);
	ccfg.touch = o.touch;
	ccfg.touch_ms = o.touch_ms;
	ccfg.timing = o.timing;
	ccfg.piv = st;
	ccfg.piv_state_path = o.state_path;
	r = sim_card_new_config(&ccfg, &sim.card);
	/* the card has its own copy */
	piv_state_clear(st);
	free(st);
	st = NULL;
	if (r != OL_OK) {
		ol_log(OL_LOG_CRITICAL, "card: %s", ol_strerror(r));
		goto fail;
	}
	/* the authenticator's state is FILE.fido beside the PIV state;
	 * it waits for touches through the card, whose wait CTAPHID's
	 * KEEPALIVE and CANCEL see */
	memset(&fcfg, 0, sizeof(fcfg));
	sim_card_touch_port(sim.card, &fcfg.touch);
	if (o.state_path != NULL) {
		if (asprintf(&fido_path, "%s.fido", o.state_path) == -1) {
			fido_path = NULL;
			ol_log(OL_LOG_CRITICAL, "out of memory");
			goto fail;
		}
		fcfg.state_path = fido_path;
	}
	if ((r = sim_fido_new(&fcfg, &sim.fido)) != OL_OK) {
		fprintf(stderr, "openloop-sim: cannot use the FIDO state "
		    "file %s: %s; it is left untouched\n", fido_path != NULL ?
		    fido_path : "(none)", r == OL_ERR_PROTOCOL ?
		    "not a valid openloop-sim FIDO state" : ol_strerror(r));
		status = EXIT_USAGE;
		goto fail;
	}
	if (o.hidg_path != NULL) {
		hhooks.report = on_output_report;
		hhooks.ready = on_ready;
		hhooks.arg = &sim;
		if (sim_hidg_open(o.hidg_path, &hhooks, &sim.hg) != OL_OK) {
			/* sim_hidg_open() has said why */
			status = EXIT_USAGE;
			goto fail;
		}
	} else {
		hooks.report = on_output_report;
		hooks.ready = on_ready;
		hooks.arg = &sim;
		if ((r = sim_server_new(&hooks, &sim.srv)) != OL_OK) {
			ol_log(OL_LOG_CRITICAL, "server: %s", ol_strerror(r));
			goto fail;
		}
		if (sim_server_listen(sim.srv, o.socket_path, o.serial) !=
		    OL_OK) {
			/* sim_server_listen() has said why */
			status = EXIT_USAGE;
			goto fail;
		}
	}
	memset(&dopts, 0, sizeof(dopts));
	dopts.card_ops = &sim_card_ops;
	dopts.card = sim.card;
	dopts.fido_ops = &sim_fido_ops;
	dopts.fido = sim.fido;
	dopts.emit = on_input_report;
	dopts.emit_arg = &sim;
	dopts.processing_delay_ms = o.processing_delay_ms;
	dopts.report_interval_ms = o.report_interval_ms;
	dopts.fault_path = o.fault_path;
	if ((r = sim_ctaphid_new(&dopts, &sim.dev)) != OL_OK) {
		ol_log(OL_LOG_CRITICAL, "device: %s", ol_strerror(r));
		goto fail;
	}
	if (sim.hg != NULL) {
		if (sim_hidg_watch(sim.hg, sim.sigfd, on_signal, &sim) !=
		    OL_OK || sim_hidg_watch(sim.hg, sim_ctaphid_fd(sim.dev),
		    on_worker_done, &sim) != OL_OK)
			goto fail;
	} else if (sim_server_watch(sim.srv, sim.sigfd, on_signal, &sim) !=
	    OL_OK || sim_server_watch(sim.srv, sim_ctaphid_fd(sim.dev),
	    on_worker_done, &sim) != OL_OK)
		goto fail;
	ol_log(OL_LOG_INFO, "firmware %d.%d.%d, processing delay %d ms, "
	    "report interval %d ms", SIM_FW_MAJOR, SIM_FW_MINOR, SIM_FW_BUILD,
	    o.processing_delay_ms, o.report_interval_ms);
	log_touch(&o);
	ol_log(OL_LOG_INFO, "PIV: %s timing (RSA-2048 key generation %d ms)",
	    o.timing == PIV_TIMING_DEVICE ? "device" : "instant",
	    piv_timing_ms(o.timing, PIV_OP_GENERATE, PIV_ALG_RSA2048));
	status = run(&sim);
fail:
	/* the device first: it joins the worker, which uses the card */
	sim_ctaphid_free(&sim.dev);
	sim_server_free(&sim.srv);
	sim_hidg_free(&sim.hg);
	sim_fido_free(&sim.fido);
	sim_card_free(&sim.card);
	free(fido_path);
	if (st != NULL) {
		piv_state_clear(st);
		free(st);
	}
	if (sim.sigfd != -1)
		close(sim.sigfd);
	return status;
}
