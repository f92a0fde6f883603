// SPDX-License-Identifier: GPL-2.0
//
// keeld's command line: durations, sizes, metrics addresses, options.
#include "keel/options.h"

#include <cerrno>
#include <chrono>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace keel {
namespace {

using std::chrono::milliseconds;

TEST(Duration, Units) {
  EXPECT_EQ(*parse_duration("250ms"), milliseconds(250));
  EXPECT_EQ(*parse_duration("2s"), milliseconds(2000));
  EXPECT_EQ(*parse_duration("3"), milliseconds(3000));
  EXPECT_EQ(*parse_duration("5m"), milliseconds(300000));
  EXPECT_EQ(*parse_duration("1h"), milliseconds(3600000));
  EXPECT_EQ(*parse_duration("7d"), milliseconds(604800000));
}

TEST(Duration, Refused) {
  for (const char *bad : {"", "s", "-1s", "1x", "1.5s", "1 s", "ms1",
                          "99999999999999999999d", "9999999999999999d"}) {
    auto d = parse_duration(bad);
    ASSERT_FALSE(d.has_value()) << bad;
    EXPECT_NE(d.error().message().find('\''), std::string::npos) << bad;
  }
}

TEST(Size, Suffixes) {
  EXPECT_EQ(*parse_size("512"), 512U);
  EXPECT_EQ(*parse_size("4K"), 4096U);
  EXPECT_EQ(*parse_size("256M"), 256U << 20);
  EXPECT_EQ(*parse_size("2G"), uint64_t{2} << 30);
  EXPECT_FALSE(parse_size("2g").has_value());
  EXPECT_FALSE(parse_size("M").has_value());
  EXPECT_EQ(parse_size("99999999999T").error().errnum(), ERANGE);
}

TEST(Metrics, Addresses) {
  auto tcp = parse_metrics_address("127.0.0.1:9100");
  ASSERT_TRUE(tcp.has_value());
  EXPECT_EQ(tcp->kind, MetricsAddress::Kind::kTcp);
  EXPECT_EQ(tcp->port, 9100);
  EXPECT_EQ(parse_metrics_address(":9417")->port, 9417);
  EXPECT_EQ(parse_metrics_address("localhost:1")->port, 1);
  auto unix_addr = parse_metrics_address("unix:/run/keel/metrics.sock");
  ASSERT_TRUE(unix_addr.has_value());
  EXPECT_EQ(unix_addr->kind, MetricsAddress::Kind::kUnix);
  EXPECT_EQ(unix_addr->path, "/run/keel/metrics.sock");
  EXPECT_EQ(parse_metrics_address("none")->kind, MetricsAddress::Kind::kNone);
}

TEST(Metrics, Refused) {
  for (const char *bad :
       {"0.0.0.0:9417", "10.0.0.1:80", "127.0.0.1:0", "127.0.0.1:65536",
        "127.0.0.1:", "9417", "unix:relative", "unix:", "127.0.0.1:80x"})
    EXPECT_FALSE(parse_metrics_address(bad).has_value()) << bad;
}

TEST(Options, Defaults) {
  auto o = parse_options({});
  ASSERT_TRUE(o.has_value());
  EXPECT_EQ(*o, KeeldOptions{});
  EXPECT_EQ(o->mode, KeeldOptions::Mode::kRun);
  EXPECT_EQ(o->interval, milliseconds(1000));
  EXPECT_EQ(o->metrics.port, 9417);
}

TEST(Options, Everything) {
  auto o = parse_options({"--foreground",
                          "--socket",
                          "/tmp/k.sock",
                          "--group",
                          "netops",
                          "--profiles",
                          "/etc/p",
                          "--interval",
                          "500ms",
                          "--drift-check",
                          "2s",
                          "--archive",
                          "none",
                          "--retention",
                          "2d",
                          "--archive-max",
                          "64M",
                          "--raw-for",
                          "10m",
                          "--step",
                          "30s",
                          "--metrics",
                          "unix:/tmp/m.sock",
                          "--pidfile",
                          "/run/k.pid"});
  ASSERT_TRUE(o.has_value()) << o.error().str();
  EXPECT_TRUE(o->foreground);
  EXPECT_EQ(o->socket, "/tmp/k.sock");
  EXPECT_EQ(o->group, "netops");
  EXPECT_EQ(o->profiles, "/etc/p");
  EXPECT_EQ(o->interval, milliseconds(500));
  EXPECT_EQ(o->drift_check, milliseconds(2000));
  EXPECT_EQ(o->archive, "");
  EXPECT_EQ(o->retention, std::chrono::hours(48));
  EXPECT_EQ(o->archive_max, 64U << 20);
  EXPECT_EQ(o->raw_for, std::chrono::minutes(10));
  EXPECT_EQ(o->step, std::chrono::seconds(30));
  EXPECT_EQ(o->metrics.kind, MetricsAddress::Kind::kUnix);
  EXPECT_EQ(o->pidfile, "/run/k.pid");
}

TEST(Options, Modes) {
  EXPECT_EQ(parse_options({"--version"})->mode, KeeldOptions::Mode::kVersion);
  EXPECT_EQ(parse_options({"--list-links"})->mode,
            KeeldOptions::Mode::kListLinks);
  auto c = parse_options({"--check-profiles", "/etc/keel"});
  EXPECT_EQ(c->mode, KeeldOptions::Mode::kCheckProfiles);
  EXPECT_EQ(c->check_path, "/etc/keel");
}

TEST(Options, Refused) {
  const std::vector<std::vector<std::string>> bad = {
      {"--no-such"},
      {"--socket"},
      {"--socket", ""},
      {"--interval", "5ms"},
      {"--interval", "soon"},
      {"--step", "30s", "--raw-for", "10s"},
      {"--retention", "1m"},
      {"--archive-max", "100K"},
      {"--metrics", "0.0.0.0:80"},
      {"--drift-check", "10ms"},
  };
  for (const auto &args : bad) {
    auto o = parse_options(args);
    ASSERT_FALSE(o.has_value()) << args[0];
    EXPECT_EQ(o.error().errnum(), EINVAL) << o.error().str();
    EXPECT_FALSE(o.error().message().empty());
  }
}

}  // namespace
}  // namespace keel
