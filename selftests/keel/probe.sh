#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Probe: keel owns NIC A, took its MAC from the EEPROM and reports itself
# through ethtool -i; the in-tree igb did not claim the port.

# shellcheck source=./lib.sh
source "$(dirname "$0")/lib.sh"

EEPROM_MAC=52:54:00:4b:45:01

test_bound() {
	local drv

	drv=$(basename "$(readlink "/sys/bus/pci/devices/$KEEL_BDF/driver")")
	[ "$drv" = keel ] || fail "$KEEL_BDF is bound to '$drv'"
}

test_mac_from_eeprom() {
	local mac perm

	mac=$(cat "/sys/class/net/$NETIF/address")
	[ "$mac" = "$EEPROM_MAC" ] || fail "MAC $mac, EEPROM has $EEPROM_MAC"
	perm=$(ethtool -P "$NETIF" | awk '{print $3}')
	[ "$perm" = "$EEPROM_MAC" ] || fail "permanent address $perm"
}

test_drvinfo() {
	local info

	info=$(ethtool -i "$NETIF") || fail "ethtool -i failed"
	echo "$info"
	grep -qx "driver: keel" <<< "$info" || fail "driver name"
	grep -qx "bus-info: $KEEL_BDF" <<< "$info" || fail "bus-info"
	grep -qx "version: $(uname -r)" <<< "$info" || fail "version"
}

test_msix_vectors() {
	local n

	# One vector for the queue pair, one for link and other causes
	n=$(grep -cE " $NETIF-(TxRx-0|other)\$" /proc/interrupts)
	[ "$n" -eq 2 ] || fail "$n keel interrupts in /proc/interrupts"
	grep -E " $NETIF-" /proc/interrupts | grep -q PCI-MSIX ||
		fail "interrupts are not MSI-X"
}

# The new MAC must reach the unicast filter, RAR0. Traffic alone does
# not show it under QEMU: its igb also lets unicast frames through the
# multicast table's inexact filter, and the IPv6 solicited-node group of
# the new MAC's link-local address hashes to the new MAC's own bit
# (seen: frames to the new MAC arrived with the old one in RAR0).
test_mac_change() {
	local new=02:4b:45:00:00:01

	[ "$(rar0_mac)" = "$EEPROM_MAC" ] ||
		{ fail "RAR0 holds '$(rar0_mac)' before the change"; return; }
	ip link set "$NETIF" address "$new" || fail "cannot set the MAC"
	defer ip link set "$NETIF" address "$EEPROM_MAC"
	defer ip neigh flush dev "$NETIF"
	[ "$(rar0_mac)" = "$new" ] || fail "RAR0 holds '$(rar0_mac)', not $new"
	peer ip neigh flush dev "$PEER_IF"
	ping -c 2 -w 5 "$REMOTE_V4" || fail "no traffic with the new MAC"
	peer ip neigh show "$LOCAL_V4" | grep -q "$new" ||
		fail "peer did not learn the new MAC"
}

# A MAC set while the interface is down reaches RAR0 when it comes up
# (or at once), and the peer learns it
test_mac_change_down() {
	local new=02:4b:45:00:00:02

	defer wait_for 10 carrier_is 1
	defer ip link set "$NETIF" up
	defer ip link set "$NETIF" address "$EEPROM_MAC"
	defer ip neigh flush dev "$NETIF"
	ip link set "$NETIF" down
	ip link set "$NETIF" address "$new" ||
		{ fail "cannot set the MAC while down"; return; }
	ip link set "$NETIF" up
	wait_for 10 carrier_is 1 || { fail "no carrier after up"; return; }
	[ "$(rar0_mac)" = "$new" ] || fail "RAR0 holds '$(rar0_mac)', not $new"
	peer ip neigh flush dev "$PEER_IF"
	ping -c 2 -w 5 "$REMOTE_V4" || fail "no traffic with the new MAC"
	peer ip neigh show "$LOCAL_V4" | grep -q "$new" ||
		fail "peer did not learn the new MAC"
}

ktap_run test_bound test_mac_from_eeprom test_drvinfo test_msix_vectors \
	test_mac_change test_mac_change_down
