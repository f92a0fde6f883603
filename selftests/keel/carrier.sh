#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Carrier and link settings as the driver reports them from STATUS.

# shellcheck source=./lib.sh
source "$(dirname "$0")/lib.sh"

test_carrier_up() {
	wait_for 5 carrier_is 1 || fail "no carrier"
	[ "$(cat "/sys/class/net/$NETIF/operstate")" = up ] ||
		fail "operstate is not up"
}

test_link_settings() {
	local out

	out=$(ethtool "$NETIF") || fail "ethtool failed"
	echo "$out"
	grep -q "Speed: 1000Mb/s" <<< "$out" || fail "speed"
	grep -q "Duplex: Full" <<< "$out" || fail "duplex"
	grep -q "Link detected: yes" <<< "$out" || fail "link"
	grep -q "Port: Twisted Pair" <<< "$out" || fail "port"
}

test_down_up() {
	ip link set "$NETIF" down
	carrier_is 1 && fail "carrier while down"
	ip link set "$NETIF" up
	wait_for 10 carrier_is 1 || fail "no carrier after up"
	ping -c 2 -w 10 "$REMOTE_V4" || fail "no traffic after down/up"
}

test_stats_survive_down_up() {
	local before after

	ping -c 3 -i 0.2 "$REMOTE_V4" > /dev/null
	before=$(stat "$NETIF" rx_packets)
	ip link set "$NETIF" down
	ip link set "$NETIF" up
	after=$(stat "$NETIF" rx_packets)
	echo "rx_packets $before -> $after"
	[ "$before" -gt 0 ] || fail "no packets counted before down"
	[ "$after" -ge "$before" ] ||
		fail "counters went backwards across down/up"
	wait_for 10 carrier_is 1
}

ktap_run test_carrier_up test_link_settings test_down_up \
	test_stats_survive_down_up
