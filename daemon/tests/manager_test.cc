// SPDX-License-Identifier: GPL-2.0
//
// ProfileManager against FakeNic: loading (and keeping the last good set),
// applying to matching interfaces, appearances and renames, drift
// reported and corrected at most once per period.
#include "keel/manager.h"

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include "fake_nic.h"

namespace keel {
namespace {

using Op = FakeNic::Op;
using std::chrono::milliseconds;

LinkInfo link(int ifindex, std::string name, std::string driver) {
  LinkInfo l;
  l.ifindex = ifindex;
  l.name = std::move(name);
  l.driver = std::move(driver);
  l.mtu = 1500;
  l.admin_up = true;
  l.oper_state = "up";
  return l;
}

NicSettings ringed() {
  NicSettings s;
  s.rings = Rings{.rx = 256, .tx = 256, .rx_max = 4096, .tx_max = 4096};
  s.coalesce = Coalesce{{"rx-usecs", 50}};
  return s;
}

constexpr const char *kProfile = R"([[profile]]
name = "keel-rings"
correct_drift = CORRECT

[profile.match]
driver = "keel"

[profile.link]
mtu = 4000

[profile.rings]
rx = 1000

[profile.coalesce]
rx-usecs = 100
)";

class ManagerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl =
        (std::filesystem::temp_directory_path() / "keel-mgr-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    nic_.add(link(1, "lo", ""), NicSettings{});
    nic_.add(link(2, "eth0", "keel"), ringed());
    nic_.add(link(3, "eth1", "igb"), ringed());
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  void write(const std::string &name, const std::string &text) {
    std::ofstream(dir_ + "/" + name) << text;
  }
  void write_profile(bool correct) {
    std::string text = kProfile;
    text.replace(text.find("CORRECT"), 7, correct ? "true" : "false");
    write("keel.toml", text);
  }

  std::string dir_;
  FakeNic nic_;
};

TEST_F(ManagerTest, MissingPathHoldsNoProfiles) {
  auto p = load_profiles(dir_ + "/nothing-here");
  ASSERT_TRUE(p) << p.error().str();
  EXPECT_TRUE(p->empty());
}

TEST_F(ManagerTest, AppliesToMatchingInterfacesOnly) {
  write_profile(false);
  ProfileManager m(nic_, dir_, milliseconds(1000));
  ASSERT_TRUE(m.load());
  ASSERT_EQ(m.profiles().size(), 1U);
  auto reports = m.apply_all();
  ASSERT_TRUE(reports) << reports.error().str();
  ASSERT_EQ(reports->size(), 1U);
  EXPECT_EQ((*reports)[0].ifname, "eth0");
  EXPECT_TRUE((*reports)[0].ok());
  EXPECT_EQ(nic_.state(2).mtu, 4000U);
  EXPECT_EQ(nic_.state(2).rings->rx, 1000U);
  EXPECT_EQ(nic_.state(3).mtu, 1500U);
  ASSERT_NE(m.managed(2), nullptr);
  EXPECT_EQ(m.managed(2)->profile, "keel-rings");
  EXPECT_EQ(m.managed(3), nullptr);
  EXPECT_EQ(m.stats().applies, 1U);
}

TEST_F(ManagerTest, BadReloadKeepsTheLastGoodProfiles) {
  write_profile(false);
  ProfileManager m(nic_, dir_, milliseconds(1000));
  ASSERT_TRUE(m.load());
  write("zz.toml", "[[profile]]\nname = \"x\"\nmtu = = 1\n");
  auto res = m.load();
  ASSERT_FALSE(res);
  EXPECT_NE(m.error().find("zz.toml:3:"), std::string::npos) << m.error();
  ASSERT_EQ(m.profiles().size(), 1U);
  EXPECT_EQ(m.profiles()[0].name, "keel-rings");
  EXPECT_EQ(m.stats().reload_errors, 1U);
  std::filesystem::remove(dir_ + "/zz.toml");
  ASSERT_TRUE(m.load());
  EXPECT_TRUE(m.error().empty());
}

TEST_F(ManagerTest, AppearanceAndRename) {
  write_profile(false);
  ProfileManager m(nic_, dir_, milliseconds(1000));
  ASSERT_TRUE(m.load());
  nic_.add(link(9, "eth9", "keel"), ringed());
  auto r = m.link_appeared(nic_.iface(9).link);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(nic_.state(9).mtu, 4000U);
  // the same interface again (a change notification): nothing to apply
  nic_.reset_counts();
  EXPECT_FALSE(m.link_appeared(nic_.iface(9).link).has_value());
  EXPECT_EQ(nic_.setter_calls(), 0);
  // renamed: applied again, known by its new name
  nic_.update(9, [](FakeNic::Iface &i) { i.link.name = "keel0"; });
  EXPECT_TRUE(m.link_appeared(nic_.iface(9).link).has_value());
  EXPECT_EQ(m.managed(9)->ifname, "keel0");
  m.link_removed(9);
  EXPECT_EQ(m.managed(9), nullptr);
  // an interface no profile matches is left alone
  EXPECT_FALSE(m.link_appeared(nic_.iface(3).link).has_value());
}

TEST_F(ManagerTest, DriftIsReportedWithoutCorrection) {
  write_profile(false);
  ProfileManager m(nic_, dir_, milliseconds(1000));
  ASSERT_TRUE(m.load());
  ASSERT_TRUE(m.apply_all());
  nic_.update(
      2, [](FakeNic::Iface &i) { i.settings.coalesce->at("rx-usecs") = 20; });
  nic_.reset_counts();
  auto d = m.check_drift(nic_.iface(2).link);
  ASSERT_TRUE(d) << d.error().str();
  ASSERT_EQ(d->size(), 1U);
  EXPECT_EQ((*d)[0].setting, "coalesce.rx-usecs");
  EXPECT_EQ((*d)[0].current, "20");
  EXPECT_EQ((*d)[0].desired, "100");
  EXPECT_EQ(nic_.setter_calls(), 0);
  EXPECT_EQ(m.managed(2)->drift.size(), 1U);
  EXPECT_EQ(m.stats().drift_detected, 1U);
  EXPECT_EQ(m.stats().drift_corrected, 0U);
}

TEST_F(ManagerTest, DriftIsCorrectedOncePerPeriod) {
  write_profile(true);
  ProfileManager m(nic_, dir_, milliseconds(60000));
  ASSERT_TRUE(m.load());
  ASSERT_TRUE(m.apply_all());
  nic_.update(2, [](FakeNic::Iface &i) { i.settings.mtu = 1500; });
  auto d = m.check_drift(nic_.iface(2).link);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->size(), 1U);
  EXPECT_EQ(nic_.state(2).mtu, 4000U);
  EXPECT_EQ(m.stats().drift_corrected, 1U);
  // In line again: nothing to report
  auto again = m.check_drift(nic_.iface(2).link);
  ASSERT_TRUE(again);
  EXPECT_TRUE(again->empty());
  // Changed again within the period: reported, not rewritten, so that a
  // setting the device will not keep is not written in a loop.
  nic_.update(2, [](FakeNic::Iface &i) { i.settings.mtu = 1500; });
  const int mtu_calls = nic_.calls(Op::kMtu);
  auto still = m.check_drift(nic_.iface(2).link);
  ASSERT_TRUE(still);
  EXPECT_EQ(still->size(), 1U);
  EXPECT_EQ(nic_.calls(Op::kMtu), mtu_calls);
  EXPECT_EQ(nic_.state(2).mtu, 1500U);
  EXPECT_EQ(m.stats().drift_corrected, 1U);
}

TEST_F(ManagerTest, CheckAllSkipsUnmanagedAndSurvivesErrors) {
  write_profile(true);
  ProfileManager m(nic_, dir_, milliseconds(1000));
  ASSERT_TRUE(m.load());
  ASSERT_TRUE(m.apply_all());
  nic_.fail(Op::kSettings, EIO, "device returned garbage");
  m.check_all();  // logs, does not crash
  nic_.clear_failures();
  nic_.update(2, [](FakeNic::Iface &i) { i.settings.mtu = 1500; });
  nic_.update(3, [](FakeNic::Iface &i) { i.settings.mtu = 1400; });
  m.check_all();
  EXPECT_EQ(nic_.state(2).mtu, 4000U);
  EXPECT_EQ(nic_.state(3).mtu, 1400U);
}

}  // namespace
}  // namespace keel
