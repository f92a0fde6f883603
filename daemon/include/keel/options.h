// SPDX-License-Identifier: GPL-2.0
//
// keeld's command line: durations ("500ms", "10s", "7d"), sizes ("256M"),
// the metrics address and every option, parsed into KeeldOptions. See
// Documentation/man/keeld.8 for what each option means.
//
// Threading: pure functions.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "keel/result.h"

namespace keel {

// A number with a unit: ms, s, m, h or d ("1s", "250ms", "7d"). A bare
// number is seconds. EINVAL for anything else, or a value that does not
// fit.
Result<std::chrono::milliseconds> parse_duration(std::string_view text);
// Bytes with an optional K, M, G or T suffix (powers of 1024).
Result<uint64_t> parse_size(std::string_view text);

struct MetricsAddress {
  enum class Kind { kNone, kTcp, kUnix };
  Kind kind = Kind::kNone;
  uint16_t port = 0;  // kTcp; always on 127.0.0.1
  std::string path;   // kUnix

  friend bool operator==(const MetricsAddress &,
                         const MetricsAddress &) = default;
};
// "none", "127.0.0.1:9417", "localhost:9417", ":9417" or "unix:/path".
// Addresses other than loopback are refused: metrics are for the local
// scraper (or a proxy), not the network.
Result<MetricsAddress> parse_metrics_address(std::string_view text);

struct KeeldOptions {
  enum class Mode { kRun, kListLinks, kCheckProfiles, kVersion, kHelp };
  Mode mode = Mode::kRun;
  bool foreground = false;
  std::string socket = "/run/keel/keeld.sock";
  std::optional<std::string> group;
  std::string profiles = "/etc/keel/profiles";
  std::chrono::milliseconds interval{1000};
  std::chrono::milliseconds drift_check{10000};
  std::string archive = "/var/lib/keel/archive.db";  // "" = none
  std::chrono::milliseconds retention{std::chrono::hours(24 * 7)};
  uint64_t archive_max = uint64_t{256} << 20;
  std::chrono::milliseconds raw_for{std::chrono::hours(1)};
  std::chrono::milliseconds step{std::chrono::seconds(60)};
  MetricsAddress metrics{MetricsAddress::Kind::kTcp, 9417, ""};
  std::string pidfile;
  std::string check_path;  // kCheckProfiles

  friend bool operator==(const KeeldOptions &, const KeeldOptions &) = default;
};

// args: argv[1..]. The error says which option was wrong and why.
Result<KeeldOptions> parse_options(const std::vector<std::string> &args);

// The usage text of keeld --help.
const char *keeld_usage();

}  // namespace keel
