#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
#
# Writes the seeds of netlink_fuzz (corpus/netlink/) and of
# options_fuzz's binary selector byte: replies as a 6.12 kernel sends
# them for a keel or virtio device, each file the selector byte of
# netlink_fuzz.cc followed by the payload after the generic netlink
# header (for links: struct ifinfomsg and attributes). The attribute
# numbers are those of the 6.12 uapi headers (linux/ethtool_netlink.h,
# linux/netdev.h, linux/if_link.h).
#
# Usage: daemon/fuzz/gen_netlink_seeds.py [OUTDIR]
#   OUTDIR  default daemon/fuzz/corpus/netlink next to this script
import os
import struct
import sys

# netlink_fuzz.cc's selector byte
BITSET, FEATURES, PRIVFLAGS, RINGS, CHANNELS, COALESCE, RSS = range(7)
NEWLINK, DELLINK, QUEUE, NAPI, PAGE_POOL, STRSET, STATS = range(7, 14)
PAUSE, QSTATS, PP_STATS, GSTRINGS = range(14, 18)
ETHTOOL_IFINDEX, QSTATS_IFINDEX, PP_STATS_IFINDEX = range(18, 21)

NLA_F_NESTED = 0x8000
IFINDEX = 2  # netlink_fuzz.cc's kIfindex


def attr(atype, payload):
    hdr = struct.pack('=HH', 4 + len(payload), atype)
    pad = b'\0' * ((4 - len(payload) % 4) % 4)
    return hdr + payload + pad


def nest(atype, *attrs):
    return attr(atype | NLA_F_NESTED, b''.join(attrs))


def u8(atype, v):
    return attr(atype, struct.pack('=B', v))


def u32(atype, v):
    return attr(atype, struct.pack('=I', v))


def u64(atype, v):
    return attr(atype, struct.pack('=Q', v))


def string(atype, s):
    return attr(atype, s.encode() + b'\0')


def flag(atype):
    return attr(atype, b'')


def header(atype=1, ifindex=IFINDEX, name='eth0'):
    # ETHTOOL_A_HEADER_DEV_INDEX 1, _DEV_NAME 2
    return nest(atype, u32(1, ifindex), string(2, name))


# ETHTOOL_A_BITSET_*: NOMASK 1, SIZE 2, BITS 3, VALUE 4, MASK 5;
# BITS_BIT 1; BIT_INDEX 1, BIT_NAME 2, BIT_VALUE 3
def compact(atype, size, value, mask=None):
    words = (size + 31) // 32
    v = struct.pack('=%dI' % words, *value)
    out = [u32(2, size), attr(4, v)]
    if mask is None:
        out.insert(0, flag(1))
    else:
        out.append(attr(5, struct.pack('=%dI' % words, *mask)))
    return nest(atype, *out)


def verbose(atype, size, bits, nomask=False):
    listed = []
    for index, name, on in bits:
        inner = [u32(1, index), string(2, name)]
        if on:
            inner.append(flag(3))
        listed.append(nest(1, *inner))
    out = [u32(2, size), nest(3, *listed)]
    if nomask:
        out.insert(0, flag(1))
    return nest(atype, *out)


def seeds():
    s = {}
    s['bitset-compact'] = (BITSET, compact(1, 40, [0x5, 0x80], [0x7, 0x80]))
    s['bitset-verbose'] = (BITSET, verbose(1, 4, [(0, 'a', True),
                                                  (2, 'c', False)]))
    # FEATURES: HEADER 1, HW 2, WANTED 3, ACTIVE 4, NOCHANGE 5
    s['features-compact'] = (FEATURES, header() +
                             compact(2, 4, [0xf], None) +
                             compact(3, 4, [0x0], None) +
                             compact(4, 4, [0x5], None) +
                             compact(5, 4, [0x8], None))
    s['features-verbose'] = (FEATURES, header() +
                             verbose(2, 4, [(0, 'tx-scatter-gather', True),
                                            (2, 'rx-checksum', True)],
                                     nomask=True) +
                             verbose(4, 4, [(2, 'rx-checksum', True)],
                                     nomask=True))
    # PRIVFLAGS: HEADER 1, FLAGS 2
    s['privflags'] = (PRIVFLAGS, header() +
                      verbose(2, 2, [(0, 'legacy-rx', True),
                                     (1, 'fw-lldp', False)]))
    # RINGS: RX_MAX 2, TX_MAX 5, RX 6, TX 9
    s['rings'] = (RINGS, header() + u32(2, 4096) + u32(5, 4096) +
                  u32(6, 256) + u32(9, 256))
    # CHANNELS: RX_MAX 2 .. COMBINED_MAX 5, RX_COUNT 6 .. COMBINED_COUNT 9
    s['channels'] = (CHANNELS, header() + u32(5, 8) + u32(4, 1) +
                     u32(9, 4) + u32(8, 0))
    # COALESCE: RX_USECS 2, RX_MAX_FRAMES 3, TX_USECS 6,
    # USE_ADAPTIVE_RX 11, USE_ADAPTIVE_TX 12
    s['coalesce'] = (COALESCE, header() + u32(2, 3) + u32(3, 0) +
                     u32(6, 50) + u8(11, 1) + u8(12, 0))
    # RSS: HEADER 1, CONTEXT 2, HFUNC 3, INDIR 4, HKEY 5
    indir = struct.pack('=128I', *[i % 4 for i in range(128)])
    s['rss'] = (RSS, header() + u32(3, 1) + attr(4, indir) +
                attr(5, bytes(range(0x6d, 0x6d + 40))))
    s['rss-no-table'] = (RSS, header() + u32(3, 4))
    # links: struct ifinfomsg (family, pad, type, index, flags, change),
    # then IFLA_ADDRESS 1, IFNAME 3, MTU 4, OPERSTATE 16, STATS64 23
    ifi = struct.pack('=BxHiII', 0, 1, IFINDEX, 0x1043, 0)
    stats = struct.pack('=25Q', *range(1, 26))
    s['link-new'] = (NEWLINK, ifi + attr(1, bytes.fromhex('525400123456')) +
                     string(3, 'eth0') + u32(4, 1500) + u8(16, 6) +
                     attr(23, stats))
    s['link-del'] = (DELLINK, ifi + string(3, 'eth0'))
    # netdev QUEUE: ID 1, IFINDEX 2, TYPE 3, NAPI_ID 4
    s['queue'] = (QUEUE, u32(1, 0) + u32(2, IFINDEX) + u32(3, 0) +
                  u32(4, 8193))
    # NAPI: IFINDEX 1, ID 2, IRQ 3, PID 4
    s['napi'] = (NAPI, u32(1, IFINDEX) + u32(2, 8193) + u32(3, 27) +
                 u32(4, 412))
    # PAGE_POOL: ID 1, IFINDEX 2, NAPI_ID 3, INFLIGHT 4, INFLIGHT_MEM 5
    s['page-pool'] = (PAGE_POOL, u32(1, 7) + u32(2, IFINDEX) +
                      u32(3, 8193) + u32(4, 1024) + u64(5, 4194304))
    # STRSET: HEADER 1, STRINGSETS 2; STRINGSET 1; ID 1, COUNT 2,
    # STRINGS 3; STRING 1; INDEX 1, VALUE 2
    names = ['FramesTransmittedOK', 'SingleCollisionFrames']
    strings = nest(3, *[nest(1, u32(1, i), string(2, n))
                        for i, n in enumerate(names)])
    s['strset'] = (STRSET, header() +
                   nest(2, nest(1, u32(1, 18), u32(2, len(names)), strings)))
    # STATS: GRP 4 (after PAD 1, HEADER 2, GROUPS 3); GRP_ID 2,
    # GRP_SS_ID 3, GRP_STAT 4, HIST_RX 5, HIST_TX 6, BKT_LOW 7,
    # BKT_HI 8, VAL 9. Statistic n is a u64 of type n in the STAT nest.
    mac = nest(4, u32(2, 1), u32(3, 18),
               nest(4, u64(0, 1000)), nest(4, u64(3, 998)))
    rmon = nest(4, u32(2, 3), u32(3, 20), nest(4, u64(0, 2)),
                nest(5, u32(7, 0), u32(8, 64), u64(9, 11)),
                nest(6, u32(7, 65), u32(8, 127), u64(9, 12)))
    s['stats'] = (STATS, header(2) + mac + rmon)
    # PAUSE: HEADER 1, AUTONEG 2, RX 3, TX 4, STATS 5; STAT_PAD 1,
    # TX_FRAMES 2, RX_FRAMES 3
    s['pause'] = (PAUSE, header() + u8(2, 1) + u8(3, 1) + u8(4, 1) +
                  nest(5, u64(2, 5), u64(3, 6)))
    # QSTATS: IFINDEX 1, QUEUE_TYPE 2, QUEUE_ID 3, RX_PACKETS 8,
    # RX_BYTES 9, TX_PACKETS 10, TX_BYTES 11 (4 or 8 bytes: "uint")
    s['qstats-rx'] = (QSTATS, u32(1, IFINDEX) + u32(2, 0) + u32(3, 1) +
                      u64(8, 123456) + u32(9, 9000))
    s['qstats-tx'] = (QSTATS, u32(1, IFINDEX) + u32(2, 1) + u32(3, 0) +
                      u64(10, 42) + u64(11, 4200))
    # PAGE_POOL_STATS: INFO 1 (nest of PAGE_POOL ID 1, IFINDEX 2),
    # ALLOC_FAST 8, ..., RECYCLE_RELEASED_REFCNT 18
    s['page-pool-stats'] = (PP_STATS, nest(1, u32(1, 7), u32(2, IFINDEX)) +
                            u64(8, 100) + u64(9, 3) + u32(14, 50) +
                            u64(18, 0))
    # The same dump messages, asked which interface they are about
    s['ifindex-stats'] = (ETHTOOL_IFINDEX, s['stats'][1])
    s['ifindex-pause'] = (ETHTOOL_IFINDEX, s['pause'][1])
    s['ifindex-qstats'] = (QSTATS_IFINDEX, s['qstats-rx'][1])
    s['ifindex-page-pool-stats'] = (PP_STATS_IFINDEX,
                                    s['page-pool-stats'][1])
    # a pool of no interface: INFO without IFINDEX
    s['ifindex-page-pool-orphan'] = (PP_STATS_IFINDEX,
                                     nest(1, u32(1, 8)) + u64(8, 1))
    # SIOCETHTOOL names: a little-endian u16 count, 32-byte names
    names = [b'rx_packets', b'tx_packets', b'rx_queue_0_bytes']
    s['gstrings'] = (GSTRINGS, struct.pack('<H', len(names)) +
                     b''.join(n.ljust(32, b'\0') for n in names))
    return s


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        here, 'corpus', 'netlink')
    os.makedirs(out, exist_ok=True)
    for name, (selector, payload) in sorted(seeds().items()):
        with open(os.path.join(out, name), 'wb') as f:
            f.write(bytes([selector]) + payload)


if __name__ == '__main__':
    main()
