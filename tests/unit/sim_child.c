/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* openloop-sim as a child process of a unit test (sim_child.h) */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sim_child.h"
#include "timeutil.h"

#define SIM_ARGS_MAX 16

int
sim_child_accepting(const char *sock)
{
	struct sockaddr_un sa;
	int fd, ok;

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (strlen(sock) >= sizeof(sa.sun_path))
		return 0;
	memcpy(sa.sun_path, sock, strlen(sock));
	if ((fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0)) < 0)
		return 0;
	ok = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
	close(fd);
	return ok;
}

pid_t
sim_child_start(const char *sock, const char *const argv[])
{
	const char *args[SIM_ARGS_MAX + 4];
	size_t n = 0, i;
	pid_t pid;

	args[n++] = "openloop-sim";
	args[n++] = "--socket";
	args[n++] = sock;
	for (i = 0; argv != NULL && argv[i] != NULL; i++) {
		if (i == SIM_ARGS_MAX)
			return -1;
		args[n++] = argv[i];
	}
	args[n] = NULL;
	if ((pid = fork()) < 0)
		return -1;
	if (pid == 0) {
		if (getenv("OL_TEST_SIM_VERBOSE") == NULL &&
		    freopen("/dev/null", "w", stderr) == NULL)
			_exit(126);
		execv(OPENLOOP_SIM, (char *const *)args);
		_exit(127);
	}
	for (i = 0; i < 250 && !sim_child_accepting(sock); i++)
		ol_sleep_ms(20);
	if (!sim_child_accepting(sock))
		sim_child_stop(&pid);
	return pid;
}

void
sim_child_stop(pid_t *pid)
{
	if (*pid <= 0)
		return;
	kill(*pid, SIGTERM);
	waitpid(*pid, NULL, 0);
	*pid = -1;
}
