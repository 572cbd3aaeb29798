/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ifd-openloop: tests of the Info.plist reader (src/common/plist.c), which
 * must read a file the way pcscd's tokenparser does, and of the bundle's
 * generated Info.plist (BUILT_INFO_PLIST, set by Makefile.am).
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "plist.h"
#include "ol_err.h"

#ifndef BUILT_INFO_PLIST
#error "BUILT_INFO_PLIST must name the generated Info.plist"
#endif

/* Parses a C string; the text is copied into a buffer of exactly its
 * length, without a NUL, so that ASan sees any read past len. */
static int
parse(const char *text, ol_plist_t **pl)
{
	size_t n = strlen(text);
	char *copy;
	int r;

	copy = malloc(n > 0 ? n : 1);
	assert_non_null(copy);
	memcpy(copy, text, n);
	r = ol_plist_parse(copy, n, pl);
	free(copy);
	return r;
}

static void
expect_error(const char *text)
{
	ol_plist_t *pl = (ol_plist_t *)(uintptr_t)1;

	if (parse(text, &pl) != OL_ERR_PROTOCOL)
		fail_msg("accepted: \"%s\"", text);
	assert_null(pl);
}

static ol_plist_t *
expect_ok(const char *text)
{
	ol_plist_t *pl = NULL;

	if (parse(text, &pl) != OL_OK)
		fail_msg("refused: \"%s\"", text);
	assert_non_null(pl);
	return pl;
}

static void
test_keys_and_arrays(void **state)
{
	ol_plist_t *pl;

	(void)state;
	pl = expect_ok(
	    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	    "<plist version=\"1.0\">\n"
	    "<dict>\n"
	    "\t<key>CFBundleExecutable</key>\n"
	    "\t<string>libifdopenloop.so</string>\n"
	    "\t<key>ifdVendorID</key>\n"
	    "\t<array>\n"
	    "\t\t<string>0x1209</string>\n"
	    "\t\t<string>0x20A0</string>\n"
	    "\t</array>\n"
	    "\t<key>Empty</key>\n"
	    "\t<key>ifdLogLevel</key>\n"
	    "\t<string>0x0003</string>\n"
	    "</dict>\n"
	    "</plist>\n");
	assert_int_equal(ol_plist_count(pl, "CFBundleExecutable"), 1);
	assert_string_equal(ol_plist_get(pl, "CFBundleExecutable", 0),
	    "libifdopenloop.so");
	assert_int_equal(ol_plist_count(pl, "ifdVendorID"), 2);
	assert_string_equal(ol_plist_get(pl, "ifdVendorID", 0), "0x1209");
	assert_string_equal(ol_plist_get(pl, "ifdVendorID", 1), "0x20A0");
	assert_null(ol_plist_get(pl, "ifdVendorID", 2));
	assert_int_equal(ol_plist_count(pl, "Empty"), 0);
	assert_null(ol_plist_get(pl, "Empty", 0));
	assert_int_equal(ol_plist_count(pl, "Absent"), 0);
	assert_null(ol_plist_get(pl, "Absent", 0));
	/* names are case-sensitive, like strcmp() in pcscd */
	assert_int_equal(ol_plist_count(pl, "ifdvendorid"), 0);
	assert_int_equal(ol_plist_get_long(pl, "ifdLogLevel", -1), 3);
	ol_plist_free(&pl);
	assert_null(pl);
	ol_plist_free(&pl);     /* twice is harmless */
	ol_plist_free(NULL);
}

static void
test_amp(void **state)
{
	ol_plist_t *pl;

	(void)state;
	pl = expect_ok(
	    "<key>a</key>\n"
	    "<string>Foo &amp; Bar</string>\n"
	    "<string>&amp;&amp;</string>\n"
	    "<string>&amp;amp;</string>\n"   /* one pass, as pcscd */
	    "<string>&lt;&gt;&quot;</string>\n" /* other entities kept */
	    "<string>&amp</string>\n");
	assert_int_equal(ol_plist_count(pl, "a"), 5);
	assert_string_equal(ol_plist_get(pl, "a", 0), "Foo & Bar");
	assert_string_equal(ol_plist_get(pl, "a", 1), "&&");
	assert_string_equal(ol_plist_get(pl, "a", 2), "&amp;");
	assert_string_equal(ol_plist_get(pl, "a", 3), "&lt;&gt;&quot;");
	assert_string_equal(ol_plist_get(pl, "a", 4), "&amp");
	ol_plist_free(&pl);
}

static void
test_bad_keys(void **state)
{
	(void)state;
	/* pcscd's key rule is [A-Za-z0-9 \t]+; it drops the others and
	 * would give the next values to the previous key. */
	expect_error("<key>ifd_Bad</key>\n<string>x</string>\n");
	expect_error("<key>a-b</key>\n");
	expect_error("<key>a.b</key>\n");
	expect_error("<key></key>\n");
	expect_error("<key>abc\n</key>\n");
	expect_error("<key>abc</Key>\n");
	expect_error("<key>abc");
	expect_error("<key>caf\xc3\xa9</key>\n");
	expect_error("<key>a<b</key>\n");
}

static void
test_string_before_key(void **state)
{
	(void)state;
	expect_error("<string>orphan</string>\n<key>a</key>\n");
	expect_error("<dict>\n\t<string>x</string>\n</dict>\n");
}

static void
test_whitespace_and_line_endings(void **state)
{
	ol_plist_t *pl;

	(void)state;
	pl = expect_ok(
	    "   \t<key>Spaced</key>   \t\n"
	    "\t\t  <string> padded value </string>  \n"
	    "<key>Win</key>\r\n"
	    "<string>crlf</string>\r\n"
	    "<key>has space</key>\n"  /* pcscd keeps it verbatim */
	    "<string>v</string>");    /* no final newline */
	assert_string_equal(ol_plist_get(pl, "Spaced", 0), " padded value ");
	assert_string_equal(ol_plist_get(pl, "Win", 0), "crlf");
	assert_string_equal(ol_plist_get(pl, "has space", 0), "v");
	ol_plist_free(&pl);
}

static void
test_missing_closing_tag(void **state)
{
	(void)state;
	expect_error("<key>a</key>\n<string>unterminated\n");
	expect_error("<key>a</key>\n<string>x</strin>\n");
	expect_error("<key>a</key>\n<string>x\n</string>\n");
	expect_error("<key>a</key>\n<string>");
}

/* Corners where pcscd's greedy "<string>.+</string>" decides. */
static void
test_pcscd_token_rules(void **state)
{
	ol_plist_t *pl;

	(void)state;
	pl = expect_ok(
	    "<key>a</key>\n"
	    "<string></string>\n"                       /* skipped */
	    "<string>one</string><string>two</string>\n" /* one token */
	    "<string>x<y</string>\n"                    /* up to '<' */
	    "<string>#1</string>\n"                     /* not a comment */
	    "# <key>b</key>\n"                          /* a comment */
	    "<!-- not XML-aware: --> <string>c</string>\n"
	    "<key>dup</key>\n<string>first</string>\n"
	    "<key>dup</key>\n<string>second</string>\n"
	    "<string>third</string>\n");
	assert_int_equal(ol_plist_count(pl, "a"), 4);
	assert_string_equal(ol_plist_get(pl, "a", 0), "one");
	assert_string_equal(ol_plist_get(pl, "a", 1), "x");
	assert_string_equal(ol_plist_get(pl, "a", 2), "#1");
	assert_string_equal(ol_plist_get(pl, "a", 3), "c");
	assert_int_equal(ol_plist_count(pl, "b"), 0);
	/* a repeated key: lookups see the last one, as pcscd */
	assert_int_equal(ol_plist_count(pl, "dup"), 2);
	assert_string_equal(ol_plist_get(pl, "dup", 0), "second");
	assert_string_equal(ol_plist_get(pl, "dup", 1), "third");
	ol_plist_free(&pl);
}

static void
test_caps(void **state)
{
	ol_plist_t *pl = NULL;
	char *text, *p;
	size_t i, size = 1024 * 1024;

	(void)state;
	text = malloc(size);
	assert_non_null(text);

	/* 256 keys pass, 257 do not */
	p = text;
	for (i = 0; i < 256; i++)
		p += sprintf(p, "<key>k%zu</key>\n", i);
	assert_int_equal(ol_plist_parse(text, (size_t)(p - text), &pl), OL_OK);
	assert_int_equal(ol_plist_count(pl, "k255"), 0);
	ol_plist_free(&pl);
	p += sprintf(p, "<key>one more</key>\n");
	assert_int_equal(ol_plist_parse(text, (size_t)(p - text), &pl),
	    OL_ERR_PROTOCOL);
	assert_null(pl);

	/* 4096 values pass, 4097 do not */
	p = text + sprintf(text, "<key>a</key>\n");
	for (i = 0; i < 4096; i++)
		p += sprintf(p, "<string>%zu</string>\n", i);
	assert_int_equal(ol_plist_parse(text, (size_t)(p - text), &pl), OL_OK);
	assert_int_equal(ol_plist_count(pl, "a"), 4096);
	assert_string_equal(ol_plist_get(pl, "a", 4095), "4095");
	ol_plist_free(&pl);
	p += sprintf(p, "<string>x</string>\n");
	assert_int_equal(ol_plist_parse(text, (size_t)(p - text), &pl),
	    OL_ERR_PROTOCOL);

	/* a value of 4096 bytes passes, 4097 does not */
	p = text + sprintf(text, "<key>a</key>\n<string>");
	memset(p, 'v', 4096);
	p += 4096;
	p += sprintf(p, "</string>\n");
	assert_int_equal(ol_plist_parse(text, (size_t)(p - text), &pl), OL_OK);
	assert_int_equal(strlen(ol_plist_get(pl, "a", 0)), 4096);
	ol_plist_free(&pl);
	p = text + sprintf(text, "<key>a</key>\n<string>");
	memset(p, 'v', 4097);
	p += 4097;
	p += sprintf(p, "</string>\n");
	assert_int_equal(ol_plist_parse(text, (size_t)(p - text), &pl),
	    OL_ERR_PROTOCOL);

	/* so is a key name */
	p = text + sprintf(text, "<key>");
	memset(p, 'k', 4097);
	p += 4097;
	p += sprintf(p, "</key>\n");
	assert_int_equal(ol_plist_parse(text, (size_t)(p - text), &pl),
	    OL_ERR_PROTOCOL);

	free(text);
}

/* The parser stops at len, whatever follows in memory. */
static void
test_length_not_nul(void **state)
{
	static const char text[] =
	    "<key>a</key>\n<string>val</string>\n<key>b</key>\n";
	static const char nul_inside[] = "<key>a</key>\n<string>x\0y</string>";
	ol_plist_t *pl = NULL;
	size_t cut;

	(void)state;
	/* cut inside "<string>val</string>": unterminated */
	cut = strlen("<key>a</key>\n<string>val</str");
	assert_int_equal(ol_plist_parse(text, cut, &pl), OL_ERR_PROTOCOL);
	/* cut inside "<key>b": a key line that never closes */
	cut = strlen("<key>a</key>\n<string>val</string>\n<key>b");
	assert_int_equal(ol_plist_parse(text, cut, &pl), OL_ERR_PROTOCOL);
	/* cut right after a line: fine */
	cut = strlen("<key>a</key>\n<string>val</string>\n");
	assert_int_equal(ol_plist_parse(text, cut, &pl), OL_OK);
	assert_int_equal(ol_plist_count(pl, "b"), 0);
	assert_string_equal(ol_plist_get(pl, "a", 0), "val");
	ol_plist_free(&pl);

	/* a NUL inside a value ends the C string, as in pcscd */
	assert_int_equal(ol_plist_parse(nul_inside, sizeof(nul_inside) - 1,
	    &pl), OL_OK);
	assert_string_equal(ol_plist_get(pl, "a", 0), "x");
	ol_plist_free(&pl);

	/* empty input, NULL arguments */
	assert_int_equal(ol_plist_parse(NULL, 0, &pl), OL_OK);
	assert_int_equal(ol_plist_count(pl, "a"), 0);
	ol_plist_free(&pl);
	assert_int_equal(ol_plist_parse(NULL, 1, &pl), OL_ERR_ARG);
	assert_int_equal(ol_plist_parse(text, 1, NULL), OL_ERR_ARG);
	assert_int_equal(ol_plist_count(NULL, "a"), 0);
	assert_null(ol_plist_get(NULL, "a", 0));
	assert_int_equal(ol_plist_get_long(NULL, "a", 42), 42);
}

static void
test_get_long(void **state)
{
	ol_plist_t *pl;

	(void)state;
	pl = expect_ok(
	    "<key>hex</key>\n<string>0x0003</string>\n"
	    "<key>HEX</key>\n<string>0XfF</string>\n"
	    "<key>dec</key>\n<string>60</string>\n"
	    "<key>zero</key>\n<string>010</string>\n"
	    "<key>neg</key>\n<string>-5</string>\n"
	    "<key>bare0x</key>\n<string>0x</string>\n"
	    "<key>junk</key>\n<string>12abc</string>\n"
	    "<key>space</key>\n<string> 5</string>\n"
	    "<key>signhex</key>\n<string>0x-5</string>\n"
	    "<key>huge</key>\n<string>99999999999999999999</string>\n"
	    "<key>text</key>\n<string>sixty</string>\n"
	    "<key>novalue</key>\n");
	assert_int_equal(ol_plist_get_long(pl, "hex", -1), 3);
	assert_int_equal(ol_plist_get_long(pl, "HEX", -1), 255);
	assert_int_equal(ol_plist_get_long(pl, "dec", -1), 60);
	assert_int_equal(ol_plist_get_long(pl, "zero", -1), 10); /* not octal */
	assert_int_equal(ol_plist_get_long(pl, "neg", -1), -5);
	assert_int_equal(ol_plist_get_long(pl, "bare0x", -1), -1);
	assert_int_equal(ol_plist_get_long(pl, "junk", -1), -1);
	assert_int_equal(ol_plist_get_long(pl, "space", -1), -1);
	assert_int_equal(ol_plist_get_long(pl, "signhex", -1), -1);
	assert_int_equal(ol_plist_get_long(pl, "huge", -1), -1);
	assert_int_equal(ol_plist_get_long(pl, "text", -1), -1);
	assert_int_equal(ol_plist_get_long(pl, "novalue", -1), -1);
	assert_int_equal(ol_plist_get_long(pl, "absent", 77), 77);
	ol_plist_free(&pl);
}

static void
test_load_errors(void **state)
{
	char path[] = "/tmp/test_plist.XXXXXX";
	ol_plist_t *pl = NULL;
	char *big;
	FILE *f;
	int fd;

	(void)state;
	assert_int_equal(ol_plist_load("/nonexistent/Info.plist", &pl),
	    OL_ERR_NO_DEVICE);
	assert_null(pl);
	assert_int_equal(ol_plist_load("/", &pl), OL_ERR_IO);
	assert_int_equal(ol_plist_load(NULL, &pl), OL_ERR_ARG);
	assert_int_equal(ol_plist_load(BUILT_INFO_PLIST, NULL), OL_ERR_ARG);

	fd = mkstemp(path);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	assert_non_null(f);
	fputs("<key>a</key>\n<string>b</string>\n", f);
	fclose(f);
	assert_int_equal(ol_plist_load(path, &pl), OL_OK);
	assert_string_equal(ol_plist_get(pl, "a", 0), "b");
	ol_plist_free(&pl);

	/* over 1 MiB */
	big = calloc(1, 1024 * 1024 + 1);
	assert_non_null(big);
	memset(big, ' ', 1024 * 1024 + 1);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(big, 1, 1024 * 1024 + 1, f), 1024 * 1024 + 1);
	fclose(f);
	assert_int_equal(ol_plist_load(path, &pl), OL_ERR_TOO_LONG);
	assert_null(pl);
	/* exactly 1 MiB: fine */
	assert_int_equal(truncate(path, 1024 * 1024), 0);
	assert_int_equal(ol_plist_load(path, &pl), OL_OK);
	ol_plist_free(&pl);
	free(big);
	unlink(path);
}

/* "@NAME@" as the generator's placeholders look. */
static int
has_placeholder(const char *s)
{
	const char *at, *p;

	for (at = strchr(s, '@'); at != NULL; at = strchr(at + 1, '@')) {
		for (p = at + 1; (*p >= 'A' && *p <= 'Z') || *p == '_'; p++)
			;
		if (p > at + 1 && *p == '@')
			return 1;
	}
	return 0;
}

/* What pcscd and the driver need from the Info.plist the build made. */
static void
test_built_info_plist(void **state)
{
	ol_plist_t *pl = NULL;
	size_t n, i;
	char *end;
	long v;
	FILE *f;
	char line[1024];

	(void)state;
	assert_int_equal(ol_plist_load(BUILT_INFO_PLIST, &pl), OL_OK);

	assert_int_equal(ol_plist_count(pl, "CFBundleExecutable"), 1);
	assert_string_equal(ol_plist_get(pl, "CFBundleExecutable", 0),
	    "libifdopenloop.so");
	assert_string_equal(ol_plist_get(pl, "CFBundleName", 0),
	    "ifd-openloop");
	assert_string_equal(ol_plist_get(pl, "CFBundleVersion", 0),
	    PACKAGE_VERSION);
	assert_string_equal(ol_plist_get(pl, "ifdProtocolSupport", 0),
	    "0x00000002");

	/* three parallel lists, one entry per claimed USB device; none at
	 * all in a --with-usb-ids=none build (the Debian package) */
	n = ol_plist_count(pl, "ifdVendorID");
	assert_true(OL_DEFAULT_VID == 0 ? n == 0 : n >= 1);
	assert_int_equal(ol_plist_count(pl, "ifdProductID"), n);
	assert_int_equal(ol_plist_count(pl, "ifdFriendlyName"), n);
	for (i = 0; i < n; i++) {
		v = strtol(ol_plist_get(pl, "ifdVendorID", i), &end, 16);
		assert_true(*end == '\0' && v > 0 && v <= 0xffff);
		v = strtol(ol_plist_get(pl, "ifdProductID", i), &end, 16);
		assert_true(*end == '\0' && v >= 0 && v <= 0xffff);
		assert_string_equal(ol_plist_get(pl, "ifdFriendlyName", i),
		    "Openloop");
	}
	/* the first is the one configure chose (1209:0001 by default) */
	if (n > 0) {
		assert_int_equal(ol_plist_get_long(pl, "ifdVendorID", -1),
		    OL_DEFAULT_VID);
		assert_int_equal(strtol(ol_plist_get(pl, "ifdProductID", 0),
		    NULL, 16), OL_DEFAULT_PID);
	}
	if (OL_DEFAULT_VID == 0x1209 && OL_DEFAULT_PID == 0x0001) {
		assert_string_equal(ol_plist_get(pl, "ifdVendorID", 0),
		    "0x1209");
		assert_string_equal(ol_plist_get(pl, "ifdProductID", 0),
		    "0x0001");
	}

	/* the driver's own settings */
	assert_int_equal(ol_plist_get_long(pl, "ifdLogLevel", -1), 3);
	assert_int_equal(ol_plist_get_long(pl, "ifdUserConfirmationTimeout",
	    -1), 60);
	assert_int_equal(ol_plist_get_long(pl, "ifdBusyTimeout", -1), 45);
	ol_plist_free(&pl);

	/* no placeholder left unexpanded */
	f = fopen(BUILT_INFO_PLIST, "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f) != NULL) {
		if (has_placeholder(line))
			fail_msg("unexpanded: %s", line);
	}
	fclose(f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_keys_and_arrays),
		cmocka_unit_test(test_amp),
		cmocka_unit_test(test_bad_keys),
		cmocka_unit_test(test_string_before_key),
		cmocka_unit_test(test_whitespace_and_line_endings),
		cmocka_unit_test(test_missing_closing_tag),
		cmocka_unit_test(test_pcscd_token_rules),
		cmocka_unit_test(test_caps),
		cmocka_unit_test(test_length_not_nul),
		cmocka_unit_test(test_get_long),
		cmocka_unit_test(test_load_errors),
		cmocka_unit_test(test_built_info_plist),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
