# SPDX-License-Identifier: LGPL-2.1-or-later
# A real sshd on 127.0.0.1 for the ssh tests (test-piv-ssh, -matrix,
# test-vendor-guide): its own config, port, host key and log under
# $SSHD_DIR, public-key authentication only, root allowed.  Source it
# after lib.sh; the caller sets SSHD_DIR.
#
# sshd_setup PORT_BASE  the directory, a host key, empty authorized_keys
#                       and log; PORT_BASE is where free_port starts
# sshd_start            starts sshd (pid in SSHD_PID, in OL_PIDS), waits
#                       until it listens on $SSH_PORT
# authorize KEY...      authorized_keys := the given lines
# sshd_mark             the log's length, for sshd_log_since
# sshd_log_since MARK   what sshd logged after MARK

sshd_setup() {
	SSHD_PORT_BASE=$1
	# The privilege-separation directory sshd insists on (/run/sshd, made
	# by openssh-server's systemd unit, absent in containers): created if
	# missing, root-owned 0755 as sshd requires; it stays empty.
	[ -d /run/sshd ] || mkdir -m 0755 /run/sshd
	mkdir -p "$SSHD_DIR"
	ssh-keygen -q -t ed25519 -N '' -C openloop-test-host \
		-f "$SSHD_DIR/host_ed25519" || return 1
	: >"$SSHD_DIR/authorized_keys"
	: >"$SSHD_DIR/sshd.log"
}

sshd_start() {
	SSH_PORT=$(free_port "$SSHD_PORT_BASE") || { echo "no free port"; return 1; }
	cat >"$SSHD_DIR/sshd_config" <<CONF
Port $SSH_PORT
ListenAddress 127.0.0.1
HostKey $SSHD_DIR/host_ed25519
PidFile $SSHD_DIR/sshd.pid
AuthorizedKeysFile $SSHD_DIR/authorized_keys
StrictModes no
UsePAM no
PasswordAuthentication no
KbdInteractiveAuthentication no
PubkeyAuthentication yes
AuthenticationMethods publickey
PermitRootLogin prohibit-password
LogLevel VERBOSE
CONF
	/usr/sbin/sshd -t -f "$SSHD_DIR/sshd_config" || return 1
	/usr/sbin/sshd -D -e -f "$SSHD_DIR/sshd_config" \
		>>"$SSHD_DIR/sshd.log" 2>&1 </dev/null &
	SSHD_PID=$!
	OL_PIDS="$OL_PIDS $SSHD_PID"
	for _i in $(seq 50); do
		grep -q "Server listening on 127.0.0.1 port $SSH_PORT" "$SSHD_DIR/sshd.log" && return 0
		kill -0 "$SSHD_PID" 2>/dev/null || break
		sleep 0.1
	done
	echo "sshd did not start:"; cat "$SSHD_DIR/sshd.log"
	return 1
}

authorize() { printf '%s\n' "$@" >"$SSHD_DIR/authorized_keys"; }
sshd_mark() { wc -l <"$SSHD_DIR/sshd.log"; }
sshd_log_since() { tail -n +"$(($1 + 1))" "$SSHD_DIR/sshd.log"; }
