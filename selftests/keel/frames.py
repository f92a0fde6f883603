#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Send and count raw Ethernet frames and UDP multicast for keel selftests.

send:        send COUNT frames of one ethertype to a destination MAC,
             802.1Q-tagged with --vlan, with SIZE bytes after the
             ethertype: a marker and a sequence number, or PAYLOAD (hex)
             when given, padded with zeros
count:       count frames of that ethertype and destination seen on an
             interface (a packet socket, which does not turn on
             promiscuous mode) until DURATION passes or STOP_FILE appears;
             prints the count last; untagged frames only, or with --vlan
             only frames of that VLAN; --any counts every frame of the
             ethertype, marker or not; --stats adds a line on where their
             tags were, their shortest and longest lengths and all bytes
             received
mc-recv:     join an IPv4 multicast group and count UDP datagrams
mc-send:     send UDP datagrams to a multicast group from an address
udp-recv:    count UDP datagrams (IPv4 and IPv6) on a port
udp-send:    send UDP datagrams of a given size, optionally with IPv4
             options
l4-send:     send hand-made IPv4/IPv6 UDP or TCP frames through a packet
             socket, with a correct or a deliberately wrong L4 checksum
stream-sink: accept one TCP or SCTP connection, check the byte pattern
             it carries, print how many bytes arrived
stream-send: send a byte pattern over TCP or SCTP
tx-desc:     decode the TX descriptors of a devlink health dump of keel's
             tx reporter (devlink -j output), find the packets of a given
             length or MSS and check their descriptor fields
"""

import argparse
import ipaddress
import json
import os
import socket
import struct
import sys
import time

MARKER = b"keel-selftest"
ETH_P_ALL = 3
ETH_P_8021Q = 0x8100
PACKET_OUTGOING = 4
SOL_PACKET = 263
PACKET_AUXDATA = 8
TP_STATUS_VLAN_VALID = 1 << 4
IPPROTO_SCTP = 132
TCPI_OPT_TIMESTAMPS = 1
IPV6_DSTOPTS = 59


def mac_bytes(mac):
    return bytes.fromhex(mac.replace(":", ""))


def if_mac(ifname):
    with open(f"/sys/class/net/{ifname}/address", encoding="ascii") as f:
        return mac_bytes(f.read().strip())


def if_counter(ifname, name):
    with open(f"/sys/class/net/{ifname}/statistics/{name}",
              encoding="ascii") as f:
        return int(f.read())


def running(args, deadline):
    """Keep counting until the deadline or until the stop file appears."""
    if args.stop_file and os.path.exists(args.stop_file):
        return False
    return time.monotonic() < deadline


def vlan_tag(vid, prio=0):
    return struct.pack("!HH", ETH_P_8021Q, (prio << 13) | vid)


def cmd_send(args):
    etype = int(args.ethertype, 0)
    with socket.socket(socket.AF_PACKET, socket.SOCK_RAW) as s:
        s.bind((args.ifname, 0))
        head = mac_bytes(args.dst) + if_mac(args.ifname)
        if args.vlan is not None:
            head += vlan_tag(args.vlan, args.prio)
        head += struct.pack("!H", etype)
        for seq in range(args.count):
            if args.payload:
                payload = bytes.fromhex(args.payload)
            else:
                payload = MARKER + struct.pack("!I", seq)
            s.send(head + payload.ljust(args.size, b"\0"))
            time.sleep(args.interval)
    return 0


def frame_vlan(frame, anc):
    """The frame's VLAN ID and where it was: ("data"|"aux"|None, vid)."""
    if frame[12:14] == struct.pack("!H", ETH_P_8021Q):
        return "data", struct.unpack("!H", frame[14:16])[0] & 0xfff
    for level, kind, data in anc:
        if level != SOL_PACKET or kind != PACKET_AUXDATA:
            continue
        # struct tpacket_auxdata: status, len, snaplen, mac, net, vlan_tci
        status, _, _, _, _, tci = struct.unpack("=IIIHHH", data[:18])
        if status & TP_STATUS_VLAN_VALID:
            return "aux", tci & 0xfff
    return None, None


def cmd_count(args):
    etype = struct.pack("!H", int(args.ethertype, 0))
    dst = mac_bytes(args.dst)
    seen = 0
    where = {"data": 0, "aux": 0}
    all_frames = all_bytes = 0
    lengths = []
    # ETH_P_ALL taps see frames before an rx_handler (macvlan, bridge)
    # takes them over; our own transmissions are skipped.
    with socket.socket(socket.AF_PACKET, socket.SOCK_RAW,
                       socket.htons(ETH_P_ALL)) as s:
        s.setsockopt(SOL_PACKET, PACKET_AUXDATA, 1)
        s.bind((args.ifname, ETH_P_ALL))
        s.settimeout(0.1)
        rx_bytes0 = if_counter(args.ifname, "rx_bytes")
        print("ready", flush=True)
        deadline = time.monotonic() + args.duration
        while running(args, deadline):
            try:
                frame, anc, _, addr = s.recvmsg(65536,
                                                socket.CMSG_SPACE(64))
            except socket.timeout:
                continue
            if addr[2] == PACKET_OUTGOING:
                continue
            all_frames += 1
            all_bytes += len(frame)
            if frame[:6] != dst:
                continue
            kind, vid = frame_vlan(frame, anc)
            body = frame[16:] if kind == "data" else frame[12:]
            want = etype if args.any else etype + MARKER
            if body[:len(want)] != want:
                continue
            if args.vlan is not None and vid != args.vlan:
                continue
            if args.vlan is None and kind is not None:
                continue
            seen += 1
            lengths.append(len(frame))
            if kind:
                where[kind] += 1
        rx_bytes = if_counter(args.ifname, "rx_bytes") - rx_bytes0
    if args.stats:
        # The device's byte count against what the packet socket got:
        # every tag left in the data by the device makes 4 bytes more
        # (the stack takes it out before any packet socket sees it).
        print(f"stats matched {seen} aux_tag {where['aux']} "
              f"data_tag {where['data']} frames {all_frames} "
              f"bytes {all_bytes} rx_bytes {rx_bytes} "
              f"min_len {min(lengths, default=0)} "
              f"max_len {max(lengths, default=0)}", flush=True)
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


def family(addr):
    return socket.AF_INET6 if ":" in addr else socket.AF_INET


def dual_stack_socket(kind, proto=0):
    """A socket on [::] that takes IPv4 as well."""
    s = socket.socket(socket.AF_INET6, kind, proto)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    return s


def cmd_udp_recv(args):
    with dual_stack_socket(socket.SOCK_DGRAM) as s:
        s.bind(("::", args.port))
        s.settimeout(0.1)
        print("ready", flush=True)
        seen = 0
        deadline = time.monotonic() + args.duration
        while running(args, deadline):
            try:
                data = s.recv(65536)
            except socket.timeout:
                continue
            if data.startswith(MARKER):
                seen += 1
    print(seen, flush=True)
    return 0


def cmd_udp_send(args):
    with socket.socket(family(args.dst), socket.SOCK_DGRAM) as s:
        if args.ip_options:
            s.setsockopt(socket.IPPROTO_IP, socket.IP_OPTIONS,
                         bytes.fromhex(args.ip_options))
        if args.dstopts:
            # A destination options header of 8 bytes: next header and
            # length (filled in by the kernel), then PadN of 4 bytes
            s.setsockopt(socket.IPPROTO_IPV6, IPV6_DSTOPTS,
                         bytes([0, 0, 1, 4, 0, 0, 0, 0]))
        if args.priority is not None:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_PRIORITY, args.priority)
        for seq in range(args.count):
            payload = MARKER + struct.pack("!I", seq)
            s.sendto(payload.ljust(args.size, b"\0"), (args.dst, args.port))
            time.sleep(args.interval)
    return 0


def csum16(data):
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xffff) + (total >> 16)
    return ~total & 0xffff


def l4_frame(args, seq):
    """An Ethernet frame with an IPv4/IPv6 UDP or TCP packet."""
    v6 = family(args.dst_ip) == socket.AF_INET6
    src = ipaddress.ip_address(args.src_ip).packed
    dst = ipaddress.ip_address(args.dst_ip).packed
    payload = (MARKER + struct.pack("!I", seq)).ljust(args.size, b"\0")
    if args.proto == "udp":
        proto = socket.IPPROTO_UDP
        l4 = struct.pack("!HHHH", args.sport, args.dport, 8 + len(payload),
                         0) + payload
        check_at = 6
    else:
        proto = socket.IPPROTO_TCP
        # ACK|PSH, a window, no options
        l4 = struct.pack("!HHIIBBHHH", args.sport, args.dport, 1000 + seq,
                         1, 5 << 4, 0x18, 8192, 0, 0) + payload
        check_at = 16
    if v6:
        pseudo = src + dst + struct.pack("!IxxxB", len(l4), proto)
    else:
        pseudo = src + dst + struct.pack("!xBH", proto, len(l4))
    check = csum16(pseudo + l4)
    if proto == socket.IPPROTO_UDP and check == 0:
        check = 0xffff
    if args.bad_csum:
        # Wrong, and not the "no checksum" value of UDP over IPv4
        check ^= 0x5a5a
        if check in (0, 0xffff):
            check ^= 0x0101
    l4 = l4[:check_at] + struct.pack("!H", check) + l4[check_at + 2:]
    if v6:
        ip = struct.pack("!IHBB", 6 << 28, len(l4), proto, 64) + src + dst
        etype = 0x86dd
    else:
        ip = struct.pack("!BBHHHBBH", 0x45, 0, 20 + len(l4), seq & 0xffff,
                         0x4000, 64, proto, 0) + src + dst
        ip = ip[:10] + struct.pack("!H", csum16(ip)) + ip[12:]
        etype = 0x0800
    head = mac_bytes(args.dst) + if_mac(args.ifname)
    if args.vlan is not None:
        head += vlan_tag(args.vlan)
    return head + struct.pack("!H", etype) + ip + l4


def cmd_l4_send(args):
    with socket.socket(socket.AF_PACKET, socket.SOCK_RAW) as s:
        s.bind((args.ifname, 0))
        for seq in range(args.count):
            s.send(l4_frame(args, seq))
            time.sleep(args.interval)
    return 0


# The stream tests send this 251-byte cycle: a segment that arrives
# corrupted, reordered or twice shows as a pattern mismatch.
PATTERN = bytes(i % 251 for i in range(251)) * 300


def pattern(offset, length):
    out = b""
    while length:
        start = offset % 251
        n = min(length, len(PATTERN) - start)
        out += PATTERN[start:start + n]
        offset += n
        length -= n
    return out


def stream_proto(name):
    return socket.IPPROTO_TCP if name == "tcp" else IPPROTO_SCTP


def cmd_stream_sink(args):
    total = 0
    bad = 0
    with dual_stack_socket(socket.SOCK_STREAM, stream_proto(args.proto)) as s:
        s.bind(("::", args.port))
        s.listen(1)
        s.settimeout(args.duration)
        print("ready", flush=True)
        try:
            conn, _ = s.accept()
        except socket.timeout:
            print("bytes 0 bad 0 (no connection)", flush=True)
            return 1
        with conn:
            conn.settimeout(args.duration)
            acked = 0
            while True:
                try:
                    data = conn.recv(262144)
                except socket.timeout:
                    break
                if not data:
                    break
                if data != pattern(total, len(data)):
                    bad += 1
                total += len(data)
                if args.ack_every:
                    while total - acked >= args.ack_every:
                        acked += args.ack_every
                        conn.send(b"k")
    print(f"bytes {total} bad {bad}", flush=True)
    return 0 if not bad else 1


def tcp_info(s):
    """(MSS, header length of a data segment) of a TCP connection."""
    info = s.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 104)
    options = info[5]
    mss = struct.unpack("=I", info[16:20])[0]
    return mss, 20 + (12 if options & TCPI_OPT_TIMESTAMPS else 0)


def cmd_stream_send(args):
    with socket.socket(family(args.dst), socket.SOCK_STREAM,
                       stream_proto(args.proto)) as s:
        if args.proto == "tcp":
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if args.mss:
                s.setsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG, args.mss)
        s.settimeout(30)
        s.connect((args.dst, args.port))
        sent = 0
        while sent < args.bytes:
            n = min(args.write, args.bytes - sent)
            s.sendall(pattern(sent, n))
            sent += n
            if args.pingpong:
                if s.recv(1) != b"k":
                    print(f"sent {sent}: no acknowledgement", flush=True)
                    return 1
        line = f"sent {sent}"
        if args.proto == "tcp":
            mss, hdr = tcp_info(s)
            line += f" mss {mss} tcp_hdr {hdr}"
        print(line, flush=True)
    return 0


# Advanced TX descriptors (82576): data and context layouts
DTYP_CTXT = 2
DTYP_DATA = 3
L4T_NAMES = {0: "udp", 1: "tcp", 2: "sctp", 3: "rsvd"}


def bits(v, hi, lo):
    return (v >> lo) & ((1 << (hi - lo + 1)) - 1)


def find_key(obj, key):
    """The first value of KEY anywhere in a JSON document."""
    if isinstance(obj, dict):
        if key in obj:
            return obj[key]
        obj = list(obj.values())
    if isinstance(obj, list):
        for v in obj:
            found = find_key(v, key)
            if found is not None:
                return found
    return None


def read_rings(path):
    """Each TX ring of a dump: its queue, its size and the descriptors
    shown, by index (a window around the ring's head)."""
    with open(path, encoding="utf-8") as f:
        dump = json.load(f)
    for r in find_key(dump, "rings") or []:
        descs = {d["index"]: (int(d["qw0"], 16), int(d["qw1"], 16))
                 for d in r["descriptors"]}
        yield r["queue"], r["count"], descs


def dtyp(desc):
    """DTYP of an extended descriptor, None for anything else."""
    if desc is None:
        return None
    return bits(desc[1], 23, 20) if desc[1] >> 29 & 1 else None


def data_fields(qw1):
    return {
        "dtyp": bits(qw1, 23, 20), "eop": bits(qw1, 24, 24),
        "ifcs": bits(qw1, 25, 25), "rs": bits(qw1, 27, 27),
        "dext": bits(qw1, 29, 29), "vle": bits(qw1, 30, 30),
        "tse": bits(qw1, 31, 31), "dd": bits(qw1, 32, 32),
        "idx": bits(qw1, 38, 36), "cc": bits(qw1, 39, 39),
        "ixsm": bits(qw1, 40, 40), "txsm": bits(qw1, 41, 41),
        "paylen": bits(qw1, 63, 46),
    }


# The bits that every data descriptor of one packet shares
SAME_PACKET_MASK = ~((0xffff) | (1 << 24) | (1 << 27) | (1 << 32)) & \
    ((1 << 64) - 1)


def ring_packets(n, ring):
    """Each packet whose descriptors are all in the window RING of a ring
    of N: its data descriptors and the context descriptor in front of
    them (None if there is none)."""
    for last in sorted(ring):
        if dtyp(ring[last]) != DTYP_DATA or not ring[last][1] >> 24 & 1:
            continue
        first = last
        for _ in range(n - 1):
            prev = ring.get((first - 1) % n)
            if dtyp(prev) != DTYP_DATA or prev[1] >> 24 & 1 or \
                    (prev[1] ^ ring[last][1]) & SAME_PACKET_MASK:
                break
            first = (first - 1) % n
        # The window may start inside the packet: its start is unknown
        if (first - 1) % n not in ring:
            continue
        count = (last - first) % n + 1
        data = [ring[(first + i) % n] for i in range(count)]
        ctx = ring[(first - 1) % n]
        yield first, data, ctx if dtyp(ctx) == DTYP_CTXT else None


def packet_fields(data, ctx):
    """Every field of a packet's descriptors, by name."""
    f = data_fields(data[-1][1])
    f["ndesc"] = len(data)
    f["dtalen"] = sum(bits(d[1], 15, 0) for d in data)
    f["hdrlen"] = f["dtalen"] - f["paylen"]
    f["ctx"] = 0 if ctx is None else 1
    if ctx is not None:
        qw0, qw1 = ctx
        f.update({
            "iplen": bits(qw0, 8, 0), "maclen": bits(qw0, 15, 9),
            "vlan": bits(qw0, 31, 16), "vid": bits(qw0, 27, 16),
            "ctx_dtyp": bits(qw1, 23, 20), "ctx_dext": bits(qw1, 29, 29),
            "ipv4": bits(qw1, 10, 10), "l4t": L4T_NAMES[bits(qw1, 12, 11)],
            "ctx_idx": bits(qw1, 38, 36), "l4len": bits(qw1, 47, 40),
            "mss": bits(qw1, 63, 48),
        })
    return f


def cmd_tx_desc(args):
    matches = []
    for queue, count, ring in read_rings(args.dump):
        for first, data, ctx in ring_packets(count, ring):
            f = packet_fields(data, ctx)
            if args.frame_len is not None and \
                    (f["tse"] or f["dtalen"] != args.frame_len):
                continue
            if args.mss is not None and \
                    (not f["tse"] or f.get("mss") != args.mss):
                continue
            matches.append((f"tx_ring{queue}", first, f))
    if not matches:
        print("no packet found in the TX rings", flush=True)
        return 1
    bad = 0
    for ring, first, f in matches:
        print(f"{ring} @{first}: " +
              " ".join(f"{k}={v}" for k, v in f.items()), flush=True)
        for want in args.expect:
            key, val = want.split("=", 1)
            got = str(f.get(key, "missing"))
            if got != val:
                print(f"  {key}: got {got}, want {val}", flush=True)
                bad += 1
    return 1 if bad else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)

    p = sub.add_parser("send")
    p.add_argument("--ifname", required=True)
    p.add_argument("--dst", required=True)
    p.add_argument("--ethertype", default="0x88b5")
    p.add_argument("--vlan", type=int)
    p.add_argument("--prio", type=int, default=0)
    p.add_argument("--size", type=int, default=46)
    p.add_argument("--count", type=int, default=20)
    p.add_argument("--interval", type=float, default=0.01)
    p.add_argument("--payload")
    p.set_defaults(func=cmd_send)

    p = sub.add_parser("count")
    p.add_argument("--ifname", required=True)
    p.add_argument("--dst", required=True)
    p.add_argument("--ethertype", default="0x88b5")
    p.add_argument("--vlan", type=int)
    p.add_argument("--any", action="store_true")
    p.add_argument("--stats", action="store_true")
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

    p = sub.add_parser("udp-recv")
    p.add_argument("--port", type=int, default=5002)
    p.add_argument("--duration", type=float, default=10.0)
    p.add_argument("--stop-file")
    p.set_defaults(func=cmd_udp_recv)

    p = sub.add_parser("udp-send")
    p.add_argument("--dst", required=True)
    p.add_argument("--port", type=int, default=5002)
    p.add_argument("--count", type=int, default=20)
    p.add_argument("--size", type=int, default=200)
    p.add_argument("--interval", type=float, default=0.01)
    p.add_argument("--ip-options", help="IPv4 options, hex")
    p.add_argument("--dstopts", action="store_true",
                   help="IPv6: a destination options extension header")
    p.add_argument("--priority", type=int)
    p.set_defaults(func=cmd_udp_send)

    p = sub.add_parser("l4-send")
    p.add_argument("--ifname", required=True)
    p.add_argument("--dst", required=True, help="destination MAC")
    p.add_argument("--src-ip", required=True)
    p.add_argument("--dst-ip", required=True)
    p.add_argument("--proto", choices=["udp", "tcp"], default="udp")
    p.add_argument("--sport", type=int, default=40000)
    p.add_argument("--dport", type=int, default=9)
    p.add_argument("--vlan", type=int)
    p.add_argument("--bad-csum", action="store_true")
    p.add_argument("--size", type=int, default=64)
    p.add_argument("--count", type=int, default=20)
    p.add_argument("--interval", type=float, default=0.01)
    p.set_defaults(func=cmd_l4_send)

    p = sub.add_parser("stream-sink")
    p.add_argument("--proto", choices=["tcp", "sctp"], default="tcp")
    p.add_argument("--port", type=int, default=5003)
    p.add_argument("--ack-every", type=int, default=0)
    p.add_argument("--duration", type=float, default=30.0)
    p.set_defaults(func=cmd_stream_sink)

    p = sub.add_parser("stream-send")
    p.add_argument("--proto", choices=["tcp", "sctp"], default="tcp")
    p.add_argument("--dst", required=True)
    p.add_argument("--port", type=int, default=5003)
    p.add_argument("--bytes", type=int, required=True)
    p.add_argument("--write", type=int, default=65536)
    p.add_argument("--pingpong", action="store_true")
    p.add_argument("--mss", type=int, help="TCP_MAXSEG before connecting")
    p.set_defaults(func=cmd_stream_send)

    p = sub.add_parser("tx-desc")
    p.add_argument("--dump", required=True,
                   help="devlink -j health dump show ... reporter tx")
    p.add_argument("--frame-len", type=int,
                   help="non-TSO packets of this length")
    p.add_argument("--mss", type=int, help="TSO packets with this MSS")
    p.add_argument("--expect", nargs="*", default=[], metavar="FIELD=VALUE")
    p.set_defaults(func=cmd_tx_desc)

    args = ap.parse_args()
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
