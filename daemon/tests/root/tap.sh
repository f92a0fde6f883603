# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# TAP lines for the daemon's root shell tests (sourced). The test sets
# n=0 and failed=0 and keeps keeld's log in $WORK/log, whose tail a
# failed check shows.

ok() {
	n=$((n + 1))
	echo "ok $n $1"
}

not_ok() {
	n=$((n + 1))
	failed=$((failed + 1))
	echo "not ok $n $1"
	[ -f "$WORK/log" ] && sed 's/^/#   /' "$WORK/log" | tail -20
}

# check NAME COMMAND...: ok NAME if COMMAND succeeds, else not ok
check() {
	local name=$1

	shift
	if "$@"; then ok "$name"; else not_ok "$name"; fi
}
