/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Injected faults, for the robustness tests (docs/robustness.md).  A test
 * writes a fault into the control file (openloop-sim --fault-control
 * PATH); the device takes it, removes the file, and applies it to the
 * next APDU it receives.  Only the test tools use this.
 */
#ifndef OL_SIM_FAULT_H
#define OL_SIM_FAULT_H

#define SIM_FAULT_LATE      0x001 /* reply held, silent, until the next
                                   * request on that channel (or ms) */
#define SIM_FAULT_MUTE      0x002 /* no reply, no keepalive, for ms;
                                   * then the reply is dropped */
#define SIM_FAULT_NOISE     0x004 /* while held: another channel's
                                   * report every millisecond */
#define SIM_FAULT_BUSY      0x008 /* CHANNEL_BUSY to every request for ms */
#define SIM_FAULT_KEEPALIVE 0x010 /* keepalives until CANCEL */
#define SIM_FAULT_TRUNCATE  0x020 /* BCNT says more than is sent */
#define SIM_FAULT_DROPCONT  0x040 /* the first continuation goes missing
                                   * (a SEQ gap) */
#define SIM_FAULT_HUGE      0x080 /* BCNT beyond CTAPHID's 7609 bytes */
#define SIM_FAULT_EXTRA     0x100 /* continuation packets past the end */
#define SIM_FAULT_REBOOT    0x200 /* ERROR INVALID_CHANNEL: every channel
                                   * and the card session are forgotten */
#define SIM_FAULT_UNPLUG    0x400 /* the process exits half-way through
                                   * sending the reply */

#define SIM_FAULT_DEFAULT_MS 4000

struct sim_fault {
	unsigned kinds;
	int ms;
	int after;   /* "after:N": the fault waits for N more APDUs first */
};

/* "late:4000,noise" -> kinds and ms, "reboot,after:1" -> the second
 * APDU from now.  0, or -1 on an unknown word. */
int sim_fault_parse(const char *text, struct sim_fault *f);

/* If PATH exists: reads it, removes it, parses it into f.  1 when a fault
 * was taken, 0 when there is none (or it could not be parsed: logged). */
int sim_fault_take(const char *path, struct sim_fault *f);

/* The kind names, comma separated, for logs. */
const char *sim_fault_names(unsigned kinds, char *buf, size_t len);

#endif
