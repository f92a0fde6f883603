#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Multicast filtering through the 4096-bit hash table: a group's frames
# arrive only after the group is joined (or with allmulti), and a UDP
# multicast receiver gets the peer's datagrams.

# shellcheck source=./lib.sh
source "$(dirname "$0")/lib.sh"

# 239.1.2.3 maps to 01:00:5e:01:02:03, whose hash bit (0x030) no group
# joined by default shares.
GROUP=239.1.2.3
GROUP_MAC=01:00:5e:01:02:03

test_not_joined_dropped() {
	local n

	n=$(rx_frames "$GROUP_MAC") ||
		{ fail "frames not sent or not counted"; return; }
	[ "$n" -eq 0 ] || fail "$n frames of a group not joined received"
}

test_maddr_add() {
	local n

	ip maddr add "$GROUP_MAC" dev "$NETIF" || fail "ip maddr add"
	defer ip maddr del "$GROUP_MAC" dev "$NETIF"
	n=$(rx_frames "$GROUP_MAC") ||
		{ fail "frames not sent or not counted"; return; }
	[ "$n" -eq 20 ] || fail "joined: $n of 20 frames received"
}

test_maddr_del() {
	local n

	ip maddr add "$GROUP_MAC" dev "$NETIF"
	ip maddr del "$GROUP_MAC" dev "$NETIF"
	n=$(rx_frames "$GROUP_MAC") ||
		{ fail "frames not sent or not counted"; return; }
	[ "$n" -eq 0 ] || fail "left: $n frames still received"
}

test_allmulti() {
	local n

	ip link set "$NETIF" allmulticast on
	defer ip link set "$NETIF" allmulticast off
	n=$(rx_frames "$GROUP_MAC") ||
		{ fail "frames not sent or not counted"; return; }
	[ "$n" -eq 20 ] || fail "allmulti: $n of 20 frames received"
}

test_udp_group() {
	local out pid n

	out=$(mktemp)
	defer rm -f "$out"
	frames mc-recv --group "$GROUP" --local "$LOCAL_V4" --duration 30 \
		--stop-file "$out.stop" > "$out" &
	pid=$!
	wait_for 10 grep -q ready "$out"
	peer "$PY" "$FRAMES_PY" mc-send --group "$GROUP" --local "$REMOTE_V4" \
		--count 20
	sleep 1
	touch "$out.stop"
	wait "$pid"
	rm -f "$out.stop"
	n=$(tail -n 1 "$out")
	[ "$n" -eq 20 ] || fail "$n of 20 datagrams received"
}

ktap_run test_not_joined_dropped test_maddr_add test_maddr_del \
	test_allmulti test_udp_group
