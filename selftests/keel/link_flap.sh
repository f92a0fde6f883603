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

# The PHY loses link: the carrier drops, ethtool says why (autonegotiation
# found no partner: the PHY's BMSR has no "negotiation complete"), and
# the ping that worked a moment before fails. With the link back the
# reason goes.
test_link_down() {
	local detected

	ping -c 1 -w 5 "$REMOTE_V4" > /dev/null ||
		{ fail "no ping before the link goes"; return; }
	detected=$(ethtool "$NETIF" | grep "Link detected")
	echo "link up: $detected"
	[ "$(xargs <<< "$detected")" = "Link detected: yes" ] ||
		fail "with link: '$detected'"
	defer wait_for 10 carrier_is 1
	defer link on
	link off || { fail "QMP set_link failed"; return; }
	wait_for 3 carrier_is 0 || fail "carrier stayed up"
	detected=$(ethtool "$NETIF" | grep "Link detected")
	echo "link down: $detected"
	[ "$(xargs <<< "$detected")" = "Link detected: no (Autoneg, No partner detected)" ] ||
		fail "without link: '$detected'"
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

# link_msgs: keel's "link up"/"link down" lines in the kernel log since
# the marker line MARK
link_msgs() {
	dmesg | sed -n "/$1/,\$p" | grep -cE "keel .* $NETIF: link (up|down)"
}

# flap_logged MARK: one link flap; prints how many link lines it logged
flap_logged() {
	echo "$1" > /dev/kmsg
	link off
	wait_for 3 carrier_is 0 || fail "$1: carrier stayed up"
	link on
	wait_for 10 carrier_is 1 || fail "$1: no carrier"
	link_msgs "$1"
}

# ethtool -s msglvl: without the link class keel logs no link changes;
# with it, it logs both (the positive control)
test_msglvl() {
	local lvl n

	lvl=$(ethtool "$NETIF" | awk '/Current message level/ {print $4}')
	defer ethtool -s "$NETIF" msglvl "$lvl"
	ethtool -s "$NETIF" msglvl link on || { fail "msglvl link on"; return; }
	n=$(flap_logged "keel-msglvl-on-$$")
	echo "msglvl link on: $n link lines"
	[ "$n" -eq 2 ] || fail "msglvl link on: $n link lines, not 2"
	ethtool -s "$NETIF" msglvl link off || { fail "msglvl link off"; return; }
	ethtool "$NETIF" | grep -A1 "Current message level" | grep -qw link &&
		fail "the link class still reported"
	n=$(flap_logged "keel-msglvl-off-$$")
	echo "msglvl link off: $n link lines"
	[ "$n" -eq 0 ] || fail "msglvl link off: $n link lines logged"
}

ktap_run test_link_down test_link_returns test_flap_under_traffic \
	test_msglvl
