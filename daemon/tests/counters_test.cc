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
// Where a request's first attribute starts: after the netlink and the
// generic netlink header.
constexpr uint32_t kFirstAttrOffset = NLMSG_HDRLEN + GENL_HDRLEN;

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

// A request as the fake kernel got it: its generic netlink command and,
// when it names one, the interface (the first attribute is the ifindex in
// every netdev request CounterReader makes).
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
    }
    if (p.size() >= GENL_HDRLEN + NLA_HDRLEN + sizeof(uint32_t)) {
      nlattr a{};
      std::memcpy(&a, p.data() + GENL_HDRLEN, sizeof(a));
      uint32_t v = 0;
      std::memcpy(&v, p.data() + GENL_HDRLEN + NLA_HDRLEN, sizeof(v));
      if (a.nla_type == NETDEV_A_QSTATS_IFINDEX) r.ifindex = v;
    }
    out.push_back(r);
  }
  return out;
}

SeenRequest qstats_get(uint32_t ifindex) {
  return {kNetdevFamily, true, NETDEV_CMD_QSTATS_GET, ifindex};
}
SeenRequest page_pool_stats_get() {
  return {kNetdevFamily, true, NETDEV_CMD_PAGE_POOL_STATS_GET, std::nullopt};
}

LinkInfo fake_link(int ifindex, const std::string &name) {
  LinkInfo l;
  l.ifindex = ifindex;
  l.name = name;
  return l;
}

// keeld.sh test_counters on Debian's 6.12: "no queue statistics from
// keelctl stats". A sweep reads lo first. 6.12 ends a qstats dump
// filtered by a device without queue statistics (no stat_ops, as lo)
// with NLMSG_DONE carrying -EOPNOTSUPP and the ifindex attribute's
// offset (netdev_nl_qstats_get_dumpit()); and, built without
// CONFIG_PAGE_POOL_STATS (Debian), it has no page-pool-stats-get, which
// genetlink refuses with an NLMSG_ERROR of EOPNOTSUPP. Neither may cost
// the next interface (keel's NIC) its queue statistics, in any sweep.
TEST(FakeKernelCounters, QueueStatsAfterADeviceWithout) {
  const FakeDatagram lo_qstats{
      fake_done_bad_attr(EOPNOTSUPP, kFirstAttrOffset)};
  const FakeDatagram nic_qstats{qstats_reply(2, NETDEV_QUEUE_TYPE_RX, 0,
                                             {{NETDEV_A_QSTATS_RX_PACKETS, 7},
                                              {NETDEV_A_QSTATS_RX_BYTES, 700}}),
                                qstats_reply(2, NETDEV_QUEUE_TYPE_TX, 0,
                                             {{NETDEV_A_QSTATS_TX_PACKETS, 9},
                                              {NETDEV_A_QSTATS_TX_BYTES, 900}}),
                                fake_done()};
  FakeKernel kernel({
      {lo_qstats},
      {{fake_error(EOPNOTSUPP)}},  // page-pool-stats-get
      {nic_qstats},
      {lo_qstats},
      {nic_qstats},
  });
  ASSERT_NE(kernel.port(), 0U);
  auto sock = connect_to(kernel);
  ASSERT_TRUE(sock) << sock.error().str();
  auto reader = CounterReader::over(std::move(*sock), -1, kNetdevFamily, Fd());
  std::vector<std::string> said;
  reader->on_group_error([&](const Error &e) { said.push_back(e.str()); });

  const LinkInfo lo = fake_link(1, "lo");
  const LinkInfo nic = fake_link(2, "eth0");
  const std::vector<Counter> nic_counters{
      c("queue", "rx-packets", 7, "rx-0"), c("queue", "rx-bytes", 700, "rx-0"),
      c("queue", "tx-packets", 9, "tx-0"), c("queue", "tx-bytes", 900, "tx-0")};
  for (int sweep = 1; sweep <= 2; ++sweep) {
    auto got = reader->read(lo);
    ASSERT_TRUE(got) << got.error().str();
    EXPECT_EQ(*got, std::vector<Counter>{}) << "lo, sweep " << sweep;
    got = reader->read(nic);
    ASSERT_TRUE(got) << got.error().str();
    EXPECT_EQ(*got, nic_counters)
        << "no queue statistics of eth0 in sweep " << sweep;
  }
  kernel.finish();
  // Page pools once: the kernel lacks the command. qstats every time:
  // lo's EOPNOTSUPP is lo's.
  EXPECT_EQ(seen(kernel), (std::vector<SeenRequest>{
                              qstats_get(1), page_pool_stats_get(),
                              qstats_get(2), qstats_get(1), qstats_get(2)}));
  // A group that is not there did not fail.
  EXPECT_EQ(said, std::vector<std::string>{});
}

// A kernel without qstats-get refuses it (NLMSG_ERROR, EOPNOTSUPP): the
// group is absent, nothing failed.
TEST(FakeKernelCounters, KernelWithoutQstats) {
  FakeKernel kernel({
      {{fake_error(EOPNOTSUPP)}},  // qstats-get
      {{fake_error(EOPNOTSUPP)}},  // page-pool-stats-get
  });
  ASSERT_NE(kernel.port(), 0U);
  auto sock = connect_to(kernel);
  ASSERT_TRUE(sock) << sock.error().str();
  auto reader = CounterReader::over(std::move(*sock), -1, kNetdevFamily, Fd());
  std::vector<std::string> said;
  reader->on_group_error([&](const Error &e) { said.push_back(e.str()); });
  auto got = reader->read(fake_link(2, "eth0"));
  ASSERT_TRUE(got) << got.error().str();
  EXPECT_EQ(*got, std::vector<Counter>{});
  EXPECT_EQ(said, std::vector<std::string>{});
}

// A group that fails for another reason costs that group only, not the
// interface's other groups; it is reported when it starts failing, not
// every sweep, and again if it fails after reading fine.
TEST(FakeKernelCounters, AFailingGroupCostsOnlyItself) {
  const FakeDatagram broken{fake_done_error(EIO)};
  const FakeDatagram queues{qstats_reply(2, NETDEV_QUEUE_TYPE_RX, 0,
                                         {{NETDEV_A_QSTATS_RX_PACKETS, 7}}),
                            fake_done()};
  const FakeDatagram pools{FakeReply{kNetdevFamily, NLM_F_MULTI,
                                     payload_of(pool_reply(5, 2, 40).get()), 0},
                           fake_done()};
  FakeKernel kernel({
      {broken},
      {pools},  // read 1
      {broken},
      {pools},  // read 2
      {queues},
      {pools},  // read 3
      {broken},
      {pools},  // read 4
  });
  ASSERT_NE(kernel.port(), 0U);
  auto sock = connect_to(kernel);
  ASSERT_TRUE(sock) << sock.error().str();
  auto reader = CounterReader::over(std::move(*sock), -1, kNetdevFamily, Fd());
  std::vector<std::string> said;
  reader->on_group_error([&](const Error &e) { said.push_back(e.str()); });

  const LinkInfo nic = fake_link(2, "eth0");
  const std::vector<Counter> pool_counters{
      c("page-pool", "alloc-fast", 40, "pool-5"),
      c("page-pool", "recycle-ring", 2, "pool-5")};
  std::vector<Counter> with_queue{c("queue", "rx-packets", 7, "rx-0")};
  with_queue.insert(with_queue.end(), pool_counters.begin(),
                    pool_counters.end());
  const std::string failed =
      "counters of eth0: group queue left out: netdev qstats get eth0: "
      "Input/output error (EIO)";

  auto got = reader->read(nic);
  ASSERT_TRUE(got) << got.error().str();
  EXPECT_EQ(*got, pool_counters);
  EXPECT_EQ(said, std::vector<std::string>{failed});
  got = reader->read(nic);
  ASSERT_TRUE(got) << got.error().str();
  EXPECT_EQ(*got, pool_counters);
  EXPECT_EQ(said.size(), 1U) << "said again while it kept failing";
  got = reader->read(nic);
  ASSERT_TRUE(got) << got.error().str();
  EXPECT_EQ(*got, with_queue);
  got = reader->read(nic);
  ASSERT_TRUE(got) << got.error().str();
  EXPECT_EQ(*got, pool_counters);
  EXPECT_EQ(said, (std::vector<std::string>{failed, failed}));
}

// What the reader keeps about an interface (here: that its queue group
// fails, said once) is dropped once no read asked for that interface for
// the forget-after time: a removed link leaves nothing behind. With the
// default time, a read of another interface in between changes nothing.
TEST(FakeKernelCounters, ForgetsInterfacesNoLongerRead) {
  const FakeDatagram broken{fake_done_error(EIO)};
  const FakeDatagram empty{fake_done()};
  for (const bool forget : {false, true}) {
    FakeKernel kernel({
        {broken},
        {{fake_error(EOPNOTSUPP)}},  // page-pool-stats-get, asked once
        {empty},                     // eth1
        {broken},                    // eth0 again
    });
    ASSERT_NE(kernel.port(), 0U);
    auto sock = connect_to(kernel);
    ASSERT_TRUE(sock) << sock.error().str();
    auto reader =
        CounterReader::over(std::move(*sock), -1, kNetdevFamily, Fd());
    if (forget) reader->set_forget_after(std::chrono::milliseconds(0));
    std::vector<std::string> said;
    reader->on_group_error([&](const Error &e) { said.push_back(e.str()); });

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

// A device that went away between the listing and the read: 6.12 ends
// the qstats dump with ENODEV. That is still the read's error (NetlinkNic
// drops the link's extra counters), not a group left out.
TEST(FakeKernelCounters, VanishedDeviceFailsTheRead) {
  FakeKernel kernel({{{fake_done_bad_attr(ENODEV, kFirstAttrOffset)}}});
  ASSERT_NE(kernel.port(), 0U);
  auto sock = connect_to(kernel);
  ASSERT_TRUE(sock) << sock.error().str();
  auto reader = CounterReader::over(std::move(*sock), -1, kNetdevFamily, Fd());
  std::vector<std::string> said;
  reader->on_group_error([&](const Error &e) { said.push_back(e.str()); });
  auto got = reader->read(fake_link(9, "gone0"));
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().errnum(), ENODEV) << got.error().str();
  EXPECT_EQ(said, std::vector<std::string>{});
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
  auto got = (*source)(lo);
  ASSERT_TRUE(got) << got.error().str();
  auto again = copy(lo);
  ASSERT_TRUE(again) << again.error().str();
}

}  // namespace
}  // namespace keel
