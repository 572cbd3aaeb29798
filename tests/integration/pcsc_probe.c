/*
 * pcsc-probe: a plain PC/SC client (libpcsclite) for the integration tests.
 * It shows what stock tools do not: reader attributes, the part 10
 * features and TLV properties, and extended APDUs.
 *
 *   pcsc-probe READER-SUBSTRING attrs
 *   pcsc-probe READER-SUBSTRING features
 *   pcsc-probe READER-SUBSTRING apdu HEX [HEX...]
 *
 * Output is line oriented, "key: value", for grep in tests.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <PCSC/reader.h>
#include <PCSC/winscard.h>

#ifndef SCARD_ATTR_VENDOR_IFD_SERIAL_NO
#define SCARD_ATTR_VENDOR_IFD_SERIAL_NO SCARD_ATTR_VALUE(SCARD_CLASS_VENDOR_INFO, 0x0103)
#endif

static SCARDCONTEXT ctx;
static SCARDHANDLE card;

static void
die(const char *what, LONG rv)
{
	fprintf(stderr, "%s: %s (0x%lx)\n", what, pcsc_stringify_error(rv),
	    (unsigned long)rv);
	exit(1);
}

static void
print_hex(const char *key, const unsigned char *b, size_t n)
{
	size_t i;

	printf("%s:", key);
	for (i = 0; i < n; i++)
		printf(" %02X", b[i]);
	printf("\n");
}

static size_t
parse_hex(const char *s, unsigned char *out, size_t cap)
{
	size_t n = 0;
	unsigned v;

	while (*s) {
		if (*s == ' ' || *s == ':') {
			s++;
			continue;
		}
		if (n >= cap || sscanf(s, "%2x", &v) != 1) {
			fprintf(stderr, "bad hex near \"%s\"\n", s);
			exit(2);
		}
		out[n++] = (unsigned char)v;
		s += 2;
	}
	return n;
}

static void
connect_reader(const char *want)
{
	char readers[4096], *r;
	DWORD len = sizeof(readers), proto;
	LONG rv;

	if ((rv = SCardEstablishContext(SCARD_SCOPE_SYSTEM, NULL, NULL,
	    &ctx)) != SCARD_S_SUCCESS)
		die("SCardEstablishContext", rv);
	if ((rv = SCardListReaders(ctx, NULL, readers, &len)) !=
	    SCARD_S_SUCCESS)
		die("SCardListReaders", rv);
	for (r = readers; *r; r += strlen(r) + 1)
		if (strstr(r, want) != NULL)
			break;
	if (*r == '\0') {
		fprintf(stderr, "no reader matching \"%s\"\n", want);
		exit(1);
	}
	printf("reader: %s\n", r);
	if ((rv = SCardConnect(ctx, r, SCARD_SHARE_SHARED, SCARD_PROTOCOL_T1,
	    &card, &proto)) != SCARD_S_SUCCESS)
		die("SCardConnect", rv);
	printf("protocol: %s\n", proto == SCARD_PROTOCOL_T1 ? "T=1" : "other");
}

static void
attrs(void)
{
	unsigned char buf[256];
	DWORD len;
	LONG rv;

	len = sizeof(buf);
	if ((rv = SCardGetAttrib(card, SCARD_ATTR_ATR_STRING, buf, &len)) ==
	    SCARD_S_SUCCESS)
		print_hex("atr", buf, len);
	len = sizeof(buf);
	if ((rv = SCardGetAttrib(card, SCARD_ATTR_VENDOR_NAME, buf, &len)) ==
	    SCARD_S_SUCCESS)
		printf("vendor: %.*s\n", (int)len, buf);
	len = sizeof(buf);
	if ((rv = SCardGetAttrib(card, SCARD_ATTR_VENDOR_IFD_SERIAL_NO, buf,
	    &len)) == SCARD_S_SUCCESS)
		printf("serial: %.*s\n", (int)len, buf);
	len = sizeof(buf);
	if ((rv = SCardGetAttrib(card, SCARD_ATTR_VENDOR_IFD_VERSION, buf,
	    &len)) == SCARD_S_SUCCESS && len == 4)
		printf("ifd-version: %u.%u.%u\n", buf[3], buf[2],
		    buf[0] | buf[1] << 8);
	len = sizeof(buf);
	if ((rv = SCardGetAttrib(card, SCARD_ATTR_MAXINPUT, buf, &len)) ==
	    SCARD_S_SUCCESS && len == 4)
		printf("maxinput: %u\n", buf[0] | buf[1] << 8 | buf[2] << 16);
}

static void
features(void)
{
	unsigned char buf[256], props[256];
	DWORD len = 0, plen = 0, code = 0, i;
	LONG rv;

	if ((rv = SCardControl(card, CM_IOCTL_GET_FEATURE_REQUEST, NULL, 0,
	    buf, sizeof(buf), &len)) != SCARD_S_SUCCESS)
		die("SCardControl(GET_FEATURE_REQUEST)", rv);
	for (i = 0; i + 6 <= len; i += 6) {
		printf("feature: 0x%02X ioctl 0x%02X%02X%02X%02X\n", buf[i],
		    buf[i + 2], buf[i + 3], buf[i + 4], buf[i + 5]);
		if (buf[i] == FEATURE_GET_TLV_PROPERTIES)
			code = (DWORD)buf[i + 2] << 24 | (DWORD)buf[i + 3] << 16 |
			    (DWORD)buf[i + 4] << 8 | buf[i + 5];
	}
	if (code == 0)
		return;
	if ((rv = SCardControl(card, code, NULL, 0, props, sizeof(props),
	    &plen)) != SCARD_S_SUCCESS)
		die("SCardControl(GET_TLV_PROPERTIES)", rv);
	for (i = 0; i + 2 <= plen && i + 2 + props[i + 1] <= plen;
	    i += 2 + props[i + 1]) {
		unsigned long v = 0;
		int k;

		if (props[i] == PCSCv2_PART10_PROPERTY_sFirmwareID) {
			printf("property %u: %.*s\n", props[i], props[i + 1],
			    props + i + 2);
			continue;
		}
		for (k = props[i + 1] - 1; k >= 0; k--)
			v = v << 8 | props[i + 2 + k];
		printf("property %u: %lu\n", props[i], v);
	}
}

static void
apdus(int argc, char **argv)
{
	static unsigned char cmd[70000], resp[70000];
	DWORD rlen;
	size_t clen;
	LONG rv;
	int i;

	for (i = 0; i < argc; i++) {
		clen = parse_hex(argv[i], cmd, sizeof(cmd));
		rlen = sizeof(resp);
		if ((rv = SCardTransmit(card, SCARD_PCI_T1, cmd, clen, NULL,
		    resp, &rlen)) != SCARD_S_SUCCESS)
			die("SCardTransmit", rv);
		printf("response-length: %lu\n", (unsigned long)rlen);
		if (rlen >= 2)
			printf("sw: %02X%02X\n", resp[rlen - 2], resp[rlen - 1]);
	}
}

int
main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: pcsc-probe READER attrs|features|apdu HEX...\n");
		return 2;
	}
	connect_reader(argv[1]);
	if (strcmp(argv[2], "attrs") == 0)
		attrs();
	else if (strcmp(argv[2], "features") == 0)
		features();
	else if (strcmp(argv[2], "apdu") == 0)
		apdus(argc - 3, argv + 3);
	else {
		fprintf(stderr, "unknown command %s\n", argv[2]);
		return 2;
	}
	SCardDisconnect(card, SCARD_LEAVE_CARD);
	SCardReleaseContext(ctx);
	return 0;
}
