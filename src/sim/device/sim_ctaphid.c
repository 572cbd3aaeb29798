/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Device-side CTAPHID: channel allocation, request reassembly, one
 * transaction at a time, the worker (APDUs, CTAP2 and U2F requests) with
 * keepalives, and a paced queue of input reports.  Framing goes through
 * ctaphid.c only.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "ctaphid.h"
#include "ctaphid_msg.h"
#include "ol_err.h"
#include "ol_log.h"
#include "apdu_log.h"
#include "sim_ctaphid.h"
#include "sim_fault.h"

/* Reports the longest message needs: init packet + 128 continuations. */
#define MSG_REPORTS_MAX  (CTAPHID_MAX_SEQ + 2)
#define OUTQ_LEN         512
/* Room for the reply to one more request, an APDU response and a
 * keepalive: with less, host writes wait (see sim_ctaphid_ready()). */
#define OUTQ_READY_FREE  (2 * MSG_REPORTS_MAX + 2)

enum dev_state {
	DEV_IDLE,
	DEV_RECEIVING,   /* a multi-packet request is being reassembled */
	DEV_PROCESSING,  /* an APDU is on the worker or its delay runs */
};

struct rx {
	struct ctaphid_asm a;   /* over buf; pending while DEV_RECEIVING */
	int64_t deadline;
	uint8_t buf[CTAPHID_MAX_MSG];
};

struct job {
	/* main thread only */
	pthread_t thread;
	int thread_live;     /* created and not joined */
	int done;            /* joined: rapdu and rc are valid */
	int cancelled;       /* CANCEL: answer 6982 */
	int discarded;       /* INIT resync: answer nothing */
	uint32_t cid;
	uint8_t cmd;         /* CTAPHID_OPENLOOP_APDU, _CBOR or _MSG */
	int64_t ready_at;    /* end of --processing-delay */
	int64_t next_keepalive;
	/* set before the worker starts, read-only while it runs */
	const struct sim_card_ops *ops;
	void *card;
	const struct sim_fido_ops *fido_ops;
	void *fido;
	int wake_fd;
	uint8_t capdu[CTAPHID_MAX_MSG];
	size_t capdu_len;
	/* written by the worker, read after pthread_join() */
	uint8_t rapdu[CTAPHID_MAX_MSG];
	size_t rapdu_len;
	int rc;
	/* an injected fault (sim_fault.h), main thread only */
	unsigned fault;
	int64_t next_noise;
};

struct sim_ctaphid {
	struct sim_ctaphid_opts opts;
	enum dev_state state;
	struct rx rx;
	struct job job;
	uint32_t first_cid;
	uint32_t next_cid;
	/* the channel of the card's current session: an APDU on another
	 * channel, or after this one was re-INITed, starts a new one */
	uint32_t session_cid;
	struct ol_apdu_redactor redactor;  /* what the log shows of APDUs */
	uint8_t outq[OUTQ_LEN][CTAPHID_REPORT_LEN];
	size_t oq_head;
	size_t oq_len;
	int64_t last_sent;
	int sent_any;
	int wake[2];         /* worker -> owner: "finished" */
	int64_t busy_until;  /* fault "busy" */
	/* the last channel told CHANNEL_BUSY by the running job: a client
	 * that retries is logged once per job, not once per retry */
	uint32_t busy_told_cid;
	int unplug;          /* fault "unplug": exit once the queue is sent */
};

struct job;
static void fault_mangle_reply(sim_ctaphid_t *, const struct job *, size_t);
static void fault_noise(sim_ctaphid_t *, const struct job *);

static const uint8_t sw_cancelled[2] = { 0x69, 0x82 };
static const uint8_t sw_card_failed[2] = { 0x6f, 0x00 };
static const uint8_t ctap_failed[1] = { 0x7f };  /* CTAP1_ERR_OTHER */

/* --- logging ------------------------------------------------------------- */

/*
 * Packets are logged with their bytes, except the bytes of APDU, CBOR and
 * MSG messages: those may carry a PIN, a PIN token, a key handle or a
 * management-key exchange, so an APDU is
 * logged whole, through the redacting formatter, when it is dispatched
 * and answered.  Continuation packets show no bytes: which message they
 * belong to is not known here.
 */
static void
log_report(const char *dir, const uint8_t report[CTAPHID_REPORT_LEN])
{
	struct ctaphid_packet pkt;
	char prefix[128];
	size_t n;

	if (!ol_log_enabled(OL_LOG_COMM) ||
	    ctaphid_packet_parse(report, CTAPHID_REPORT_LEN, &pkt) != OL_OK)
		return;
	if (pkt.is_init) {
		snprintf(prefix, sizeof(prefix), "%s %08x %s(%02x) bcnt %u%s%s",
		    dir, (unsigned)pkt.cid, ctaphid_cmd_name(pkt.cmd), pkt.cmd,
		    (unsigned)pkt.bcnt, pkt.cmd == CTAPHID_ERROR ? " " : "",
		    pkt.cmd == CTAPHID_ERROR ?
		    ctaphid_error_name(pkt.data[0]) : "");
		n = pkt.bcnt < pkt.data_len ? pkt.bcnt : pkt.data_len;
		if (pkt.cmd == CTAPHID_OPENLOOP_APDU ||
		    pkt.cmd == CTAPHID_CBOR || pkt.cmd == CTAPHID_MSG) {
			ol_log(OL_LOG_COMM, "%s", prefix);
			return;
		}
		ol_log_hex(OL_LOG_COMM, prefix, pkt.data, n);
		return;
	}
	ol_log(OL_LOG_COMM, "%s %08x seq %u", dir, (unsigned)pkt.cid,
	    (unsigned)pkt.seq);
}

static void
log_apdu(sim_ctaphid_t *dev, const struct job *job, const uint8_t *rapdu,
    size_t rlen)
{
	char line[256];
	int hide;

	if (rapdu == NULL) {
		(void)ol_apdu_redactor_command(&dev->redactor, job->cid,
		    job->capdu, job->capdu_len);
		if (ol_log_enabled(OL_LOG_COMM))
			ol_log(OL_LOG_COMM, "%08x: %s", (unsigned)job->cid,
			    ol_apdu_format_command(job->capdu,
			    job->capdu_len, line, sizeof(line)));
		return;
	}
	hide = dev->redactor.hide_response;
	ol_apdu_redactor_response(&dev->redactor, rapdu, rlen);
	if (ol_log_enabled(OL_LOG_COMM))
		ol_log(OL_LOG_COMM, "%08x: %s", (unsigned)job->cid,
		    ol_apdu_format_response(rapdu, rlen, hide, line,
		    sizeof(line)));
	explicit_bzero(line, sizeof(line));
}

/* --- the queue of input reports ---------------------------------------- */

static size_t
outq_free(const sim_ctaphid_t *dev)
{
	return OUTQ_LEN - dev->oq_len;
}

static int
outq_push(void *arg, const uint8_t report[CTAPHID_REPORT_LEN])
{
	sim_ctaphid_t *dev = arg;

	if (outq_free(dev) == 0)
		return OL_ERR_BUSY;
	memcpy(dev->outq[(dev->oq_head + dev->oq_len) % OUTQ_LEN], report,
	    CTAPHID_REPORT_LEN);
	dev->oq_len++;
	return OL_OK;
}

/* A message is queued whole or not at all: a host cannot use half. */
static int
send_msg(sim_ctaphid_t *dev, uint32_t cid, uint8_t cmd, const uint8_t *msg,
    size_t len)
{
	if (len > CTAPHID_MAX_MSG)
		return OL_ERR_TOO_LONG;
	if (ctaphid_packet_count(len) > outq_free(dev)) {
		ol_log(OL_LOG_CRITICAL, "output queue full: %s reply to %08x "
		    "dropped", ctaphid_cmd_name(cmd), (unsigned)cid);
		return OL_ERR_BUSY;
	}
	return ctaphid_fragment(cid, cmd, msg, len, outq_push, dev);
}

static void
send_error(sim_ctaphid_t *dev, uint32_t cid, uint8_t code)
{
	send_msg(dev, cid, CTAPHID_ERROR, &code, 1);
}

/* Hands queued reports to the emit callback, one per report interval
 * (the USB host takes one per poll of the IN endpoint). */
static void
flush(sim_ctaphid_t *dev, int64_t now)
{
	int interval = dev->opts.report_interval_ms;
	uint8_t *report;

	while (dev->oq_len > 0) {
		if (interval > 0 && dev->sent_any &&
		    now - dev->last_sent < interval)
			return;
		report = dev->outq[dev->oq_head];
		log_report("tx", report);
		dev->opts.emit(dev->opts.emit_arg, report);
		explicit_bzero(report, CTAPHID_REPORT_LEN);
		dev->oq_head = (dev->oq_head + 1) % OUTQ_LEN;
		dev->oq_len--;
		dev->last_sent = now;
		dev->sent_any = 1;
	}
	if (dev->unplug) {
		ol_log(OL_LOG_CRITICAL, "fault: unplugged in the middle of "
		    "a reply");
		_exit(3);
	}
}

/* --- the APDU worker ----------------------------------------------------- */

static void *
worker_main(void *arg)
{
	struct job *job = arg;
	uint8_t one = 1;

	if (job->cmd == CTAPHID_CBOR)
		job->rc = job->fido_ops->cbor(job->fido, job->capdu,
		    job->capdu_len, job->rapdu, sizeof(job->rapdu),
		    &job->rapdu_len);
	else if (job->cmd == CTAPHID_MSG)
		job->rc = job->fido_ops->msg(job->fido, job->capdu,
		    job->capdu_len, job->rapdu, sizeof(job->rapdu),
		    &job->rapdu_len);
	else
		job->rc = job->ops->apdu(job->card, job->capdu,
		    job->capdu_len, job->rapdu, sizeof(job->rapdu),
		    &job->rapdu_len);
	/* a full pipe already says "finished": EAGAIN is fine */
	while (write(job->wake_fd, &one, 1) == -1 && errno == EINTR)
		;
	return NULL;
}

static void
worker_poll(sim_ctaphid_t *dev)
{
	uint8_t buf[16];

	if (!dev->job.thread_live)
		return;
	if (read(dev->wake[0], buf, sizeof(buf)) <= 0)
		return;
	pthread_join(dev->job.thread, NULL);
	dev->job.thread_live = 0;
	dev->job.done = 1;
}

/*
 * One request for the worker: an APDU (0x70), a CTAP2 request (CBOR) or a
 * U2F message (MSG).  The FIDO requests share the worker, the keepalives
 * and CANCEL with APDUs, so the device runs one of them at a time as its
 * single-threaded firmware would; they take no --processing-delay, no
 * injected fault and no card session (the authenticator has no session).
 */
static void
start_job(sim_ctaphid_t *dev, uint8_t cmd, uint32_t cid, const uint8_t *msg,
    size_t len, int64_t now)
{
	struct job *job = &dev->job;
	int is_apdu = cmd == CTAPHID_OPENLOOP_APDU;
	int err;

	/* APDU and MSG: not even CLA INS P1 P2; CBOR: no command byte */
	if (len < (is_apdu || cmd == CTAPHID_MSG ? 4u : 1u) ||
	    len > sizeof(job->capdu)) {
		send_error(dev, cid, CTAPHID_ERR_INVALID_LEN);
		return;
	}
	memcpy(job->capdu, msg, len);
	job->capdu_len = len;
	job->rapdu_len = 0;
	job->rc = OL_ERR_IO;
	job->cid = cid;
	job->cmd = cmd;
	/* an APDU's fault is armed after this (fault_arm()); a FIDO request
	 * must not inherit the last APDU's */
	job->fault = 0;
	job->done = 0;
	job->cancelled = 0;
	job->discarded = 0;
	job->ready_at = now + (is_apdu ? dev->opts.processing_delay_ms : 0);
	job->next_keepalive = now + SIM_KEEPALIVE_MS;
	if (is_apdu && cid != dev->session_cid) {
		/* a session is a channel: the driver opens a new one on every
		 * power-up, so this is the card reset it asked for */
		ol_log(OL_LOG_INFO, "%08x: new card session", (unsigned)cid);
		if (job->ops->reset != NULL)
			job->ops->reset(job->card);
		dev->session_cid = cid;
	}
	job->ops->arm(job->card);
	if (is_apdu)
		log_apdu(dev, job, NULL, 0);
	if ((err = pthread_create(&job->thread, NULL, worker_main, job)) != 0) {
		ol_log(OL_LOG_CRITICAL, "cannot start the worker: %s",
		    strerror(err));
		explicit_bzero(job->capdu, job->capdu_len);
		send_error(dev, cid, CTAPHID_ERR_OTHER);
		return;
	}
	job->thread_live = 1;
	dev->state = DEV_PROCESSING;
}

/*
 * The message that ends the job, or NULL for a discarded one.  A
 * cancelled CTAP2 or U2F request is answered by the authenticator itself
 * (CTAP2_ERR_KEEPALIVE_CANCEL after a touch wait, or whatever it had
 * finished), as CTAP 2.1 section 11.2.9.1.5 wants.
 */
static const uint8_t *
job_reply(const struct job *job, size_t *len)
{
	int is_apdu = job->cmd == CTAPHID_OPENLOOP_APDU;

	*len = is_apdu || job->cmd == CTAPHID_MSG ? 2 : 1;
	if (job->discarded)
		return NULL;
	if (job->cancelled && is_apdu)
		return sw_cancelled;
	if (job->fault & SIM_FAULT_MUTE)
		return NULL;
	if (job->rc != OL_OK || job->rapdu_len < *len ||
	    job->rapdu_len > sizeof(job->rapdu))
		return job->cmd == CTAPHID_CBOR ? ctap_failed : sw_card_failed;
	*len = job->rapdu_len;
	return job->rapdu;
}

static int
job_may_finish(const sim_ctaphid_t *dev, int64_t now)
{
	const struct job *job = &dev->job;

	if (!job->done)
		return 0;
	return job->cancelled || job->discarded || now >= job->ready_at;
}

static void
job_finish(sim_ctaphid_t *dev)
{
	struct job *job = &dev->job;
	const uint8_t *msg;
	size_t len;

	msg = job_reply(job, &len);
	if (msg != NULL && ctaphid_packet_count(len) > outq_free(dev))
		return; /* again when the queue has drained */
	if (msg == sw_card_failed || msg == ctap_failed)
		ol_log(OL_LOG_CRITICAL, "%s failed (%s)",
		    ctaphid_cmd_name(job->cmd), ol_strerror(job->rc));
	if (msg != NULL) {
		if (job->cmd == CTAPHID_OPENLOOP_APDU)
			log_apdu(dev, job, msg, len);
		if (send_msg(dev, job->cid, job->cmd, msg,
		    len) == OL_OK && job->fault != 0)
			fault_mangle_reply(dev, job, len);
	}
	explicit_bzero(job->capdu, sizeof(job->capdu));
	explicit_bzero(job->rapdu, sizeof(job->rapdu));
	job->capdu_len = 0;
	job->rapdu_len = 0;
	dev->busy_told_cid = 0;
	dev->state = DEV_IDLE;
}

static uint8_t
keepalive_status(const sim_ctaphid_t *dev)
{
	const struct job *job = &dev->job;

	if (!job->done &&
	    job->ops->status(job->card) == SIM_CARD_UPNEEDED)
		return CTAPHID_STATUS_UPNEEDED;
	return CTAPHID_STATUS_PROCESSING;
}

static void
job_timers(sim_ctaphid_t *dev, int64_t now)
{
	struct job *job = &dev->job;
	uint8_t status;

	if (dev->state != DEV_PROCESSING)
		return;
	if (job_may_finish(dev, now)) {
		job_finish(dev);
		if (dev->state == DEV_IDLE)
			return;
	}
	if ((job->fault & SIM_FAULT_NOISE) && now >= job->next_noise) {
		fault_noise(dev, job);
		job->next_noise = now + 1;
	}
	if (!job->discarded && now >= job->next_keepalive) {
		status = keepalive_status(dev);
		/* faults late and mute: the device says nothing */
		if (!(job->fault & (SIM_FAULT_LATE | SIM_FAULT_MUTE)))
			send_msg(dev, job->cid, CTAPHID_KEEPALIVE, &status,
			    1);
		job->next_keepalive += SIM_KEEPALIVE_MS;
		if (job->next_keepalive <= now) /* the owner slept: no burst */
			job->next_keepalive = now + SIM_KEEPALIVE_MS;
	}
}

/* --- injected faults (tests only: sim_fault.h) ------------------------- */

static uint8_t *
outq_at(sim_ctaphid_t *dev, size_t i)
{
	return dev->outq[(dev->oq_head + i) % OUTQ_LEN];
}

static void
set_bcnt(uint8_t *report, size_t bcnt)
{
	report[5] = (uint8_t)(bcnt >> 8);
	report[6] = (uint8_t)bcnt;
}

/* The reply of len bytes is the last n reports of the queue: spoil it. */
static void
fault_mangle_reply(sim_ctaphid_t *dev, const struct job *job, size_t len)
{
	size_t n = ctaphid_packet_count(len), first = dev->oq_len - n, i;
	uint8_t *r;

	if (job->fault & SIM_FAULT_HUGE)
		set_bcnt(outq_at(dev, first), 0xffff);
	if ((job->fault & SIM_FAULT_DROPCONT) && n > 1) {
		for (i = first + 1; i + 1 < dev->oq_len; i++)
			memcpy(outq_at(dev, i), outq_at(dev, i + 1),
			    CTAPHID_REPORT_LEN);
		dev->oq_len--;
	} else if (job->fault & (SIM_FAULT_TRUNCATE | SIM_FAULT_DROPCONT)) {
		if (n > 1)
			dev->oq_len--;
		else
			set_bcnt(outq_at(dev, first), len + 64);
	}
	if ((job->fault & SIM_FAULT_EXTRA) && outq_free(dev) >= 3) {
		for (i = 0; i < 3; i++) {
			r = outq_at(dev, dev->oq_len);
			memset(r, 0xee, CTAPHID_REPORT_LEN);
			memcpy(r, outq_at(dev, first), 4);
			r[4] = (uint8_t)(n - 1 + i);
			dev->oq_len++;
		}
	}
	if (job->fault & SIM_FAULT_UNPLUG) {
		/* half the reports, none of a one-report reply */
		dev->oq_len -= n - n / 2;
		dev->unplug = 1;
	}
}

/* Fault "noise": a report of another channel (a browser's traffic). */
static void
fault_noise(sim_ctaphid_t *dev, const struct job *job)
{
	uint8_t data[CTAPHID_INIT_DATA];

	if (dev->oq_len >= 4)
		return;
	memset(data, 0x5a, sizeof(data));
	send_msg(dev, job->cid ^ 0x40000000u, CTAPHID_PING, data,
	    sizeof(data));
}

static struct sim_fault pending_fault;
static int fault_now;  /* pending_fault is for the APDU being started */

/* Takes a fault for this APDU.  1 if the APDU is answered already. */
static int
fault_take(sim_ctaphid_t *dev, uint32_t cid, int64_t now)
{
	char names[128];

	dev->job.fault = 0;
	fault_now = 0;
	if (pending_fault.kinds == 0 &&
	    !sim_fault_take(dev->opts.fault_path, &pending_fault))
		return 0;
	if (pending_fault.after > 0) {
		/* not this APDU yet */
		pending_fault.after--;
		return 0;
	}
	fault_now = 1;
	ol_log(OL_LOG_CRITICAL, "fault: %s (%d ms) on %08x",
	    sim_fault_names(pending_fault.kinds, names, sizeof(names)),
	    pending_fault.ms, (unsigned)cid);
	if (pending_fault.kinds & SIM_FAULT_BUSY) {
		dev->busy_until = now + pending_fault.ms;
		pending_fault.kinds = 0;
		send_error(dev, cid, CTAPHID_ERR_CHANNEL_BUSY);
		return 1;
	}
	if (pending_fault.kinds & SIM_FAULT_REBOOT) {
		/* a restarted device: no channel is known, the card is
		 * fresh; channel numbers go on from where they were */
		dev->first_cid = dev->next_cid;
		dev->session_cid = 0;
		if (dev->job.ops->reset != NULL)
			dev->job.ops->reset(dev->job.card);
		pending_fault.kinds = 0;
		send_error(dev, cid, CTAPHID_ERR_INVALID_CHANNEL);
		return 1;
	}
	return 0;
}

/* After start_apdu(): the fault's timing for the running job. */
static void
fault_arm(sim_ctaphid_t *dev, int64_t now)
{
	struct job *job = &dev->job;

	if (!fault_now)
		return;
	fault_now = 0;
	if (dev->state != DEV_PROCESSING) {
		/* the APDU was refused at once (too short): fault spent */
		pending_fault.kinds = 0;
		return;
	}
	job->fault = pending_fault.kinds;
	job->next_noise = now;
	if (job->fault & SIM_FAULT_KEEPALIVE)
		job->ready_at = INT64_MAX;
	else if (job->fault & (SIM_FAULT_LATE | SIM_FAULT_MUTE))
		job->ready_at = now + pending_fault.ms;
	pending_fault.kinds = 0;
}

/* --- request reassembly -------------------------------------------------- */

static void
rx_drop(sim_ctaphid_t *dev)
{
	ctaphid_asm_abort(&dev->rx.a);
	dev->state = DEV_IDLE;
}

static void
expire_rx(sim_ctaphid_t *dev, int64_t now)
{
	if (dev->state != DEV_RECEIVING || now < dev->rx.deadline)
		return;
	ol_log(OL_LOG_INFO, "%08x: request stalled at %zu of %zu bytes",
	    (unsigned)dev->rx.a.cid, dev->rx.a.got, dev->rx.a.total);
	send_error(dev, dev->rx.a.cid, CTAPHID_ERR_MSG_TIMEOUT);
	rx_drop(dev);
}

static void
rx_dispatch(sim_ctaphid_t *dev, int64_t now)
{
	struct rx *rx = &dev->rx;
	uint32_t cid = rx->a.cid;
	size_t len = rx->a.total;

	dev->state = DEV_IDLE;
	switch (rx->a.cmd) {
	case CTAPHID_PING:
		send_msg(dev, cid, CTAPHID_PING, rx->buf, len);
		break;
	case CTAPHID_WINK:
		if (len != 0) {
			send_error(dev, cid, CTAPHID_ERR_INVALID_LEN);
			break;
		}
		ol_log(OL_LOG_INFO, "%08x: WINK (the LED would blink)",
		    (unsigned)cid);
		send_msg(dev, cid, CTAPHID_WINK, NULL, 0);
		break;
	case CTAPHID_OPENLOOP_APDU:
		if (fault_take(dev, cid, now))
			break;
		start_job(dev, CTAPHID_OPENLOOP_APDU, cid, rx->buf, len, now);
		fault_arm(dev, now);
		break;
	case CTAPHID_CBOR:
	case CTAPHID_MSG:
		if (dev->opts.fido_ops == NULL) {
			send_error(dev, cid, CTAPHID_ERR_INVALID_CMD);
			break;
		}
		ol_log(OL_LOG_INFO, "%08x: %s%s", (unsigned)cid,
		    rx->a.cmd == CTAPHID_CBOR ? "CTAP2 request" :
		    "U2F message", len == 0 ? " (empty)" : "");
		start_job(dev, rx->a.cmd, cid, rx->buf, len, now);
		break;
	default:
		/* LOCK, other vendor commands, and KEEPALIVE/ERROR, which
		 * hosts never send */
		send_error(dev, cid, CTAPHID_ERR_INVALID_CMD);
		break;
	}
	/* the request may have been a PIN; what needs it has a copy */
	explicit_bzero(rx->buf, len);
}

/* The init packet of a request on a channel free to send one. */
static void
rx_start(sim_ctaphid_t *dev, const struct ctaphid_packet *pkt, int64_t now)
{
	struct rx *rx = &dev->rx;

	switch (ctaphid_asm_start(&rx->a, pkt)) {
	case CTAPHID_ASM_DONE:
		rx_dispatch(dev, now);
		break;
	case CTAPHID_ASM_MORE:
		rx->deadline = now + SIM_MSG_TIMEOUT_MS;
		dev->state = DEV_RECEIVING;
		break;
	case CTAPHID_ASM_PENDING:
		/* a new request before the last one was complete: the
		 * assembler dropped both */
		dev->state = DEV_IDLE;
		send_error(dev, pkt->cid, CTAPHID_ERR_INVALID_SEQ);
		break;
	default:
		/* BCNT over 7609 */
		send_error(dev, pkt->cid, CTAPHID_ERR_INVALID_LEN);
		break;
	}
}

static void
on_cont_packet(sim_ctaphid_t *dev, const struct ctaphid_packet *pkt,
    int64_t now)
{
	struct rx *rx = &dev->rx;
	int st;

	/* another channel's continuation while it is refused, or a stray
	 * one: the spec says ignore */
	if (!ctaphid_asm_is_mine(&rx->a, pkt)) {
		ol_log(OL_LOG_COMM, "%08x: continuation outside a request "
		    "ignored", (unsigned)pkt->cid);
		return;
	}
	if ((st = ctaphid_asm_add(&rx->a, pkt)) == CTAPHID_ASM_BAD_SEQ) {
		ol_log(OL_LOG_INFO, "%08x: SEQ %u, expected %u",
		    (unsigned)pkt->cid, (unsigned)pkt->seq,
		    (unsigned)rx->a.next_seq);
		dev->state = DEV_IDLE;
		send_error(dev, pkt->cid, CTAPHID_ERR_INVALID_SEQ);
		return;
	}
	rx->deadline = now + SIM_MSG_TIMEOUT_MS;
	if (st == CTAPHID_ASM_DONE)
		rx_dispatch(dev, now);
}

/* --- commands answered on their init packet ------------------------------ */

static int
cid_allocated(const sim_ctaphid_t *dev, uint32_t cid)
{
	return cid != 0 && cid != CTAPHID_CID_BROADCAST &&
	    cid >= dev->first_cid && cid < dev->next_cid;
}

/* INIT on an allocated channel: forget its transaction, whatever stage. */
static void
resync(sim_ctaphid_t *dev, uint32_t cid)
{
	struct job *job = &dev->job;

	/* the next APDU, even on this channel, begins a new card session
	 * (not now: an APDU may still be running on the card) */
	if (dev->session_cid == cid)
		dev->session_cid = 0;
	if (dev->state == DEV_RECEIVING && dev->rx.a.cid == cid) {
		ol_log(OL_LOG_INFO, "%08x: resync drops a partial request",
		    (unsigned)cid);
		rx_drop(dev);
	} else if (dev->state == DEV_PROCESSING && job->cid == cid &&
	    !job->discarded) {
		ol_log(OL_LOG_INFO, "%08x: resync drops the running %s",
		    (unsigned)cid, job->cmd == CTAPHID_OPENLOOP_APDU ?
		    "APDU" : "request");
		job->discarded = 1;
		job->ops->cancel(job->card);
	}
}

static void
put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static void
cmd_init(sim_ctaphid_t *dev, const struct ctaphid_packet *pkt)
{
	uint8_t resp[CTAPHID_INIT_RESP_LEN];
	uint32_t cid;

	if (pkt->bcnt != CTAPHID_NONCE_LEN) {
		send_error(dev, pkt->cid, CTAPHID_ERR_INVALID_LEN);
		return;
	}
	if (pkt->cid == CTAPHID_CID_BROADCAST) {
		if (dev->next_cid == CTAPHID_CID_BROADCAST) {
			ol_log(OL_LOG_CRITICAL, "channel IDs exhausted");
			send_error(dev, pkt->cid, CTAPHID_ERR_OTHER);
			return;
		}
		cid = dev->next_cid++;
		ol_log(OL_LOG_INFO, "channel %08x allocated", (unsigned)cid);
	} else {
		cid = pkt->cid;
		resync(dev, cid);
	}
	memcpy(resp, pkt->data, CTAPHID_NONCE_LEN);
	put_be32(resp + 8, cid);
	resp[12] = CTAPHID_PROTOCOL_VERSION;
	resp[13] = SIM_FW_MAJOR;
	resp[14] = SIM_FW_MINOR;
	resp[15] = SIM_FW_BUILD;
	/* with an authenticator: CTAP2 and U2F (no NMSG) */
	resp[16] = dev->opts.fido_ops != NULL ?
	    CTAPHID_CAP_WINK | CTAPHID_CAP_CBOR :
	    CTAPHID_CAP_WINK | CTAPHID_CAP_NMSG;
	send_msg(dev, pkt->cid, CTAPHID_INIT, resp, sizeof(resp));
}

/* CANCEL is never answered; the cancelled APDU is (SW 6982). */
static void
cmd_cancel(sim_ctaphid_t *dev, uint32_t cid)
{
	struct job *job = &dev->job;

	if (dev->state == DEV_RECEIVING && dev->rx.a.cid == cid) {
		ol_log(OL_LOG_INFO, "%08x: CANCEL drops a partial request",
		    (unsigned)cid);
		rx_drop(dev);
	} else if (dev->state == DEV_PROCESSING && job->cid == cid &&
	    !job->discarded && !job->cancelled) {
		ol_log(OL_LOG_INFO, "%08x: CANCEL of the running %s",
		    (unsigned)cid, job->cmd == CTAPHID_OPENLOOP_APDU ?
		    "APDU" : "request");
		/* answered as soon as the card returns: the processing delay
		 * is simulated work, and it stops too */
		job->cancelled = 1;
		job->ops->cancel(job->card);
	}
}

static void
on_init_packet(sim_ctaphid_t *dev, const struct ctaphid_packet *pkt,
    int64_t now)
{
	uint32_t cid = pkt->cid;

	/* INIT allocates or resyncs; it never waits for another channel */
	if (pkt->cmd == CTAPHID_INIT) {
		if (cid != CTAPHID_CID_BROADCAST && !cid_allocated(dev, cid))
			send_error(dev, cid, CTAPHID_ERR_INVALID_CHANNEL);
		else
			cmd_init(dev, pkt);
		return;
	}
	if (!cid_allocated(dev, cid)) {
		/* also the broadcast CID with anything but INIT */
		send_error(dev, cid, CTAPHID_ERR_INVALID_CHANNEL);
		return;
	}
	if (dev->state == DEV_PROCESSING && dev->job.cid == cid &&
	    (dev->job.fault & SIM_FAULT_LATE) && dev->job.done &&
	    !dev->job.discarded && !dev->job.cancelled) {
		/* fault "late": the old reply crosses the next request */
		ol_log(OL_LOG_CRITICAL, "fault: late reply to %08x sent as "
		    "its next request arrives", (unsigned)cid);
		job_finish(dev);
	}
	if (pkt->cmd == CTAPHID_CANCEL) {
		cmd_cancel(dev, cid);
		return;
	}
	if (now < dev->busy_until) {
		send_error(dev, cid, CTAPHID_ERR_CHANNEL_BUSY);
		return;
	}
	/* one transaction at a time; a new request on the channel that is
	 * sending one is the assembler's to refuse (rx_start) */
	if (dev->state == DEV_PROCESSING || (dev->state == DEV_RECEIVING &&
	    !ctaphid_asm_is_mine(&dev->rx.a, pkt))) {
		/* a client that gives up on a busy device (Firefox does)
		 * leaves no other trace in the log */
		if (dev->state == DEV_PROCESSING && cid != dev->busy_told_cid) {
			ol_log(OL_LOG_INFO, "%08x: %s refused, CHANNEL_BUSY: "
			    "%08x's %s is running", (unsigned)cid,
			    ctaphid_cmd_name(pkt->cmd), (unsigned)dev->job.cid,
			    ctaphid_cmd_name(dev->job.cmd));
			dev->busy_told_cid = cid;
		}
		send_error(dev, cid, CTAPHID_ERR_CHANNEL_BUSY);
		return;
	}
	rx_start(dev, pkt, now);
}

/* --- public interface ---------------------------------------------------- */

static uint32_t
random_first_cid(void)
{
	uint32_t r = 0;

	if (getrandom(&r, sizeof(r), 0) != (ssize_t)sizeof(r))
		r = (uint32_t)getpid();
	/* the lower half of the space, so allocation never runs out */
	r &= 0x7fffffffu;
	return r == 0 ? 1 : r;
}

static int
opts_valid(const struct sim_ctaphid_opts *o)
{
	return o != NULL && o->card_ops != NULL && o->card_ops->apdu != NULL &&
	    (o->fido_ops == NULL ||
	    (o->fido_ops->cbor != NULL && o->fido_ops->msg != NULL)) &&
	    o->card_ops->status != NULL && o->card_ops->cancel != NULL &&
	    o->card_ops->arm != NULL && o->emit != NULL &&
	    o->processing_delay_ms >= 0 && o->report_interval_ms >= 0 &&
	    o->first_cid != CTAPHID_CID_BROADCAST;
}

int
sim_ctaphid_new(const struct sim_ctaphid_opts *opts, sim_ctaphid_t **out)
{
	sim_ctaphid_t *dev = NULL;
	int r = OL_ERR_ARG;

	if (out == NULL)
		return OL_ERR_ARG;
	*out = NULL;
	if (!opts_valid(opts))
		goto fail;
	r = OL_ERR_NOMEM;
	if ((dev = calloc(1, sizeof(*dev))) == NULL)
		goto fail;
	ol_apdu_redactor_init(&dev->redactor);
	dev->wake[0] = dev->wake[1] = -1;
	dev->opts = *opts;
	if (pipe2(dev->wake, O_NONBLOCK | O_CLOEXEC) == -1) {
		ol_log(OL_LOG_CRITICAL, "pipe2: %s", strerror(errno));
		r = OL_ERR_IO;
		goto fail;
	}
	dev->state = DEV_IDLE;
	dev->first_cid = opts->first_cid != 0 ? opts->first_cid :
	    random_first_cid();
	dev->next_cid = dev->first_cid;
	dev->job.ops = opts->card_ops;
	dev->job.card = opts->card;
	dev->job.fido_ops = opts->fido_ops;
	dev->job.fido = opts->fido;
	dev->job.wake_fd = dev->wake[1];
	ctaphid_asm_init(&dev->rx.a, dev->rx.buf, sizeof(dev->rx.buf));
	*out = dev;
	dev = NULL;
	r = OL_OK;
fail:
	if (dev != NULL)
		sim_ctaphid_free(&dev);
	return r;
}

void
sim_ctaphid_free(sim_ctaphid_t **devp)
{
	sim_ctaphid_t *dev;

	if (devp == NULL || (dev = *devp) == NULL)
		return;
	if (dev->job.thread_live) {
		/* a card waiting for a touch gives up on cancel */
		dev->job.ops->cancel(dev->job.card);
		pthread_join(dev->job.thread, NULL);
	}
	if (dev->wake[0] != -1)
		close(dev->wake[0]);
	if (dev->wake[1] != -1)
		close(dev->wake[1]);
	explicit_bzero(dev, sizeof(*dev));
	free(dev);
	*devp = NULL;
}

void
sim_ctaphid_feed(sim_ctaphid_t *dev, const uint8_t *report, size_t len,
    int64_t now_ms)
{
	struct ctaphid_packet pkt;

	if (dev == NULL)
		return;
	if (ctaphid_packet_parse(report, len, &pkt) != OL_OK) {
		ol_log(OL_LOG_INFO, "output report of %zu bytes ignored", len);
		return;
	}
	log_report("rx", report);
	/* a request past its deadline is dead before this packet counts */
	expire_rx(dev, now_ms);
	if (pkt.is_init)
		on_init_packet(dev, &pkt, now_ms);
	else
		on_cont_packet(dev, &pkt, now_ms);
	flush(dev, now_ms);
}

void
sim_ctaphid_tick(sim_ctaphid_t *dev, int64_t now_ms)
{
	if (dev == NULL)
		return;
	worker_poll(dev);
	expire_rx(dev, now_ms);
	job_timers(dev, now_ms);
	flush(dev, now_ms);
}

static int64_t
earliest(int64_t a, int64_t b)
{
	return a < b ? a : b;
}

int
sim_ctaphid_next_timeout(const sim_ctaphid_t *dev, int64_t now_ms)
{
	const struct job *job;
	int64_t due = INT64_MAX;
	size_t len;

	if (dev == NULL)
		return -1;
	job = &dev->job;
	if (dev->state == DEV_RECEIVING)
		due = dev->rx.deadline;
	if (dev->state == DEV_PROCESSING) {
		if (!job->discarded)
			due = earliest(due, job->next_keepalive);
		if (job->fault & SIM_FAULT_NOISE)
			due = earliest(due, job->next_noise);
		if (job->done && (job_reply(job, &len) == NULL ||
		    ctaphid_packet_count(len) <= outq_free(dev)))
			due = earliest(due, job->cancelled || job->discarded ?
			    now_ms : job->ready_at);
	}
	if (dev->oq_len > 0)
		due = earliest(due, dev->opts.report_interval_ms > 0 &&
		    dev->sent_any ?
		    dev->last_sent + dev->opts.report_interval_ms : now_ms);
	if (due == INT64_MAX)
		return -1;
	if (due <= now_ms)
		return 0;
	return due - now_ms > INT_MAX ? INT_MAX : (int)(due - now_ms);
}

int
sim_ctaphid_fd(const sim_ctaphid_t *dev)
{
	return dev == NULL ? -1 : dev->wake[0];
}

int
sim_ctaphid_ready(const sim_ctaphid_t *dev)
{
	return dev != NULL && outq_free(dev) >= OUTQ_READY_FREE;
}
