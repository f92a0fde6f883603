#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Run the kernel's own driver selftests (tools/testing/selftests/drivers/net
# from linux-source-6.12) in the guest against NETIF, with the netns peer
# as the remote end, and compare every subtest with the expected results.
#
# Usage (in the guest, after scripts/guest-net up):
#   selftests/kernel/run.sh [-e EXPECTED] [-o OUTDIR] [-t SECONDS] [-r]
#                           [TEST...]
#
#   -e  expected-results file (default selftests/kernel/expected.txt, see
#       compare.py for its format); its tests, in file order, are run
#       unless TESTs are named (paths under drivers/net: ping.py, hw/csum.py).
#       Its "debug:" lines hold on Keel's debug kernel (KEEL_DEBUG_KERNEL=1,
#       set by scripts/vm --debug-kernel), its "stock:" lines elsewhere.
#   -o  where each test's KTAP output is kept, as <test>.ktap with '/' as
#       '_' (default /tmp/keel-kernel-selftests: the guest sees the
#       checkout read-only; scripts/run-selftests keeps the output on the
#       host as build/selftests/kernel/*.ktap)
#   -t  time limit of each test (default 300 s)
#   -r  leave net.core.rmem_max alone (see below)
#
# The tests come from build/kernel-selftests, prepared on the host by
# 'scripts/kernel-tools selftests' (the guest has no network). They read
# NETIF, LOCAL_V4/V6, REMOTE_V4/V6, REMOTE_TYPE and REMOTE_ARGS from the
# environment that scripts/guest-net wrote to /run/keel/env, and find
# trixie's ethtool first on PATH. Python tests run through ksft_env.py,
# which bridges the 6.12 library's missing cfg.remote_ifname.
#
# hw/csum.py's helper asks SO_RCVBUF 4 MiB for its packet socket, to hold
# a burst of 100 frames; rmem_max caps that at 2 x 208 KiB. keel's RX
# skbs carry a full page each (truesize ~4.3 KiB, ~435 KiB per burst), so
# the burst overflows the capped buffer whenever the helper falls behind
# under TCG (1 or 2 frames lost in 4 of 30 runs); igb's half-page buffers
# fit. Unless -r, rmem_max is raised to the 4 MiB the test asks for.
#
# Each test runs once and is judged on that run: no second run. A window
# too short for TCG is widened in ksft_env.py (printed in the test's
# output), and a result the emulator cannot give is an expected status
# with its reason in the expected file.
#
# Prints KTAP: one line per test (ok when all its subtests came out as
# expected), each test's own output as "# " lines, then the report of
# compare.py. Exits 0 only if every subtest came out as expected.
set -uo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
ST=$ROOT/build/kernel-selftests
DRV=$ST/src/tools/testing/selftests/drivers/net
EXPECTED=$HERE/expected.txt
OUT=/tmp/keel-kernel-selftests
LIMIT=300
RMEM=1
KERNEL=stock
[ "${KEEL_DEBUG_KERNEL:-0}" = 1 ] && KERNEL=debug

while getopts "e:o:t:r" opt; do
	case $opt in
	e) EXPECTED=$(realpath "$OPTARG") ;;
	o) OUT=$OPTARG ;;
	t) LIMIT=$OPTARG ;;
	r) RMEM=0 ;;
	*) sed -n 's/^#   //p' "$0" >&2; exit 2 ;;
	esac
done
shift $((OPTIND - 1))

die() { echo "kernel selftests: $*" >&2; exit 1; }

[ -r /run/keel/env ] || die "no /run/keel/env: run scripts/guest-net up first"
[ -d "$DRV" ] || die "no $DRV: run scripts/kernel-tools selftests on the host"
[ -x "$ST/ethtool/usr/sbin/ethtool" ] ||
	die "no trixie ethtool in $ST/ethtool: run scripts/kernel-tools selftests"
# shellcheck source=/dev/null
. /run/keel/env
export PATH=$ST/ethtool/usr/sbin:$PATH
if [ "$RMEM" -eq 1 ] && [ "$(sysctl -n net.core.rmem_max)" -lt 4194304 ]; then
	sysctl -qw net.core.rmem_max=4194304
fi
# keel defaults to one queue pair per CPU, two in this guest; rss_ctx.py
# wants at least three queues (the 82576 has eight), as a host with more
# CPUs would have by default
ethtool -L "$NETIF" combined 4 ||
	die "cannot set 4 combined channels on $NETIF"

tests=("$@")
if [ ${#tests[@]} -eq 0 ]; then
	list=$(/usr/bin/python3 "$HERE/compare.py" --list -k "$KERNEL" "$EXPECTED") ||
		die "cannot read $EXPECTED"
	mapfile -t tests <<< "$list"
fi
[ ${#tests[@]} -gt 0 ] || die "no tests in $EXPECTED"
mkdir -p "$OUT"

# The forwarding-library tests (hw/*.sh) take both ports as arguments,
# in one namespace, and give them addresses of their own (192.0.2.1 among
# them, in VRFs): the peer's port comes back from its netns for them, and
# both ports lose their addresses; afterwards the peer goes back and both
# get their addresses again.
peer_in_root=0

peer_to_root() {
	[ "$peer_in_root" -eq 1 ] && return 0
	ip -n "$PEER_NS" link set "$PEER_IF" netns 1 || return 1
	peer_in_root=1
	ip addr del "$LOCAL_V4/24" dev "$NETIF" &&
		ip -6 addr del "$LOCAL_V6/64" dev "$NETIF"
}

peer_to_ns() {
	[ "$peer_in_root" -eq 0 ] && return 0
	ip link set "$PEER_IF" netns "$PEER_NS" || return 1
	peer_in_root=0
	ip addr replace "$LOCAL_V4/24" dev "$NETIF" &&
		ip -6 addr replace "$LOCAL_V6/64" dev "$NETIF" nodad &&
		ip link set "$NETIF" up &&
		ip -n "$PEER_NS" addr add "$REMOTE_V4/24" dev "$PEER_IF" &&
		ip -n "$PEER_NS" -6 addr add "$REMOTE_V6/64" dev "$PEER_IF" nodad &&
		ip -n "$PEER_NS" link set "$PEER_IF" up
}

# fwd_ktap TEST: the forwarding library's "TEST: NAME [RESULT]" lines as
# KTAP, NAME with keel's and the peer's interface names as keel and peer
# and every other run of odd characters as one _
fwd_ktap() {
	awk -v stem="$(basename "$1" .sh)" -v netif="$NETIF" -v peer="$PEER_IF" '
	/^TEST: .*\[(XFAIL|SKIP|FAIL| OK )\]$/ {
		res = $0
		sub(/.*\[/, "", res)
		sub(/\]$/, "", res)
		name = $0
		sub(/^TEST: /, "", name)
		sub(/ *\[[^]]*\]$/, "", name)
		# log_test_skip: a message in place of a test name
		if (name ~ /^SKIP: /) {
			sub(/^SKIP: /, "", name)
			res = "SKIP"
		}
		k = split(name, w, " ")
		name = ""
		for (i = 1; i <= k; i++) {
			if (w[i] == netif)
				w[i] = "keel"
			else if (w[i] == peer)
				w[i] = "peer"
			name = name (i > 1 ? "_" : "") w[i]
		}
		gsub(/[^A-Za-z0-9.-]+/, "_", name)
		sub(/^_/, "", name)
		sub(/_$/, "", name)
		n++
		if (res == "FAIL")
			print "not ok " n " " stem "." name
		else if (res == " OK ")
			print "ok " n " " stem "." name
		else
			print "ok " n " " stem "." name " # " res
	}'
}

# run_test TEST KTAP HEADER: run TEST, its output to KTAP and, as "# "
# lines, to stdout. Sets trc (exit status) and note.
run_test() {
	local t=$1 ktap=$2 start=$SECONDS run

	echo "# selftests: kernel: $t ($3)"
	case $t in
	*.py) run=(/usr/bin/python3 "$HERE/ksft_env.py" "./$t") ;;
	# from their own directory: they source ethtool_lib.sh from there
	hw/*.sh) run=("./${t#hw/}" "$NETIF" "$PEER_IF") ;;
	*) run=("./$t") ;;
	esac
	if [[ $t = hw/*.sh ]]; then
		peer_to_root || { trc=1; note="cannot move $PEER_IF to this netns"; return; }
		(cd "$DRV/hw" && timeout -k 10 "$LIMIT" "${run[@]}") 2>&1 |
			tee "$ktap.log" | sed -u 's/^/# /'
		trc=${PIPESTATUS[0]}
		fwd_ktap "$t" < "$ktap.log" > "$ktap"
		sed 's/^/# /' "$ktap"
	else
		peer_to_ns || { trc=1; note="cannot move $PEER_IF back to netns $PEER_NS"; return; }
		(cd "$DRV" && timeout -k 10 "$LIMIT" "${run[@]}") 2>&1 |
			tee "$ktap" | sed -u 's/^/# /'
		trc=${PIPESTATUS[0]}
	fi
	note="exit=$trc, $((SECONDS - start)) s"
	[ "$trc" -eq 124 ] && note="timed out after $LIMIT s"
}

matches() {
	/usr/bin/python3 "$HERE/compare.py" -q -k "$KERNEL" "$EXPECTED" "$OUT" "$1"
}

echo "TAP version 13"
echo "1..${#tests[@]}"
n=0
rc=0
where="NETIF=$NETIF, remote: netns $REMOTE_ARGS"
for t in "${tests[@]}"; do
	n=$((n + 1))
	ktap=$OUT/${t//\//_}.ktap
	trc=0
	note=
	run_test "$t" "$ktap" "$where"
	if matches "$t"; then
		echo "ok $n selftests: kernel: $t # $note"
		continue
	fi
	echo "not ok $n selftests: kernel: $t # unexpected results, $note"
	rc=1
done

peer_to_ns || { echo "# cannot move $PEER_IF back to netns $PEER_NS"; rc=1; }
echo "# kernel selftests against $NETIF ($(basename "$(readlink \
	"/sys/class/net/$NETIF/device/driver")")), expected: ${EXPECTED#"$ROOT"/} ($KERNEL kernel)"
/usr/bin/python3 "$HERE/compare.py" -k "$KERNEL" "$EXPECTED" "$OUT" "${tests[@]}" |
	sed 's/^/# /'
[ "${PIPESTATUS[0]}" -eq 0 ] || rc=1
exit "$rc"
