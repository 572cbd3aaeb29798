/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The simulator's FIDO authenticator as a host sees it: libfido2 (the
 * library behind fido2-token, ssh-sk, pam_u2f and Chromium's Linux FIDO
 * code) talks to a running openloop-sim over its socket through
 * fido_dev_set_io_functions(): a datagram out is report ID 0 and 64
 * bytes, a datagram in is one 64-byte report (docs/simulator.md).
 *
 * A unit test that starts the simulator itself, like test_reader: it
 * needs no root, no pcscd and no namespace, so it runs in every `make
 * check`; without libfido2 at build time it is compiled as a stub that
 * exits 77 (skipped).  Each test gets a fresh simulator (--touch approve)
 * with a --state file in its own directory.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#ifndef HAVE_LIBFIDO2
int
main(void)
{
	fprintf(stderr, "libfido2 not found at build time: skipped\n");
	return 77;
}
#else

#include <fido.h>
#include <fido/eddsa.h>
#include <fido/es256.h>

#include "fido_sock_io.h"
#include "sim_child.h"
#include "timeutil.h"

static char dir[] = "/tmp/ol-fido-host.XXXXXX";
static char sock[128], state[128];
static pid_t sim_pid = -1;

/* --- the simulator ------------------------------------------------------- */

static void
start_sim(const char *touch)
{
	const char *const args[] = { "--touch", touch, "--timing", "instant",
	    "--state", state, NULL };

	sim_pid = sim_child_start(sock, args);
	assert_true(sim_pid > 0);
}

static void
stop_sim(void)
{
	sim_child_stop(&sim_pid);
}

static int
setup(void **st)
{
	(void)st;
	strcpy(dir, "/tmp/ol-fido-host.XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(sock, sizeof(sock), "%s/sim.sock", dir);
	snprintf(state, sizeof(state), "%s/state", dir);
	start_sim("approve");
	return 0;
}

static int
teardown(void **st)
{
	char path[160];

	(void)st;
	/* the simulator removes its socket and the files beside it */
	stop_sim();
	(void)unlink(state);
	snprintf(path, sizeof(path), "%s.fido", state);
	(void)unlink(path);
	return rmdir(dir);
}

static fido_dev_t *
dev_open(int u2f)
{
	fido_dev_t *dev;

	assert_non_null(dev = fido_dev_new());
	assert_int_equal(fido_dev_set_io_functions(dev, &fido_sock_io), FIDO_OK);
	assert_int_equal(fido_dev_open(dev, sock), FIDO_OK);
	if (u2f)
		fido_dev_force_u2f(dev);
	return dev;
}

static void
dev_close(fido_dev_t **dev)
{
	fido_dev_close(*dev);
	fido_dev_free(dev);
}

/* --- helpers -------------------------------------------------------------- */

static const unsigned char cdh[32] = {
	0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12,
	13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28,
};

static fido_cred_t *
cred_new(int type, const char *rp, const unsigned char *uid, size_t uid_len,
    int rk)
{
	fido_cred_t *c;

	assert_non_null(c = fido_cred_new());
	assert_int_equal(fido_cred_set_type(c, type), FIDO_OK);
	assert_int_equal(fido_cred_set_clientdata_hash(c, cdh, sizeof(cdh)),
	    FIDO_OK);
	assert_int_equal(fido_cred_set_rp(c, rp, "Relying Party"), FIDO_OK);
	assert_int_equal(fido_cred_set_user(c, uid, uid_len, "alice",
	    "Alice Example", NULL), FIDO_OK);
	assert_int_equal(fido_cred_set_rk(c, rk ? FIDO_OPT_TRUE :
	    FIDO_OPT_OMIT), FIDO_OK);
	return c;
}

static int
make(fido_dev_t *dev, fido_cred_t *c, const char *pin)
{
	return fido_dev_make_cred(dev, c, pin);
}

/* verifies assertion i with the credential's public key */
static void
verify_assert(const fido_assert_t *a, size_t i, const fido_cred_t *c)
{
	es256_pk_t *es;
	eddsa_pk_t *ed;
	int type = fido_cred_type(c);

	if (type == COSE_ES256) {
		assert_non_null(es = es256_pk_new());
		assert_int_equal(es256_pk_from_ptr(es, fido_cred_pubkey_ptr(c),
		    fido_cred_pubkey_len(c)), FIDO_OK);
		assert_int_equal(fido_assert_verify(a, i, COSE_ES256, es),
		    FIDO_OK);
		es256_pk_free(&es);
	} else {
		assert_non_null(ed = eddsa_pk_new());
		assert_int_equal(eddsa_pk_from_ptr(ed, fido_cred_pubkey_ptr(c),
		    fido_cred_pubkey_len(c)), FIDO_OK);
		assert_int_equal(fido_assert_verify(a, i, COSE_EDDSA, ed),
		    FIDO_OK);
		eddsa_pk_free(&ed);
	}
}

static fido_assert_t *
assert_new(const char *rp, const fido_cred_t *allow)
{
	fido_assert_t *a;

	assert_non_null(a = fido_assert_new());
	assert_int_equal(fido_assert_set_rp(a, rp), FIDO_OK);
	assert_int_equal(fido_assert_set_clientdata_hash(a, cdh, sizeof(cdh)),
	    FIDO_OK);
	if (allow != NULL)
		assert_int_equal(fido_assert_allow_cred(a,
		    fido_cred_id_ptr(allow), fido_cred_id_len(allow)),
		    FIDO_OK);
	return a;
}

/* --- tests ---------------------------------------------------------------- */

static void
info(void **st)
{
	fido_dev_t *dev = dev_open(0);
	fido_cbor_info_t *ci;
	char **v;
	size_t i, n;
	int fido2 = 0, u2f = 0, retries = -1;

	(void)st;
	assert_true(fido_dev_is_fido2(dev));
	assert_int_equal(fido_dev_flags(dev) & FIDO_CAP_NMSG, 0);
	assert_non_null(ci = fido_cbor_info_new());
	assert_int_equal(fido_dev_get_cbor_info(dev, ci), FIDO_OK);
	v = fido_cbor_info_versions_ptr(ci);
	n = fido_cbor_info_versions_len(ci);
	for (i = 0; i < n; i++) {
		fido2 |= strcmp(v[i], "FIDO_2_0") == 0;
		u2f |= strcmp(v[i], "U2F_V2") == 0;
	}
	assert_true(fido2 && u2f);
	assert_int_equal(fido_cbor_info_maxmsgsiz(ci), 1200);
	assert_int_equal(fido_cbor_info_protocols_len(ci), 1);
	assert_int_equal(fido_cbor_info_protocols_ptr(ci)[0], 1);
	assert_memory_equal(fido_cbor_info_aaguid_ptr(ci), "OLSIM-FIDO2-0001",
	    16);
	assert_int_equal(fido_dev_get_retry_count(dev, &retries), FIDO_OK);
	assert_int_equal(retries, 8);
	fido_cbor_info_free(&ci);
	dev_close(&dev);
}

static void
cred_and_assert(int type, int rk)
{
	static const unsigned char uid[] = { 1, 2, 3, 4 };
	fido_dev_t *dev = dev_open(0);
	fido_cred_t *c = cred_new(type, "example.org", uid, sizeof(uid), rk);
	fido_assert_t *a;

	assert_int_equal(make(dev, c, NULL), FIDO_OK);
	assert_string_equal(fido_cred_fmt(c), "packed");
	/* packed self attestation: no certificate */
	assert_null(fido_cred_x5c_ptr(c));
	assert_int_equal(fido_cred_verify_self(c), FIDO_OK);
	/* fido_cred_verify() is for attestation with a certificate: it
	 * refuses self attestation by design */
	assert_int_equal(fido_cred_verify(c), FIDO_ERR_INVALID_ARGUMENT);
	assert_int_equal(fido_cred_id_len(c), 62);

	/* with an allowList */
	a = assert_new("example.org", c);
	assert_int_equal(fido_dev_get_assert(dev, a, NULL), FIDO_OK);
	assert_int_equal(fido_assert_count(a), 1);
	verify_assert(a, 0, c);
	assert_int_equal(fido_assert_flags(a, 0) & 0x01, 0x01);
	assert_int_equal(fido_assert_sigcount(a, 0), 1);
	fido_assert_free(&a);

	/* another RP does not know it */
	a = assert_new("example.com", c);
	assert_int_equal(fido_dev_get_assert(dev, a, NULL),
	    FIDO_ERR_NO_CREDENTIALS);
	fido_assert_free(&a);

	/* discoverable: found without an allowList, user handle back */
	a = assert_new("example.org", NULL);
	if (rk) {
		assert_int_equal(fido_dev_get_assert(dev, a, NULL), FIDO_OK);
		assert_int_equal(fido_assert_count(a), 1);
		verify_assert(a, 0, c);
		assert_int_equal(fido_assert_user_id_len(a, 0), sizeof(uid));
		assert_memory_equal(fido_assert_user_id_ptr(a, 0), uid,
		    sizeof(uid));
		assert_int_equal(fido_assert_sigcount(a, 0), 2);
	} else {
		assert_int_equal(fido_dev_get_assert(dev, a, NULL),
		    FIDO_ERR_NO_CREDENTIALS);
	}
	fido_assert_free(&a);
	fido_cred_free(&c);
	dev_close(&dev);
}

static void
es256_nonresident(void **st)
{
	(void)st;
	cred_and_assert(COSE_ES256, 0);
}

static void
es256_resident(void **st)
{
	(void)st;
	cred_and_assert(COSE_ES256, 1);
}

static void
eddsa_nonresident(void **st)
{
	(void)st;
	cred_and_assert(COSE_EDDSA, 0);
}

static void
eddsa_resident(void **st)
{
	(void)st;
	cred_and_assert(COSE_EDDSA, 1);
}

/* several discoverable credentials: GetNextAssertion; the same user
 * handle replaces the earlier one; all survive a restart (--state) */
static void
resident_many_and_restart(void **st)
{
	unsigned char uid[4] = { 9, 9, 9, 0 };
	fido_dev_t *dev = dev_open(0);
	fido_cred_t *c[3];
	fido_assert_t *a;
	int i;

	(void)st;
	for (i = 0; i < 3; i++) {
		uid[3] = (unsigned char)(i == 2 ? 1 : i);
		c[i] = cred_new(COSE_ES256, "many.example", uid, sizeof(uid),
		    1);
		assert_int_equal(make(dev, c[i], NULL), FIDO_OK);
	}
	dev_close(&dev);
	stop_sim();
	start_sim("approve");
	dev = dev_open(0);
	a = assert_new("many.example", NULL);
	assert_int_equal(fido_dev_get_assert(dev, a, NULL), FIDO_OK);
	/* user 1 was replaced by the third credential: two remain, the
	 * newest first */
	assert_int_equal(fido_assert_count(a), 2);
	verify_assert(a, 0, c[2]);
	verify_assert(a, 1, c[0]);
	fido_assert_free(&a);
	for (i = 0; i < 3; i++)
		fido_cred_free(&c[i]);
	dev_close(&dev);
}

static void
exclude_list(void **st)
{
	static const unsigned char uid[] = { 5 };
	fido_dev_t *dev = dev_open(0);
	fido_cred_t *c = cred_new(COSE_ES256, "ex.example", uid, 1, 0);
	fido_cred_t *d = cred_new(COSE_EDDSA, "ex.example", uid, 1, 0);

	(void)st;
	assert_int_equal(make(dev, c, NULL), FIDO_OK);
	assert_int_equal(fido_cred_exclude(d, fido_cred_id_ptr(c),
	    fido_cred_id_len(c)), FIDO_OK);
	assert_int_equal(make(dev, d, NULL), FIDO_ERR_CREDENTIAL_EXCLUDED);
	fido_cred_free(&c);
	fido_cred_free(&d);
	dev_close(&dev);
}

static void
key_store_full(void **st)
{
	unsigned char uid[2] = { 0x51, 0 };
	fido_dev_t *dev = dev_open(0);
	fido_cred_t *c;
	int i;

	(void)st;
	for (i = 0; i < 51; i++) {
		uid[1] = (unsigned char)i;
		c = cred_new(COSE_ES256, "full.example", uid, sizeof(uid), 1);
		assert_int_equal(make(dev, c, NULL), i < 50 ? FIDO_OK :
		    FIDO_ERR_KEY_STORE_FULL);
		fido_cred_free(&c);
	}
	/* the same user handle still fits: it replaces its credential */
	uid[1] = 7;
	c = cred_new(COSE_EDDSA, "full.example", uid, sizeof(uid), 1);
	assert_int_equal(make(dev, c, NULL), FIDO_OK);
	fido_cred_free(&c);
	/* a non-resident one needs no room */
	c = cred_new(COSE_ES256, "full.example", uid, sizeof(uid), 0);
	assert_int_equal(make(dev, c, NULL), FIDO_OK);
	fido_cred_free(&c);
	dev_close(&dev);
}

static void
pin_and_reset(void **st)
{
	static const unsigned char uid[] = { 0x70 };
	fido_dev_t *dev = dev_open(0);
	fido_cred_t *c;
	fido_assert_t *a;
	int retries = -1, i;

	(void)st;
	assert_int_equal(fido_dev_set_pin(dev, "1234", NULL), FIDO_OK);
	/* a PIN cannot be set twice */
	assert_int_equal(fido_dev_set_pin(dev, "5678", NULL),
	    FIDO_ERR_NOT_ALLOWED);
	assert_int_equal(fido_dev_set_pin(dev, "abcd", "1234"), FIDO_OK);
	assert_int_equal(fido_dev_get_retry_count(dev, &retries), FIDO_OK);
	assert_int_equal(retries, 8);

	/* with a PIN set, makeCredential needs it; with it: UV */
	c = cred_new(COSE_ES256, "pin.example", uid, 1, 1);
	assert_int_equal(make(dev, c, NULL), FIDO_ERR_PIN_REQUIRED);
	fido_cred_free(&c);
	c = cred_new(COSE_ES256, "pin.example", uid, 1, 1);
	assert_int_equal(make(dev, c, "abcd"), FIDO_OK);
	assert_int_equal(fido_cred_flags(c) & 0x05, 0x05);
	assert_int_equal(fido_cred_verify_self(c), FIDO_OK);
	a = assert_new("pin.example", NULL);
	assert_int_equal(fido_dev_get_assert(dev, a, "abcd"), FIDO_OK);
	assert_int_equal(fido_assert_flags(a, 0) & 0x05, 0x05);
	verify_assert(a, 0, c);
	assert_string_equal(fido_assert_user_name(a, 0), "alice");
	fido_assert_free(&a);

	/* wrong PINs: 7, 6 left, the third in a row blocks until power
	 * cycle */
	assert_int_equal(fido_dev_set_pin(dev, "efgh", "wxyz"),
	    FIDO_ERR_PIN_INVALID);
	assert_int_equal(fido_dev_get_retry_count(dev, &retries), FIDO_OK);
	assert_int_equal(retries, 7);
	a = assert_new("pin.example", NULL);
	assert_int_equal(fido_dev_get_assert(dev, a, "wxyz"),
	    FIDO_ERR_PIN_INVALID);
	fido_assert_free(&a);
	a = assert_new("pin.example", NULL);
	assert_int_equal(fido_dev_get_assert(dev, a, "wxyz"),
	    FIDO_ERR_PIN_AUTH_BLOCKED);
	fido_assert_free(&a);
	a = assert_new("pin.example", NULL);
	assert_int_equal(fido_dev_get_assert(dev, a, "abcd"),
	    FIDO_ERR_PIN_AUTH_BLOCKED);
	fido_assert_free(&a);
	dev_close(&dev);

	/* a power cycle: the right PIN works again, the count stays */
	stop_sim();
	start_sim("approve");
	dev = dev_open(0);
	assert_int_equal(fido_dev_get_retry_count(dev, &retries), FIDO_OK);
	assert_int_equal(retries, 5);
	a = assert_new("pin.example", NULL);
	assert_int_equal(fido_dev_get_assert(dev, a, "abcd"), FIDO_OK);
	fido_assert_free(&a);
	assert_int_equal(fido_dev_get_retry_count(dev, &retries), FIDO_OK);
	assert_int_equal(retries, 8);

	/* 8 wrong (over power cycles): blocked for good */
	for (i = 0; i < 8; i++) {
		if (i > 0 && i % 2 == 0) {
			dev_close(&dev);
			stop_sim();
			start_sim("approve");
			dev = dev_open(0);
		}
		a = assert_new("pin.example", NULL);
		assert_int_equal(fido_dev_get_assert(dev, a, "nope"),
		    i == 7 ? FIDO_ERR_PIN_BLOCKED : FIDO_ERR_PIN_INVALID);
		fido_assert_free(&a);
	}
	a = assert_new("pin.example", NULL);
	assert_int_equal(fido_dev_get_assert(dev, a, "abcd"),
	    FIDO_ERR_PIN_BLOCKED);
	fido_assert_free(&a);

	/* reset: no PIN, no credentials, the old ID is dead */
	assert_int_equal(fido_dev_reset(dev), FIDO_OK);
	assert_int_equal(fido_dev_get_retry_count(dev, &retries), FIDO_OK);
	assert_int_equal(retries, 8);
	a = assert_new("pin.example", c);
	assert_int_equal(fido_dev_get_assert(dev, a, NULL),
	    FIDO_ERR_NO_CREDENTIALS);
	fido_assert_free(&a);
	fido_cred_free(&c);
	dev_close(&dev);
}

/* a resident credential of "prot.example" with credProtect level prot,
 * made (with pin, if not NULL) and self-verified */
static fido_cred_t *
make_protected(fido_dev_t *dev, int type, unsigned char uid, int prot,
    const char *pin)
{
	fido_cred_t *c = cred_new(type, "prot.example", &uid, 1, 1);

	assert_int_equal(fido_cred_set_prot(c, prot), FIDO_OK);
	assert_int_equal(make(dev, c, pin), FIDO_OK);
	assert_int_equal(fido_cred_prot(c), prot);
	assert_int_equal(fido_cred_verify_self(c), FIDO_OK);
	return c;
}

/* getAssertion of "prot.example" (allowList: allow, if not NULL) */
static int
get_assert_status(fido_dev_t *dev, const fido_cred_t *allow, const char *pin)
{
	fido_assert_t *a = assert_new("prot.example", allow);
	int r = fido_dev_get_assert(dev, a, pin);

	if (r == FIDO_OK && allow != NULL)
		verify_assert(a, 0, allow);
	fido_assert_free(&a);
	return r;
}

/* credProtect as OpenSSH uses it (level 2 for "-O resident", 3 for
 * "-O verify-required"): kept with the credential, enforced on use */
static void
cred_protect(void **st)
{
	fido_dev_t *dev = dev_open(0);
	fido_cred_t *c2, *c3;
	fido_assert_t *a;
	size_t i;

	(void)st;
	assert_true(fido_dev_supports_cred_prot(dev));
	c2 = make_protected(dev, COSE_ES256, 2,
	    FIDO_CRED_PROT_UV_OPTIONAL_WITH_ID, NULL);
	/* not discoverable without UV; by its ID it is */
	assert_int_equal(get_assert_status(dev, NULL, NULL),
	    FIDO_ERR_NO_CREDENTIALS);
	assert_int_equal(get_assert_status(dev, c2, NULL), FIDO_OK);

	/* level 3 needs the PIN to be made useful at all */
	assert_int_equal(fido_dev_set_pin(dev, "1234", NULL), FIDO_OK);
	c3 = make_protected(dev, COSE_EDDSA, 3, FIDO_CRED_PROT_UV_REQUIRED,
	    "1234");
	assert_int_equal(get_assert_status(dev, c3, NULL),
	    FIDO_ERR_NO_CREDENTIALS);
	assert_int_equal(get_assert_status(dev, c3, "1234"), FIDO_OK);
	/* with the PIN both are discovered, newest first, both verify */
	a = assert_new("prot.example", NULL);
	assert_int_equal(fido_dev_get_assert(dev, a, "1234"), FIDO_OK);
	assert_int_equal(fido_assert_count(a), 2);
	for (i = 0; i < 2; i++) {
		assert_int_equal(fido_assert_flags(a, i) & 0x05, 0x05);
		verify_assert(a, i, i == 0 ? c3 : c2);
	}
	fido_assert_free(&a);
	fido_cred_free(&c2);
	fido_cred_free(&c3);
	dev_close(&dev);
}

static void
touch_denied(void **st)
{
	static const unsigned char uid[] = { 0x44 };
	fido_dev_t *dev;
	fido_cred_t *c;

	(void)st;
	stop_sim();
	start_sim("deny");
	dev = dev_open(0);
	c = cred_new(COSE_ES256, "deny.example", uid, 1, 0);
	assert_int_equal(make(dev, c, NULL), FIDO_ERR_OPERATION_DENIED);
	fido_cred_free(&c);
	dev_close(&dev);
}

/* U2F over CTAPHID_MSG: register with the fido-u2f attestation
 * (verified against its certificate), authenticate; and the key
 * handle works in CTAP2 getAssertion, an ES256 CTAP2 credential in U2F */
static void
u2f_round_trip(void **st)
{
	static const unsigned char uid[] = { 0x55 };
	fido_dev_t *dev = dev_open(1);
	fido_cred_t *c, *c2;
	fido_assert_t *a;

	(void)st;
	assert_false(fido_dev_is_fido2(dev));
	c = cred_new(COSE_ES256, "u2f.example", uid, 1, 0);
	assert_int_equal(make(dev, c, NULL), FIDO_OK);
	assert_string_equal(fido_cred_fmt(c), "fido-u2f");
	assert_non_null(fido_cred_x5c_ptr(c));
	assert_int_equal(fido_cred_verify(c), FIDO_OK);
	a = assert_new("u2f.example", c);
	assert_int_equal(fido_dev_get_assert(dev, a, NULL), FIDO_OK);
	verify_assert(a, 0, c);
	assert_int_equal(fido_assert_flags(a, 0) & 0x01, 0x01);
	fido_assert_free(&a);
	/* U2F exclusion: the check-only probe finds the key handle */
	c2 = cred_new(COSE_ES256, "u2f.example", uid, 1, 0);
	assert_int_equal(fido_cred_exclude(c2, fido_cred_id_ptr(c),
	    fido_cred_id_len(c)), FIDO_OK);
	assert_int_equal(make(dev, c2, NULL), FIDO_ERR_CREDENTIAL_EXCLUDED);
	fido_cred_free(&c2);
	dev_close(&dev);

	/* the U2F registration through CTAP2 */
	dev = dev_open(0);
	a = assert_new("u2f.example", c);
	assert_int_equal(fido_dev_get_assert(dev, a, NULL), FIDO_OK);
	verify_assert(a, 0, c);
	fido_assert_free(&a);
	c2 = cred_new(COSE_ES256, "u2f.example", uid, 1, 0);
	assert_int_equal(make(dev, c2, NULL), FIDO_OK);
	dev_close(&dev);

	/* a CTAP2 credential through U2F */
	dev = dev_open(1);
	a = assert_new("u2f.example", c2);
	assert_int_equal(fido_dev_get_assert(dev, a, NULL), FIDO_OK);
	verify_assert(a, 0, c2);
	fido_assert_free(&a);
	fido_cred_free(&c2);
	fido_cred_free(&c);
	dev_close(&dev);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(info, setup, teardown),
		cmocka_unit_test_setup_teardown(es256_nonresident, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(es256_resident, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(eddsa_nonresident, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(eddsa_resident, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(resident_many_and_restart,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(exclude_list, setup, teardown),
		cmocka_unit_test_setup_teardown(key_store_full, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(pin_and_reset, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(cred_protect, setup, teardown),
		cmocka_unit_test_setup_teardown(touch_denied, setup, teardown),
		cmocka_unit_test_setup_teardown(u2f_round_trip, setup,
		    teardown),
	};

	signal(SIGPIPE, SIG_IGN);
	fido_init(0);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
#endif
