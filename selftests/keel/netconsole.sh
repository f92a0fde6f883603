#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# netconsole over keel: what the kernel's drivers/net/netcons_basic.sh
# checks on two netdevsim ports (which Debian's kernel does not build),
# on keel and its peer. netpoll sends the kernel's messages through
# ndo_start_xmit with interrupts off and polls keel's NAPI with a budget
# of 0 (TX completions only) to make room: a dynamic target on keel's
# port, through configfs, must deliver a message to a UDP listener in
# the peer, idle and under TCP traffic in both directions.

# shellcheck source=./lib.sh
source "$(dirname "$0")/lib.sh"

CONFIGFS=/sys/kernel/config
PORT=6666
TARGET=$CONFIGFS/netconsole/keel$$
PEER_MAC=$(peer cat "/sys/class/net/$PEER_IF/address")

# target_up: a netconsole target from keel's port to the peer's UDP
# port, enabled
target_up() {
	if [ ! -d "$CONFIGFS/netconsole" ]; then
		modprobe netconsole || { echo "cannot load netconsole"; return 1; }
		mountpoint -q "$CONFIGFS" || mount -t configfs configfs "$CONFIGFS" ||
			{ echo "cannot mount configfs"; return 1; }
	fi
	mkdir "$TARGET" || return 1
	echo "$NETIF" > "$TARGET/dev_name" &&
		echo "$LOCAL_V4" > "$TARGET/local_ip" &&
		echo "$REMOTE_V4" > "$TARGET/remote_ip" &&
		echo "$PORT" > "$TARGET/remote_port" &&
		echo "$PEER_MAC" > "$TARGET/remote_mac" &&
		echo 1 > "$TARGET/enabled"
}

target_down() {
	[ -d "$TARGET" ] || return 0
	echo 0 > "$TARGET/enabled"
	rmdir "$TARGET"
}

# deliver TAG COUNT: log COUNT kernel messages "TAG n" at warning level;
# prints how many of them a UDP listener in the peer received (its
# account on stderr). Fails when the listener did not start or keel
# counted no frame sent.
deliver() {
	local tag=$1 count=$2 out pid tx i n

	out=$(mktemp)
	peer timeout 30 socat -u UDP-RECV:"$PORT" "OPEN:$out,append" &
	pid=$!
	if ! wait_for 5 peer sh -c "ss -lun | grep -q ':$PORT '"; then
		echo "the peer's UDP listener did not start" >&2
		kill "$pid" 2> /dev/null
		wait "$pid"
		rm -f "$out"
		return 1
	fi
	tx=$(stat "$NETIF" tx_packets)
	for i in $(seq 1 "$count"); do
		echo "<4>$tag $i" > /dev/kmsg
	done
	# netpoll sends at once; the listener has them within this settle
	# time
	sleep 1
	kill "$pid" 2> /dev/null
	wait "$pid"
	tx=$(($(stat "$NETIF" tx_packets) - tx))
	n=$(grep -c "$tag [0-9]" "$out")
	rm -f "$out"
	echo "$tag: $n of $count messages received, keel tx_packets +$tx" >&2
	[ "$tx" -gt 0 ] || { echo "keel counted no frame sent" >&2; return 1; }
	echo "$n"
}

set_loglevel() {
	local saved

	saved=$(cut -f1 /proc/sys/kernel/printk)
	defer "echo $saved > /proc/sys/kernel/printk"
	# netconsole sends what passes the console log level
	echo 8 > /proc/sys/kernel/printk
}

test_idle() {
	local n

	set_loglevel
	defer target_down
	target_up || { fail "cannot set up a netconsole target on $NETIF"; return; }
	n=$(deliver "keel-netconsole-idle-$$" 20) ||
		{ fail "no measurement"; return; }
	[ "$n" -eq 20 ] || fail "$n of 20 messages arrived"
}

# netpoll under load: TCP in both directions keeps keel's NAPI and TX
# queues busy while netconsole sends
test_under_traffic() {
	local json n

	set_loglevel
	defer target_down
	target_up || { fail "cannot set up a netconsole target on $NETIF"; return; }
	json=$(mktemp)
	defer rm -f "$json"
	peer_iperf_server 30 || { fail "no iperf3 server"; return; }
	timeout -s KILL 30 iperf3 -c "$REMOTE_V4" -t 6 --bidir -J > "$json" &
	sleep 1
	flowing "before netconsole" both || { wait; return; }
	n=$(deliver "keel-netconsole-busy-$$" 50) ||
		{ wait; fail "no measurement"; return; }
	wait
	jq -e '.end.sum_received.bytes > 0 and (has("error") | not)' "$json" \
		> /dev/null || fail "iperf3 failed: $(jq -r .error "$json")"
	# UDP: under load a message may be lost on the wire or in the
	# peer's socket, but most get through
	[ "$n" -ge 40 ] || fail "$n of 50 messages arrived"
	ping -c 2 -w 5 "$REMOTE_V4" > /dev/null || fail "no ping afterwards"
}

ktap_run test_idle test_under_traffic
