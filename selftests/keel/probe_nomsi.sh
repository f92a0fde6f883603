#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Boot-time variant, run by scripts/run-selftests in a guest booted with
# pci=nomsi: probe must fail with a clear message, release everything and
# leave the module unloadable. Needs no network set-up.

KEEL_NO_NET=1
# shellcheck source=./lib.sh
source "$(dirname "$0")/lib.sh"

test_probe_fails_cleanly() {
	grep -qw pci=nomsi /proc/cmdline || fail "guest not booted with pci=nomsi"
	dmesg -C
	insmod "$KEEL_KO" || fail "insmod failed"
	echo keel > "/sys/bus/pci/devices/$KEEL_BDF/driver_override"
	echo "$KEEL_BDF" > /sys/bus/pci/drivers/keel/bind 2> /dev/null &&
		fail "probe succeeded without MSI-X"
	dmesg | grep keel
	dmesg | grep -q "keel $KEEL_BDF: MSI-X with at least 2 vectors is unavailable" ||
		fail "no clear message about MSI-X"
	[ -e "/sys/bus/pci/devices/$KEEL_BDF/driver" ] &&
		fail "device still bound"
	[ -e "/sys/bus/pci/devices/$KEEL_BDF/net" ] && fail "netdev left"
	rmmod keel || fail "rmmod after failed probe"
	dmesg | grep -E "WARNING:|BUG:|Call Trace" && fail "kernel warned"
	return 0
}

ktap_run test_probe_fails_cleanly
