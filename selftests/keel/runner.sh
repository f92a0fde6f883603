#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Run test programs the way the kselftest runner does: a KTAP plan over
# the programs, each program's own KTAP output nested as "# " lines, then
# a one-line summary of every subtest.

cd "$(dirname "$0")" || exit 1

# Each program's time limit: 600 s, but the stress suite's time grows
# with its counts (KEEL_STRESS): 1200 s for make check's bounded ones
# (about 600 s on the debug kernel, seen to run out at 600 s), and
# KEEL_STRESS_TIMEOUT for make stress's.
limit_of() {
	case $1 in
	stress.sh) echo "${KEEL_STRESS_TIMEOUT:-1200}" ;;
	*) echo 600 ;;
	esac
}

results=$(mktemp)
trap 'rm -f "$results"' EXIT

echo "TAP version 13"
echo "1..$#"
n=0
failed=0
for prog in "$@"; do
	n=$((n + 1))
	echo "# selftests: keel: $prog"
	start=$SECONDS
	timeout -k 10 "$(limit_of "$prog")" "./$prog" 2>&1 | tee -a "$results" | sed -u 's/^/# /'
	rc=${PIPESTATUS[0]}
	echo "# $prog: $((SECONDS - start)) s"
	if [ "$rc" -eq 0 ]; then
		echo "ok $n selftests: keel: $prog"
	else
		failed=$((failed + 1))
		echo "not ok $n selftests: keel: $prog # exit=$rc"
	fi
done

pass=$(grep -cE '^ok [0-9]+ [^#]*$' "$results")
xfail=$(grep -cE '^ok [0-9]+ .*# XFAIL' "$results")
skip=$(grep -cE '^ok [0-9]+ .*# SKIP' "$results")
fail=$(grep -cE '^not ok [0-9]+ ' "$results")
echo "# keel selftests: $n programs, $failed failed; $xfail expected failures"
echo "selftests: $((pass + xfail)) passed, $fail failed, $skip skipped"
[ "$failed" -eq 0 ]
