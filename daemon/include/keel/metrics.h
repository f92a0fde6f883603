// SPDX-License-Identifier: GPL-2.0
//
// keel::exposition(): keeld's counters in the Prometheus text exposition
// format, version 0.0.4, as served on GET /metrics (see http.h).
//
// Output: families sorted by name, each with one "# HELP" and one
// "# TYPE" line followed by its samples, sorted by their label text.
// Label values escape '\\', '"' and newline; HELP text escapes '\\' and
// newline; bytes that are not UTF-8 become U+FFFD. Metric names are
// sanitised to [a-zA-Z_:][a-zA-Z0-9_:]* and label names to
// [a-zA-Z_][a-zA-Z0-9_]* (anything else becomes '_'). No timestamps are
// written: Prometheus stamps the scrape. If two counters map to the same
// family and labels (a driver with both "rx-drops" and "rx_drops"), the
// first one wins; a counter whose family already exists with another
// type is left out.
//
// Naming, in the spirit of node_exporter's netdev (node_network_*) and
// ethtool (node_ethtool_*) collectors, so that existing dashboards fit.
// Every sample has the label device="<interface name>".
//
//   Interface (from LinkInfo), gauges:
//     node_network_info{device,driver,bus_info,address,operstate,
//                       adminstate} 1
//     node_network_up{device}          1 if operstate is "up", else 0
//     node_network_mtu_bytes{device}   MTU
//     node_network_iface_id{device}    ifindex
//
//   Counter group "link" (struct rtnl_link_stats64), counters
//   node_network_<name>_total; names of /proc/net/dev as node_exporter
//   spells them where the value is the same, the field name otherwise:
//     rx_packets receive_packets          tx_packets transmit_packets
//     rx_bytes   receive_bytes            tx_bytes   transmit_bytes
//     rx_errors  receive_errs             tx_errors  transmit_errs
//     rx_dropped receive_drop             tx_dropped transmit_drop
//     multicast  receive_multicast        collisions transmit_colls
//     rx_fifo_errors receive_fifo         tx_fifo_errors transmit_fifo
//     rx_compressed receive_compressed    tx_compressed transmit_compressed
//     rx_length_errors receive_length_errors
//     rx_over_errors receive_over_errors  rx_crc_errors receive_crc_errors
//     rx_frame_errors receive_frame_errors
//     rx_missed_errors receive_missed_errors
//     rx_nohandler receive_nohandler
//     rx_otherhost_dropped receive_otherhost_dropped
//     tx_aborted_errors transmit_aborted_errors
//     tx_carrier_errors transmit_carrier_errors
//     tx_heartbeat_errors transmit_heartbeat_errors
//     tx_window_errors transmit_window_errors
//   (receive_drop is rx_dropped alone; /proc/net/dev adds rx_missed_errors.)
//   Any other name: node_network_<snake_case(name)>_total.
//
//   Standard ethtool groups ("eth-mac", "eth-phy", "eth-ctrl", "pause",
//   "rmon", and any group not named below), counters
//     node_ethtool_<snake_case(group)>_<snake_case(name)>_total{device}
//   e.g. eth-mac FramesTransmittedOK ->
//     node_ethtool_eth_mac_frames_transmitted_ok_total,
//   rmon rx-64-64 -> node_ethtool_rmon_rx_64_64_total,
//   pause tx_pause_frames -> node_ethtool_pause_tx_pause_frames_total.
//
//   Group "queue" (netdev qstats; not an ethtool statistic, so keel_),
//   counters keel_queue_<snake_case(name)>_total{device,queue="rx-3"}
//   e.g. rx-alloc-fail -> keel_queue_rx_alloc_fail_total.
//
//   Group "page-pool", counters
//     keel_page_pool_<snake_case(name)>_total{device,pool="pool-7"}.
//
//   Group "driver" (ethtool -S), untyped, as node_exporter's ethtool
//   collector names them: node_ethtool_<name>{device} with the name
//   lower case, sanitised, and the words "rx"/"tx" spelled "received"/
//   "transmitted" (rx_queue_0_packets ->
//   node_ethtool_received_queue_0_packets). Drivers mix counters and
//   gauges there, so no _total and no type is claimed.
//
//   The daemon's own metrics (SelfMetric) keep the names the daemon
//   gives them, keel_keeld_* by convention (keel_keeld_sweeps_total).
//
// snake_case(): words split at '-', '_', ' ' and other punctuation and at
// case changes ("MACControlFrames" -> "mac_control_frames"), lower case,
// no leading, trailing or doubled '_'.
//
// Threading: pure functions.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "keel/nic.h"

namespace keel {

enum class MetricType { kCounter, kGauge, kUntyped };

// A metric of the daemon itself (sweeps, errors, archive size ...).
struct SelfMetric {
  std::string name;  // full name: "keel_keeld_sweeps_total"
  std::string help;
  MetricType type = MetricType::kCounter;
  std::vector<std::pair<std::string, std::string>> labels;
  double value = 0;
};

// The whole /metrics body.
std::string exposition(const std::vector<IfaceCounters> &ifaces,
                       const std::vector<SelfMetric> &daemon_metrics);

// Where one counter goes: family name, type and HELP text; the labels
// besides device (queue or pool).
struct MetricMapping {
  std::string family;
  MetricType type = MetricType::kCounter;
  std::string help;
  std::vector<std::pair<std::string, std::string>> labels;
};
MetricMapping map_counter(const Counter &c);

// Building blocks, public for the tests.
std::string snake_case(std::string_view s);
std::string sanitize_metric_name(std::string_view s);
std::string sanitize_label_name(std::string_view s);
std::string escape_label_value(std::string_view s);
std::string escape_help(std::string_view s);

}  // namespace keel
