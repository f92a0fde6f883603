#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Print a device's queue statistics from the netdev netlink family.

Uses the kernel's YNL library and netdev spec, which
`scripts/kernel-tools selftests` extracts from linux-source-6.12 into
build/kernel-selftests/src.

  qstats.py IFNAME            one JSON object per line: each queue's
                              counters ({"queue-type": "rx", "queue-id": 0,
                              "rx-packets": ...}), then the device totals
                              ({"queue-type": "dev", ...})
  qstats.py IFNAME --queues   queue-get: each queue with its NAPI ID
  qstats.py IFNAME --napi     napi-get: each NAPI with its IRQ
  qstats.py --pools           page-pool-get: every page_pool in the
                              namespace, those of unregistered devices
                              included (without an ifindex)
  qstats.py --pool-stats      page-pool-stats-get: each pool's counters,
                              one JSON object per line ({"info": {"id": 3,
                              "ifindex": 2}, "alloc-fast": ...}); exit
                              status 3 with a message if the kernel has no
                              page-pool statistics (EOPNOTSUPP: built
                              without CONFIG_PAGE_POOL_STATS)
"""

import argparse
import errno
import json
import os
import socket
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
SRC = os.path.join(ROOT, "build", "kernel-selftests", "src")
if not os.path.isdir(os.path.join(SRC, "tools", "net", "ynl", "lib")):
    sys.exit(f"qstats.py: no YNL under {SRC}: "
             "run scripts/kernel-tools selftests on the host")
sys.path.insert(0, os.path.join(SRC, "tools", "net", "ynl"))

# pylint: disable-next=wrong-import-position
from lib import NlError, YnlFamily  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("ifname", nargs="?")
    ap.add_argument("--queues", action="store_true")
    ap.add_argument("--napi", action="store_true")
    ap.add_argument("--pools", action="store_true")
    ap.add_argument("--pool-stats", action="store_true")
    args = ap.parse_args()
    if not args.pools and not args.pool_stats and not args.ifname:
        ap.error("IFNAME is required")

    spec = os.path.join(SRC, "Documentation", "netlink", "specs",
                        "netdev.yaml")
    # No schema check: the spec comes with the kernel it describes
    ynl = YnlFamily(spec, schema="")
    if args.pools:
        for p in ynl.dump("page-pool-get", {}):
            print(json.dumps(p))
        return
    if args.pool_stats:
        try:
            pools = ynl.dump("page-pool-stats-get", {})
        except NlError as e:
            if e.nl_msg.error == -errno.EOPNOTSUPP:
                print("qstats.py: the kernel has no page-pool statistics "
                      "(EOPNOTSUPP)", file=sys.stderr)
                sys.exit(3)
            raise
        for p in pools:
            print(json.dumps(p))
        return

    ifindex = socket.if_nametoindex(args.ifname)

    if args.queues:
        for q in ynl.dump("queue-get", {"ifindex": ifindex}):
            print(json.dumps(q))
        return
    if args.napi:
        for n in ynl.dump("napi-get", {"ifindex": ifindex}):
            print(json.dumps(n))
        return

    for q in ynl.dump("qstats-get", {"ifindex": ifindex,
                                     "scope": "queue"}):
        print(json.dumps(q))
    for d in ynl.dump("qstats-get", {"ifindex": ifindex}):
        d["queue-type"] = "dev"
        print(json.dumps(d))


if __name__ == "__main__":
    main()
