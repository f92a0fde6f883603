#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Fail the Nth fault-injectable call of one operation on keel's netdev.

  failnth.py IFNAME OP [--ping ADDR] N...

OP is one of
  open        SIOCSIFFLAGS up on a down interface (ndo_open)
  rings A B   ETHTOOL_SRINGPARAM: rx and tx rings to A, then back to B
  channels A B  ETHTOOL_SCHANNELS: combined channels to A, then back to B

For each N, the calling thread writes N to /proc/thread-self/fail-nth
and makes the request: the Nth call into failslab or fail_page_alloc in
this thread fails (scoped to this one task; failslab and fail_page_alloc
must be set to fail for GFP_KERNEL and order 0). A fail-nth still above
0 afterwards means the request made fewer than N such calls: nothing
was injected. Whatever happened, the state is restored without
injection, and that must succeed.

A request that failed must have kept the old configuration running
(rings, channels: -G and -L never leave a dead interface): the device
reports the old values, has as many real RX and TX queues as channels,
and with --ping, ADDR answers a ping through it within 10 s.

One JSON line per N: {"n", "injected", "errno", "error", "kept",
"restored"}; "kept" is null where nothing failed. Exit 1 when an
operation fails in any way other than with an error code, does not keep
the old configuration, or cannot be undone: the caller checks the
errors themselves.
"""

import array
import errno
import fcntl
import json
import os
import socket
import struct
import subprocess
import sys
import time

SIOCGIFFLAGS = 0x8913
SIOCSIFFLAGS = 0x8914
SIOCETHTOOL = 0x8946
IFF_UP = 0x1
ETHTOOL_GRINGPARAM = 0x10
ETHTOOL_SRINGPARAM = 0x11
ETHTOOL_GCHANNELS = 0x3c
ETHTOOL_SCHANNELS = 0x3d

FAIL_NTH = "/proc/thread-self/fail-nth"


def ifreq_flags(sock, ifname, flags=None):
    if flags is None:
        req = struct.pack("16sH14x", ifname.encode(), 0)
        res = fcntl.ioctl(sock, SIOCGIFFLAGS, req)
        return struct.unpack_from("16sH", res)[1]
    req = struct.pack("16sH14x", ifname.encode(), flags)
    fcntl.ioctl(sock, SIOCSIFFLAGS, req)
    return flags


def ethtool(sock, ifname, buf):
    ifr = struct.pack("16sP", ifname.encode(), buf.buffer_info()[0])
    fcntl.ioctl(sock, SIOCETHTOOL, ifr)


def set_up(sock, ifname, up):
    flags = ifreq_flags(sock, ifname)
    flags = (flags | IFF_UP) if up else (flags & ~IFF_UP)
    ifreq_flags(sock, ifname, flags)


def ethtool_update(sock, ifname, get_cmd, set_cmd, fields, n):
    """Read a struct of a command word and eight u32 (ethtool_ringparam,
    ethtool_channels) with get_cmd, set the u32 at each index in fields
    to n, and write it back with set_cmd."""
    buf = array.array("B", struct.pack("9I", get_cmd, *[0] * 8))
    ethtool(sock, ifname, buf)
    vals = list(struct.unpack("9I", buf.tobytes()))
    vals[0] = set_cmd
    for i in fields:
        vals[i] = n
    ethtool(sock, ifname, array.array("B", struct.pack("9I", *vals)))


def ethtool_get(sock, ifname, get_cmd, fields):
    buf = array.array("B", struct.pack("9I", get_cmd, *[0] * 8))
    ethtool(sock, ifname, buf)
    vals = struct.unpack("9I", buf.tobytes())
    return [vals[i] for i in fields]


def real_queues(ifname):
    names = os.listdir(f"/sys/class/net/{ifname}/queues")
    return (sum(n.startswith("rx-") for n in names),
            sum(n.startswith("tx-") for n in names))


def answers(addr, ifname, seconds=10):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if subprocess.run(["ping", "-c", "1", "-W", "1", "-I", ifname, addr],
                          stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL).returncode == 0:
            return True
    return False


def kept(sock, ifname, op, back, ping):
    """After a failed rings or channels request: is the old
    configuration reported and running?"""
    if op == "rings":
        if ethtool_get(sock, ifname, ETHTOOL_GRINGPARAM, (5, 8)) != [back] * 2:
            return False
    else:
        if ethtool_get(sock, ifname, ETHTOOL_GCHANNELS, (8,)) != [back]:
            return False
        if real_queues(ifname) != (back, back):
            return False
    return ping is None or answers(ping, ifname)


def set_rings(sock, ifname, n):
    # ethtool_ringparam: [5] rx_pending, [8] tx_pending
    ethtool_update(sock, ifname, ETHTOOL_GRINGPARAM, ETHTOOL_SRINGPARAM,
                   (5, 8), n)


def set_channels(sock, ifname, n):
    # ethtool_channels: [8] combined_count
    ethtool_update(sock, ifname, ETHTOOL_GCHANNELS, ETHTOOL_SCHANNELS,
                   (8,), n)


def main():
    ifname, op = sys.argv[1], sys.argv[2]
    args = sys.argv[3:]
    ping = None
    if "--ping" in args:
        i = args.index("--ping")
        ping, args = args[i + 1], args[:i] + args[i + 2:]
    back = None
    if op == "open":
        do = lambda s: set_up(s, ifname, True)        # noqa: E731
        undo = lambda s: set_up(s, ifname, True)      # noqa: E731
        prepare = lambda s: set_up(s, ifname, False)  # noqa: E731
    elif op in ("rings", "channels"):
        setter = set_rings if op == "rings" else set_channels
        want, back = int(args[0]), int(args[1])
        args = args[2:]
        do = lambda s: setter(s, ifname, want)        # noqa: E731
        undo = lambda s: setter(s, ifname, back)      # noqa: E731
        prepare = undo
    else:
        sys.exit(f"failnth.py: unknown operation {op}")

    bad = 0
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        for n in map(int, args):
            prepare(sock)
            err = 0
            with open(FAIL_NTH, "w") as f:
                f.write(str(n))
                f.flush()
                try:
                    do(sock)
                except OSError as e:
                    err = e.errno
            with open(FAIL_NTH) as f:
                left = int(f.read() or 0)
            # Writing 0 disarms an injection not reached
            with open(FAIL_NTH, "w") as f:
                f.write("0")
            ok = None
            if err and back is not None:
                ok = kept(sock, ifname, op, back, ping)
                if not ok:
                    bad = 1
            restored = True
            try:
                undo(sock)
            except OSError:
                restored = False
                bad = 1
            print(json.dumps({"n": n, "injected": left == 0,
                              "errno": err,
                              "error": os.strerror(err) if err else "",
                              "kept": ok, "restored": restored}),
                  flush=True)
            if err and err not in (errno.ENOMEM, errno.EIO, errno.EBUSY):
                bad = 1
            if left:
                break
    return bad


if __name__ == "__main__":
    sys.exit(main())
