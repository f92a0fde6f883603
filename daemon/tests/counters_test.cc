// SPDX-License-Identifier: GPL-2.0
//
// The counter parsers on hand-built replies (no privilege, no kernel),
// CounterReader against a fake kernel (tests/fake_kernel.h), plus a few
// read-only checks against the host kernel.
#include "keel/counters.h"

#include <linux/ethtool.h>
#include <linux/ethtool_netlink.h>
#include <linux/genetlink.h>
#include <linux/netdev.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <memory>
#include <optional>
#include <ostream>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "fake_kernel.h"
#include "keel/links.h"

namespace keel {

// For gtest's messages.
std::ostream &operator<<(std::ostream &os, const Counter &c) {
  return os << c.group << "." << (c.queue.empty() ? "" : c.queue + ".")
            << c.name << "=" << c.value;
}

namespace {

// A generic netlink message to fill with a reply's attributes.
nl::Msg reply_msg() {
  auto msg = nl::genl_msg(GENL_ID_CTRL, CTRL_CMD_GETFAMILY, 0);
  EXPECT_TRUE(msg);
  return std::move(*msg);
}

// Builders that fail the test on a full message.
void u32(nl::Msg &m, int type, uint32_t v) {
  ASSERT_TRUE(nl::put_u32(m, type, v));
}
void u64(nl::Msg &m, int type, uint64_t v) {
  ASSERT_TRUE(nl::put_u64(m, type, v));
}

// ETHTOOL_A_STATS_GRP_STAT: one statistic, its index as the type.
void stat(nl::Msg &m, int index, uint64_t v) {
  auto n = nl::Nest::open(m, ETHTOOL_A_STATS_GRP_STAT);
  ASSERT_TRUE(n);
  u64(m, index, v);
  n->close();
}

void bucket(nl::Msg &m, int dir, uint32_t low, uint32_t high, uint64_t v) {
  auto n = nl::Nest::open(m, dir);
  ASSERT_TRUE(n);
  u32(m, ETHTOOL_A_STATS_GRP_HIST_BKT_LOW, low);
  u32(m, ETHTOOL_A_STATS_GRP_HIST_BKT_HI, high);
  u64(m, ETHTOOL_A_STATS_GRP_HIST_VAL, v);
  n->close();
}

Counter c(const std::string &group, const std::string &name, uint64_t v,
          const std::string &queue = "") {
  return Counter{group, name, queue, v};
}

TEST(ParseStats, GroupsStatsAndHistograms) {
  nl::Msg m = reply_msg();
  {
    auto hdr = nl::Nest::open(m, ETHTOOL_A_STATS_HEADER);
    ASSERT_TRUE(hdr);
    u32(m, ETHTOOL_A_HEADER_DEV_INDEX, 7);
    hdr->close();
  }
  {
    auto g = nl::Nest::open(m, ETHTOOL_A_STATS_GRP);
    ASSERT_TRUE(g);
    u32(m, ETHTOOL_A_STATS_GRP_ID, ETHTOOL_STATS_ETH_PHY);
    u32(m, ETHTOOL_A_STATS_GRP_SS_ID, ETH_SS_STATS_ETH_PHY);
    stat(m, ETHTOOL_A_STATS_ETH_PHY_5_SYM_ERR, 5);
    g->close();
  }
  {
    auto g = nl::Nest::open(m, ETHTOOL_A_STATS_GRP);
    ASSERT_TRUE(g);
    u32(m, ETHTOOL_A_STATS_GRP_ID, ETHTOOL_STATS_ETH_MAC);
    u32(m, ETHTOOL_A_STATS_GRP_SS_ID, ETH_SS_STATS_ETH_MAC);
    // Index 0 is a real statistic, not "unspecified".
    stat(m, ETHTOOL_A_STATS_ETH_MAC_2_TX_PKT, 100);
    ASSERT_TRUE(nl::put_binary(m, ETHTOOL_A_STATS_GRP_PAD, nullptr, 0));
    stat(m, ETHTOOL_A_STATS_ETH_MAC_5_RX_PKT, 1ULL << 40);
    stat(m, ETHTOOL_A_STATS_ETH_MAC_25_TOO_LONG_ERR, 3);
    stat(m, 99, 9);  // newer than our name table
    g->close();
  }
  {
    // Supported by nothing: the group comes back empty.
    auto g = nl::Nest::open(m, ETHTOOL_A_STATS_GRP);
    ASSERT_TRUE(g);
    u32(m, ETHTOOL_A_STATS_GRP_ID, ETHTOOL_STATS_ETH_CTRL);
    u32(m, ETHTOOL_A_STATS_GRP_SS_ID, ETH_SS_STATS_ETH_CTRL);
    g->close();
  }
  {
    auto g = nl::Nest::open(m, ETHTOOL_A_STATS_GRP);
    ASSERT_TRUE(g);
    u32(m, ETHTOOL_A_STATS_GRP_ID, ETHTOOL_STATS_RMON);
    u32(m, ETHTOOL_A_STATS_GRP_SS_ID, ETH_SS_STATS_RMON);
    stat(m, ETHTOOL_A_STATS_RMON_UNDERSIZE, 1);
    stat(m, ETHTOOL_A_STATS_RMON_JABBER, 4);
    bucket(m, ETHTOOL_A_STATS_GRP_HIST_RX, 64, 64, 10);
    bucket(m, ETHTOOL_A_STATS_GRP_HIST_RX, 65, 127, 11);
    bucket(m, ETHTOOL_A_STATS_GRP_HIST_TX, 1519, 65535, 12);
    bucket(m, ETHTOOL_A_STATS_GRP_HIST_TX, 9001, 0, 13);
    g->close();
  }
  {
    // A group from a newer kernel is skipped.
    auto g = nl::Nest::open(m, ETHTOOL_A_STATS_GRP);
    ASSERT_TRUE(g);
    u32(m, ETHTOOL_A_STATS_GRP_ID, 31);
    u32(m, ETHTOOL_A_STATS_GRP_SS_ID, 63);
    stat(m, 0, 1);
    g->close();
  }

  std::vector<Counter> out;
  auto r = counters::parse_stats_reply(counters::genl_payload(m.get()),
                                       counters::builtin_stats_strings(), out);
  ASSERT_TRUE(r) << r.error().str();
  const std::vector<Counter> want{
      c("eth-phy", "SymbolErrorDuringCarrier", 5),
      c("eth-mac", "FramesTransmittedOK", 100),
      c("eth-mac", "FramesReceivedOK", 1ULL << 40),
      c("eth-mac", "FrameTooLongErrors", 3),
      c("eth-mac", "stat-99", 9),
      c("rmon", "etherStatsUndersizePkts", 1),
      c("rmon", "etherStatsJabbers", 4),
      c("rmon", "rx-64-64", 10),
      c("rmon", "rx-65-127", 11),
      c("rmon", "tx-1519-65535", 12),
      c("rmon", "tx-9001-0", 13),
  };
  EXPECT_EQ(out, want);
}

TEST(ParseStats, NamesComeFromTheGivenStringSets) {
  nl::Msg m = reply_msg();
  {
    auto g = nl::Nest::open(m, ETHTOOL_A_STATS_GRP);
    ASSERT_TRUE(g);
    u32(m, ETHTOOL_A_STATS_GRP_ID, ETHTOOL_STATS_ETH_CTRL);
    u32(m, ETHTOOL_A_STATS_GRP_SS_ID, ETH_SS_STATS_ETH_CTRL);
    stat(m, 0, 1);
    stat(m, 1, 2);
    g->close();
  }
  const counters::StringSets names{{ETH_SS_STATS_ETH_CTRL, {"A", ""}}};
  std::vector<Counter> out;
  ASSERT_TRUE(
      counters::parse_stats_reply(counters::genl_payload(m.get()), names, out));
  EXPECT_EQ(out, (std::vector<Counter>{c("eth-ctrl", "A", 1),
                                       c("eth-ctrl", "stat-1", 2)}));
}

TEST(ParseStats, RejectsBucketWithoutValue) {
  nl::Msg m = reply_msg();
  {
    auto g = nl::Nest::open(m, ETHTOOL_A_STATS_GRP);
    ASSERT_TRUE(g);
    u32(m, ETHTOOL_A_STATS_GRP_ID, ETHTOOL_STATS_RMON);
    u32(m, ETHTOOL_A_STATS_GRP_SS_ID, ETH_SS_STATS_RMON);
    auto b = nl::Nest::open(m, ETHTOOL_A_STATS_GRP_HIST_RX);
    ASSERT_TRUE(b);
    u32(m, ETHTOOL_A_STATS_GRP_HIST_BKT_LOW, 64);
    u32(m, ETHTOOL_A_STATS_GRP_HIST_BKT_HI, 64);
    b->close();
    g->close();
  }
  std::vector<Counter> out;
  auto r = counters::parse_stats_reply(counters::genl_payload(m.get()),
                                       counters::builtin_stats_strings(), out);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().errnum(), EBADMSG);
}

TEST(ParseStrset, ReadsIndexedStrings) {
  nl::Msg m = reply_msg();
  {
    auto sets = nl::Nest::open(m, ETHTOOL_A_STRSET_STRINGSETS);
    ASSERT_TRUE(sets);
    auto set = nl::Nest::open(m, ETHTOOL_A_STRINGSETS_STRINGSET);
    ASSERT_TRUE(set);
    u32(m, ETHTOOL_A_STRINGSET_ID, ETH_SS_STATS_RMON);
    u32(m, ETHTOOL_A_STRINGSET_COUNT, 3);
    auto strings = nl::Nest::open(m, ETHTOOL_A_STRINGSET_STRINGS);
    ASSERT_TRUE(strings);
    for (const auto &[i, s] : {std::pair<uint32_t, const char *>{2, "two"},
                               {0, "zero"},
                               {7, "out of range"}}) {
      auto str = nl::Nest::open(m, ETHTOOL_A_STRINGS_STRING);
      ASSERT_TRUE(str);
      u32(m, ETHTOOL_A_STRING_INDEX, i);
      ASSERT_TRUE(nl::put_string(m, ETHTOOL_A_STRING_VALUE, s));
      str->close();
    }
    strings->close();
    set->close();
    sets->close();
  }
  counters::StringSets sets;
  auto r = counters::parse_strset_reply(counters::genl_payload(m.get()), sets);
  ASSERT_TRUE(r) << r.error().str();
  EXPECT_EQ(sets,
            (counters::StringSets{{ETH_SS_STATS_RMON, {"zero", "", "two"}}}));
}

TEST(ParsePause, ReadsFrameCounters) {
  nl::Msg m = reply_msg();
  ASSERT_TRUE(nl::put_u8(m, ETHTOOL_A_PAUSE_RX, 1));
  {
    auto s = nl::Nest::open(m, ETHTOOL_A_PAUSE_STATS);
    ASSERT_TRUE(s);
    ASSERT_TRUE(nl::put_binary(m, ETHTOOL_A_PAUSE_STAT_PAD, nullptr, 0));
    u64(m, ETHTOOL_A_PAUSE_STAT_TX_FRAMES, 3);
    u64(m, ETHTOOL_A_PAUSE_STAT_RX_FRAMES, 4);
    u64(m, 42, 5);  // unknown: ignored
    s->close();
  }
  std::vector<Counter> out;
  ASSERT_TRUE(
      counters::parse_pause_reply(counters::genl_payload(m.get()), out));
  EXPECT_EQ(out, (std::vector<Counter>{c("pause", "tx_pause_frames", 3),
                                       c("pause", "rx_pause_frames", 4)}));
}

TEST(ParsePause, NoStatsNoCounters) {
  nl::Msg m = reply_msg();
  ASSERT_TRUE(nl::put_u8(m, ETHTOOL_A_PAUSE_RX, 1));
  std::vector<Counter> out;
  ASSERT_TRUE(
      counters::parse_pause_reply(counters::genl_payload(m.get()), out));
  EXPECT_TRUE(out.empty());
}

TEST(ParseQstats, RxAndTxQueues) {
  std::vector<Counter> out;
  {
    nl::Msg m = reply_msg();
    u32(m, NETDEV_A_QSTATS_IFINDEX, 3);
    u32(m, NETDEV_A_QSTATS_QUEUE_TYPE, NETDEV_QUEUE_TYPE_RX);
    u32(m, NETDEV_A_QSTATS_QUEUE_ID, 2);
    u64(m, NETDEV_A_QSTATS_RX_PACKETS, 1ULL << 33);  // uint as u64
    u32(m, NETDEV_A_QSTATS_RX_BYTES, 1000);          // uint as u32
    u32(m, NETDEV_A_QSTATS_RX_ALLOC_FAIL, 1);
    u32(m, NETDEV_A_QSTATS_RX_CSUM_UNNECESSARY, 2);
    u32(m, NETDEV_A_QSTATS_MAX + 1, 77);  // newer than us: ignored
    ASSERT_TRUE(
        counters::parse_qstats_reply(counters::genl_payload(m.get()), out));
  }
  {
    nl::Msg m = reply_msg();
    u32(m, NETDEV_A_QSTATS_IFINDEX, 3);
    u32(m, NETDEV_A_QSTATS_QUEUE_TYPE, NETDEV_QUEUE_TYPE_TX);
    u32(m, NETDEV_A_QSTATS_QUEUE_ID, 0);
    u32(m, NETDEV_A_QSTATS_TX_NEEDS_CSUM, 5);
    u32(m, NETDEV_A_QSTATS_TX_STOP, 6);
    u32(m, NETDEV_A_QSTATS_TX_WAKE, 7);
    ASSERT_TRUE(
        counters::parse_qstats_reply(counters::genl_payload(m.get()), out));
  }
  EXPECT_EQ(out, (std::vector<Counter>{
                     c("queue", "rx-packets", 1ULL << 33, "rx-2"),
                     c("queue", "rx-bytes", 1000, "rx-2"),
                     c("queue", "rx-alloc-fail", 1, "rx-2"),
                     c("queue", "rx-csum-unnecessary", 2, "rx-2"),
                     c("queue", "tx-needs-csum", 5, "tx-0"),
                     c("queue", "tx-stop", 6, "tx-0"),
                     c("queue", "tx-wake", 7, "tx-0"),
                 }));
}

TEST(ParseQstats, RejectsMissingQueue) {
  nl::Msg m = reply_msg();
  u32(m, NETDEV_A_QSTATS_IFINDEX, 3);
  u32(m, NETDEV_A_QSTATS_RX_PACKETS, 1);
  std::vector<Counter> out;
  auto r = counters::parse_qstats_reply(counters::genl_payload(m.get()), out);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().errnum(), EBADMSG);
}

TEST(Names, EveryQstatsAttributeHasADistinctName) {
  std::set<std::string> seen;
  for (int t = NETDEV_A_QSTATS_RX_PACKETS; t <= NETDEV_A_QSTATS_MAX; ++t) {
    const std::string name = counters::qstats_name(t);
    EXPECT_FALSE(name.empty()) << t;
    EXPECT_TRUE(seen.insert(name).second) << name;
  }
  EXPECT_EQ(counters::qstats_name(NETDEV_A_QSTATS_QUEUE_ID), "");
  EXPECT_EQ(counters::qstats_name(NETDEV_A_QSTATS_RX_HW_GRO_WIRE_BYTES),
            "rx-hw-gro-wire-bytes");
  EXPECT_EQ(counters::qstats_name(NETDEV_A_QSTATS_TX_HW_GSO_PACKETS),
            "tx-hw-gso-packets");
}

TEST(Names, EveryPagePoolAttributeHasADistinctName) {
  std::set<std::string> seen;
  for (int t = NETDEV_A_PAGE_POOL_STATS_ALLOC_FAST;
       t <= NETDEV_A_PAGE_POOL_STATS_MAX; ++t) {
    const std::string name = counters::page_pool_stats_name(t);
    EXPECT_FALSE(name.empty()) << t;
    EXPECT_TRUE(seen.insert(name).second) << name;
  }
  EXPECT_EQ(counters::page_pool_stats_name(NETDEV_A_PAGE_POOL_STATS_INFO), "");
  EXPECT_EQ(counters::page_pool_stats_name(
                NETDEV_A_PAGE_POOL_STATS_RECYCLE_RELEASED_REFCNT),
            "recycle-released-refcnt");
}

// One page-pool-stats reply for pool id of ifindex (0: no ifindex).
nl::Msg pool_reply(uint64_t id, uint32_t ifindex, uint64_t fast) {
  nl::Msg m = reply_msg();
  {
    auto info = nl::Nest::open(m, NETDEV_A_PAGE_POOL_STATS_INFO);
    EXPECT_TRUE(info);
    EXPECT_TRUE(nl::put_u64(m, NETDEV_A_PAGE_POOL_ID, id));
    if (ifindex != 0) {
      EXPECT_TRUE(nl::put_u32(m, NETDEV_A_PAGE_POOL_IFINDEX, ifindex));
    }
    info->close();
  }
  EXPECT_TRUE(nl::put_u64(m, NETDEV_A_PAGE_POOL_STATS_ALLOC_FAST, fast));
  EXPECT_TRUE(nl::put_u32(m, NETDEV_A_PAGE_POOL_STATS_RECYCLE_RING, 2));
  return m;
}

TEST(ParsePagePool, KeepsOnlyTheLinksPools) {
  std::vector<Counter> out;
  for (const auto &[id, ifindex] :
       {std::pair<uint64_t, uint32_t>{7, 3}, {8, 4}, {9, 0}, {10, 3}}) {
    nl::Msg m = pool_reply(id, ifindex, id * 100);
    auto r = counters::parse_page_pool_stats_reply(
        counters::genl_payload(m.get()), 3, out);
    ASSERT_TRUE(r) << r.error().str();
  }
  EXPECT_EQ(out, (std::vector<Counter>{
                     c("page-pool", "alloc-fast", 700, "pool-7"),
                     c("page-pool", "recycle-ring", 2, "pool-7"),
                     c("page-pool", "alloc-fast", 1000, "pool-10"),
                     c("page-pool", "recycle-ring", 2, "pool-10"),
                 }));
}

TEST(ParsePagePool, RejectsMissingInfo) {
  nl::Msg m = reply_msg();
  u64(m, NETDEV_A_PAGE_POOL_STATS_ALLOC_FAST, 1);
  std::vector<Counter> out;
  EXPECT_FALSE(counters::parse_page_pool_stats_reply(
      counters::genl_payload(m.get()), 3, out));
}

TEST(ReplyIfindex, EthtoolHeader) {
  nl::Msg m = reply_msg();
  {
    auto hdr = nl::Nest::open(m, ETHTOOL_A_PAUSE_HEADER);
    ASSERT_TRUE(hdr);
    u32(m, ETHTOOL_A_HEADER_DEV_INDEX, 7);
    hdr->close();
  }
  auto i = counters::ethtool_reply_ifindex(counters::genl_payload(m.get()),
                                           ETHTOOL_A_PAUSE_HEADER);
  ASSERT_TRUE(i) << i.error().str();
  EXPECT_EQ(*i, 7);
  // A header without an index names no interface.
  nl::Msg none = reply_msg();
  {
    auto hdr = nl::Nest::open(none, ETHTOOL_A_PAUSE_HEADER);
    ASSERT_TRUE(hdr);
    ASSERT_TRUE(nl::put_string(none, ETHTOOL_A_HEADER_DEV_NAME, "eth0"));
    hdr->close();
  }
  auto e = counters::ethtool_reply_ifindex(counters::genl_payload(none.get()),
                                           ETHTOOL_A_PAUSE_HEADER);
  ASSERT_FALSE(e);
  EXPECT_EQ(e.error().errnum(), EBADMSG);
}

TEST(ReplyIfindex, QstatsAndPagePools) {
  nl::Msg q = reply_msg();
  u32(q, NETDEV_A_QSTATS_IFINDEX, 3);
  auto i = counters::qstats_reply_ifindex(counters::genl_payload(q.get()));
  ASSERT_TRUE(i) << i.error().str();
  EXPECT_EQ(*i, 3);
  nl::Msg no = reply_msg();
  u32(no, NETDEV_A_QSTATS_QUEUE_ID, 3);
  EXPECT_FALSE(
      counters::qstats_reply_ifindex(counters::genl_payload(no.get())));

  nl::Msg p = pool_reply(5, 4, 1);
  i = counters::page_pool_stats_reply_ifindex(counters::genl_payload(p.get()));
  ASSERT_TRUE(i) << i.error().str();
  EXPECT_EQ(*i, 4);
  // A pool of no interface: 0.
  nl::Msg orphan = pool_reply(6, 0, 1);
  i = counters::page_pool_stats_reply_ifindex(
      counters::genl_payload(orphan.get()));
  ASSERT_TRUE(i) << i.error().str();
  EXPECT_EQ(*i, 0);
}

TEST(Gstrings, NulPaddedAndFullLengthNames) {
  std::vector<uint8_t> data(size_t{3} * ETH_GSTRING_LEN, 0);
  const std::string a = "rx_packets";
  const std::string full(ETH_GSTRING_LEN, 'x');  // no NUL at all
  std::memcpy(data.data(), a.data(), a.size());
  std::memcpy(data.data() + ETH_GSTRING_LEN, full.data(), full.size());
  EXPECT_EQ(counters::parse_gstrings(data, 3),
            (std::vector<std::string>{a, full, ""}));
  // Fewer names than asked for when the data is short.
  EXPECT_EQ(counters::parse_gstrings(
                std::span<const uint8_t>(data).first(ETH_GSTRING_LEN + 5), 3),
            (std::vector<std::string>{a}));
}

TEST(Driver, PairsNamesWithValues) {
  const std::vector<std::string> names{"peer_ifindex", "rx_drops", "extra"};
  const std::vector<uint64_t> values{3, 4};
  EXPECT_EQ(counters::driver_counters(names, values),
            (std::vector<Counter>{c("driver", "peer_ifindex", 3),
                                  c("driver", "rx_drops", 4)}));
}

// The built-in names match what this kernel says (read-only, no
// privilege). Extra names of a newer kernel are fine.
// CounterReader against tests/fake_kernel.h, which answers as Linux 6.12
// does. The fake has the netdev family only (no ethtool groups) and the
// reader no ioctl socket (no driver group).
constexpr uint16_t kNetdevFamily = 0x1d;

// One message of a qstats dump: one queue and its counters, "uint"s put
// as u32 since they fit (nla_put_uint()).
FakeReply qstats_reply(uint32_t ifindex, uint32_t type, uint32_t id,
                       const std::vector<std::pair<int, uint32_t>> &stats) {
  auto m = nl::genl_msg(kNetdevFamily, NETDEV_CMD_QSTATS_GET, 0);
  if (!m) {
    ADD_FAILURE() << m.error().str();
    return {};
  }
  u32(*m, NETDEV_A_QSTATS_IFINDEX, ifindex);
  u32(*m, NETDEV_A_QSTATS_QUEUE_TYPE, type);
  u32(*m, NETDEV_A_QSTATS_QUEUE_ID, id);
  for (const auto &[attr, value] : stats) u32(*m, attr, value);
  return FakeReply{kNetdevFamily, NLM_F_MULTI, payload_of(m->get()), 0};
}

FakeReply pool_part(uint64_t id, uint32_t ifindex, uint64_t fast) {
  return FakeReply{kNetdevFamily, NLM_F_MULTI,
                   payload_of(pool_reply(id, ifindex, fast).get()), 0};
}

// The ethtool family of the fake kernel.
constexpr uint16_t kEthtoolFamily = 0x14;

// An ethtool reply header naming ifindex.
void reply_header(nl::Msg &m, int type, uint32_t ifindex) {
  auto hdr = nl::Nest::open(m, type);
  ASSERT_TRUE(hdr);
  u32(m, ETHTOOL_A_HEADER_DEV_INDEX, ifindex);
  ASSERT_TRUE(nl::put_string(m, ETHTOOL_A_HEADER_DEV_NAME,
                             "eth" + std::to_string(ifindex)));
  hdr->close();
}

// One message of a STATS_GET dump: eth-mac's FramesTransmittedOK.
FakeReply stats_part(uint32_t ifindex, uint64_t tx_ok) {
  auto m = nl::genl_msg(kEthtoolFamily, ETHTOOL_MSG_STATS_GET_REPLY, 0);
  if (!m) {
    ADD_FAILURE() << m.error().str();
    return {};
  }
  reply_header(*m, ETHTOOL_A_STATS_HEADER, ifindex);
  {
    auto g = nl::Nest::open(*m, ETHTOOL_A_STATS_GRP);
    EXPECT_TRUE(g);
    u32(*m, ETHTOOL_A_STATS_GRP_ID, ETHTOOL_STATS_ETH_MAC);
    u32(*m, ETHTOOL_A_STATS_GRP_SS_ID, ETH_SS_STATS_ETH_MAC);
    stat(*m, ETHTOOL_A_STATS_ETH_MAC_2_TX_PKT, tx_ok);
    g->close();
  }
  return FakeReply{kEthtoolFamily, NLM_F_MULTI, payload_of(m->get()), 0};
}

// One message of a PAUSE_GET dump with statistics.
FakeReply pause_part(uint32_t ifindex, uint64_t tx) {
  auto m = nl::genl_msg(kEthtoolFamily, ETHTOOL_MSG_PAUSE_GET_REPLY, 0);
  if (!m) {
    ADD_FAILURE() << m.error().str();
    return {};
  }
  reply_header(*m, ETHTOOL_A_PAUSE_HEADER, ifindex);
  {
    auto st = nl::Nest::open(*m, ETHTOOL_A_PAUSE_STATS);
    EXPECT_TRUE(st);
    u64(*m, ETHTOOL_A_PAUSE_STAT_TX_FRAMES, tx);
    st->close();
  }
  return FakeReply{kEthtoolFamily, NLM_F_MULTI, payload_of(m->get()), 0};
}

// A request as the fake kernel got it: its generic netlink command and,
// when it names one, the interface (a netdev request's
// NETDEV_A_QSTATS_IFINDEX, an ethtool request's header DEV_INDEX).
struct SeenRequest {
  uint16_t type = 0;
  bool dump = false;
  uint8_t cmd = 0;
  std::optional<uint32_t> ifindex;

  friend bool operator==(const SeenRequest &, const SeenRequest &) = default;
  friend std::ostream &operator<<(std::ostream &os, const SeenRequest &r) {
    os << "{type " << r.type << (r.dump ? " dump" : "") << " cmd "
       << static_cast<int>(r.cmd) << " ifindex ";
    if (r.ifindex) return os << *r.ifindex << "}";
    return os << "none}";
  }
};

std::vector<SeenRequest> seen(const FakeKernel &kernel) {
  std::vector<SeenRequest> out;
  for (size_t i = 0; i < kernel.requests().size(); ++i) {
    const nlmsghdr &h = kernel.requests()[i];
    const std::string &p = kernel.request_payloads()[i];
    SeenRequest r;
    r.type = h.nlmsg_type;
    r.dump = (h.nlmsg_flags & NLM_F_DUMP) == NLM_F_DUMP;
    if (p.size() >= GENL_HDRLEN) {
      genlmsghdr g{};
      std::memcpy(&g, p.data(), sizeof(g));
      r.cmd = g.cmd;
      // A copy, aligned for the attribute parser.
      std::vector<uint32_t> words((p.size() - GENL_HDRLEN + 3) / 4, 0);
      if (!words.empty())  // no memcpy() to a null pointer (UBSan)
        std::memcpy(words.data(), p.data() + GENL_HDRLEN,
                    p.size() - GENL_HDRLEN);
      const counters::AttrStream attrs{
          reinterpret_cast<const nlattr *>(words.data()),
          static_cast<int>(p.size() - GENL_HDRLEN)};
      if (r.type == kNetdevFamily) {
        auto a = nl::Attrs::parse(attrs.head, attrs.len, NETDEV_A_QSTATS_MAX,
                                  nullptr);
        if (a) r.ifindex = a->u32(NETDEV_A_QSTATS_IFINDEX);
      } else {
        // Attribute 1 is every ethtool request's header.
        auto a = nl::Attrs::parse(attrs.head, attrs.len, 1, nullptr);
        if (a && a->get(1) != nullptr) {
          auto hdr =
              nl::Attrs::parse_nested(a->get(1), ETHTOOL_A_HEADER_MAX, nullptr);
          if (hdr) r.ifindex = hdr->u32(ETHTOOL_A_HEADER_DEV_INDEX);
        }
      }
    }
    out.push_back(r);
  }
  return out;
}

SeenRequest qstats_dump() {
  return {kNetdevFamily, true, NETDEV_CMD_QSTATS_GET, std::nullopt};
}
SeenRequest page_pool_stats_dump() {
  return {kNetdevFamily, true, NETDEV_CMD_PAGE_POOL_STATS_GET, std::nullopt};
}
SeenRequest stats_dump() {
  return {kEthtoolFamily, true, ETHTOOL_MSG_STATS_GET, std::nullopt};
}
SeenRequest pause_dump() {
  return {kEthtoolFamily, true, ETHTOOL_MSG_PAUSE_GET, std::nullopt};
}

LinkInfo fake_link(int ifindex, const std::string &name) {
  LinkInfo l;
  l.ifindex = ifindex;
  l.name = name;
  return l;
}

// A reader over the fake kernel's socket, saying group errors into said.
std::unique_ptr<CounterReader> fake_reader(const FakeKernel &kernel,
                                           int ethtool,
                                           std::vector<std::string> &said) {
  auto sock = connect_to(kernel);
  EXPECT_TRUE(sock) << sock.error().str();
  if (!sock) return nullptr;
  auto reader =
      CounterReader::over(std::move(*sock), ethtool, kNetdevFamily, Fd());
  reader->on_group_error([&said](const Error &e) { said.push_back(e.str()); });
  return reader;
}

// Issue 11 item 2: a sweep costs one dump per group, whatever the number
// of links, and each link gets the replies that carry its ifindex, in
// the order of the groups. The kernel lists a link the sweep does not
// ask for (9) and leaves out one it has nothing for (lo, 1).
TEST(FakeKernelCounters, ASweepCostsOneDumpPerGroup) {
  for (const int n : {1, 10, 100}) {
    FakeDatagram stats;
    FakeDatagram pause;
    FakeDatagram queues;
    FakeDatagram pools;
    for (int i = 2; i <= n + 1; ++i) {
      const auto ifindex = static_cast<uint32_t>(i);
      stats.push_back(stats_part(ifindex, 1000 + ifindex));
      pause.push_back(pause_part(ifindex, 2000 + ifindex));
      queues.push_back(qstats_reply(ifindex, NETDEV_QUEUE_TYPE_RX, 0,
                                    {{NETDEV_A_QSTATS_RX_PACKETS, ifindex}}));
      pools.push_back(pool_part(100 + ifindex, ifindex, 3000 + ifindex));
    }
    stats.push_back(stats_part(static_cast<uint32_t>(n + 2), 1));
    pools.push_back(pool_part(1, 0, 5));  // a pool of no interface
    for (FakeDatagram *d : {&stats, &pause, &queues, &pools})
      d->push_back(fake_done());
    FakeKernel kernel({{stats}, {pause}, {queues}, {pools}});
    ASSERT_NE(kernel.port(), 0U);
    std::vector<std::string> said;
    auto reader = fake_reader(kernel, kEthtoolFamily, said);
    ASSERT_TRUE(reader);

    std::vector<LinkInfo> links{fake_link(1, "lo")};
    for (int i = 2; i <= n + 1; ++i)
      links.push_back(fake_link(i, "eth" + std::to_string(i)));
    auto got = reader->read_all(links);
    ASSERT_TRUE(got) << got.error().str();
    kernel.finish();

    EXPECT_EQ(seen(kernel),
              (std::vector<SeenRequest>{stats_dump(), pause_dump(),
                                        qstats_dump(), page_pool_stats_dump()}))
        << n << " links";
    ASSERT_EQ(got->size(), links.size());
    EXPECT_EQ(got->at(1), std::vector<Counter>{});
    for (int i = 2; i <= n + 1; ++i) {
      const auto v = static_cast<uint64_t>(i);
      EXPECT_EQ(got->at(i), (std::vector<Counter>{
                                c("eth-mac", "FramesTransmittedOK", 1000 + v),
                                c("pause", "tx_pause_frames", 2000 + v),
                                c("queue", "rx-packets", v, "rx-0"),
                                c("page-pool", "alloc-fast", 3000 + v,
                                  "pool-" + std::to_string(100 + v)),
                                c("page-pool", "recycle-ring", 2,
                                  "pool-" + std::to_string(100 + v)),
                            }))
          << "ifindex " << i;
    }
    EXPECT_EQ(said, std::vector<std::string>{});
  }
}

// Single-link callers keep read(): the same dumps, that link's share.
TEST(FakeKernelCounters, ReadOfOneLinkIsItsShareOfTheDumps) {
  FakeKernel kernel({
      {{stats_part(2, 5), stats_part(3, 6), fake_done()}},
      {{fake_done()}},
      {{fake_done()}},
      {{pool_part(7, 3, 1), fake_done()}},
  });
  ASSERT_NE(kernel.port(), 0U);
  std::vector<std::string> said;
  auto reader = fake_reader(kernel, kEthtoolFamily, said);
  ASSERT_TRUE(reader);
  auto got = reader->read(fake_link(3, "eth3"));
  ASSERT_TRUE(got) << got.error().str();
  EXPECT_EQ(*got, (std::vector<Counter>{
                      c("eth-mac", "FramesTransmittedOK", 6),
                      c("page-pool", "alloc-fast", 1, "pool-7"),
                      c("page-pool", "recycle-ring", 2, "pool-7")}));
}

// A dump that fails costs every link that group, and only that group,
// for that sweep; it is said once while it keeps failing, and again if
// it fails after reading fine.
TEST(FakeKernelCounters, AFailingDumpCostsEveryLinkThatGroupOnly) {
  const FakeDatagram stats{stats_part(2, 5), stats_part(3, 6), fake_done()};
  const FakeDatagram pause{pause_part(2, 7), pause_part(3, 8), fake_done()};
  const FakeDatagram broken{fake_done_error(EIO)};
  const FakeDatagram none{fake_done()};
  FakeKernel kernel({
      {stats},
      {broken},
      {none},
      {none},  // sweep 1
      {stats},
      {broken},
      {none},
      {none},  // sweep 2
      {stats},
      {pause},
      {none},
      {none},  // sweep 3
      {stats},
      {broken},
      {none},
      {none},  // sweep 4
  });
  ASSERT_NE(kernel.port(), 0U);
  std::vector<std::string> said;
  auto reader = fake_reader(kernel, kEthtoolFamily, said);
  ASSERT_TRUE(reader);
  const std::vector<LinkInfo> links{fake_link(2, "eth2"), fake_link(3, "eth3")};
  const std::string failed =
      "counters: group pause left out of every interface: ethtool pause "
      "dump: Input/output error (EIO)";
  for (int sweep = 1; sweep <= 4; ++sweep) {
    auto got = reader->read_all(links);
    ASSERT_TRUE(got) << got.error().str();
    std::vector<Counter> eth2{c("eth-mac", "FramesTransmittedOK", 5)};
    std::vector<Counter> eth3{c("eth-mac", "FramesTransmittedOK", 6)};
    if (sweep == 3) {
      eth2.push_back(c("pause", "tx_pause_frames", 7));
      eth3.push_back(c("pause", "tx_pause_frames", 8));
    }
    EXPECT_EQ(got->at(2), eth2) << "sweep " << sweep;
    EXPECT_EQ(got->at(3), eth3) << "sweep " << sweep;
    EXPECT_EQ(said.size(), sweep < 4 ? 1U : 2U) << "sweep " << sweep;
  }
  EXPECT_EQ(said, (std::vector<std::string>{failed, failed}));
}

// A reply of one link that cannot be parsed costs that link the group;
// the others keep theirs.
TEST(FakeKernelCounters, AMalformedReplyCostsItsLinkOnly) {
  FakeKernel kernel({
      {{qstats_reply(2, NETDEV_QUEUE_TYPE_RX, 0,
                     {{NETDEV_A_QSTATS_RX_PACKETS, 1}}),
        qstats_reply(3, NETDEV_QUEUE_TYPE_RX, 0,
                     {{NETDEV_A_QSTATS_RX_PACKETS, 2}}),
        // A queue with a u16 counter: malformed.
        FakeReply{kNetdevFamily, NLM_F_MULTI,
                  [] {
                    auto m = reply_msg();
                    u32(m, NETDEV_A_QSTATS_IFINDEX, 3);
                    u32(m, NETDEV_A_QSTATS_QUEUE_TYPE, NETDEV_QUEUE_TYPE_TX);
                    u32(m, NETDEV_A_QSTATS_QUEUE_ID, 0);
                    EXPECT_TRUE(nl::put_binary(m, NETDEV_A_QSTATS_TX_PACKETS,
                                               "\x01\x02", 2));
                    return payload_of(m.get());
                  }(),
                  0},
        qstats_reply(4, NETDEV_QUEUE_TYPE_RX, 0,
                     {{NETDEV_A_QSTATS_RX_PACKETS, 4}}),
        fake_done()}},
      {{fake_error(EOPNOTSUPP)}},  // page-pool-stats-get
  });
  ASSERT_NE(kernel.port(), 0U);
  std::vector<std::string> said;
  auto reader = fake_reader(kernel, -1, said);
  ASSERT_TRUE(reader);
  auto got = reader->read_all(std::vector<LinkInfo>{
      fake_link(2, "eth2"), fake_link(3, "eth3"), fake_link(4, "eth4")});
  ASSERT_TRUE(got) << got.error().str();
  EXPECT_EQ(got->at(2),
            std::vector<Counter>{c("queue", "rx-packets", 1, "rx-0")});
  EXPECT_EQ(got->at(3), std::vector<Counter>{});
  EXPECT_EQ(got->at(4),
            std::vector<Counter>{c("queue", "rx-packets", 4, "rx-0")});
  ASSERT_EQ(said.size(), 1U);
  EXPECT_EQ(said[0].rfind("counters of eth3: group queue left out: ", 0), 0U)
      << said[0];
}

// keeld.sh test_counters on Debian's 6.12: "no queue statistics from
// keelctl stats". 6.12 leaves devices without queue statistics (no
// stat_ops, as lo) out of an unfiltered qstats dump; built without
// CONFIG_PAGE_POOL_STATS (Debian), it has no page-pool-stats-get, which
// genetlink refuses with an NLMSG_ERROR of EOPNOTSUPP, and which is not
// asked again. Neither costs keel's NIC its queue statistics.
TEST(FakeKernelCounters, QueueStatsWithoutPagePools) {
  const FakeDatagram nic_qstats{qstats_reply(2, NETDEV_QUEUE_TYPE_RX, 0,
                                             {{NETDEV_A_QSTATS_RX_PACKETS, 7},
                                              {NETDEV_A_QSTATS_RX_BYTES, 700}}),
                                qstats_reply(2, NETDEV_QUEUE_TYPE_TX, 0,
                                             {{NETDEV_A_QSTATS_TX_PACKETS, 9},
                                              {NETDEV_A_QSTATS_TX_BYTES, 900}}),
                                fake_done()};
  FakeKernel kernel({
      {nic_qstats},
      {{fake_error(EOPNOTSUPP)}},  // page-pool-stats-get
      {nic_qstats},
  });
  ASSERT_NE(kernel.port(), 0U);
  std::vector<std::string> said;
  auto reader = fake_reader(kernel, -1, said);
  ASSERT_TRUE(reader);
  const std::vector<LinkInfo> links{fake_link(1, "lo"), fake_link(2, "eth0")};
  const std::vector<Counter> nic_counters{
      c("queue", "rx-packets", 7, "rx-0"), c("queue", "rx-bytes", 700, "rx-0"),
      c("queue", "tx-packets", 9, "tx-0"), c("queue", "tx-bytes", 900, "tx-0")};
  for (int sweep = 1; sweep <= 2; ++sweep) {
    auto got = reader->read_all(links);
    ASSERT_TRUE(got) << got.error().str();
    EXPECT_EQ(got->at(1), std::vector<Counter>{}) << "lo, sweep " << sweep;
    EXPECT_EQ(got->at(2), nic_counters)
        << "no queue statistics of eth0 in sweep " << sweep;
  }
  kernel.finish();
  EXPECT_EQ(seen(kernel),
            (std::vector<SeenRequest>{qstats_dump(), page_pool_stats_dump(),
                                      qstats_dump()}));
  // A group that is not there did not fail.
  EXPECT_EQ(said, std::vector<std::string>{});
}

// A kernel without qstats-get refuses it (NLMSG_ERROR, EOPNOTSUPP): the
// group is absent, nothing failed, and it is not asked again.
TEST(FakeKernelCounters, KernelWithoutQstats) {
  FakeKernel kernel({
      {{fake_error(EOPNOTSUPP)}},  // qstats-get
      {{fake_error(EOPNOTSUPP)}},  // page-pool-stats-get
  });
  ASSERT_NE(kernel.port(), 0U);
  std::vector<std::string> said;
  auto reader = fake_reader(kernel, -1, said);
  ASSERT_TRUE(reader);
  for (int sweep = 1; sweep <= 2; ++sweep) {
    auto got = reader->read(fake_link(2, "eth0"));
    ASSERT_TRUE(got) << got.error().str();
    EXPECT_EQ(*got, std::vector<Counter>{});
  }
  kernel.finish();
  EXPECT_EQ(kernel.requests().size(), 2U);
  EXPECT_EQ(said, std::vector<std::string>{});
}

// An ethtool dump that ends with ENODEV (a device unregistered while it
// ran, ethnl_ops_begin()) is asked for once more.
TEST(FakeKernelCounters, EthtoolDumpEndingWithEnodevIsAskedAgain) {
  FakeKernel kernel({
      {{stats_part(2, 5), fake_done_error(ENODEV)}},
      {{stats_part(2, 6), fake_done()}},
      {{fake_done()}},  // pause
      {{fake_done()}},  // qstats
      {{fake_done()}},  // page pools
  });
  ASSERT_NE(kernel.port(), 0U);
  std::vector<std::string> said;
  auto reader = fake_reader(kernel, kEthtoolFamily, said);
  ASSERT_TRUE(reader);
  auto got = reader->read(fake_link(2, "eth2"));
  ASSERT_TRUE(got) << got.error().str();
  EXPECT_EQ(*got, std::vector<Counter>{c("eth-mac", "FramesTransmittedOK", 6)});
  EXPECT_EQ(said, std::vector<std::string>{});
}

// What the reader keeps about an interface (here: that its queue group
// fails, said once) is dropped once no read asked for that interface for
// the forget-after time: a removed link leaves nothing behind. With the
// default time, a read of another interface in between changes nothing.
TEST(FakeKernelCounters, ForgetsInterfacesNoLongerRead) {
  // eth0's queue reply lacks its queue id: malformed, eth0's alone.
  const FakeDatagram broken{FakeReply{kNetdevFamily, NLM_F_MULTI,
                                      [] {
                                        auto m = reply_msg();
                                        u32(m, NETDEV_A_QSTATS_IFINDEX, 2);
                                        u32(m, NETDEV_A_QSTATS_QUEUE_TYPE,
                                            NETDEV_QUEUE_TYPE_RX);
                                        return payload_of(m.get());
                                      }(),
                                      0},
                            fake_done()};
  for (const bool forget : {false, true}) {
    FakeKernel kernel({
        {broken},
        {{fake_error(EOPNOTSUPP)}},  // page-pool-stats-get, asked once
        {broken},                    // eth1
        {broken},                    // eth0 again
    });
    ASSERT_NE(kernel.port(), 0U);
    std::vector<std::string> said;
    auto reader = fake_reader(kernel, -1, said);
    ASSERT_TRUE(reader);
    if (forget) reader->set_forget_after(std::chrono::milliseconds(0));

    for (const LinkInfo &link :
         {fake_link(2, "eth0"), fake_link(3, "eth1"), fake_link(2, "eth0")}) {
      auto got = reader->read(link);
      ASSERT_TRUE(got) << got.error().str();
    }
    kernel.finish();
    EXPECT_EQ(said.size(), forget ? 2U : 1U)
        << (forget ? "eth0's failing group was not forgotten"
                   : "eth0 forgotten while it was read");
  }
}

TEST(Host, BuiltinStringsMatchTheKernel) {
  auto sock = nl::Socket::connect(nl::Protocol::kGeneric);
  ASSERT_TRUE(sock) << sock.error().str();
  auto family = sock->family("ethtool");
  if (!family) GTEST_SKIP() << family.error().str();
  auto msg = nl::genl_msg(*family, ETHTOOL_MSG_STRSET_GET, 0);
  ASSERT_TRUE(msg);
  {
    auto hdr = nl::Nest::open(*msg, ETHTOOL_A_STRSET_HEADER);
    ASSERT_TRUE(hdr);
    u32(*msg, ETHTOOL_A_HEADER_DEV_INDEX, 1);  // lo; the kernel wants a dev
    hdr->close();
  }
  {
    auto sets = nl::Nest::open(*msg, ETHTOOL_A_STRSET_STRINGSETS);
    ASSERT_TRUE(sets);
    for (const auto &[id, names] : counters::builtin_stats_strings()) {
      auto set = nl::Nest::open(*msg, ETHTOOL_A_STRINGSETS_STRINGSET);
      ASSERT_TRUE(set);
      u32(*msg, ETHTOOL_A_STRINGSET_ID, id);
      set->close();
    }
    sets->close();
  }
  counters::StringSets got;
  auto r = sock->request(
      std::move(*msg),
      [&](nl_msg *reply) {
        return counters::parse_strset_reply(counters::genl_payload(reply), got);
      },
      "strset get");
  ASSERT_TRUE(r) << r.error().str();
  for (const auto &[id, names] : counters::builtin_stats_strings()) {
    ASSERT_TRUE(got.contains(id)) << id;
    ASSERT_GE(got[id].size(), names.size()) << id;
    for (size_t i = 0; i < names.size(); ++i)
      EXPECT_EQ(got[id][i], names[i]) << "set " << id << " index " << i;
  }
}

TEST(Host, ReadsEveryLink) {
  auto reader = CounterReader::open();
  ASSERT_TRUE(reader) << reader.error().str();
  // No group of any link fails: what a link lacks is absent, not broken.
  (*reader)->on_group_error([](const Error &e) { ADD_FAILURE() << e.str(); });
  auto links = list_links();
  ASSERT_TRUE(links) << links.error().str();
  for (const Link &l : *links) {
    LinkInfo info;
    info.ifindex = l.ifindex;
    info.name = l.name;
    auto got = (*reader)->read(info);
    ASSERT_TRUE(got) << l.name << ": " << got.error().str();
    for (const Counter &ctr : *got) {
      EXPECT_NE(ctr.group, "link");
      EXPECT_FALSE(ctr.name.empty()) << ctr.group;
      const bool queued = ctr.group == "queue" || ctr.group == "page-pool";
      EXPECT_EQ(ctr.queue.empty(), !queued) << ctr.group << " " << ctr.name;
    }
    if (l.name == "lo") {
      // Loopback has no driver statistics and no pause frames.
      EXPECT_TRUE(
          std::none_of(got->begin(), got->end(), [](const Counter &ctr) {
            return ctr.group == "driver" || ctr.group == "pause";
          }));
    }
  }
}

TEST(Host, VanishedLinkIsEnodev) {
  auto reader = CounterReader::open();
  ASSERT_TRUE(reader) << reader.error().str();
  LinkInfo info;
  info.ifindex = 999999;
  info.name = "keel-nosuch0";
  auto got = (*reader)->read(info);
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().errnum(), ENODEV) << got.error().str();
}

TEST(Host, CounterSourceReadsLoopback) {
  auto source = open_counter_source();
  ASSERT_TRUE(source) << source.error().str();
  LinkInfo lo;
  lo.ifindex = 1;  // loopback in every namespace
  lo.name = "lo";
  auto copy = *source;  // copies share one reader
  const std::vector<LinkInfo> links{lo};
  auto got = (*source)(links);
  ASSERT_TRUE(got) << got.error().str();
  EXPECT_TRUE(got->contains(1));
  auto again = copy(links);
  ASSERT_TRUE(again) << again.error().str();
}

}  // namespace
}  // namespace keel
