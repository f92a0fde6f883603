// SPDX-License-Identifier: GPL-2.0
//
// diff() and apply() of profiles against FakeNic: what differs, the
// order of the calls, partial failures with the kernel's text, groups a
// device lacks, settings that read back different, idempotence, and the
// JSON and text forms of the reports.
#include "keel/plan.h"

#include <cerrno>
#include <string>

#include <gtest/gtest.h>

#include "fake_nic.h"

namespace keel {
namespace {

using Op = FakeNic::Op;

constexpr int kEth = 2;
constexpr int kVeth = 3;

Profile profile(const std::string &body) {
  auto r = parse_profiles(
      "[[profile]]\nname = \"test\"\nmatch.name = \"*\"\n" + body, "t.toml");
  EXPECT_TRUE(r) << r.error().str();
  if (!r || r->empty()) return Profile{};
  return (*r)[0];
}

class PlanTest : public ::testing::Test {
 protected:
  void SetUp() override {
    eth_.ifindex = kEth;
    eth_.name = "eth0";
    eth_.driver = "keel";
    eth_.bus_info = "0000:00:03.0";
    eth_.mac = "52:54:00:12:34:56";
    eth_.mtu = 1500;
    eth_.admin_up = false;
    eth_.oper_state = "down";
    NicSettings s;
    s.features = Features{
        {"rx-checksum", {.active = true, .fixed = false}},
        {"tx-scatter-gather", {.active = true, .fixed = false}},
        {"tx-tcp-segmentation", {.active = true, .fixed = false}},
        {"tx-tcp6-segmentation", {.active = true, .fixed = false}},
        {"rx-gro", {.active = true, .fixed = false}},
        {"rx-lro", {.active = false, .fixed = true}},
        {"rx-hashing", {.active = true, .fixed = false}},
    };
    s.rings = Rings{.rx = 256, .tx = 256, .rx_max = 4096, .tx_max = 4096};
    s.channels = Channels{.rx = 0,
                          .tx = 0,
                          .other = 0,
                          .combined = 8,
                          .rx_max = 0,
                          .tx_max = 0,
                          .other_max = 0,
                          .combined_max = 16};
    s.coalesce =
        Coalesce{{"rx-usecs", 3}, {"tx-usecs", 50}, {"use-adaptive-rx", 0}};
    Rss rss;
    rss.hfunc = "toeplitz";
    rss.key = std::vector<uint8_t>(40, 0x11);
    rss.indir = equal_indir(8, 128);
    s.rss = rss;
    s.priv_flags = PrivFlags{{"legacy-rx", false}, {"fw-lldp", true}};
    nic_.add(eth_, s);

    veth_.ifindex = kVeth;
    veth_.name = "veth0";
    veth_.driver = "veth";
    veth_.mtu = 1500;
    NicSettings v;
    v.features = Features{{"rx-checksum", {.active = true, .fixed = false}}};
    nic_.add(veth_, v);
  }

  LinkInfo link(int ifindex) const { return ifindex == kEth ? eth_ : veth_; }

  FakeNic nic_;
  LinkInfo eth_;
  LinkInfo veth_;
};

TEST_F(PlanTest, DiffListsOnlyWhatDiffers) {
  Profile p = profile(
      "link = { mtu = 9000, up = true }\n"
      "features = { rx-checksum = true, rx-gro = false }\n"
      "rings = { rx = 256, tx = 1024 }\n"
      "channels = { combined = 4 }\n"
      "coalesce = { rx-usecs = 3, tx-usecs = 20, use-adaptive-rx = true }\n"
      "rss = { equal = 8 }\n"
      "priv-flags = { legacy-rx = true, fw-lldp = true }\n");
  std::vector<Difference> want = {
      {"mtu", "1500", "9000", true},
      {"features.rx-gro", "on", "off", true},
      {"rings.tx", "256", "1024", true},
      {"channels.combined", "8", "4", true},
      {"coalesce.tx-usecs", "50", "20", true},
      {"coalesce.use-adaptive-rx", "0", "1", true},
      {"priv-flags.legacy-rx", "off", "on", true},
      {"up", "down", "up", true},
  };
  EXPECT_EQ(diff(p, nic_.state(kEth)), want);
}

TEST_F(PlanTest, DiffOfAProfileAlreadyInForceIsEmpty) {
  Profile p = profile(
      "link = { mtu = 1500, up = false }\n"
      "features = { rx = true, rx-lro = false }\n"
      "rss = { equal = 8 }\n");
  EXPECT_TRUE(diff(p, nic_.state(kEth)).empty());
}

TEST_F(PlanTest, DiffMarksWhatTheDeviceCannotDo) {
  Profile p = profile(
      "features = { rx-lro = true, rx-fcs = true, tso = false }\n"
      "rings = { rx = 512 }\n"
      "coalesce = { rx-usecs = 10 }\n"
      "rss = { key = \"01:02\", equal = 2 }\n"
      "priv-flags = { legacy-rx = true }\n");
  // veth: only features, and not these.
  std::vector<Difference> want = {
      {"features.rx-fcs", "", "on", false},
      {"features.rx-lro", "", "on", false},
      {"rings.rx", "", "512", false},
      {"coalesce.rx-usecs", "", "10", false},
      {"rss.key", "", "01:02", false},
      {"rss.indir", "", "equal 2", false},
      {"priv-flags.legacy-rx", "", "on", false},
  };
  EXPECT_EQ(diff(p, nic_.state(kVeth)), want);

  // eth0: rx-lro is fixed, rx-fcs absent; the key has the wrong size.
  auto d = diff(p, nic_.state(kEth));
  ASSERT_EQ(d.size(), 9U);
  EXPECT_EQ(d[0], (Difference{"features.rx-fcs", "", "on", false}));
  EXPECT_EQ(d[1], (Difference{"features.rx-lro", "off", "on", false}));
  EXPECT_EQ(d[2].setting, "features.tx-tcp-segmentation");
  EXPECT_TRUE(d[2].supported);
  EXPECT_EQ(d[3].setting, "features.tx-tcp6-segmentation");
  EXPECT_EQ(d[4], (Difference{"rings.rx", "256", "512", true}));
  EXPECT_EQ(d[5], (Difference{"coalesce.rx-usecs", "3", "10", true}));
  EXPECT_EQ(d[6].setting, "rss.key");
  EXPECT_FALSE(d[6].supported);
  EXPECT_EQ(d[7].setting, "rss.indir");
  EXPECT_TRUE(d[7].supported);
  EXPECT_EQ(d[8], (Difference{"priv-flags.legacy-rx", "off", "on", true}));
  // tso also stands for tx-tcp-ecn/mangleid-segmentation, which eth0
  // lacks: not reported.
}

TEST_F(PlanTest, DiffOfAnExplicitTable) {
  Profile p = profile("rss = { indir = [0, 1] }\n");
  auto d = diff(p, nic_.state(kEth));
  ASSERT_EQ(d.size(), 1U);
  EXPECT_EQ(d[0].setting, "rss.indir");
  EXPECT_FALSE(d[0].supported);  // 2 entries, the device has 128

  std::string table = "rss = { indir = [";
  for (int i = 0; i < 128; ++i)
    table += (i ? ", " : "") + std::to_string(i % 8);
  p = profile(table + "] }\n");
  EXPECT_TRUE(diff(p, nic_.state(kEth)).empty());
}

TEST_F(PlanTest, ApplyEverythingThenNothing) {
  std::string key;
  for (int i = 0; i < 40; ++i) key += (i ? ":" : "") + std::string("a5");
  Profile p = profile(
      "link = { mtu = 9000, up = true }\n"
      "features = { rx-gro = false, rx-checksum = true }\n"
      "rings = { rx = 1024, tx = 1024 }\n"
      "channels = { combined = 16 }\n"
      "coalesce = { rx-usecs = 20, use-adaptive-rx = true }\n"
      "rss = { key = \"" +
      key +
      "\", equal = 16 }\n"
      "priv-flags = { legacy-rx = true }\n");

  ApplyReport r = apply(nic_, eth_, p);
  EXPECT_EQ(r.ifname, "eth0");
  EXPECT_EQ(r.profile, "test");
  EXPECT_TRUE(r.ok()) << to_text(r);
  std::vector<std::string> applied;
  for (const SettingResult &s : r.results)
    if (s.outcome == Outcome::kApplied) applied.push_back(s.setting);
  EXPECT_EQ(applied, (std::vector<std::string>{
                         "mtu", "features.rx-gro", "rings.rx", "rings.tx",
                         "channels.combined", "coalesce.rx-usecs",
                         "coalesce.use-adaptive-rx", "rss.key", "rss.indir",
                         "priv-flags.legacy-rx", "up"}));
  ASSERT_NE(r.find("features.rx-checksum"), nullptr);
  EXPECT_EQ(r.find("features.rx-checksum")->outcome, Outcome::kAlready);
  EXPECT_EQ(r.changed(), 11U);

  // The order of the calls; one call per group, admin state last.
  EXPECT_EQ(
      nic_.history(),
      (std::vector<Op>{Op::kMtu, Op::kFeatures, Op::kRings, Op::kChannels,
                       Op::kCoalesce, Op::kRss, Op::kPrivFlags, Op::kAdminUp}));
  const NicSettings &s = nic_.state(kEth);
  EXPECT_EQ(s.mtu, 9000U);
  EXPECT_TRUE(s.admin_up);
  EXPECT_FALSE(s.features->at("rx-gro").active);
  EXPECT_EQ(s.rings->rx, 1024U);
  EXPECT_EQ(s.channels->combined, 16U);
  EXPECT_EQ(s.coalesce->at("use-adaptive-rx"), 1U);
  EXPECT_EQ(s.rss->indir, equal_indir(16, 128));
  EXPECT_EQ(s.rss->key, std::vector<uint8_t>(40, 0xa5));
  EXPECT_TRUE(s.priv_flags->at("legacy-rx"));
  EXPECT_TRUE(diff(p, s).empty());

  // Idempotent: a second apply sends nothing.
  nic_.reset_counts();
  ApplyReport again = apply(nic_, eth_, p);
  EXPECT_TRUE(again.ok());
  EXPECT_EQ(again.changed(), 0U);
  EXPECT_EQ(again.count(Outcome::kAlready), again.results.size());
  EXPECT_EQ(again.results.size(), 12U);
  EXPECT_EQ(nic_.setter_calls(), 0);
  EXPECT_EQ(nic_.calls(Op::kSettings), 1);  // no read-back either
}

TEST_F(PlanTest, PartialFailureCarriesTheKernelText) {
  Profile p = profile(
      "link = { mtu = 9000 }\n"
      "rings = { rx = 1024, tx = 8192 }\n"
      "coalesce = { rx-usecs = 20, tx-usecs = 20 }\n"
      "priv-flags = { legacy-rx = true }\n");
  nic_.fail(Op::kCoalesce, EBUSY, "device is resetting");
  ApplyReport r = apply(nic_, eth_, p);
  EXPECT_FALSE(r.ok());
  auto outcome = [&](const std::string &s) {
    const SettingResult *res = r.find(s);
    return res ? res->outcome : Outcome::kAlready;
  };
  EXPECT_EQ(outcome("mtu"), Outcome::kApplied);
  // The rings call failed as a whole; tried alone, rx went through.
  EXPECT_EQ(outcome("rings.rx"), Outcome::kApplied);
  EXPECT_EQ(outcome("rings.tx"), Outcome::kFailed);
  EXPECT_EQ(r.find("rings.tx")->message,
            "set rings on eth0: requested ring size exceeds maximum");
  EXPECT_EQ(outcome("coalesce.rx-usecs"), Outcome::kFailed);
  EXPECT_EQ(r.find("coalesce.tx-usecs")->message,
            "set coalesce on eth0: device is resetting");
  // A failed group does not stop the later ones.
  EXPECT_EQ(outcome("priv-flags.legacy-rx"), Outcome::kApplied);
  EXPECT_EQ(nic_.state(kEth).rings->rx, 1024U);
  EXPECT_EQ(nic_.state(kEth).rings->tx, 256U);
  EXPECT_EQ(r.changed(), 3U);
  EXPECT_EQ(r.count(Outcome::kFailed), 3U);

  std::string text = to_text(r);
  EXPECT_NE(text.find("eth0: profile test: 3 applied, 3 failed\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("  rings.tx: failed: set rings on eth0: requested ring "
                      "size exceeds maximum\n"),
            std::string::npos)
      << text;
}

TEST_F(PlanTest, FailedMtuDoesNotStopTheRest) {
  Profile p = profile("link = { mtu = 9000, up = true }\n");
  nic_.set_max_mtu(kEth, 1500);
  ApplyReport r = apply(nic_, eth_, p);
  EXPECT_EQ(r.find("mtu")->outcome, Outcome::kFailed);
  EXPECT_EQ(r.find("mtu")->message,
            "set mtu on eth0: mtu greater than device maximum");
  EXPECT_EQ(r.find("up")->outcome, Outcome::kApplied);
  EXPECT_TRUE(nic_.state(kEth).admin_up);
}

TEST_F(PlanTest, UnsupportedGroupIsReportedNotSent) {
  Profile p = profile(
      "features = { rx-checksum = false }\n"
      "rings = { rx = 512 }\n"
      "coalesce = { rx-usecs = 10 }\n");
  ApplyReport r = apply(nic_, veth_, p);
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.find("features.rx-checksum")->outcome, Outcome::kApplied);
  EXPECT_EQ(r.find("rings.rx")->outcome, Outcome::kNotSupported);
  EXPECT_EQ(r.find("rings.rx")->message, "the device has no ring parameters");
  EXPECT_EQ(r.find("coalesce.rx-usecs")->outcome, Outcome::kNotSupported);
  EXPECT_EQ(nic_.calls(Op::kRings), 0);
  EXPECT_EQ(nic_.calls(Op::kCoalesce), 0);
  EXPECT_EQ(r.changed(), 1U);
}

TEST_F(PlanTest, FixedFeatureIsNotSupported) {
  Profile p = profile("features = { lro = true, gro = false }\n");
  ApplyReport r = apply(nic_, eth_, p);
  EXPECT_EQ(r.find("features.rx-lro")->outcome, Outcome::kNotSupported);
  EXPECT_EQ(r.find("features.rx-lro")->message, "fixed by the driver");
  EXPECT_EQ(r.find("features.rx-gro")->outcome, Outcome::kApplied);
}

TEST_F(PlanTest, FeatureRefusedAloneIsFound) {
  Profile p = profile("features = { rx-gro = false, rx-hashing = false }\n");
  nic_.fail_if(
      Op::kFeatures,
      [](const void *req) {
        const auto *f = static_cast<const std::map<std::string, bool> *>(req);
        return f->count("rx-hashing") != 0;
      },
      EOPNOTSUPP, "rx-hashing cannot be disabled while RSS is in use");
  ApplyReport r = apply(nic_, eth_, p);
  EXPECT_EQ(r.find("features.rx-gro")->outcome, Outcome::kApplied);
  EXPECT_EQ(r.find("features.rx-hashing")->outcome, Outcome::kFailed);
  EXPECT_EQ(r.find("features.rx-hashing")->message,
            "set features on eth0: rx-hashing cannot be disabled while RSS "
            "is in use");
  EXPECT_EQ(nic_.calls(Op::kFeatures), 3);  // both, then each alone
}

TEST_F(PlanTest, ReadBackDifferentIsNotVerified) {
  nic_.depend("tx-tcp-segmentation", "tx-scatter-gather");
  nic_.round_rings(kEth, 8);
  Profile p = profile(
      "features = { tx-scatter-gather = false, tx-tcp-segmentation = true }\n"
      "rings = { rx = 1001, tx = 1024 }\n");
  ApplyReport r = apply(nic_, eth_, p);
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.find("features.tx-scatter-gather")->outcome, Outcome::kApplied);
  EXPECT_EQ(r.find("features.tx-tcp-segmentation")->outcome,
            Outcome::kNotVerified);
  EXPECT_EQ(r.find("features.tx-tcp-segmentation")->message,
            "changed by another setting to off (wanted on)");
  EXPECT_EQ(r.find("rings.rx")->outcome, Outcome::kNotVerified);
  EXPECT_EQ(r.find("rings.rx")->message,
            "accepted, but reads back 1008 (wanted 1001)");
  EXPECT_EQ(r.find("rings.tx")->outcome, Outcome::kApplied);
  EXPECT_EQ(r.changed(), 4U);
}

TEST_F(PlanTest, ReadBackFailureLeavesChangesUnverified) {
  Profile p = profile("link = { mtu = 9000 }\n");
  // The first settings() is for the plan, the second the read-back.
  int reads = 0;
  nic_.fail_if(
      Op::kSettings, [&reads](const void *) { return ++reads == 2; }, EIO,
      "device gone quiet");
  ApplyReport r = apply(nic_, eth_, p);
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.find("mtu")->outcome, Outcome::kNotVerified);
  EXPECT_EQ(r.find("mtu")->message,
            "accepted, but reading back failed: get settings on eth0: device "
            "gone quiet");
}

TEST_F(PlanTest, UnreadableDeviceFailsTheReport) {
  Profile p = profile("link = { mtu = 9000 }\n");
  LinkInfo gone = eth_;
  gone.ifindex = 42;
  ApplyReport r = apply(nic_, gone, p);
  EXPECT_FALSE(r.ok());
  ASSERT_EQ(r.results.size(), 1U);
  EXPECT_EQ(r.results[0].setting, "settings");
  EXPECT_EQ(r.results[0].message,
            "read settings of eth0: get settings on ifindex 42: no such "
            "device");
}

void user_table(FakeNic &nic) {
  nic.update(kEth,
             [](FakeNic::Iface &i) { i.settings.rss->user_configured = true; });
}

TEST_F(PlanTest, ShrinkingChannelsSetsTheTableFirst) {
  user_table(nic_);
  Profile p = profile(
      "channels = { combined = 4 }\n"
      "rss = { equal = 4 }\n");
  ApplyReport r = apply(nic_, eth_, p);
  EXPECT_TRUE(r.ok()) << to_text(r);
  EXPECT_EQ(nic_.history(), (std::vector<Op>{Op::kRss, Op::kChannels}));
  EXPECT_EQ(nic_.state(kEth).channels->combined, 4U);
  EXPECT_EQ(nic_.state(kEth).rss->indir, equal_indir(4, 128));
}

TEST_F(PlanTest, GrowingChannelsSetsTheTableAfter) {
  user_table(nic_);
  Profile p = profile(
      "channels = { combined = 16 }\n"
      "rss = { equal = 16 }\n");
  ApplyReport r = apply(nic_, eth_, p);
  EXPECT_TRUE(r.ok()) << to_text(r);
  EXPECT_EQ(nic_.history(), (std::vector<Op>{Op::kChannels, Op::kRss}));
  EXPECT_EQ(nic_.state(kEth).rss->indir, equal_indir(16, 128));
}

TEST_F(PlanTest, ShrinkingBelowAUserTableWithoutANewOneFails) {
  user_table(nic_);
  Profile p = profile("channels = { combined = 4 }\n");
  ApplyReport r = apply(nic_, eth_, p);
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.find("channels.combined")->message,
            "set channels on eth0: requested channel counts are too low for "
            "existing indirection table settings");
  EXPECT_EQ(nic_.state(kEth).channels->combined, 8U);
}

TEST_F(PlanTest, DriftIsSeenAndCorrected) {
  Profile p = profile("link = { mtu = 9000 }\nrings = { rx = 1024 }\n");
  ASSERT_TRUE(apply(nic_, eth_, p).ok());
  EXPECT_TRUE(diff(p, nic_.state(kEth)).empty());
  // Another tool changes a managed setting and an unmanaged one.
  nic_.update(kEth, [](FakeNic::Iface &i) {
    i.settings.rings->rx = 512;
    i.settings.rings->tx = 128;
  });
  std::vector<Difference> d = diff(p, nic_.state(kEth));
  EXPECT_EQ(d, (std::vector<Difference>{{"rings.rx", "512", "1024", true}}));
  EXPECT_EQ(to_text(d), "rings.rx: 512 -> 1024\n");
  ApplyReport r = apply(nic_, eth_, p);
  EXPECT_EQ(r.changed(), 1U);
  EXPECT_EQ(nic_.state(kEth).rings->rx, 1024U);
  EXPECT_EQ(nic_.state(kEth).rings->tx, 128U);
}

TEST_F(PlanTest, JsonAndTextForms) {
  Profile p = profile(
      "link = { mtu = 9000 }\n"
      "rings = { rx = 8192 }\n"
      "coalesce = { rx-usecs = 3 }\n");
  ApplyReport r = apply(nic_, veth_, p);
  nlohmann::json j = to_json(r);
  EXPECT_EQ(j["ifname"], "veth0");
  EXPECT_EQ(j["profile"], "test");
  EXPECT_EQ(j["ok"], true);
  EXPECT_EQ(j["changed"], 1);
  ASSERT_EQ(j["results"].size(), 3U);
  EXPECT_EQ(j["results"][0],
            (nlohmann::json{
                {"setting", "mtu"}, {"outcome", "applied"}, {"message", ""}}));
  EXPECT_EQ(j["results"][1]["outcome"], "not-supported");
  EXPECT_EQ(to_text(r),
            "veth0: profile test: 1 applied, 2 not-supported\n"
            "  mtu: applied\n"
            "  rings.rx: not-supported: the device has no ring parameters\n"
            "  coalesce.rx-usecs: not-supported: the device has no "
            "coalescing parameters\n");

  std::vector<Difference> d = {{"mtu", "1500", "9000", true},
                               {"rings.rx", "", "512", false}};
  EXPECT_EQ(to_json(d), nlohmann::json::parse(R"([
    {"setting": "mtu", "current": "1500", "desired": "9000",
     "supported": true},
    {"setting": "rings.rx", "current": "", "desired": "512",
     "supported": false}])"));
  EXPECT_EQ(to_text(d),
            "mtu: 1500 -> 9000\nrings.rx: not supported (wants 512)\n");
  EXPECT_EQ(to_text(ApplyReport{"eth0", "p", {}}),
            "eth0: profile p: nothing to do\n");
  for (Outcome o : {Outcome::kApplied, Outcome::kAlready, Outcome::kFailed,
                    Outcome::kNotSupported, Outcome::kNotVerified})
    EXPECT_NE(outcome_name(o), "unknown");
}

}  // namespace
}  // namespace keel
