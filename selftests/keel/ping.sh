#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# ICMP over IPv4 and IPv6, both directions, counted at both ends.

# shellcheck source=./lib.sh
source "$(dirname "$0")/lib.sh"

# check_ping DIRECTION: 20 echo requests; the sender's TX and the
# receiver's RX counters must both move by at least that much.
test_ping4_a_to_b() {
	local tx0 rx0

	tx0=$(stat "$NETIF" tx_packets)
	rx0=$(peer_stat rx_packets)
	ping -c 20 -i 0.05 -w 10 "$REMOTE_V4" || fail "ping lost packets"
	[ $(($(stat "$NETIF" tx_packets) - tx0)) -ge 20 ] || fail "tx_packets"
	[ $(($(peer_stat rx_packets) - rx0)) -ge 20 ] || fail "peer rx_packets"
}

test_ping4_b_to_a() {
	local rx0

	rx0=$(stat "$NETIF" rx_packets)
	peer ping -c 20 -i 0.05 -w 10 "$LOCAL_V4" || fail "ping lost packets"
	[ $(($(stat "$NETIF" rx_packets) - rx0)) -ge 20 ] || fail "rx_packets"
}

test_ping6_a_to_b() {
	ping -6 -c 20 -i 0.05 -w 10 "$REMOTE_V6" || fail "ping6 lost packets"
}

test_ping6_b_to_a() {
	peer ping -6 -c 20 -i 0.05 -w 10 "$LOCAL_V6" ||
		fail "ping6 lost packets"
}

test_ping_sizes() {
	local s

	# Every size around the minimum frame and up to the MTU
	for s in 0 1 17 18 19 64 512 1000 1472; do
		ping -c 1 -w 3 -M "do" -s "$s" "$REMOTE_V4" > /dev/null ||
			fail "size $s lost"
	done
}

test_flood() {
	# Many small packets at once: BQL, queue stop/wake and refill
	ping -f -c 2000 -w 30 "$REMOTE_V4" | tail -n 2
	[ "${PIPESTATUS[0]}" -eq 0 ] || fail "flood ping lost packets"
}

ktap_run test_ping4_a_to_b test_ping4_b_to_a test_ping6_a_to_b \
	test_ping6_b_to_a test_ping_sizes test_flood
