#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Unit test of the verdict rules and positive controls in
selftests/keel/lib.sh, on the host (run by make check's lib-verdicts
stage). lib.sh is sourced with KEEL_NO_NET=1, and the commands that
reach the guest's peer are replaced by shell functions, so each rule is
seen to fail without a guest:

  ktap_run  PASS on 0; SKIP and XFAIL only from skip and xfail; a test
            function that ends in a command exiting 2 or 4, or that
            called fail and then returned 0, is not ok
  flowing   fails when the peer's byte counters did not move by the
            floor within its seconds, in each direction it names
  rx_count  fails when the peer's tx_packets did not count the 20
            frames, whatever the packet socket counted

Usage: selftests/keel/test_lib.py [-v]
"""

import os
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

LIB = Path(__file__).resolve().parent / "lib.sh"


def bash(script):
    """Run SCRIPT after sourcing lib.sh; return (exit code, output)."""
    env = dict(os.environ, KEEL_NO_NET="1", KEEL_KO="/dev/null",
               NETIF="eth0", PEER_IF="eth1", PEER_NS="peer")
    with tempfile.TemporaryDirectory() as tmp:
        env["STATE"] = tmp
        proc = subprocess.run(
            ["bash", "-c", f'. "{LIB}" || exit 99\n{script}'],
            env=env, capture_output=True, text=True, timeout=60,
            check=False)
    return proc.returncode, proc.stdout + proc.stderr


class KtapRun(unittest.TestCase):
    """ktap_run's verdicts come from the test, not from an exit code."""

    TESTS = """
t_pass() { true; }
t_fail() { fail "broken"; }
t_xfail() { xfail "known limit"; }
t_skip() { skip "not here"; }
t_stray2() { sh -c 'exit 2'; }
t_stray4() { sh -c 'exit 4'; }
t_fail_then_zero() { fail "first check"; true; }
"""

    def setUp(self):
        names = ("t_pass t_fail t_xfail t_skip t_stray2 t_stray4 "
                 "t_fail_then_zero")
        self.rc, self.out = bash(f"{self.TESTS}\nktap_run {names}")
        self.results = [line for line in self.out.splitlines()
                        if line.startswith(("ok ", "not ok "))]

    def test_each_verdict(self):
        self.assertEqual(self.results, [
            "ok 1 t_pass",
            "not ok 2 t_fail # broken",
            "ok 3 t_xfail # XFAIL known limit",
            "ok 4 t_skip # SKIP not here",
            "not ok 5 t_stray2 # returned 2",
            "not ok 6 t_stray4 # returned 4",
            "not ok 7 t_fail_then_zero # first check",
        ], self.out)

    def test_run_fails(self):
        self.assertNotEqual(self.rc, 0)
        self.assertIn("# Totals: pass:1 fail:4 xfail:1 xpass:0 skip:1",
                      self.out)

    def test_keel_tests_selects(self):
        rc, out = bash(f"{self.TESTS}\nKEEL_TESTS='t_pass' "
                       "ktap_run t_pass t_fail")
        self.assertEqual(rc, 0, out)
        self.assertIn("1..1\n", out)
        self.assertNotIn("t_fail", out)


# The peer's counters: the Nth read of peer_bytes (from 0) gives the
# Nth of the byte counts in RX_AT and TX_AT (the last one repeats).
# sleep returns at once.
PEER_BYTES = """
echo 0 > "$STATE/n"
peer_bytes() {
    local n i j rx tx
    n=$(cat "$STATE/n"); echo $((n + 1)) > "$STATE/n"
    read -ra rx <<< "$RX_AT"; read -ra tx <<< "$TX_AT"
    i=$((n < ${#rx[@]} ? n : ${#rx[@]} - 1))
    j=$((n < ${#tx[@]} ? n : ${#tx[@]} - 1))
    echo "${rx[i]} ${tx[j]}"
}
sleep() { :; }
"""

MIB = 1 << 20


class Flowing(unittest.TestCase):
    """flowing is the positive control of every test under traffic."""

    def flowing(self, rx_at, tx_at, direction):
        rx_list = " ".join(str(v) for v in rx_at)
        tx_list = " ".join(str(v) for v in tx_at)
        return bash(f"RX_AT='{rx_list}'; TX_AT='{tx_list}'\n"
                    f"{PEER_BYTES}flowing load {direction}")

    def test_idle_link_fails(self):
        for direction in ("rx", "tx", "both"):
            rc, out = self.flowing([0], [0], direction)
            self.assertNotEqual(rc, 0, out)
            self.assertIn("load: no traffic", out)
            self.assertIn("in 3 s", out)

    def test_wrong_direction_fails(self):
        rc, out = self.flowing([0, MIB], [0], "tx")
        self.assertNotEqual(rc, 0, out)
        rc, out = self.flowing([0, MIB], [0], "both")
        self.assertNotEqual(rc, 0, out)

    def test_below_floor_fails(self):
        # 262143 bytes in 3 s: one short of the floor
        rc, out = self.flowing([0, 100000, 200000, 262143],
                               [0, 100000, 200000, 262143], "both")
        self.assertNotEqual(rc, 0, out)

    def test_after_three_seconds_fails(self):
        rc, out = self.flowing([0, 0, 0, 0, MIB], [0, 0, 0, 0, MIB], "rx")
        self.assertNotEqual(rc, 0, out)

    def test_moving_passes(self):
        rc, out = self.flowing([0, MIB], [0, MIB], "both")
        self.assertEqual(rc, 0, out)
        self.assertIn("received 1048576 and sent 1048576 bytes in 1 s", out)

    def test_stalled_direction_may_catch_up(self):
        # keel sends from the first second, the peer from the third
        rc, out = self.flowing([0, MIB], [0, 0, 0, MIB], "both")
        self.assertEqual(rc, 0, out)
        self.assertIn("in 3 s", out)


# A packet socket that counts 0 frames, and a peer whose tx_packets
# grows by SENT at each frames.py send.
RX_COUNT = """
echo 100 > "$STATE/tx_packets"
frames() { echo ready; echo 0; sleep 0.2; }
peer() {
    case "$*" in
    *" send "*)
        echo $(($(cat "$STATE/tx_packets") + SENT)) > "$STATE/tx_packets" ;;
    esac
}
peer_stat() { cat "$STATE/tx_packets"; }
sleep() { :; }
"""


class RxCount(unittest.TestCase):
    """A count of 0 received counts only when the peer sent the 20."""

    def test_nothing_sent_fails(self):
        rc, out = bash(f"SENT=0\n{RX_COUNT}rx_count 01:00:5e:00:00:01")
        self.assertNotEqual(rc, 0, out)
        self.assertIn("the peer sent 0 of 20 frames", out)
        self.assertNotIn("\n0\n", "\n" + out)

    def test_some_sent_fails(self):
        rc, out = bash(f"SENT=19\n{RX_COUNT}rx_count 01:00:5e:00:00:01")
        self.assertNotEqual(rc, 0, out)
        self.assertIn("the peer sent 19 of 20 frames", out)

    def test_sent_gives_the_count(self):
        rc, out = bash(f"SENT=20\n{RX_COUNT}rx_count 01:00:5e:00:00:01")
        self.assertEqual(rc, 0, out)
        self.assertEqual(out.strip(), "0")


if __name__ == "__main__":
    sys.exit(unittest.main())
