// SPDX-License-Identifier: GPL-2.0
//
// keelnic without privilege: the ethtool and rtnetlink message parsers on
// hand-built messages, and NetlinkNic / EventMonitor reading the host
// (lo exists everywhere). Changes to links are in tests/root/.
#include "keel/nic_netlink.h"

#include <linux/ethtool.h>
#include <linux/ethtool_netlink.h>
#include <linux/if.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <map>
#include <poll.h>
#include <sched.h>
#include <span>
#include <string>
#include <system_error>

#include <gtest/gtest.h>

#include "keel/events.h"
#include "keel/fd.h"
#include "keel/nl.h"

namespace keel {
namespace {

// A hand-built ethtool message; the family id does not matter to parsers.
nl::Msg ethtool_reply(uint8_t cmd) {
  auto msg = nl::genl_msg(0x20, cmd, 0);
  EXPECT_TRUE(msg);
  return std::move(*msg);
}

struct Bit {
  uint32_t index;
  const char *name;
  bool value;
};

void put_verbose(nl::Msg &msg, int type, uint32_t size, bool nomask,
                 const std::vector<Bit> &bits) {
  auto nest = nl::Nest::open(msg, type);
  ASSERT_TRUE(nest);
  if (nomask) {
    ASSERT_TRUE(nl::put_flag(msg, ETHTOOL_A_BITSET_NOMASK));
  }
  ASSERT_TRUE(nl::put_u32(msg, ETHTOOL_A_BITSET_SIZE, size));
  auto list = nl::Nest::open(msg, ETHTOOL_A_BITSET_BITS);
  ASSERT_TRUE(list);
  for (const auto &b : bits) {
    auto bit = nl::Nest::open(msg, ETHTOOL_A_BITSET_BITS_BIT);
    ASSERT_TRUE(bit);
    ASSERT_TRUE(nl::put_u32(msg, ETHTOOL_A_BITSET_BIT_INDEX, b.index));
    ASSERT_TRUE(nl::put_string(msg, ETHTOOL_A_BITSET_BIT_NAME, b.name));
    if (b.value) {
      ASSERT_TRUE(nl::put_flag(msg, ETHTOOL_A_BITSET_BIT_VALUE));
    }
    bit->close();
  }
  list->close();
  nest->close();
}

const nlattr *top_attr(const nl::Msg &msg, int type) {
  auto tb = nl::Attrs::parse_genl(msg.get(), type, nullptr);
  EXPECT_TRUE(tb);
  return tb ? tb->get(type) : nullptr;
}

TEST(Bitset, VerboseWithMask) {
  auto msg = ethtool_reply(ETHTOOL_MSG_PRIVFLAGS_GET_REPLY);
  put_verbose(msg, ETHTOOL_A_PRIVFLAGS_FLAGS, 4, false,
              {{0, "a", true}, {2, "c", false}});
  auto bs = ethnl::parse_bitset(top_attr(msg, ETHTOOL_A_PRIVFLAGS_FLAGS));
  ASSERT_TRUE(bs) << bs.error().str();
  EXPECT_EQ(bs->size, 4U);
  EXPECT_FALSE(bs->nomask);
  EXPECT_EQ(bs->value, (std::vector<bool>{true, false, false, false}));
  EXPECT_EQ(bs->mask, (std::vector<bool>{true, false, true, false}));
  EXPECT_EQ(bs->names, (std::vector<std::string>{"a", "", "c", ""}));
}

TEST(Bitset, VerboseNoMaskListsSetBits) {
  auto msg = ethtool_reply(ETHTOOL_MSG_FEATURES_GET_REPLY);
  put_verbose(msg, ETHTOOL_A_FEATURES_ACTIVE, 3, true, {{1, "b", false}});
  auto bs = ethnl::parse_bitset(top_attr(msg, ETHTOOL_A_FEATURES_ACTIVE));
  ASSERT_TRUE(bs) << bs.error().str();
  EXPECT_TRUE(bs->nomask);
  // With NOMASK, a listed bit is set even without a VALUE flag.
  EXPECT_EQ(bs->value, (std::vector<bool>{false, true, false}));
  EXPECT_EQ(bs->mask, (std::vector<bool>{true, true, true}));
}

TEST(Bitset, Compact) {
  auto msg = ethtool_reply(ETHTOOL_MSG_FEATURES_GET_REPLY);
  {
    auto nest = nl::Nest::open(msg, ETHTOOL_A_FEATURES_HW);
    ASSERT_TRUE(nest);
    ASSERT_TRUE(nl::put_u32(msg, ETHTOOL_A_BITSET_SIZE, 40));
    const std::array<uint32_t, 2> value{0x5U, 0x80U};  // bits 0, 2, 39
    const std::array<uint32_t, 2> mask{0x7U, 0x80U};   // bits 0-2, 39
    ASSERT_TRUE(nl::put_binary(msg, ETHTOOL_A_BITSET_VALUE, value.data(),
                               sizeof(value)));
    ASSERT_TRUE(
        nl::put_binary(msg, ETHTOOL_A_BITSET_MASK, mask.data(), sizeof(mask)));
    nest->close();
  }
  auto bs = ethnl::parse_bitset(top_attr(msg, ETHTOOL_A_FEATURES_HW));
  ASSERT_TRUE(bs) << bs.error().str();
  ASSERT_EQ(bs->value.size(), 40U);
  EXPECT_TRUE(bs->test(0));
  EXPECT_FALSE(bs->test(1));
  EXPECT_TRUE(bs->test(2));
  EXPECT_TRUE(bs->test(39));
  EXPECT_FALSE(bs->test(40));
  EXPECT_TRUE(bs->mask[1]);
  EXPECT_FALSE(bs->mask[3]);
  EXPECT_EQ(bs->names[0], "");
}

// Sizes and indexes come from the message and size the vectors: past
// kMaxBitsetSize, or a compact size its words cannot hold, is EBADMSG,
// not an allocation of that size.
TEST(Bitset, RejectsSizesTheMessageCannotBack) {
  {
    auto msg = ethtool_reply(ETHTOOL_MSG_FEATURES_GET_REPLY);
    put_verbose(msg, ETHTOOL_A_FEATURES_ACTIVE, ethnl::kMaxBitsetSize + 1, true,
                {{1, "b", true}});
    auto bs = ethnl::parse_bitset(top_attr(msg, ETHTOOL_A_FEATURES_ACTIVE));
    ASSERT_FALSE(bs);
    EXPECT_EQ(bs.error().errnum(), EBADMSG) << bs.error().str();
  }
  {
    auto msg = ethtool_reply(ETHTOOL_MSG_FEATURES_GET_REPLY);
    put_verbose(msg, ETHTOOL_A_FEATURES_ACTIVE, 3, true,
                {{0xfffffff0U, "far", true}});
    auto bs = ethnl::parse_bitset(top_attr(msg, ETHTOOL_A_FEATURES_ACTIVE));
    ASSERT_FALSE(bs);
    EXPECT_EQ(bs.error().errnum(), EBADMSG) << bs.error().str();
  }
  {
    // 64 bits claimed, one word sent.
    auto msg = ethtool_reply(ETHTOOL_MSG_FEATURES_GET_REPLY);
    auto nest = nl::Nest::open(msg, ETHTOOL_A_FEATURES_HW);
    ASSERT_TRUE(nest);
    ASSERT_TRUE(nl::put_flag(msg, ETHTOOL_A_BITSET_NOMASK));
    ASSERT_TRUE(nl::put_u32(msg, ETHTOOL_A_BITSET_SIZE, 64));
    const uint32_t word = 1;
    ASSERT_TRUE(
        nl::put_binary(msg, ETHTOOL_A_BITSET_VALUE, &word, sizeof(word)));
    nest->close();
    auto bs = ethnl::parse_bitset(top_attr(msg, ETHTOOL_A_FEATURES_HW));
    ASSERT_FALSE(bs);
    EXPECT_EQ(bs.error().errnum(), EBADMSG) << bs.error().str();
  }
}

TEST(Bitset, NamedBitsetRoundTrip) {
  auto msg = ethtool_reply(ETHTOOL_MSG_FEATURES_SET);
  ASSERT_TRUE(ethnl::put_named_bitset(msg, ETHTOOL_A_FEATURES_WANTED,
                                      {{"rx-gro", true}, {"tx-sg", false}}));
  auto tb = nl::Attrs::parse_nested(top_attr(msg, ETHTOOL_A_FEATURES_WANTED),
                                    ETHTOOL_A_BITSET_MAX, nullptr);
  ASSERT_TRUE(tb);
  EXPECT_FALSE(tb->has(ETHTOOL_A_BITSET_NOMASK));
  std::map<std::string, bool> seen;
  for (const nlattr *bit : nl::attr_list(tb->get(ETHTOOL_A_BITSET_BITS))) {
    auto b = nl::Attrs::parse_nested(bit, ETHTOOL_A_BITSET_BIT_MAX, nullptr);
    ASSERT_TRUE(b);
    seen[*b->str(ETHTOOL_A_BITSET_BIT_NAME)] =
        b->has(ETHTOOL_A_BITSET_BIT_VALUE);
  }
  EXPECT_EQ(seen,
            (std::map<std::string, bool>{{"rx-gro", true}, {"tx-sg", false}}));
}

TEST(Features, ActiveAndFixed) {
  auto msg = ethtool_reply(ETHTOOL_MSG_FEATURES_GET_REPLY);
  // hw: what the driver can change; nochange: what the kernel never does.
  put_verbose(msg, ETHTOOL_A_FEATURES_HW, 4, true,
              {{0, "f0", true}, {1, "f1", true}, {3, "f3", true}});
  put_verbose(msg, ETHTOOL_A_FEATURES_ACTIVE, 4, true,
              {{0, "f0", true}, {2, "f2", true}});
  put_verbose(msg, ETHTOOL_A_FEATURES_NOCHANGE, 4, true, {{3, "f3", true}});
  auto f = ethnl::parse_features(msg.get(), {"f0", "f1", "f2", "f3", "f4"});
  ASSERT_TRUE(f) << f.error().str();
  const Features want{
      {"f0", {.active = true, .fixed = false}},
      {"f1", {.active = false, .fixed = false}},
      {"f2", {.active = true, .fixed = true}},
      {"f3", {.active = false, .fixed = true}},
      {"f4", {.active = false, .fixed = true}},
  };
  EXPECT_EQ(*f, want);
}

TEST(PrivFlags, FromVerboseBitset) {
  auto msg = ethtool_reply(ETHTOOL_MSG_PRIVFLAGS_GET_REPLY);
  put_verbose(msg, ETHTOOL_A_PRIVFLAGS_FLAGS, 2, false,
              {{0, "legacy-rx", false}, {1, "loopback", true}});
  auto p = ethnl::parse_priv_flags(msg.get());
  ASSERT_TRUE(p) << p.error().str();
  EXPECT_EQ(*p, (PrivFlags{{"legacy-rx", false}, {"loopback", true}}));
}

TEST(Coalesce, NamesMapToAttributes) {
  EXPECT_EQ(ethnl::coalesce_attr("rx-usecs"), ETHTOOL_A_COALESCE_RX_USECS);
  EXPECT_EQ(ethnl::coalesce_attr("use-adaptive-rx"),
            ETHTOOL_A_COALESCE_USE_ADAPTIVE_RX);
  EXPECT_EQ(ethnl::coalesce_attr("tx-aggr-time-usecs"),
            ETHTOOL_A_COALESCE_TX_AGGR_TIME_USECS);
  EXPECT_EQ(ethnl::coalesce_attr("rx_usecs"), std::nullopt);
  EXPECT_EQ(ethnl::coalesce_attr("bogus"), std::nullopt);
  EXPECT_EQ(ethnl::coalesce_name(ETHTOOL_A_COALESCE_TX_MAX_FRAMES_IRQ),
            "tx-max-frames-irq");
  EXPECT_EQ(ethnl::coalesce_name(ETHTOOL_A_COALESCE_RX_PROFILE), "");
  EXPECT_TRUE(ethnl::coalesce_is_u8(ETHTOOL_A_COALESCE_USE_ADAPTIVE_TX));
  EXPECT_TRUE(ethnl::coalesce_is_u8(ETHTOOL_A_COALESCE_USE_CQE_MODE_RX));
  EXPECT_FALSE(ethnl::coalesce_is_u8(ETHTOOL_A_COALESCE_RX_USECS));
  // Every scalar attribute has a name, lower case with dashes, that maps
  // back to it.
  for (int a = ETHTOOL_A_COALESCE_RX_USECS;
       a <= ETHTOOL_A_COALESCE_TX_AGGR_TIME_USECS; ++a) {
    const std::string name = ethnl::coalesce_name(a);
    ASSERT_FALSE(name.empty()) << a;
    EXPECT_TRUE(std::all_of(name.begin(), name.end(), [](char c) {
      return c == '-' || std::islower(static_cast<unsigned char>(c)) != 0;
    })) << name;
    EXPECT_EQ(ethnl::coalesce_attr(name), a);
  }
}

TEST(Coalesce, ParsesPresentAttributes) {
  auto msg = ethtool_reply(ETHTOOL_MSG_COALESCE_GET_REPLY);
  ASSERT_TRUE(nl::put_u32(msg, ETHTOOL_A_COALESCE_RX_USECS, 50));
  ASSERT_TRUE(nl::put_u32(msg, ETHTOOL_A_COALESCE_TX_MAX_FRAMES, 0));
  ASSERT_TRUE(nl::put_u8(msg, ETHTOOL_A_COALESCE_USE_ADAPTIVE_RX, 1));
  auto c = ethnl::parse_coalesce(msg.get());
  ASSERT_TRUE(c) << c.error().str();
  EXPECT_EQ(
      *c, (Coalesce{
              {"rx-usecs", 50}, {"tx-max-frames", 0}, {"use-adaptive-rx", 1}}));
}

TEST(RingsChannels, Parse) {
  auto msg = ethtool_reply(ETHTOOL_MSG_RINGS_GET_REPLY);
  ASSERT_TRUE(nl::put_u32(msg, ETHTOOL_A_RINGS_RX_MAX, 4096));
  ASSERT_TRUE(nl::put_u32(msg, ETHTOOL_A_RINGS_TX_MAX, 2048));
  ASSERT_TRUE(nl::put_u32(msg, ETHTOOL_A_RINGS_RX, 512));
  ASSERT_TRUE(nl::put_u32(msg, ETHTOOL_A_RINGS_TX, 256));
  auto r = ethnl::parse_rings(msg.get());
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, (Rings{.rx = 512, .tx = 256, .rx_max = 4096, .tx_max = 2048}));

  auto cmsg = ethtool_reply(ETHTOOL_MSG_CHANNELS_GET_REPLY);
  ASSERT_TRUE(nl::put_u32(cmsg, ETHTOOL_A_CHANNELS_COMBINED_MAX, 8));
  ASSERT_TRUE(nl::put_u32(cmsg, ETHTOOL_A_CHANNELS_COMBINED_COUNT, 4));
  auto c = ethnl::parse_channels(cmsg.get());
  ASSERT_TRUE(c);
  EXPECT_EQ(c->combined, 4U);
  EXPECT_EQ(c->combined_max, 8U);
  EXPECT_EQ(c->rx, 0U);
}

TEST(Rss, Parse) {
  auto msg = ethtool_reply(ETHTOOL_MSG_RSS_GET_REPLY);
  ASSERT_TRUE(nl::put_u32(msg, ETHTOOL_A_RSS_HFUNC, 1U << 1));  // xor
  const std::array<uint32_t, 4> indir{0, 1, 0, 1};
  const std::array<uint8_t, 3> key{0xde, 0xad, 0x01};
  ASSERT_TRUE(
      nl::put_binary(msg, ETHTOOL_A_RSS_INDIR, indir.data(), sizeof(indir)));
  ASSERT_TRUE(nl::put_binary(msg, ETHTOOL_A_RSS_HKEY, key.data(), key.size()));
  auto r = ethnl::parse_rss(msg.get(), {"toeplitz", "xor", "crc32"});
  ASSERT_TRUE(r) << r.error().str();
  EXPECT_EQ(r->hfunc, "xor");
  EXPECT_EQ(r->indir, (std::vector<uint32_t>{0, 1, 0, 1}));
  EXPECT_EQ(r->key, (std::vector<uint8_t>{0xde, 0xad, 0x01}));
  EXPECT_FALSE(r->user_configured);
}

// A device without an indirection table (or one of fewer than 4 bytes):
// an empty table, and no memcpy() of null pointers (make check-asan).
TEST(Rss, NoTable) {
  auto msg = ethtool_reply(ETHTOOL_MSG_RSS_GET_REPLY);
  ASSERT_TRUE(nl::put_u32(msg, ETHTOOL_A_RSS_HFUNC, 1U));
  auto r = ethnl::parse_rss(msg.get(), {"toeplitz"});
  ASSERT_TRUE(r) << r.error().str();
  EXPECT_EQ(r->hfunc, "toeplitz");
  EXPECT_TRUE(r->indir.empty());
  EXPECT_TRUE(r->key.empty());
}

TEST(LinkMsg, Parse) {
  auto msg = nl::Msg::alloc();
  ASSERT_TRUE(msg);
  nlmsghdr *hdr =
      nlmsg_put(msg->get(), 0, 0, RTM_NEWLINK, sizeof(ifinfomsg), 0);
  ASSERT_NE(hdr, nullptr);
  ifinfomsg ifi{};
  ifi.ifi_index = 7;
  ifi.ifi_flags = IFF_UP;
  std::memcpy(nlmsg_data(hdr), &ifi, sizeof(ifi));
  ASSERT_TRUE(nl::put_string(*msg, IFLA_IFNAME, "eth9"));
  const std::array<uint8_t, 6> mac{0x52, 0x54, 0x00, 0xAB, 0xCD, 0xEF};
  ASSERT_TRUE(nl::put_binary(*msg, IFLA_ADDRESS, mac.data(), mac.size()));
  ASSERT_TRUE(nl::put_u32(*msg, IFLA_MTU, 9000));
  ASSERT_TRUE(nl::put_u8(*msg, IFLA_OPERSTATE, IF_OPER_LOWERLAYERDOWN));
  rtnl_link_stats64 st{};
  st.rx_packets = 11;
  st.tx_bytes = 22;
  st.rx_otherhost_dropped = 33;
  ASSERT_TRUE(nl::put_binary(*msg, IFLA_STATS64, &st, sizeof(st)));

  auto l = ethnl::parse_link(msg->get());
  ASSERT_TRUE(l) << l.error().str();
  EXPECT_EQ(l->info, (LinkInfo{.ifindex = 7,
                               .name = "eth9",
                               .driver = "",
                               .bus_info = "",
                               .mac = "52:54:00:ab:cd:ef",
                               .mtu = 9000,
                               .admin_up = true,
                               .oper_state = "lowerlayerdown"}));
  std::map<std::string, uint64_t> by_name;
  for (const auto &c : l->counters) {
    EXPECT_EQ(c.group, "link");
    EXPECT_EQ(c.queue, "");
    by_name[c.name] = c.value;
  }
  EXPECT_EQ(by_name.size(), 25U);
  EXPECT_EQ(by_name["rx_packets"], 11U);
  EXPECT_EQ(by_name["tx_bytes"], 22U);
  EXPECT_EQ(by_name["rx_otherhost_dropped"], 33U);
  EXPECT_EQ(by_name["collisions"], 0U);
}

// The host: lo is in every network namespace.
TEST(NetlinkNic, ListsLoopback) {
  auto nic = NetlinkNic::create();
  ASSERT_TRUE(nic) << nic.error().str();
  auto links = (*nic)->links();
  ASSERT_TRUE(links) << links.error().str();
  auto lo = std::find_if(links->begin(), links->end(),
                         [](const LinkInfo &l) { return l.name == "lo"; });
  ASSERT_NE(lo, links->end());
  EXPECT_EQ(lo->ifindex, ifindex_of("lo"));
  EXPECT_EQ(lo->driver, "");  // no drvinfo on lo
  EXPECT_EQ(lo->mac, "00:00:00:00:00:00");
  EXPECT_GT(lo->mtu, 0U);
  EXPECT_TRUE(std::is_sorted(
      links->begin(), links->end(),
      [](const auto &a, const auto &b) { return a.ifindex < b.ifindex; }));
}

TEST(NetlinkNic, LoopbackSettings) {
  auto nic = NetlinkNic::create();
  ASSERT_TRUE(nic) << nic.error().str();
  const int lo = ifindex_of("lo");
  auto s = (*nic)->settings(lo);
  ASSERT_TRUE(s) << s.error().str();
  EXPECT_GT(s->mtu, 0U);
  ASSERT_TRUE(s->features.has_value());
  ASSERT_TRUE(s->features->contains("loopback"));
  EXPECT_TRUE(s->features->at("loopback").active);
  EXPECT_TRUE(s->features->at("loopback").fixed);
  EXPECT_FALSE(s->coalesce.has_value());
  EXPECT_FALSE(s->rings.has_value());
}

TEST(NetlinkNic, GoneIfindexIsEnodev) {
  auto nic = NetlinkNic::create();
  ASSERT_TRUE(nic) << nic.error().str();
  auto s = (*nic)->settings(0x7ffffff0);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().errnum(), ENODEV) << s.error().str();
}

// The source is called once per sweep with every link; a link it leaves
// out (lo here) keeps its link counters, the others get theirs added.
TEST(NetlinkNic, CountersWithExtraSource) {
  int calls = 0;
  size_t asked = 0;
  auto nic =
      NetlinkNic::create([&](std::span<const LinkInfo> links)
                             -> Result<std::map<int, std::vector<Counter>>> {
        ++calls;
        asked = links.size();
        std::map<int, std::vector<Counter>> out;
        for (const LinkInfo &l : links)
          if (l.name != "lo")
            out[l.ifindex] = {Counter{"driver", "extra", "", 7}};
        return out;
      });
  ASSERT_TRUE(nic) << nic.error().str();
  auto all = (*nic)->counters();
  ASSERT_TRUE(all) << all.error().str();
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(asked, all->size());
  for (const auto &ic : *all) {
    const bool extra =
        std::any_of(ic.counters.begin(), ic.counters.end(),
                    [](const Counter &c) { return c.name == "extra"; });
    EXPECT_EQ(extra, ic.link.name != "lo") << ic.link.name;
  }
  auto lo = std::find_if(all->begin(), all->end(),
                         [](const auto &ic) { return ic.link.name == "lo"; });
  ASSERT_NE(lo, all->end());
  auto rx = std::find_if(lo->counters.begin(), lo->counters.end(),
                         [](const Counter &c) {
                           return c.group == "link" && c.name == "rx_packets";
                         });
  EXPECT_NE(rx, lo->counters.end());
}

// A source that fails as a whole costs the sweep nothing but the extra
// counters.
TEST(NetlinkNic, CountersWithFailingSource) {
  auto nic =
      NetlinkNic::create([](std::span<const LinkInfo> /*links*/)
                             -> Result<std::map<int, std::vector<Counter>>> {
        return Error(EIO, "broken source");
      });
  ASSERT_TRUE(nic) << nic.error().str();
  auto all = (*nic)->counters();
  ASSERT_TRUE(all) << all.error().str();
  ASSERT_FALSE(all->empty());
  for (const auto &ic : *all)
    for (const Counter &c : ic.counters) EXPECT_EQ(c.group, "link");
}

// In a network namespace of the test's own (and a user namespace when
// not root: ctest runs each test in its own process) there is only lo,
// and nothing changes unless the test changes it. The monitor reports
// nothing then, without blocking; bringing lo up is reported.
TEST(EventMonitor, QuietUntilALinkChanges) {
  if (::unshare(CLONE_NEWNET) != 0) {
    ASSERT_EQ(::unshare(CLONE_NEWUSER | CLONE_NEWNET), 0)
        << "no network namespace of our own: "
        << std::system_category().message(errno);
  }
  auto mon = EventMonitor::open();
  ASSERT_TRUE(mon) << mon.error().str();
  ASSERT_GE((*mon)->fd(), 0);
  pollfd pfd{.fd = (*mon)->fd(), .events = POLLIN, .revents = 0};
  EXPECT_EQ(poll(&pfd, 1, 200), 0);
  auto start = std::chrono::steady_clock::now();
  auto ev = (*mon)->read();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(1));
  ASSERT_TRUE(ev) << ev.error().str();
  EXPECT_TRUE(ev->empty()) << ev->size() << " events with nothing changed";

  // The positive control: lo goes up
  Fd sock(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  ASSERT_GE(sock.get(), 0);
  ifreq ifr{};
  std::strncpy(ifr.ifr_name, "lo", IFNAMSIZ - 1);
  ASSERT_EQ(::ioctl(sock.get(), SIOCGIFFLAGS, &ifr), 0);
  ifr.ifr_flags = static_cast<short>(ifr.ifr_flags | IFF_UP);
  ASSERT_EQ(::ioctl(sock.get(), SIOCSIFFLAGS, &ifr), 0);
  pfd.revents = 0;
  ASSERT_EQ(poll(&pfd, 1, 1000), 1) << "no notification of lo going up";
  ev = (*mon)->read();
  ASSERT_TRUE(ev) << ev.error().str();
  EXPECT_TRUE(std::any_of(ev->begin(), ev->end(),
                          [](const LinkEvent &e) {
                            return e.kind == LinkEvent::Kind::kChanged &&
                                   e.name == "lo";
                          }))
      << ev->size() << " events, none for lo";
}

TEST(EventMonitor, KindNames) {
  EXPECT_STREQ(to_string(LinkEvent::Kind::kNew), "new");
  EXPECT_STREQ(to_string(LinkEvent::Kind::kResync), "resync");
}

}  // namespace
}  // namespace keel
