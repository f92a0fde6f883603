#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Runs last: nothing the tests did may have made the kernel warn, oops,
# report a page_pool that cannot shut down, or log a keel error.

# shellcheck source=./lib.sh
source "$(dirname "$0")/lib.sh"

# stuck_pools: page_pools destroyed (a detach-time, in seconds of
# CLOCK_BOOTTIME like /proc/uptime) more than 5 s ago that still have
# pages in flight, one JSON line each. page_pool itself warns of a
# stalled pool only 60 s after its destroy.
stuck_pools() {
	"$PY" "$QSTATS_PY" --pools |
		jq -c --argjson now "$(cut -d. -f1 /proc/uptime)" \
			'select(.["detach-time"] != null and
				.["detach-time"] < $now - 5 and .inflight > 0)'
}

test_no_stuck_page_pools() {
	local pools stuck

	# Positive control: the dump works and lists keel's live pools
	pools=$("$PY" "$QSTATS_PY" --pools) ||
		{ fail "cannot dump page pools"; return; }
	echo "$(wc -l <<< "$pools") page pools, keel's ifindex $(cat "/sys/class/net/$NETIF/ifindex")"
	jq -e --argjson i "$(cat "/sys/class/net/$NETIF/ifindex")" \
		'select(.ifindex == $i)' <<< "$pools" > /dev/null ||
		{ fail "no page pool of keel's netdev listed"; return; }
	# A pool destroyed in the last 5 s may still be getting its pages
	# back: give it the time before judging
	if jq -e --argjson now "$(cut -d. -f1 /proc/uptime)" \
		'select(.["detach-time"] != null and .inflight > 0 and
			.["detach-time"] >= $now - 5)' <<< "$pools" > /dev/null; then
		sleep 6
	fi
	stuck=$(stuck_pools) || { fail "cannot dump page pools"; return; }
	[ -z "$stuck" ] || { echo "$stuck"; fail "page pools stuck with pages in flight"; }
}

test_no_kernel_warnings() {
	local bad

	# kmemleak's own start-up line is not a leak report
	bad=$(dmesg | grep -E "WARNING:|BUG:|Oops|Call Trace|stalled pool|leak" |
		grep -v "kmemleak: Kernel memory leak detector initialized")
	[ -z "$bad" ] || { echo "$bad"; fail "kernel warned"; }
}

test_no_keel_errors() {
	local bad

	bad=$(dmesg --level=err,crit,alert,emerg | grep -i keel)
	# recovery.sh and devlink.sh hang TX queues on purpose (devlink
	# health test): the watchdog's timeout reports that follow are
	# expected
	if dmesg | grep -q "devlink health test: disabling"; then
		bad=$(grep -vE "NETDEV WATCHDOG: .* timed out|TX queue [0-9]+ timed out" <<< "$bad")
	fi
	# stress.sh injects PCIe errors (aer_inject): the AER core's report
	# of them names keel's device at level err
	if dmesg | grep -q "aer_inject: Injecting errors"; then
		bad=$(grep -vE "PCIe Bus Error: severity=|error status/mask=|\] (UnsupReq|RxErr) |AER:   TLP Header:" <<< "$bad")
	fi
	[ -z "$bad" ] || { echo "$bad"; fail "keel logged errors"; }
}

ktap_run test_no_stuck_page_pools test_no_kernel_warnings test_no_keel_errors
