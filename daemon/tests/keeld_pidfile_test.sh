#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# keeld --pidfile that cannot be written is a failed start (exit status
# 1 and why), in the foreground and detached, where the parent writes the
# child's pid before it exits and stops the child if it cannot; one that
# can be written holds the daemon's pid. No root needed: keeld runs with
# its socket, profiles and archive in a temporary directory.
#
# Usage: keeld_pidfile_test.sh BUILD_DIR
set -u

KEELD=$1/keeld
T=$(mktemp -d)
trap 'kill $(cat "$T/ok.pid" 2>/dev/null) 2>/dev/null; rm -rf "$T"' EXIT
mkdir "$T/profiles"
rc=0

keeld() {
	timeout -s KILL 20 "$KEELD" --socket "$T/keeld.sock" \
		--profiles "$T/profiles" --archive none --metrics none "$@"
}

expect_failed_start() {
	local what=$1 out status

	shift
	out=$(keeld "$@" 2>&1)
	status=$?
	if [ "$status" -ne 1 ] || ! grep -q "pidfile $T/none/keeld.pid" <<<"$out"; then
		echo "not ok: $what: exit $status, said: $out"
		rc=1
		return
	fi
	# Nothing left running: the socket is gone with its daemon.
	sleep 0.5
	if [ -S "$T/keeld.sock" ]; then
		echo "not ok: $what: a keeld still listens after the failed start"
		rc=1
		return
	fi
	echo "ok: $what: $out"
}

expect_failed_start "foreground, pidfile in a missing directory" \
	--foreground --pidfile "$T/none/keeld.pid"
expect_failed_start "detached, pidfile in a missing directory" \
	--pidfile "$T/none/keeld.pid"

# Positive control: the same start with a writable pidfile runs, and the
# file holds the pid of the daemon that serves the socket.
if ! keeld --pidfile "$T/ok.pid"; then
	echo "not ok: detached start with a writable pidfile failed"
	exit 1
fi
pid=$(cat "$T/ok.pid")
for _ in $(seq 50); do
	[ -S "$T/keeld.sock" ] && break
	sleep 0.1
done
if [ -S "$T/keeld.sock" ] && [ -d "/proc/$pid" ] &&
	[ "$(readlink "/proc/$pid/exe")" = "$(readlink -f "$KEELD")" ]; then
	echo "ok: pidfile holds the running daemon's pid $pid"
else
	echo "not ok: pidfile says '$pid', socket $(ls "$T")"
	rc=1
fi
# A detached keeld stops on SIGTERM (it did not: its epoll watched the
# signalfd through the parent's signal queue), and removes its pidfile.
kill "$pid" 2>/dev/null
for _ in $(seq 100); do
	[ -d "/proc/$pid" ] || break
	sleep 0.1
done
if [ -d "/proc/$pid" ]; then
	echo "not ok: the detached keeld $pid still runs 10 s after SIGTERM"
	kill -KILL "$pid"
	rc=1
elif [ -e "$T/ok.pid" ]; then
	echo "not ok: the detached keeld left its pidfile behind"
	rc=1
else
	echo "ok: the detached keeld stopped on SIGTERM"
fi
exit $rc
