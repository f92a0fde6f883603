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

# listen FILE: a UDP listener in the peer on PORT, appending what it
# receives to FILE; fails when it does not listen within 10 s. Started
# before any traffic: on the debug kernel under load that takes seconds.
listen() {
	peer timeout 60 socat -u UDP-RECV:"$PORT" "OPEN:$1,append" &
	LISTENER=$!
	wait_for 10 peer sh -c "ss -lun | grep -q ':$PORT '" && return 0
	echo "the peer's UDP listener did not start"
	unlisten
	return 1
}

# unlisten: end listen's listener (killing its job would end only the
# job's shell, and socat would run on to its timeout)
unlisten() {
	pkill -f "socat -u UDP-RECV:$PORT " 2> /dev/null
	wait "$LISTENER"
}

# deliver TAG COUNT FILE: log COUNT kernel messages "TAG n" at warning
# level; DELIVERED is how many of them listen's listener wrote to FILE
# within a second. Fails when keel counted no frame sent.
deliver() {
	local tag=$1 count=$2 out=$3 tx i

	tx=$(stat "$NETIF" tx_packets)
	for i in $(seq 1 "$count"); do
		echo "<4>$tag $i" > /dev/kmsg
	done
	# netpoll sends at once; the listener has them within this settle
	# time
	sleep 1
	tx=$(($(stat "$NETIF" tx_packets) - tx))
	DELIVERED=$(grep -c "$tag [0-9]" "$out")
	echo "$tag: $DELIVERED of $count messages received, keel tx_packets +$tx"
	[ "$tx" -gt 0 ] || { echo "keel counted no frame sent"; return 1; }
}

set_loglevel() {
	local saved

	saved=$(cut -f1 /proc/sys/kernel/printk)
	defer "echo $saved > /proc/sys/kernel/printk"
	# netconsole sends what passes the console log level
	echo 8 > /proc/sys/kernel/printk
}

test_idle() {
	local out

	set_loglevel
	defer target_down
	target_up || { fail "cannot set up a netconsole target on $NETIF"; return; }
	out=$(mktemp)
	defer rm -f "$out"
	listen "$out" || { fail "no listener"; return; }
	deliver "keel-netconsole-idle-$$" 20 "$out" ||
		{ unlisten; fail "no measurement"; return; }
	unlisten
	[ "$DELIVERED" -eq 20 ] || fail "$DELIVERED of 20 messages arrived"
}

# netpoll under load: TCP in both directions keeps keel's NAPI and TX
# queues busy while netconsole sends
test_under_traffic() {
	local out

	set_loglevel
	defer target_down
	target_up || { fail "cannot set up a netconsole target on $NETIF"; return; }
	out=$(mktemp)
	defer rm -f "$out"
	listen "$out" || { fail "no listener"; return; }
	# Long enough for the debug kernel, where each read of the peer's
	# counters takes a second; stopped once the checks are done
	peer_iperf_server 90 || { unlisten; fail "no iperf3 server"; return; }
	timeout -s KILL 90 iperf3 -c "$REMOTE_V4" -t 60 --bidir > /dev/null &
	sleep 1
	if flowing "before netconsole" both; then
		deliver "keel-netconsole-busy-$$" 50 "$out" ||
			fail "no measurement"
		# netpoll took keel's TX queues and NAPI meanwhile: the flows
		# they carry must still move
		flowing "after netconsole" both
	fi
	unlisten
	pkill -x iperf3
	wait
	[ -z "$REASON" ] || return
	# UDP: under load a message may be lost on the wire or in the
	# peer's socket, but most get through
	[ "$DELIVERED" -ge 40 ] || fail "$DELIVERED of 50 messages arrived"
	ping -c 2 -w 5 "$REMOTE_V4" > /dev/null || fail "no ping afterwards"
}

ktap_run test_idle test_under_traffic
