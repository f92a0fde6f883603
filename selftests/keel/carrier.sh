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
	# Read from the PHY: what it advertises (no pause: flow control
	# is off) and, the link being up, what the partner advertised
	grep -q "Advertised pause frame use: No" <<< "$out" ||
		fail "pause advertised although flow control is off"
	grep -q "Advertised auto-negotiation: Yes" <<< "$out" ||
		fail "autonegotiation not advertised"
	grep -A3 "Link partner advertised link modes:" <<< "$out" |
		grep -q "1000baseT/Full" || fail "no link partner modes"
	grep -q "MDIO" <<< "$out" && fail "MDIO access claimed"
	out=$(ethtool -a "$NETIF") || { fail "ethtool -a failed"; return; }
	echo "$out"
	grep -qx "RX:[[:space:]]*off" <<< "$out" || fail "RX pause not off"
	grep -qx "TX:[[:space:]]*off" <<< "$out" || fail "TX pause not off"
}

test_down_up() {
	local downs ups

	wait_for 5 carrier_is 1 || { fail "no carrier before down"; return; }
	downs=$(carrier_count down)
	ip link set "$NETIF" down
	ups=$(carrier_count up)
	echo "carrier down count $downs -> $(carrier_count down)"
	[ "$(carrier_count down)" -eq $((downs + 1)) ] ||
		fail "carrier not dropped by down"
	sleep 1
	[ "$(carrier_count up)" -eq "$ups" ] || fail "carrier up while down"
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
