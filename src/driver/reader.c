/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A reader: the device handle, its CTAPHID channel and the synthesized
 * ATR of the card that is present as long as the device answers.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apdu_log.h"
#include "atr.h"
#include "ctaphid.h"
#include "devname.h"
#include "hid_dev.h"
#include "hotplug.h"
#include "identify.h"
#include "ol_err.h"
#include "ol_log.h"
#include "reader.h"

struct ol_reader {
	struct ol_devname dev;
	struct ol_reader_config cfg;
	ol_hid_t *hid;
	ol_ctap_t *ctap;
	uint8_t atr[OL_ATR_MAX];
	size_t atr_len;
	int powered;
	/* the device session the card stands for (docs/transport.md,
	 * "The card session") */
	enum {
		SESSION_NONE,   /* not powered up */
		SESSION_ACTIVE, /* powered up: APDUs go to this session */
		SESSION_LOST,   /* the device lost it: report the card
		                 * removed once, send nothing */
	} session;
	/* what the COMM log may show of each response */
	struct ol_apdu_redactor redactor;
	char serial[128];
	char firmware[16];
	uint32_t firmware_version;
};

void
ol_reader_default_config(struct ol_reader_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	ol_ctap_default_opts(&cfg->ctap);
	cfg->vid = OL_DEFAULT_VID;
	cfg->pid = OL_DEFAULT_PID;
	cfg->pinpad = 1;
}

static void
drop_handle(ol_reader_t *r)
{
	ol_ctap_free(&r->ctap);
	ol_hid_close(&r->hid);
	r->powered = 0;
	if (r->session == SESSION_ACTIVE)
		r->session = SESSION_LOST;
}

/* Opens the node and allocates a channel: a device that does not answer
 * CTAPHID INIT is no Openloop device. */
static int
open_handle(ol_reader_t *r, int quiet)
{
	const struct ol_ctap_info *info;
	const char *serial;
	int e;

	if ((e = ol_hid_open(r->dev.path, &r->hid)) != OL_OK) {
		if (!quiet)
			ol_log(OL_LOG_CRITICAL, "cannot open %s: %s",
			    r->dev.path, ol_strerror(e));
		goto fail;
	}
	if ((e = ol_ctap_new(r->hid, &r->cfg.ctap, &r->ctap)) != OL_OK)
		goto fail;
	if ((e = ol_ctap_init(r->ctap)) != OL_OK) {
		ol_log(quiet ? OL_LOG_PERIODIC : OL_LOG_CRITICAL, "%s does not answer CTAPHID INIT (%s); "
		    "is it an Openloop device with USB HID enabled?",
		    r->dev.path, ol_strerror(e));
		goto fail;
	}
	info = ol_ctap_info(r->ctap);
	snprintf(r->firmware, sizeof(r->firmware), "%u.%u.%u", info->major,
	    info->minor, info->build);
	r->firmware_version = (uint32_t)info->major << 24 |
	    (uint32_t)info->minor << 16 | info->build;
	/* a hotplug reader already has the USB device's serial from sysfs */
	if ((!ol_reader_is_hotplug(r) || r->serial[0] == '\0') &&
	    (serial = ol_hid_serial(r->hid)) != NULL)
		snprintf(r->serial, sizeof(r->serial), "%s", serial);
	return OL_OK;
fail:
	drop_handle(r);
	return e;
}

/*
 * pcscd's usb: names carry bus, address and interface; the node to open
 * is the hidraw node of that interface, found through sysfs ("/sys", or
 * $OPENLOOP_SYSFS_ROOT, which the tests point at a fake tree).  Every
 * interface but the FIDO HID one is refused: pcscd asks for all of them.
 * On success r->dev.path becomes "/dev/hidrawN" (the usb: path is not
 * needed again) and r->serial the USB serial.
 */
static int
resolve_usb(ol_reader_t *r, const char *devicename)
{
	struct ol_hotplug_result res;
	/* secure_getenv: ignored in a setuid or otherwise secure context */
	const char *root = secure_getenv(OL_HOTPLUG_SYSFS_ENV);
	char msg[512];
	int e, n;

	if (root == NULL || root[0] == '\0')
		root = OL_HOTPLUG_DEFAULT_SYSFS;
	e = ol_hotplug_find_hidraw(root, &r->dev, r->cfg.usage_page, &res);
	if (e == OL_ERR_NOMEM)
		return e;
	if (e == OL_ERR_ARG) {
		ol_log(OL_LOG_CRITICAL, "%s: cannot read sysfs at %s: is /sys "
		    "mounted (or %s set to a wrong directory)?", devicename,
		    root, OL_HOTPLUG_SYSFS_ENV);
		return OL_ERR_NO_DEVICE;
	}
	ol_hotplug_describe(&r->dev, &res, msg, sizeof(msg));
	if (e != OL_OK) {
		/* a sibling interface or an unplugged device is routine; a
		 * device without any usable FIDO interface is the user's to
		 * fix */
		ol_log(res.reason == OL_HOTPLUG_NO_USB_DEVICE ||
		    res.fido_interface >= 0 ? OL_LOG_INFO : OL_LOG_CRITICAL,
		    "%s: %s", devicename, msg);
		return OL_ERR_NO_DEVICE;
	}
	n = snprintf(r->dev.path, sizeof(r->dev.path), "/dev/%s", res.node);
	if (n < 0 || (size_t)n >= sizeof(r->dev.path))
		return OL_ERR_NO_DEVICE;
	/* the reader name shows it: a shortened serial is better than none */
	n = snprintf(r->serial, sizeof(r->serial), "%s", res.serial);
	if (n < 0)
		r->serial[0] = '\0';
	ol_log(OL_LOG_INFO, "%s: %s", devicename, msg);
	return OL_OK;
}

int
ol_reader_open(const char *devicename, const struct ol_reader_config *cfg,
    ol_reader_t **out)
{
	ol_reader_t *r = NULL;
	const char *why = NULL;
	int e;

	if (devicename == NULL || out == NULL)
		return OL_ERR_ARG;
	*out = NULL;
	if ((r = calloc(1, sizeof(*r))) == NULL)
		return OL_ERR_NOMEM;
	ol_apdu_redactor_init(&r->redactor);
	if (cfg != NULL)
		r->cfg = *cfg;
	else
		ol_reader_default_config(&r->cfg);
	if (ol_devname_parse(devicename, &r->dev, &why) != OL_OK) {
		ol_log(OL_LOG_CRITICAL, "cannot use device name \"%s\": %s",
		    devicename, why != NULL ? why : "unknown form");
		e = OL_ERR_ARG;
		goto fail;
	}
	if (r->dev.kind == OL_DEVNAME_LIBUDEV ||
	    r->dev.kind == OL_DEVNAME_LIBUSB) {
		if ((e = resolve_usb(r, devicename)) != OL_OK)
			goto fail;
	}
	if ((e = open_handle(r, 0)) != OL_OK)
		goto fail;
	/* A usb: name is any device with a claimed ID, and IDs are shared:
	 * a reader only for one that proves it is an Openloop. */
	if (ol_reader_is_hotplug(r) && (e = ol_identify_openloop(r->ctap,
	    r->dev.path, devicename)) != OL_OK) {
		drop_handle(r);
		goto fail;
	}
	ol_log(OL_LOG_INFO, "reader on %s ready: firmware %s, serial %s",
	    r->dev.path, r->firmware, r->serial[0] ? r->serial : "unknown");
	*out = r;
	return OL_OK;
fail:
	free(r);
	return e;
}

void
ol_reader_close(ol_reader_t **rp)
{
	if (rp == NULL || *rp == NULL)
		return;
	drop_handle(*rp);
	free(*rp);
	*rp = NULL;
}

int
ol_reader_is_hotplug(const ol_reader_t *r)
{
	return r->dev.kind == OL_DEVNAME_LIBUDEV ||
	    r->dev.kind == OL_DEVNAME_LIBUSB;
}

/* The handle is open and alive, or reopened (reader.conf): OL_OK; or
 * OL_ERR_GONE.  A session the handle carried is lost with it. */
static int
ensure_handle(ol_reader_t *r)
{
	if (r->hid != NULL && ol_hid_check_alive(r->hid) == OL_OK)
		return OL_OK;
	if (r->hid != NULL) {
		ol_log(OL_LOG_INFO, "%s disappeared", r->dev.path);
		drop_handle(r);
	}
	/* A simulator restarted, or a node that came back under the same
	 * name (reader.conf): the card can be inserted again. */
	if (!ol_reader_is_hotplug(r) && open_handle(r, 1) == OL_OK) {
		ol_log(OL_LOG_INFO, "%s is back", r->dev.path);
		return OL_OK;
	}
	return OL_ERR_GONE;
}

int
ol_reader_check_present(ol_reader_t *r)
{
	int e;

	if ((e = ensure_handle(r)) != OL_OK) {
		/* absent: that is the removal pcscd must see */
		if (r->session == SESSION_LOST)
			r->session = SESSION_NONE;
		return e;
	}
	if (r->session == SESSION_LOST) {
		/* Present, but the session the card stood for is gone:
		 * absent once, so that pcscd tells the applications and
		 * powers a new card up. */
		ol_log(OL_LOG_INFO, "%s: the card session was lost; the card "
		    "is reported removed once", r->dev.path);
		r->session = SESSION_NONE;
		r->powered = 0;
		return OL_ERR_SESSION_LOST;
	}
	return OL_OK;
}

int
ol_reader_watch(ol_reader_t *r, int *fd)
{
	int dup_fd;

	if (fd != NULL)
		*fd = -1;
	if (r->session == SESSION_LOST)
		return OL_READER_WATCH_NOW;
	if (r->hid == NULL)
		return OL_READER_WATCH_POLL;
	if (fd != NULL) {
		/* a duplicate: the reader may close its own meanwhile */
		if ((dup_fd = fcntl(ol_hid_fileno(r->hid), F_DUPFD_CLOEXEC,
		    0)) < 0)
			return OL_READER_WATCH_POLL;
		*fd = dup_fd;
	}
	return OL_READER_WATCH_FD;
}

int
ol_reader_power_up(ol_reader_t *r, uint8_t *atr, size_t cap, size_t *atr_len)
{
	int e, n;

	if ((e = ensure_handle(r)) != OL_OK)
		return e;
	/* A new channel is a new session on the device: the applet forgets
	 * the verified PIN, as a card does on reset. */
	if ((e = ol_ctap_init(r->ctap)) != OL_OK) {
		if (e == OL_ERR_GONE)
			drop_handle(r);
		return e;
	}
	if ((n = ol_atr_build(r->atr, sizeof(r->atr))) < 0)
		return n;
	r->atr_len = (size_t)n;
	if (cap < r->atr_len)
		return OL_ERR_TOO_LONG;
	memcpy(atr, r->atr, r->atr_len);
	*atr_len = r->atr_len;
	r->powered = 1;
	r->session = SESSION_ACTIVE;
	return OL_OK;
}

void
ol_reader_power_down(ol_reader_t *r)
{
	r->powered = 0;
	r->session = SESSION_NONE;
}

int
ol_reader_is_powered(const ol_reader_t *r)
{
	return r->powered;
}

const uint8_t *
ol_reader_atr(const ol_reader_t *r, size_t *len)
{
	*len = r->atr_len;
	return r->atr;
}

int
ol_reader_transmit(ol_reader_t *r, const uint8_t *capdu, size_t capdu_len,
    uint8_t *rapdu, size_t rapdu_cap, size_t *rapdu_len)
{
	char line[256];
	int hide, e;

	*rapdu_len = 0;
	if (r->hid == NULL)
		return OL_ERR_GONE;
	/* never into another session than the one the card stands for */
	if (r->session != SESSION_ACTIVE)
		return OL_ERR_SESSION_LOST;
	hide = ol_apdu_redactor_command(&r->redactor, 0, capdu, capdu_len);
	if (ol_log_enabled(OL_LOG_COMM))
		ol_log(OL_LOG_COMM, "%s", ol_apdu_format_command(capdu,
		    capdu_len, line, sizeof(line)));
	e = ol_ctap_apdu(r->ctap, capdu, capdu_len, rapdu, rapdu_cap,
	    rapdu_len);
	if (e == OL_ERR_GONE)
		drop_handle(r);
	else if (e != OL_OK && ol_ctap_session_lost(r->ctap))
		r->session = SESSION_LOST;
	if (e == OL_OK) {
		ol_apdu_redactor_response(&r->redactor, rapdu, *rapdu_len);
		if (ol_log_enabled(OL_LOG_COMM))
			ol_log(OL_LOG_COMM, "%s", ol_apdu_format_response(
			    rapdu, *rapdu_len, hide, line, sizeof(line)));
	}
	explicit_bzero(line, sizeof(line));
	return e;
}

/* One step of the keypad VERIFY: (OL_OK and a status word) or an error. */
static int
pad_send(ol_reader_t *r, const struct ol_pad_step *step, uint16_t *sw)
{
	uint8_t resp[64];
	size_t len = 0;
	int old, e;

	*sw = 0;
	/* the application's time-out, within the reader's own limit
	 * (ifdUserConfirmationTimeout) */
	old = ol_ctap_set_user_timeout(r->ctap, 0);
	if (step->user_timeout_s > 0 &&
	    step->user_timeout_s < (unsigned)old / 1000)
		(void)ol_ctap_set_user_timeout(r->ctap,
		    (int)step->user_timeout_s * 1000);
	else
		(void)ol_ctap_set_user_timeout(r->ctap, old);
	e = ol_reader_transmit(r, step->apdu, step->apdu_len, resp,
	    sizeof(resp), &len);
	(void)ol_ctap_set_user_timeout(r->ctap, old);
	if (e == OL_OK)
		*sw = (uint16_t)(resp[len - 2] << 8 | resp[len - 1]);
	explicit_bzero(resp, sizeof(resp));
	return e;
}

int
ol_reader_verify_on_device(ol_reader_t *r, const struct ol_pin_verify *req,
    uint8_t *rapdu, size_t rapdu_cap, size_t *rapdu_len)
{
	struct ol_pad_step step;
	struct ol_pad pad;
	uint16_t sw = 0;
	int more, e;

	*rapdu_len = 0;
	if (r->hid == NULL)
		return OL_ERR_GONE;
	if (rapdu_cap < 2)
		return OL_ERR_TOO_LONG;
	more = ol_pad_start(&pad, req, &step);
	while (more) {
		e = pad_send(r, &step, &sw);
		more = ol_pad_answer(&pad, e, sw, &step);
	}
	if (pad.err != OL_OK)
		return pad.err;
	rapdu[0] = (uint8_t)(pad.sw >> 8);
	rapdu[1] = (uint8_t)pad.sw;
	*rapdu_len = 2;
	return OL_OK;
}

const char *
ol_reader_serial(const ol_reader_t *r)
{
	return r->serial[0] ? r->serial : NULL;
}

const char *
ol_reader_firmware(const ol_reader_t *r)
{
	return r->firmware;
}

uint32_t
ol_reader_firmware_version(const ol_reader_t *r)
{
	return r->firmware_version;
}

uint16_t
ol_reader_vid(const ol_reader_t *r)
{
	return r->dev.kind == OL_DEVNAME_LIBUDEV ||
	    r->dev.kind == OL_DEVNAME_LIBUSB ? r->dev.vid : r->cfg.vid;
}

uint16_t
ol_reader_pid(const ol_reader_t *r)
{
	return r->dev.kind == OL_DEVNAME_LIBUDEV ||
	    r->dev.kind == OL_DEVNAME_LIBUSB ? r->dev.pid : r->cfg.pid;
}
