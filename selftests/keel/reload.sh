#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Unload and reload: ten rmmod/insmod cycles with traffic in between, and
# rmmod while iperf3 pushes data both ways. Each unload must leave no
# interrupt, MSI-X vector or netdev behind; each load must pass traffic.

# shellcheck source=./lib.sh
source "$(dirname "$0")/lib.sh"

no_leftovers() {
	grep -qE " $NETIF-(TxRx|other)" /proc/interrupts &&
		fail "interrupts left after rmmod"
	[ -e "/sys/bus/pci/devices/$KEEL_BDF/net" ] &&
		fail "netdev left after rmmod"
	[ -n "$(ls "/sys/bus/pci/devices/$KEEL_BDF/msi_irqs" 2> /dev/null)" ] &&
		fail "MSI-X vectors left after rmmod"
	return 0
}

traffic() {
	ping -c 2 -w 10 "$REMOTE_V4" > /dev/null || return 1
	peer_iperf_server 20 || return 1
	timeout -s KILL 20 iperf3 -c "$REMOTE_V4" -t 1 > /dev/null || return 1
	wait
}

test_reload_cycles() {
	local i

	for i in $(seq 10); do
		rmmod keel || fail "cycle $i: rmmod failed"
		no_leftovers || return
		keel_load || fail "cycle $i: no link after insmod"
		traffic || fail "cycle $i: no traffic"
	done
	echo "10 cycles"
}

# rmmod_under_traffic DIR [iperf3 options]: rmmod while the flow moves
# DIR (flowing: rx, tx or both)
rmmod_under_traffic() {
	local dir=$1 start took

	shift
	peer_iperf_server 30 || { fail "no iperf3 server"; return; }
	timeout -s KILL 30 iperf3 -c "$REMOTE_V4" -t 20 "$@" \
		> /dev/null 2>&1 &
	sleep 1
	flowing "before rmmod" "$dir" ||
		{ pkill -KILL -x iperf3; wait; return; }
	start=$SECONDS
	timeout 20 rmmod keel || fail "rmmod under traffic failed"
	took=$((SECONDS - start))
	echo "rmmod took ${took}s"
	no_leftovers || return
	# The client loses its route; end both ends now
	pkill -KILL -x iperf3
	wait
	keel_load || fail "no link after reload"
	ping -c 3 -w 10 "$REMOTE_V4" || fail "no traffic after reload"
}

test_rmmod_while_sending() {
	rmmod_under_traffic rx
}

test_rmmod_while_receiving() {
	rmmod_under_traffic tx -R
}

test_rmmod_bidir() {
	rmmod_under_traffic both --bidir
}

ktap_run test_reload_cycles test_rmmod_while_sending \
	test_rmmod_while_receiving test_rmmod_bidir
