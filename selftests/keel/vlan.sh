#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# 802.1Q offloads: tag insertion on transmit (the peer sees the tag on
# the wire, with and without the offload), tag stripping on receive (the
# device takes the tag out of the frame and hands it over as metadata)
# and the VLAN filter (frames of VLANs nobody configured are dropped by
# the device, unless the port is promiscuous or the filter is off).

# shellcheck source=./lib.sh
source "$(dirname "$0")/lib.sh"

VLAN_LOCAL=198.51.100.1
VLAN_REMOTE=198.51.100.2

# vlan_up: VLAN 10 on both ends, removed when the test ends
vlan_up() {
	ip link add link "$NETIF" name kv10 type vlan id 10 || return
	defer ip link del kv10
	ip addr add "$VLAN_LOCAL/24" dev kv10
	ip link set kv10 up
	peer ip link add link "$PEER_IF" name pv10 type vlan id 10 || return
	defer peer ip link del pv10
	peer ip addr add "$VLAN_REMOTE/24" dev pv10
	peer ip link set pv10 up
}

# vlan_rx VID [count options]: how many of 20 frames tagged VID the peer
# sends to keel's MAC reach keel's netdev (a packet socket); with --stats
# a line of statistics comes first
vlan_rx() {
	local vid=$1

	shift
	rx_count "$(cat "/sys/class/net/$NETIF/address")" "$vid" "$@"
}

test_insert() {
	local mode cap len pat want tagged pid mac dump

	vlan_up || { fail "cannot create VLAN 10"; return; }
	defer ethtool -K "$NETIF" txvlan on
	cap=$(mktemp)
	dump=$(mktemp)
	defer rm -f "$cap" "$cap.err" "$dump"
	mac=$(cat "/sys/class/net/$NETIF/address")
	for mode in on off; do
		ethtool -K "$NETIF" txvlan "$mode" > /dev/null ||
			{ fail "cannot set txvlan $mode"; return; }
		# Not through peer(): $! must be the capture itself
		ip netns exec "$PEER_NS" timeout 30 tcpdump -i "$PEER_IF" \
			-l -e -nn vlan 10 and icmp > "$cap" 2> "$cap.err" &
		pid=$!
		wait_for 10 grep -q "listening on" "$cap.err"
		ping -c 3 -W 5 -s 600 "$VLAN_REMOTE" > /dev/null ||
			{ fail "txvlan $mode: no ping over VLAN 10"; return; }
		sleep 0.5
		kill "$pid"
		wait "$pid"
		# 52:54:00:4b:45:01 > ..., ethertype 802.1Q (0x8100),
		# length 646: vlan 10, p 0, ethertype IPv4 (0x0800), ...
		# ICMP echo request
		pat="^[0-9:.]* $mac > .*ethertype 802.1Q (0x8100), "
		pat+="length 646: vlan 10, .*ICMP echo request"
		tagged=$(grep -c "$pat" "$cap")
		echo "txvlan $mode: peer saw $tagged echo requests tagged with VLAN 10"
		[ "$tagged" -eq 3 ] ||
			{ fail "txvlan $mode: $tagged of 3 requests tagged"; return; }

		# The device inserts the tag (VLE) or the frame in memory
		# carries it already: 4 bytes longer, no VLE
		if [ "$mode" = on ]; then
			len=642 want=(vle=1 ctx=1 vlan=10 maclen=14)
		else
			len=646 want=(vle=0 ctx=0)
		fi
		tx_dump "$dump" ||
			{ fail "txvlan $mode: no tx reporter dump"; return; }
		"$PY" "$FRAMES_PY" tx-desc --dump "$dump" --frame-len "$len" \
			--expect "${want[@]}" | sed 's/^/  /'
		[ "${PIPESTATUS[0]}" -eq 0 ] ||
			{ fail "txvlan $mode: descriptors wrong"; return; }
	done
}

# strip_check MODE: rxvlan MODE; the stack gets VLAN 10 frames with the
# tag as metadata either way (it untags in software before any packet
# socket sees a frame), so whether the device stripped the tag shows in
# the bytes it delivered: 4 more per frame when the tag stayed in.
strip_check() {
	local mode=$1 stats matched aux data bytes rx extra want

	ethtool -K "$NETIF" rxvlan "$mode" > /dev/null ||
		{ fail "cannot set rxvlan $mode"; return; }
	stats=$(vlan_rx 10 --stats) ||
		{ fail "frames not sent or not counted"; return; }
	stats=$(grep '^stats' <<< "$stats")
	echo "rxvlan $mode: $stats"
	read -r _ _ matched _ aux _ data _ _ _ bytes _ rx _ <<< "$stats"
	extra=$((rx - bytes))
	[ "$matched" -eq 20 ] ||
		{ fail "rxvlan $mode: $matched of 20 frames"; return; }
	# The frame data never has 0x8100 at 12, the tag is metadata
	if [ "$aux" -ne 20 ] || [ "$data" -ne 0 ]; then
		fail "rxvlan $mode: tags in metadata $aux, in data $data"
		return
	fi
	want=0
	[ "$mode" = on ] || want=$((4 * matched))
	[ "$extra" -eq "$want" ] ||
		fail "rxvlan $mode: $extra bytes more than the untagged frames, expected $want"
}

test_strip() {
	vlan_up || { fail "cannot create VLAN 10"; return; }
	defer ethtool -K "$NETIF" rxvlan on
	strip_check on || return
	strip_check off || return
	# Back on: stripped again
	strip_check on
}

test_filter() {
	local n

	vlan_up || { fail "cannot create VLAN 10"; return; }
	n=$(vlan_rx 10) ||
		{ fail "frames not sent or not counted"; return; }
	[ "$n" -eq 20 ] || { fail "VLAN 10: $n of 20 frames"; return; }
	n=$(vlan_rx 20) ||
		{ fail "frames not sent or not counted"; return; }
	[ "$n" -eq 0 ] || { fail "VLAN 20 (filtered): $n frames"; return; }

	ip link set "$NETIF" promisc on
	defer ip link set "$NETIF" promisc off
	n=$(vlan_rx 20) ||
		{ fail "frames not sent or not counted"; return; }
	[ "$n" -eq 20 ] || { fail "promiscuous: $n of 20 VLAN 20 frames"; return; }
	ip link set "$NETIF" promisc off
	n=$(vlan_rx 20) ||
		{ fail "frames not sent or not counted"; return; }
	[ "$n" -eq 0 ] || { fail "promisc off: $n VLAN 20 frames"; return; }

	ethtool -K "$NETIF" rx-vlan-filter off ||
		{ fail "cannot turn rx-vlan-filter off"; return; }
	defer ethtool -K "$NETIF" rx-vlan-filter on
	n=$(vlan_rx 20) ||
		{ fail "frames not sent or not counted"; return; }
	[ "$n" -eq 20 ] || { fail "filter off: $n of 20 VLAN 20 frames"; return; }
	ethtool -K "$NETIF" rx-vlan-filter on
	n=$(vlan_rx 20) ||
		{ fail "frames not sent or not counted"; return; }
	[ "$n" -eq 0 ] || { fail "filter on again: $n VLAN 20 frames"; return; }
	n=$(vlan_rx 10) ||
		{ fail "frames not sent or not counted"; return; }
	[ "$n" -eq 20 ] || fail "filter on again: $n of 20 VLAN 10 frames"
}

# A VLAN added while the filter is off must pass once it is back on: the
# driver leaves the features to the core, which replays the VLANs into
# the filter table (ndo_vlan_rx_add_vid) when the filter comes on.
test_filter_replay() {
	local n

	ethtool -K "$NETIF" rx-vlan-filter off ||
		{ fail "cannot turn rx-vlan-filter off"; return; }
	defer ethtool -K "$NETIF" rx-vlan-filter on
	vlan_up || { fail "cannot create VLAN 10"; return; }
	n=$(vlan_rx 10) ||
		{ fail "frames not sent or not counted"; return; }
	[ "$n" -eq 20 ] || { fail "filter off: $n of 20 VLAN 10 frames"; return; }
	ethtool -K "$NETIF" rx-vlan-filter on
	ethtool -k "$NETIF" | grep -qx "rx-vlan-filter: on" ||
		{ fail "rx-vlan-filter did not come on"; return; }
	n=$(vlan_rx 10) ||
		{ fail "frames not sent or not counted"; return; }
	[ "$n" -eq 20 ] ||
		{ fail "VLAN 10 added while the filter was off: $n of 20 frames once it is on"; return; }
	n=$(vlan_rx 20) ||
		{ fail "frames not sent or not counted"; return; }
	[ "$n" -eq 0 ] || fail "filter on: $n frames of unconfigured VLAN 20"
}

ktap_run test_insert test_strip test_filter test_filter_replay
