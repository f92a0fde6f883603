#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Link flap through QEMU's monitor: the emulated PHY loses link, the
# device raises LSC, carrier follows; traffic resumes after the link
# returns.

# shellcheck source=./lib.sh
source "$(dirname "$0")/lib.sh"

QMP="$PY $REPO/scripts/qmp"

link() {
	$QMP set_link netA "$1" > /dev/null
}

test_link_down() {
	defer link on
	link off || fail "QMP set_link failed"
	wait_for 3 carrier_is 0 || fail "carrier stayed up"
	ethtool "$NETIF" | grep -q "Link detected: no" ||
		fail "ethtool still reports link"
	ping -c 1 -w 2 "$REMOTE_V4" > /dev/null && fail "ping without link"
	return 0
}

test_link_returns() {
	link off
	wait_for 3 carrier_is 0
	link on || fail "QMP set_link failed"
	wait_for 10 carrier_is 1 || fail "carrier did not come back"
	ping -c 3 -w 10 "$REMOTE_V4" || fail "no traffic after link up"
}

test_flap_under_traffic() {
	local i

	peer_iperf_server 30 || { fail "no iperf3 server"; return; }
	timeout -s KILL 30 iperf3 -c "$REMOTE_V4" -t 8 > /dev/null 2>&1 &
	sleep 1
	flowing "before the flaps" rx || { wait; return; }
	for i in 1 2 3; do
		[ "$i" -gt 1 ] && sleep 1
		link off
		wait_for 3 carrier_is 0 || fail "flap $i: carrier stayed up"
		link on
		wait_for 10 carrier_is 1 || fail "flap $i: no carrier"
	done
	wait
	ping -c 3 -w 10 "$REMOTE_V4" || fail "no traffic after flaps"
}

ktap_run test_link_down test_link_returns test_flap_under_traffic
