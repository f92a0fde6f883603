#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Disruptive, runs last but one: hot-unplug port A through QEMU's monitor
# while iperf3 sends through it. The driver's remove path must run to the
# end under traffic and leave nothing behind. Then the port is plugged
# back (QMP device_add) and keel must drive the new device.

# shellcheck source=./lib.sh
source "$(dirname "$0")/lib.sh"

test_unplug_under_traffic() {
	peer_iperf_server 40 || { fail "no iperf3 server"; return; }
	timeout -s KILL 40 iperf3 -c "$REMOTE_V4" -t 30 > /dev/null 2>&1 &
	sleep 1
	flowing "before device_del" rx || { pkill -KILL -x iperf3; wait; return; }
	"$PY" "$REPO/scripts/qmp" device_del nicA > /dev/null ||
		fail "device_del failed"
	# QEMU's q35 ejects through ACPI hot-plug (both kernels use it):
	# wait for the guest to remove the device
	wait_for 20 test ! -e "/sys/bus/pci/devices/$KEEL_BDF" ||
		fail "port A still present"
	echo "port A removed"
	pkill -KILL -x iperf3
	wait 2> /dev/null
	[ -e "/sys/class/net/$NETIF" ] && fail "netdev $NETIF left behind"
	grep -qE " $NETIF-(TxRx|other)" /proc/interrupts &&
		fail "interrupts left behind"
	dmesg | grep -E "keel .*(remov|answer)" || true
	[ -d /sys/module/keel ] || fail "module went away with the device"
	rmmod keel || fail "rmmod after unplug"
}

# Traffic on the re-plugged device, one direction at a time: under a
# bidirectional iperf3 on the debug kernel one direction starves the
# other (seen: 8 MB received against 0.5 MB sent in 3 s, and the other
# way round in another run), which says nothing about the device.
test_replug() {
	local rx0 tx0 rx tx

	[ -e "/sys/bus/pci/devices/$KEEL_BDF" ] &&
		{ fail "port A was not unplugged"; return; }
	insmod "$KEEL_KO" || { fail "insmod failed"; return; }
	replug || { fail "no keel netdev with link on the re-plugged port"; return; }
	echo "port A is back as $NETIF"
	# The peer's server serves one client and exits: one per run
	peer_iperf_server 20 || { fail "no iperf3 server"; return; }
	tx0=$(stat "$NETIF" tx_bytes)
	timeout -s KILL 20 iperf3 -c "$REMOTE_V4" -t 3 > /dev/null ||
		fail "no TCP sent on the re-plugged device"
	tx=$(($(stat "$NETIF" tx_bytes) - tx0))
	wait
	peer_iperf_server 20 || { fail "no iperf3 server"; return; }
	rx0=$(stat "$NETIF" rx_bytes)
	timeout -s KILL 20 iperf3 -c "$REMOTE_V4" -t 3 -R > /dev/null ||
		fail "no TCP received on the re-plugged device"
	rx=$(($(stat "$NETIF" rx_bytes) - rx0))
	wait
	echo "re-plugged device: $tx bytes sent, then $rx received"
	if [ "$rx" -le 1000000 ] || [ "$tx" -le 1000000 ]; then
		fail "under 1 MB each way on the re-plugged device"
	fi
}

ktap_run test_unplug_under_traffic test_replug
