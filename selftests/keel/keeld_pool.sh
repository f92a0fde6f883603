#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# keeld's page-pool counters against the kernel's own. keeld reads
# PAGE_POOL_STATS_GET of the netdev family every sweep; here each pool
# of keel's netdev and each of its counters, as `keelctl stats` reports
# them, are compared with the kernel's page-pool-stats-get read before
# and after (YNL, qstats.py --pool-stats): keeld's value lies between
# the two. Traffic then moves the kernel's counters, and keeld's follow.
#
# The kernel has page-pool statistics only with CONFIG_PAGE_POOL_STATS:
# Keel's debug kernel has it, Debian's 6.12 does not. On a kernel
# without it the kernel answers EOPNOTSUPP; keeld must then report no
# page-pool group at all (its queue counters prove it read the device),
# and the comparison is an expected failure with that reason.

# shellcheck source=./lib.sh
source "$(dirname "$0")/lib.sh"

# join(1) needs its input sorted as sort(1) sorts it
export LC_ALL=C

KEELD=${KEELD:-$REPO/build/daemon/keeld}
KEELCTL=${KEELCTL:-$REPO/build/daemon/keelctl}
WORK=$(mktemp -d /run/keel/keeld-pool.XXXXXX)
SOCK=$WORK/keeld.sock
LOG=$WORK/keeld.log
KEELD_PID=
export KEELD_SOCKET=$SOCK

cleanup() {
	if [ -n "$KEELD_PID" ]; then
		kill -TERM "$KEELD_PID" 2> /dev/null
		wait "$KEELD_PID" 2> /dev/null
	fi
	rm -rf "$WORK"
}
trap cleanup EXIT

# keeld's page-pool counters of $NETIF as "pool-ID.NAME VALUE" lines,
# from the latest sweep
keeld_pools() {
	"$KEELCTL" stats "$NETIF" --json |
		jq -r '.counters[] | select(.key | startswith("page-pool.")) |
			"\(.key | ltrimstr("page-pool.")) \(.value)"' | sort
}

# keeld's count of queue counters of $NETIF (the positive control)
keeld_queue_keys() {
	"$KEELCTL" stats "$NETIF" --json |
		jq '[.counters[] | select(.key | startswith("queue."))] | length'
}

# The kernel's page-pool counters of $NETIF, in keeld_pools' form
kernel_pools() {
	local ifindex

	ifindex=$(cat "/sys/class/net/$NETIF/ifindex")
	"$PY" "$QSTATS_PY" --pool-stats |
		jq -r --argjson i "$ifindex" 'select(.info.ifindex == $i) |
			.info.id as $id | del(.info) | to_entries[] |
			"pool-\($id).\(.key) \(.value)"' | sort
}

# A sweep after now: keeld sweeps every second
next_sweep() {
	sleep 2.5
}

# between LOW MID HIGH: files of "KEY VALUE" lines; every key of MID is
# in LOW and HIGH with LOW <= MID <= HIGH, and MID has every key of HIGH
test_pools_agree() {
	local k1=$WORK/k1 c=$WORK/c k2=$WORK/k2 c2=$WORK/c2 rc bad moved

	"$PY" "$QSTATS_PY" --pool-stats > /dev/null 2> "$WORK/err"
	rc=$?
	if [ "$rc" -eq 3 ]; then
		# No statistics in this kernel: keeld must show none, and must
		# have read the device (its queue counters are there)
		next_sweep
		[ "$(keeld_queue_keys)" -gt 0 ] || {
			fail "keeld reports no queue counters of $NETIF"
			return
		}
		[ -z "$(keeld_pools)" ] || {
			fail "keeld reports page-pool counters the kernel" \
				"does not have: $(keeld_pools | head -3)"
			return
		}
		xfail "kernel without CONFIG_PAGE_POOL_STATS (Debian's 6.12): nothing to compare; compared on Keel's debug kernel"
		return
	fi
	[ "$rc" -eq 0 ] || fail "page-pool-stats-get failed: $(cat "$WORK/err")"

	# Traffic first, so that every pool has allocated and recycled
	ping -c 50 -i 0.02 -w 10 "$REMOTE_V4" > /dev/null ||
		fail "no ping reply from the peer"
	kernel_pools > "$k1"
	[ -s "$k1" ] || fail "the kernel lists no page pool of $NETIF"
	awk '$1 ~ /\.alloc-(fast|slow)$/ { s += $2 } END { exit !(s > 0) }' \
		"$k1" || fail "the kernel's pools of $NETIF allocated nothing"
	next_sweep
	keeld_pools > "$c"
	kernel_pools > "$k2"
	echo "# $(wc -l < "$c") page-pool counters of $NETIF from keeld," \
		"$(wc -l < "$k2") from the kernel"

	[ "$(cut -d' ' -f1 "$c")" = "$(cut -d' ' -f1 "$k2")" ] ||
		fail "keeld's pools and counters differ from the kernel's:" \
			"$(diff <(cut -d' ' -f1 "$c") <(cut -d' ' -f1 "$k2") | head -5)"
	bad=$(join "$k1" "$c" | join - "$k2" |
		awk '!($2 <= $3 && $3 <= $4) { print $1 ": kernel " $2 \
			" then " $4 ", keeld " $3 }')
	[ -z "$bad" ] || fail "keeld's values outside the kernel's: $bad"

	# keeld follows the kernel's counters as traffic moves them
	ping -c 50 -i 0.02 -w 10 "$REMOTE_V4" > /dev/null ||
		fail "no ping reply from the peer"
	next_sweep
	keeld_pools > "$c2"
	moved=$(join "$c" "$c2" | awk '$1 ~ /\.alloc-fast$/ && $3 > $2' | wc -l)
	[ "$moved" -gt 0 ] ||
		fail "keeld's alloc-fast of no pool moved with 50 pings"
}

"$KEELD" --foreground --socket "$SOCK" --interval 1s \
	--archive "$WORK/archive.db" --metrics none >> "$LOG" 2>&1 &
KEELD_PID=$!
wait_for 10 test -S "$SOCK" || echo "# keeld did not start: $(cat "$LOG")"

ktap_run test_pools_agree
