// SPDX-License-Identifier: GPL-2.0
//
// Tests of keel::exposition(): the output parses back as Prometheus text
// format 0.0.4 line by line, one HELP and TYPE per family, families
// grouped and sorted, escaping, and the names of the mapping in
// metrics.h.
#include "keel/metrics.h"

#include <cmath>
#include <limits>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace keel {
namespace {

IfaceCounters eth(const std::string &name) {
  IfaceCounters ic;
  ic.link.ifindex = 2;
  ic.link.name = name;
  ic.link.driver = "keel";
  ic.link.bus_info = "0000:00:03.0";
  ic.link.mac = "52:54:00:12:34:56";
  ic.link.mtu = 1500;
  ic.link.admin_up = true;
  ic.link.oper_state = "up";
  ic.counters = {
      {"link", "rx_packets", "", 10},
      {"link", "tx_bytes", "", 2000},
      {"link", "rx_dropped", "", 1},
      {"link", "multicast", "", 4},
      {"link", "collisions", "", 0},
      {"link", "some_new_field", "", 5},
      {"eth-mac", "FramesTransmittedOK", "", 9},
      {"eth-ctrl", "MACControlFramesTransmitted", "", 1},
      {"rmon", "rx-64-64", "", 3},
      {"pause", "tx_pause_frames", "", 2},
      {"queue", "rx-packets", "rx-0", 6},
      {"queue", "rx-packets", "rx-1", 7},
      {"queue", "rx-alloc-fail", "rx-0", 0},
      {"page-pool", "alloc-fast", "pool-7", 8},
      {"driver", "rx_queue_0_packets", "", 11},
      {"driver", "tx-timeout", "", 0},
  };
  return ic;
}

struct Parsed {
  std::vector<std::string> order;              // families as they came
  std::map<std::string, std::string> types;    // family -> type
  std::map<std::string, int> helps;            // family -> HELP lines
  std::map<std::string, std::string> samples;  // name{labels} -> value
  std::vector<std::string> errors;
};

// A line-by-line parser of text format 0.0.4, strict about what
// exposition() promises.
Parsed parse(const std::string &text) {
  static const std::string name_re = "[a-zA-Z_:][a-zA-Z0-9_:]*";
  static const std::string label_re =
      R"([a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*")";
  static const std::regex help_re("# HELP (" + name_re +
                                  R"() (?:[^\\\n]|\\[\\n])*)");
  static const std::regex type_re(
      "# TYPE (" + name_re + ") (counter|gauge|untyped|summary|histogram)");
  static const std::regex sample_re("(" + name_re + ")((?:\\{" + label_re +
                                    "(?:," + label_re + R"()*\})?) (\S+))");
  static const std::regex number_re(
      R"([+-]?(?:[0-9]+(?:\.[0-9]*)?(?:[eE][+-]?[0-9]+)?|Inf)|NaN)");
  Parsed p;
  if (!text.empty() && text.back() != '\n')
    p.errors.emplace_back("no final newline");
  std::istringstream in(text);
  std::string line;
  std::string current;
  while (std::getline(in, line)) {
    std::smatch m;
    if (std::regex_match(line, m, help_re)) {
      if (p.types.count(m[1]) != 0 || p.helps.count(m[1]) != 0)
        p.errors.push_back("second HELP: " + line);
      p.helps[m[1]]++;
      current = m[1];
      p.order.push_back(current);
    } else if (std::regex_match(line, m, type_re)) {
      if (m[1] != current || p.types.count(m[1]) != 0)
        p.errors.push_back("TYPE out of place: " + line);
      p.types[m[1]] = m[2];
    } else if (std::regex_match(line, m, sample_re)) {
      if (m[1] != current)
        p.errors.push_back("sample outside its family: " + line);
      if (!std::regex_match(m[3].str(), number_re))
        p.errors.push_back("bad value: " + line);
      if (!p.samples.emplace(m[1].str() + m[2].str(), m[3]).second)
        p.errors.push_back("duplicate sample: " + line);
    } else {
      p.errors.push_back("unparsable: " + line);
    }
  }
  return p;
}

std::vector<SelfMetric> self_metrics() {
  return {
      {"keel_keeld_sweeps_total",
       "Counter sweeps.",
       MetricType::kCounter,
       {},
       42},
      {"keel_keeld_last_sweep_seconds",
       "Duration.",
       MetricType::kGauge,
       {},
       0.00125},
      {"keel_keeld_build_info",
       "Build.",
       MetricType::kGauge,
       {{"version", "0.1.0"}},
       1},
  };
}

TEST(Metrics, ParsesBackAsTextFormat) {
  const std::string text =
      exposition({eth("eth0"), eth("eth1")}, self_metrics());
  const Parsed p = parse(text);
  EXPECT_TRUE(p.errors.empty()) << ::testing::PrintToString(p.errors) << text;
  // One HELP and TYPE per family, families sorted (hence grouped).
  for (const auto &[family, n] : p.helps) EXPECT_EQ(n, 1) << family;
  EXPECT_EQ(p.helps.size(), p.types.size());
  EXPECT_TRUE(std::is_sorted(p.order.begin(), p.order.end()));
  EXPECT_EQ(std::set<std::string>(p.order.begin(), p.order.end()).size(),
            p.order.size());
}

TEST(Metrics, Names) {
  const Parsed p = parse(exposition({eth("eth0")}, self_metrics()));
  auto value = [&p](const std::string &sample) {
    auto it = p.samples.find(sample);
    return it == p.samples.end() ? std::string("<missing>") : it->second;
  };
  EXPECT_EQ(value(R"(node_network_receive_packets_total{device="eth0"})"),
            "10");
  EXPECT_EQ(value(R"(node_network_transmit_bytes_total{device="eth0"})"),
            "2000");
  EXPECT_EQ(value(R"(node_network_receive_drop_total{device="eth0"})"), "1");
  EXPECT_EQ(value(R"(node_network_receive_multicast_total{device="eth0"})"),
            "4");
  EXPECT_EQ(value(R"(node_network_transmit_colls_total{device="eth0"})"), "0");
  EXPECT_EQ(value(R"(node_network_some_new_field_total{device="eth0"})"), "5");
  EXPECT_EQ(value(R"(node_network_up{device="eth0"})"), "1");
  EXPECT_EQ(value(R"(node_network_mtu_bytes{device="eth0"})"), "1500");
  EXPECT_EQ(value(R"(node_network_iface_id{device="eth0"})"), "2");
  EXPECT_EQ(value(R"(node_network_info{device="eth0",driver="keel",)"
                  R"(bus_info="0000:00:03.0",address="52:54:00:12:34:56",)"
                  R"(operstate="up",adminstate="up"})"),
            "1");
  EXPECT_EQ(
      value(
          R"(node_ethtool_eth_mac_frames_transmitted_ok_total{device="eth0"})"),
      "9");
  EXPECT_EQ(
      value(
          R"(node_ethtool_eth_ctrl_mac_control_frames_transmitted_total{device="eth0"})"),
      "1");
  EXPECT_EQ(value(R"(node_ethtool_rmon_rx_64_64_total{device="eth0"})"), "3");
  EXPECT_EQ(value(R"(node_ethtool_pause_tx_pause_frames_total{device="eth0"})"),
            "2");
  EXPECT_EQ(value(R"(keel_queue_rx_packets_total{device="eth0",queue="rx-1"})"),
            "7");
  EXPECT_EQ(
      value(R"(keel_queue_rx_alloc_fail_total{device="eth0",queue="rx-0"})"),
      "0");
  EXPECT_EQ(
      value(R"(keel_page_pool_alloc_fast_total{device="eth0",pool="pool-7"})"),
      "8");
  EXPECT_EQ(value(R"(node_ethtool_received_queue_0_packets{device="eth0"})"),
            "11");
  EXPECT_EQ(value(R"(node_ethtool_transmitted_timeout{device="eth0"})"), "0");
  EXPECT_EQ(value("keel_keeld_sweeps_total"), "42");
  EXPECT_EQ(value("keel_keeld_last_sweep_seconds"), "0.00125");
  EXPECT_EQ(value(R"(keel_keeld_build_info{version="0.1.0"})"), "1");

  EXPECT_EQ(p.types.at("node_network_receive_packets_total"), "counter");
  EXPECT_EQ(p.types.at("node_network_up"), "gauge");
  EXPECT_EQ(p.types.at("node_ethtool_received_queue_0_packets"), "untyped");
  EXPECT_EQ(p.types.at("keel_keeld_last_sweep_seconds"), "gauge");
}

TEST(Metrics, LabelEscaping) {
  IfaceCounters ic;
  ic.link.name = "we\\ird\"na\nme";
  ic.link.driver = "bad\xff utf8";
  ic.counters = {{"queue", "rx-packets", "q\"1", 1}};
  const std::string text = exposition({ic}, {});
  const Parsed p = parse(text);
  EXPECT_TRUE(p.errors.empty()) << ::testing::PrintToString(p.errors) << text;
  EXPECT_NE(text.find(R"(device="we\\ird\"na\nme")"), std::string::npos)
      << text;
  EXPECT_NE(text.find(R"(queue="q\"1")"), std::string::npos);
  EXPECT_NE(text.find("driver=\"bad\xef\xbf\xbd utf8\""), std::string::npos);
  EXPECT_EQ(escape_label_value("a\\b\"c\nd"), R"(a\\b\"c\nd)");
  EXPECT_EQ(escape_help("a\\b\"c\nd"), R"(a\\b"c\nd)");
}

TEST(Metrics, SanitisedNamesAndCollisions) {
  EXPECT_EQ(sanitize_metric_name("a-b.c:d"), "a_b_c:d");
  EXPECT_EQ(sanitize_metric_name("9lives"), "_9lives");
  EXPECT_EQ(sanitize_metric_name("caf\xc3\xa9"), "caf__");
  EXPECT_EQ(sanitize_label_name("a:b"), "a_b");
  EXPECT_EQ(snake_case("FramesTransmittedOK"), "frames_transmitted_ok");
  EXPECT_EQ(snake_case("MACControlFramesTransmitted"),
            "mac_control_frames_transmitted");
  EXPECT_EQ(snake_case("rx-64-64"), "rx_64_64");
  EXPECT_EQ(snake_case("--weird__Name--"), "weird_name");
  EXPECT_EQ(snake_case("InRangeLengthErrors"), "in_range_length_errors");

  IfaceCounters ic;
  ic.link.name = "eth0";
  ic.counters = {{"driver", "rx-drops", "", 1},
                 {"driver", "rx_drops", "", 2},
                 {"driver", "ünïcode stat!", "", 3},
                 // A driver name that lands on a counter family.
                 {"driver", "eth_mac_frames_transmitted_ok_total", "", 4},
                 {"eth-mac", "FramesTransmittedOK", "", 5}};
  const std::string text = exposition({ic}, {});
  const Parsed p = parse(text);
  EXPECT_TRUE(p.errors.empty()) << ::testing::PrintToString(p.errors) << text;
  EXPECT_EQ(p.samples.at(R"(node_ethtool_received_drops{device="eth0"})"), "1");
}

TEST(Metrics, SpecialValues) {
  std::vector<SelfMetric> m{
      {"keel_a", "", MetricType::kGauge, {}, std::nan("")},
      {"keel_b",
       "",
       MetricType::kGauge,
       {},
       -std::numeric_limits<double>::infinity()},
      {"keel_c", "", MetricType::kGauge, {}, 1e300},
      {"bad name!", "", MetricType::kGauge, {{"bad label", "x"}}, -2}};
  const std::string text = exposition({}, m);
  const Parsed p = parse(text);
  EXPECT_TRUE(p.errors.empty()) << ::testing::PrintToString(p.errors) << text;
  EXPECT_EQ(p.samples.at("keel_a"), "NaN");
  EXPECT_EQ(p.samples.at("keel_b"), "-Inf");
  EXPECT_EQ(p.samples.at("keel_c"), "1.0000000000000001e+300");
  EXPECT_EQ(p.samples.at(R"(bad_name_{bad_label="x"})"), "-2");
  EXPECT_EQ(exposition({}, {}), "");
}

TEST(Metrics, LargeCountersExact) {
  IfaceCounters ic;
  ic.link.name = "eth0";
  ic.counters = {{"link", "rx_bytes", "", 18446744073709551615U}};
  const Parsed p = parse(exposition({ic}, {}));
  EXPECT_EQ(p.samples.at(R"(node_network_receive_bytes_total{device="eth0"})"),
            "18446744073709551615");
}

}  // namespace
}  // namespace keel
