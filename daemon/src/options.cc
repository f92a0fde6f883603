// SPDX-License-Identifier: GPL-2.0
#include "keel/options.h"

#include <cerrno>
#include <charconv>
#include <limits>
#include <map>
#include <string>
#include <system_error>

namespace keel {

const char *keeld_usage() {
  return "usage: keeld [options]\n"
         "  --foreground            stay attached, log to standard error\n"
         "  --socket PATH           control socket (/run/keel/keeld.sock)\n"
         "  --group NAME            the control socket's group\n"
         "  --profiles PATH         profile file or directory "
         "(/etc/keel/profiles)\n"
         "  --interval DURATION     counter sweep period (1s)\n"
         "  --drift-check DURATION  compare managed interfaces every (10s)\n"
         "  --archive PATH|none     SQLite archive (/var/lib/keel/archive.db)\n"
         "  --retention DURATION    keep archived data (7d)\n"
         "  --archive-max SIZE      archive size cap (256M)\n"
         "  --raw-for DURATION      full resolution for (1h), then one per "
         "step\n"
         "  --step DURATION         downsampling step (60s)\n"
         "  --metrics ADDR          127.0.0.1:PORT, unix:PATH or none\n"
         "                          (127.0.0.1:9417)\n"
         "  --pidfile PATH          write the process id there\n"
         "keeld --list-links | --check-profiles PATH | --version | --help\n";
}

namespace {

// The digits at the front of text, as an unsigned number; the rest in
// unit. EINVAL when there are no digits or the number overflows.
Result<uint64_t> leading_number(std::string_view text, std::string_view &unit) {
  uint64_t n = 0;
  const char *end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, n);
  if (ec != std::errc() || ptr == text.data())
    return Error(EINVAL, "'" + std::string(text) + "' is not a number");
  unit = text.substr(static_cast<size_t>(ptr - text.data()));
  return n;
}

Result<uint64_t> scaled(uint64_t n, uint64_t scale, std::string_view text) {
  if (scale != 0 && n > std::numeric_limits<uint64_t>::max() / scale)
    return Error(ERANGE, "'" + std::string(text) + "' is too large");
  return n * scale;
}

}  // namespace

Result<std::chrono::milliseconds> parse_duration(std::string_view text) {
  std::string_view unit;
  auto n = leading_number(text, unit);
  if (!n) return Error(EINVAL, "bad duration '" + std::string(text) + "'");
  static const std::map<std::string_view, uint64_t> units = {
      {"", 1000},       {"ms", 1},          {"s", 1000},
      {"m", 60 * 1000}, {"h", 3600 * 1000}, {"d", 86400 * 1000}};
  auto it = units.find(unit);
  if (it == units.end())
    return Error(EINVAL, "bad duration '" + std::string(text) +
                             "': the unit is one of ms, s, m, h, d");
  auto ms = scaled(*n, it->second, text);
  if (!ms || *ms > uint64_t{std::numeric_limits<int64_t>::max()})
    return Error(ERANGE, "duration '" + std::string(text) + "' is too large");
  return std::chrono::milliseconds(static_cast<int64_t>(*ms));
}

Result<uint64_t> parse_size(std::string_view text) {
  std::string_view unit;
  auto n = leading_number(text, unit);
  if (!n) return Error(EINVAL, "bad size '" + std::string(text) + "'");
  static const std::map<std::string_view, uint64_t> units = {
      {"", 1},
      {"K", uint64_t{1} << 10},
      {"M", uint64_t{1} << 20},
      {"G", uint64_t{1} << 30},
      {"T", uint64_t{1} << 40}};
  auto it = units.find(unit);
  if (it == units.end())
    return Error(EINVAL, "bad size '" + std::string(text) +
                             "': the suffix is one of K, M, G, T");
  return scaled(*n, it->second, text);
}

Result<MetricsAddress> parse_metrics_address(std::string_view text) {
  MetricsAddress a;
  if (text == "none") return a;
  if (text.starts_with("unix:")) {
    a.kind = MetricsAddress::Kind::kUnix;
    a.path = std::string(text.substr(5));
    if (a.path.empty() || a.path[0] != '/')
      return Error(EINVAL, "metrics: unix: wants an absolute path");
    return a;
  }
  const size_t colon = text.rfind(':');
  if (colon == std::string_view::npos)
    return Error(EINVAL, "metrics: '" + std::string(text) +
                             "' is not HOST:PORT, unix:PATH or none");
  const std::string_view host = text.substr(0, colon);
  if (!host.empty() && host != "127.0.0.1" && host != "localhost")
    return Error(EINVAL, "metrics: only the loopback address is served, not '" +
                             std::string(host) + "'");
  std::string_view rest;
  auto port = leading_number(text.substr(colon + 1), rest);
  if (!port || !rest.empty() || *port == 0 || *port > 65535)
    return Error(EINVAL, "metrics: bad port in '" + std::string(text) + "'");
  a.kind = MetricsAddress::Kind::kTcp;
  a.port = static_cast<uint16_t>(*port);
  return a;
}

Result<KeeldOptions> parse_options(const std::vector<std::string> &args) {
  KeeldOptions o;
  for (size_t i = 0; i < args.size(); i++) {
    const std::string &arg = args[i];
    auto value = [&]() -> Result<std::string> {
      if (i + 1 >= args.size())
        return Error(EINVAL, "option " + arg + " wants a value");
      return args[++i];
    };
    auto duration = [&](std::chrono::milliseconds &out) -> Result<void> {
      auto v = value();
      if (!v) return v.error();
      auto d = parse_duration(*v);
      if (!d) return d.error().with_context(arg);
      out = *d;
      return {};
    };
    Result<void> res;
    if (arg == "--foreground" || arg == "-f") {
      o.foreground = true;
    } else if (arg == "--list-links") {
      o.mode = KeeldOptions::Mode::kListLinks;
    } else if (arg == "--version") {
      o.mode = KeeldOptions::Mode::kVersion;
    } else if (arg == "--help" || arg == "-h") {
      o.mode = KeeldOptions::Mode::kHelp;
    } else if (arg == "--check-profiles") {
      auto v = value();
      if (!v) return v.error();
      o.mode = KeeldOptions::Mode::kCheckProfiles;
      o.check_path = *v;
    } else if (arg == "--socket" || arg == "--profiles" || arg == "--pidfile" ||
               arg == "--archive" || arg == "--group") {
      auto v = value();
      if (!v) return v.error();
      if (v->empty()) return Error(EINVAL, arg + " wants a non-empty value");
      if (arg == "--socket") o.socket = *v;
      if (arg == "--profiles") o.profiles = *v;
      if (arg == "--pidfile") o.pidfile = *v;
      if (arg == "--archive") o.archive = *v == "none" ? "" : *v;
      if (arg == "--group") o.group = *v;
    } else if (arg == "--interval") {
      res = duration(o.interval);
    } else if (arg == "--drift-check") {
      res = duration(o.drift_check);
    } else if (arg == "--retention") {
      res = duration(o.retention);
    } else if (arg == "--raw-for") {
      res = duration(o.raw_for);
    } else if (arg == "--step") {
      res = duration(o.step);
    } else if (arg == "--archive-max") {
      auto v = value();
      if (!v) return v.error();
      auto s = parse_size(*v);
      if (!s) return s.error().with_context(arg);
      o.archive_max = *s;
    } else if (arg == "--metrics") {
      auto v = value();
      if (!v) return v.error();
      auto m = parse_metrics_address(*v);
      if (!m) return m.error();
      o.metrics = *m;
    } else {
      return Error(EINVAL, "unknown option '" + arg + "'");
    }
    if (!res) return res.error();
  }
  using std::chrono::milliseconds;
  if (o.interval < milliseconds(10))
    return Error(EINVAL, "--interval must be 10ms or more");
  if (o.drift_check < milliseconds(100))
    return Error(EINVAL, "--drift-check must be 100ms or more");
  if (o.step < std::chrono::seconds(1) || o.raw_for < o.step)
    return Error(EINVAL, "--step must be 1s or more and --raw-for >= --step");
  if (o.retention < o.raw_for)
    return Error(EINVAL, "--retention must be at least --raw-for");
  if (o.archive_max < (uint64_t{1} << 20))
    return Error(EINVAL, "--archive-max must be 1M or more");
  return o;
}

}  // namespace keel
