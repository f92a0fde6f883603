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

# uc_mac N: the MAC of the Nth macvlan of test_uc_overflow
uc_mac() {
	printf '02:4b:45:01:00:%02x' "$1"
}

# add_uc N: a macvlan with uc_mac N, up (its MAC joins keel's unicast
# list); no IPv6 on it, so that it joins no multicast group
add_uc() {
	ip link add link "$NETIF" name "kmu$1" address "$(uc_mac "$1")" \
		type macvlan || return 1
	ip link set "kmu$1" addrgenmode none
	ip link set "kmu$1" up
}

# RAR0 holds the port's address and RAR1-23 the unicast list: 23 extra
# addresses are filtered exactly, a 24th turns unicast promiscuous mode
# on (RCTL.UPE, without IFF_PROMISC), and removing it turns it off.
test_uc_overflow() {
	local i n

	for i in $(seq 1 24); do
		defer ip link del "kmu$i" 2> /dev/null
	done
	for i in $(seq 1 23); do
		add_uc "$i" || { fail "cannot add macvlan $i"; return; }
	done
	n=$(rx_frames "$(uc_mac 23)") || { fail "frames not sent"; return; }
	[ "$n" -eq 20 ] || fail "23 addresses: $n of 20 frames to the 23rd"
	n=$(rx_frames "$FOREIGN") || { fail "frames not sent"; return; }
	[ "$n" -eq 0 ] || fail "23 addresses: $n frames to a foreign MAC"
	add_uc 24 || { fail "cannot add macvlan 24"; return; }
	n=$(rx_frames "$(uc_mac 24)") || { fail "frames not sent"; return; }
	[ "$n" -eq 20 ] || fail "24 addresses: $n of 20 frames to the 24th"
	n=$(rx_frames "$FOREIGN") || { fail "frames not sent"; return; }
	[ "$n" -eq 20 ] ||
		fail "24 addresses: $n of 20 frames to a foreign MAC (no overflow to promiscuous)"
	ip link show "$NETIF" | grep -q PROMISC && fail "IFF_PROMISC set"
	ip link del kmu24
	n=$(rx_frames "$FOREIGN") || { fail "frames not sent"; return; }
	[ "$n" -eq 0 ] || fail "back to 23: $n frames to a foreign MAC"
	n=$(rx_frames "$(uc_mac 1)") || { fail "frames not sent"; return; }
	[ "$n" -eq 20 ] || fail "back to 23: $n of 20 frames to the first"
}

ktap_run test_own_mac test_foreign_dropped test_promisc_receives \
	test_promisc_off_again test_secondary_unicast test_uc_overflow
