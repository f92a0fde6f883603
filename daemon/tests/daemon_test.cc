// SPDX-License-Identifier: GPL-2.0
//
// keeld's loop with an in-memory NicControl: control commands, sweeps and
// the stop signal.
#include "keel/daemon.h"

#include <sys/stat.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <map>
#include <string>
#include <thread>
#include <unistd.h>

#include <gtest/gtest.h>

#include "daemon_harness.h"
#include "in_child.h"
#include "keel/control.h"

namespace keel {
namespace {

using nlohmann::json;

Counter counter(std::string group, std::string queue, std::string name,
                uint64_t value) {
  Counter c;
  c.group = std::move(group);
  c.queue = std::move(queue);
  c.name = std::move(name);
  c.value = value;
  return c;
}

// Two interfaces; counters grow by one per sweep.
class TinyNic : public NicControl {
 public:
  Result<std::vector<LinkInfo>> links() override {
    LinkInfo lo;
    lo.ifindex = 1;
    lo.name = "lo";
    lo.mtu = 65536;
    lo.oper_state = "unknown";
    LinkInfo eth;
    eth.ifindex = 2;
    eth.name = "eth0";
    eth.driver = "keel";
    eth.bus_info = "0000:00:03.0";
    eth.mac = "52:54:00:12:34:56";
    eth.mtu = 1500;
    eth.admin_up = true;
    eth.oper_state = "up";
    return std::vector<LinkInfo>{lo, eth};
  }
  Result<NicSettings> settings(int ifindex) override {
    if (ifindex != 2) return Error(ENODEV, "gone");
    NicSettings s;
    s.mtu = 1500;
    s.admin_up = true;
    s.rings = Rings{.rx = 256, .tx = 256, .rx_max = 4096, .tx_max = 4096};
    return s;
  }
  Result<void> set_mtu(int, unsigned int) override { return {}; }
  Result<void> set_admin_up(int, bool) override { return {}; }
  Result<void> set_features(int, const std::map<std::string, bool> &) override {
    return {};
  }
  Result<void> set_rings(int, const RingsRequest &) override { return {}; }
  Result<void> set_channels(int, const ChannelsRequest &) override {
    return {};
  }
  Result<void> set_coalesce(int, const Coalesce &) override { return {}; }
  Result<void> set_rss(int, const RssRequest &) override { return {}; }
  Result<void> set_priv_flags(int, const PrivFlags &) override { return {}; }
  Result<std::vector<IfaceCounters>> counters() override {
    if (fail) return Error(EIO, "device returned garbage");
    sweeps++;
    auto links = this->links();
    std::vector<IfaceCounters> out;
    for (const LinkInfo &l : *links) {
      IfaceCounters ic;
      ic.link = l;
      ic.counters.push_back(counter("link", "", "rx_packets", sweeps));
      ic.counters.push_back(
          counter("queue", "rx-0", "rx-packets", 10 * sweeps));
      out.push_back(std::move(ic));
    }
    return out;
  }

  std::atomic<uint64_t> sweeps = 0;
  std::atomic<bool> fail = false;
};

class DaemonTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(tmp_.path().empty());
    dir_ = tmp_.path();
    auto nic = std::make_unique<TinyNic>();
    nic_ = nic.get();
    DaemonConfig cfg;
    cfg.socket = dir_ + "/keeld.sock";
    cfg.interval = std::chrono::milliseconds(50);
    auto d = Daemon::create(cfg, std::move(nic));
    ASSERT_TRUE(d) << d.error().str();
    daemon_ = std::move(*d);
  }
  void TearDown() override { daemon_.reset(); }

  Result<json> call(const std::string &cmd, const json &args) {
    return call_stepping(*daemon_, dir_ + "/keeld.sock", cmd, args);
  }

  TempDir tmp_{"keeld"};
  std::string dir_;
  TinyNic *nic_ = nullptr;  // owned by daemon_
  std::unique_ptr<Daemon> daemon_;
};

TEST_F(DaemonTest, StatusListsInterfaces) {
  auto r = call("status", json::object());
  ASSERT_TRUE(r) << r.error().str();
  ASSERT_EQ((*r)["interfaces"].size(), 2U);
  EXPECT_EQ((*r)["interfaces"][1]["name"], "eth0");
  EXPECT_EQ((*r)["interfaces"][1]["driver"], "keel");
  EXPECT_TRUE((*r)["version"].is_string());
}

TEST_F(DaemonTest, ShowReportsSettingsAndUnknownNames) {
  auto r = call("show", json{{"ifname", "eth0"}});
  ASSERT_TRUE(r) << r.error().str();
  EXPECT_EQ((*r)["settings"]["rings"]["rx"], 256);
  EXPECT_TRUE((*r)["settings"]["coalesce"].is_null());

  auto bad = call("show", json{{"ifname", "eth9"}});
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().errnum(), ENODEV);
  auto untyped = call("show", json{{"ifname", 3}});
  ASSERT_FALSE(untyped);
  EXPECT_EQ(untyped.error().errnum(), EINVAL);
}

TEST_F(DaemonTest, SweepsOnTheTimerAndServesCounters) {
  // The first sweep runs at once, then every 50 ms.
  for (int i = 0; i < 100 && daemon_->stats().sweeps < 3; i++)
    daemon_->step(20);
  EXPECT_GE(daemon_->stats().sweeps, 3U);
  auto r = call("stats", json{{"ifname", "eth0"}});
  ASSERT_TRUE(r) << r.error().str();
  ASSERT_EQ((*r)["counters"].size(), 2U);
  EXPECT_EQ((*r)["counters"][0]["key"], "link.rx_packets");
  EXPECT_EQ((*r)["counters"][1]["key"], "queue.rx-0.rx-packets");
  EXPECT_GE((*r)["counters"][0]["value"].get<uint64_t>(), 3U);
}

TEST_F(DaemonTest, FailedSweepIsCountedAndKeepsServing) {
  nic_->fail = true;
  auto res = daemon_->sweep();
  ASSERT_FALSE(res);
  EXPECT_EQ(daemon_->stats().sweep_errors, 1U);
  auto r = call("status", json::object());
  ASSERT_TRUE(r) << r.error().str();
  EXPECT_GE((*r)["sweep_errors"].get<uint64_t>(), 1U);
}

TEST_F(DaemonTest, SigtermStops) {
  ASSERT_EQ(::kill(::getpid(), SIGTERM), 0);
  bool running = true;
  for (int i = 0; i < 50 && running; i++) running = daemon_->step(20);
  EXPECT_FALSE(running);
}

// Issue 11: keeld's own profile path naming a FIFO or a device stops the
// start with a clear error; before, a FIFO hung it and /dev/zero was
// read without end (in a child with a time limit, so neither blocks the
// test).
std::string start_error(const std::string &dir, const std::string &profiles) {
  auto r = in_child(std::chrono::seconds(10), [&]() -> std::string {
    DaemonConfig cfg;
    cfg.socket = dir + "/keeld.sock";
    cfg.profiles = profiles;
    auto d = Daemon::create(cfg, std::make_unique<TinyNic>());
    return d ? "started" : d.error().message();
  });
  return r ? *r : "child: " + r.error().message();
}

TEST(DaemonProfilePath, FifoOrDeviceIsRefused) {
  TempDir tmp("keeld-fifo");
  ASSERT_FALSE(tmp.path().empty());
  const std::string fifo = tmp.file("profiles.toml");
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  EXPECT_EQ(start_error(tmp.path(), fifo),
            "profiles: " + fifo + " is a FIFO, not a regular file");
  EXPECT_EQ(start_error(tmp.path(), "/dev/zero"),
            "profiles: /dev/zero is a character device, not a regular file");
}

// A NicControl whose sweeps block until the test lets them go: a sweep
// that takes as long as a slow kernel or a busy archive makes it.
class BlockingNic final : public TinyNic {
 public:
  Result<std::vector<IfaceCounters>> counters() override {
    entered = true;
    // At most 30 s, so a broken test ends.
    for (int i = 0; i < 3000 && !released; i++)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    return TinyNic::counters();
  }

  std::atomic<bool> entered = false;
  std::atomic<bool> released = false;
};

// Issue 11: sweeps run on the collector's thread; a sweep that blocks
// holds up neither control requests nor the loop.
TEST(DaemonCollector, ASlowSweepHoldsUpNoRequest) {
  TempDir tmp("keeld-collector");
  ASSERT_FALSE(tmp.path().empty());
  auto sweep_nic = std::make_unique<BlockingNic>();
  BlockingNic *blocking = sweep_nic.get();
  DaemonConfig cfg;
  cfg.socket = tmp.path() + "/keeld.sock";
  cfg.interval = std::chrono::milliseconds(50);
  ArchiveConfig archive;
  archive.path = tmp.file("archive.db");
  cfg.archive = archive;
  auto d = Daemon::create(cfg, std::make_unique<TinyNic>(), nullptr,
                          std::move(sweep_nic));
  ASSERT_TRUE(d) << d.error().str();
  Daemon &daemon = **d;

  // The first step starts the collector, whose first sweep blocks.
  for (int i = 0; i < 500 && !blocking->entered; i++) daemon.step(10);
  ASSERT_TRUE(blocking->entered);
  const auto start = std::chrono::steady_clock::now();
  auto status = call_stepping(daemon, cfg.socket, "status", json::object());
  const auto took = std::chrono::steady_clock::now() - start;
  ASSERT_TRUE(status) << status.error().str();
  EXPECT_EQ((*status)["sweeps"], 0U);
  EXPECT_LT(took, std::chrono::seconds(2));
  // No counters yet: the answer says so at once instead of waiting.
  auto stats =
      call_stepping(daemon, cfg.socket, "stats", json{{"ifname", "eth0"}});
  ASSERT_FALSE(stats);
  EXPECT_EQ(stats.error().errnum(), EAGAIN);
  EXPECT_EQ(daemon.sweep().error().errnum(), EBUSY);

  blocking->released = true;
  for (int i = 0; i < 500 && daemon.stats().sweeps < 3; i++) daemon.step(10);
  EXPECT_GE(daemon.stats().sweeps, 3U);
  stats = call_stepping(daemon, cfg.socket, "stats", json{{"ifname", "eth0"}});
  ASSERT_TRUE(stats) << stats.error().str();
  EXPECT_EQ((*stats)["counters"][0]["key"], "link.rx_packets");
  // The loop's read-only connection sees what the collector wrote.
  auto history =
      call_stepping(daemon, cfg.socket, "history",
                    json{{"ifname", "eth0"}, {"counter", "link.rx_packets"}});
  ASSERT_TRUE(history) << history.error().str();
  EXPECT_FALSE((*history)["points"].empty());
}

// Stopping ends the collector's thread after the sweep in flight.
TEST(DaemonCollector, StopEndsTheThread) {
  TempDir tmp("keeld-collector-stop");
  ASSERT_FALSE(tmp.path().empty());
  DaemonConfig cfg;
  cfg.socket = tmp.path() + "/keeld.sock";
  cfg.interval = std::chrono::milliseconds(20);
  auto d = Daemon::create(cfg, std::make_unique<TinyNic>(), nullptr,
                          std::make_unique<TinyNic>());
  ASSERT_TRUE(d) << d.error().str();
  for (int i = 0; i < 500 && (*d)->stats().sweeps < 2; i++) (*d)->step(10);
  EXPECT_GE((*d)->stats().sweeps, 2U);
  d->reset();  // joins the thread; a hang here times the test out
}

}  // namespace
}  // namespace keel
