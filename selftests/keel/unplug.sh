#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Disruptive, runs last but one: hot-unplug port A through QEMU's monitor
# while iperf3 sends through it. The driver's remove path must run to the
# end under traffic and leave nothing behind; the port is gone for the
# rest of the boot.

# shellcheck source=./lib.sh
source "$(dirname "$0")/lib.sh"

test_unplug_under_traffic() {
	peer_iperf_server 40
	timeout -s KILL 40 iperf3 -c "$REMOTE_V4" -t 30 > /dev/null 2>&1 &
	sleep 2
	"$PY" "$REPO/scripts/qmp" device_del nicA > /dev/null ||
		fail "device_del failed"
	# pciehp waits out the attention button's 5 s before removing
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

ktap_run test_unplug_under_traffic
