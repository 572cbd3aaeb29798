/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ifd-openloop: parse the DEVICENAME pcscd passes to
 * IFDHCreateChannelByName.
 *
 * pcscd builds these strings itself (hotplug_libudev.c, hotplug_libusb.c)
 * or copies them from reader.conf, so the forms are known; anything else is
 * refused with a sentence the user can act on.  Numbers are parsed by hand:
 * strtol() accepts signs, spaces and overflow-to-LONG_MAX, none of which
 * belong in a device name.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stddef.h>
#include <string.h>

#include "devname.h"
#include "hexutil.h"
#include "ol_err.h"

#define USB_PREFIX      "usb:"
#define LIBUDEV_TAG     "libudev:"
#define LIBUSB_TAG      "libusb-1.0:"
#define UNIX_PREFIX     "unix:"

/* Ranges: bInterfaceNumber is a byte; libusb bus numbers are a byte and
 * never 0; USB addresses are 1..127 (0 is the default address, never seen
 * on a configured device). */
#define IFACE_MAX       255
#define BUS_MIN         1
#define BUS_MAX         255
#define ADDR_MIN        1
#define ADDR_MAX        127

/* More digits than any valid value needs, so "0001" passes and a run of
 * digits that could overflow is refused before it is summed. */
#define DEC_DIGITS_MAX  5

static const char why_form[] =
    "expected usb:VVVV/PPPP:libudev:IFACE:/dev/bus/usb/BBB/DDD, "
    "usb:VVVV/PPPP:libusb-1.0:BUS:ADDR:IFACE, an absolute device path "
    "such as /dev/hidraw0, or unix:/path/to/socket";
static const char why_range[] =
    "USB numbers out of range: interface 0-255, bus 1-255, address 1-127";
static const char why_long[] =
    "device path too long (4095 bytes at most)";
static const char why_path[] =
    "device path contains control characters";

/* Exactly four hex digits, as pcscd prints them with %04x. */
static int
parse_hex4(const char **p, uint16_t *out)
{
	unsigned v = 0;
	int i, d;

	for (i = 0; i < 4; i++) {
		d = ol_hexval((*p)[i]);
		if (d < 0)
			return -1;
		v = (v << 4) | (unsigned)d;
	}
	*p += 4;
	*out = (uint16_t)v;
	return 0;
}

/* 1..DEC_DIGITS_MAX decimal digits; -1 on no digits or too many, -2 when
 * the value is outside [min, max]. */
static int
parse_dec(const char **p, int min, int max, int *out)
{
	const char *s = *p;
	long v = 0;
	int n = 0;

	while (s[n] >= '0' && s[n] <= '9') {
		if (n == DEC_DIGITS_MAX)
			return -1;
		v = v * 10 + (s[n] - '0');
		n++;
	}
	if (n == 0)
		return -1;
	if (v < min || v > max)
		return -2;
	*p = s + n;
	*out = (int)v;
	return 0;
}

/* A field ends at the end of the string or at ':' (the start of a suffix
 * pcscd may add in a later version; we ignore it). */
static int
field_end(const char *p)
{
	return *p == '\0' || *p == ':';
}

static int
has_prefix(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* strlen() that stops one past what fits, which copy_path() refuses. */
static size_t
bounded_len(const char *s)
{
	return strnlen(s, OL_DEVNAME_PATH_MAX);
}

/* Copies an absolute path of n bytes into out->path. */
static int
copy_path(struct ol_devname *out, const char *path, size_t n,
    const char **why)
{
	size_t i;

	if (n >= sizeof(out->path)) {
		*why = why_long;
		return OL_ERR_ARG;
	}
	/* Control characters would end up in log lines and in open(). */
	for (i = 0; i < n; i++) {
		if ((unsigned char)path[i] < 0x20 || path[i] == 0x7f) {
			*why = why_path;
			return OL_ERR_ARG;
		}
	}
	memcpy(out->path, path, n);
	out->path[n] = '\0';
	return OL_OK;
}

/* usb:VVVV/PPPP:libudev:IFACE:/dev/bus/usb/BBB/DDD[:...]
 * p points after "libudev:".  Bus and address come from the node's last
 * two path components, which is what udev names it after; the directory
 * above them is not checked so that a relocated /dev still works. */
static int
parse_libudev(const char *p, struct ol_devname *out, const char **why)
{
	const char *path, *end, *bbb, *ddd;
	int r;

	r = parse_dec(&p, 0, IFACE_MAX, &out->interface);
	if (r != 0 || *p != ':')
		goto bad;
	path = ++p;
	if (*path != '/')
		goto bad_form;
	end = strchr(path, ':');
	if (end == NULL)
		end = path + strlen(path);

	/* Walk back over ".../BBB/DDD". */
	ddd = end;
	while (ddd > path && ddd[-1] >= '0' && ddd[-1] <= '9')
		ddd--;
	if (ddd == end || ddd == path || ddd[-1] != '/')
		goto bad_form;
	bbb = ddd - 1;
	while (bbb > path && bbb[-1] >= '0' && bbb[-1] <= '9')
		bbb--;
	if (bbb == ddd - 1 || bbb == path || bbb[-1] != '/')
		goto bad_form;

	p = bbb;
	r = parse_dec(&p, BUS_MIN, BUS_MAX, &out->bus);
	if (r != 0)
		goto bad;
	p = ddd;
	r = parse_dec(&p, ADDR_MIN, ADDR_MAX, &out->address);
	if (r != 0 || p != end)
		goto bad;

	out->kind = OL_DEVNAME_LIBUDEV;
	return copy_path(out, path, (size_t)(end - path), why);

bad:
	if (r == -2) {
		*why = why_range;
		return OL_ERR_ARG;
	}
bad_form:
	*why = why_form;
	return OL_ERR_ARG;
}

/* usb:VVVV/PPPP:libusb-1.0:BUS:ADDR:IFACE[:...]; p after "libusb-1.0:". */
static int
parse_libusb(const char *p, struct ol_devname *out, const char **why)
{
	int r;

	r = parse_dec(&p, BUS_MIN, BUS_MAX, &out->bus);
	if (r != 0 || *p++ != ':')
		goto bad;
	r = parse_dec(&p, ADDR_MIN, ADDR_MAX, &out->address);
	if (r != 0 || *p++ != ':')
		goto bad;
	r = parse_dec(&p, 0, IFACE_MAX, &out->interface);
	if (r != 0 || !field_end(p))
		goto bad;

	out->kind = OL_DEVNAME_LIBUSB;
	return OL_OK;

bad:
	*why = (r == -2) ? why_range : why_form;
	return OL_ERR_ARG;
}

static int
parse_usb(const char *p, struct ol_devname *out, const char **why)
{
	if (parse_hex4(&p, &out->vid) != 0 || *p++ != '/' ||
	    parse_hex4(&p, &out->pid) != 0 || *p++ != ':')
		goto bad;
	if (has_prefix(p, LIBUDEV_TAG))
		return parse_libudev(p + strlen(LIBUDEV_TAG), out, why);
	if (has_prefix(p, LIBUSB_TAG))
		return parse_libusb(p + strlen(LIBUSB_TAG), out, why);
bad:
	*why = why_form;
	return OL_ERR_ARG;
}

int
ol_devname_parse(const char *name, struct ol_devname *out, const char **why)
{
	const char *dummy;
	int r = OL_ERR_ARG;

	if (why == NULL)
		why = &dummy;
	*why = why_form;
	if (out == NULL)
		return OL_ERR_ARG;
	memset(out, 0, sizeof(*out));
	if (name == NULL)
		goto out;

	if (has_prefix(name, USB_PREFIX)) {
		r = parse_usb(name + strlen(USB_PREFIX), out, why);
	} else if (has_prefix(name, UNIX_PREFIX)) {
		/* The "unix:" prefix stays: the transport uses it to tell a
		 * socket from a hidraw node. */
		if (name[strlen(UNIX_PREFIX)] != '/' ||
		    name[strlen(UNIX_PREFIX) + 1] == '\0')
			goto out;
		r = copy_path(out, name, bounded_len(name), why);
		out->kind = OL_DEVNAME_UNIX;
	} else if (name[0] == '/' && name[1] != '\0') {
		r = copy_path(out, name, bounded_len(name), why);
		out->kind = OL_DEVNAME_HIDRAW;
	}

out:
	if (r != OL_OK)
		memset(out, 0, sizeof(*out));
	else
		*why = NULL;
	return r;
}
