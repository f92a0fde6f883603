#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# TCP both ways with iperf3. The bytes iperf3 moved must show in the
# counters of both ends, and the two ends' counters must agree: what
# keel says it sent is what the peer says it received, and the other
# way round.

# shellcheck source=./lib.sh
source "$(dirname "$0")/lib.sh"

# agree A B: the two counters are within 1% of each other
agree() {
	local a=$1 b=$2 diff

	diff=$((a > b ? a - b : b - a))
	[ $((diff * 100)) -le "$a" ]
}

check_direction() {
	local dir=$1
	local a_tx0 a_rx0 b_tx0 b_rx0 a_tx a_rx b_tx b_rx bytes
	local sent recv ssent srecv

	a_tx0=$(stat "$NETIF" tx_bytes)
	a_rx0=$(stat "$NETIF" rx_bytes)
	b_tx0=$(peer_stat tx_bytes)
	b_rx0=$(peer_stat rx_bytes)
	if [ "$dir" = a_to_b ]; then
		bytes=$(iperf_bytes)
	else
		bytes=$(iperf_bytes -R)
	fi
	a_tx=$(($(stat "$NETIF" tx_bytes) - a_tx0))
	a_rx=$(($(stat "$NETIF" rx_bytes) - a_rx0))
	b_tx=$(($(peer_stat tx_bytes) - b_tx0))
	b_rx=$(($(peer_stat rx_bytes) - b_rx0))
	echo "iperf3 payload $bytes; keel tx $a_tx rx $a_rx; peer tx $b_tx rx $b_rx"
	echo "throughput $((bytes * 8 / 3 / 1000000)) Mbit/s"

	[ "${bytes:-0}" -gt $((10 * 1000 * 1000)) ] ||
		fail "only ${bytes:-0} bytes moved"
	if [ "$dir" = a_to_b ]; then
		sent=$a_tx recv=$b_rx ssent=$b_tx srecv=$a_rx
	else
		sent=$b_tx recv=$a_rx ssent=$a_tx srecv=$b_rx
	fi
	[ "$sent" -ge "$bytes" ] || fail "sender counted $sent < $bytes"
	[ "$recv" -ge "$bytes" ] || fail "receiver counted $recv < $bytes"
	agree "$sent" "$recv" || fail "data: sent $sent, received $recv"
	agree "$ssent" "$srecv" || fail "acks: sent $ssent, received $srecv"
}

test_tcp_a_to_b() {
	check_direction a_to_b
}

test_tcp_b_to_a() {
	check_direction b_to_a
}

test_packets_agree() {
	local a_tx0 b_rx0 a_tx b_rx bytes

	a_tx0=$(stat "$NETIF" tx_packets)
	b_rx0=$(peer_stat rx_packets)
	bytes=$(iperf_bytes)
	a_tx=$(($(stat "$NETIF" tx_packets) - a_tx0))
	b_rx=$(($(peer_stat rx_packets) - b_rx0))
	echo "iperf3 payload $bytes; keel tx_packets $a_tx, peer rx_packets $b_rx"
	# Positive control: the flow moved, and in full-size frames or TSO
	# segments that the peer counts one by one (10 MB is 6800 frames)
	[ "${bytes:-0}" -gt $((10 * 1000 * 1000)) ] ||
		{ fail "only ${bytes:-0} bytes moved"; return; }
	[ "$b_rx" -ge $((bytes / 1500)) ] ||
		fail "peer counted $b_rx frames for $bytes bytes"
	agree "$a_tx" "$b_rx" || fail "keel sent $a_tx frames, peer got $b_rx"
}

# bql_sum FILE: a BQL value (inflight, limit) summed over the TX queues
bql_sum() {
	local q sum=0

	for q in /sys/class/net/"$NETIF"/queues/tx-*/byte_queue_limits; do
		sum=$((sum + $(cat "$q/$1")))
	done
	echo "$sum"
}

# With the smallest TX ring four flows fill it: the driver stops its
# queues (qstats tx-stop) and completions wake them (tx-wake); BQL saw
# the bytes go out (its limit grew) and come back (nothing in flight
# once the traffic ends).
test_tx_stop_wake() {
	local ring stop0 wake0 stop wake bytes limit

	ring=$(ethtool -g "$NETIF" | awk '/^Current/ {c = 1} c && /^TX:/ {print $2; exit}')
	defer ethtool -G "$NETIF" tx "$ring"
	ethtool -G "$NETIF" tx 64 || { fail "ethtool -G tx 64"; return; }
	wait_for 10 carrier_is 1 || { fail "no carrier after -G"; return; }
	stop0=$(qstat tx-stop)
	wake0=$(qstat tx-wake)
	bytes=$(iperf_bytes -P 4)
	stop=$(($(qstat tx-stop) - stop0))
	wake=$(($(qstat tx-wake) - wake0))
	sleep 1
	limit=$(bql_sum limit)
	echo "iperf3 payload $bytes; tx-stop +$stop, tx-wake +$wake; BQL limits $limit, in flight at rest $(bql_sum inflight)"
	[ "${bytes:-0}" -gt $((10 * 1000 * 1000)) ] ||
		{ fail "only ${bytes:-0} bytes moved"; return; }
	[ "$stop" -gt 0 ] || fail "no queue stop counted with a 64-descriptor ring"
	[ "$wake" -gt 0 ] || fail "no queue wake counted"
	[ "$wake" -le "$stop" ] || fail "more wakes ($wake) than stops ($stop)"
	[ "$limit" -gt 0 ] || fail "BQL limits are 0: no bytes reported to BQL"
	[ "$(bql_sum inflight)" -eq 0 ] || fail "BQL counts $(bql_sum inflight) bytes in flight at rest"
}

ktap_run test_tcp_a_to_b test_tcp_b_to_a test_packets_agree \
	test_tx_stop_wake
