#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Diagnostics: the register dump (ethtool -d) in its documented layout,
# the EEPROM (ethtool -e) with the MAC address and a valid checksum, and
# the self-tests (ethtool -t): online and offline pass, traffic and
# settings survive the offline test, the link test fails without link.

# shellcheck source=./lib.sh
source "$(dirname "$0")/lib.sh"

QMP="$PY $REPO/scripts/qmp"

# Register dump layout version 1 (Documentation/keel.rst)
REGS_VERSION=1
REGS_WORDS=342
WORD_STATUS=2
WORD_EECD=3
STATUS_LU=0x2

passed() {
	[ -z "$REASON" ]
}

link() {
	$QMP set_link netA "$1" > /dev/null
}

# word FILE N: 32-bit little-endian word N of a binary file, in decimal
word() {
	od -A n -t u4 -j $(($2 * 4)) -N 4 "$1" | tr -d ' '
}

# regs_version: ethtool_regs.version, which ethtool itself does not print
regs_version() {
	"$PY" - "$NETIF" <<-'EOF'
	import array, fcntl, socket, struct, sys
	SIOCETHTOOL, ETHTOOL_GREGS = 0x8946, 4
	n = 64 * 1024
	buf = array.array("B", struct.pack("III", ETHTOOL_GREGS, 0, n) + bytes(n))
	ifr = struct.pack("16sP", sys.argv[1].encode(), buf.buffer_info()[0])
	with socket.socket() as s:
	    fcntl.ioctl(s, SIOCETHTOOL, ifr)
	print(struct.unpack_from("III", buf)[1])
	EOF
}

test_regs_dump() {
	local f mac status size

	f=$(mktemp)
	defer rm -f "$f"
	ethtool -i "$NETIF" | grep -q "supports-register-dump: yes" ||
		fail "no register dump announced"
	ethtool -d "$NETIF" raw on > "$f" || { fail "ethtool -d failed"; return; }
	size=$(wc -c < "$f")
	[ "$size" -eq $((REGS_WORDS * 4)) ] ||
		fail "dump is $size bytes, not $((REGS_WORDS * 4))"
	[ "$(word "$f" 0)" -eq "$REGS_VERSION" ] ||
		fail "layout word 0 is $(word "$f" 0)"
	[ "$(regs_version)" -eq "$REGS_VERSION" ] ||
		fail "ethtool_regs.version is $(regs_version)"

	# RAL0/RAH0 hold the MAC address, RAH0 its valid bit (rar0_mac
	# reads them from a dump of its own)
	mac=$(rar0_mac)
	if [ -z "$mac" ]; then
		fail "RAH0 address not valid"
	elif [ "$mac" != "$(cat "/sys/class/net/$NETIF/address")" ]; then
		fail "RAL0/RAH0 hold $mac"
	fi
	status=$(word "$f" "$WORD_STATUS")
	[ $((status & STATUS_LU)) -ne 0 ] ||
		fail "STATUS $(printf %#x "$status") shows no link"
	passed
}

test_eeprom() {
	local f mac eecd words size sum=0 w

	f=$(mktemp)
	defer rm -f "$f"
	ethtool -e "$NETIF" raw on > "$f" || { fail "ethtool -e failed"; return; }
	# The size is what EECD tells
	ethtool -d "$NETIF" raw on > "$f.regs"
	defer rm -f "$f.regs"
	eecd=$(word "$f.regs" "$WORD_EECD")
	words=$((1 << (((eecd >> 11) & 0xf) + 6)))
	size=$(wc -c < "$f")
	[ "$size" -eq $((words * 2)) ] ||
		fail "EEPROM is $size bytes, EECD says $((words * 2))"

	mac=$(od -A n -t x1 -N 6 "$f" | sed 's/^ //; s/ /:/g')
	[ "$mac" = "$(cat "/sys/class/net/$NETIF/address")" ] ||
		fail "EEPROM words 0-2 hold $mac"
	for w in $(od -A n -t u2 -N 128 -v "$f"); do
		sum=$(((sum + w) & 0xffff))
	done
	[ "$sum" -eq $((0xBABA)) ] ||
		fail "words 0-0x3f sum to $(printf %#x "$sum"), not 0xbaba"
	# Read-only: nothing may write it
	ethtool -E "$NETIF" magic 0x10c98086 offset 0x40 value 0 2> /dev/null &&
		fail "EEPROM write accepted"
	passed
}

test_selftest_online() {
	local out

	out=$(ethtool -t "$NETIF" online) || fail "online self-test failed"
	echo "$out"
	echo "$out" | grep -q "The test result is PASS" || fail "not PASS"
	echo "$out" | grep -qE "^link test.*[[:space:]]0$" ||
		fail "no link test result"
	passed
}

irq_count() {
	awk -v n="$1" '$NF == n { s = 0; for (i = 2; i < NF; i++)
		if ($i ~ /^[0-9]+$/) s += $i; print s }' /proc/interrupts
}

test_selftest_offline() {
	local out before after name before_n

	defer ip link set "$NETIF" mtu 1500
	ip link set "$NETIF" mtu 1400 || fail "cannot set MTU 1400"
	before=$(mktemp)
	defer rm -f "$before"
	awk '{ print $NF }' /proc/interrupts |
		grep -E "^$NETIF-(other|TxRx-[0-9]+)$" |
		while read -r name; do
			echo "$name $(irq_count "$name")"
		done > "$before"
	[ "$(wc -l < "$before")" -ge 2 ] || fail "keel's vectors not found"

	out=$(ethtool -t "$NETIF" offline) || fail "offline self-test failed"
	echo "$out"
	echo "$out" | grep -q "The test result is PASS" || fail "not PASS"
	[ "$(echo "$out" | grep -cE "\(offline\)[[:space:]]+0$")" -eq 4 ] ||
		fail "not all 4 offline tests ran and passed"

	# Every vector fired during the interrupt test
	while read -r name before_n; do
		after=$(irq_count "$name")
		[ "${after:-0}" -gt "$before_n" ] ||
			fail "$name took no interrupt in the self-test"
	done < "$before"

	wait_for 10 carrier_is 1 || { fail "no carrier after the test"; return; }
	ping -c 3 -w 10 -q "$REMOTE_V4" || fail "no IPv4 traffic after the test"
	ping -6 -c 3 -w 10 -q "$REMOTE_V6" ||
		fail "no IPv6 traffic after the test"
	# The MTU is still in force on the device
	ping -c 2 -w 5 -q -M "do" -s 1372 "$REMOTE_V4" ||
		fail "MTU 1400 lost"
	ip link show "$NETIF" | grep -q "mtu 1400" || fail "MTU changed"
	passed
}

test_selftest_offline_down() {
	local out ups

	defer wait_for 10 carrier_is 1
	defer ip link set "$NETIF" up
	ip link set "$NETIF" down
	ups=$(carrier_count up)
	out=$(ethtool -t "$NETIF" offline) ||
		fail "offline self-test failed on a down interface"
	echo "$out"
	echo "$out" | grep -q "The test result is PASS" || fail "not PASS"
	ip link show "$NETIF" | grep -q "state DOWN" ||
		fail "the test brought the interface up"
	# The test links the MAC and PHY up: the carrier must not follow
	[ "$(carrier_count up)" -eq "$ups" ] ||
		fail "carrier raised on a down interface"
	ip link set "$NETIF" up
	wait_for 10 carrier_is 1 || fail "no carrier after up"
	ping -c 3 -w 10 -q "$REMOTE_V4" || fail "no traffic after up"
	passed
}

test_link_test_without_link() {
	local out

	defer wait_for 10 carrier_is 1
	defer link on
	link off || { fail "QMP set_link failed"; return; }
	wait_for 3 carrier_is 0 || fail "carrier stayed up"
	out=$(ethtool -t "$NETIF" online) && fail "passed without link"
	echo "$out"
	echo "$out" | grep -qE "^link test.*[[:space:]]1$" ||
		fail "link test did not fail"
	link on
	wait_for 10 carrier_is 1 || fail "no carrier after link on"
	ethtool -t "$NETIF" online > /dev/null ||
		fail "online self-test failed with the link back"
	passed
}

ktap_run test_regs_dump test_eeprom test_selftest_online \
	test_selftest_offline test_selftest_offline_down \
	test_link_test_without_link
