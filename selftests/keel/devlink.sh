#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# devlink: dev info (serial number, PBA, EEPROM version, checked against
# what the in-tree igb reads from the peer port's identical EEPROM), the
# physical port of the netdev, the tx and rx health reporters' diagnose
# and dump, recovery from `devlink health test` (automatic, and manual
# with auto_recover off), and clear errors for requests that cannot work.
# Disruptive: hangs and resets the device.

# shellcheck source=./lib.sh
source "$(dirname "$0")/lib.sh"

# channels: the combined channel count in use
channels() {
	ethtool -l "$NETIF" | awk '/^Current/ {c = 1} c && /^Combined/ {print $2}'
}

# ring_size rx|tx: descriptors per ring in use
ring_size() {
	ethtool -g "$NETIF" | awk -v k="${1^^}:" '/^Current/ {c = 1} c && $1 == k {print $2}'
}

test_info() {
	local info serial pba fw peer_pba peer_fw mac

	info=$(devlink -j dev info "$DL_DEV") || { fail "no dev info"; return; }
	echo "$info"
	serial=$(jq -r '.info[].serial_number // empty' <<< "$info")
	pba=$(jq -r '.info[].versions.fixed["board.id"] // empty' <<< "$info")
	fw=$(jq -r '.info[].versions.running.fw // empty' <<< "$info")
	[ "$(jq -r '.info[].driver' <<< "$info")" = keel ] ||
		fail "driver is not keel"

	# No PCIe DSN on QEMU's igb: the serial is the port's EEPROM MAC
	mac=$(ethtool -P "$NETIF" | awk '{print $3}')
	echo "serial $serial, permanent address $mac"
	[ "$serial" = "$mac" ] || fail "serial number $serial, not $mac"

	# The peer port has the same EEPROM; igb logs its PBA and reports
	# its image version as the firmware version
	peer_pba=$(dmesg | sed -n 's/.*igb .*PBA No: \([^ ]*\)$/\1/p' | tail -n 1)
	peer_fw=$(peer ethtool -i "$PEER_IF" | sed -n 's/^firmware-version: //p')
	echo "board.id $pba (igb: $peer_pba), fw $fw (igb: $peer_fw)"
	[[ $pba =~ ^[0-9A-Z]{6}-[0-9A-Z]{3}$ ]] ||
		fail "board.id '$pba' is not a PBA"
	[ "$pba" = "$peer_pba" ] || fail "board.id $pba, igb says $peer_pba"
	[[ $fw =~ ^[0-9]+\.[0-9]+(\.[0-9]+)?$ ]] ||
		fail "fw '$fw' is not an EEPROM version"
	[ "$fw" = "$peer_fw" ] || fail "fw $fw, igb says $peer_fw"
	# ethtool -i gets it from devlink, through the netdev's port
	ethtool -i "$NETIF" | grep -qx "firmware-version: $fw *" ||
		fail "ethtool -i does not show firmware $fw"
}

test_port() {
	local port

	port=$(devlink -j port show) || { fail "no devlink ports"; return; }
	echo "$port"
	jq -e --arg n "$NETIF" '.port | to_entries[] |
		select(.value.netdev == $n and
		       .value.flavour == "physical")' <<< "$port" > /dev/null ||
		fail "no physical devlink port with netdev $NETIF"
	ip -d link show "$NETIF" | grep -q "portname p0" ||
		fail "ip -d link shows no port name"
}

test_reporters() {
	local r

	devlink health show "$DL_DEV"
	for r in tx rx; do
		[ "$(reporter_field "$r" state)" = healthy ] ||
			fail "reporter $r missing or not healthy"
	done
}

# check_queues JSON DIR: the diagnose output of the DIR (tx, rx) reporter
# has one sane entry per queue of an idle device
check_queues() {
	local diag=$1 dir=$2 nq n count bad

	nq=$(channels)
	count=$(ring_size "$dir")
	n=$(jq '.queues | length' <<< "$diag")
	echo "$dir: $n queues in diagnose, $nq channels, rings of $count"
	[ "$n" -eq "$nq" ] || { fail "$dir: $n queues, $nq channels"; return; }
	# Idle: the device's head and tail are the driver's
	bad=$(jq -r --argjson c "$count" '.queues | to_entries[] |
		.key as $i | .value |
		select(.queue != $i or .count != $c or .enabled != true or
		       .sw_head >= $c or .sw_tail >= $c or
		       .hw_head != .sw_head or .hw_tail != .sw_tail or
		       (.stopped // false) != false) | .queue' <<< "$diag")
	[ -z "$bad" ] || fail "$dir: queues with bad state: $bad"
}

test_diagnose() {
	local tx rx pk0

	tx=$(devlink -j health diagnose "$DL_DEV" reporter tx) ||
		{ fail "no tx diagnose"; return; }
	pk0=$(jq '[.queues[].packets] | add' <<< "$tx")
	ping -c 5 -i 0.2 -W 2 "$REMOTE_V4" > /dev/null || fail "no ping"
	sleep 1
	tx=$(devlink -j health diagnose "$DL_DEV" reporter tx)
	rx=$(devlink -j health diagnose "$DL_DEV" reporter rx) ||
		{ fail "no rx diagnose"; return; }
	echo "tx: $tx"
	echo "rx: $rx"
	check_queues "$tx" tx
	check_queues "$rx" rx
	[ $(($(jq '[.queues[].packets] | add' <<< "$tx") - pk0)) -ge 5 ] ||
		fail "tx packets did not grow with 5 pings"
	jq -e '.mac_errors.crc == 0' <<< "$rx" > /dev/null ||
		fail "rx diagnose has no MAC error counters"
}

test_dump() {
	local dump nq

	dump=$(mktemp)
	defer rm -f "$dump"
	# An echo request of 56 bytes is a 98-byte frame in one descriptor
	ping -c 3 -i 0.2 -W 2 "$REMOTE_V4" > /dev/null || fail "no ping"
	tx_dump "$dump" || { fail "no tx dump"; return; }
	nq=$(channels)
	jq -c '.rings[] | {queue, count, sw_head, sw_tail, hw_head,
		descs: (.descriptors | length),
		first: .descriptors[0].index}' "$dump"
	[ "$(jq '.rings | length' "$dump")" -eq "$nq" ] ||
		fail "dump has not $nq rings"
	jq -e 'all(.rings[]; (.descriptors | length) > 0 and
		all(.descriptors[]; .index < 4096 and
		    (.qw0 | test("^[0-9a-f]{16}$")) and
		    (.qw1 | test("^[0-9a-f]{16}$"))))' "$dump" > /dev/null ||
		fail "dump descriptors malformed"
	"$PY" "$FRAMES_PY" tx-desc --dump "$dump" --frame-len 98 \
		--expect dtyp=3 eop=1 dd=1 ndesc=1 | sed -n 1,3p
	[ "${PIPESTATUS[0]}" -eq 0 ] ||
		fail "the pings' descriptors are not in the dump"
	devlink -j health dump show "$DL_DEV" reporter rx |
		jq -e '.rings[0].descriptors | length > 0' > /dev/null ||
		fail "no rx dump"
}

# reporter_grew REPORTER KEY FROM: KEY of REPORTER is above FROM
reporter_grew() {
	[ "$(reporter_field "$1" "$2")" -gt "$3" ]
}

test_health_test_recovers() {
	local err0 rec0 t0 t_rec dump

	err0=$(reporter_field tx error)
	rec0=$(reporter_field tx recover)
	devlink health dump clear "$DL_DEV" reporter tx
	hang_prepare || return
	devlink health test "$DL_DEV" reporter tx ||
		{ fail "devlink health test failed"; return; }
	t0=$SECONDS
	hang_traffic
	# The watchdog gives a queue 5 s, then checks every 5 s
	wait_for 20 reporter_grew tx recover "$rec0" ||
		{ fail "no recovery within 20 s of the hang"; return; }
	t_rec=$SECONDS
	wait_for 5 ping -c 1 -W 1 "$REMOTE_V4" > /dev/null ||
		fail "no ping within 5 s of the recovery"
	echo "hang at 0 s, recovered at $((t_rec - t0)) s, ping at $((SECONDS - t0)) s"
	devlink health show "$DL_DEV" reporter tx
	reporter_grew tx error "$err0" || fail "no error counted"
	[ "$(reporter_field tx state)" = healthy ] || fail "not healthy"

	# The dump taken when the timeout was reported shows the queues the
	# test disabled
	dump=$(devlink -j health dump show "$DL_DEV" reporter tx)
	jq -c '{reason, rings: [.rings[] | {queue, enabled, sw_head, sw_tail,
		hw_head, hw_tail}]}' <<< "$dump"
	jq -e '.reason == "a TX timeout" and
		any(.rings[]; .enabled == false)' <<< "$dump" > /dev/null ||
		fail "the automatic dump does not show the hang"
}

test_manual_recover() {
	local err0 rec0

	devlink health set "$DL_DEV" reporter tx auto_recover false ||
		{ fail "cannot turn auto_recover off"; return; }
	defer devlink health set "$DL_DEV" reporter tx auto_recover true
	# Whatever happens, leave the device working
	defer devlink health recover "$DL_DEV" reporter tx
	err0=$(reporter_field tx error)
	rec0=$(reporter_field tx recover)
	hang_prepare || return
	devlink health test "$DL_DEV" reporter tx ||
		{ fail "devlink health test failed"; return; }
	hang_traffic
	wait_for 20 reporter_grew tx error "$err0" ||
		{ fail "no error reported within 20 s of the hang"; return; }
	# Another watchdog period: still not recovered
	sleep 6
	devlink health show "$DL_DEV" reporter tx
	[ "$(reporter_field tx recover)" -eq "$rec0" ] ||
		{ fail "recovered with auto_recover off"; return; }
	[ "$(reporter_field tx state)" = error ] ||
		fail "state is not error before the manual recovery"
	ping -c 2 -W 1 "$REMOTE_V4" > /dev/null &&
		fail "ping works while the queues are hung"

	devlink health recover "$DL_DEV" reporter tx ||
		{ fail "devlink health recover failed"; return; }
	devlink health show "$DL_DEV" reporter tx
	[ "$(reporter_field tx recover)" -eq $((rec0 + 1)) ] ||
		fail "recover count did not grow by one"
	[ "$(reporter_field tx state)" = healthy ] ||
		fail "not healthy after devlink health recover"
	wait_for 5 ping -c 1 -W 1 "$REMOTE_V4" > /dev/null ||
		fail "no ping within 5 s of the recovery"
}

# expect_error WANT CMD...: CMD fails and says WANT
expect_error() {
	local want=$1 out

	shift
	if out=$("$@" 2>&1); then
		fail "'$*' succeeded"
		return
	fi
	echo "'$*': $out"
	grep -q "$want" <<< "$out" || fail "'$*' said '$out', not '$want'"
}

test_bad_requests() {
	expect_error "Operation not supported" \
		devlink health test "$DL_DEV" reporter rx
	expect_error "Invalid argument" \
		devlink health test "$DL_DEV" reporter nosuch
	ip link set "$NETIF" down
	defer wait_for 10 carrier_is 1
	defer ip link set "$NETIF" up
	expect_error "the interface is down" \
		devlink health test "$DL_DEV" reporter tx
}

ktap_run test_info test_port test_reporters test_diagnose test_dump \
	test_health_test_recovers test_manual_recover test_bad_requests
