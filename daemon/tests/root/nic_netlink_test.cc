// SPDX-License-Identifier: GPL-2.0
//
// NetlinkNic and EventMonitor against real veth pairs. Needs root: the
// test moves itself into a fresh network namespace (unshare(CLONE_NEWNET))
// before any test runs, so it changes nothing on the host, and creates its
// veth pairs there with ip(8). Registered with ctest only when
// KEEL_ROOT_TESTS=ON; run without root it fails at once, saying why.
#include "keel/nic_netlink.h"

#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <map>
#include <poll.h>
#include <sched.h>
#include <span>
#include <string>
#include <unistd.h>
#include <vector>

#include <gtest/gtest.h>

#include "keel/ethtool_ioctl.h"
#include "keel/events.h"
#include "keel/fd.h"

namespace keel {
namespace {

using Clock = std::chrono::steady_clock;

int sh(const std::string &cmd) {
  // The tests run on one thread.
  const int rc = std::system(  // NOLINT(concurrency-mt-unsafe)
      (cmd + " >/dev/null 2>&1").c_str());
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

const LinkInfo *find(const std::vector<LinkInfo> &links,
                     const std::string &name) {
  auto it = std::find_if(links.begin(), links.end(),
                         [&](const LinkInfo &l) { return l.name == name; });
  return it == links.end() ? nullptr : &*it;
}

uint64_t counter(const std::vector<IfaceCounters> &all,
                 const std::string &ifname, const std::string &name) {
  for (const auto &ic : all) {
    if (ic.link.name != ifname) continue;
    for (const auto &c : ic.counters)
      if (c.group == "link" && c.name == name) return c.value;
  }
  ADD_FAILURE() << "no link counter " << name << " on " << ifname;
  return 0;
}

// Broadcast frames of a local experimental ethertype, sent raw on ifname.
void send_frames(const std::string &ifname, int count) {
  Fd fd(::socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0));
  ASSERT_TRUE(fd.valid()) << Error::from_errno("packet socket").str();
  sockaddr_ll addr{};
  addr.sll_family = AF_PACKET;
  addr.sll_ifindex = ifindex_of(ifname);
  addr.sll_halen = ETH_ALEN;
  std::array<uint8_t, 60> frame{};
  std::fill_n(frame.begin(), 6, 0xff);  // dst: broadcast
  frame[6] = 0x02;                      // src: local admin
  frame[12] = 0x88;                     // ethertype 0x88b5
  frame[13] = 0xb5;
  for (int i = 0; i < count; ++i) {
    ASSERT_EQ(::sendto(fd.get(), frame.data(), frame.size(), 0,
                       reinterpret_cast<const sockaddr *>(&addr), sizeof(addr)),
              static_cast<ssize_t>(frame.size()))
        << Error::from_errno("send").str();
  }
}

class Veth : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(sh("ip link add kta type veth peer name ktb"), 0);
    a_ = ifindex_of("kta");
    b_ = ifindex_of("ktb");
    ASSERT_GT(a_, 0);
    ASSERT_GT(b_, 0);
    auto nic = NetlinkNic::create();
    ASSERT_TRUE(nic) << nic.error().str();
    nic_ = std::move(*nic);
  }
  void TearDown() override {
    sh("ip link del kta");
    sh("ip link del ktc");
    sh("ip link del kte");
    sh("ip link del ktbr");
  }

  std::unique_ptr<NetlinkNic> nic_;
  int a_ = 0;
  int b_ = 0;
};

TEST_F(Veth, LinksSeeBothEnds) {
  auto links = nic_->links();
  ASSERT_TRUE(links) << links.error().str();
  const LinkInfo *a = find(*links, "kta");
  const LinkInfo *b = find(*links, "ktb");
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(a->ifindex, a_);
  EXPECT_EQ(a->driver, "veth");
  EXPECT_EQ(b->driver, "veth");
  EXPECT_EQ(a->bus_info, "");
  EXPECT_EQ(a->mtu, 1500U);
  EXPECT_FALSE(a->admin_up);
  EXPECT_EQ(a->oper_state, "down");
  ASSERT_EQ(a->mac.size(), 17U) << a->mac;
  EXPECT_EQ(a->mac, [&] {
    std::string m = a->mac;
    std::transform(m.begin(), m.end(), m.begin(),
                   [](unsigned char c) { return std::tolower(c); });
    return m;
  }());
  const LinkInfo *lo = find(*links, "lo");
  ASSERT_NE(lo, nullptr);
  EXPECT_EQ(lo->driver, "");
}

// Driver info is cached by ifindex (ETHTOOL_GDRVINFO once per new
// ifindex or name): a new interface under an old name, and a renamed
// one, still get their own driver's.
TEST_F(Veth, DriverInfoFollowsTheIfindex) {
  auto links = nic_->links();
  ASSERT_TRUE(links) << links.error().str();
  ASSERT_NE(find(*links, "kta"), nullptr);
  EXPECT_EQ(find(*links, "kta")->driver, "veth");

  ASSERT_EQ(sh("ip link del kta"), 0);
  ASSERT_EQ(sh("ip link add kta type bridge"), 0);
  links = nic_->links();
  ASSERT_TRUE(links) << links.error().str();
  const LinkInfo *a = find(*links, "kta");
  ASSERT_NE(a, nullptr);
  EXPECT_NE(a->ifindex, a_);
  EXPECT_EQ(a->driver, "bridge");

  ASSERT_EQ(sh("ip link set kta name ktc"), 0);
  links = nic_->links();
  ASSERT_TRUE(links) << links.error().str();
  EXPECT_EQ(find(*links, "kta"), nullptr);
  const LinkInfo *c = find(*links, "ktc");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->driver, "bridge");
  // The sweep's listing agrees.
  auto all = nic_->counters();
  ASSERT_TRUE(all) << all.error().str();
  for (const auto &ic : *all) {
    if (ic.link.name == "ktc") {
      EXPECT_EQ(ic.link.driver, "bridge");
    }
  }
}

TEST_F(Veth, SettingsReadSupportedGroups) {
  auto s = nic_->settings(a_);
  ASSERT_TRUE(s) << s.error().str();
  EXPECT_EQ(s->mtu, 1500U);
  EXPECT_FALSE(s->admin_up);
  ASSERT_TRUE(s->features.has_value());
  ASSERT_TRUE(s->features->contains("rx-gro"));
  EXPECT_FALSE(s->features->at("rx-gro").fixed);
  ASSERT_TRUE(s->features->contains("rx-lro"));
  EXPECT_TRUE(s->features->at("rx-lro").fixed);  // veth cannot do LRO
  ASSERT_TRUE(s->channels.has_value());
  EXPECT_GE(s->channels->rx_max, 1U);
  EXPECT_EQ(s->channels->rx, 1U);
  EXPECT_EQ(s->channels->tx, 1U);
  // veth has no rings, coalescing or private flags.
  EXPECT_FALSE(s->rings.has_value());
  EXPECT_FALSE(s->coalesce.has_value());
  EXPECT_FALSE(s->priv_flags.has_value());
}

TEST_F(Veth, GoneLinkIsEnodev) {
  ASSERT_EQ(sh("ip link del kta"), 0);
  auto s = nic_->settings(a_);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().errnum(), ENODEV) << s.error().str();
}

TEST_F(Veth, SetMtuAndAdminState) {
  ASSERT_TRUE(nic_->set_mtu(a_, 9000));
  ASSERT_TRUE(nic_->set_admin_up(a_, true));
  auto s = nic_->settings(a_);
  ASSERT_TRUE(s) << s.error().str();
  EXPECT_EQ(s->mtu, 9000U);
  EXPECT_TRUE(s->admin_up);
  ASSERT_TRUE(nic_->set_admin_up(a_, false));
  s = nic_->settings(a_);
  ASSERT_TRUE(s);
  EXPECT_FALSE(s->admin_up);
}

TEST_F(Veth, MtuTooBigCarriesExtack) {
  auto r = nic_->set_mtu(a_, 70000);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().errnum(), EINVAL);
  // "set mtu on kta: mtu greater than device maximum"
  EXPECT_NE(r.error().message().find("set mtu on kta: "), std::string::npos)
      << r.error().str();
  EXPECT_NE(r.error().message().find("maximum"), std::string::npos)
      << r.error().str();
}

TEST_F(Veth, SetFeatures) {
  auto before = nic_->settings(a_);
  ASSERT_TRUE(before && before->features);
  const bool gro = before->features->at("rx-gro").active;
  ASSERT_TRUE(nic_->set_features(a_, {{"rx-gro", !gro}}));
  auto after = nic_->settings(a_);
  ASSERT_TRUE(after && after->features);
  EXPECT_EQ(after->features->at("rx-gro").active, !gro);
  ASSERT_TRUE(nic_->set_features(a_, {{"rx-gro", gro}}));

  auto bad = nic_->set_features(a_, {{"no-such-feature", true}});
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().errnum(), EINVAL);
  EXPECT_NE(bad.error().message().find("no-such-feature"), std::string::npos);
}

TEST_F(Veth, SetChannels) {
  auto s = nic_->settings(a_);
  ASSERT_TRUE(s && s->channels);
  const uint32_t max = s->channels->rx_max;
  ASSERT_TRUE(nic_->set_channels(a_, {.rx = max,
                                      .tx = std::nullopt,
                                      .other = std::nullopt,
                                      .combined = std::nullopt}));
  s = nic_->settings(a_);
  ASSERT_TRUE(s && s->channels);
  EXPECT_EQ(s->channels->rx, max);

  auto r = nic_->set_channels(a_, {.rx = max + 100,
                                   .tx = std::nullopt,
                                   .other = std::nullopt,
                                   .combined = std::nullopt});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().errnum(), EINVAL);
  // "set channels on kta: requested channel count exceeds maximum"
  EXPECT_NE(r.error().message().find("set channels on kta: "),
            std::string::npos)
      << r.error().str();
  EXPECT_NE(r.error().message().find("exceeds maximum"), std::string::npos)
      << r.error().str();
}

TEST_F(Veth, UnsupportedGroupsRefuse) {
  auto rings = nic_->set_rings(a_, {.rx = 256, .tx = std::nullopt});
  ASSERT_FALSE(rings);
  EXPECT_EQ(rings.error().errnum(), EOPNOTSUPP) << rings.error().str();

  auto unknown = nic_->set_coalesce(a_, {{"rx-usec", 10}});
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().errnum(), EINVAL);
  EXPECT_NE(unknown.error().message().find("rx-usec"), std::string::npos);

  auto coalesce = nic_->set_coalesce(a_, {{"rx-usecs", 10}});
  ASSERT_FALSE(coalesce);
  EXPECT_EQ(coalesce.error().errnum(), EOPNOTSUPP) << coalesce.error().str();

  auto rss = nic_->set_rss(
      a_, {.key = std::nullopt, .indir = std::vector<uint32_t>{0, 0}});
  ASSERT_FALSE(rss);
  EXPECT_NE(rss.error().message().find("kta"), std::string::npos)
      << rss.error().str();
}

TEST_F(Veth, LinkCountersGrowWithTraffic) {
  ASSERT_TRUE(nic_->set_admin_up(a_, true));
  ASSERT_TRUE(nic_->set_admin_up(b_, true));
  // Until linkwatch sees the carrier, the noop qdisc drops what is sent.
  const auto end = Clock::now() + std::chrono::seconds(5);
  for (;;) {
    auto links = nic_->links();
    ASSERT_TRUE(links) << links.error().str();
    const LinkInfo *a = find(*links, "kta");
    const LinkInfo *b = find(*links, "ktb");
    ASSERT_TRUE(a != nullptr && b != nullptr);
    if (a->oper_state == "up" && b->oper_state == "up") break;
    ASSERT_LT(Clock::now(), end) << "veth pair not up";
    ::usleep(20000);
  }
  int calls = 0;
  auto nic =
      NetlinkNic::create([&calls](std::span<const LinkInfo> links)
                             -> Result<std::map<int, std::vector<Counter>>> {
        ++calls;
        // kta has no extra counters.
        std::map<int, std::vector<Counter>> out;
        for (const LinkInfo &l : links)
          if (l.name != "kta")
            out[l.ifindex] = {
                {.group = "driver", .name = "probe", .queue = "", .value = 7}};
        return out;
      });
  ASSERT_TRUE(nic) << nic.error().str();
  auto before = (*nic)->counters();
  ASSERT_TRUE(before) << before.error().str();
  send_frames("kta", 10);
  auto after = (*nic)->counters();
  ASSERT_TRUE(after) << after.error().str();

  EXPECT_GE(counter(*after, "ktb", "rx_packets"),
            counter(*before, "ktb", "rx_packets") + 10);
  EXPECT_GE(counter(*after, "kta", "tx_packets"),
            counter(*before, "kta", "tx_packets") + 10);
  EXPECT_GE(counter(*after, "ktb", "rx_bytes"),
            counter(*before, "ktb", "rx_bytes") + 600);
  EXPECT_GT(calls, 0);
  for (const auto &ic : *after) {
    const bool probe =
        std::any_of(ic.counters.begin(), ic.counters.end(),
                    [](const Counter &c) { return c.group == "driver"; });
    // The source failed for kta alone; kta keeps its link counters.
    EXPECT_EQ(probe, ic.link.name != "kta") << ic.link.name;
    EXPECT_EQ(ic.link.driver, ic.link.name == "lo" ? "" : "veth");
  }
}

// Read events until want() holds for one of them or timeout passes.
std::vector<LinkEvent> wait_for(
    EventMonitor &mon, const std::function<bool(const LinkEvent &)> &want,
    std::chrono::milliseconds timeout = std::chrono::milliseconds(1000)) {
  std::vector<LinkEvent> seen;
  const auto end = Clock::now() + timeout;
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        end - Clock::now());
    if (left.count() <= 0) break;
    pollfd pfd{.fd = mon.fd(), .events = POLLIN, .revents = 0};
    if (::poll(&pfd, 1, static_cast<int>(left.count())) <= 0) break;
    auto ev = mon.read();
    EXPECT_TRUE(ev) << ev.error().str();
    if (!ev) break;
    for (const auto &e : *ev) {
      seen.push_back(e);
      if (want(e)) return seen;
    }
  }
  ADD_FAILURE() << "event not seen within " << timeout.count() << " ms ("
                << seen.size() << " others)";
  return seen;
}

TEST_F(Veth, EventsWithinASecond) {
  auto mon = EventMonitor::open();
  ASSERT_TRUE(mon) << mon.error().str();
  using Kind = LinkEvent::Kind;

  ASSERT_EQ(sh("ip link add ktc type veth peer name ktd"), 0);
  const int c = ifindex_of("ktc");
  wait_for(**mon, [&](const LinkEvent &e) {
    return e.kind == Kind::kNew && e.ifindex == c && e.name == "ktc";
  });

  ASSERT_EQ(sh("ip link set ktc name kte"), 0);
  wait_for(**mon, [&](const LinkEvent &e) {
    return e.kind == Kind::kChanged && e.ifindex == c && e.name == "kte";
  });

  ASSERT_TRUE(nic_->set_admin_up(c, true));
  wait_for(**mon, [&](const LinkEvent &e) {
    return e.kind == Kind::kChanged && e.ifindex == c;
  });
  ASSERT_EQ(sh("ip link set kte down"), 0);
  wait_for(**mon, [&](const LinkEvent &e) {
    return e.kind == Kind::kChanged && e.ifindex == c;
  });

  auto s = nic_->settings(c);
  ASSERT_TRUE(s && s->features);
  ASSERT_TRUE(
      nic_->set_features(c, {{"rx-gro", !s->features->at("rx-gro").active}}));
  wait_for(**mon, [&](const LinkEvent &e) {
    return e.kind == Kind::kEthtool && e.ifindex == c && e.name == "kte";
  });

  ASSERT_EQ(sh("ip link del kte"), 0);
  wait_for(**mon, [&](const LinkEvent &e) {
    return e.kind == Kind::kRemoved && e.ifindex == c && e.name == "kte";
  });
}

TEST_F(Veth, BridgePortLeavingIsNoRemoval) {
  ASSERT_EQ(sh("ip link add ktbr type bridge"), 0);
  ASSERT_EQ(sh("ip link set ktb master ktbr"), 0);
  auto mon = EventMonitor::open();
  ASSERT_TRUE(mon) << mon.error().str();
  // The bridge sends AF_BRIDGE RTM_DELLINK for the port; the link stays.
  ASSERT_EQ(sh("ip link set ktb nomaster"), 0);
  ASSERT_EQ(sh("ip link del ktbr"), 0);
  auto seen = wait_for(**mon, [&](const LinkEvent &e) {
    return e.kind == LinkEvent::Kind::kRemoved && e.name == "ktbr";
  });
  for (const auto &e : seen) {
    EXPECT_FALSE(e.kind == LinkEvent::Kind::kRemoved && e.ifindex == b_)
        << "ktb reported removed";
  }
}

TEST_F(Veth, OverrunAsksForResync) {
  // A tiny receive buffer overflows after a few link notifications.
  auto mon = EventMonitor::open(1);
  ASSERT_TRUE(mon) << mon.error().str();
  for (int i = 0; i < 8; ++i) {
    ASSERT_EQ(sh("ip link set kta mtu " + std::to_string(1400 + i)), 0);
  }
  auto ev = (*mon)->read();
  ASSERT_TRUE(ev) << ev.error().str();
  ASSERT_EQ(ev->size(), 1U);
  EXPECT_EQ(ev->front().kind, LinkEvent::Kind::kResync);
  // Afterwards the monitor works as before.
  ASSERT_EQ(sh("ip link set kta mtu 1500"), 0);
  wait_for(**mon, [&](const LinkEvent &e) {
    return e.kind == LinkEvent::Kind::kChanged && e.ifindex == a_;
  });
}

}  // namespace
}  // namespace keel

int main(int argc, char **argv) {
  if (::geteuid() != 0) {
    std::fprintf(stderr,
                 "nic_netlink_root_test: needs root (it creates a network "
                 "namespace and veth pairs); run it as root or configure "
                 "without -DKEEL_ROOT_TESTS=ON\n");
    return 1;
  }
  // A private network namespace: nothing the tests do reaches the host.
  if (::unshare(CLONE_NEWNET) != 0) {
    std::perror("nic_netlink_root_test: unshare(CLONE_NEWNET)");
    return 1;
  }
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
