#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Shared helpers for the keel selftests: KTAP output, deferred cleanup,
# the test topology written by scripts/guest-net, counters and waiting.

KSFT_PASS=0
KSFT_FAIL=1
KSFT_XFAIL=2
KSFT_SKIP=4

KEEL_ENV=${KEEL_ENV:-/run/keel/env}
if [ -z "${KEEL_NO_NET:-}" ]; then
	if [ ! -r "$KEEL_ENV" ]; then
		echo "Bail out! $KEEL_ENV missing: run scripts/guest-net up first"
		exit "$KSFT_FAIL"
	fi
	# shellcheck source=/dev/null
	. "$KEEL_ENV"
fi

SELFTEST_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$SELFTEST_DIR/../.." && pwd)
# kernel/keel.ko, or build/debug/kernel/keel.ko on the debug kernel
KEEL_KO=$("$REPO/scripts/keel-ko")
KEEL_BDF=${KEEL_BDF:-0000:01:00.0}
PY=/usr/bin/python3
FRAMES_PY=$SELFTEST_DIR/frames.py

peer() {
	ip netns exec "$PEER_NS" "$@"
}

frames() {
	"$PY" "$FRAMES_PY" "$@"
}

# rx_count DST [VID [count options]]: how many of 20 frames the peer
# sends to DST (802.1Q-tagged VID unless VID is 0 or missing) reach
# keel's netdev, counted by a packet socket, which leaves promiscuous
# mode alone (with --stats, a "stats" line first). Fails, printing
# nothing, when the count did not start or the peer's tx_packets did
# not count the 20 frames: a "none received" needs them sent.
rx_count() {
	local dst=$1 vid=${2:-0} out pid sent vlan=() rc=0

	shift 2 2> /dev/null || shift $#
	[ "$vid" -eq 0 ] || vlan=(--vlan "$vid")
	out=$(mktemp)
	frames count --ifname "$NETIF" --dst "$dst" "${vlan[@]}" \
		--duration 30 --stop-file "$out.stop" "$@" > "$out" &
	pid=$!
	if wait_for 10 grep -q ready "$out"; then
		sent=$(peer_stat tx_packets)
		peer "$PY" "$FRAMES_PY" send --ifname "$PEER_IF" --dst "$dst" \
			"${vlan[@]}" --count 20
		# Frames in flight land (and the peer's TX completions are
		# counted) well within this settle time
		sleep 1
		sent=$(($(peer_stat tx_packets) - sent))
	else
		echo "rx_count: the packet socket did not start" >&2
		rc=1
	fi
	touch "$out.stop"
	wait "$pid"
	if [ "$rc" -eq 0 ] && [ "$sent" -lt 20 ]; then
		echo "rx_count: the peer sent $sent of 20 frames to $dst" >&2
		rc=1
	fi
	[ "$rc" -eq 0 ] && grep -v ready "$out"
	rm -f "$out" "$out.stop"
	return "$rc"
}

# rx_frames DST: rx_count for untagged frames
rx_frames() {
	rx_count "$1"
}

# peer_iperf_server SECONDS: start a one-shot iperf3 server in the peer,
# killed after SECONDS at the latest, and wait until it listens (fails
# when it does not within 5 s)
peer_iperf_server() {
	peer timeout -s KILL "$1" iperf3 -s -1 > /dev/null 2>&1 &
	wait_for 5 peer sh -c "ss -ltn | grep -q ':5201 '" && return 0
	echo "no iperf3 server listening in the peer"
	return 1
}

# iperf_bytes [iperf3 client options]: a 3 s TCP test to the peer; the
# bytes the receiver got (fails when the peer's server does not listen)
iperf_bytes() {
	local json

	peer_iperf_server 20 || return 1
	json=$(timeout -s KILL 20 iperf3 -c "$REMOTE_V4" -t 3 -J "$@")
	wait
	jq -r '.end.sum_received.bytes // 0' <<< "$json"
}

# peer_bytes: the peer's "rx tx" byte counters
peer_bytes() {
	echo "$(peer cat "/sys/class/net/$PEER_IF/statistics/rx_bytes")" \
		"$(peer cat "/sys/class/net/$PEER_IF/statistics/tx_bytes")"
}

# flowing WHAT rx|tx|both [MIN]: the positive control of a test "under
# traffic": the peer received (rx: keel sends), sent (tx) or both at
# least MIN bytes (default 256 KiB, a twentieth of a second of the debug
# kernel's TCP), counted from now, within FLOWING_SECONDS (default 3)
# whole seconds; passes at the first second that has them. One second
# is not enough for both directions at once: on the debug kernel a
# bidirectional iperf3 stalls one direction for a second now and then
# (a loss recovered by a retransmission timeout; an iperf3 interval of
# 0 bytes seen).
FLOWING_SECONDS=${FLOWING_SECONDS:-3}

# moved DIR RX TX MIN: RX and TX bytes meet MIN in direction DIR
moved() {
	case $1 in
	rx) [ "$2" -ge "$4" ] ;;
	tx) [ "$3" -ge "$4" ] ;;
	*) [ "$2" -ge "$4" ] && [ "$3" -ge "$4" ] ;;
	esac
}

flowing() {
	local what=$1 dir=$2 min=${3:-262144} rx0 tx0 rx tx s

	read -r rx0 tx0 < <(peer_bytes)
	for s in $(seq 1 "$FLOWING_SECONDS"); do
		sleep 1
		read -r rx tx < <(peer_bytes)
		rx=$((rx - rx0))
		tx=$((tx - tx0))
		moved "$dir" "$rx" "$tx" "$min" && break
	done
	echo "$what: the peer received $rx and sent $tx bytes in $s s"
	moved "$dir" "$rx" "$tx" "$min" && return 0
	fail "$what: no traffic ($dir) flowing, floor $min bytes in $s s"
}

# Reason printed with a test's result line; set by fail/skip/xfail.
REASON=
# Set by fail: a test that failed once fails, whatever it returns after
_FAILED=
# The verdict skip or xfail asked for: a test function's exit code
# alone never makes a SKIP or an XFAIL (see ktap_run)
_VERDICT=

fail() {
	REASON="$*"
	_FAILED=1
	echo "FAIL: $*"
	return "$KSFT_FAIL"
}

skip() {
	REASON="$*"
	_VERDICT=$KSFT_SKIP
	return "$KSFT_SKIP"
}

xfail() {
	REASON="$*"
	_VERDICT=$KSFT_XFAIL
	return "$KSFT_XFAIL"
}

# Deferred cleanup, run in reverse order when the test function returns
DEFERRED=()

defer() {
	DEFERRED+=("$*")
}

run_deferred() {
	local i

	for ((i = ${#DEFERRED[@]} - 1; i >= 0; i--)); do
		eval "${DEFERRED[i]}" || echo "cleanup failed: ${DEFERRED[i]}"
	done
	DEFERRED=()
}

# wait_for SECONDS COMMAND...: poll until COMMAND succeeds
wait_for() {
	local deadline=$((SECONDS + $1))

	shift
	while ! "$@"; do
		[ "$SECONDS" -ge "$deadline" ] && return 1
		sleep 0.1
	done
}

# stat IFACE COUNTER: a counter from ndo_get_stats64 through sysfs
stat() {
	cat "/sys/class/net/$1/statistics/$2"
}

peer_stat() {
	peer cat "/sys/class/net/$PEER_IF/statistics/$1"
}

QSTATS_PY=$SELFTEST_DIR/qstats.py

# qstat KEY [TYPE QUEUE]: a queue statistic from the netdev netlink
# family (qstats-get): the device total, or one queue's ("rx 0", "tx 1").
# Prints 0 when the driver does not report KEY.
qstat() {
	local key=$1 type=${2:-dev} queue=${3:-0}

	"$PY" "$QSTATS_PY" "$NETIF" |
		jq -r --arg k "$key" --arg t "$type" --argjson q "$queue" \
			'select(.["queue-type"] == $t and
				($t == "dev" or .["queue-id"] == $q)) |
			 .[$k] // 0'
}

# keel's devlink instance, and its health reporters' state:
# reporter_field REPORTER KEY prints KEY of `devlink -j health show`
# ("error", "recover", "state", "auto_recover"...)
DL_DEV=pci/$KEEL_BDF

reporter_field() {
	devlink -j health show "$DL_DEV" reporter "$1" |
		jq -r --arg k "$2" '.health[][] | .[$k]'
}

# tx_dump FILE: a fresh dump of the tx reporter (the descriptors around
# each TX ring's head), as devlink -j prints it
tx_dump() {
	devlink health dump clear "$DL_DEV" reporter tx &&
		devlink -j health dump show "$DL_DEV" reporter tx > "$1"
}

# bql_capped CAP: every TX queue's BQL limit is at most CAP bytes
bql_capped() {
	local bql

	for bql in /sys/class/net/"$NETIF"/queues/tx-*/byte_queue_limits; do
		[ "$(cat "$bql/limit")" -le "$1" ] || return 1
	done
}

# hang_prepare: before a forced TX hang, make sure that a hung queue
# stops soon, so that the stack's watchdog sees it. After heavy traffic
# BQL's limit is megabytes, more than a stalled flow ever queues; a cap
# on limit_max takes effect at the queue's next completion, so TCP flows
# run until every queue's limit is under the cap (the flows hash onto
# queues: a few rounds may be needed, and their count is printed). The
# peer's address is resolved while the queues still work, and
# scripts/splat-scan is told to excuse keel's NETDEV WATCHDOG lines from
# here to the test's cleanup, and nothing else.
hang_prepare() {
	local bql rounds=0

	for bql in /sys/class/net/"$NETIF"/queues/tx-*/byte_queue_limits; do
		defer "echo $(cat "$bql/limit_max") > $bql/limit_max"
		echo 2000 > "$bql/limit_max"
	done
	while ! bql_capped 2000 && [ "$rounds" -lt 5 ]; do
		rounds=$((rounds + 1))
		peer_iperf_server 15 || break
		timeout -s KILL 10 iperf3 -c "$REMOTE_V4" -P 8 -t 1 \
			> /dev/null 2>&1
	done
	echo "BQL capped at 2000 bytes after $rounds round(s) of traffic"
	bql_capped 2000 || { fail "BQL limit still above 2000 bytes"; return 1; }
	ping -c 1 -W 2 "$REMOTE_V4" > /dev/null ||
		{ fail "no ping before the hang"; return 1; }
	echo "<4>KEEL-EXPECT: begin tx-timeout" > /dev/kmsg
	defer 'echo "<4>KEEL-EXPECT: end tx-timeout" > /dev/kmsg'
}

# hang_traffic: keep sending, so that a disabled queue fills and stops
hang_traffic() {
	timeout 40 ping -q -i 0.01 -s 1400 "$REMOTE_V4" > /dev/null 2>&1 &
	defer "kill $! 2> /dev/null; wait $! 2> /dev/null; true"
}

# rar0_mac: the address in receive address register 0, from words 43
# and 44 (RAL0, RAH0) of the register dump; nothing unless RAH0's
# address-valid bit is set
rar0_mac() {
	local w

	mapfile -t w < <(ethtool -d "$NETIF" raw on | od -An -tu4 -w4 -v |
		sed -n '44,45p')
	[ "${#w[@]}" -eq 2 ] && [ $((w[1] >> 31)) -eq 1 ] || return 0
	printf '%02x:%02x:%02x:%02x:%02x:%02x\n' $((w[0] & 0xff)) \
		$((w[0] >> 8 & 0xff)) $((w[0] >> 16 & 0xff)) $((w[0] >> 24)) \
		$((w[1] & 0xff)) $((w[1] >> 8 & 0xff))
}

# cur_channels, max_channels: keel's current and maximum combined
# channel counts (ethtool -l)
cur_channels() {
	ethtool -l "$NETIF" | awk '/^Current/ {c = 1} c && /^Combined/ {print $2; exit}'
}

max_channels() {
	ethtool -l "$NETIF" | awk '/^Pre-set/ {c = 1} c && /^Combined/ {print $2; exit}'
}

# carrier_is 0|1: keel's netdev is up and has (1) or has not (0) carrier.
# The carrier file reads EINVAL while the interface is down: neither
# holds then; use carrier_count.
carrier_is() {
	[ "$(cat "/sys/class/net/$NETIF/carrier" 2>/dev/null)" = "$1" ]
}

# carrier_count up|down: how many times the carrier went up or down
# since probe (readable while the interface is down)
carrier_count() {
	cat "/sys/class/net/$NETIF/carrier_$1_count"
}

# Find keel's netdev again (after insmod), bring it up with the test
# addresses and wait for carrier.
keel_setup_netdev() {
	local dev

	wait_for 10 test -d "/sys/bus/pci/devices/$KEEL_BDF/net" ||
		return 1
	dev=$(ls "/sys/bus/pci/devices/$KEEL_BDF/net")
	NETIF=$dev
	ip addr add "$LOCAL_V4/24" dev "$NETIF"
	ip addr add "$LOCAL_V6/64" dev "$NETIF" nodad
	ip link set "$NETIF" up
	wait_for 10 carrier_is 1
}

# replug: put port A back with the device_add that scripts/vm made it
# with, bind it to keel and bring it up (automatic probing is off
# meanwhile, so that igb, loaded for the peer, cannot take it)
replug() {
	local cmd rc=0

	cmd='{"execute": "device_add", "arguments": {"driver": "igb",
		"id": "nicA", "netdev": "netA", "mac": "52:54:00:4b:45:01",
		"bus": "rpA"}}'
	echo 0 > /sys/bus/pci/drivers_autoprobe
	if "$PY" "$REPO/scripts/qmp" raw "$cmd" > /dev/null; then
		wait_for 20 test -e "/sys/bus/pci/devices/$KEEL_BDF" || rc=1
	else
		rc=1
	fi
	echo 1 > /sys/bus/pci/drivers_autoprobe
	[ "$rc" -eq 0 ] || return 1
	echo keel > "/sys/bus/pci/devices/$KEEL_BDF/driver_override"
	echo "$KEEL_BDF" > /sys/bus/pci/drivers_probe
	keel_setup_netdev
}

keel_load() {
	insmod "$KEEL_KO" && keel_setup_netdev
}

# Counters of one test program
_NUM=0
_PASS=0
_FAIL=0
_XFAIL=0
_SKIP=0

# ktap_run TEST...: run test functions, each in a subshell with its
# deferred cleanup, and print KTAP results. KEEL_TESTS, when set, names
# the ones to run (make check-mutants runs single tests).
ktap_run() {
	local t rc reason_file start only=()

	if [ -n "${KEEL_TESTS:-}" ]; then
		for t in "$@"; do
			[[ " $KEEL_TESTS " == *" $t "* ]] && only+=("$t")
		done
		set -- "${only[@]}"
	fi
	echo "TAP version 13"
	echo "1..$#"
	reason_file=$(mktemp)
	for t in "$@"; do
		_NUM=$((_NUM + 1))
		start=$SECONDS
		(
			REASON=
			_FAILED=
			_VERDICT=
			"$t"
			rc=$?
			# PASS on 0; SKIP and XFAIL only when the test's last
			# command was the skip or xfail that set its verdict
			# (a command that happens to exit 2 or 4 is a failure)
			if [ -n "$_FAILED" ]; then
				rc=$KSFT_FAIL
			elif [ "$rc" -ne 0 ] && [ "$rc" != "$_VERDICT" ]; then
				echo "FAIL: $t returned $rc"
				REASON=${REASON:-returned $rc}
				rc=$KSFT_FAIL
			fi
			run_deferred
			echo "$REASON" > "$reason_file"
			exit "$rc"
		) 2>&1 | sed -u 's/^/# /'
		rc=${PIPESTATUS[0]}
		REASON=$(cat "$reason_file")
		echo "# $t: $((SECONDS - start)) s"
		case $rc in
		"$KSFT_PASS")
			_PASS=$((_PASS + 1))
			echo "ok $_NUM $t"
			;;
		"$KSFT_XFAIL")
			_XFAIL=$((_XFAIL + 1))
			echo "ok $_NUM $t # XFAIL $REASON"
			;;
		"$KSFT_SKIP")
			_SKIP=$((_SKIP + 1))
			echo "ok $_NUM $t # SKIP $REASON"
			;;
		*)
			_FAIL=$((_FAIL + 1))
			echo "not ok $_NUM $t${REASON:+ # $REASON}"
			;;
		esac
	done
	rm -f "$reason_file"
	echo "# Totals: pass:$_PASS fail:$_FAIL xfail:$_XFAIL xpass:0 skip:$_SKIP error:0"
	[ "$_FAIL" -eq 0 ]
}
