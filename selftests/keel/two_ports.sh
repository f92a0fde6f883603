#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Two keel ports at once: port B, the peer's, moves from igb to keel
# (scripts/guest-net up --peer-driver keel), so that keel drives both
# ends of the link. Each port has its own netdev, interrupts, devlink
# instance and queues, and TCP flows between them both ways. The peer
# goes back to igb at the end, as the other programs expect it.

# shellcheck source=./lib.sh
source "$(dirname "$0")/lib.sh"

PEER_BDF=0000:02:00.0
GUEST_NET=$REPO/scripts/guest-net

test_two_ports() {
	local n sent recv

	defer "$GUEST_NET up > /dev/null"
	defer "$GUEST_NET down"
	"$GUEST_NET" down
	"$GUEST_NET" up --peer-driver keel ||
		{ fail "guest-net cannot bring up keel on both ports"; return; }
	# shellcheck source=/dev/null
	. "$KEEL_ENV"
	[ "$(basename "$(readlink "/sys/bus/pci/devices/$PEER_BDF/driver")")" = keel ] ||
		{ fail "$PEER_BDF is not bound to keel"; return; }
	peer ethtool -i "$PEER_IF" | grep -qx "driver: keel" ||
		fail "the peer's netdev is not keel's"
	n=$(devlink dev show | grep -cE "^pci/($KEEL_BDF|$PEER_BDF)$")
	[ "$n" -eq 2 ] || fail "$n keel devlink instances, not 2"
	# Each port its own vectors: one for other causes, one per queue pair
	grep -E -- "-(TxRx-[0-9]+|other)\$" /proc/interrupts |
		awk '{print $1, $NF}'
	[ "$(grep -cE "[[:space:]]$NETIF-other\$" /proc/interrupts)" -eq 1 ] ||
		fail "port A has no other-causes vector of its own"
	[ "$(grep -cE "[[:space:]]$PEER_IF-other\$" /proc/interrupts)" -eq 1 ] ||
		fail "port B has no other-causes vector of its own"
	ping -c 3 -w 10 "$REMOTE_V4" > /dev/null || fail "no ping from A to B"
	peer ping -c 3 -w 10 "$LOCAL_V4" > /dev/null || fail "no ping from B to A"
	sent=$(iperf_bytes) || { fail "no iperf3 server"; return; }
	recv=$(iperf_bytes -R) || { fail "no iperf3 server"; return; }
	echo "keel to keel: $sent bytes A to B, $recv bytes B to A in 3 s each"
	[ "$sent" -gt $((10 * 1000 * 1000)) ] || fail "only $sent bytes A to B"
	[ "$recv" -gt $((10 * 1000 * 1000)) ] || fail "only $recv bytes B to A"
	n=$(peer "$PY" "$QSTATS_PY" "$PEER_IF" |
		jq -r 'select(.["queue-type"] == "dev") | .["rx-packets"] // 0')
	[ "${n:-0}" -gt 0 ] || fail "port B's queue statistics counted nothing"
}

ktap_run test_two_ports
