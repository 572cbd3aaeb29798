/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * openloop-hid: the diagnostic face of the transport.  It lists Openloop
 * devices and talks to one through the very code the driver uses
 * (hid_dev, ctaphid_host), so what works here works in pcscd, and what
 * fails here fails there for the reason printed.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "apdu_log.h"
#include "ctaphid.h"
#include "ctaphid_host.h"
#include "hid_dev.h"
#include "hid_list.h"
#include "ol_err.h"
#include "ol_log.h"

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "unknown"
#endif

#define PROG "openloop-hid"

#define EXIT_FAIL  1  /* no device, transport error, failed pings */
#define EXIT_USAGE 2

#define UDEV_RULE  "70-openloop.rules"
#define PING_DEFAULT_COUNT 10
#define PING_DEFAULT_SIZE  CTAPHID_INIT_DATA  /* one report each way */
#define PING_MAX_COUNT     100000
#define PING_MAX_SIZES     8
#define DEV_NAME_MAX       4096

static int verbose;

static void
log_sink(unsigned category, const struct ol_log_origin *origin,
    const char *msg)
{
	(void)origin;
	(void)category;
	fprintf(stderr, PROG ": transport: %s\n", msg);
}

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: " PROG " [-v] list\n"
	    "       " PROG " [-v] info [DEVICE]\n"
	    "       " PROG " [-v] wink [DEVICE]\n"
	    "       " PROG " [-v] ping [DEVICE] [--count N] [--size BYTES[,BYTES...]]\n"
	    "       " PROG " [-v] apdu [DEVICE] HEX...\n"
	    "\n"
	    "Finds Openloop security keys and talks to them over their FIDO HID\n"
	    "interface (CTAPHID), with the transport the PC/SC driver uses.\n"
	    "\n"
	    "  list      hidraw nodes of Openloop devices, and USB devices that\n"
	    "            offer no FIDO interface\n"
	    "  info      CTAPHID INIT: channel, protocol and firmware versions,\n"
	    "            capabilities, serial\n"
	    "  wink      make the device signal itself\n"
	    "  ping      echo N messages (default %d) of BYTES (default %d, at\n"
	    "            most %d); prints latency and throughput\n"
	    "  apdu      send one APDU (hex, spaces allowed) through vendor\n"
	    "            command 0x70; prints the response and SW1 SW2\n"
	    "\n"
	    "DEVICE is /dev/hidrawN (or hidrawN) or unix:/path (openloop-sim's\n"
	    "socket).  Without it, the one Openloop device 'list' finds is used.\n"
	    "\n"
	    "  -v, --verbose   transport log (channels, packets) on stderr\n"
	    "  -h, --help      this text\n"
	    "  -V, --version   version\n"
	    "\n"
	    "Exit status: 0 success, 1 failure (no device, transport error,\n"
	    "failed pings), 2 bad usage.\n",
	    PING_DEFAULT_COUNT, PING_DEFAULT_SIZE, CTAPHID_MAX_MSG);
}

/* ------------------------------------------------------------------ */
/* Errors the user can act on                                          */

static void
explain_permission(const char *dev)
{
	if (strncmp(dev, OL_UNIX_PREFIX, strlen(OL_UNIX_PREFIX)) == 0) {
		fprintf(stderr, PROG ": %s: permission denied; the socket "
		    "belongs to another user: run as that user or fix the "
		    "socket's mode\n", dev);
		return;
	}
	fprintf(stderr,
	    PROG ": %s: permission denied.\n"
	    "  The udev rule " UDEV_RULE " gives the node to group pcscd and\n"
	    "  to the user logged in at the seat (uaccess).  Check that it is\n"
	    "  installed (/usr/lib/udev/rules.d or /etc/udev/rules.d), that you\n"
	    "  are that user or in group pcscd, then replug the device or run\n"
	    "  'sudo udevadm trigger'.  ls -l %s shows the node's owner.\n",
	    dev, dev);
}

/* Prints what went wrong with an exchange on dev and what to do. */
static void
explain(const char *dev, const char *what, int err, const ol_ctap_t *ctap)
{
	uint8_t code;

	switch (err) {
	case OL_ERR_PERMISSION:
		explain_permission(dev);
		break;
	case OL_ERR_NO_DEVICE:
		fprintf(stderr, PROG ": %s: no such device.  Is it plugged "
		    "in (or openloop-sim running)?  '" PROG " list' shows "
		    "the devices found.\n", dev);
		break;
	case OL_ERR_GONE:
		fprintf(stderr, PROG ": %s: the device was disconnected; "
		    "plug it in again and retry.\n", dev);
		break;
	case OL_ERR_BUSY:
		fprintf(stderr, PROG ": %s: %s: another program (a "
		    "browser?) is using the device; try again.\n", dev, what);
		break;
	case OL_ERR_TIMEOUT:
		fprintf(stderr, PROG ": %s: %s: the device did not answer "
		    "in time; unlock it, or replug it.  -v shows the "
		    "exchange.\n", dev, what);
		break;
	case OL_ERR_USER_TIMEOUT:
		fprintf(stderr, PROG ": %s: %s: nobody confirmed on the "
		    "device in time; the request was cancelled.\n", dev, what);
		break;
	case OL_ERR_DEVICE:
		code = ctap != NULL ? ol_ctap_last_error(ctap) : 0;
		fprintf(stderr, PROG ": %s: %s: the device answered CTAPHID "
		    "error 0x%02x (%s)%s\n", dev, what, code,
		    ctaphid_error_name(code),
		    code == CTAPHID_ERR_INVALID_CMD ?
		    "; the device does not support this command" : "");
		break;
	case OL_ERR_ARG:
		fprintf(stderr, PROG ": %s: not a device name; use "
		    "/dev/hidrawN or unix:/absolute/path\n", dev);
		break;
	default:
		fprintf(stderr, PROG ": %s: %s: %s%s\n", dev, what,
		    ol_strerror(err), verbose ? "" : " (-v shows more)");
		break;
	}
}

/* ------------------------------------------------------------------ */
/* list, and finding the one device                                    */

static void
print_access(const struct hid_list_node *n)
{
	if (n->access == OL_OK)
		printf("  access:     ok (read/write)\n");
	else if (n->access == OL_ERR_PERMISSION)
		printf("  access:     permission denied: install the udev rule "
		    UDEV_RULE ",\n"
		    "              be in group pcscd or the seat user, then "
		    "replug or run\n"
		    "              'sudo udevadm trigger'\n");
	else
		printf("  access:     cannot open: %s\n",
		    strerror(n->access_errno));
}

static void
print_node(const struct hid_list_node *n)
{
	printf("%s: %s\n", n->node, hid_list_is_openloop(n) ?
	    "Openloop device" : n->fido ?
	    "FIDO device, not an ID this build claims" :
	    "Openloop USB ID, but no FIDO interface");
	if (n->have_ids)
		printf("  USB ID:     %04x:%04x%s\n", n->vid, n->pid,
		    n->bus_type == 3 ? "" : " (not on USB)");
	if (n->product[0] != '\0')
		printf("  product:    %s\n", n->product);
	printf("  serial:     %s\n", n->serial[0] ? n->serial : "(none)");
	if (n->iface >= 0)
		printf("  interface:  %d", n->iface);
	else
		printf("  interface:  unknown");
	if (n->usb_bus >= 0 && n->usb_dev >= 0)
		printf(" (USB bus %03d device %03d)", n->usb_bus, n->usb_dev);
	printf("\n");
	printf("  FIDO usage page 0xF1D0: %s\n", !n->descriptor_read ?
	    "unknown (report descriptor unreadable)" : n->fido ? "yes" : "no");
	print_access(n);
	if (n->fido && !n->claimed)
		printf("  note:       the driver claims %s; if this is an "
		    "Openloop, name it\n"
		    "              explicitly, and add its ID for the "
		    "driver: openloop-usb-ids add VID:PID\n",
		    hid_list_claimed_ids()[0] != '\0' ?
		    hid_list_claimed_ids() : "no USB ID");
}

/* The USB devices with a claimed ID and no FIDO hidraw node. */
static size_t
print_usb_without_fido(const struct hid_list *l, FILE *f)
{
	size_t n = 0;

	for (size_t i = 0; i < l->n_usb; i++) {
		const struct hid_list_usb *u = &l->usb[i];
		if (u->has_fido_node)
			continue;
		n++;
		fprintf(f, "USB bus %03d device %03d: %04x:%04x%s%s%s%s%s\n",
		    u->bus, u->dev, u->vid, u->pid,
		    u->product[0] ? " " : "", u->product,
		    u->serial[0] ? " (serial " : "", u->serial,
		    u->serial[0] ? ")" : "");
		fprintf(f, "  plugged in, but offers no FIDO HID interface: "
		    "turn Settings > USB > USB HID on, on the device\n");
		if (u->hid_ifaces > 0)
			fprintf(f, "  (it has %d HID interface%s, none with "
			    "the FIDO usage page, or no hidraw node for it)\n",
			    u->hid_ifaces, u->hid_ifaces == 1 ? "" : "s");
	}
	return n;
}

static void
print_no_device_hints(const struct hid_list *l, FILE *f)
{
	if (hid_list_claimed_ids()[0] == '\0')
		fprintf(f, "no Openloop device found.\n"
		    "  - No USB ID is claimed: add the device's (lsusb shows "
		    "it) with\n"
		    "    openloop-usb-ids add VID:PID\n"
		    "  - For the simulator, name its socket: " PROG " info "
		    "unix:/path/to/socket\n");
	else
		fprintf(f, "no Openloop device found.\n"
		    "  - Is it plugged in and unlocked?  'lsusb' should list "
		    "%s.\n"
		    "  - For the simulator, name its socket: " PROG " info "
		    "unix:/path/to/socket\n", hid_list_claimed_ids());
	if (!l->usb_walked)
		fprintf(f, "  - (the USB bus could not be walked: %s)\n",
		    l->usb_error);
}

static const char *
scan_root(void)
{
	return getenv(HID_LIST_ROOT_ENV);
}

static int
cmd_list(void)
{
	struct hid_list l;
	size_t shown = 0, openloop = 0, no_fido;
	int r;

	if ((r = hid_list_scan(scan_root(), &l)) != OL_OK) {
		fprintf(stderr, PROG ": list: %s\n", ol_strerror(r));
		return EXIT_FAIL;
	}
	for (size_t i = 0; i < l.n_nodes; i++) {
		const struct hid_list_node *n = &l.nodes[i];
		/* FIDO nodes of any vendor: a changed ID shows up here */
		if (!n->fido && !n->claimed)
			continue;
		if (shown++ > 0)
			printf("\n");
		print_node(n);
		openloop += hid_list_is_openloop(n);
	}
	if (shown > 0 && l.n_usb > 0)
		printf("\n");
	no_fido = print_usb_without_fido(&l, stdout);
	if (openloop == 0 && no_fido == 0) {
		if (shown > 0)
			printf("\n");
		print_no_device_hints(&l, stdout);
	}
	hid_list_free(&l);
	return openloop > 0 ? 0 : EXIT_FAIL;
}

/* The only Openloop device, into buf; 0 or an exit status. */
static int
find_device(char *buf, size_t cap)
{
	struct hid_list l;
	size_t found = 0;
	int r, ret = EXIT_FAIL;

	if ((r = hid_list_scan(scan_root(), &l)) != OL_OK) {
		fprintf(stderr, PROG ": %s\n", ol_strerror(r));
		return EXIT_FAIL;
	}
	for (size_t i = 0; i < l.n_nodes; i++)
		if (hid_list_is_openloop(&l.nodes[i]))
			found++;
	if (found == 1) {
		for (size_t i = 0; i < l.n_nodes; i++)
			if (hid_list_is_openloop(&l.nodes[i]))
				snprintf(buf, cap, "%s", l.nodes[i].node);
		ret = 0;
	} else if (found > 1) {
		fprintf(stderr, PROG ": %zu Openloop devices found; name "
		    "one:\n", found);
		for (size_t i = 0; i < l.n_nodes; i++)
			if (hid_list_is_openloop(&l.nodes[i]))
				fprintf(stderr, "  %s  serial %s\n",
				    l.nodes[i].node, l.nodes[i].serial[0] ?
				    l.nodes[i].serial : "(none)");
	} else if (print_usb_without_fido(&l, stderr) == 0) {
		print_no_device_hints(&l, stderr);
	}
	hid_list_free(&l);
	return ret;
}

/* ------------------------------------------------------------------ */
/* Talking to one device                                               */

struct session {
	char dev[DEV_NAME_MAX];
	ol_hid_t *hid;
	ol_ctap_t *ctap;
};

/* dev: as given, or NULL for the only one found.  0 or an exit status. */
static int
session_open(struct session *s, const char *dev)
{
	int r;

	memset(s, 0, sizeof(*s));
	if (dev == NULL) {
		if ((r = find_device(s->dev, sizeof(s->dev))) != 0)
			return r;
	} else if (strncmp(dev, "hidraw", 6) == 0) {
		/* shorthand: "hidraw3" */
		snprintf(s->dev, sizeof(s->dev), "/dev/%s", dev);
	} else if (snprintf(s->dev, sizeof(s->dev), "%s", dev) >=
	    (int)sizeof(s->dev)) {
		fprintf(stderr, PROG ": device name too long\n");
		return EXIT_USAGE;
	}
	if ((r = ol_hid_open(s->dev, &s->hid)) != OL_OK) {
		explain(s->dev, "open", r, NULL);
		return EXIT_FAIL;
	}
	if ((r = ol_ctap_new(s->hid, NULL, &s->ctap)) != OL_OK) {
		explain(s->dev, "open", r, NULL);
		ol_hid_close(&s->hid);
		return EXIT_FAIL;
	}
	return 0;
}

static void
session_close(struct session *s)
{
	ol_ctap_free(&s->ctap);
	ol_hid_close(&s->hid);
}

static int
cmd_info(const char *dev)
{
	const struct ol_ctap_info *in;
	struct session s;
	const char *serial;
	int r, ret;

	if ((ret = session_open(&s, dev)) != 0)
		return ret;
	if ((r = ol_ctap_init(s.ctap)) != OL_OK) {
		explain(s.dev, "INIT", r, s.ctap);
		ret = EXIT_FAIL;
		goto out;
	}
	in = ol_ctap_info(s.ctap);
	serial = ol_hid_serial(s.hid);
	printf("device:           %s\n", s.dev);
	printf("serial:           %s\n", serial != NULL ? serial : "(unknown)");
	printf("channel:          %08x\n", in->cid);
	printf("CTAPHID protocol: %u%s\n", in->protocol,
	    in->protocol == CTAPHID_PROTOCOL_VERSION ? "" :
	    " (unexpected; CTAP 2 uses 2)");
	printf("firmware:         %u.%u.%u\n", in->major, in->minor,
	    in->build);
	printf("capabilities:     0x%02x%s%s%s\n", in->caps,
	    in->caps & CTAPHID_CAP_WINK ? " WINK" : "",
	    in->caps & CTAPHID_CAP_CBOR ? " CBOR" : "",
	    in->caps & CTAPHID_CAP_NMSG ? " NMSG" : "");
	printf("  WINK  %s\n", in->caps & CTAPHID_CAP_WINK ?
	    "yes: 'wink' makes it signal itself" : "no");
	printf("  CBOR  %s\n", in->caps & CTAPHID_CAP_CBOR ?
	    "yes: speaks CTAP2 (FIDO2)" : "no: no CTAP2");
	printf("  NMSG  %s\n", in->caps & CTAPHID_CAP_NMSG ?
	    "yes: no CTAP1/U2F messages (CTAPHID_MSG)" :
	    "no: speaks CTAP1/U2F too");
	ret = 0;
out:
	session_close(&s);
	return ret;
}

static int
cmd_wink(const char *dev)
{
	struct session s;
	uint8_t resp[CTAPHID_MAX_MSG];
	size_t len;
	int r, ret;

	if ((ret = session_open(&s, dev)) != 0)
		return ret;
	r = ol_ctap_transact(s.ctap, CTAPHID_WINK, NULL, 0, resp,
	    sizeof(resp), &len);
	if (r != OL_OK) {
		explain(s.dev, "WINK", r, s.ctap);
		ret = EXIT_FAIL;
	} else {
		printf("%s: wink sent; the device should signal itself "
		    "now\n", s.dev);
	}
	session_close(&s);
	return ret;
}

static int64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int
cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

/* One run of count pings of size bytes; counts errors.  A lost device
 * ends the run (*fatal). */
static int
ping_run(struct session *s, int count, size_t size, int *fatal)
{
	static uint8_t req[CTAPHID_MAX_MSG], resp[CTAPHID_MAX_MSG];
	int64_t *rtt, t0, total = 0;
	int ok = 0, errors = 0, r;
	size_t len;

	if ((rtt = calloc((size_t)count, sizeof(*rtt))) == NULL) {
		fprintf(stderr, PROG ": out of memory\n");
		*fatal = 1;
		return 1;
	}
	for (int i = 0; i < count && !*fatal; i++) {
		/* fresh data each time: an echo of stale data is an error */
		if (size > 0 && getrandom(req, size, 0) != (ssize_t)size)
			memset(req, i & 0xff, size);
		t0 = now_ns();
		r = ol_ctap_transact(s->ctap, CTAPHID_PING, req, size, resp,
		    sizeof(resp), &len);
		t0 = now_ns() - t0;
		if (r != OL_OK) {
			explain(s->dev, "PING", r, s->ctap);
			errors++;
			if (r == OL_ERR_GONE || r == OL_ERR_NO_DEVICE ||
			    r == OL_ERR_PERMISSION || r == OL_ERR_IO)
				*fatal = 1;
			continue;
		}
		if (len != size || memcmp(req, resp, size) != 0) {
			fprintf(stderr, PROG ": %s: PING %d: echo of %zu "
			    "bytes differs from the %zu sent\n", s->dev, i + 1,
			    len, size);
			errors++;
			continue;
		}
		rtt[ok++] = t0;
		total += t0;
	}
	printf("PING %zu bytes: %d sent, %d ok, %d errors\n", size,
	    ok + errors, ok, errors);
	if (ok > 0) {
		qsort(rtt, (size_t)ok, sizeof(*rtt), cmp_i64);
		printf("  round trip: min %.3f ms, median %.3f ms, "
		    "max %.3f ms\n", rtt[0] / 1e6,
		    (ok % 2 ? rtt[ok / 2] : (rtt[ok / 2 - 1] + rtt[ok / 2]) / 2)
		    / 1e6, rtt[ok - 1] / 1e6);
		if (total > 0)
			printf("  throughput: %.0f bytes/s each way, %.0f "
			    "bytes/s both ways\n",
			    (double)size * ok * 1e9 / (double)total,
			    2.0 * (double)size * ok * 1e9 / (double)total);
	}
	free(rtt);
	return errors;
}

static int
parse_uint(const char *opt, const char *s, long max, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < 0 || v > max) {
		fprintf(stderr, PROG ": %s wants a number from 0 to %ld, got "
		    "'%s'\n", opt, max, s);
		return -1;
	}
	*out = v;
	return 0;
}

static int
parse_sizes(const char *arg, size_t *sizes, size_t *n)
{
	char buf[256], *tok, *save = NULL;
	long v;

	if (snprintf(buf, sizeof(buf), "%s", arg) >= (int)sizeof(buf)) {
		fprintf(stderr, PROG ": --size: list too long\n");
		return -1;
	}
	*n = 0;
	for (tok = strtok_r(buf, ",", &save); tok != NULL;
	    tok = strtok_r(NULL, ",", &save)) {
		if (*n == PING_MAX_SIZES) {
			fprintf(stderr, PROG ": --size: at most %d sizes\n",
			    PING_MAX_SIZES);
			return -1;
		}
		if (parse_uint("--size", tok, CTAPHID_MAX_MSG, &v) != 0)
			return -1;
		sizes[(*n)++] = (size_t)v;
	}
	if (*n == 0) {
		fprintf(stderr, PROG ": --size wants BYTES[,BYTES...]\n");
		return -1;
	}
	return 0;
}

static int
cmd_ping(const char *dev, int count, const size_t *sizes, size_t n_sizes)
{
	struct session s;
	int errors = 0, fatal = 0, ret, r;

	if ((ret = session_open(&s, dev)) != 0)
		return ret;
	/* Allocate the channel first, so the first ping's time is a ping's. */
	if ((r = ol_ctap_init(s.ctap)) != OL_OK) {
		explain(s.dev, "INIT", r, s.ctap);
		session_close(&s);
		return EXIT_FAIL;
	}
	printf("%s: %d pings per size\n", s.dev, count);
	for (size_t i = 0; i < n_sizes && !fatal; i++)
		errors += ping_run(&s, count, sizes[i], &fatal);
	session_close(&s);
	return errors == 0 ? 0 : EXIT_FAIL;
}

/* Hex digits, with spaces or colons anywhere between bytes; 0 on
 * success. */
static int
parse_hex_args(int argc, char **argv, uint8_t *out, size_t cap, size_t *len)
{
	int hi = -1, h;

	*len = 0;
	for (int i = 0; i < argc; i++) {
		for (const char *p = argv[i]; *p != '\0'; p++) {
			if (*p == ' ' || *p == ':' || *p == '\t') {
				if (hi >= 0)
					goto odd;
				continue;
			}
			if ((h = (*p >= '0' && *p <= '9') ? *p - '0' :
			    (*p >= 'a' && *p <= 'f') ? *p - 'a' + 10 :
			    (*p >= 'A' && *p <= 'F') ? *p - 'A' + 10 : -1) < 0) {
				fprintf(stderr, PROG ": apdu: '%c' is not a "
				    "hex digit\n", *p);
				return -1;
			}
			if (hi < 0) {
				hi = h;
				continue;
			}
			if (*len == cap) {
				fprintf(stderr, PROG ": apdu: longer than a "
				    "CTAPHID message (%zu bytes)\n", cap);
				return -1;
			}
			out[(*len)++] = (uint8_t)(hi << 4 | h);
			hi = -1;
		}
		if (hi >= 0)
			goto odd;
	}
	return 0;
odd:
	fprintf(stderr, PROG ": apdu: odd number of hex digits in a byte\n");
	return -1;
}

static void
print_hex_block(const char *label, const uint8_t *buf, size_t len)
{
	printf("%s (%zu bytes):", label, len);
	for (size_t i = 0; i < len; i++)
		printf("%s%02X", i % 16 == 0 ? "\n  " : " ", buf[i]);
	printf("\n");
}

static const char *
sw_meaning(uint8_t sw1, uint8_t sw2)
{
	switch (sw1) {
	case 0x90:
		return sw2 == 0 ? "success" : "";
	case 0x61:
		return "success, more data: GET RESPONSE (00 C0 00 00 xx)";
	case 0x63:
		return (sw2 & 0xf0) == 0xc0 ? "wrong PIN; retries left in "
		    "the low nibble" : "warning";
	case 0x67:
		return "wrong length";
	case 0x69:
		return sw2 == 0x82 ? "security status not satisfied" :
		    sw2 == 0x83 ? "blocked" : "command not allowed";
	case 0x6a:
		return sw2 == 0x82 ? "not found" : sw2 == 0x86 ?
		    "wrong P1 P2" : "wrong data";
	case 0x6c:
		return "wrong Le; SW2 is the right one";
	case 0x6d:
		return "instruction not supported";
	case 0x6e:
		return "class not supported";
	default:
		return "";
	}
}

/* True if the command's data is a secret: a PIN, a PUK, a management-key
 * exchange or a key.  Such an APDU is not taken from argv (ps, shell
 * history) and not printed back. */
static int
carries_secret(const uint8_t *capdu, size_t len)
{
	if (len <= 5)
		return 0;       /* no data */
	switch (capdu[1]) {
	case 0x20:      /* VERIFY */
	case 0x24:      /* CHANGE REFERENCE DATA */
	case 0x2c:      /* RESET RETRY COUNTER */
	case 0xfe:      /* Yubico IMPORT KEY */
	case 0xff:      /* Yubico SET MANAGEMENT KEY */
		return 1;
	case 0x87:      /* GENERAL AUTHENTICATE with the management key */
		return capdu[3] == 0x9b;
	default:
		return (capdu[0] & 0x80) != 0; /* proprietary: unknown */
	}
}

/* The APDU as hex text on standard input, without echo on a terminal. */
static int
read_apdu_stdin(uint8_t *out, size_t cap, size_t *len)
{
	static char text[2 * CTAPHID_MAX_MSG + 64];
	struct termios saved, quiet;
	char *arg[1] = { text };
	size_t n = 0;
	int c, tty = isatty(STDIN_FILENO), r = -1, echo_off = 0;

	if (tty && tcgetattr(STDIN_FILENO, &saved) == 0) {
		quiet = saved;
		quiet.c_lflag &= (tcflag_t)~ECHO;
		echo_off = tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet) == 0;
		fprintf(stderr, "APDU (hex, not echoed): ");
	}
	while ((c = getchar()) != EOF && !(tty && c == '\n')) {
		if (n + 1 >= sizeof(text)) {
			fprintf(stderr, PROG ": apdu: input too long\n");
			goto out;
		}
		text[n++] = c == '\n' || c == '\r' ? ' ' : (char)c;
	}
	text[n] = '\0';
	r = parse_hex_args(1, arg, out, cap, len);
out:
	if (echo_off) {
		(void)tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved);
		fputc('\n', stderr);
	}
	explicit_bzero(text, sizeof(text));
	return r;
}

static int
cmd_apdu(const char *dev, int argc, char **argv)
{
	static uint8_t capdu[CTAPHID_MAX_MSG], rapdu[CTAPHID_MAX_MSG];
	char logbuf[512];
	struct session s;
	size_t clen = 0, rlen = 0;
	uint8_t sw1, sw2;
	int r, ret, sensitive, from_stdin;

	from_stdin = argc == 1 && strcmp(argv[0], "-") == 0;
	if ((from_stdin ? read_apdu_stdin(capdu, sizeof(capdu), &clen) :
	    parse_hex_args(argc, argv, capdu, sizeof(capdu), &clen)) != 0) {
		ret = EXIT_USAGE;
		goto wipe;
	}
	if (clen < 4) {
		fprintf(stderr, PROG ": apdu: an APDU has at least 4 bytes "
		    "(CLA INS P1 P2)\n");
		ret = EXIT_USAGE;
		goto wipe;
	}
	if (!from_stdin && carries_secret(capdu, clen)) {
		fprintf(stderr, PROG ": apdu: this APDU carries a PIN or a key, "
		    "which the command line shows to every user (ps) and "
		    "keeps in the shell's history; give it on standard input "
		    "instead: openloop-hid apdu [DEVICE] - < FILE\n");
		ret = EXIT_USAGE;
		goto wipe;
	}
	if ((ret = session_open(&s, dev)) != 0)
		goto wipe;
	/* The output is the user's own; the log (which may end up in a bug
	 * report) hides PINs and keys as the driver's does. */
	sensitive = ol_apdu_response_is_sensitive(capdu, clen);
	ol_log(OL_LOG_COMM, "%s", ol_apdu_format_command(capdu, clen,
	    logbuf, sizeof(logbuf)));
	r = ol_ctap_apdu(s.ctap, capdu, clen, rapdu, sizeof(rapdu), &rlen);
	if (r != OL_OK) {
		explain(s.dev, "APDU", r, s.ctap);
		ret = EXIT_FAIL;
		goto out;
	}
	ol_log(OL_LOG_COMM, "%s", ol_apdu_format_response(rapdu, rlen,
	    sensitive, logbuf, sizeof(logbuf)));
	if (carries_secret(capdu, clen))
		printf("command (%zu bytes): %s\n", clen,
		    ol_apdu_format_command(capdu, clen, logbuf,
		    sizeof(logbuf)) + 3);
	else
		print_hex_block("command", capdu, clen);
	sw1 = rapdu[rlen - 2];
	sw2 = rapdu[rlen - 1];
	if (rlen > 2)
		print_hex_block("response data", rapdu, rlen - 2);
	else
		printf("response data (0 bytes)\n");
	printf("SW: %02X%02X%s%s\n", sw1, sw2,
	    sw_meaning(sw1, sw2)[0] ? " " : "", sw_meaning(sw1, sw2));
	ret = 0;
out:
	session_close(&s);
wipe:
	explicit_bzero(capdu, sizeof(capdu));
	explicit_bzero(rapdu, sizeof(rapdu));
	explicit_bzero(logbuf, sizeof(logbuf));
	return ret;
}

/* ------------------------------------------------------------------ */

static int
is_device_arg(const char *a)
{
	return strncmp(a, OL_UNIX_PREFIX, strlen(OL_UNIX_PREFIX)) == 0 ||
	    a[0] == '/' || strncmp(a, "hidraw", 6) == 0;
}

int
main(int argc, char **argv)
{
	static const struct option global_opts[] = {
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	static const struct option cmd_opts[] = {
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "count", required_argument, NULL, 'c' },
		{ "size", required_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 }
	};
	size_t sizes[PING_MAX_SIZES] = { PING_DEFAULT_SIZE }, n_sizes = 1;
	const char *cmd, *dev = NULL;
	long count = PING_DEFAULT_COUNT;
	int c, is_ping;

	/* '+': stop at the subcommand; its options are parsed below */
	while ((c = getopt_long(argc, argv, "+vhV", global_opts, NULL)) != -1) {
		switch (c) {
		case 'v':
			verbose = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf(PROG " " PACKAGE_VERSION "\n");
			return 0;
		default:
			fprintf(stderr, "see '" PROG " --help'\n");
			return EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	cmd = argv[optind];
	is_ping = strcmp(cmd, "ping") == 0;
	argc -= optind;
	argv += optind;
	/* 0, not 1: GNU getopt re-initialises, dropping the "+" mode */
	optind = 0;
	/* GNU getopt permutes: options may come before or after DEVICE, and
	 * the operands (DEVICE, APDU bytes) keep their order. */
	while ((c = getopt_long(argc, argv, "vhc:s:", cmd_opts, NULL)) != -1) {
		switch (c) {
		case 'v':
			verbose = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'c':
			if (!is_ping ||
			    parse_uint("--count", optarg, PING_MAX_COUNT, &count))
				goto bad;
			if (count == 0) {
				fprintf(stderr, PROG ": --count wants at "
				    "least 1\n");
				goto bad;
			}
			break;
		case 's':
			if (!is_ping || parse_sizes(optarg, sizes, &n_sizes))
				goto bad;
			break;
		default:
			goto bad;
		}
	}
	if (optind < argc && is_device_arg(argv[optind]))
		dev = argv[optind++];

	ol_log_set_sink(log_sink);
	/* Quiet by default: every failure is explained on stderr by us. */
	ol_log_set_mask(verbose ? OL_LOG_CRITICAL | OL_LOG_INFO | OL_LOG_COMM :
	    0);

	if (strcmp(cmd, "list") == 0 && dev == NULL && optind == argc)
		return cmd_list();
	if (strcmp(cmd, "info") == 0 && optind == argc)
		return cmd_info(dev);
	if (strcmp(cmd, "wink") == 0 && optind == argc)
		return cmd_wink(dev);
	if (is_ping && optind == argc)
		return cmd_ping(dev, (int)count, sizes, n_sizes);
	if (strcmp(cmd, "apdu") == 0 && optind < argc)
		return cmd_apdu(dev, argc - optind, argv + optind);
bad:
	fprintf(stderr, PROG ": bad usage of '%s'; see '" PROG " --help'\n",
	    cmd);
	return EXIT_USAGE;
}
