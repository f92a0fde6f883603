#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# keeld against keel: a profile that matches keel's netdev by driver is
# applied when keeld starts and again when the netdev comes back after a
# reload; ethtool and ip confirm every setting. A change made behind
# keeld's back is corrected (correct_drift) or only reported; a malformed
# profile is refused with file:line:column while the last good one stays
# in force; counters reach keelctl, the archive and the metrics endpoint;
# SIGTERM ends keeld cleanly with an intact archive.

# shellcheck source=./lib.sh
source "$(dirname "$0")/lib.sh"

KEELD=${KEELD:-$REPO/build/daemon/keeld}
KEELCTL=${KEELCTL:-$REPO/build/daemon/keelctl}
WORK=$(mktemp -d /run/keel/keeld.XXXXXX)
SOCK=$WORK/keeld.sock
METRICS_SOCK=$WORK/metrics.sock
PROFILES=$WORK/profiles
ARCHIVE=$WORK/archive.db
LOG=$WORK/keeld.log
KEELD_PID=
export KEELD_SOCKET=$SOCK

mkdir -p "$PROFILES"

# write_profile CORRECT: the profile under test; CORRECT is true/false
write_profile() {
	cat > "$PROFILES/keel.toml" <<-EOF
		# keel's port, as the selftests want it
		[[profile]]
		name = "keel-test"
		correct_drift = $1

		[profile.match]
		driver = "keel"

		[profile.link]
		mtu = 4000

		[profile.features]
		rx-vlan-hw-parse = false

		[profile.rings]
		rx = 512
		tx = 512

		[profile.channels]
		combined = 2

		[profile.coalesce]
		rx-usecs = 100
	EOF
}

ctl() {
	"$KEELCTL" "$@"
}

start_keeld() {
	"$KEELD" --foreground --socket "$SOCK" --profiles "$PROFILES" \
		--archive "$ARCHIVE" --metrics "unix:$METRICS_SOCK" \
		--interval 1s --drift-check 2s >> "$LOG" 2>&1 &
	KEELD_PID=$!
	wait_for 10 test -S "$SOCK"
}

# keeld is started once, before the tests, which run in subshells
keeld_running() {
	kill -0 "$KEELD_PID" 2> /dev/null
}

stop_keeld() {
	keeld_running || return 0
	kill -TERM "$KEELD_PID"
	wait_for 10 eval '! keeld_running'
}

ring() {
	ethtool -g "$NETIF" | awk -v k="$1:" '$1 == k { v = $2 } END { print v }'
}

combined() {
	ethtool -l "$NETIF" | awk '$1 == "Combined:" { v = $2 } END { print v }'
}

rx_usecs() {
	ethtool -c "$NETIF" | awk '$1 == "rx-usecs:" { print $2 }'
}

feature() {
	ethtool -k "$NETIF" | awk -v k="$1:" '$1 == k { print $2 }'
}

mtu() {
	cat "/sys/class/net/$NETIF/mtu"
}

# Every setting of the profile, as ethtool and ip read them
profile_in_force() {
	[ "$(mtu)" = 4000 ] && [ "$(ring RX)" = 512 ] &&
		[ "$(ring TX)" = 512 ] && [ "$(combined)" = 2 ] &&
		[ "$(rx_usecs)" = 100 ] && [ "$(feature rx-vlan-offload)" = off ]
}

show_settings() {
	echo "mtu $(mtu) rings $(ring RX)/$(ring TX) combined $(combined)" \
		"rx-usecs $(rx_usecs) rx-vlan-offload $(feature rx-vlan-offload)"
}

test_applied_at_start() {
	keeld_running || fail "keeld is not running: $(cat "$LOG")"
	wait_for 10 profile_in_force ||
		fail "profile not in force: $(show_settings)"
	ctl status | grep -E "^$NETIF .*keel-test" ||
		fail "keelctl status does not show the profile on $NETIF"
	ping -c 2 -w 10 "$REMOTE_V4" > /dev/null ||
		fail "no traffic with the profile applied"
}

test_drift_corrected() {
	ethtool -G "$NETIF" rx 1024 || fail "ethtool -G failed"
	ethtool -C "$NETIF" rx-usecs 20 || fail "ethtool -C failed"
	wait_for 5 profile_in_force ||
		fail "drift not corrected: $(show_settings)"
	grep -q "drift" "$LOG" || fail "keeld did not report the drift"
}

test_drift_reported() {
	write_profile false
	kill -HUP "$KEELD_PID"
	sleep 1
	ethtool -C "$NETIF" rx-usecs 20 || fail "ethtool -C failed"
	sleep 4
	[ "$(rx_usecs)" = 20 ] ||
		fail "keeld changed rx-usecs without correct_drift"
	ctl status | grep -E "^$NETIF .*drift" ||
		fail "keelctl status does not report the drift"
	ctl diff "$PROFILES/keel.toml" | grep -E "coalesce.rx-usecs +20 -> 100" ||
		fail "keelctl diff does not show rx-usecs 20 -> 100"
	ctl apply || fail "keelctl apply failed"
	[ "$(rx_usecs)" = 100 ] || fail "keelctl apply did not set rx-usecs"
}

test_bad_profile_kept() {
	local out

	printf '[[profile]]\nname = "broken"\nmtu = = 1\n' > "$PROFILES/zz.toml"
	kill -HUP "$KEELD_PID"
	sleep 1
	out=$(ctl status)
	echo "$out" | grep -q "zz.toml:3:" ||
		fail "the reload error does not name zz.toml:3:column"
	rm -f "$PROFILES/zz.toml"
	# the last good profile still applies
	ethtool -G "$NETIF" rx 1024
	ctl apply > /dev/null
	[ "$(ring RX)" = 512 ] || fail "the last good profile is gone"
}

test_reapplied_after_reload() {
	rmmod keel || fail "rmmod failed"
	keel_load || fail "no link after insmod"
	wait_for 10 profile_in_force ||
		fail "profile not applied to the new netdev: $(show_settings)"
}

test_counters() {
	local m

	ping -c 5 -i 0.2 -w 10 "$REMOTE_V4" > /dev/null
	sleep 2
	ctl stats "$NETIF" | grep -E "^link.rx_packets +[1-9]" ||
		fail "no link.rx_packets from keelctl stats"
	ctl stats "$NETIF" | grep -E "^queue.rx-0.rx-packets +[0-9]" ||
		fail "no queue statistics from keelctl stats"
	ctl stats "$NETIF" | grep -E "^eth-mac.FramesReceivedOK +[1-9]" ||
		fail "no eth-mac statistics from keelctl stats"
	[ "$(ctl history "$NETIF" link.rx_packets --since 60 | wc -l)" -ge 2 ] ||
		fail "fewer than 2 archived points of link.rx_packets"
	m=$(curl -s --unix-socket "$METRICS_SOCK" http://localhost/metrics)
	echo "$m" | grep -E "^node_network_receive_packets_total\{device=\"$NETIF\"\} [1-9]" ||
		fail "no node_network_receive_packets_total for $NETIF"
}

test_sigterm_flushes() {
	stop_keeld || fail "keeld still running 10 s after SIGTERM"
	"$PY" - "$ARCHIVE" <<-'EOF' || fail "archive not intact"
		import sqlite3, sys
		db = sqlite3.connect(sys.argv[1])
		assert db.execute("pragma integrity_check").fetchone()[0] == "ok"
	EOF
	grep -iE "error|fatal" "$LOG" | grep -v "zz.toml" &&
		fail "keeld logged errors"
	return 0
}

cleanup() {
	stop_keeld
	# Back to the driver's defaults for the tests after this one
	rmmod keel && keel_load
	rm -rf "$WORK"
}
trap cleanup EXIT

write_profile true
start_keeld

ktap_run test_applied_at_start test_drift_corrected test_drift_reported \
	test_bad_profile_kept test_reapplied_after_reload test_counters \
	test_sigterm_flushes
