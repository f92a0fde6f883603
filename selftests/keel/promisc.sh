#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Unicast filtering: frames to a foreign MAC are dropped by the device
# unless the port is promiscuous; secondary unicast addresses are
# accepted through the receive address registers.

# shellcheck source=./lib.sh
source "$(dirname "$0")/lib.sh"

FOREIGN=02:4b:45:00:00:99

test_own_mac() {
	local n

	n=$(rx_frames "$(cat "/sys/class/net/$NETIF/address")") ||
		{ fail "frames not sent or not counted"; return; }
	[ "$n" -eq 20 ] || fail "$n of 20 frames to our MAC received"
}

test_foreign_dropped() {
	local n

	n=$(rx_frames "$FOREIGN") ||
		{ fail "frames not sent or not counted"; return; }
	[ "$n" -eq 0 ] || fail "$n frames to a foreign MAC received"
}

test_promisc_receives() {
	local n

	ip link set "$NETIF" promisc on
	defer ip link set "$NETIF" promisc off
	n=$(rx_frames "$FOREIGN") ||
		{ fail "frames not sent or not counted"; return; }
	[ "$n" -eq 20 ] || fail "promiscuous: $n of 20 frames received"
}

test_promisc_off_again() {
	local n

	ip link set "$NETIF" promisc on
	ip link set "$NETIF" promisc off
	n=$(rx_frames "$FOREIGN") ||
		{ fail "frames not sent or not counted"; return; }
	[ "$n" -eq 0 ] || fail "$n frames received after promisc off"
}

test_secondary_unicast() {
	local n

	# A macvlan in passthru-free bridge mode adds its MAC to our list
	ip link add link "$NETIF" name kmv0 address "$FOREIGN" type macvlan
	defer ip link del kmv0
	ip link set kmv0 up
	n=$(rx_frames "$FOREIGN") ||
		{ fail "frames not sent or not counted"; return; }
	[ "$n" -eq 20 ] || fail "secondary address: $n of 20 received"
	ip link show "$NETIF" | grep -q PROMISC && fail "fell back to promisc"
	return 0
}

ktap_run test_own_mac test_foreign_dropped test_promisc_receives \
	test_promisc_off_again test_secondary_unicast
