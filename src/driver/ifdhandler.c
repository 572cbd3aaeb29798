/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ifd-openloop: the IFD handler API v3 entry points pcscd calls.
 *
 * Deliberately thin: map the Lun to a reader, call reader.c, translate
 * the result into an IFD code.  Several readers run at once (two devices
 * plugged in), each serialised by its own mutex; pcscd may call different
 * readers from different threads (TAG_IFD_THREAD_SAFE).
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <PCSC/ifdhandler.h>
#include <PCSC/reader.h>

#include "atr.h"
#include "bundle_config.h"
#include "ol_err.h"
#include "ol_log.h"
#include "part10.h"
#include "pcsc_log.h"
#include "pinpad.h"
#include "reader.h"

#define MAX_READERS 16
#define VENDOR_NAME "Openloop"

/* while no device is open (reader.conf, before the simulator starts):
 * pcscd's own polling interval */
#define PRESENCE_POLL_MS 400

struct slot {
	pthread_mutex_t lock;   /* serialises calls on this reader */
	int in_use;
	DWORD reader_index;     /* Lun >> 16 */
	ol_reader_t *reader;
	/* pcscd's polling thread (IFDHPolling) waits on this as well as
	 * on the device.  The reader's own: pcscd stops and joins that
	 * thread (IFDHStopPolling) before it closes the reader. */
	int wake_fd;
	RESPONSECODE last_presence;
};

static pthread_mutex_t table_lock = PTHREAD_MUTEX_INITIALIZER;
static struct slot table[MAX_READERS] = {
#define S { PTHREAD_MUTEX_INITIALIZER, 0, 0, NULL, -1, IFD_ICC_NOT_PRESENT }
	S, S, S, S, S, S, S, S, S, S, S, S, S, S, S, S
#undef S
};
static pthread_once_t config_once = PTHREAD_ONCE_INIT;
static struct ol_reader_config config;
/* IFDHControl reads config.pinpad; load_config() has run by then, as
 * every reader is created through IFDHCreateChannelByName. */

static void
load_config(void)
{
	unsigned mask;

	ol_pcsc_log_init();
	ol_bundle_config_load(&config, &mask);
	ol_log_set_mask(mask);
	ol_log(OL_LOG_INFO, "ifd-openloop %s, log level 0x%x, touch limit "
	    "%d s, PIN pad %s", PACKAGE_VERSION, mask,
	    config.ctap.user_timeout_ms / 1000,
	    config.pinpad ? "on (confirm on the device)" : "off");
}

/* Finds the reader of Lun and returns its slot locked, or NULL. */
static struct slot *
slot_get(DWORD lun)
{
	DWORD idx = lun >> 16;
	struct slot *s = NULL;
	int i;

	pthread_mutex_lock(&table_lock);
	for (i = 0; i < MAX_READERS; i++) {
		if (table[i].in_use && table[i].reader_index == idx) {
			s = &table[i];
			break;
		}
	}
	pthread_mutex_unlock(&table_lock);
	if (s == NULL) {
		ol_log(OL_LOG_CRITICAL, "no reader for Lun 0x%lx",
		    (unsigned long)lun);
		return NULL;
	}
	pthread_mutex_lock(&s->lock);
	/* Closed while we waited for it. */
	if (!s->in_use || s->reader_index != idx) {
		pthread_mutex_unlock(&s->lock);
		return NULL;
	}
	return s;
}

static void
slot_put(struct slot *s)
{
	pthread_mutex_unlock(&s->lock);
}

static RESPONSECODE
to_ifd(int err)
{
	switch (err) {
	case OL_OK:
		return IFD_SUCCESS;
	case OL_ERR_GONE:
	case OL_ERR_NO_DEVICE:
		return IFD_NO_SUCH_DEVICE;
	case OL_ERR_TIMEOUT:
	case OL_ERR_USER_TIMEOUT:
		return IFD_RESPONSE_TIMEOUT;
	case OL_ERR_TOO_LONG:
		return IFD_ERROR_INSUFFICIENT_BUFFER;
	default:
		return IFD_COMMUNICATION_ERROR;
	}
}

/* --- pcscd's polling thread ------------------------------------------------
 * Without it pcscd asks IFDHICCPresence every 400 ms for ever.  With it,
 * pcscd's event thread waits in IFDHPolling, which returns only when the
 * device hangs up (unplugged, simulator gone), a session was lost (an
 * APDU's failure wakes it), pcscd stops the thread (IFDHStopPolling), or
 * the timeout pcscd gives has passed.  Traffic on the device wakes nobody:
 * the device's descriptor is polled for POLLHUP/POLLERR only.
 */

static void
wake_clear(int fd)
{
	uint64_t v;

	while (fd >= 0 && read(fd, &v, sizeof(v)) == (ssize_t)sizeof(v))
		;
}

static void
close_wake(struct slot *s)
{
	if (s->wake_fd >= 0)
		close(s->wake_fd);
	s->wake_fd = -1;
}

static void
wake_up(int fd)
{
	uint64_t one = 1;

	if (fd >= 0 && write(fd, &one, sizeof(one)) != (ssize_t)sizeof(one))
		ol_log(OL_LOG_INFO, "waking the presence watcher: %s",
		    strerror(errno));
}

/* After an exchange: a session the device lost is to be reported now,
 * not at the polling thread's next timeout. */
static void
wake_if_lost(struct slot *s)
{
	if (ol_reader_watch(s->reader, NULL) == OL_READER_WATCH_NOW)
		wake_up(s->wake_fd);
}

static RESPONSECODE
IFDHPolling(DWORD Lun, int timeout)
{
	struct pollfd pfd[2];
	struct slot *s;
	int watch, dev_fd = -1, wake_fd, n = 1;

	if ((s = slot_get(Lun)) == NULL)
		return IFD_NO_SUCH_DEVICE;
	wake_fd = s->wake_fd;
	watch = ol_reader_watch(s->reader, &dev_fd);
	/* A card reported absent while the device is open (its session was
	 * lost; the next check finds a new card) is checked again at once,
	 * so that applications see the new card without a pause.  Without
	 * a device, presence is polled. */
	if (s->last_presence != IFD_ICC_PRESENT && watch == OL_READER_WATCH_FD)
		watch = OL_READER_WATCH_NOW;
	slot_put(s);
	if (watch == OL_READER_WATCH_NOW) {
		if (dev_fd >= 0)
			close(dev_fd);
		return IFD_SUCCESS;
	}
	if (watch == OL_READER_WATCH_POLL && (timeout < 0 ||
	    timeout > PRESENCE_POLL_MS))
		timeout = PRESENCE_POLL_MS;
	pfd[0].fd = wake_fd;
	pfd[0].events = POLLIN;
	pfd[0].revents = 0;
	if (dev_fd >= 0) {
		pfd[1].fd = dev_fd;
		pfd[1].events = 0; /* POLLHUP and POLLERR come anyway */
		pfd[1].revents = 0;
		n = 2;
	}
	if (poll(pfd, (nfds_t)n, timeout) > 0 && (pfd[0].revents & POLLIN))
		wake_clear(wake_fd);
	if (dev_fd >= 0)
		close(dev_fd);
	return IFD_SUCCESS;
}

static RESPONSECODE
IFDHStopPolling(DWORD Lun)
{
	struct slot *s;

	if ((s = slot_get(Lun)) == NULL)
		return IFD_NO_SUCH_DEVICE;
	wake_up(s->wake_fd);
	slot_put(s);
	return IFD_SUCCESS;
}

RESPONSECODE
IFDHCreateChannelByName(DWORD Lun, LPSTR DeviceName)
{
	ol_reader_t *reader = NULL;
	struct slot *s = NULL;
	int i, e;

	pthread_once(&config_once, load_config);
	ol_log(OL_LOG_INFO, "Lun 0x%lx: %s", (unsigned long)Lun,
	    DeviceName != NULL ? DeviceName : "(null)");
	if (DeviceName == NULL)
		return IFD_NO_SUCH_DEVICE;

	pthread_mutex_lock(&table_lock);
	for (i = 0; i < MAX_READERS; i++) {
		if (table[i].in_use && table[i].reader_index == Lun >> 16) {
			pthread_mutex_unlock(&table_lock);
			ol_log(OL_LOG_CRITICAL, "Lun 0x%lx is already open",
			    (unsigned long)Lun);
			return IFD_COMMUNICATION_ERROR;
		}
		if (s == NULL && !table[i].in_use)
			s = &table[i];
	}
	if (s == NULL) {
		pthread_mutex_unlock(&table_lock);
		ol_log(OL_LOG_CRITICAL, "more than %d Openloop readers; %s is "
		    "not served", MAX_READERS, DeviceName);
		return IFD_COMMUNICATION_ERROR;
	}
	/* Reserve the slot, then open outside the table lock: opening talks
	 * to the device and must not hold up the other readers. */
	pthread_mutex_lock(&s->lock);
	s->in_use = 1;
	s->reader_index = Lun >> 16;
	s->reader = NULL;
	s->last_presence = IFD_ICC_NOT_PRESENT;
	/* without it, pcscd polls presence every 400 ms as it used to */
	s->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	pthread_mutex_unlock(&table_lock);

	e = ol_reader_open(DeviceName, &config, &reader);
	if (e == OL_OK) {
		s->reader = reader;
	} else {
		close_wake(s);
		pthread_mutex_lock(&table_lock);
		s->in_use = 0;
		pthread_mutex_unlock(&table_lock);
	}
	pthread_mutex_unlock(&s->lock);
	if (e == OL_ERR_NO_DEVICE || e == OL_ERR_ARG)
		return IFD_NO_SUCH_DEVICE;
	return e == OL_OK ? IFD_SUCCESS : IFD_COMMUNICATION_ERROR;
}

RESPONSECODE
IFDHCreateChannel(DWORD Lun, DWORD Channel)
{
	char name[64];

	/* reader.conf's CHANNELID N without DEVICENAME: /dev/hidrawN */
	snprintf(name, sizeof(name), "/dev/hidraw%lu", (unsigned long)Channel);
	return IFDHCreateChannelByName(Lun, name);
}

RESPONSECODE
IFDHCloseChannel(DWORD Lun)
{
	struct slot *s;

	if ((s = slot_get(Lun)) == NULL)
		return IFD_NO_SUCH_DEVICE;
	ol_reader_close(&s->reader);
	close_wake(s);
	pthread_mutex_lock(&table_lock);
	s->in_use = 0;
	pthread_mutex_unlock(&table_lock);
	slot_put(s);
	ol_log(OL_LOG_INFO, "Lun 0x%lx closed", (unsigned long)Lun);
	return IFD_SUCCESS;
}

/* A function pointer, as pcscd reads it back: sizeof(void *) bytes. */
static RESPONSECODE
put_fn(PDWORD Length, PUCHAR Value, void (*fn)(void))
{
	if (*Length < sizeof(fn)) {
		*Length = (DWORD)sizeof(fn);
		return IFD_ERROR_INSUFFICIENT_BUFFER;
	}
	memcpy(Value, &fn, sizeof(fn));
	*Length = (DWORD)sizeof(fn);
	return IFD_SUCCESS;
}

/* Copies a value into the caller's buffer, as pcscd expects: *Length is
 * the buffer size on entry and the value size on return. */
static RESPONSECODE
put_value(PDWORD Length, PUCHAR Value, const void *src, size_t len)
{
	if (*Length < len) {
		*Length = (DWORD)len;
		return IFD_ERROR_INSUFFICIENT_BUFFER;
	}
	memcpy(Value, src, len);
	*Length = (DWORD)len;
	return IFD_SUCCESS;
}

static RESPONSECODE
put_byte(PDWORD Length, PUCHAR Value, UCHAR b)
{
	return put_value(Length, Value, &b, 1);
}

static RESPONSECODE
put_dword(PDWORD Length, PUCHAR Value, DWORD d)
{
	return put_value(Length, Value, &d, sizeof(d));
}

static RESPONSECODE
put_string(PDWORD Length, PUCHAR Value, const char *str)
{
	return put_value(Length, Value, str, strlen(str) + 1);
}

RESPONSECODE
IFDHGetCapabilities(DWORD Lun, DWORD Tag, PDWORD Length, PUCHAR Value)
{
	struct slot *s;
	const uint8_t *atr;
	const char *serial;
	size_t atr_len;
	RESPONSECODE rc;

	if (Length == NULL || Value == NULL)
		return IFD_ERROR_TAG;
	/* Driver-wide tags pcscd may ask before any reader exists. */
	switch (Tag) {
	case TAG_IFD_SIMULTANEOUS_ACCESS:
		return put_byte(Length, Value, MAX_READERS);
	case TAG_IFD_THREAD_SAFE:
		return put_byte(Length, Value, 1);
	case TAG_IFD_SLOTS_NUMBER:
		return put_byte(Length, Value, 1);
	case TAG_IFD_SLOT_THREAD_SAFE:
		return put_byte(Length, Value, 0);
	default:
		break;
	}

	if ((s = slot_get(Lun)) == NULL)
		return IFD_NO_SUCH_DEVICE;
	switch (Tag) {
	case TAG_IFD_ATR:
	case SCARD_ATTR_ATR_STRING:
		atr = ol_reader_atr(s->reader, &atr_len);
		rc = put_value(Length, Value, atr, atr_len);
		break;
	case SCARD_ATTR_ICC_PRESENCE:
		/* 2: card present (and it cannot be swallowed) */
		rc = put_byte(Length, Value, 2);
		break;
	case SCARD_ATTR_ICC_INTERFACE_STATUS:
		rc = put_byte(Length, Value,
		    ol_reader_is_powered(s->reader) ? 1 : 0);
		break;
	case SCARD_ATTR_VENDOR_NAME:
		rc = put_string(Length, Value, VENDOR_NAME);
		break;
	case SCARD_ATTR_VENDOR_IFD_VERSION:
		rc = put_dword(Length, Value,
		    ol_reader_firmware_version(s->reader));
		break;
	case SCARD_ATTR_VENDOR_IFD_SERIAL_NO:
		serial = ol_reader_serial(s->reader);
		rc = serial != NULL ? put_string(Length, Value, serial) :
		    IFD_ERROR_TAG;
		break;
	case SCARD_ATTR_MAXINPUT:
		rc = put_dword(Length, Value, OL_MAX_APDU_DATA + 9);
		break;
	case TAG_IFD_POLLING_THREAD_WITH_TIMEOUT:
		rc = s->wake_fd >= 0 ? put_fn(Length, Value,
		    (void (*)(void))IFDHPolling) : IFD_ERROR_TAG;
		break;
	case TAG_IFD_STOP_POLLING_THREAD:
		rc = s->wake_fd >= 0 ? put_fn(Length, Value,
		    (void (*)(void))IFDHStopPolling) : IFD_ERROR_TAG;
		break;
	default:
		rc = IFD_ERROR_TAG;
		break;
	}
	slot_put(s);
	return rc;
}

RESPONSECODE
IFDHSetCapabilities(DWORD Lun, DWORD Tag, DWORD Length, PUCHAR Value)
{
	(void)Lun;
	(void)Tag;
	(void)Length;
	(void)Value;
	return IFD_NOT_SUPPORTED;
}

RESPONSECODE
IFDHSetProtocolParameters(DWORD Lun, DWORD Protocol, UCHAR Flags, UCHAR PTS1,
    UCHAR PTS2, UCHAR PTS3)
{
	struct slot *s;

	(void)Flags;
	(void)PTS1;
	(void)PTS2;
	(void)PTS3;
	if ((s = slot_get(Lun)) == NULL)
		return IFD_NO_SUCH_DEVICE;
	slot_put(s);
	/* The ATR offers T=1 only; APDUs travel whole over CTAPHID. */
	return Protocol == SCARD_PROTOCOL_T1 ? IFD_SUCCESS :
	    IFD_PROTOCOL_NOT_SUPPORTED;
}

RESPONSECODE
IFDHPowerICC(DWORD Lun, DWORD Action, PUCHAR Atr, PDWORD AtrLength)
{
	struct slot *s;
	size_t len = 0;
	RESPONSECODE rc;
	int e;

	if (Atr == NULL || AtrLength == NULL)
		return IFD_COMMUNICATION_ERROR;
	if ((s = slot_get(Lun)) == NULL) {
		*AtrLength = 0;
		return IFD_NO_SUCH_DEVICE;
	}
	switch (Action) {
	case IFD_POWER_UP:
	case IFD_RESET:
		e = ol_reader_power_up(s->reader, Atr, MAX_ATR_SIZE, &len);
		if (e != OL_OK)
			ol_log(OL_LOG_CRITICAL, "power up failed: %s",
			    ol_strerror(e));
		rc = e == OL_OK ? IFD_SUCCESS : e == OL_ERR_GONE ?
		    IFD_NO_SUCH_DEVICE : IFD_ERROR_POWER_ACTION;
		break;
	case IFD_POWER_DOWN:
		ol_reader_power_down(s->reader);
		rc = IFD_SUCCESS;
		break;
	default:
		rc = IFD_NOT_SUPPORTED;
		break;
	}
	*AtrLength = (DWORD)len;
	wake_if_lost(s);
	slot_put(s);
	return rc;
}

RESPONSECODE
IFDHTransmitToICC(DWORD Lun, SCARD_IO_HEADER SendPci, PUCHAR TxBuffer,
    DWORD TxLength, PUCHAR RxBuffer, PDWORD RxLength, PSCARD_IO_HEADER RecvPci)
{
	struct slot *s;
	size_t len = 0;
	int e;

	(void)SendPci;
	if (TxBuffer == NULL || RxBuffer == NULL || RxLength == NULL)
		return IFD_COMMUNICATION_ERROR;
	if ((s = slot_get(Lun)) == NULL) {
		*RxLength = 0;
		return IFD_NO_SUCH_DEVICE;
	}
	e = ol_reader_transmit(s->reader, TxBuffer, TxLength, RxBuffer,
	    *RxLength, &len);
	if (e != OL_OK)
		wake_if_lost(s);
	slot_put(s);
	*RxLength = (DWORD)len;
	if (RecvPci != NULL) {
		RecvPci->Protocol = SCARD_PROTOCOL_T1;
		RecvPci->Length = 0;
	}
	if (e != OL_OK)
		ol_log(OL_LOG_CRITICAL, "APDU not transmitted: %s",
		    ol_strerror(e));
	return to_ifd(e);
}

RESPONSECODE
IFDHControl(DWORD Lun, DWORD dwControlCode, PUCHAR TxBuffer, DWORD TxLength,
    PUCHAR RxBuffer, DWORD RxLength, LPDWORD pdwBytesReturned)
{
	struct ol_reader_props props;
	struct ol_pin_verify pv;
	struct slot *s;
	size_t cap = RxBuffer != NULL ? RxLength : 0, len = 0;
	RESPONSECODE rc = IFD_SUCCESS;
	int n = 0, e;

	if (pdwBytesReturned == NULL)
		return IFD_COMMUNICATION_ERROR;
	*pdwBytesReturned = 0;
	if ((s = slot_get(Lun)) == NULL)
		return IFD_NO_SUCH_DEVICE;
	if (dwControlCode == CM_IOCTL_GET_FEATURE_REQUEST) {
		n = ol_features_list(RxBuffer, cap, config.pinpad);
	} else if (dwControlCode == OL_IOCTL_GET_TLV_PROPERTIES) {
		props.vid = ol_reader_vid(s->reader);
		props.pid = ol_reader_pid(s->reader);
		props.firmware = ol_reader_firmware(s->reader);
		props.pinpad = config.pinpad;
		n = ol_features_tlv_properties(&props, RxBuffer, cap);
	} else if (config.pinpad &&
	    dwControlCode == OL_IOCTL_IFD_PIN_PROPERTIES) {
		n = ol_pinpad_properties(RxBuffer, cap);
	} else if (config.pinpad &&
	    dwControlCode == OL_IOCTL_VERIFY_PIN_DIRECT) {
		if (TxBuffer == NULL || ol_pinpad_parse_verify(TxBuffer,
		    TxLength, &pv) != OL_OK) {
			ol_log(OL_LOG_CRITICAL, "malformed PIN_VERIFY_STRUCTURE "
			    "(%lu bytes)", (unsigned long)TxLength);
			rc = IFD_COMMUNICATION_ERROR;
		} else if ((e = ol_reader_verify_on_device(s->reader, &pv,
		    RxBuffer, cap, &len)) != OL_OK) {
			rc = to_ifd(e);
		} else {
			n = (int)len;
		}
	} else {
		ol_log(OL_LOG_INFO, "control code 0x%lx not supported",
		    (unsigned long)dwControlCode);
		rc = IFD_ERROR_NOT_SUPPORTED;
	}
	wake_if_lost(s);
	slot_put(s);
	if (rc == IFD_SUCCESS && n < 0)
		rc = IFD_ERROR_INSUFFICIENT_BUFFER;
	if (rc == IFD_SUCCESS)
		*pdwBytesReturned = (DWORD)n;
	return rc;
}

RESPONSECODE
IFDHICCPresence(DWORD Lun)
{
	struct slot *s;
	RESPONSECODE rc;
	int e;

	if ((s = slot_get(Lun)) == NULL)
		return IFD_NO_SUCH_DEVICE;
	e = ol_reader_check_present(s->reader);
	if (e == OL_OK)
		rc = IFD_ICC_PRESENT;
	else if (e == OL_ERR_GONE && ol_reader_is_hotplug(s->reader))
		rc = IFD_NO_SUCH_DEVICE; /* pcscd rescans and drops it */
	else
		rc = IFD_ICC_NOT_PRESENT; /* reader.conf: wait for it; or a
		                           * lost session: removed once */
	ol_log(OL_LOG_PERIODIC, "Lun 0x%lx: %s", (unsigned long)Lun,
	    rc == IFD_ICC_PRESENT ? "present" : "absent");
	s->last_presence = rc;
	slot_put(s);
	return rc;
}
