#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Unit test of scripts/splat-scan, the splat gate of every guest run, on
saved console logs (run by make check's splat-gate stage):

  splats.log           one of each kind of splat the gate must catch,
                       written after 6.12's formats
  expected-window.log  a test's KEEL-EXPECT window: keel's own watchdog
                       lines inside it are excused, nothing else is
  clean-stock.log      the console log of a clean run of the keel
                       selftests on Debian's kernel: no splat, and
                       recovery.sh's watchdog report excused
  clean-debug.log      the console log of a clean boot of the debug
                       kernel (KASAN, lockdep, ... at loglevel 5) with
                       scripts/debug-checks start and finish: no splat

Usage: selftests/splat-scan/test_splat_scan.py [-v]
"""

import subprocess
import sys
import unittest
from pathlib import Path

HERE = Path(__file__).resolve().parent
SCAN = HERE.parent.parent / "scripts" / "splat-scan"

# splats.log: the first line of each splat, then what only its last three
# lines hold (None: a splat of one line)
SPLATS = [
    ("==========", "=========="),
    ("==========", "kthread+0x2a9/0x360"),
    ("[ cut here ]", "---[ end trace"),
    ("NETDEV WATCHDOG: CPU: 0: transmit queue 1", None),
    ("INFO: task rmmod:901 blocked for more than", "keel_down+0x5a"),
    ("unregister_netdevice: waiting for enp1s0", None),
    ("ref_tracker: netdev@", "__dev_open+0x2bb"),
    ("rcu: INFO: rcu_preempt self-detected stall", "__napi_poll"),
    ("watchdog: BUG: soft lockup", "keel_reset_hw"),
    ("BUG: workqueue lockup", "pool 2: cpus=1"),
    ("stalled pool shutdown", None),
    ("BUG: sleeping function called", "default_idle+0x10"),
    ("page allocation failure", "keel_alloc_rx_buffers"),
    ("new suspected memory leaks", None),
    ("refcount_t: underflow", None),
]
# the second line of the KASAN and lockdep reports
SECOND = {0: "BUG: KASAN: slab-use-after-free in keel_xmit",
          1: "WARNING: possible circular locking dependency"}


def run(log):
    """splat-scan's exit status and stdout on one of the saved logs."""
    res = subprocess.run([str(SCAN), str(HERE / log)], capture_output=True,
                         text=True, check=False)
    return res.returncode, res.stdout


def splats(out):
    """The splats in splat-scan's output, as lists of lines."""
    found = []
    for line in out.splitlines():
        if line.startswith("# splat ") and " of " in line:
            found.append([])
        elif line.startswith("#   ") and found:
            found[-1].append(line[4:])
    return found


class SplatScan(unittest.TestCase):
    """The gate fails on every splat, prints each whole, and excuses
    nothing but announced watchdog lines."""

    def test_every_kind_caught(self):
        """Each splat in splats.log is found, from its first line to its
        end, and the log fails the gate."""
        rc, out = run("splats.log")
        self.assertEqual(rc, 1)
        got = splats(out)
        self.assertEqual(len(got), len(SPLATS), out)
        for n, (lines, (first, last)) in enumerate(zip(got, SPLATS)):
            self.assertIn(first, lines[0], f"splat {n + 1}")
            if n in SECOND:
                self.assertIn(SECOND[n], lines[1], f"splat {n + 1}")
            if last:
                self.assertIn(last, "\n".join(lines[-3:]), f"splat {n + 1}")
            else:
                self.assertEqual(len(lines), 1, f"splat {n + 1}")
        self.assertIn("15 splat(s)", out)

    def test_boot_lines_are_not_splats(self):
        """dma-debug's boot lines and ordinary keel messages are not
        reported."""
        _, out = run("splats.log")
        self.assertNotIn("preallocated", out)
        self.assertNotIn("NIC Link is Up", out)
        self.assertNotIn("resetting the device", out)

    def test_expected_window(self):
        """Inside a KEEL-EXPECT window only keel's watchdog lines are
        excused: igb's watchdog and a WARN there still fail, as does a
        keel watchdog line after the window closed."""
        rc, out = run("expected-window.log")
        self.assertEqual(rc, 1)
        got = splats(out)
        self.assertEqual(len(got), 3, out)
        self.assertIn("igb 0000:02:00.0 eth1: NETDEV WATCHDOG", got[0][0])
        self.assertIn("[ cut here ]", got[1][0])
        self.assertIn("transmit queue 2 timed out", got[2][0])
        self.assertEqual(out.count("# expected (announced by a test)"), 2)
        self.assertIn("2 expected line(s) excused", out)

    def test_clean_logs_pass(self):
        """Real console logs of clean runs pass the gate."""
        _, out = run("clean-stock.log")
        self.assertEqual(out.count("# expected (announced by a test)"), 1)
        for log in ("clean-stock.log", "clean-debug.log"):
            with self.subTest(log=log):
                rc, out = run(log)
                self.assertEqual(rc, 0, out)
                self.assertEqual(splats(out), [])

    def test_usage(self):
        """Anything but one log is a usage error, not a pass."""
        res = subprocess.run([str(SCAN)], capture_output=True, check=False)
        self.assertEqual(res.returncode, 2)


if __name__ == "__main__":
    sys.exit(unittest.main())
