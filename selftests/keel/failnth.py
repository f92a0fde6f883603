#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Fail the Nth fault-injectable call of one operation on keel's netdev.

  failnth.py IFNAME OP [--ping ADDR] [--clean K] N...

OP is one of
  open        SIOCSIFFLAGS up on a down interface (ndo_open)
  rings A B   ETHTOOL_SRINGPARAM: rx and tx rings to A, then back to B
  channels A B  ETHTOOL_SCHANNELS: combined channels to A, then back to B

For each N, the calling thread writes N to /proc/thread-self/fail-nth
and makes the request: the Nth call into failslab or fail_page_alloc in
this thread fails (scoped to this one task; failslab and fail_page_alloc
must be set to fail for GFP_KERNEL and order 0). A fail-nth still above
0 afterwards means the request made fewer than N such calls: nothing
was injected; the Ns stop after K such requests in a row (--clean,
default 1: a request's call count varies from run to run, so a dense
list of N wants a few). Whatever happened, the state is
restored without injection, and that must succeed.

A request that failed must have kept the old configuration running
(rings, channels: -G and -L never leave a dead interface): the device
reports the old values, has as many real RX and TX queues as channels,
and with --ping, ADDR answers a ping through it within 10 s.

One JSON line per N: {"n", "injected", "calls", "errno", "error",
"kept", "lost", "restored"}; "calls" is how many calls the request made
when they were fewer than N (null otherwise), "kept" is null where
nothing failed, "lost" says what of the old configuration was lost.
Exit 1 when an operation fails in any way other than with an error code,
does not keep the old configuration, or cannot be undone: the caller
checks the errors themselves.
"""

import argparse
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


def ethtool_read(sock, ifname, get_cmd):
    """Read a struct of a command word and eight u32 (ethtool_ringparam,
    ethtool_channels) with get_cmd: the nine words."""
    buf = array.array("B", struct.pack("9I", get_cmd, *[0] * 8))
    ethtool(sock, ifname, buf)
    return list(struct.unpack("9I", buf.tobytes()))


def ethtool_update(sock, ifname, get_cmd, set_cmd, fields, n):
    """Read the struct with get_cmd, set the u32 at each index in fields
    to n, and write it back with set_cmd."""
    vals = ethtool_read(sock, ifname, get_cmd)
    vals[0] = set_cmd
    for i in fields:
        vals[i] = n
    ethtool(sock, ifname, array.array("B", struct.pack("9I", *vals)))


def ethtool_get(sock, ifname, get_cmd, fields):
    vals = ethtool_read(sock, ifname, get_cmd)
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


def lost(sock, ifname, op, back, ping):
    """After a failed rings or channels request: what of the old
    configuration is not reported or not running ("" when nothing)."""
    if op == "rings":
        now = ethtool_get(sock, ifname, ETHTOOL_GRINGPARAM, (5, 8))
        if now != [back] * 2:
            return f"rings {now}, not {back}"
    else:
        now = ethtool_get(sock, ifname, ETHTOOL_GCHANNELS, (8,))[0]
        if now != back:
            return f"{now} channels, not {back}"
        queues = real_queues(ifname)
        if queues != (back, back):
            return f"real RX, TX queues {queues}, not {back}"
    if ping is not None and not answers(ping, ifname):
        return f"{ping} does not answer a ping"
    return ""


def set_rings(sock, ifname, n):
    # ethtool_ringparam: [5] rx_pending, [8] tx_pending
    ethtool_update(sock, ifname, ETHTOOL_GRINGPARAM, ETHTOOL_SRINGPARAM,
                   (5, 8), n)


def set_channels(sock, ifname, n):
    # ethtool_channels: [8] combined_count
    ethtool_update(sock, ifname, ETHTOOL_GCHANNELS, ETHTOOL_SCHANNELS,
                   (8,), n)


def parse_args():
    parser = argparse.ArgumentParser(
        description="Fail the Nth fault-injectable call of one operation.")
    parser.add_argument("ifname")
    parser.add_argument("op", choices=("open", "rings", "channels"))
    parser.add_argument("--ping", metavar="ADDR",
                        help="a failed request must leave ADDR answering")
    parser.add_argument("--clean", metavar="K", type=int, default=1,
                        help="stop after K requests in a row ran clean")
    parser.add_argument("values", nargs="+", type=int, metavar="N",
                        help="rings and channels: A B first, then the Ns")
    args = parser.parse_intermixed_args()
    if args.clean < 1:
        parser.error("--clean must be at least 1")
    if args.op != "open" and len(args.values) < 3:
        parser.error(f"{args.op} needs A B and at least one N")
    return args


def main():
    args = parse_args()
    ifname, op, ping = args.ifname, args.op, args.ping
    values = args.values
    back = None
    if op == "open":
        do = lambda s: set_up(s, ifname, True)        # noqa: E731
        undo = lambda s: set_up(s, ifname, True)      # noqa: E731
        prepare = lambda s: set_up(s, ifname, False)  # noqa: E731
    else:
        setter = set_rings if op == "rings" else set_channels
        want, back = values[0], values[1]
        values = values[2:]
        do = lambda s: setter(s, ifname, want)        # noqa: E731
        undo = lambda s: setter(s, ifname, back)      # noqa: E731
        prepare = undo

    bad = 0

    def attempt(sock, n):
        """Request with its Nth call failed; print the record. Return
        how many calls the request made when it made fewer than N."""
        nonlocal bad
        prepare(sock)
        err = 0
        # One descriptor for arming, reading back and disarming: opening
        # the file again would itself allocate, and take an injection
        # the request did not reach (or miscount the request's calls).
        fd = os.open(FAIL_NTH, os.O_RDWR)
        try:
            os.write(fd, str(n).encode())
            try:
                do(sock)
            except OSError as e:
                err = e.errno
            left = int(os.pread(fd, 32, 0) or 0)
            # Writing 0 disarms an injection not reached
            os.write(fd, b"0")
        finally:
            os.close(fd)
        calls = n - left if left else None
        why = None
        if err and back is not None:
            why = lost(sock, ifname, op, back, ping)
            if why:
                bad = 1
        restored = True
        try:
            undo(sock)
        except OSError:
            restored = False
            bad = 1
        print(json.dumps({"n": n, "injected": left == 0,
                          "calls": calls,
                          "errno": err,
                          "error": os.strerror(err) if err else "",
                          "kept": None if why is None else not why,
                          "lost": why or None, "restored": restored}),
              flush=True)
        if err and err not in (errno.ENOMEM, errno.EIO, errno.EBUSY):
            bad = 1
        return calls

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        clean = 0
        for n in values:
            clean = clean + 1 if attempt(sock, n) is not None else 0
            if clean == args.clean:
                break
    return bad


if __name__ == "__main__":
    sys.exit(main())
