/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Unit tests that need a real openloop-sim (the program the build made,
 * OPENLOOP_SIM) start it as a child on a socket and wait until it
 * accepts, not only until the socket file exists: the simulator binds,
 * writes its files, then listens, and on a loaded machine those are far
 * apart.
 */
#ifndef OL_TEST_SIM_CHILD_H
#define OL_TEST_SIM_CHILD_H

#include <sys/types.h>

/* 1 if a SOCK_SEQPACKET connect to sock succeeds */
int sim_child_accepting(const char *sock);

/*
 * Starts OPENLOOP_SIM --socket sock ARGS... (argv: the further
 * arguments, NULL-terminated; NULL for none), its stderr to /dev/null
 * unless OL_TEST_SIM_VERBOSE is set, and waits up to 5 s for it to
 * accept.  Its pid, or -1 (fork failed, or it never accepted: then it is
 * stopped again).
 */
pid_t sim_child_start(const char *sock, const char *const argv[]);

/* SIGTERM and wait; *pid becomes -1.  Nothing for a pid <= 0. */
void sim_child_stop(pid_t *pid);

#endif
