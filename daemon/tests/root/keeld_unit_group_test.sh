#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# keeld --group as the shipped unit runs it, without systemd (root): keeld
# runs with only the unit's CapabilityBoundingSet (setpriv, as systemd
# sets it for a root service), the unit's UMask, in a runtime directory
# made with the unit's RuntimeDirectoryMode and owned by root:root, as
# systemd makes /run/keel. keeld must start and give its socket the
# group; a member of the group (as a supplementary group) must reach the
# socket through the directory and be served; anyone else must not be.
# Once set up, keeld runs without CAP_CHOWN.
# In a network namespace of its own, so keeld sees only lo.
#
# usage: keeld_unit_group_test.sh BUILD_DIR UNIT_FILE
# Exit 77 (skipped) without setpriv, unshare or a group named nogroup.
set -u

BUILD=${1:?usage: $0 BUILD_DIR UNIT_FILE}
UNIT=${2:?usage: $0 BUILD_DIR UNIT_FILE}
GROUP=nogroup
WORK=$(mktemp -d)
failed=0
n=0
PID=

cleanup() {
	[ -n "$PID" ] && kill -KILL "$PID" 2> /dev/null
	rm -rf "$WORK"
}
trap cleanup EXIT

for tool in setpriv unshare; do
	command -v "$tool" > /dev/null || { echo "# skip: no $tool"; exit 77; }
done
GID=$(getent group "$GROUP" | cut -d: -f3)
[ -n "$GID" ] || { echo "# skip: no group $GROUP"; exit 77; }

# shellcheck source=./tap.sh
source "$(dirname "$0")/tap.sh"

# The last value of KEY= in the unit.
unit_value() {
	sed -n "s/^$1=//p" "$UNIT" | tail -1
}

# CapabilityBoundingSet=CAP_A CAP_B as setpriv's -all,+a,+b
CAPS=-all
for cap in $(unit_value CapabilityBoundingSet); do
	cap=${cap#CAP_}
	CAPS="$CAPS,+${cap,,}"
done
RUNTIME_MODE=$(unit_value RuntimeDirectoryMode)
UMASK=$(unit_value UMask)
echo "# unit: capabilities $CAPS, runtime directory $RUNTIME_MODE, umask $UMASK"

# What systemd would make: /run (0755) and /run/keel, root:root, with the
# unit's mode. keelctl is copied out of the build directory, which
# another user might not be able to reach.
chmod 0755 "$WORK"
mkdir -m 0755 "$WORK/run"
mkdir -m "${RUNTIME_MODE:-0755}" "$WORK/run/keel"
cp "$BUILD/keelctl" "$WORK/keelctl"
chmod 0755 "$WORK/keelctl"
SOCKET=$WORK/run/keel/keeld.sock

# shellcheck disable=SC2016 # $1 and $@ are sh -c's
unshare -n -- setpriv --bounding-set "$CAPS" --inh-caps -all -- \
	sh -c 'umask "$1"; shift; exec "$@"' sh "${UMASK:-0022}" \
	"$BUILD/keeld" --foreground --socket "$SOCKET" --group "$GROUP" \
	--archive none --metrics none --profiles "$WORK/none" \
	> "$WORK/log" 2>&1 &
PID=$!

started() {
	local i

	for ((i = 0; i < 100; i++)); do
		[ -S "$SOCKET" ] && return 0
		kill -0 "$PID" 2> /dev/null || return 1
		sleep 0.1
	done
	return 1
}

check "keeld starts with --group and the unit's capabilities" started

check "the socket is root:$GROUP, mode 0660" \
	test "$(stat -c %u:%g:%a "$SOCKET" 2> /dev/null)" = "0:$GID:660"

# keelctl as nobody (65534) with gid 4242, and the group as a
# supplementary group (--groups=GID) or not at all (--clear-groups).
as_nobody() {
	local groups=$1

	shift
	setpriv --reuid 65534 --regid 4242 "$groups" --inh-caps -all -- \
		timeout 10 "$WORK/keelctl" --socket "$SOCKET" "$@"
}

served() {
	as_nobody "--groups=$GID" status > "$WORK/out" 2>&1 ||
		{ sed 's/^/#   /' "$WORK/out"; return 1; }
}
check "a member of $GROUP (supplementary group) is served" served

refused() {
	! as_nobody --clear-groups status > "$WORK/out" 2>&1
}
check "anyone else is refused" refused

# CAP_CHOWN is for the socket only: gone from keeld once it is set up.
# (The check above waited for an answer: keeld is set up by now.)
cap_chown_dropped() {
	local set mask

	for set in CapEff CapPrm; do
		mask=$(sed -n "s/^$set:\t*//p" "/proc/$PID/status" 2> /dev/null)
		[ -n "$mask" ] && (((0x$mask & 1) == 0)) || return 1
	done
}
check "keeld runs without CAP_CHOWN once the socket is made" \
	cap_chown_dropped

kill -TERM "$PID" 2> /dev/null
wait "$PID" 2> /dev/null
PID=

echo "# $failed of $n failed"
[ "$failed" -eq 0 ]
