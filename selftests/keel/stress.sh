#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Stress and faults, run on the debug kernel (KASAN, lockdep, DMA-API
# debug, kmemleak: scripts/run-selftests debug-keel and stress):
#   - reconfiguration (-L, -G, down/up, offline self-test) racing forced
#     TX hangs and their recovery, under bidirectional traffic;
#   - rmmod/insmod cycles under traffic;
#   - link flaps through QMP;
#   - PCIe errors: QEMU's AER injection reaches the device's registers
#     but QEMU's igb never reports it (checked), so the kernel's
#     aer_inject stands in: a correctable error is counted, and a
#     non-fatal one runs keel's pci_error_handlers under traffic;
#   - allocation failures: keel's page allocations in RX refill under
#     traffic (fail_page_alloc, filtered to keel's stack), and the Nth
#     allocation of open, -G and -L failed one after another (failslab
#     and fail_page_alloc through this task's /proc/thread-self/fail-nth,
#     so that only keel's request fails).
# Every stress measures the bytes the peer sent and received while it
# ran (the peer's own igb counters) against a floor, and checks that
# traffic flows afterwards. Counts are bounded for make check
# (KEEL_STRESS=check) and larger for make stress (KEEL_STRESS=full).
# The fault cases need the debug kernel's fault injection.

# shellcheck source=./lib.sh
source "$(dirname "$0")/lib.sh"

QMP="$PY $REPO/scripts/qmp"
FAILNTH_PY=$SELFTEST_DIR/failnth.py
AER_PY=$SELFTEST_DIR/aer.py
DBGFS=/sys/kernel/debug

case ${KEEL_STRESS:-check} in
full)
	RACE_OPS=200 RELOADS=100 FLAPS=200
	;;
*)
	RACE_OPS=40 RELOADS=10 FLAPS=20
	;;
esac
# Bytes each way that a stress must have moved: about a second of the
# debug kernel's TCP (~50 Mbit/s), far below what any stress here moves
# when the datapath works between operations
FLOOR=$((4 * 1024 * 1024))

# traffic_start: bidirectional TCP between keel and the peer until the
# test's cleanup. A client that loses its connection to an operation is
# started again: what counts is what moved (traffic_moved), not any
# one client's result.
traffic_start() {
	peer timeout -s KILL 3000 iperf3 -s > /dev/null 2>&1 &
	wait_for 5 peer sh -c "ss -ltn | grep -q ':5201 '" ||
		{ fail "no iperf3 server in the peer"; return 1; }
	(
		while :; do
			timeout -s KILL 40 iperf3 -c "$REMOTE_V4" --bidir -t 30 \
				--connect-timeout 2000 > /dev/null 2>&1 ||
				sleep 0.5
		done
	) &
	TRAFFIC_LOOP=$!
	defer traffic_stop
	read -r TRAFFIC_RX0 TRAFFIC_TX0 < <(peer_bytes)
}

traffic_stop() {
	[ -n "${TRAFFIC_LOOP:-}" ] || return 0
	kill "$TRAFFIC_LOOP" 2> /dev/null
	pkill -KILL -x iperf3
	wait 2> /dev/null
	TRAFFIC_LOOP=
}

# traffic_moved WHAT [MIN]: the peer sent and received at least MIN
# bytes (default FLOOR) since traffic_start
traffic_moved() {
	local rx tx min=${2:-$FLOOR}

	read -r rx tx < <(peer_bytes)
	rx=$((rx - TRAFFIC_RX0))
	tx=$((tx - TRAFFIC_TX0))
	echo "$1: the peer received $rx and sent $tx bytes"
	[ "$rx" -ge "$min" ] || fail "$1: peer received $rx bytes, floor $min"
	[ "$tx" -ge "$min" ] || fail "$1: peer sent $tx bytes, floor $min"
}

# flows_after WHAT: after a stress (its traffic stopped), the link
# comes back and pings and a short TCP transfer pass
flows_after() {
	traffic_stop
	wait_for 15 carrier_is 1 || { fail "$1: no carrier after"; return 1; }
	wait_for 10 ping -c 1 -W 1 "$REMOTE_V4" > /dev/null ||
		{ fail "$1: no ping after"; return 1; }
	if ! peer_iperf_server 20 ||
		! timeout -s KILL 20 iperf3 -c "$REMOTE_V4" -t 2 > /dev/null; then
		fail "$1: no TCP after"
	fi
	wait
}

# race_op I: the reconfiguration of round I. Prints what failed, if
# anything. The offline self-test may fail its link test (the link is
# renegotiating after a down/up or another self-test); any other failed
# test is an error.
race_op() {
	local out

	case $(($1 % 6)) in
	0) out=$(ethtool -L "$NETIF" combined 1 2>&1) && return ;;
	1) out=$(ethtool -G "$NETIF" rx 128 tx 128 2>&1) && return ;;
	2)
		out=$({ ip link set "$NETIF" down && ip link set "$NETIF" up; } 2>&1) &&
			return
		;;
	3) out=$(ethtool -L "$NETIF" combined "$MAXQ" 2>&1) && return ;;
	4) out=$(ethtool -G "$NETIF" rx 256 tx 256 2>&1) && return ;;
	5)
		out=$(ethtool -t "$NETIF" offline 2>&1)
		awk '/\(offline\)/ && $NF != 0 {bad = 1} END {exit bad}' <<< "$out" &&
			return
		out="self-test: $out"
		;;
	esac
	echo "$out"
}

test_reconfig_races() {
	local i n_hang log fails hang_pid out nq

	MAXQ=$(max_channels)
	nq=$(cur_channels)
	log=$(mktemp)
	defer rm -f "$log" "$log.hang"
	defer ethtool -G "$NETIF" rx 256 tx 256
	defer ethtool -L "$NETIF" combined "$nq"
	traffic_start || return
	sleep 2
	# Forced hangs may let the watchdog fire: its lines are expected
	echo "<4>KEEL-EXPECT: begin tx-timeout" > /dev/kmsg
	defer 'echo "<4>KEEL-EXPECT: end tx-timeout" > /dev/kmsg'
	# Whatever happens, leave the device working
	defer "devlink health recover $DL_DEV reporter tx > /dev/null 2>&1; true"

	# A quarter of the operations are hangs and recoveries, racing the
	# reconfigurations from another process
	n_hang=$((RACE_OPS / 8))
	(
		for i in $(seq "$n_hang"); do
			out=$(devlink health test "$DL_DEV" reporter tx 2>&1) ||
				grep -q "the interface is down" <<< "$out" ||
				echo "hang $i: $out"
			sleep 0.$((RANDOM % 10))
			out=$(devlink health recover "$DL_DEV" reporter tx 2>&1) ||
				echo "recover $i: $out"
			sleep 0.$((RANDOM % 10))
		done
	) > "$log.hang" &
	hang_pid=$!
	for i in $(seq $((RACE_OPS - 2 * n_hang))); do
		out=$(race_op "$i")
		[ -z "$out" ] || echo "op $i: $out" >> "$log"
	done
	wait "$hang_pid"
	cat "$log.hang" >> "$log"
	fails=$(wc -l < "$log")
	echo "$RACE_OPS operations ($((2 * n_hang)) hang/recover), $fails failed"
	cat "$log"
	[ "$fails" -eq 0 ] || fail "$fails operations failed"

	devlink health recover "$DL_DEV" reporter tx > /dev/null
	traffic_moved "races"
	flows_after "races"
	nq=$(cur_channels)
	[ "$(find "/sys/class/net/$NETIF/queues" -name 'tx-*' | wc -l)" -eq "$nq" ] ||
		fail "TX queues in sysfs differ from the $nq channels"
	[ "$(find "/sys/class/net/$NETIF/queues" -name 'rx-*' | wc -l)" -eq "$nq" ] ||
		fail "RX queues in sysfs differ from the $nq channels"
}

test_reload_cycles() {
	local i

	traffic_start || return
	for i in $(seq "$RELOADS"); do
		sleep 0.5
		rmmod keel || { fail "cycle $i: rmmod failed"; return; }
		keel_load || { fail "cycle $i: no link after insmod"; return; }
	done
	echo "$RELOADS rmmod/insmod cycles"
	sleep 2
	# Each rmmod ends the iperf3 connections, so a client lives a few
	# seconds, and on the debug kernel the peer's direction of a new
	# bidirectional run starts late: with make check's 10 cycles a CI
	# machine saw the peer send 1.7 MB (and receive 23.6 MB). 1 MiB each
	# way is still far above what connection set-ups alone carry.
	traffic_moved "reloads" $((1024 * 1024))
	flows_after "reloads"
}

test_link_flaps() {
	local out missed downs

	traffic_start || return
	defer "$QMP set_link netA on > /dev/null"
	downs=$(carrier_count down)
	# One monitor connection for all flaps; it waits for the carrier
	# to follow each step and counts the steps it did not see.
	out=$($QMP flaps netA "$FLAPS" "$NETIF") ||
		{ fail "QMP flaps failed"; return; }
	echo "$out"
	missed=$(printf '%s' "$out" |
		"$PY" -c 'import json, sys; print(json.load(sys.stdin)["missed"])')
	downs=$(($(carrier_count down) - downs))
	echo "$FLAPS flaps, $missed carrier changes not seen within 5 s," \
		"$downs carrier losses counted"
	[ "$missed" = 0 ] || fail "$missed carrier changes missed"
	[ "$downs" -ge "$FLAPS" ] ||
		fail "$downs carrier losses for $FLAPS flaps"
	sleep 2
	traffic_moved "link flaps"
	flows_after "link flaps"
}

# qemu_aer ERROR: inject a PCIe error into port A's device through
# QEMU's monitor (RCVR is correctable, UNSUP uncorrectable non-fatal)
qemu_aer() {
	$QMP raw "{\"execute\": \"human-monitor-command\", \"arguments\":
		{\"command-line\": \"pcie_aer_inject_error nicA $1\"}}" |
		grep -q '"OK id: nicA'
}

aer_py() {
	"$PY" "$AER_PY" "$KEEL_BDF" "$@"
}

# aer_count FILE FIELD: a counter of the kernel's AER statistics for
# keel's device (aer_dev_correctable, aer_dev_nonfatal)
aer_count() {
	awk -v f="$2" '$1 == f {print $2}' "/sys/bus/pci/devices/$KEEL_BDF/$1"
}

AER_COR_RXERR=0x1
AER_UNC_UNSUP=0x100000
PCI_EXP_AER_FLAGS=0xf

test_aer() {
	local st devctl cor0 unc0 mark

	traffic_start || return
	sleep 2

	# QEMU's AER injection reaches the device's AER registers...
	aer_py clear
	qemu_aer RCVR || { fail "QEMU did not inject RCVR"; return; }
	qemu_aer UNSUP || { fail "QEMU did not inject UNSUP"; return; }
	st=$(aer_py status)
	echo "after QEMU's injection: $st"
	jq -e ".cor_status == $((AER_COR_RXERR)) and .uncor_status == $((AER_UNC_UNSUP))" \
		<<< "$st" > /dev/null ||
		{ fail "QEMU's errors are not in the device's AER registers"; return; }
	# ...but igb's Device Control error-reporting enables are read-only
	# zero (QEMU's igb has no pcie_cap_deverr_init), so the device
	# never sends the error message to the root port and the kernel's
	# AER driver never runs. Checked, not assumed: should QEMU ever
	# report, the handlers must have run.
	devctl=$(jq .devctl <<< "$st")
	aer_py clear
	if [ $((devctl & PCI_EXP_AER_FLAGS)) -ne 0 ]; then
		fail "QEMU now reports errors (DEVCTL $devctl): test it"
		return
	fi
	echo "QEMU's igb: DEVCTL $devctl, errors not reported upstream"

	# The kernel's software injection stands in for the message
	if [ ! -e /dev/aer_inject ]; then
		modprobe aer_inject 2> /dev/null
		wait_for 5 test -e /dev/aer_inject
	fi
	[ -e /dev/aer_inject ] || { fail "no /dev/aer_inject"; return; }
	# A marker, not a line count: after hours of make stress the log
	# buffer is full and its line count no longer grows.
	mark="keel-aer-$$-$RANDOM"
	echo "$mark" > /dev/kmsg
	cor0=$(aer_count aer_dev_correctable RxErr)
	unc0=$(aer_count aer_dev_nonfatal UnsupReq)
	aer_py inject 0 "$AER_COR_RXERR" || { fail "correctable injection failed"; return; }
	wait_for 10 sh -c "[ \$(awk '\$1 == \"RxErr\" {print \$2}' /sys/bus/pci/devices/$KEEL_BDF/aer_dev_correctable) -gt $cor0 ]" ||
		fail "the correctable error was not counted"
	aer_py inject "$AER_UNC_UNSUP" 0 || { fail "non-fatal injection failed"; return; }
	wait_for 30 sh -c "dmesg | sed -n '/$mark/,\$p' | grep -q 'recovered from the PCIe error'" ||
		fail "keel did not recover from the non-fatal error"
	dmesg | sed -n "/$mark/,\$p" | grep -E "AER|keel|pcieport"
	[ "$(aer_count aer_dev_nonfatal UnsupReq)" -gt "$unc0" ] ||
		fail "the non-fatal error was not counted"
	sleep 5
	traffic_moved "PCIe errors"
	flows_after "PCIe errors"
}

# keel_text: "START END" of keel's .text in the running kernel, in hex
# (kernel addresses overflow the shell's signed arithmetic)
keel_text() {
	local size

	size=$(readelf -SW "$KEEL_KO" |
		awk '{for (i = 1; i <= NF; i++) if ($i == ".text") {print $(i + 4); exit}}')
	"$PY" -c 'import sys; s = int(sys.argv[1], 16); print(hex(s), hex(s + int(sys.argv[2], 16)))' \
		"$(cat /sys/module/keel/sections/.text)" "$size"
}

# kernel_func NAME: "START END" of a core kernel function, in hex: its
# address and the next higher symbol's in /proc/kallsyms
kernel_func() {
	"$PY" - "$1" <<'PYEOF'
import sys
addrs = set()
start = None
with open("/proc/kallsyms") as f:
    for line in f:
        addr, _, name = line.split()[:3]
        if "[" in line:
            continue
        addrs.add(int(addr, 16))
        if name == sys.argv[1]:
            start = int(addr, 16)
if start:
    print(hex(start), hex(min(a for a in addrs if a > start)))
PYEOF
}

# RX refill under allocation failures: fail_page_alloc fails every 8th
# page allocation made with keel's code on the stack (the stack-trace
# filter's require-start/require-end around keel's .text), in softirq
# as anywhere else. Not fail_function on page_pool_alloc_pages, as the
# kernel's pp_alloc_fail.py does: its kprobe runs should_fail() in the
# int3 handler, which lockdep counts as NMI context, and should_fail()'s
# get_random_u32_below() takes a lock there: lockdep reports it (seen
# here) and turns itself off for the rest of the boot.
test_rx_alloc_faults() {
	local f0 f1 fa=$DBGFS/fail_page_alloc start end k

	[ -d "$fa" ] || { fail "no fail_page_alloc"; return; }
	[ -e "$fa/require-start" ] || { fail "no stack-trace filter"; return; }
	read -r start end < <(keel_text)
	echo "keel .text: $start-$end"
	if [ -z "$end" ] || [ "$end" = "$start" ]; then
		fail "no keel .text range"
		return
	fi
	f0=$(qstat rx-alloc-fail)
	traffic_start || return
	sleep 2
	for k in probability interval times min-order ignore-gfp-wait \
		stacktrace-depth require-start require-end verbose; do
		defer "echo $(cat "$fa/$k") > $fa/$k"
	done
	echo "$start" > "$fa/require-start"
	echo "$end" > "$fa/require-end"
	echo 32 > "$fa/stacktrace-depth"
	echo 0 > "$fa/min-order"
	echo 0 > "$fa/verbose"
	echo 8 > "$fa/interval"
	echo -1 > "$fa/times"
	echo 100 > "$fa/probability"
	# Recycled pages need no allocation: new rings do (a failed -G is
	# a correct answer here, the rings are put back afterwards)
	defer ethtool -G "$NETIF" rx 256
	for k in 1 2; do
		ethtool -G "$NETIF" rx 128 || echo "-G rx 128 failed under injection"
		sleep 2
		ethtool -G "$NETIF" rx 256 || echo "-G rx 256 failed under injection"
		sleep 2
	done
	sleep 2
	echo 0 > "$fa/probability"
	ethtool -G "$NETIF" rx 256
	f1=$(qstat rx-alloc-fail)
	echo "rx-alloc-fail: $f0 -> $f1"
	[ "$f1" -gt "$f0" ] || fail "no allocation failure counted"
	traffic_moved "RX refill failures"
	flows_after "RX refill failures"
}

# failnth OP ARGS...: fail allocations of one request in turn, the
# first 30 and a few up to 3200
failnth() {
	failnth_list "$@" -- $(seq 1 30) 40 60 100 200 400 800 1600 3200
}

# failnth_dense OP ARGS...: fail each allocation of one request in turn,
# until five requests in a row ran clean (the count varies from run to
# run). With the stack-trace filter around keel's .text (set_keel_stack
# below) fail-nth counts only the calls made with keel's code on the
# stack: 150-300 for open, -G and -L 1 on the debug kernel (measured:
# 300, 206 and 155 requests, about 1.5 s each). The sparse list passes
# over most of the calls made after the old rings stop; this does not.
failnth_dense() {
	failnth_list "$@" --clean 5 -- $(seq 1 6000)
}

# failnth_list OP ARGS... [--clean K] -- N...
failnth_list() {
	local out args=()

	while [ "$1" != "--" ]; do
		args+=("$1")
		shift
	done
	shift
	out=$("$PY" "$FAILNTH_PY" "$NETIF" "${args[@]}" --ping "$REMOTE_V4" "$@") ||
		fail "${args[0]}: a request failed without an error code, left the old configuration dead, or was not undone"
	jq -s -c '{op: "'"${args[0]}"'", tried: length, injected: [.[] | select(.injected)] | length,
		errors: [.[] | select(.errno != 0) | .error] | group_by(.) |
		map({(.[0]): length}) | add, not_kept: [.[] | select(.kept == false) | {n, lost}],
		not_restored: [.[] | select(.restored | not) | .n]}' <<< "$out"
	jq -e -s 'any(.[]; .injected and .errno != 0)' <<< "$out" > /dev/null ||
		fail "${args[0]}: no injected failure was reported"
	jq -e -s 'last | .injected | not' <<< "$out" > /dev/null ||
		fail "${args[0]}: more allocations than tried"
}

# set_keel_stack: failslab and fail_page_alloc count and fail only calls
# made with keel's .text on the stack, never one made under dma-debug's
# add_dma_entry() (an injection there turns DMA-API checking off for the
# rest of the boot: "cacheline tracking ENOMEM, dma-debug disabled")
set_keel_stack() {
	local fs k start end rstart rend

	read -r start end < <(keel_text)
	read -r rstart rend < <(kernel_func add_dma_entry)
	echo "keel .text: $start-$end; rejected: add_dma_entry $rstart-$rend"
	if [ -z "$end" ] || [ -z "$rend" ]; then
		fail "no keel .text or add_dma_entry range"
		return 1
	fi
	for fs in failslab fail_page_alloc; do
		for k in stacktrace-depth require-start require-end \
			reject-start reject-end; do
			defer "echo $(cat "$DBGFS/$fs/$k") > $DBGFS/$fs/$k"
		done
		echo 32 > "$DBGFS/$fs/stacktrace-depth"
		echo "$start" > "$DBGFS/$fs/require-start"
		echo "$end" > "$DBGFS/$fs/require-end"
		echo "$rstart" > "$DBGFS/$fs/reject-start"
		echo "$rend" > "$DBGFS/$fs/reject-end"
	done
}

test_alloc_faults() {
	local fs

	for fs in failslab fail_page_alloc; do
		[ -d "$DBGFS/$fs" ] || { fail "no $fs"; return; }
		defer "echo Y > $DBGFS/$fs/ignore-gfp-wait"
		echo N > "$DBGFS/$fs/ignore-gfp-wait"
		echo 0 > "$DBGFS/$fs/verbose"
	done
	defer "echo 1 > $DBGFS/fail_page_alloc/min-order"
	echo 0 > "$DBGFS/fail_page_alloc/min-order"

	# An injected failure may hit the netdev refcount tracker's own
	# allocation, which it reports: scripts/splat-scan excuses that
	# line between these markers, and nothing else
	echo "<4>KEEL-EXPECT: begin alloc-fault" > /dev/kmsg
	defer 'echo "<4>KEEL-EXPECT: end alloc-fault" > /dev/kmsg'
	failnth open
	failnth rings 128 256
	failnth channels 1 "$(max_channels)"
	# make stress: every call with keel on the stack
	if [ "${KEEL_STRESS:-check}" = full ] && set_keel_stack; then
		failnth_dense open
		failnth_dense rings 128 256
		failnth_dense channels 1 "$(max_channels)"
	fi
	flows_after "allocation failures"
}

ALL_TESTS="test_reconfig_races test_alloc_faults test_rx_alloc_faults
	test_link_flaps test_aer test_reload_cycles"
# KEEL_STRESS_TESTS names a subset, for work on one case
# shellcheck disable=SC2086  # word splitting wanted
ktap_run ${KEEL_STRESS_TESTS:-$ALL_TESTS}
