/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ifd-openloop: tests of the USB ID parser (src/common/usb_ids.c): the
 * shapes openloop-usb-ids accepts, and nothing else.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "ol_err.h"
#include "usb_ids.h"

static int
one(const char *s, struct ol_usb_id *id)
{
	return ol_usb_id_parse(s, strlen(s), id);
}

static void
test_one(void **state)
{
	static const char *const bad[] = {
		"", "1209", "1209:", "1209:001", "1209:00001", "01209:0001",
		"1209-0001", "1209:000g", " 209:0001", "1209:0001 ",
		"0x09:0001", "0000:0001", "+209:0001", "1209::001",
	};
	struct ol_usb_id id = { 0x1111, 0x2222 };

	(void)state;
	assert_int_equal(one("1209:0001", &id), OL_OK);
	assert_int_equal(id.vid, 0x1209);
	assert_int_equal(id.pid, 0x0001);
	assert_int_equal(one("20A0:42b2", &id), OL_OK);
	assert_int_equal(id.vid, 0x20a0);
	assert_int_equal(id.pid, 0x42b2);
	/* product 0000 is a product; vendor 0000 is no vendor */
	assert_int_equal(one("ffff:0000", &id), OL_OK);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		id.vid = 0x1111;
		assert_int_equal(one(bad[i], &id), OL_ERR_ARG);
		assert_int_equal(id.vid, 0x1111); /* untouched */
	}
	/* the length decides, not a terminator */
	assert_int_equal(ol_usb_id_parse("1209:0001,20a0:42b2", 9, &id),
	    OL_OK);
	assert_int_equal(ol_usb_id_parse(NULL, 9, &id), OL_ERR_ARG);
}

static void
test_list(void **state)
{
	static const char *const bad[] = {
		",", "1209:0001,", ",1209:0001", "1209:0001,,20a0:42b2",
		"1209:0001, 20a0:42b2", "1209:0001;20a0:42b2", "none",
		"1209:0001,0000:0001",
	};
	struct ol_usb_id ids[2];
	size_t n = 99;

	(void)state;
	assert_int_equal(ol_usb_id_parse_list("", ids, 2, &n), OL_OK);
	assert_int_equal(n, 0);
	assert_int_equal(ol_usb_id_parse_list("1209:0001,20a0:42B2", ids, 2,
	    &n), OL_OK);
	assert_int_equal(n, 2);
	assert_int_equal(ids[1].vid, 0x20a0);
	assert_int_equal(ids[1].pid, 0x42b2);
	/* more than fit: the first ones, and the rest still checked */
	assert_int_equal(ol_usb_id_parse_list("1209:0001,20a0:42b2,16d0:0e90",
	    ids, 2, &n), OL_ERR_TOO_LONG);
	assert_int_equal(n, 2);
	assert_int_equal(ol_usb_id_parse_list("1209:0001,20a0:42b2,16d0:0e9",
	    ids, 2, &n), OL_ERR_ARG);
	assert_int_equal(n, 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		n = 99;
		assert_int_equal(ol_usb_id_parse_list(bad[i], ids, 2, &n),
		    OL_ERR_ARG);
		assert_int_equal(n, 0);
	}
}

static void
test_plist(void **state)
{
	struct ol_usb_id id;

	(void)state;
	assert_int_equal(ol_usb_id_from_plist("0x1209", "0x0001", &id), OL_OK);
	assert_int_equal(id.vid, 0x1209);
	assert_int_equal(id.pid, 0x0001);
	assert_int_equal(ol_usb_id_from_plist("0X20a0", "0x1", &id), OL_OK);
	assert_int_equal(id.pid, 0x0001);
	assert_int_equal(ol_usb_id_from_plist("1209", "0x0001", &id),
	    OL_ERR_ARG);
	assert_int_equal(ol_usb_id_from_plist("0x", "0x0001", &id),
	    OL_ERR_ARG);
	assert_int_equal(ol_usb_id_from_plist("0x12090", "0x0001", &id),
	    OL_ERR_ARG);
	assert_int_equal(ol_usb_id_from_plist("0x0", "0x0001", &id),
	    OL_ERR_ARG);
	assert_int_equal(ol_usb_id_from_plist("0x1209 ", "0x0001", &id),
	    OL_ERR_ARG);
	assert_int_equal(ol_usb_id_from_plist(NULL, "0x0001", &id),
	    OL_ERR_ARG);
	assert_int_equal(ol_usb_id_from_plist("0x1209", NULL, &id),
	    OL_ERR_ARG);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_one),
		cmocka_unit_test(test_list),
		cmocka_unit_test(test_plist),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
