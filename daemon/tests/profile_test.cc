// SPDX-License-Identifier: GPL-2.0
//
// Profiles: every key of the format, every error with its exact place,
// ethtool's short feature names, matching, and loading a directory.
#include "keel/profile.h"

#include <sys/stat.h>

#include <cerrno>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <unistd.h>
#include <vector>

#include <gtest/gtest.h>

#include "in_child.h"

namespace keel {
namespace {

Profile parse_one(const std::string &text) {
  auto r = parse_profiles(text, "t.toml");
  EXPECT_TRUE(r) << r.error().str();
  if (!r || r->size() != 1) {
    ADD_FAILURE() << "expected one profile";
    return Profile{};
  }
  return (*r)[0];
}

std::string error_of(const std::string &text) {
  auto r = parse_profiles(text, "t.toml");
  if (r) return "parsed";
  EXPECT_EQ(r.error().errnum(), EINVAL);
  return r.error().message();
}

// A valid start; what a case appends begins on line 5.
const std::string head_text =
    "[[profile]]\n"
    "name = \"p\"\n"
    "[profile.match]\n"
    "name = \"eth0\"\n";
// The same with the match inline; what a case appends begins on line 4.
const std::string top_text =
    "[[profile]]\n"
    "name = \"p\"\n"
    "match.name = \"eth0\"\n";

TEST(ProfileParse, EveryKey) {
  Profile p = parse_one(R"([[profile]]
name = "keel-rx"
correct_drift = true
[profile.match]
name = ["eth*", "enp1s0"]
driver = "keel"
pci = ["0000:01:00.0", "02:00.1"]
mac = ["52:54:00:AB:cd:EF"]
[profile.link]
mtu = 9000
up = true
[profile.features]
"rx-checksum" = true
"tx-udp_tnl-segmentation" = false
[profile.rings]
rx = 1024
tx = 512
[profile.channels]
rx = 1
tx = 2
other = 1
combined = 4
[profile.coalesce]
"rx-usecs" = 50
"tx-max-frames" = 4294967295
"use-adaptive-rx" = true
"use-adaptive-tx" = false
[profile.rss]
key = "6d:5A:56:da"
indir = [0, 1, 2, 3]
[profile.priv-flags]
"legacy-rx" = true
"fw-lldp" = false
)");
  Profile want;
  want.name = "keel-rx";
  want.source = "t.toml:1";
  want.correct_drift = true;
  want.match.names = {"eth*", "enp1s0"};
  want.match.drivers = {"keel"};
  want.match.pci = {"0000:01:00.0", "0000:02:00.1"};
  want.match.macs = {"52:54:00:ab:cd:ef"};
  want.mtu = 9000;
  want.admin_up = true;
  want.features = {{"rx-checksum", true}, {"tx-udp_tnl-segmentation", false}};
  want.rings.rx = 1024;
  want.rings.tx = 512;
  want.channels.rx = 1;
  want.channels.tx = 2;
  want.channels.other = 1;
  want.channels.combined = 4;
  want.coalesce = {{"rx-usecs", 50},
                   {"tx-max-frames", 4294967295U},
                   {"use-adaptive-rx", 1},
                   {"use-adaptive-tx", 0}};
  want.rss_key = std::vector<uint8_t>{0x6d, 0x5a, 0x56, 0xda};
  want.rss_indir = std::vector<uint32_t>{0, 1, 2, 3};
  want.priv_flags = {{"legacy-rx", true}, {"fw-lldp", false}};
  EXPECT_EQ(p, want);
}

TEST(ProfileParse, Defaults) {
  Profile p = parse_one(head_text);
  EXPECT_EQ(p.name, "p");
  EXPECT_FALSE(p.correct_drift);
  EXPECT_FALSE(p.mtu);
  EXPECT_FALSE(p.admin_up);
  EXPECT_TRUE(p.features.empty());
  EXPECT_EQ(p.rings, RingsRequest{});
  EXPECT_EQ(p.channels, ChannelsRequest{});
  EXPECT_TRUE(p.coalesce.empty());
  EXPECT_FALSE(p.rss_key);
  EXPECT_FALSE(p.rss_indir);
  EXPECT_FALSE(p.rss_equal);
  EXPECT_TRUE(p.priv_flags.empty());
}

TEST(ProfileParse, InlineTablesAndEqual) {
  Profile p = parse_one(
      "[[profile]]\n"
      "name = \"p\"\n"
      "match = { driver = [\"keel\", \"veth\"] }\n"
      "link = { mtu = 68, up = false }\n"
      "rss = { equal = 4 }\n");
  EXPECT_EQ(p.match.drivers, (std::vector<std::string>{"keel", "veth"}));
  EXPECT_EQ(p.mtu, 68U);
  EXPECT_EQ(p.admin_up, false);
  EXPECT_EQ(p.rss_equal, 4U);
  EXPECT_FALSE(p.rss_indir);
}

TEST(ProfileParse, SeveralProfilesKeepOrderAndSource) {
  auto r = parse_profiles(head_text +
                              "\n"
                              "[[profile]]\n"
                              "name = \"second\"\n"
                              "match.driver = \"veth\"\n",
                          "dir/a.toml");
  ASSERT_TRUE(r) << r.error().str();
  ASSERT_EQ(r->size(), 2U);
  EXPECT_EQ((*r)[0].name, "p");
  EXPECT_EQ((*r)[0].source, "dir/a.toml:1");
  EXPECT_EQ((*r)[1].name, "second");
  EXPECT_EQ((*r)[1].source, "dir/a.toml:6");
  EXPECT_EQ((*r)[1].match.drivers, std::vector<std::string>{"veth"});
}

TEST(ProfileParse, EmptyDocumentHasNoProfiles) {
  auto r = parse_profiles("# nothing yet\n", "t.toml");
  ASSERT_TRUE(r) << r.error().str();
  EXPECT_TRUE(r->empty());
}

// Found by profile_fuzz: toml++ 3.3 reaches __builtin_unreachable() for
// these code points where whitespace may stand (undefined behaviour; a
// UBSan report in make check-asan). They are refused before toml++
// reads the text, with their place.
TEST(ProfileParse, CodePointsTomlppCannotParseSafelyAreRefused) {
  // U+FEF0 opening the document (the fuzzer's find), U+00A7 after a
  // line-ending backslash in a multi-line string (toml++ issue 190),
  // U+0416 and U+3001 where a key is expected.
  EXPECT_EQ(error_of("\xef\xbb\xb0" + head_text),
            "t.toml:1:1: character U+FEF0 is not supported in profiles "
            "(toml++ 3.3 cannot parse it safely)");
  EXPECT_EQ(error_of(top_text + "s = \"\"\"\\\n\xc2\xa7\"\"\"\n"),
            "t.toml:5:1: character U+00A7 is not supported in profiles "
            "(toml++ 3.3 cannot parse it safely)");
  EXPECT_EQ(error_of(top_text + "  \xd0\x96 = 1\n"),
            "t.toml:4:3: character U+0416 is not supported in profiles "
            "(toml++ 3.3 cannot parse it safely)");
  EXPECT_EQ(error_of(top_text + "\xe3\x80\x81\n"),
            "t.toml:4:1: character U+3001 is not supported in profiles "
            "(toml++ 3.3 cannot parse it safely)");
  // Other non-ASCII text stays fine, in comments and strings.
  auto r =
      parse_profiles(top_text + "# \xe2\x86\x92 \xe2\x80\x93 ok\n", "t.toml");
  EXPECT_TRUE(r) << r.error().str();
}

TEST(ProfileParse, ShortFeatureNames) {
  Profile p = parse_one(head_text +
                        "[profile.features]\n"
                        "rx = true\n"
                        "tso = false\n"
                        "gro = true\n"
                        "lro = false\n"
                        "gso = true\n"
                        "rxvlan = true\n"
                        "txvlan = false\n"
                        "rxhash = true\n"
                        "ntuple = false\n");
  std::map<std::string, bool> want = {
      {"rx-checksum", true},
      {"tx-tcp-segmentation", false},
      {"tx-tcp-ecn-segmentation", false},
      {"tx-tcp-mangleid-segmentation", false},
      {"tx-tcp6-segmentation", false},
      {"rx-gro", true},
      {"rx-lro", false},
      {"tx-generic-segmentation", true},
      {"rx-vlan-hw-parse", true},
      {"tx-vlan-hw-insert", false},
      {"rx-hashing", true},
      {"rx-ntuple-filter", false},
  };
  EXPECT_EQ(p.features, want);
  // Only the names standing for several features are optional.
  EXPECT_EQ(p.optional_features,
            (std::set<std::string>{
                "tx-tcp-segmentation", "tx-tcp-ecn-segmentation",
                "tx-tcp-mangleid-segmentation", "tx-tcp6-segmentation"}));
}

TEST(ProfileParse, TxAndSgAliases) {
  Profile p = parse_one(head_text +
                        "[profile.features]\n"
                        "tx = false\n"
                        "sg = true\n");
  EXPECT_EQ(p.features.size(), 7U);
  EXPECT_EQ(p.features.at("tx-checksum-ip-generic"), false);
  EXPECT_EQ(p.features.at("tx-checksum-sctp"), false);
  EXPECT_EQ(p.features.at("tx-scatter-gather"), true);
  EXPECT_EQ(p.features.at("tx-scatter-gather-fraglist"), true);
  EXPECT_EQ(p.optional_features.size(), 7U);
}

TEST(ProfileParse, AliasTableIsConsistent) {
  for (const auto &[alias, strings] : feature_aliases()) {
    EXPECT_FALSE(strings.empty()) << alias;
    for (std::string_view s : strings) EXPECT_NE(s, alias);
  }
  size_t booleans = 0;
  for (const CoalesceParam &c : coalesce_params()) booleans += c.boolean;
  EXPECT_EQ(booleans, 4U);
}

struct ErrorCase {
  std::string text;
  std::string error;
};

TEST(ProfileParse, ErrorsNameTheirPlace) {
  const std::vector<ErrorCase> cases = {
      // Types and ranges.
      {head_text + "[profile.link]\nmtu = 67\n",
       "t.toml:6:7: mtu must be 68..65535, not 67"},
      {head_text + "[profile.link]\nmtu = 65536\n",
       "t.toml:6:7: mtu must be 68..65535, not 65536"},
      {head_text + "[profile.link]\nmtu = \"9000\"\n",
       "t.toml:6:7: mtu must be an integer, not a string"},
      {head_text + "[profile.link]\nmtu = 1.5\n",
       "t.toml:6:7: mtu must be an integer, not a float"},
      {head_text + "[profile.link]\nup = 1\n",
       "t.toml:6:6: up must be true or false, not an integer"},
      {head_text + "[profile.rings]\nrx = 0\n",
       "t.toml:6:6: rx must be 1..65536, not 0"},
      {head_text + "[profile.rings]\ntx = 65537\n",
       "t.toml:6:6: tx must be 1..65536, not 65537"},
      {head_text + "[profile.channels]\ncombined = 4097\n",
       "t.toml:6:12: combined must be 0..4096, not 4097"},
      {head_text + "[profile.channels]\nrx = -1\n",
       "t.toml:6:6: rx must be 0..4096, not -1"},
      {head_text + "[profile.coalesce]\n\"rx-usecs\" = true\n",
       "t.toml:6:14: rx-usecs must be an integer, not a boolean"},
      {head_text + "[profile.coalesce]\n\"rx-usecs\" = 4294967296\n",
       "t.toml:6:14: rx-usecs must be 0..4294967295, not 4294967296"},
      {head_text + "[profile.coalesce]\n\"use-adaptive-rx\" = 1\n",
       "t.toml:6:21: use-adaptive-rx must be true or false, not an integer"},
      {head_text + "[profile.features]\ntso = \"off\"\n",
       "t.toml:6:7: tso must be true or false, not a string"},
      {head_text + "[profile.priv-flags]\n\"legacy-rx\" = 1\n",
       "t.toml:6:15: legacy-rx must be true or false, not an integer"},
      {top_text + "correct_drift = \"yes\"\n",
       "t.toml:4:17: correct_drift must be true or false, not a string"},
      {top_text + "link = 9000\n",
       "t.toml:4:8: link must be a table, not an integer"},
      // Unknown tables and keys.
      {head_text + "[profile.link]\nspeed = 1000\n",
       "t.toml:6:1: unknown key 'speed' in [profile.link] (expected mtu, "
       "up)"},
      {head_text + "[profile.ring]\nrx = 1\n",
       "t.toml:5:10: unknown key 'ring' in [[profile]] (expected name, "
       "correct_drift, match, link, features, rings, channels, coalesce, "
       "rss, priv-flags)"},
      {head_text + "[profile.rings]\nrx-jumbo = 1\n",
       "t.toml:6:1: unknown key 'rx-jumbo' in [profile.rings] (expected rx, "
       "tx)"},
      {head_text + "[profile.channels]\ncount = 1\n",
       "t.toml:6:1: unknown key 'count' in [profile.channels] (expected rx, "
       "tx, other, combined)"},
      {head_text + "[profile.coalesce]\n\"rx-usec\" = 1\n",
       "t.toml:6:1: unknown key 'rx-usec' in [profile.coalesce] (expected "
       "ethtool coalescing names such as rx-usecs, tx-max-frames, "
       "use-adaptive-rx)"},
      {head_text + "[profile.rss]\nhfunc = \"xor\"\n",
       "t.toml:6:1: unknown key 'hfunc' in [profile.rss] (expected key, "
       "equal, indir)"},
      {top_text + "serial = \"x\"\n",
       "t.toml:4:1: unknown key 'serial' in [[profile]] (expected name, "
       "correct_drift, match, link, features, rings, channels, coalesce, "
       "rss, priv-flags)"},
      {"mtu = 9000\n" + head_text,
       "t.toml:1:1: unknown top-level key 'mtu'; profiles are [[profile]] "
       "tables"},
      {"[profile]\nname = \"p\"\n",
       "t.toml:1:1: 'profile' must be [[profile]] tables, not a table"},
      {"profile = [1]\n",
       "t.toml:1:12: a profile must be a table, not an integer"},
      {"[[profile]]\nname = \"p\"\n[profile.match]\nname = \"x\"\nuuid = 1\n",
       "t.toml:5:1: unknown key 'uuid' in [profile.match] (expected name, "
       "driver, pci, mac)"},
      // Features.
      {head_text + "[profile.features]\n\"RX-Checksum\" = true\n",
       "t.toml:6:1: 'RX-Checksum' is not a feature name (kernel feature "
       "strings are lower case: \"rx-checksum\")"},
      {head_text +
           "[profile.features]\ntso = true\n\"tx-tcp6-segmentation\" = true\n",
       "t.toml:7:1: feature tx-tcp6-segmentation (from "
       "'tx-tcp6-segmentation') is already set at t.toml:6:1"},
      // RSS.
      {head_text + "[profile.rss]\nkey = \"6d:5a:zz\"\n",
       "t.toml:6:7: rss key must be 1..256 hex bytes separated by ':' "
       "(\"6d:5a:56:da\")"},
      {head_text + "[profile.rss]\nkey = \"6d5a\"\n",
       "t.toml:6:7: rss key must be 1..256 hex bytes separated by ':' "
       "(\"6d:5a:56:da\")"},
      {head_text + "[profile.rss]\nkey = \"\"\n",
       "t.toml:6:7: rss key must be 1..256 hex bytes separated by ':' "
       "(\"6d:5a:56:da\")"},
      {head_text + "[profile.rss]\nequal = 4\nindir = [0, 1]\n",
       "t.toml:7:1: rss: give equal or indir, not both"},
      {head_text + "[profile.rss]\nequal = 0\n",
       "t.toml:6:9: equal must be 1..4096, not 0"},
      {head_text + "[profile.rss]\nindir = [0, -1]\n",
       "t.toml:6:13: an indir entry must be 0..4095, not -1"},
      {head_text + "[profile.rss]\nindir = [0, \"1\"]\n",
       "t.toml:6:13: an indir entry must be an integer, not a string"},
      {head_text + "[profile.rss]\nindir = []\n",
       "t.toml:6:9: indir must have 1..65536 entries"},
      {head_text + "[profile.rss]\nindir = 4\n",
       "t.toml:6:9: indir must be a list of queue numbers, not an integer"},
      // Match.
      {"[[profile]]\nname = \"p\"\n[profile.match]\nmac = \"52:54:00:12:34\"\n",
       "t.toml:4:7: '52:54:00:12:34' is not a MAC address "
       "(\"52:54:00:12:34:56\")"},
      {"[[profile]]\nname = \"p\"\n[profile.match]\n"
       "mac = [\"52:54:00:12:34:56\", \"52-54-00-12-34-56\"]\n",
       "t.toml:4:29: '52-54-00-12-34-56' is not a MAC address "
       "(\"52:54:00:12:34:56\")"},
      {"[[profile]]\nname = \"p\"\n[profile.match]\npci = \"0000:01:00.9\"\n",
       "t.toml:4:7: '0000:01:00.9' is not a PCI address (\"0000:01:00.0\")"},
      {"[[profile]]\nname = \"p\"\n[profile.match]\npci = \"1:0.0\"\n",
       "t.toml:4:7: '1:0.0' is not a PCI address (\"0000:01:00.0\")"},
      {"[[profile]]\nname = \"p\"\n[profile.match]\nmac = []\n",
       "t.toml:4:7: mac is an empty list"},
      {"[[profile]]\nname = \"p\"\n[profile.match]\ndriver = [1]\n",
       "t.toml:4:11: driver must be a string or a list of strings, not an "
       "integer"},
      {"[[profile]]\nname = \"p\"\n[profile.match]\nname = \"\"\n",
       "t.toml:4:8: '' is not an interface name glob"},
      {"[[profile]]\nname = \"p\"\n[profile.match]\n",
       "t.toml:3:1: [profile.match] matches on nothing; give name, driver, "
       "pci or mac"},
      {"[[profile]]\nname = \"p\"\n",
       "t.toml:1:1: profile 'p' has no [profile.match]; it would match every "
       "interface"},
      // Names.
      {"[[profile]]\n[profile.match]\nname = \"x\"\n",
       "t.toml:1:1: profile has no name"},
      {"[[profile]]\nname = \"\"\n", "t.toml:2:8: name is empty"},
      {"[[profile]]\nname = 3\n",
       "t.toml:2:8: name must be a string, not an integer"},
      {head_text + "[[profile]]\nname = \"p\"\nmatch.name = \"eth1\"\n",
       "t.toml:6:8: profile 'p' is already defined at t.toml:2:8"},
  };
  for (const ErrorCase &c : cases)
    EXPECT_EQ(error_of(c.text), c.error) << c.text;
}

TEST(ProfileParse, SyntaxErrorsNameTheirPlace) {
  std::string e = error_of("[[profile]]\nname = \"p\n");
  EXPECT_EQ(e.rfind("t.toml:2:", 0), 0U) << e;
  e = error_of(head_text + "[profile.rings]\nrx = 1\nrx = 2\n");
  EXPECT_EQ(e.rfind("t.toml:7:", 0), 0U) << e;
}

LinkInfo link(std::string name, std::string driver, std::string bus,
              std::string mac) {
  LinkInfo l;
  l.ifindex = 2;
  l.name = std::move(name);
  l.driver = std::move(driver);
  l.bus_info = std::move(bus);
  l.mac = std::move(mac);
  return l;
}

Profile with_match(Match m) {
  Profile p;
  p.name = "p";
  p.match = std::move(m);
  return p;
}

TEST(ProfileMatch, ByEachCriterion) {
  LinkInfo eth = link("enp1s0", "keel", "0000:01:00.0", "52:54:00:12:34:56");
  Match m;
  m.names = {"enp*"};
  EXPECT_TRUE(matches(with_match(m), eth));
  m.names = {"eth?", "enp1s[0-3]"};
  EXPECT_TRUE(matches(with_match(m), eth));
  m.names = {"eth*"};
  EXPECT_FALSE(matches(with_match(m), eth));

  m = Match{};
  m.drivers = {"veth", "keel"};
  EXPECT_TRUE(matches(with_match(m), eth));
  m.drivers = {"kee"};
  EXPECT_FALSE(matches(with_match(m), eth));

  m = Match{};
  m.pci = {"0000:01:00.0"};
  EXPECT_TRUE(matches(with_match(m), eth));
  m.pci = {"0000:01:00.1"};
  EXPECT_FALSE(matches(with_match(m), eth));

  m = Match{};
  m.macs = {"52:54:00:12:34:56"};
  EXPECT_TRUE(matches(with_match(m), eth));
  m.macs = {"52:54:00:12:34:57"};
  EXPECT_FALSE(matches(with_match(m), eth));
}

TEST(ProfileMatch, EveryCriterionMustMatch) {
  LinkInfo eth = link("eth0", "keel", "0000:01:00.0", "52:54:00:12:34:56");
  Match m;
  m.names = {"eth*"};
  m.drivers = {"keel"};
  EXPECT_TRUE(matches(with_match(m), eth));
  m.drivers = {"veth"};
  EXPECT_FALSE(matches(with_match(m), eth));
  // A profile without criteria matches nothing (the parser refuses it).
  EXPECT_FALSE(matches(with_match(Match{}), eth));
}

TEST(ProfileMatch, ParsedCaseInsensitiveMacAndShortPci) {
  auto r = parse_profiles(
      "[[profile]]\nname = \"by-mac\"\nmatch.mac = \"52:54:00:AB:CD:EF\"\n"
      "[[profile]]\nname = \"by-pci\"\nmatch.pci = \"01:00.0\"\n",
      "t.toml");
  ASSERT_TRUE(r) << r.error().str();
  LinkInfo a = link("x", "", "", "52:54:00:ab:cd:ef");
  LinkInfo b = link("y", "", "0000:01:00.0", "");
  LinkInfo upper = link("z", "", "0000:01:00.0", "52:54:00:AB:CD:EF");
  EXPECT_TRUE(matches((*r)[0], a));
  EXPECT_FALSE(matches((*r)[0], b));
  EXPECT_TRUE(matches((*r)[0], upper));
  EXPECT_TRUE(matches((*r)[1], b));
  EXPECT_FALSE(matches((*r)[1], a));
}

TEST(ProfileMatch, FirstMatchInOrder) {
  auto r = parse_profiles(
      "[[profile]]\nname = \"one\"\nmatch.name = \"eth0\"\n"
      "[[profile]]\nname = \"all-keel\"\nmatch.driver = \"keel\"\n",
      "t.toml");
  ASSERT_TRUE(r) << r.error().str();
  const Profile *p = first_match(*r, link("eth0", "keel", "", ""));
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->name, "one");
  p = first_match(*r, link("eth1", "keel", "", ""));
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->name, "all-keel");
  EXPECT_EQ(first_match(*r, link("eth1", "veth", "", "")), nullptr);
}

TEST(ProfileMatch, EqualIndir) {
  EXPECT_EQ(equal_indir(3, 8), (std::vector<uint32_t>{0, 1, 2, 0, 1, 2, 0, 1}));
  EXPECT_EQ(equal_indir(4, 0), std::vector<uint32_t>{});
}

class ProfileDir : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl =
        (std::filesystem::temp_directory_path() / "keel-prof-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  void write(const std::string &name, const std::string &text) {
    std::ofstream out(dir_ + "/" + name);
    out << text;
  }

  std::string dir_;
};

TEST_F(ProfileDir, LoadsTomlFilesInNameOrder) {
  write("20-b.toml", "[[profile]]\nname = \"b\"\nmatch.name = \"b*\"\n");
  write("10-a.toml",
        "[[profile]]\nname = \"a1\"\nmatch.name = \"a*\"\n"
        "[[profile]]\nname = \"a2\"\nmatch.name = \"a*\"\n");
  write("README", "not a profile");
  write("30-c.toml.orig", "garbage [[");
  std::filesystem::create_directory(dir_ + "/sub.toml");
  auto r = load_profile_dir(dir_);
  ASSERT_TRUE(r) << r.error().str();
  ASSERT_EQ(r->size(), 3U);
  EXPECT_EQ((*r)[0].name, "a1");
  EXPECT_EQ((*r)[0].source, dir_ + "/10-a.toml:1");
  EXPECT_EQ((*r)[1].name, "a2");
  EXPECT_EQ((*r)[1].source, dir_ + "/10-a.toml:4");
  EXPECT_EQ((*r)[2].name, "b");
}

TEST_F(ProfileDir, OneBadFileFailsTheLoad) {
  write("10-a.toml", "[[profile]]\nname = \"a\"\nmatch.name = \"a*\"\n");
  write("20-b.toml",
        "[[profile]]\nname = \"b\"\nmatch.name = \"b*\"\nlink.mtu = 1\n");
  auto r = load_profile_dir(dir_);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().errnum(), EINVAL);
  EXPECT_EQ(r.error().message(),
            dir_ + "/20-b.toml:4:12: mtu must be 68..65535, not 1");
}

TEST_F(ProfileDir, NameUsedInTwoFiles) {
  write("10-a.toml", "[[profile]]\nname = \"x\"\nmatch.name = \"a*\"\n");
  write("20-b.toml", "\n[[profile]]\nname = \"x\"\nmatch.name = \"b*\"\n");
  auto r = load_profile_dir(dir_);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message(), dir_ +
                                     "/20-b.toml:3:8: profile 'x' is "
                                     "already defined at " +
                                     dir_ + "/10-a.toml:2:8");
}

TEST_F(ProfileDir, EmptyAndMissing) {
  auto r = load_profile_dir(dir_);
  ASSERT_TRUE(r) << r.error().str();
  EXPECT_TRUE(r->empty());
  r = load_profile_dir(dir_ + "/nope");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().errnum(), ENOENT);
}

TEST_F(ProfileDir, SingleFile) {
  write("p.toml", "[[profile]]\nname = \"a\"\nmatch.name = \"a*\"\n");
  auto r = load_profile_file(dir_ + "/p.toml");
  ASSERT_TRUE(r) << r.error().str();
  ASSERT_EQ(r->size(), 1U);
  EXPECT_EQ((*r)[0].source, dir_ + "/p.toml:1");
  r = load_profile_file(dir_ + "/missing.toml");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().errnum(), ENOENT);
  EXPECT_NE(r.error().message().find("missing.toml"), std::string::npos);
}

// Issue 11: what is at the path is not trusted to be a file. A FIFO
// blocked the open (and keeld's loop) for ever, /dev/zero was read
// without end: both are refused at once, in a child with a time limit.
std::string load_error(const std::string &path) {
  auto r = in_child(std::chrono::seconds(10), [&]() -> std::string {
    auto p = load_profile_file(path);
    return p ? "loaded" : p.error().message();
  });
  return r ? *r : "child: " + r.error().message();
}

TEST_F(ProfileDir, FifoIsRefusedAtOnce) {
  const std::string fifo = dir_ + "/fifo.toml";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  EXPECT_EQ(load_error(fifo), fifo + " is a FIFO, not a regular file");
}

TEST_F(ProfileDir, DeviceIsRefusedAtOnce) {
  EXPECT_EQ(load_error("/dev/zero"),
            "/dev/zero is a character device, not a regular file");
}

TEST_F(ProfileDir, FifoInADirectoryIsRefused) {
  write("10-a.toml", "[[profile]]\nname = \"a\"\nmatch.name = \"a*\"\n");
  const std::string fifo = dir_ + "/20-fifo.toml";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  auto r = in_child(std::chrono::seconds(10), [&]() -> std::string {
    auto p = load_profile_dir(dir_);
    return p ? "loaded" : p.error().message();
  });
  ASSERT_TRUE(r) << r.error().str();
  EXPECT_EQ(*r, fifo + " is a FIFO, not a regular file");
}

// The cap: kMaxProfileFile bytes are read, one more is refused.
TEST_F(ProfileDir, FileAboveTheCapIsRefused) {
  std::string text(kMaxProfileFile - 1, '#');
  text += '\n';
  write("max.toml", text);
  auto r = load_profile_file(dir_ + "/max.toml");
  ASSERT_TRUE(r) << r.error().str();
  EXPECT_TRUE(r->empty());
  write("big.toml", text + "\n");
  r = load_profile_file(dir_ + "/big.toml");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().errnum(), EFBIG);
  EXPECT_EQ(r.error().message(),
            dir_ + "/big.toml is larger than 1048576 bytes");
}

TEST_F(ProfileDir, ReadRegularFile) {
  write("ten", "0123456789");
  auto r = read_regular_file(dir_ + "/ten", 10);
  ASSERT_TRUE(r) << r.error().str();
  EXPECT_EQ(*r, "0123456789");
  r = read_regular_file(dir_ + "/ten", 9);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().errnum(), EFBIG);
  r = read_regular_file(dir_, 10);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().errnum(), EINVAL);
  EXPECT_EQ(r.error().message(), dir_ + " is a directory, not a regular file");
  r = read_regular_file(dir_ + "/none", 10);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().errnum(), ENOENT);
  // A regular file whose size says 0 but that has more: the read stops
  // one byte past the cap all the same.
  r = read_regular_file("/proc/self/maps", 16);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().errnum(), EFBIG);
}

TEST_F(ProfileDir, ReadProfileSources) {
  write("20-b.toml", "b");
  write("10-a.toml", "a");
  write("notes.txt", "x");
  std::filesystem::create_directory(dir_ + "/sub.toml");
  auto r = read_profile_sources(dir_, 10);
  ASSERT_TRUE(r) << r.error().str();
  EXPECT_EQ(*r, (std::vector<ProfileSource>{{dir_ + "/10-a.toml", "a"},
                                            {dir_ + "/20-b.toml", "b"}}));
  r = read_profile_sources(dir_ + "/20-b.toml", 10);
  ASSERT_TRUE(r) << r.error().str();
  EXPECT_EQ(*r, (std::vector<ProfileSource>{{dir_ + "/20-b.toml", "b"}}));
}

TEST(ProfileSources, ParsedAsOneSet) {
  auto r = parse_profile_sources(
      {{"a.toml", "[[profile]]\nname = \"a\"\nmatch.name = \"a*\"\n"},
       {"b.toml", "[[profile]]\nname = \"b\"\nmatch.name = \"b*\"\n"}});
  ASSERT_TRUE(r) << r.error().str();
  ASSERT_EQ(r->size(), 2U);
  EXPECT_EQ((*r)[1].source, "b.toml:1");
  r = parse_profile_sources({{"a.toml", "[[profile]]\nname = 1\n"}});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message().rfind("a.toml:2:", 0), 0U)
      << r.error().message();
}

TEST(ProfileExamples, AllParse) {
  auto r = load_profile_dir(KEEL_EXAMPLE_PROFILES);
  ASSERT_TRUE(r) << r.error().str();
  ASSERT_EQ(r->size(), 2U);
  const Profile &p = (*r)[1];
  EXPECT_EQ(p.name, "keel-default");
  EXPECT_TRUE(p.correct_drift);
  EXPECT_EQ(p.rss_key->size(), 40U);
  EXPECT_EQ(p.rss_equal, 4U);
  EXPECT_TRUE(p.features.at("tx-tcp6-segmentation"));
  LinkInfo port;
  port.name = "enp1s0f1";
  port.driver = "keel";
  port.bus_info = "0000:01:00.1";
  port.mac = "52:54:00:12:34:57";
  EXPECT_EQ(first_match(*r, port), &(*r)[0]);  // the first match wins
  EXPECT_TRUE(matches(p, port));
  port.mac = "52:54:00:12:34:58";
  EXPECT_EQ(first_match(*r, port), &p);
}

}  // namespace
}  // namespace keel
