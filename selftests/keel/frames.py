#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Send and count raw Ethernet frames and UDP multicast for keel selftests.

send:     send COUNT frames of one ethertype to a destination MAC with
          SIZE bytes after the ethertype: a marker and a sequence number,
          or PAYLOAD (hex) when given, padded with zeros
count:    count frames of that ethertype and destination seen on an
          interface (a packet socket, which does not turn on promiscuous
          mode) until DURATION passes or STOP_FILE appears; prints the
          count
mc-recv:  join an IPv4 multicast group and count UDP datagrams
mc-send:  send UDP datagrams to a multicast group from an address
"""

import argparse
import os
import socket
import struct
import sys
import time

MARKER = b"keel-selftest"
ETH_P_ALL = 3
PACKET_OUTGOING = 4


def mac_bytes(mac):
    return bytes.fromhex(mac.replace(":", ""))


def if_mac(ifname):
    with open(f"/sys/class/net/{ifname}/address", encoding="ascii") as f:
        return mac_bytes(f.read().strip())


def running(args, deadline):
    """Keep counting until the deadline or until the stop file appears."""
    if args.stop_file and os.path.exists(args.stop_file):
        return False
    return time.monotonic() < deadline


def cmd_send(args):
    etype = int(args.ethertype, 0)
    with socket.socket(socket.AF_PACKET, socket.SOCK_RAW) as s:
        s.bind((args.ifname, 0))
        head = mac_bytes(args.dst) + if_mac(args.ifname)
        head += struct.pack("!H", etype)
        for seq in range(args.count):
            if args.payload:
                payload = bytes.fromhex(args.payload)
            else:
                payload = MARKER + struct.pack("!I", seq)
            s.send(head + payload.ljust(args.size, b"\0"))
            time.sleep(args.interval)
    return 0


def cmd_count(args):
    etype = int(args.ethertype, 0)
    dst = mac_bytes(args.dst)
    seen = 0
    want = dst + b"\0" * 6 + struct.pack("!H", etype) + MARKER
    # ETH_P_ALL taps see frames before an rx_handler (macvlan, bridge)
    # takes them over; our own transmissions are skipped.
    with socket.socket(socket.AF_PACKET, socket.SOCK_RAW,
                       socket.htons(ETH_P_ALL)) as s:
        s.bind((args.ifname, ETH_P_ALL))
        s.settimeout(0.1)
        print("ready", flush=True)
        deadline = time.monotonic() + args.duration
        while running(args, deadline):
            try:
                frame, addr = s.recvfrom(2048)
            except socket.timeout:
                continue
            if addr[2] == PACKET_OUTGOING:
                continue
            if frame[:6] == want[:6] and \
                    frame[12:14 + len(MARKER)] == want[12:]:
                seen += 1
    print(seen, flush=True)
    return 0


def cmd_mc_recv(args):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("", args.port))
        mreq = socket.inet_aton(args.group) + socket.inet_aton(args.local)
        s.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, mreq)
        s.settimeout(0.1)
        print("ready", flush=True)
        seen = 0
        deadline = time.monotonic() + args.duration
        while running(args, deadline):
            try:
                data = s.recv(2048)
            except socket.timeout:
                continue
            if data.startswith(MARKER):
                seen += 1
    print(seen, flush=True)
    return 0


def cmd_mc_send(args):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF,
                     socket.inet_aton(args.local))
        for seq in range(args.count):
            s.sendto(MARKER + struct.pack("!I", seq), (args.group, args.port))
            time.sleep(args.interval)
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)

    p = sub.add_parser("send")
    p.add_argument("--ifname", required=True)
    p.add_argument("--dst", required=True)
    p.add_argument("--ethertype", default="0x88b5")
    p.add_argument("--count", type=int, default=20)
    p.add_argument("--interval", type=float, default=0.01)
    p.add_argument("--size", type=int, default=46)
    p.add_argument("--payload")
    p.set_defaults(func=cmd_send)

    p = sub.add_parser("count")
    p.add_argument("--ifname", required=True)
    p.add_argument("--dst", required=True)
    p.add_argument("--ethertype", default="0x88b5")
    p.add_argument("--duration", type=float, default=3.0)
    p.add_argument("--stop-file")
    p.set_defaults(func=cmd_count)

    p = sub.add_parser("mc-recv")
    p.add_argument("--group", required=True)
    p.add_argument("--local", required=True)
    p.add_argument("--port", type=int, default=5001)
    p.add_argument("--duration", type=float, default=3.0)
    p.add_argument("--stop-file")
    p.set_defaults(func=cmd_mc_recv)

    p = sub.add_parser("mc-send")
    p.add_argument("--group", required=True)
    p.add_argument("--local", required=True)
    p.add_argument("--port", type=int, default=5001)
    p.add_argument("--count", type=int, default=20)
    p.add_argument("--interval", type=float, default=0.01)
    p.set_defaults(func=cmd_mc_send)

    args = ap.parse_args()
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
