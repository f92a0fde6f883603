#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Channel, ring and MTU changes while TCP runs both ways: traffic never
# stalls for good, counters never go backwards, and what was configured
# before (address filters, RSS key, features) is still in place. Bounds
# of rings and coalescing are enforced with a reason, and settings are
# read back.

# shellcheck source=./lib.sh
source "$(dirname "$0")/lib.sh"

NQ=$(ethtool -l "$NETIF" | awk '/^Current/ {c = 1} c && /^Combined/ {print $2}')

# totals: "rx_packets tx_packets rx-packets(qstats) tx-packets(qstats)"
totals() {
	echo "$(stat "$NETIF" rx_packets) $(stat "$NETIF" tx_packets)" \
		"$(qstat rx-packets) $(qstat tx-packets)"
}

# no_backwards BEFORE AFTER: each of the four totals grew or stayed
no_backwards() {
	local -a b a
	local i

	read -ra b <<< "$1"
	read -ra a <<< "$2"
	for i in 0 1 2 3; do
		[ "${a[i]}" -ge "${b[i]}" ] ||
			fail "counter $i went backwards: ${b[i]} -> ${a[i]}"
	done
}

ring() {
	ethtool -g "$NETIF" | awk -v k="$1:" '/^Current/ {c = 1} c && $1 == k {print $2}'
}

test_changes_under_traffic() {
	local before after key out
	local -a steps=(
		"ethtool -L $NETIF combined 1"
		"ethtool -G $NETIF rx 128 tx 128"
		"ethtool -L $NETIF combined $NQ"
		"ip link set $NETIF mtu 9000"
		"ethtool -G $NETIF rx 4096 tx 4096"
		"ip link set $NETIF mtu 1500"
		"ethtool -G $NETIF rx 256 tx 256"
	)

	out=$(mktemp)
	defer rm -f "$out"
	defer ip link set "$NETIF" mtu 1500
	defer ethtool -G "$NETIF" rx 256 tx 256
	defer ethtool -L "$NETIF" combined "$NQ"
	peer ip link set "$PEER_IF" mtu 9000
	defer peer ip link set "$PEER_IF" mtu 1500
	ip maddr add 01:00:5e:01:02:03 dev "$NETIF"
	defer ip maddr del 01:00:5e:01:02:03 dev "$NETIF"
	key=$(ethtool -x "$NETIF" | sed -n '/RSS hash key/{n;p}')

	peer_iperf_server 60
	timeout -s KILL 50 iperf3 -c "$REMOTE_V4" -t 25 --bidir -J > "$out" &
	sleep 3
	for s in "${steps[@]}"; do
		before=$(totals)
		$s || fail "$s failed"
		after=$(totals)
		no_backwards "$before" "$after"
		echo "$s: counters $before -> $after"
		sleep 2
	done
	wait
	# Every second of the run moved data both ways: nothing stalled
	jq -r '.intervals[] | [.streams[] | .bytes] | min' "$out" |
		awk '$1 == 0 {z++} END {exit z > 0}' ||
		fail "a one-second interval moved no data"
	jq -e '.end.sum_received.bytes > 0' "$out" > /dev/null ||
		fail "iperf3 did not finish: $(jq -r .error "$out")"

	[ "$(ethtool -x "$NETIF" | sed -n '/RSS hash key/{n;p}')" = "$key" ] ||
		fail "RSS key changed"
	ip maddr show dev "$NETIF" | grep -q 01:00:5e:01:02:03 ||
		fail "multicast address lost"
	ping -c 2 -W 2 "$REMOTE_V4" > /dev/null || fail "no ping after changes"
}

test_ring_bounds() {
	defer ethtool -G "$NETIF" rx 256 tx 256
	ethtool -G "$NETIF" rx 32 2>&1 | grep -q "at least 64" ||
		fail "rx 32 not refused with a reason"
	ethtool -G "$NETIF" tx 8192 2> /dev/null &&
		fail "tx 8192 accepted"
	ethtool -G "$NETIF" rx 100 tx 64 || fail "rx 100 tx 64 refused"
	[ "$(ring RX)" -eq 104 ] || fail "rx 100 became $(ring RX), not 104"
	[ "$(ring TX)" -eq 64 ] || fail "tx 64 became $(ring TX)"
	ping -c 2 -W 2 "$REMOTE_V4" > /dev/null || fail "no ping with tx 64"
}

test_channel_bounds() {
	local max

	max=$(ethtool -l "$NETIF" | awk '/^Combined/ {print $2; exit}')
	{ [ "$max" -ge "$NQ" ] && [ "$max" -le 8 ]; } ||
		fail "maximum $max combined channels"
	ethtool -L "$NETIF" combined $((max + 1)) 2> /dev/null &&
		fail "combined $((max + 1)) accepted"
	ethtool -L "$NETIF" rx 1 2> /dev/null &&
		fail "separate rx channels accepted"
	return 0
}

# EITR of queue vector 0 (MSI-X vector 1), word 20 of the register dump
eitr1_usecs() {
	ethtool -d "$NETIF" raw on | od -An -tu4 -w4 -v |
		awk 'NR == 21 { print int($1 / 4) % 8192 }'
}

# One vector serves a queue pair: rx-usecs is its interval, programmed
# as reported, and tx-usecs, which could not be honoured on its own, is
# refused rather than reported as set.
test_coalesce() {
	defer ethtool -C "$NETIF" rx-usecs 50
	ethtool -C "$NETIF" rx-usecs 100 || fail "-C refused"
	ethtool -c "$NETIF" | grep -qx "rx-usecs: 100" || fail "rx-usecs"
	[ "$(eitr1_usecs)" = 100 ] || fail "EITR holds $(eitr1_usecs) us, not 100"
	ethtool -C "$NETIF" tx-usecs 20 2> /dev/null &&
		fail "tx-usecs accepted"
	[ "$(eitr1_usecs)" = 100 ] || fail "a refused tx-usecs changed EITR"
	ethtool -C "$NETIF" rx-usecs 0 || fail "rx-usecs 0 refused"
	ping -c 2 -W 2 "$REMOTE_V4" > /dev/null || fail "no ping at 0 us"
	ethtool -C "$NETIF" rx-usecs 9000 2>&1 | grep -q "at most 8191" ||
		fail "rx-usecs 9000 not refused with a reason"
	ethtool -c "$NETIF" | grep -qx "rx-usecs: 0" ||
		fail "a refused change altered rx-usecs"
	ethtool -C "$NETIF" rx-frames 10 2> /dev/null &&
		fail "rx-frames accepted"
	return 0
}

# SRRCTL of queue Q, from the register dump (words 182 to 197)
srrctl() {
	ethtool -d "$NETIF" raw on | od -An -tu4 -w4 -v |
		awk -v w=$((182 + $1)) 'NR == w + 1 { print $1 }'
}

# With several RX queues, a queue out of buffers must drop its own
# frames (SRRCTL.DROP_EN) rather than stall the packet buffer that
# every queue shares; with one queue, flow control decides.
test_drop_en() {
	local q v

	[ "$NQ" -ge 2 ] || { skip "one queue only: DROP_EN stays off"; return; }
	defer ethtool -L "$NETIF" combined "$NQ"
	ethtool -L "$NETIF" combined 1 || { fail "-L 1 refused"; return; }
	v=$(srrctl 0)
	[ $((v >> 31)) -eq 0 ] || fail "one queue: DROP_EN set ($v)"
	ethtool -L "$NETIF" combined "$NQ" || { fail "-L $NQ refused"; return; }
	for ((q = 0; q < NQ; q++)); do
		v=$(srrctl "$q")
		[ $((v >> 31)) -eq 1 ] || fail "queue $q of $NQ: DROP_EN clear ($v)"
	done
	# The packet buffer size field shows the dump reads SRRCTL
	[ $(($(srrctl 0) & 0x7f)) -eq 3 ] || fail "SRRCTL BSIZEPKT not 3 KiB"
}

ktap_run test_changes_under_traffic test_drop_en test_ring_bounds test_channel_bounds \
	test_coalesce
