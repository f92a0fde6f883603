#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# keeld end to end on a veth pair in a network namespace of its own (root):
# a profile matched by driver and name glob is applied at start, to a veth
# created later, and after a rename; drift is corrected; keelctl, the
# archive and the metrics port answer; a malformed control message and a
# malformed profile are refused without harm; SIGTERM leaves an intact
# archive, and so does SIGKILL.
#
# usage: keeld_veth_test.sh BUILD_DIR
set -u

BUILD=${1:?usage: $0 BUILD_DIR}
KEELD=$BUILD/keeld
KEELCTL=$BUILD/keelctl
NS=keeld-t$$
WORK=$(mktemp -d)
PORT=$((20000 + $$ % 20000))
export KEELD_SOCKET=$WORK/keeld.sock
failed=0
n=0
PID=

cleanup() {
	[ -n "$PID" ] && kill -KILL "$PID" 2> /dev/null
	ip netns del "$NS" 2> /dev/null
	rm -rf "$WORK"
}
trap cleanup EXIT

inns() {
	ip netns exec "$NS" "$@"
}

# shellcheck source=./tap.sh
source "$(dirname "$0")/tap.sh"

wait_for() {
	local i

	for ((i = 0; i < $1 * 10; i++)); do
		"${@:2}" && return 0
		sleep 0.1
	done
	return 1
}

mtu_is() {
	[ "$(inns cat "/sys/class/net/$1/mtu" 2> /dev/null)" = "$2" ]
}

rx_channels_is() {
	inns ethtool -l "$1" 2> /dev/null |
		awk '$1 == "RX:" { v = $2 } END { exit v != '"$2"' }'
}

gro_is() {
	inns ethtool -k "$1" 2> /dev/null |
		grep -q "^generic-receive-offload: $2"
}

start() {
	ip netns exec "$NS" "$KEELD" --foreground --socket "$KEELD_SOCKET" \
		--profiles "$WORK/profiles" --archive "$WORK/archive.db" \
		--metrics "127.0.0.1:$PORT" --interval 200ms --drift-check 1s \
		>> "$WORK/log" 2>&1 &
	PID=$!
	wait_for 10 test -S "$KEELD_SOCKET"
}

echo "TAP version 13"
ip netns add "$NS" || exit 1
inns ip link set lo up
inns ip link add kv0 type veth peer name kv1 || exit 1
inns ip link set kv0 up
inns ip link set kv1 up

mkdir -p "$WORK/profiles"
cat > "$WORK/profiles/veth.toml" <<'TOML'
[[profile]]
name = "veth-test"
correct_drift = true

[profile.match]
driver = "veth"
name = ["kv*", "renamed*"]

[profile.link]
mtu = 2000

[profile.features]
"rx-gro" = true

[profile.channels]
rx = 1
TOML

start
check "keeld starts and listens" kill -0 "$PID"
check "profile applied at start (mtu)" wait_for 5 mtu_is kv0 2000
check "profile applied at start (features)" wait_for 5 gro_is kv0 on
check "profile applied at start (channels)" wait_for 5 rx_channels_is kv1 1
# status_has REGEX: a line of keelctl status matches
status_has() {
	"$KEELCTL" status | grep -qE "$1"
}

stats_has() {
	"$KEELCTL" stats "$1" | grep -qE "$2"
}

history_points() {
	[ "$("$KEELCTL" history "$1" "$2" --since 60 | wc -l)" -ge "$3" ]
}

metrics_has() {
	ip netns exec "$NS" curl -sf "http://127.0.0.1:$PORT/metrics" |
		grep -qE "$1"
}

archive_intact() {
	python3 - "$WORK/archive.db" <<-'PY'
		import sqlite3, sys
		db = sqlite3.connect(sys.argv[1])
		sys.exit(db.execute("pragma integrity_check").fetchone()[0] != "ok")
	PY
}

check "keelctl status names the profile" status_has '^kv0 .*veth-test'


inns ip link add kv2 type veth peer name kv3
check "profile applied to a new veth within 2 s" wait_for 2 mtu_is kv3 2000
inns ip link set kv3 name renamed3
check "still managed after a rename" \
	wait_for 2 status_has '^renamed3 .*veth-test'

inns ip link set kv0 mtu 1500
inns ethtool -K kv0 gro off
check "drift corrected (mtu)" wait_for 5 mtu_is kv0 2000
check "drift corrected (features)" wait_for 5 gro_is kv0 on
check "drift reported in the log" grep -q "drift" "$WORK/log"

inns ping -c 3 -i 0.2 -W 2 -I kv0 ff02::1%kv0 > /dev/null 2>&1
sleep 1
check "keelctl stats has link counters" stats_has kv1 '^link.rx_packets +[1-9]'
check "keelctl stats has veth's driver counters" stats_has kv1 '^driver\.'
check "archive history has points" history_points kv1 link.rx_packets 2
check "export csv has rows of the interface" \
	sh -c "'$KEELCTL' export --format csv --iface kv1 | grep -q kv1"
check "metrics on the loopback port" \
	metrics_has '^node_network_receive_packets_total\{device="kv1"\} [1-9]'

# Bad input: an oversized control message, a malformed one, a bad profile
head -c 70000 /dev/zero | tr '\0' x | inns socat -t 2 - "UNIX-CONNECT:$KEELD_SOCKET" > /dev/null 2>&1
echo '{"cmd": ' | inns socat -t 2 - "UNIX-CONNECT:$KEELD_SOCKET" > /dev/null 2>&1
check "keeld alive after bad control messages" "$KEELCTL" status > /dev/null
printf '[[profile]]\nname = "x"\n[profile.link]\nmtu = "big"\n' > "$WORK/profiles/zz.toml"
kill -HUP "$PID"
sleep 0.5
check "malformed profile reported with file:line:column" status_has 'zz.toml:4:'
inns ip link set kv0 mtu 1500
check "last good profile stays in force" wait_for 5 mtu_is kv0 2000
rm -f "$WORK/profiles/zz.toml"

# A setting the kernel refuses: the report carries its message
cat > "$WORK/bad.toml" <<'TOML'
[[profile]]
name = "too-many"
[profile.match]
name = "kv1"
[profile.channels]
rx = 64
TOML
"$KEELCTL" apply "$WORK/bad.toml" > "$WORK/report"
check "keelctl apply exits 1 when a setting failed" test $? -eq 1
sed 's/^/#   /' "$WORK/report"
check "refused setting reported with the kernel's reason" \
	grep -qE 'channels.rx +failed +.+' "$WORK/report"

# keelctl sends the text of a directory's files; keeld opens no path a
# client names (issue 11), and a FIFO does not reach it
check "keelctl diff of a directory" sh -c \
	"'$KEELCTL' diff '$WORK/profiles' | grep -qE '^kv0: [0-9]+ difference'"
refused_path() {
	echo '{"cmd": "diff", "args": {"path": "/dev/zero"}}' |
		inns socat -t 2 - "UNIX-CONNECT:$KEELD_SOCKET" |
		grep -q 'keeld opens no file a client names'
}
check "a request naming a path is refused" refused_path
keelctl_refuses_fifo() {
	local out

	out=$(timeout 10 "$KEELCTL" apply "$WORK/fifo.toml" 2>&1)
	[ $? -eq 1 ] && [[ $out == *"is a FIFO, not a regular file"* ]]
}
mkfifo "$WORK/fifo.toml"
check "keelctl refuses a FIFO" keelctl_refuses_fifo
check "keeld alive after the refused requests" status_has '^kv0 '

kill -TERM "$PID"
check "SIGTERM: keeld exits" wait_for 10 sh -c "! kill -0 $PID 2> /dev/null"
wait "$PID"
check "SIGTERM: exit status 0" test $? -eq 0
PID=
check "SIGTERM: archive intact" archive_intact

start
sleep 1
kill -KILL "$PID"
wait "$PID" 2> /dev/null
PID=
check "SIGKILL: archive opens intact" archive_intact
start
check "SIGKILL: keeld starts again on the same archive" kill -0 "$PID"

echo "1..$n"
[ "$failed" -eq 0 ]
