/*
 * ifd-openloop simulator: the card behind the CTAPHID vendor command 0x70.
 *
 * sim_card_apdu() takes one ISO 7816-4 command APDU and returns
 * response data || SW1 SW2.  The card knows SELECT, GET CHALLENGE and GET
 * RESPONSE, assembles command chaining (CLA 10) and splits long responses
 * (61xx) for its applets; the one applet is PIV (piv_applet.c).  See
 * docs/simulator.md.
 *
 * Threads: the CTAPHID layer runs sim_card_apdu() on a worker thread, one
 * APDU at a time, and meanwhile calls sim_card_status() and
 * sim_card_cancel() from its own thread.  A command that must wait for a
 * touch (sim_card_wait_touch(), as --touch says) sets the status to
 * SIM_CARD_UPNEEDED, waits until touched or cancelled, and answers 6982
 * when cancelled or denied.
 */
#ifndef OL_SIM_CARD_H
#define OL_SIM_CARD_H

#include <stddef.h>
#include <stdint.h>

struct piv_state;

/* Processing and user-presence equal the CTAPHID keepalive status codes
 * on purpose: the transport copies them into KEEPALIVE packets. */
enum sim_card_status {
	SIM_CARD_IDLE = 0,
	SIM_CARD_PROCESSING = 1,
	SIM_CARD_UPNEEDED = 2,
};

#define SIM_SW_OK                 0x9000
#define SIM_SW_PINPAD_CANCELLED   0x6401 /* PC/SC part 10: user cancelled */
#define SIM_SW_BYTES_REMAINING    0x6100 /* | bytes left, 00 = 256 or more */
#define SIM_SW_VERIFY_FAIL        0x63c0 /* | tries left */
#define SIM_SW_MEMORY_FAILURE     0x6581
#define SIM_SW_WRONG_LENGTH       0x6700
#define SIM_SW_CHAINING_UNSUPP    0x6884
#define SIM_SW_SECURITY_STATUS    0x6982 /* also: cancelled by the host */
#define SIM_SW_AUTH_BLOCKED       0x6983
#define SIM_SW_CONDITIONS         0x6985
#define SIM_SW_WRONG_DATA         0x6a80
#define SIM_SW_FUNC_NOT_SUPPORTED 0x6a81
#define SIM_SW_FILE_NOT_FOUND     0x6a82
#define SIM_SW_NOT_ENOUGH_MEMORY  0x6a84
#define SIM_SW_INCORRECT_P1P2     0x6a86
#define SIM_SW_REF_NOT_FOUND      0x6a88
#define SIM_SW_INS_NOT_SUPPORTED  0x6d00
#define SIM_SW_CLA_NOT_SUPPORTED  0x6e00
#define SIM_SW_UNKNOWN            0x6f00

#define SIM_CLA_CHAINING 0x10

#define SIM_CHAIN_MAX  8192  /* command data a chain may accumulate */
#define SIM_RESP_MAX   8192  /* response data an applet may produce */
#define SIM_DEFAULT_SERIAL "OL0000000001"

/* What the simulated user does when the device asks for a touch. */
enum sim_touch_mode {
	SIM_TOUCH_APPROVE,   /* at once */
	SIM_TOUCH_AFTER,     /* approve after touch_ms */
	SIM_TOUCH_DENY,      /* deny after SIM_TOUCH_DENY_MS (reading the screen) */
	SIM_TOUCH_NEVER,     /* nobody there: wait until the host cancels */
};

#define SIM_TOUCH_DEFAULT_MS 500
#define SIM_TOUCH_DENY_MS    200
#define SIM_TOUCH_MAX_MS     600000

enum sim_touch_result {
	SIM_TOUCH_APPROVED,
	SIM_TOUCH_DENIED,
	SIM_TOUCH_CANCELLED,  /* sim_card_cancel() during the wait */
};

struct sim_card_config {
	enum sim_touch_mode touch;
	int touch_ms;                   /* for SIM_TOUCH_AFTER */
	/* the PIV applet's persistent state at start (copied); NULL: a
	 * fresh model C device with serial SIM_DEFAULT_SERIAL */
	const struct piv_state *piv;
	/* where the PIV applet saves its state after every change; NULL:
	 * nowhere (the state lives as long as the card) */
	const char *piv_state_path;
};

/* Where an applet writes response data; the card sends it in pieces. */
struct sim_resp {
	uint8_t *buf;
	size_t cap;
	size_t len;
};

/* A parsed command APDU (ISO 7816-4 section 5.1); data points into the
 * caller's buffer. */
struct sim_apdu {
	uint8_t cla, ins, p1, p2;
	const uint8_t *data;
	size_t lc;       /* Nc: 0 when there is no command data */
	size_t ne;       /* Ne: 0 when there is no Le field, else 1..65536 */
	int extended;    /* length fields were extended (3 or 2 bytes) */
};

/* OL_OK, or OL_ERR_PROTOCOL when len matches none of the seven cases
 * (the card answers that with 6700). */
int sim_apdu_parse(const uint8_t *buf, size_t len, struct sim_apdu *apdu);

typedef struct sim_card sim_card_t;

/* The defaults: touch approved after SIM_TOUCH_DEFAULT_MS, a fresh PIV
 * applet, no state file. */
void sim_card_config_init(struct sim_card_config *cfg);
int sim_card_new_config(const struct sim_card_config *cfg, sim_card_t **out);
int sim_card_new(sim_card_t **out);  /* with the defaults */
void sim_card_free(sim_card_t **card);

/* A new session, as after a card reset: no applet selected, chaining and
 * pending response data dropped, the applets' security state (verified
 * PIN, management key) forgotten.  Never while an APDU runs. */
void sim_card_reset(sim_card_t *card);

/*
 * Runs one command APDU.  rapdu receives data || SW1 SW2 and *rapdu_len
 * its length; data is cut so that it and the SW fit in rapdu_cap.
 * Returns OL_OK whenever there is a response (errors of the APDU are
 * status words); OL_ERR_ARG for NULL pointers or rapdu_cap < 2.
 */
int sim_card_apdu(sim_card_t *card, const uint8_t *capdu, size_t capdu_len,
    uint8_t *rapdu, size_t rapdu_cap, size_t *rapdu_len);

/* Any thread: what the card is doing now (idle, processing, waiting for
 * a touch). */
enum sim_card_status sim_card_status(sim_card_t *card);

/* Any thread: asks the running APDU to give up as soon as it can (a
 * pending touch wait ends with 6982).  Sticky until sim_card_arm(). */
void sim_card_cancel(sim_card_t *card);

/* Called before an APDU is handed to the worker, never while one runs:
 * forgets an earlier cancel.  Separate from sim_card_apdu() so that a
 * CANCEL arriving before the worker starts is not lost. */
void sim_card_arm(sim_card_t *card);

/*
 * For applets, inside sim_card_apdu(): the user presence check.  Shows
 * SIM_CARD_UPNEEDED through sim_card_status() while it waits, and
 * returns as --touch decides, or SIM_TOUCH_CANCELLED as soon as
 * sim_card_cancel() is called.
 */
enum sim_touch_result sim_card_wait_touch(sim_card_t *card);

/*
 * What the CTAPHID layer needs from a card.  sim_card_ops wraps the
 * functions above (card = sim_card_t *); tests substitute a fake card,
 * e.g. one that waits for a touch.
 */
struct sim_card_ops {
	int (*apdu)(void *card, const uint8_t *capdu, size_t capdu_len,
	    uint8_t *rapdu, size_t rapdu_cap, size_t *rapdu_len);
	enum sim_card_status (*status)(void *card);
	void (*cancel)(void *card);
	void (*arm)(void *card);
	/* optional (NULL: none): a new session begins, see sim_card_reset();
	 * called before the first APDU of a channel, never while one runs */
	void (*reset)(void *card);
};

extern const struct sim_card_ops sim_card_ops;

#endif
