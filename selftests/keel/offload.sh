#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Checksum and segmentation offloads. On transmit the peer's stack checks
# what keel's device checksummed (UDP, TCP, SCTP CRC32c) and receives TSO
# packets as MSS-sized frames; the queue statistics (netdev netlink) count
# the work. QEMU re-parses every header and ignores the context
# descriptor's lengths, so the descriptors themselves are read back from
# a devlink health dump of the tx reporter and decoded field by field. On receive, frames with a wrong L4
# checksum must reach the stack unverified (rx-csum-bad) and good ones
# verified (rx-csum-unnecessary). ethtool toggles turn each offload off.

# shellcheck source=./lib.sh
source "$(dirname "$0")/lib.sh"

UDP_PORT=5002
STREAM_PORT=5003
# A VLAN on both ends, for the descriptors of tagged packets
VLAN_LOCAL=198.51.100.1
VLAN_REMOTE=198.51.100.2

# mib [peer] NAME: a counter of the stack, nstat's name (UdpInCsumErrors)
# or one of /proc/net/sctp/snmp (SctpOutSCTPPacks)
mib() {
	local run=()

	if [ "$1" = peer ]; then
		run=(peer)
		shift
	fi
	case $1 in
	Sctp*)
		# shellcheck disable=SC2016  # awk's fields, not the shell's
		"${run[@]}" awk -v k="$1" '$1 == k {print $2}' \
			/proc/net/sctp/snmp
		;;
	*)
		"${run[@]}" nstat -asz "$1" | awk -v k="$1" '$1 == k {print $2}'
		;;
	esac
}

# qsnap: keel's queue statistics, the device totals, as one JSON object;
# qgrew BEFORE AFTER KEY: how much KEY grew between two snapshots
qsnap() {
	"$PY" "$QSTATS_PY" "$NETIF" | jq -c 'select(.["queue-type"] == "dev")'
}

qgrew() {
	jq -rn --argjson a "$1" --argjson b "$2" --arg k "$3" \
		'($b[$k] // 0) - ($a[$k] // 0)'
}

# udp_count RECEIVER DST COUNT SIZE [udp-send options]: send COUNT
# datagrams of SIZE bytes to DST, from keel (RECEIVER peer) or from the
# peer (RECEIVER keel); print how many the receiving socket got
udp_count() {
	local rx=$1 dst=$2 count=$3 size=$4 out pid tx=()

	shift 4
	out=$(mktemp)
	if [ "$rx" = peer ]; then
		peer timeout -s KILL 60 "$PY" "$FRAMES_PY" udp-recv \
			--port "$UDP_PORT" --duration 50 \
			--stop-file "$out.stop" > "$out" &
	else
		timeout -s KILL 60 "$PY" "$FRAMES_PY" udp-recv \
			--port "$UDP_PORT" --duration 50 \
			--stop-file "$out.stop" > "$out" &
		tx=(peer)
	fi
	pid=$!
	wait_for 10 grep -q ready "$out"
	"${tx[@]}" "$PY" "$FRAMES_PY" udp-send --dst "$dst" \
		--port "$UDP_PORT" --count "$count" --size "$size" "$@"
	# Datagrams in flight land well within this settle time
	sleep 1
	touch "$out.stop"
	wait "$pid"
	tail -n 1 "$out"
	rm -f "$out" "$out.stop"
}

# sink_start PROTO [stream-sink options]: a one-connection TCP or SCTP
# sink in the peer that checks the byte pattern; sink_wait waits for it
# and sets SINK_RES to its verdict, "bytes N bad M" (not in a subshell:
# only this shell can wait for the sink)
sink_start() {
	local proto=$1

	shift
	SINK_OUT=$(mktemp)
	peer timeout -s KILL 90 "$PY" "$FRAMES_PY" stream-sink \
		--proto "$proto" --port "$STREAM_PORT" "$@" > "$SINK_OUT" &
	SINK_PID=$!
	wait_for 10 grep -q ready "$SINK_OUT"
}

sink_wait() {
	wait "$SINK_PID"
	SINK_RES=$(tail -n 1 "$SINK_OUT")
	rm -f "$SINK_OUT"
}

# stream_send PROTO DST BYTES [stream-send options]: send to the sink
stream_send() {
	timeout -s KILL 60 "$PY" "$FRAMES_PY" stream-send --proto "$1" \
		--dst "$2" --port "$STREAM_PORT" --bytes "$3" "${@:4}"
}

# cap_start [tcpdump filter]: capture on the peer's port into the pcap
# file CAP; cap_stop ends it once the file stops growing and prints the
# capture's statistics; cap_frames prints each frame's length
cap_start() {
	CAP=$(mktemp)
	# Not through peer(): $! must be the capture itself, to stop it
	ip netns exec "$PEER_NS" timeout 90 tcpdump -i "$PEER_IF" -nn -U \
		-s 128 -w "$CAP" "$@" 2> "$CAP.err" &
	CAP_PID=$!
	wait_for 10 grep -q "listening on" "$CAP.err"
}

cap_size_settled() {
	local size

	size=$(wc -c < "$CAP")
	sleep 1
	[ "$(wc -c < "$CAP")" = "$size" ]
}

cap_stop() {
	wait_for 20 cap_size_settled
	kill "$CAP_PID"
	wait "$CAP_PID"
	grep -E "captured|dropped" "$CAP.err"
	rm -f "$CAP.err"
}

# "... ethertype IPv4 (0x0800), length 1514: ..."
cap_frames() {
	tcpdump -r "$CAP" -nn -e 2> /dev/null |
		sed -n 's/.*, length \([0-9]*\): .*/\1/p'
}

# dump_up: the tx reporter can dump its rings
dump_up() {
	DUMP=$(mktemp)
	defer rm -f "$DUMP"
	tx_dump "$DUMP"
}

vlan_up() {
	ip link add link "$NETIF" name kv10 type vlan id 10 \
		egress-qos-map 5:5 || return
	defer ip link del kv10
	ip addr add "$VLAN_LOCAL/24" dev kv10
	ip link set kv10 up
	peer ip link add link "$PEER_IF" name pv10 type vlan id 10 || return
	defer peer ip link del pv10
	peer ip addr add "$VLAN_REMOTE/24" dev pv10
	peer ip link set pv10 up
	ping -c 1 -W 5 "$VLAN_REMOTE" > /dev/null
}

# check_tx_csum_udp DST MIB [udp-send options]
check_tx_csum_udp() {
	local dst=$1 mib=$2 n=50 q0 err0 got csum err

	shift 2
	q0=$(qsnap)
	err0=$(mib peer "$mib")
	got=$(udp_count peer "$dst" "$n" 200 "$@")
	csum=$(qgrew "$q0" "$(qsnap)" tx-needs-csum)
	err=$(($(mib peer "$mib") - err0))
	echo "peer received $got of $n; peer $mib +$err; tx-needs-csum +$csum"
	[ "$got" -eq "$n" ] || { fail "peer received $got of $n"; return; }
	[ "$err" -eq 0 ] || { fail "peer counted $err checksum errors"; return; }
	[ "$csum" -ge "$n" ] ||
		fail "tx-needs-csum grew by $csum for $n datagrams"
}

test_tx_csum_udp4() {
	check_tx_csum_udp "$REMOTE_V4" UdpInCsumErrors
}

test_tx_csum_udp6() {
	check_tx_csum_udp "$REMOTE_V6" Udp6InCsumErrors
}

# With an extension header between IPv6 and UDP the stack computes the
# checksum itself: NETIF_F_IPV6_CSUM covers a bare IPv6 header only
# (__ip6_append_data offloads only when the headers are exactly
# struct ipv6hdr). keel gets no checksum to do (tx-needs-csum stays),
# and the peer finds every checksum good.
test_tx_csum_udp6_exthdr() {
	local cap n=50 q0 err0 got csum err

	cap=$(mktemp)
	defer rm -f "$cap"
	peer timeout 20 tcpdump -i "$PEER_IF" -nn -c 5 -w "$cap" \
		"ip6 and dst $REMOTE_V6" 2> /dev/null &
	sleep 1
	q0=$(qsnap)
	err0=$(mib peer Udp6InCsumErrors)
	got=$(udp_count peer "$REMOTE_V6" "$n" 200 --dstopts)
	csum=$(qgrew "$q0" "$(qsnap)" tx-needs-csum)
	err=$(($(mib peer Udp6InCsumErrors) - err0))
	echo "peer received $got of $n; peer Udp6InCsumErrors +$err; tx-needs-csum +$csum"
	[ "$got" -eq "$n" ] || fail "peer received $got of $n"
	[ "$err" -eq 0 ] || fail "peer counted $err checksum errors"
	[ "$csum" -eq 0 ] ||
		fail "tx-needs-csum grew by $csum: the stack offloaded a checksum behind an extension header"
	wait
	# The positive control: the datagrams did carry the header
	tcpdump -r "$cap" -nn -v 2> /dev/null | grep -q "DSTOPT" ||
		fail "no destination options header on the wire"
}

test_tx_csum_tcp() {
	local dst n=40 q0 err0 res csum err

	# One segment per write: each waits for the peer's acknowledgement,
	# so nothing is coalesced into TSO packets
	for dst in "$REMOTE_V4" "$REMOTE_V6"; do
		q0=$(qsnap)
		err0=$(mib peer TcpInCsumErrors)
		sink_start tcp --ack-every 1000
		stream_send tcp "$dst" $((n * 1000)) --write 1000 --pingpong ||
			fail "sending to $dst failed"
		sink_wait
		res=$SINK_RES
		csum=$(qgrew "$q0" "$(qsnap)" tx-needs-csum)
		err=$(($(mib peer TcpInCsumErrors) - err0))
		echo "to $dst: peer $res; TcpInCsumErrors +$err; tx-needs-csum +$csum"
		[ "$res" = "bytes $((n * 1000)) bad 0" ] ||
			{ fail "to $dst: peer got $res"; return; }
		[ "$err" -eq 0 ] ||
			{ fail "peer counted $err TCP checksum errors"; return; }
		[ "$csum" -ge "$n" ] ||
			{ fail "tx-needs-csum grew by $csum for $n segments"; return; }
	done
}

test_tx_sctp_crc() {
	local bytes=100000 q0 err0 pk0 res csum err pk

	modprobe sctp || { fail "cannot load sctp"; return; }
	ethtool -k "$NETIF" | grep -q "tx-checksum-sctp: on" ||
		{ fail "tx-checksum-sctp is not on"; return; }
	q0=$(qsnap)
	err0=$(mib peer SctpChecksumErrors)
	pk0=$(mib SctpOutSCTPPacks)
	sink_start sctp
	stream_send sctp "$REMOTE_V4" "$bytes" --write 1000 ||
		fail "SCTP send failed"
	sink_wait
	res=$SINK_RES
	csum=$(qgrew "$q0" "$(qsnap)" tx-needs-csum)
	err=$(($(mib peer SctpChecksumErrors) - err0))
	pk=$(($(mib SctpOutSCTPPacks) - pk0))
	echo "peer $res; SctpChecksumErrors +$err"
	echo "keel sent $pk SCTP packets; tx-needs-csum +$csum"
	[ "$res" = "bytes $bytes bad 0" ] ||
		{ fail "peer got $res of $bytes"; return; }
	[ "$err" -eq 0 ] ||
		{ fail "peer counted $err SCTP checksum errors"; return; }
	[ "$pk" -gt 0 ] || { fail "SctpOutSCTPPacks did not grow"; return; }
	[ "$csum" -ge "$pk" ] ||
		fail "tx-needs-csum grew by $csum for $pk SCTP packets"
}

# check_tso DST: a bulk TCP transfer in 64 KB writes leaves as MSS-sized
# frames (captured on the peer with its GRO off) and is counted as TSO
check_tso() {
	local dst=$1 bytes=4000000 q0 q1 err0 res gp gb err frames max full

	peer ethtool -K "$PEER_IF" gro off
	defer peer ethtool -K "$PEER_IF" gro on
	q0=$(qsnap)
	err0=$(mib peer TcpInCsumErrors)
	cap_start tcp dst port "$STREAM_PORT"
	defer rm -f "$CAP"
	sink_start tcp
	stream_send tcp "$dst" "$bytes" --write 65536 || fail "send failed"
	sink_wait
	res=$SINK_RES
	cap_stop
	q1=$(qsnap)
	gp=$(qgrew "$q0" "$q1" tx-hw-gso-packets)
	gb=$(qgrew "$q0" "$q1" tx-hw-gso-bytes)
	err=$(($(mib peer TcpInCsumErrors) - err0))
	read -r frames max full <<< "$(cap_frames |
		awk '{n++; if ($1 > m) m = $1; if ($1 == 1514) f++}
		     END {print n + 0, m + 0, f + 0}')"
	echo "peer $res; captured $frames frames, largest $max, $full of 1514 bytes"
	echo "peer TcpInCsumErrors +$err; tx-hw-gso-packets +$gp, tx-hw-gso-bytes +$gb"
	[ "$res" = "bytes $bytes bad 0" ] ||
		{ fail "peer got $res of $bytes"; return; }
	[ "$err" -eq 0 ] ||
		{ fail "peer counted $err TCP checksum errors"; return; }
	# At least half of the minimum number of frames, or the capture
	# is too incomplete to judge
	[ "$frames" -ge $((bytes / 1448 / 2)) ] ||
		{ fail "only $frames frames captured"; return; }
	[ "$max" -le 1514 ] ||
		{ fail "frames on the wire up to $max bytes"; return; }
	# Most frames are full-sized (the peer may miss some under load)
	[ "$full" -ge $((frames / 2)) ] ||
		{ fail "only $full of $frames frames are MSS-sized"; return; }
	[ "$gp" -gt 0 ] || { fail "tx-hw-gso-packets did not grow"; return; }
	[ "$gb" -ge $((bytes / 2)) ] ||
		fail "tx-hw-gso-bytes grew by $gb for $bytes bytes sent"
}

test_tso4() {
	check_tso "$REMOTE_V4"
}

test_tso6() {
	check_tso "$REMOTE_V6"
}

# desc CASE FRAME_LEN|mss:MSS FIELD=VALUE...: the descriptors of the
# packets of that length (or TSO packets with that MSS) in every TX ring
# have these fields
desc() {
	local what=$1 sel

	shift
	echo "$what:"
	case $1 in
	mss:*) sel=(--mss "${1#mss:}") ;;
	*) sel=(--frame-len "$1") ;;
	esac
	shift
	if ! tx_dump "$DUMP"; then
		BAD_CASES+="${BAD_CASES:+, }$what: no dump"
		return 1
	fi
	"$PY" "$FRAMES_PY" tx-desc --dump "$DUMP" "${sel[@]}" --expect \
		dtyp=3 dext=1 ifcs=1 rs=1 dd=1 idx=0 "$@" | sed 's/^/  /'
	[ "${PIPESTATUS[0]}" -eq 0 ] && return
	BAD_CASES+="${BAD_CASES:+, }$what"
	return 1
}

CTX=(ctx=1 ctx_dtyp=2 ctx_dext=1 ctx_idx=0)

# tso_desc WHAT DST MSS IPLEN IXSM IPV4 [VLAN fields]: send 20000 bytes in
# one write on a connection of that MSS and check its TSO descriptors
tso_desc() {
	local what=$1 dst=$2 iplen=$4 out mss hdr

	sink_start tcp
	out=$(stream_send tcp "$dst" 20000 --write 20000 --mss "$3")
	sink_wait
	[ "$SINK_RES" = "bytes 20000 bad 0" ] ||
		BAD_CASES+="${BAD_CASES:+, }$what: peer got $SINK_RES"
	# "sent 20000 mss 1088 tcp_hdr 32"
	read -r _ _ _ mss _ hdr <<< "$out"
	desc "$what (MSS $mss, TCP header $hdr)" "mss:$mss" "${CTX[@]}" \
		tse=1 txsm=1 "ixsm=$5" "ipv4=$6" l4t=tcp maclen=14 \
		"iplen=$iplen" "l4len=$hdr" "hdrlen=$((14 + iplen + hdr))" \
		"${@:7}"
}

test_ctx_encoding() {
	local out hdr

	BAD_CASES=
	dump_up || { fail "no devlink health dump of the tx reporter"; return; }
	vlan_up || { fail "VLAN 10 does not work"; return; }
	modprobe sctp

	frames udp-send --dst "$REMOTE_V4" --count 1 --size 301
	desc "UDP/IPv4" 343 "${CTX[@]}" maclen=14 iplen=20 l4t=udp ipv4=1 \
		txsm=1 tse=0 vle=0 vlan=0 paylen=343

	# Router alert: a 4-byte IPv4 option
	frames udp-send --dst "$REMOTE_V4" --count 1 --size 303 \
		--ip-options 94040000
	desc "UDP/IPv4 with options" 349 "${CTX[@]}" maclen=14 iplen=24 \
		l4t=udp ipv4=1 txsm=1 tse=0 paylen=349

	frames udp-send --dst "$REMOTE_V6" --count 1 --size 305
	desc "UDP/IPv6" 367 "${CTX[@]}" maclen=14 iplen=40 l4t=udp ipv4=0 \
		txsm=1 tse=0 paylen=367

	sink_start tcp --ack-every 309
	out=$(stream_send tcp "$REMOTE_V6" 309 --write 309 --pingpong)
	sink_wait
	read -r _ _ _ _ _ hdr <<< "$out"
	desc "TCP/IPv6 (TCP header ${hdr:-?})" $((14 + 40 + hdr + 309)) \
		"${CTX[@]}" maclen=14 iplen=40 l4t=tcp ipv4=0 txsm=1 tse=0 \
		paylen=$((14 + 40 + hdr + 309))

	# Common header 12, DATA chunk header 16
	sink_start sctp
	stream_send sctp "$REMOTE_V4" 312 --write 312 > /dev/null
	sink_wait
	desc "SCTP/IPv4" 374 "${CTX[@]}" maclen=14 iplen=20 l4t=sctp \
		ipv4=1 txsm=1 tse=0 paylen=374

	tso_desc "TSO/IPv4" "$REMOTE_V4" 1100 20 1 1 vle=0
	tso_desc "TSO/IPv6" "$REMOTE_V6" 1200 40 0 0 vle=0

	# Through the VLAN device: the tag goes in the context descriptor,
	# the frame in memory has none
	frames udp-send --dst "$VLAN_REMOTE" --count 1 --size 311
	desc "UDP/IPv4 on VLAN 10" 353 "${CTX[@]}" vle=1 vlan=10 maclen=14 \
		iplen=20 l4t=udp ipv4=1 txsm=1 tse=0 paylen=353

	# Priority 5 maps to PCP 5: the whole TCI is in the descriptor
	frames udp-send --dst "$VLAN_REMOTE" --count 1 --size 315 --priority 5
	desc "UDP/IPv4 on VLAN 10, PCP 5" 357 "${CTX[@]}" vle=1 \
		vlan=$(((5 << 13) | 10)) maclen=14 iplen=20 l4t=udp txsm=1 \
		paylen=357

	# No checksum to offload: a context descriptor for the tag alone
	ping -c 1 -W 5 -s 313 "$VLAN_REMOTE" > /dev/null
	desc "ICMP/IPv4 on VLAN 10" 355 "${CTX[@]}" vle=1 vlan=10 maclen=14 \
		txsm=0 ixsm=0 tse=0 paylen=355

	tso_desc "TSO/IPv4 on VLAN 10" "$VLAN_REMOTE" 1300 20 1 1 vle=1 \
		vlan=10
	[ -z "$BAD_CASES" ] || fail "descriptors wrong: $BAD_CASES"
}

test_rx_csum_good() {
	local n=30 q0 q1 got4 got6 good bad

	q0=$(qsnap)
	got4=$(udp_count keel "$LOCAL_V4" "$n" 300)
	got6=$(udp_count keel "$LOCAL_V6" "$n" 300)
	q1=$(qsnap)
	good=$(qgrew "$q0" "$q1" rx-csum-unnecessary)
	bad=$(qgrew "$q0" "$q1" rx-csum-bad)
	echo "received $got4 + $got6 of $n + $n"
	echo "rx-csum-unnecessary +$good, rx-csum-bad +$bad"
	[ "$got4" -eq "$n" ] || { fail "IPv4: received $got4 of $n"; return; }
	[ "$got6" -eq "$n" ] || { fail "IPv6: received $got6 of $n"; return; }
	[ "$bad" -eq 0 ] || { fail "rx-csum-bad grew by $bad"; return; }
	[ "$good" -ge $((2 * n)) ] ||
		fail "rx-csum-unnecessary grew by $good for $((2 * n)) datagrams"
}

# bad_csum_frames: the peer sends N UDP/IPv4, TCP/IPv4 and UDP/IPv6 frames
# with a wrong L4 checksum to keel; keel listens on none of the ports
BAD_N=20

bad_csum_frames() {
	local mac

	mac=$(cat "/sys/class/net/$NETIF/address")
	peer "$PY" "$FRAMES_PY" l4-send --ifname "$PEER_IF" --dst "$mac" \
		--src-ip "$REMOTE_V4" --dst-ip "$LOCAL_V4" --proto udp \
		--bad-csum --count "$BAD_N"
	peer "$PY" "$FRAMES_PY" l4-send --ifname "$PEER_IF" --dst "$mac" \
		--src-ip "$REMOTE_V4" --dst-ip "$LOCAL_V4" --proto tcp \
		--bad-csum --count "$BAD_N"
	peer "$PY" "$FRAMES_PY" l4-send --ifname "$PEER_IF" --dst "$mac" \
		--src-ip "$REMOTE_V6" --dst-ip "$LOCAL_V6" --proto udp \
		--bad-csum --count "$BAD_N"
	sleep 1
}

# check_rx_bad COUNTER: after bad_csum_frames, COUNTER (rx-csum-bad or
# rx-csum-none) grew by all of them and the stack found every one bad
check_rx_bad() {
	local key=$1 other=$2 q0 q1 u0 t0 u60 k o u t u6 all=$((3 * BAD_N))

	q0=$(qsnap)
	u0=$(mib UdpInCsumErrors)
	t0=$(mib TcpInCsumErrors)
	u60=$(mib Udp6InCsumErrors)
	bad_csum_frames
	q1=$(qsnap)
	k=$(qgrew "$q0" "$q1" "$key")
	o=$(qgrew "$q0" "$q1" "$other")
	u=$(($(mib UdpInCsumErrors) - u0))
	t=$(($(mib TcpInCsumErrors) - t0))
	u6=$(($(mib Udp6InCsumErrors) - u60))
	echo "sent $BAD_N each of UDP/IPv4, TCP/IPv4, UDP/IPv6 with bad checksums"
	echo "$key +$k, $other +$o"
	echo "UdpInCsumErrors +$u, TcpInCsumErrors +$t, Udp6InCsumErrors +$u6"
	if [ "$u" -ne "$BAD_N" ] || [ "$t" -ne "$BAD_N" ] ||
	   [ "$u6" -ne "$BAD_N" ]; then
		fail "the stack did not find all $all checksums bad"
		return
	fi
	if [ "$key" = rx-csum-bad ]; then
		[ "$k" -eq "$all" ] ||
			{ fail "rx-csum-bad grew by $k for $all frames"; return; }
	else
		[ "$k" -ge "$all" ] ||
			{ fail "$key grew by $k for $all frames"; return; }
		[ "$o" -eq 0 ] || { fail "$other grew by $o"; return; }
	fi
}

test_rx_csum_bad() {
	check_rx_bad rx-csum-bad rx-csum-unnecessary || return
	# Without RX checksumming the device's verdict is not used at all
	ethtool -K "$NETIF" rx off > /dev/null ||
		{ fail "cannot turn rx off"; return; }
	defer ethtool -K "$NETIF" rx on
	check_rx_bad rx-csum-none rx-csum-bad
}

# tx_traffic: 30 UDP datagrams and 1 MB of TCP to the peer; sets TX_Q
# (qsnap before and after, newline-separated) and TX_RES (what the peer
# got: "30 bytes 1000000 bad 0" when nothing was lost)
tx_traffic() {
	local q0 got

	q0=$(qsnap)
	got=$(udp_count peer "$REMOTE_V4" 30 200)
	sink_start tcp
	stream_send tcp "$REMOTE_V4" 1000000 > /dev/null
	sink_wait
	TX_RES="$got $SINK_RES"
	TX_Q=$(printf '%s\n%s' "$q0" "$(qsnap)")
}

# tx_grew KEY: how much KEY grew during the last tx_traffic
tx_grew() {
	qgrew "$(head -n 1 <<< "$TX_Q")" "$(tail -n 1 <<< "$TX_Q")" "$1"
}

TX_FEATURES=(tx-checksum-ipv4 tx-checksum-ipv6 tx-checksum-sctp
	     tx-tcp-segmentation tx-tcp6-segmentation)

# tx_features VALUE: turn every one of TX_FEATURES on or off
tx_features() {
	local f args=()

	for f in "${TX_FEATURES[@]}"; do
		args+=("$f" "$1")
	done
	ethtool -K "$NETIF" "${args[@]}" > /dev/null
}

test_toggles() {
	local c g res pk0 pk

	defer tx_features on
	ethtool -K "$NETIF" tx off > /dev/null ||
		{ fail "cannot turn tx off"; return; }
	ethtool -k "$NETIF" | grep -q "tcp-segmentation-offload: off" ||
		{ fail "TSO still on without TX checksumming"; return; }
	tx_traffic
	c=$(tx_grew tx-needs-csum)
	g=$(tx_grew tx-hw-gso-packets)
	echo "tx off: peer got $TX_RES; tx-needs-csum +$c, tx-hw-gso-packets +$g"
	[ "$TX_RES" = "30 bytes 1000000 bad 0" ] ||
		{ fail "tx off: traffic lost"; return; }
	[ "$c" -eq 0 ] || { fail "tx off: tx-needs-csum +$c"; return; }
	[ "$g" -eq 0 ] || { fail "tx off: tx-hw-gso-packets +$g"; return; }

	tx_features on
	ethtool -K "$NETIF" tso off > /dev/null ||
		{ fail "cannot turn tso off"; return; }
	tx_traffic
	c=$(tx_grew tx-needs-csum)
	g=$(tx_grew tx-hw-gso-packets)
	echo "tso off: peer got $TX_RES; tx-needs-csum +$c, tx-hw-gso-packets +$g"
	[ "$TX_RES" = "30 bytes 1000000 bad 0" ] ||
		{ fail "tso off: traffic lost"; return; }
	[ "$g" -eq 0 ] || { fail "tso off: tx-hw-gso-packets +$g"; return; }
	# Software GSO hands the device one checksum per segment
	[ "$c" -ge $((30 + 1000000 / 1448)) ] ||
		{ fail "tso off: tx-needs-csum grew by only $c"; return; }

	tx_features on
	ethtool -K "$NETIF" tx-checksum-sctp off > /dev/null ||
		{ fail "cannot turn tx-checksum-sctp off"; return; }
	modprobe sctp
	pk0=$(mib SctpOutSCTPPacks)
	TX_Q=$(qsnap)
	sink_start sctp
	stream_send sctp "$REMOTE_V4" 50000 --write 1000 > /dev/null
	sink_wait
	res=$SINK_RES
	TX_Q+=$'\n'$(qsnap)
	c=$(tx_grew tx-needs-csum)
	pk=$(($(mib SctpOutSCTPPacks) - pk0))
	echo "tx-checksum-sctp off: peer got $res in $pk SCTP packets; tx-needs-csum +$c"
	[ "$res" = "bytes 50000 bad 0" ] ||
		{ fail "tx-checksum-sctp off: traffic lost"; return; }
	[ "$c" -eq 0 ] || fail "tx-checksum-sctp off: tx-needs-csum +$c"
}

ktap_run test_tx_csum_udp4 test_tx_csum_udp6 test_tx_csum_udp6_exthdr \
	test_tx_csum_tcp \
	test_tx_sctp_crc test_tso4 test_tso6 test_ctx_encoding \
	test_rx_csum_good test_rx_csum_bad test_toggles
