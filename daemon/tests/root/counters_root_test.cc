// SPDX-License-Identifier: GPL-2.0
//
// CounterReader against real veth pairs. Needs root: the test moves
// itself into a fresh network namespace (unshare(CLONE_NEWNET)), so the
// host's interfaces are never touched, and drives ip(8) and ethtool(8)
// there. Registered with ctest only when KEEL_ROOT_TESTS=ON.
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <sched.h>
#include <string>
#include <system_error>
#include <unistd.h>
#include <vector>

#include <gtest/gtest.h>

#include "keel/counters.h"
#include "keel/fd.h"

namespace keel {
namespace {

bool in_own_netns = false;
int unshare_errno = 0;

// Runs cmd in our namespace; true if it exited 0.
bool sh(const std::string &cmd) {
  // The test is single-threaded.
  return std::system(  // NOLINT(concurrency-mt-unsafe)
             (cmd + " >/dev/null 2>&1").c_str()) == 0;
}

LinkInfo link(const std::string &name) {
  LinkInfo info;
  info.name = name;
  info.ifindex = static_cast<int>(if_nametoindex(name.c_str()));
  info.driver = "veth";
  return info;
}

std::optional<uint64_t> find(const std::vector<Counter> &cs,
                             const std::string &group,
                             const std::string &name) {
  for (const Counter &c : cs)
    if (c.group == group && c.name == name) return c.value;
  return std::nullopt;
}

bool has_group(const std::vector<Counter> &cs, const std::string &group) {
  return std::any_of(cs.begin(), cs.end(),
                     [&](const Counter &c) { return c.group == group; });
}

// Sends n Ethernet frames out of `from` addressed to `to`'s MAC.
void send_frames(const std::string &from, const std::string &to, int n) {
  Fd sock(socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0));
  ASSERT_TRUE(sock.valid()) << std::system_category().message(errno);
  Fd ctl(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  ASSERT_TRUE(ctl.valid());
  std::array<uint8_t, ETH_ALEN> dst{};
  {
    ifreq ifr{};
    std::memcpy(ifr.ifr_name, to.data(), to.size());
    ASSERT_EQ(ioctl(ctl.get(), SIOCGIFHWADDR, &ifr), 0);
    std::memcpy(dst.data(), ifr.ifr_hwaddr.sa_data, ETH_ALEN);
  }
  sockaddr_ll addr{};
  addr.sll_family = AF_PACKET;
  addr.sll_protocol = htons(0x88b5);  // IEEE local experimental
  addr.sll_ifindex = static_cast<int>(if_nametoindex(from.c_str()));
  addr.sll_halen = ETH_ALEN;
  std::memcpy(addr.sll_addr, dst.data(), ETH_ALEN);
  std::vector<uint8_t> frame(200, 0);
  std::memcpy(frame.data(), dst.data(), ETH_ALEN);
  frame[12] = 0x88;
  frame[13] = 0xb5;
  for (int i = 0; i < n; ++i) {
    ASSERT_EQ(sendto(sock.get(), frame.data(), frame.size(), 0,
                     reinterpret_cast<const sockaddr *>(&addr), sizeof(addr)),
              static_cast<ssize_t>(frame.size()))
        << std::system_category().message(errno);
  }
}

class CountersRoot : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    in_own_netns = unshare(CLONE_NEWNET) == 0;
    if (!in_own_netns) unshare_errno = errno;
  }

  // Registered only for root runs (KEEL_ROOT_TESTS): a namespace that
  // cannot be made is a failure, never a skip that CTest counts as a
  // pass.
  void SetUp() override {
    ASSERT_TRUE(in_own_netns)
        << "cannot make a network namespace (needs root): "
        << std::system_category().message(unshare_errno);
    ASSERT_TRUE(
        sh("ip link add kc0 numtxqueues 4 numrxqueues 4 type veth "
           "peer name kc1 numtxqueues 4 numrxqueues 4"));
    ASSERT_TRUE(sh("ip link set kc0 up && ip link set kc1 up"));
    auto r = CounterReader::open();
    ASSERT_TRUE(r) << r.error().str();
    reader_ = std::move(*r);
    // What veth lacks is absent; no group of it fails.
    reader_->on_group_error([](const Error &e) { ADD_FAILURE() << e.str(); });
  }

  void TearDown() override {
    if (in_own_netns) sh("ip link del kc0");
  }

  std::vector<Counter> read(const std::string &name) {
    auto got = reader_->read(link(name));
    EXPECT_TRUE(got) << got.error().str();
    return got ? *got : std::vector<Counter>{};
  }

  std::unique_ptr<CounterReader> reader_;
};

TEST_F(CountersRoot, VethDriverCountersAndAbsentGroups) {
  const auto cs = read("kc0");
  EXPECT_EQ(find(cs, "driver", "peer_ifindex"),
            static_cast<uint64_t>(link("kc1").ifindex));
  EXPECT_TRUE(find(cs, "driver", "rx_queue_0_xdp_packets"));
  EXPECT_TRUE(find(cs, "driver", "tx_queue_0_xdp_xmit"));
  // veth has no MAC, pause or rmon statistics.
  EXPECT_FALSE(has_group(cs, "pause"));
  EXPECT_FALSE(has_group(cs, "eth-mac"));
  EXPECT_FALSE(has_group(cs, "eth-phy"));
  EXPECT_FALSE(has_group(cs, "rmon"));
  EXPECT_FALSE(has_group(cs, "link"));
  for (const Counter &c : cs) {
    if (c.group == "driver") {
      EXPECT_TRUE(c.queue.empty()) << c.name;
    }
  }
}

TEST_F(CountersRoot, ValuesGrowWithTraffic) {
  // GRO on the receiver puts veth's receive path on NAPI, which counts
  // per-queue packets (rx_queue_N_xdp_packets) and owns page pools.
  // A sender with TSO only uses NAPI for sockets' GSO packets.
  ASSERT_TRUE(sh("ethtool -K kc1 gro on && ethtool -K kc0 tso off"));
  const auto before = read("kc1");
  send_frames("kc0", "kc1", 50);
  usleep(100 * 1000);
  const auto after = read("kc1");

  uint64_t rx_before = 0;
  uint64_t rx_after = 0;
  for (const Counter &c : before)
    if (c.group == "driver" && c.name.ends_with("_xdp_packets"))
      rx_before += c.value;
  for (const Counter &c : after)
    if (c.group == "driver" && c.name.ends_with("_xdp_packets"))
      rx_after += c.value;
  EXPECT_GE(rx_after, rx_before + 50);

  // Page pools, if this kernel gives veth's NAPI queues any.
  for (const Counter &c : after) {
    if (c.group != "page-pool") continue;
    EXPECT_TRUE(c.queue.starts_with("pool-")) << c.queue;
    EXPECT_FALSE(counters::page_pool_stats_name(0) == c.name);
  }
  if (has_group(after, "page-pool")) {
    EXPECT_TRUE(find(after, "page-pool", "alloc-fast"));
    EXPECT_TRUE(find(after, "page-pool", "recycle-ring"));
  }
  // The peer's pools are not ours.
  const auto sender = read("kc0");
  EXPECT_FALSE(has_group(sender, "page-pool"));
}

TEST_F(CountersRoot, DriverNamesFollowChannelChanges) {
  auto queues = [](const std::vector<Counter> &cs) {
    return std::count_if(cs.begin(), cs.end(), [](const Counter &c) {
      return c.group == "driver" && c.name.starts_with("rx_queue_") &&
             c.name.ends_with("_xdp_packets");
    });
  };
  ASSERT_TRUE(sh("ethtool -L kc0 rx 1 tx 1"));
  EXPECT_EQ(queues(read("kc0")), 1);
  ASSERT_TRUE(sh("ethtool -L kc0 rx 3 tx 3"));
  const auto cs = read("kc0");
  EXPECT_EQ(queues(cs), 3);
  EXPECT_TRUE(find(cs, "driver", "rx_queue_2_xdp_packets"));
}

TEST_F(CountersRoot, VanishedLinkIsAnError) {
  const LinkInfo gone = link("kc1");
  ASSERT_TRUE(reader_->read(gone));
  ASSERT_TRUE(sh("ip link del kc0"));
  auto got = reader_->read(gone);
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().errnum(), ENODEV) << got.error().str();
}

TEST_F(CountersRoot, NameOfAnotherLinkIsAnError) {
  LinkInfo mixed = link("kc0");
  mixed.name = "kc1";
  auto got = reader_->read(mixed);
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().errnum(), ENODEV) << got.error().str();
}

}  // namespace
}  // namespace keel
