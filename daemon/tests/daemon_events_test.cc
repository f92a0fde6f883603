// SPDX-License-Identifier: GPL-2.0
//
// keeld's loop with profiles, notifications, the archive and the metrics
// text, against FakeNic and an in-memory event source: a new interface
// gets its profile, an ethtool notification finds drift, apply and diff
// answer per setting, history and metrics read what the sweeps stored.
#include <sys/eventfd.h>

#include <atomic>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>
#include <thread>
#include <unistd.h>

#include <gtest/gtest.h>

#include "daemon_harness.h"
#include "fake_nic.h"
#include "keel/control.h"
#include "keel/daemon.h"

namespace keel {
namespace {

using nlohmann::json;

// Events pushed by the test; fd() is readable while some are queued.
class FakeEvents final : public EventSource {
 public:
  FakeEvents() : fd_(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {}
  [[nodiscard]] int fd() const override { return fd_.get(); }
  Result<std::vector<LinkEvent>> read() override {
    uint64_t n = 0;
    (void)!::read(fd_.get(), &n, sizeof(n));
    std::vector<LinkEvent> out(queue_.begin(), queue_.end());
    queue_.clear();
    return out;
  }
  void push(LinkEvent::Kind kind, int ifindex, std::string name) {
    queue_.push_back(LinkEvent{kind, ifindex, std::move(name)});
    const uint64_t one = 1;
    (void)!::write(fd_.get(), &one, sizeof(one));
  }

 private:
  Fd fd_;
  std::deque<LinkEvent> queue_;
};

LinkInfo keel_link(int ifindex, std::string name) {
  LinkInfo l;
  l.ifindex = ifindex;
  l.name = std::move(name);
  l.driver = "keel";
  l.mtu = 1500;
  l.admin_up = true;
  l.oper_state = "up";
  return l;
}

NicSettings settings() {
  NicSettings s;
  s.rings = Rings{.rx = 256, .tx = 256, .rx_max = 4096, .tx_max = 4096};
  return s;
}

class DaemonEventsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(tmp_.path().empty());
    dir_ = tmp_.path();
    std::filesystem::create_directory(dir_ + "/profiles");
    std::ofstream(dir_ + "/profiles/keel.toml") << R"([[profile]]
name = "keel-test"
[profile.match]
driver = "keel"
[profile.link]
mtu = 4000
[profile.rings]
rx = 512
)";
    auto nic = std::make_unique<FakeNic>();
    nic->add(keel_link(2, "eth0"), settings());
    nic_ = nic.get();
    auto events = std::make_unique<FakeEvents>();
    events_ = events.get();
    DaemonConfig cfg;
    cfg.socket = dir_ + "/keeld.sock";
    cfg.interval = std::chrono::milliseconds(20);
    cfg.profiles = dir_ + "/profiles";
    cfg.drift_check = std::chrono::milliseconds(3600 * 1000);
    ArchiveConfig archive;
    archive.path = dir_ + "/archive.db";
    cfg.archive = archive;
    auto d = Daemon::create(cfg, std::move(nic), std::move(events));
    ASSERT_TRUE(d) << d.error().str();
    daemon_ = std::move(*d);
  }
  void TearDown() override { daemon_.reset(); }

  Result<json> call(const std::string &cmd, const json &args) {
    return call_stepping(*daemon_, dir_ + "/keeld.sock", cmd, args);
  }

  TempDir tmp_{"keeld-ev"};
  std::string dir_;
  FakeNic *nic_ = nullptr;        // owned by daemon_
  FakeEvents *events_ = nullptr;  // owned by daemon_
  std::unique_ptr<Daemon> daemon_;
};

TEST_F(DaemonEventsTest, ProfileAppliedAtStart) {
  EXPECT_EQ(nic_->state(2).mtu, 4000U);
  EXPECT_EQ(nic_->state(2).rings->rx, 512U);
  auto r = call("status", json::object());
  ASSERT_TRUE(r) << r.error().str();
  EXPECT_EQ((*r)["interfaces"][0]["rules"][0], "keel-test");
  EXPECT_EQ((*r)["profile"]["rules"], 1);
  EXPECT_TRUE((*r)["profile"]["error"].is_null());
}

TEST_F(DaemonEventsTest, NewInterfaceGetsItsProfile) {
  nic_->add(keel_link(7, "eth7"), settings());
  events_->push(LinkEvent::Kind::kNew, 7, "eth7");
  daemon_->step(100);
  EXPECT_EQ(nic_->state(7).mtu, 4000U);
  ASSERT_NE(daemon_->manager().managed(7), nullptr);
}

TEST_F(DaemonEventsTest, EthtoolNotificationFindsDrift) {
  nic_->update(2, [](FakeNic::Iface &i) { i.settings.rings->rx = 1024; });
  events_->push(LinkEvent::Kind::kEthtool, 2, "eth0");
  daemon_->step(100);
  // correct_drift is off: reported, left alone
  const Managed *m = daemon_->manager().managed(2);
  ASSERT_NE(m, nullptr);
  ASSERT_EQ(m->drift.size(), 1U);
  EXPECT_EQ(m->drift[0].setting, "rings.rx");
  EXPECT_EQ(nic_->state(2).rings->rx, 1024U);
  auto r = call("status", json::object());
  ASSERT_TRUE(r);
  EXPECT_EQ((*r)["interfaces"][0]["drift"], 1);
}

// Issue 11: events already read are not lost when listing the links
// fails (a dump the kernel kept interrupting): they stay pending, and a
// later loop turn gives the new interface its profile.
TEST_F(DaemonEventsTest, NewInterfaceGetsItsProfileAfterAFailedListing) {
  // The first sweep and drift check, both due at once, are done.
  for (int i = 0; i < 100 && daemon_->stats().sweeps < 2; i++)
    daemon_->step(20);
  const int listed = nic_->calls(FakeNic::Op::kLinks);
  nic_->add(keel_link(7, "eth7"), settings());
  nic_->fail(FakeNic::Op::kLinks, EAGAIN, "dump interrupted 5 times in a row",
             1);
  events_->push(LinkEvent::Kind::kNew, 7, "eth7");
  for (int i = 0; i < 50 && daemon_->manager().managed(7) == nullptr; i++)
    daemon_->step(20);
  ASSERT_NE(daemon_->manager().managed(7), nullptr);
  EXPECT_EQ(nic_->state(7).mtu, 4000U);
  EXPECT_EQ(nic_->state(7).rings->rx, 512U);
  EXPECT_GE(nic_->calls(FakeNic::Op::kLinks), listed + 2);
  EXPECT_EQ(daemon_->stats().events, 1U);
}

// The same for a resync (the kernel dropped notifications): every
// interface is checked once the links can be listed again.
TEST_F(DaemonEventsTest, ResyncSurvivesAFailedListing) {
  for (int i = 0; i < 100 && daemon_->stats().sweeps < 2; i++)
    daemon_->step(20);
  nic_->add(keel_link(8, "eth8"), settings());
  nic_->fail(FakeNic::Op::kLinks, EAGAIN, "dump interrupted 5 times in a row",
             1);
  events_->push(LinkEvent::Kind::kResync, 0, "");
  for (int i = 0; i < 50 && daemon_->manager().managed(8) == nullptr; i++)
    daemon_->step(20);
  ASSERT_NE(daemon_->manager().managed(8), nullptr);
  EXPECT_EQ(nic_->state(8).mtu, 4000U);
  EXPECT_EQ(daemon_->stats().event_resyncs, 1U);
}

// SIGHUP's reload whose apply cannot list the links is not dropped: the
// new profiles reach every interface at the next sweep tick.
TEST_F(DaemonEventsTest, ReloadAppliesOnceTheLinksCanBeListed) {
  for (int i = 0; i < 100 && daemon_->stats().sweeps < 2; i++)
    daemon_->step(20);
  // No event names it: only the reload's apply brings eth9 its profile.
  nic_->add(keel_link(9, "eth9"), settings());
  nic_->fail(FakeNic::Op::kLinks, EAGAIN, "dump interrupted 5 times in a row",
             1);
  auto res = daemon_->reload();
  ASSERT_FALSE(res);
  EXPECT_EQ(res.error().errnum(), EAGAIN) << res.error().str();
  for (int i = 0; i < 100 && daemon_->manager().managed(9) == nullptr; i++)
    daemon_->step(20);
  ASSERT_NE(daemon_->manager().managed(9), nullptr)
      << "the reloaded profiles were never applied";
  EXPECT_EQ(nic_->state(9).mtu, 4000U);
}

// The profile text a client sends with apply or diff.
json files(const std::string &name, const std::string &text) {
  return json{{"files", json::array({json{{"name", name}, {"text", text}}})}};
}

constexpr const char *kRx2048 = R"([[profile]]
name = "rx-2048"
[profile.match]
name = "eth0"
[profile.rings]
rx = 2048
)";

TEST_F(DaemonEventsTest, ApplyAndDiffAnswerPerSetting) {
  nic_->update(2, [](FakeNic::Iface &i) { i.settings.rings->rx = 1024; });
  auto d = call("diff", files("keel.toml", kRx2048));
  ASSERT_TRUE(d) << d.error().str();
  EXPECT_EQ((*d)["interfaces"][0]["rules"][0], "rx-2048");
  EXPECT_EQ((*d)["interfaces"][0]["differences"][0]["setting"], "rings.rx");
  EXPECT_EQ((*d)["interfaces"][0]["differences"][0]["desired"], "2048");
  auto a = call("apply", json::object());
  ASSERT_TRUE(a) << a.error().str();
  EXPECT_TRUE((*a)["ok"].get<bool>());
  EXPECT_EQ(nic_->state(2).rings->rx, 512U);
  // a refused setting: ok false, the kernel's text in the report
  nic_->update(2, [](FakeNic::Iface &i) { i.settings.rings->rx = 1024; });
  nic_->fail(FakeNic::Op::kRings, EINVAL, "ring size too large");
  auto f = call("apply", json::object());
  ASSERT_TRUE(f);
  EXPECT_FALSE((*f)["ok"].get<bool>());
  bool found = false;
  for (const json &s : (*f)["interfaces"][0]["results"])
    if (s["setting"] == "rings.rx") {
      EXPECT_EQ(s["outcome"], "failed");
      EXPECT_NE(s["message"].get<std::string>().find("ring size too large"),
                std::string::npos);
      found = true;
    }
  EXPECT_TRUE(found);
  // a malformed text: refused with its place, keeld's own stay
  auto bad = call("apply", files("bad.toml", "[[profile]]\nname = 3\n"));
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message().find("bad.toml:2:"), std::string::npos)
      << bad.error().message();
  EXPECT_EQ(daemon_->manager().profiles().size(), 1U);
}

// A profile text sent once: applied where it matches, keeld's own stay
// in force; several files are one set, as a directory is.
TEST_F(DaemonEventsTest, ApplySentTextOnce) {
  json args = files("10-rx.toml", kRx2048);
  args["files"].push_back(
      {{"name", "20-none.toml"},
       {"text", "[[profile]]\nname = \"none\"\nmatch.name = \"x*\"\n"}});
  auto a = call("apply", args);
  ASSERT_TRUE(a) << a.error().str();
  EXPECT_TRUE((*a)["ok"].get<bool>());
  EXPECT_EQ((*a)["interfaces"][0]["rules"][0], "rx-2048");
  ASSERT_EQ((*a)["warnings"].size(), 1U);
  EXPECT_EQ((*a)["warnings"][0],
            "profile none (20-none.toml:1) matches no interface");
  EXPECT_EQ(nic_->state(2).rings->rx, 2048U);
  ASSERT_EQ(daemon_->manager().profiles().size(), 1U);
  EXPECT_EQ(daemon_->manager().profiles()[0].name, "keel-test");

  // one name in two files, as in a directory
  args["files"][1]["text"] = kRx2048;
  auto twice = call("diff", args);
  ASSERT_FALSE(twice);
  EXPECT_NE(twice.error().message().find("is already defined at 10-rx.toml"),
            std::string::npos)
      << twice.error().message();
}

// Issue 11: keeld never opens a path a client names (it would open it as
// root: a FIFO hung the loop, /dev/zero was read without end, parse
// errors showed pieces of root's files).
TEST_F(DaemonEventsTest, ApplyAndDiffRefuseAPath) {
  const std::string own = dir_ + "/profiles/keel.toml";
  for (const char *cmd : {"apply", "diff"}) {
    auto r = call(cmd, json{{"path", own}});
    ASSERT_FALSE(r) << cmd;
    EXPECT_EQ(r.error().errnum(), EINVAL) << cmd;
    EXPECT_NE(r.error().message().find("keeld opens no file a client names"),
              std::string::npos)
        << r.error().message();
  }
  auto empty = call("diff", json::object());
  ASSERT_FALSE(empty);
  EXPECT_EQ(empty.error().errnum(), EINVAL);
  auto typed = call("diff", json{{"files", json::array({json{{"name", 1}}})}});
  ASSERT_FALSE(typed);
  EXPECT_EQ(typed.error().errnum(), EINVAL);
}

TEST_F(DaemonEventsTest, HistoryAndMetricsFromTheSweeps) {
  nic_->set_counters(2, {Counter{"link", "rx_packets", "", 5}});
  for (int i = 0; i < 100 && daemon_->stats().sweeps < 3; i++)
    daemon_->step(20);
  auto h = call("history", json{{"ifname", "eth0"},
                                {"counter", "link.rx_packets"},
                                {"since_ms", 0}});
  ASSERT_TRUE(h) << h.error().str();
  EXPECT_GE((*h)["points"].size(), 2U);
  EXPECT_EQ((*h)["points"][0][1], 5);
  auto m = call("metrics", json::object());
  ASSERT_TRUE(m) << m.error().str();
  const auto text = m->get<std::string>();
  EXPECT_NE(text.find("node_network_receive_packets_total{device=\"eth0\"} 5"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("keel_keeld_sweeps_total"), std::string::npos);
  auto e = call("export", json{{"format", "csv"}, {"ifname", "eth0"}});
  ASSERT_TRUE(e) << e.error().str();
  EXPECT_EQ(e->get<std::string>().rfind("ts_ms,iface,key,value", 0), 0U);
}

// Issue 11, found by control_fuzz: times are JSON integers of int64_t.
// A float was converted with static_cast (undefined beyond int64_t's
// range), and until_ms near INT64_MIN made the default since_ms (an
// hour before) overflow.
TEST_F(DaemonEventsTest, HistoryAndExportTakeIntegerTimesOnly) {
  nic_->set_counters(2, {Counter{"link", "rx_packets", "", 5}});
  for (int i = 0; i < 100 && daemon_->stats().sweeps < 1; i++)
    daemon_->step(20);
  const json series{{"ifname", "eth0"}, {"counter", "link.rx_packets"}};
  auto earliest = series;
  earliest["until_ms"] = std::numeric_limits<int64_t>::min();
  auto h = call("history", earliest);
  ASSERT_TRUE(h) << h.error().str();
  EXPECT_TRUE((*h)["points"].empty());

  for (const json &bad : {json(1.5), json(1e300), json("0"),
                          json(std::numeric_limits<uint64_t>::max())}) {
    for (const char *arg : {"since_ms", "until_ms"}) {
      auto args = series;
      args[arg] = bad;
      auto r = call("history", args);
      ASSERT_FALSE(r) << arg << " " << bad.dump();
      EXPECT_EQ(r.error().errnum(), EINVAL) << arg << " " << bad.dump();
      auto e = call("export", json{{"format", "csv"}, {arg, bad}});
      ASSERT_FALSE(e) << arg << " " << bad.dump();
      EXPECT_EQ(e.error().errnum(), EINVAL) << arg << " " << bad.dump();
    }
  }
}

}  // namespace
}  // namespace keel
