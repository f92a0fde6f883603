#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Runs last: nothing the tests did may have made the kernel warn, oops,
# report a page_pool that cannot shut down, or log a keel error.

# shellcheck source=./lib.sh
source "$(dirname "$0")/lib.sh"

test_no_kernel_warnings() {
	local bad

	bad=$(dmesg | grep -E "WARNING:|BUG:|Oops|Call Trace|stalled pool|leak")
	[ -z "$bad" ] || { echo "$bad"; fail "kernel warned"; }
}

test_no_keel_errors() {
	local bad

	# Errors expected from the tests themselves (none today) would be
	# filtered here with their reason.
	bad=$(dmesg --level=err,crit,alert,emerg | grep -i keel)
	[ -z "$bad" ] || { echo "$bad"; fail "keel logged errors"; }
}

ktap_run test_no_kernel_warnings test_no_keel_errors
