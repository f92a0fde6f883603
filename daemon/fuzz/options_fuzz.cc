// SPDX-License-Identifier: GPL-2.0
//
// libFuzzer target: keeld's command line (keel/options.h) and the time
// parsers of keelctl. The first byte picks the parser, the rest is its
// text:
//   0 parse_duration   1 parse_size   2 parse_metrics_address
//   3 parse_options (arguments split on NUL or newline)
//   4 keel::parse_time (archive.h)    5 keelctl's --since/--until
//
// Invariants: no crash, no leak, no undefined behaviour (overflowing
// arithmetic included); what parses is in range (durations not negative,
// a TCP port not 0, a unix path absolute, the checks parse_options()
// documents hold); a time "ago" is not after now.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "keel/archive.h"
#include "keel/options.h"
#include "keelctl_time.h"

namespace {

void check(bool ok) {
  if (!ok) std::abort();
}

std::vector<std::string> split_args(std::string_view text) {
  std::vector<std::string> args;
  size_t start = 0;
  for (size_t i = 0; i <= text.size(); i++) {
    if (i == text.size() || text[i] == '\0' || text[i] == '\n') {
      args.emplace_back(text.substr(start, i - start));
      start = i + 1;
    }
  }
  return args;
}

void options(std::string_view text) {
  auto o = keel::parse_options(split_args(text));
  if (!o) {
    check(!o.error().message().empty());
    return;
  }
  using std::chrono::milliseconds;
  check(o->interval >= milliseconds(10));
  check(o->drift_check >= milliseconds(100));
  check(o->step >= std::chrono::seconds(1) && o->raw_for >= o->step);
  check(o->retention >= o->raw_for);
  check(o->archive_max >= (uint64_t{1} << 20));
  check(!o->socket.empty() && !o->profiles.empty());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size == 0) return 0;
  const std::string_view text(reinterpret_cast<const char *>(data + 1),
                              size - 1);
  const int64_t now = 1764691200000;  // 2025-12-02T16:00:00Z
  switch (data[0] % 6) {
    case 0:
      if (auto d = keel::parse_duration(text)) check(d->count() >= 0);
      break;
    case 1:
      (void)keel::parse_size(text);
      break;
    case 2:
      if (auto a = keel::parse_metrics_address(text)) {
        using Kind = keel::MetricsAddress::Kind;
        check(a->kind != Kind::kTcp || a->port != 0);
        check(a->kind != Kind::kUnix || a->path.starts_with('/'));
      }
      break;
    case 3:
      options(text);
      break;
    case 4:
      if (auto t = keel::parse_time(text, now)) {
        // Durations ago never come out after now.
        const char last = text.empty() ? '\0' : text.back();
        if (last == 's' || last == 'm' || last == 'h' || last == 'd' ||
            last == 'w')
          check(*t <= now);
      }
      break;
    default: {
      int64_t ms = 0;
      const std::string s(text);
      (void)keelctl_parse_time(s, ms);
      break;
    }
  }
  return 0;
}
