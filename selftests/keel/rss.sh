#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Multiqueue receive: RSS spreads TCP flows from the peer over every
# queue (per-queue statistics from the netdev netlink family), the
# indirection table moves them, the key and hash fields are read back,
# and each queue is linked to its own NAPI instance, whose ID a socket
# sees.

# shellcheck source=./lib.sh
source "$(dirname "$0")/lib.sh"

NQ=$(ethtool -l "$NETIF" | awk '/^Current/ {c = 1} c && /^Combined/ {print $2}')

# rx_per_queue: "q0 q1 ..." rx-packets of every queue
rx_per_queue() {
	local q out=()

	for ((q = 0; q < NQ; q++)); do
		out+=("$(qstat rx-packets rx "$q")")
	done
	echo "${out[@]}"
}

# flows_from_peer N: N parallel TCP flows from the peer to keel, 3 s
flows_from_peer() {
	timeout -s KILL 20 iperf3 -s -1 > /dev/null 2>&1 &
	wait_for 5 sh -c "ss -ltn | grep -q ':5201 '" ||
		{ fail "the iperf3 server did not start"; wait; return 1; }
	peer timeout -s KILL 20 iperf3 -c "$LOCAL_V4" -P "$1" -t 3 \
		> /dev/null || { fail "iperf3 from the peer failed"; wait; return 1; }
	wait
}

# spread_delta: run 16 flows; DELTA holds the rx-packets each queue
# gained and TOTAL their sum, which must be above 1000
DELTA=()
TOTAL=0
spread_delta() {
	local before after i

	read -ra before <<< "$(rx_per_queue)"
	flows_from_peer 16 || return 1
	read -ra after <<< "$(rx_per_queue)"
	DELTA=()
	TOTAL=0
	for ((i = 0; i < NQ; i++)); do
		DELTA+=("$((after[i] - before[i]))")
		TOTAL=$((TOTAL + DELTA[i]))
	done
	echo "rx-packets per queue: ${DELTA[*]} (total $TOTAL)"
	[ "$TOTAL" -gt 1000 ] || { fail "only $TOTAL packets received"; return 1; }
}

test_defaults() {
	local key indir

	[ "$NQ" -eq "$(nproc)" ] ||
		fail "$NQ queue pairs by default, expected one per CPU ($(nproc))"
	key=$(ethtool -x "$NETIF" | sed -n '/RSS hash key/{n;p}')
	[ "$(tr -cd ':' <<< "$key" | wc -c)" -eq 39 ] ||
		fail "RSS key is not 40 bytes: $key"
	indir=$(ethtool -x "$NETIF" |
		awk '/^ *[0-9]+:/ {for (i = 2; i <= NF; i++) print $i}')
	[ "$(wc -l <<< "$indir")" -eq 128 ] ||
		fail "indirection table has $(wc -l <<< "$indir") entries"
	[ "$(sort -u <<< "$indir" | wc -l)" -eq "$NQ" ] ||
		fail "default table does not use all $NQ queues"
	ethtool -x "$NETIF" | grep -q "toeplitz: on" ||
		fail "hash function is not Toeplitz"
	ethtool -n "$NETIF" rx-flow-hash tcp4 | grep -q "L4 bytes 2 & 3" ||
		fail "tcp4 does not hash the ports"
}

# Each queue gets at least a quarter of its even share of 16 flows'
# packets (with two queues, 12.5%: fewer than two of the 16 flows hash
# to one queue in 0.05% of runs)
test_spread() {
	local i

	spread_delta || return
	for ((i = 0; i < NQ; i++)); do
		[ $((DELTA[i] * 4 * NQ)) -ge "$TOTAL" ] ||
			fail "queue $i got ${DELTA[i]} of $TOTAL packets"
	done
}

# all_on QUEUE: after the table points every entry at QUEUE, the other
# queues see (almost) nothing of 16 flows
all_on() {
	local want=$1

	echo "table -> queue $want"
	spread_delta || return
	[ $((DELTA[want] * 100)) -ge $((TOTAL * 99)) ] ||
		fail "queue $want got only ${DELTA[want]} of $TOTAL packets"
}

test_indir_moves_flows() {
	local w=()

	[ "$NQ" -ge 2 ] || fail "needs two queues, has $NQ"
	defer ethtool -X "$NETIF" default
	ethtool -X "$NETIF" equal 1 || fail "ethtool -X equal 1"
	all_on 0
	for ((i = 0; i < NQ; i++)); do
		w+=("$((i == NQ - 1 ? 1 : 0))")
	done
	ethtool -X "$NETIF" weight "${w[@]}" || fail "ethtool -X weight"
	all_on $((NQ - 1))
}

test_key() {
	local key

	key=$(for i in $(seq 1 40); do printf '%02x:' $((i * 7 % 256)); done)
	key=${key%:}
	defer ethtool -X "$NETIF" hkey "$(ethtool -x "$NETIF" |
		sed -n '/RSS hash key/{n;p}')"
	ethtool -X "$NETIF" hkey "$key" || fail "ethtool -X hkey"
	[ "$(ethtool -x "$NETIF" | sed -n '/RSS hash key/{n;p}')" = "$key" ] ||
		fail "key not read back"
	ethtool -X "$NETIF" hkey 01:02 2> /dev/null &&
		fail "a 2-byte key was accepted"
	ethtool -X "$NETIF" hfunc xor 2> /dev/null &&
		fail "hash function xor was accepted"
	return 0
}

# drops_errors: keel's RX and TX drop and error counters, summed
drops_errors() {
	local c sum=0

	for c in rx_errors rx_dropped rx_missed_errors rx_fifo_errors \
		tx_errors tx_dropped; do
		sum=$((sum + $(stat "$NETIF" "$c")))
	done
	echo "$sum"
}

# What upstream's hw/rss_ctx.py test_hitless_key_update means: a new key
# under traffic takes effect without a reset. The carrier does not
# drop, no counter of drops or errors moves, and the flows keep moving
# (the peer's iperf3 ends well, and keel receives after the update).
test_key_update_under_traffic() {
	local key out errs0 errs downs0 rx0 rx

	key=$(for i in $(seq 1 40); do printf '%02x:' $((i * 11 % 256)); done)
	key=${key%:}
	defer ethtool -X "$NETIF" hkey "$(ethtool -x "$NETIF" |
		sed -n '/RSS hash key/{n;p}')"
	out=$(mktemp)
	defer rm -f "$out"
	timeout -s KILL 30 iperf3 -s -1 > /dev/null 2>&1 &
	wait_for 5 sh -c "ss -ltn | grep -q ':5201 '" ||
		{ fail "the iperf3 server did not start"; return; }
	peer timeout -s KILL 30 iperf3 -c "$LOCAL_V4" -P 4 -t 6 -J > "$out" &
	sleep 1
	flowing "before the key update" tx || { wait; return; }
	errs0=$(drops_errors)
	downs0=$(carrier_count down)
	ethtool -X "$NETIF" hkey "$key" ||
		{ fail "ethtool -X hkey under traffic"; wait; return; }
	rx0=$(stat "$NETIF" rx_bytes)
	sleep 1
	rx=$(($(stat "$NETIF" rx_bytes) - rx0))
	wait
	errs=$(($(drops_errors) - errs0))
	echo "after the update: $rx bytes received in 1 s; drops and errors +$errs; iperf3 received $(jq -r .end.sum_received.bytes "$out") bytes, retransmits $(jq -r .end.sum_sent.retransmits "$out")"
	[ "$(ethtool -x "$NETIF" | sed -n '/RSS hash key/{n;p}')" = "$key" ] ||
		fail "the new key is not in place"
	[ "$(carrier_count down)" -eq "$downs0" ] ||
		fail "the carrier dropped during the key update"
	[ "$errs" -eq 0 ] || fail "$errs drops or errors during the key update"
	[ "$rx" -ge 262144 ] || fail "only $rx bytes received in 1 s after the update"
	jq -e '.end.sum_received.bytes > 0 and (has("error") | not)' "$out" \
		> /dev/null || fail "the peer's iperf3 failed: $(jq -r .error "$out")"
}

test_table_and_channels() {
	local indir

	defer ethtool -L "$NETIF" combined "$NQ"
	defer ethtool -X "$NETIF" default
	# Untouched table: re-spread over the new queue count
	ethtool -L "$NETIF" combined 1 || fail "ethtool -L combined 1"
	ethtool -L "$NETIF" combined "$NQ" || fail "ethtool -L back"
	indir=$(ethtool -x "$NETIF" |
		awk '/^ *[0-9]+:/ {for (i = 2; i <= NF; i++) print $i}')
	[ "$(sort -u <<< "$indir" | wc -l)" -eq "$NQ" ] ||
		fail "table not re-spread over $NQ queues"
	# A table the user set stays, and keeps its queues alive
	ethtool -X "$NETIF" equal 1 || fail "ethtool -X equal 1"
	ethtool -L "$NETIF" combined 1 || fail "ethtool -L combined 1"
	ethtool -L "$NETIF" combined "$NQ" || fail "ethtool -L back"
	indir=$(ethtool -x "$NETIF" |
		awk '/^ *[0-9]+:/ {for (i = 2; i <= NF; i++) print $i}')
	[ "$(sort -u <<< "$indir")" = 0 ] || fail "user table was reset"
	ethtool -X "$NETIF" weight 0 1 || fail "ethtool -X weight 0 1"
	ethtool -L "$NETIF" combined 1 2> /dev/null &&
		fail "channels dropped under a queue the table uses"
	return 0
}

# udp_ports_toggle FLOW: UDP ports into FLOW's hash (sdfn) and out (sd),
# each read back
udp_ports_toggle() {
	defer ethtool -N "$NETIF" rx-flow-hash "$1" sd
	ethtool -N "$NETIF" rx-flow-hash "$1" sdfn || fail "$1 sdfn"
	ethtool -n "$NETIF" rx-flow-hash "$1" | grep -q "L4 bytes 0 & 1" ||
		fail "$1 ports not read back"
	ethtool -N "$NETIF" rx-flow-hash "$1" sd || fail "$1 sd"
	ethtool -n "$NETIF" rx-flow-hash "$1" | grep -q "L4 bytes" &&
		fail "$1 ports still hashed"
}

test_flow_hash() {
	udp_ports_toggle udp4
	# bookworm's ethtool exits 0 even when the kernel refuses: check
	# the message and that nothing changed
	ethtool -N "$NETIF" rx-flow-hash tcp4 s 2>&1 |
		grep -q "Invalid argument" ||
		fail "tcp4 source address only was not refused"
	ethtool -n "$NETIF" rx-flow-hash tcp4 | grep -q "L4 bytes 2 & 3" ||
		fail "a refused tcp4 setting changed the hash"
	ethtool -N "$NETIF" rx-flow-hash sctp4 sdfn 2>&1 |
		grep -q "Invalid argument" ||
		fail "sctp4 with ports was not refused"
	ethtool -n "$NETIF" rx-flow-hash sctp4 | grep -q "L4 bytes" &&
		fail "a refused sctp4 setting changed the hash"
	# IPv6: TCP hashes the ports, UDP as set
	ethtool -n "$NETIF" rx-flow-hash tcp6 | grep -q "L4 bytes 2 & 3" ||
		fail "tcp6 does not hash the ports"
	udp_ports_toggle udp6
	return 0
}

TRACEFS=/sys/kernel/tracing
RX_EVENT=$TRACEFS/events/net/napi_gro_receive_entry

# rx_hashes COMMAND...: run COMMAND with the napi_gro_receive_entry
# event traced on keel's netdev; print "protocol hash l4_hash" for
# every packet keel handed to GRO meanwhile
rx_hashes() {
	[ -d "$TRACEFS/events" ] || mount -t tracefs nodev "$TRACEFS" ||
		return 1
	echo 0 > "$TRACEFS/tracing_on"
	echo > "$TRACEFS/trace"
	echo "name == \"$NETIF\"" > "$RX_EVENT/filter"
	echo 1 > "$RX_EVENT/enable"
	echo 1 > "$TRACEFS/tracing_on"
	"$@" > /dev/null 2>&1
	echo 0 > "$TRACEFS/tracing_on"
	echo 0 > "$RX_EVENT/enable"
	echo 0 > "$RX_EVENT/filter"
	sed -n 's/.*napi_gro_receive_entry:.* protocol=\(0x[0-9a-f]*\) .* hash=\(0x[0-9a-f]*\) l4_hash=\([01]\).*/\1 \2 \3/p' \
		"$TRACEFS/trace"
}

# hash_kinds FILE PROTOCOL: of the packets of PROTOCOL in FILE, "N
# without a hash, N with an L3 hash, N with an L4 hash"
hash_kinds() {
	awk -v p="$2" '$1 == p {
		if ($2 == "0x00000000") none++; else if ($3 == 1) l4++; else l3++
	} END { printf "%d %d %d\n", none, l3, l4 }' "$1"
}

# expect_hashes WHAT FILE PROTOCOL KIND MIN [OTHERS]: at least MIN
# packets of PROTOCOL in FILE of KIND (none, l3 or l4), and at most
# OTHERS (default 0) of another kind
expect_hashes() {
	local none l3 l4 got others=${6:-0}

	read -r none l3 l4 < <(hash_kinds "$2" "$3")
	echo "$1: $none without a hash, $l3 L3, $l4 L4"
	case $4 in
	none) got=$none ;;
	l3) got=$l3 ;;
	*) got=$l4 ;;
	esac
	if [ "$got" -lt "$5" ] ||
		[ $((none + l3 + l4 - got)) -gt "$others" ]; then
		fail "$1: $none without a hash, $l3 L3, $l4 L4 (want $4, $5 at least, $others of others at most)"
	fi
}

# udp_hashes FLOW DST PROTOCOL FILE: with rx-flow-hash FLOW sd, the
# peer's UDP datagrams to DST get an L3 hash; with sdfn an L4 hash
udp_hashes() {
	local mode kind

	defer ethtool -N "$NETIF" rx-flow-hash "$1" sd
	for mode in sd sdfn; do
		ethtool -N "$NETIF" rx-flow-hash "$1" "$mode" ||
			{ fail "$1 $mode"; return; }
		rx_hashes peer "$PY" "$FRAMES_PY" udp-send --dst "$2" \
			--port 9 --count 20 > "$4"
		kind=l3
		[ "$mode" = sd ] || kind=l4
		# (neighbour discovery may cross meanwhile)
		expect_hashes "UDP, $1 $mode" "$4" "$3" "$kind" 20 4
	done
}

# The RSS hash reaches the stack as an L4 hash when the ports were
# hashed (TCP; UDP with sdfn), as an L3 hash otherwise (ICMP; UDP with
# sd), never for frames that are not IP, and not at all with rxhash
# off: seen in the napi_gro_receive_entry trace event of every packet
test_rxhash() {
	local f

	f=$(mktemp)
	defer rm -f "$f"
	defer ethtool -K "$NETIF" rxhash on

	rx_hashes ping -c 5 -i 0.2 "$REMOTE_V4" > "$f" ||
		{ fail "no tracefs"; return; }
	expect_hashes "ICMP" "$f" 0x0800 l3 5

	peer_iperf_server 20 || { fail "no iperf3 server"; return; }
	rx_hashes timeout -s KILL 20 iperf3 -c "$REMOTE_V4" -t 1 -R > "$f"
	wait
	expect_hashes "TCP" "$f" 0x0800 l4 100
	peer_iperf_server 20 || { fail "no iperf3 server"; return; }
	rx_hashes timeout -s KILL 20 iperf3 -c "$REMOTE_V6" -t 1 -R > "$f"
	wait
	# IPv6 neighbour discovery (ICMPv6, an L3 hash) may cross meanwhile
	expect_hashes "TCP over IPv6" "$f" 0x86dd l4 100 4

	udp_hashes udp4 "$LOCAL_V4" 0x0800 "$f"
	udp_hashes udp6 "$LOCAL_V6" 0x86dd "$f"

	rx_hashes rx_frames "$(cat "/sys/class/net/$NETIF/address")" > "$f"
	expect_hashes "not IP (0x88b5)" "$f" 0x88b5 none 20

	ethtool -K "$NETIF" rxhash off || { fail "rxhash off"; return; }
	rx_hashes ping -c 5 -i 0.2 "$REMOTE_V4" > "$f"
	expect_hashes "rxhash off, ICMP" "$f" 0x0800 none 5
}

test_napi_links() {
	local q napis ids

	q=$("$PY" "$QSTATS_PY" "$NETIF" --queues)
	echo "$q"
	napis=$(jq -r 'select(.type == "rx") | .["napi-id"] // empty' <<< "$q")
	[ "$(wc -w <<< "$napis")" -eq "$NQ" ] ||
		fail "not every RX queue has a NAPI: $napis"
	[ "$(sort -u <<< "$napis" | wc -l)" -eq "$NQ" ] ||
		fail "RX queues share NAPIs: $napis"
	ids=$("$PY" "$QSTATS_PY" "$NETIF" --napi | jq -r '.irq // empty')
	[ "$(wc -w <<< "$ids")" -eq "$NQ" ] || fail "NAPIs without IRQ: $ids"
}

# A TCP socket that received through keel carries the NAPI ID of one
# of keel's RX queues (SO_INCOMING_NAPI_ID)
test_socket_napi_id() {
	local out napis id

	out=$(mktemp)
	defer rm -f "$out"
	napis=$("$PY" "$QSTATS_PY" "$NETIF" --queues |
		jq -r 'select(.type == "rx") | .["napi-id"]')
	"$PY" - "$LOCAL_V4" > "$out" <<'PYEOF' &
import socket
import sys

SO_INCOMING_NAPI_ID = 56
srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind((sys.argv[1], 5300))
srv.listen(1)
srv.settimeout(15)
print("ready", flush=True)
conn, _ = srv.accept()
conn.recv(100)
print(conn.getsockopt(socket.SOL_SOCKET, SO_INCOMING_NAPI_ID))
PYEOF
	wait_for 10 grep -q ready "$out" || fail "listener did not start"
	peer "$PY" -c "import socket; socket.create_connection(('$LOCAL_V4', 5300)).send(b'x' * 50)"
	wait
	id=$(tail -n 1 "$out")
	echo "socket NAPI ID $id; keel RX NAPIs: ${napis//$'\n'/ }"
	grep -qx "$id" <<< "$napis" || fail "NAPI ID $id is not one of keel's"
}

ktap_run test_defaults test_spread test_indir_moves_flows test_key \
	test_key_update_under_traffic test_table_and_channels test_rxhash test_flow_hash test_napi_links \
	test_socket_napi_id
