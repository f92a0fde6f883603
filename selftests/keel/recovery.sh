#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Recovery from a hung TX queue: `devlink health test` on the tx reporter
# disables the TX queues in the device, the stack's watchdog notices,
# ndo_tx_timeout reports to the tx reporter, which resets the device; the
# reporter counts one error and one recovery, and traffic flows again
# within 5 seconds of the reset with the configuration (channels, RSS
# table, MTU, VLAN, features) intact.

# shellcheck source=./lib.sh
source "$(dirname "$0")/lib.sh"

test_tx_hang_recovers() {
	local nq t0 t_reset t_ok mark err0 rec0 err rec

	err0=$(reporter_field tx error)
	rec0=$(reporter_field tx recover)
	if [ -z "$err0" ] || [ -z "$rec0" ]; then
		fail "no tx health reporter on $DL_DEV"
		return
	fi
	[ "$(reporter_field tx auto_recover)" = true ] ||
		{ fail "tx reporter does not recover automatically"; return; }
	nq=$(cur_channels)

	# A configuration that must survive the reset
	defer ethtool -X "$NETIF" default
	defer ip link set "$NETIF" mtu 1500
	defer ethtool -K "$NETIF" rxvlan on
	ethtool -X "$NETIF" equal 1
	ip link set "$NETIF" mtu 4000
	peer ip link set "$PEER_IF" mtu 4000
	defer peer ip link set "$PEER_IF" mtu 1500
	ethtool -K "$NETIF" rxvlan off
	ip link add link "$NETIF" name keel.7 type vlan id 7
	defer ip link del keel.7
	ip addr add 198.51.100.1/24 dev keel.7
	ip link set keel.7 up
	peer ip link add link "$PEER_IF" name peer.7 type vlan id 7
	defer peer ip link del peer.7
	peer ip addr add 198.51.100.2/24 dev peer.7
	peer ip link set peer.7 up
	ping -c 1 -W 3 198.51.100.2 > /dev/null || fail "no VLAN ping before"

	mark="keel-hang-$RANDOM"
	echo "$mark" > /dev/kmsg
	hang_prepare || return
	# Whatever happens, leave the device working for the next program
	# (this runs before the end of the window in which the watchdog's
	# lines are expected)
	defer "ping -c 1 -W 2 $REMOTE_V4 > /dev/null || devlink health recover $DL_DEV reporter tx"
	devlink health test "$DL_DEV" reporter tx ||
		{ fail "devlink health test failed"; return; }
	t0=$SECONDS
	# Keep sending, so that a hung queue fills and stops. Not a TCP flow:
	# a connection that cannot open sends a SYN now and then, which
	# never fills a queue (seen on the debug kernel)
	hang_traffic

	wait_for 20 sh -c "dmesg | sed -n '/$mark/,\$p' | grep -q 'resetting the device'" ||
		fail "no reset within 20 s of the hang"
	t_reset=$SECONDS
	wait_for 5 ping -c 1 -W 1 "$REMOTE_V4" > /dev/null ||
		fail "no traffic within 5 s of the reset"
	t_ok=$SECONDS
	echo "hang at 0 s, reset at $((t_reset - t0)) s, ping at $((t_ok - t0)) s"
	dmesg | sed -n "/$mark/,\$p" | grep -E "keel|NETDEV WATCHDOG"
	devlink health show "$DL_DEV" reporter tx

	# One hang, one report, one recovery (the watchdog may fire once
	# more for another queue before the reset: at least one each)
	err=$(($(reporter_field tx error) - err0))
	rec=$(($(reporter_field tx recover) - rec0))
	echo "tx reporter: error +$err, recover +$rec"
	[ "$err" -ge 1 ] || fail "tx reporter counted no error"
	[ "$rec" -ge 1 ] || fail "tx reporter counted no recovery"
	[ "$rec" -eq "$err" ] || fail "$err errors but $rec recoveries"
	[ "$(reporter_field tx state)" = healthy ] ||
		fail "tx reporter not healthy after the recovery"

	[ "$(cat "/sys/class/net/$NETIF/mtu")" -eq 4000 ] || fail "MTU lost"
	[ "$(cur_channels)" = "$nq" ] || fail "channel count changed"
	[ "$(ethtool -x "$NETIF" | awk '/^ *[0-9]+:/ {for (i = 2; i <= NF; i++) print $i}' | sort -u)" = 0 ] ||
		fail "RSS table lost"
	ethtool -k "$NETIF" | grep -qx "rx-vlan-offload: off" ||
		fail "rx-vlan-offload setting lost"
	ping -c 1 -W 3 198.51.100.2 > /dev/null || fail "no VLAN ping after"
	ping -c 1 -W 3 -s 3900 "$REMOTE_V4" > /dev/null ||
		fail "no large ping after"
}

ktap_run test_tx_hang_recovers
