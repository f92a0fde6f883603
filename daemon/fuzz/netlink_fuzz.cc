// SPDX-License-Identifier: GPL-2.0
//
// libFuzzer target: every parser of kernel netlink replies, on
// attribute streams the fuzzer writes. The first byte picks the parser;
// the rest is the message payload after the generic netlink header (or,
// for parse_link, after the netlink header: struct ifinfomsg, then
// attributes), as the unit tests build replies. The message buffer is
// sized to the message exactly, so ASan sees any read past its end.
//
//   0 parse_bitset (each top-level attribute as a bitset nest)
//   1 parse_features    2 parse_priv_flags   3 parse_rings
//   4 parse_channels    5 parse_coalesce     6 parse_rss
//   7 parse_link (RTM_NEWLINK)               8 parse_link (RTM_DELLINK)
//   9 parse_queue      10 parse_napi        11 parse_page_pool
//  12 parse_strset_reply  13 parse_stats_reply  14 parse_pause_reply
//  15 parse_qstats_reply  16 parse_page_pool_stats_reply
//  17 parse_gstrings (the SIOCETHTOOL names; two bytes of count first)
//  18 ethtool_reply_ifindex (STATS_GET and PAUSE_GET headers)
//  19 qstats_reply_ifindex  20 page_pool_stats_reply_ifindex
//
// Invariants: no crash, no leak, no read outside the message; a
// malformed reply is an Error, not an abort; bitsets are consistent
// (value, mask and names of size bits, at most kMaxBitsetSize); string
// sets at most kMaxStrings; qstats counters name their queue; an ifindex
// a dump message is handed to is positive (0 only for a pool of none).
// Regenerate the seeds with daemon/fuzz/gen_netlink_seeds.py.
#include <linux/ethtool.h>
#include <linux/ethtool_netlink.h>
#include <linux/genetlink.h>
#include <linux/rtnetlink.h>
#include <netlink/genl/genl.h>
#include <netlink/msg.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <string>
#include <vector>

#include "keel/counters.h"
#include "keel/netdev_objects.h"
#include "keel/nic_netlink.h"
#include "keel/nl.h"

namespace keel {
namespace {

// The interface the netdev and page-pool parsers look for; the seeds
// use it.
constexpr int kIfindex = 2;

void check(bool ok) {
  if (!ok) std::abort();
}

// A message of exactly the header(s) and payload: nlmsg_alloc_size()
// allocates what it is asked, and the payload is padded to 4 bytes.
nl::Msg message(uint16_t type, bool genl, const uint8_t *data, size_t size) {
  const size_t hdrs = NLMSG_HDRLEN + (genl ? GENL_HDRLEN : 0);
  nl_msg *raw = nlmsg_alloc_size(hdrs + NLMSG_ALIGN(size));
  check(raw != nullptr);
  nl::Msg msg = nl::Msg::adopt(raw);
  if (genl) {
    // Family 0x20 as in the unit tests; parsers do not look at it.
    check(genlmsg_put(raw, NL_AUTO_PORT, NL_AUTO_SEQ, 0x20, 0, 0, 1, 1) !=
          nullptr);
  } else {
    check(nlmsg_put(raw, NL_AUTO_PORT, NL_AUTO_SEQ, type, 0, 0) != nullptr);
  }
  if (size > 0)
    check(nlmsg_append(raw, const_cast<uint8_t *>(data), size, NLMSG_ALIGNTO) ==
          0);
  return msg;
}

void check_bitset(const ethnl::Bitset &bs) {
  check(bs.size <= ethnl::kMaxBitsetSize);
  check(bs.value.size() == bs.size && bs.mask.size() == bs.size &&
        bs.names.size() == bs.size);
}

void bitsets(nl_msg *msg) {
  for (const nlattr *a : counters::attr_list(counters::genl_payload(msg)))
    if (auto bs = ethnl::parse_bitset(a)) check_bitset(*bs);
}

void gstrings(const uint8_t *data, size_t size) {
  if (size < 2) return;
  const size_t count = data[0] | (size_t{data[1]} << 8);
  // A copy of just the names, so ASan sees a read past them.
  const std::vector<uint8_t> names(data + 2, data + size);
  const auto out = counters::parse_gstrings(names, count);
  check(out.size() <= count && out.size() <= names.size() / ETH_GSTRING_LEN);
  for (const std::string &s : out)
    check(s.size() < ETH_GSTRING_LEN + 1 && s.find('\0') == std::string::npos);
}

}  // namespace
}  // namespace keel

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  using namespace keel;  // NOLINT(google-build-using-namespace)
  if (size == 0 || size > 65536) return 0;
  const unsigned which = data[0] % 21;
  data++;
  size--;
  if (which == 17) {
    gstrings(data, size);
    return 0;
  }
  const bool link = which == 7 || which == 8;
  const uint16_t type = which == 7 ? RTM_NEWLINK : RTM_DELLINK;
  nl::Msg msg = message(type, !link, data, size);
  nl_msg *m = msg.get();
  static const std::vector<std::string> kFeatureNames = {
      "tx-scatter-gather", "tx-checksum-ipv4", "rx-checksum", "rx-gro"};
  static const std::vector<std::string> kHashFuncs = {"toeplitz", "xor",
                                                      "crc32"};
  std::vector<Counter> out;
  switch (which) {
    case 0:
      bitsets(m);
      break;
    case 1:
      (void)ethnl::parse_features(m, kFeatureNames);
      break;
    case 2:
      (void)ethnl::parse_priv_flags(m);
      break;
    case 3:
      (void)ethnl::parse_rings(m);
      break;
    case 4:
      (void)ethnl::parse_channels(m);
      break;
    case 5:
      (void)ethnl::parse_coalesce(m);
      break;
    case 6:
      (void)ethnl::parse_rss(m, kHashFuncs);
      break;
    case 7:
    case 8:
      if (auto l = ethnl::parse_link(m))
        check(l->counters.empty() || l->counters.size() == 25);
      break;
    case 9: {
      QueueInfo q;
      (void)parse_queue(m, kIfindex, q);
      break;
    }
    case 10: {
      NapiInfo n;
      (void)parse_napi(m, kIfindex, n);
      break;
    }
    case 11: {
      PagePoolInfo p;
      (void)parse_page_pool(m, kIfindex, p);
      break;
    }
    case 12: {
      counters::StringSets sets;
      if (counters::parse_strset_reply(counters::genl_payload(m), sets))
        for (const auto &[id, names] : sets)
          check(names.size() <= ethnl::kMaxStrings);
      break;
    }
    case 13:
      (void)counters::parse_stats_reply(counters::genl_payload(m),
                                        counters::builtin_stats_strings(), out);
      break;
    case 14:
      (void)counters::parse_pause_reply(counters::genl_payload(m), out);
      break;
    case 15:
      if (counters::parse_qstats_reply(counters::genl_payload(m), out))
        for (const Counter &c : out)
          check(c.group == "queue" && !c.queue.empty() && !c.name.empty());
      break;
    case 16:
      (void)counters::parse_page_pool_stats_reply(counters::genl_payload(m),
                                                  kIfindex, out);
      break;
    case 18:
      for (const int hdr :
           {int{ETHTOOL_A_STATS_HEADER}, int{ETHTOOL_A_PAUSE_HEADER}})
        if (auto i =
                counters::ethtool_reply_ifindex(counters::genl_payload(m), hdr))
          check(*i > 0);
      break;
    case 19:
      if (auto i = counters::qstats_reply_ifindex(counters::genl_payload(m)))
        check(*i > 0);
      break;
    default:
      if (auto i = counters::page_pool_stats_reply_ifindex(
              counters::genl_payload(m)))
        check(*i >= 0);
      break;
  }
  return 0;
}
