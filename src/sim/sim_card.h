/*
 * ifd-openloop simulator: the card behind the CTAPHID vendor command 0x70.
 *
 * sim_card_apdu() takes one ISO 7816-4 command APDU and returns
 * response data || SW1 SW2.  Today the card knows SELECT (every AID is
 * unknown: 6A82) and GET CHALLENGE; the PIV applet will be added inside
 * sim_card.c behind the same call.  See docs/simulator.md.
 *
 * Threads: the CTAPHID layer runs sim_card_apdu() on a worker thread, one
 * APDU at a time, and meanwhile calls sim_card_status() and
 * sim_card_cancel() from its own thread.  A command that must wait for a
 * touch (a later --touch option) sets the status to SIM_CARD_UPNEEDED,
 * waits until touched or cancelled, and answers 6982 when cancelled.
 */
#ifndef OL_SIM_CARD_H
#define OL_SIM_CARD_H

#include <stddef.h>
#include <stdint.h>

/* Processing and user-presence equal the CTAPHID keepalive status codes
 * on purpose: the transport copies them into KEEPALIVE packets. */
enum sim_card_status {
	SIM_CARD_IDLE = 0,
	SIM_CARD_PROCESSING = 1,
	SIM_CARD_UPNEEDED = 2,
};

#define SIM_SW_OK                 0x9000
#define SIM_SW_WRONG_LENGTH       0x6700
#define SIM_SW_SECURITY_STATUS    0x6982 /* also: cancelled by the host */
#define SIM_SW_CHAINING_UNSUPP    0x6884
#define SIM_SW_FILE_NOT_FOUND     0x6a82
#define SIM_SW_INCORRECT_P1P2     0x6a86
#define SIM_SW_INS_NOT_SUPPORTED  0x6d00
#define SIM_SW_CLA_NOT_SUPPORTED  0x6e00
#define SIM_SW_UNKNOWN            0x6f00

#define SIM_CLA_CHAINING 0x10

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

int sim_card_new(sim_card_t **out);
void sim_card_free(sim_card_t **card);

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
};

extern const struct sim_card_ops sim_card_ops;

#endif
