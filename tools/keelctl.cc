// SPDX-License-Identifier: GPL-2.0
//
// keelctl: the command line of keeld. Every command is one request on
// keeld's control socket (see daemon/include/keel/control.h); keelctl
// prints the answer for people, or as JSON with --json.
#include <getopt.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <limits>
#include <map>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "keel/control.h"
#include "keel/profile_files.h"
#include "keel/version.h"

namespace {

using nlohmann::json;

constexpr const char *kDefaultSocket = "/run/keel/keeld.sock";

constexpr std::string_view kUsage =
    "usage: keelctl [--socket PATH] [--json] COMMAND [ARGS]\n"
    "  status                      keeld, its profile, archive and links\n"
    "  show IFACE                  settings, queues, NAPIs and page pools\n"
    "  apply [PROFILE]             apply a profile file or directory\n"
    "                              (default: keeld's own) and report\n"
    "  diff PROFILE                what applying PROFILE would change\n"
    "                              (keelctl reads PROFILE and sends keeld\n"
    "                              its text: regular files, 64 KiB in all)\n"
    "  stats IFACE [--watch] [--rate] [--interval S]\n"
    "                              the interface's counters\n"
    "  history IFACE COUNTER [--since T] [--until T]\n"
    "                              archived values of one counter; T is\n"
    "                              seconds ago (300, 5m, 2h, 1d) or an\n"
    "                              epoch time in ms\n"
    "  export [--format csv|json] [--iface IFACE] [--since T]\n"
    "                              the archive, to standard output\n"
    "  metrics                     the Prometheus exposition text\n"
    "options: --socket PATH (default /run/keel/keeld.sock, or $KEELD_SOCKET)\n"
    "         --json  print keeld's answer as JSON\n";

struct Options {
  std::string socket;
  bool json = false;
  bool watch = false;
  bool rate = false;
  double interval = 1.0;
  std::string format = "csv";
  std::string iface;
  std::string since;
  std::string until;
  std::vector<std::string> args;
};

int usage_error(const std::string &msg) {
  std::fprintf(stderr, "keelctl: %s\n%s", msg.c_str(), kUsage.data());
  return 2;
}

// "300", "5m", "2h", "1d": seconds ago, as epoch ms; a 13-digit number is
// taken as epoch ms already.
bool parse_time(const std::string &text, int64_t &ms) {
  if (text.empty())
    return false;
  size_t used = 0;
  long long n = 0;
  try {
    n = std::stoll(text, &used);
  } catch (const std::exception &) {
    return false;
  }
  if (n < 0)
    return false;
  const std::string unit = text.substr(used);
  int64_t scale = 0;
  if (unit.empty() || unit == "s")
    scale = 1;
  else if (unit == "m")
    scale = 60;
  else if (unit == "h")
    scale = 3600;
  else if (unit == "d")
    scale = 86400;
  else
    return false;
  const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  if (unit.empty() && text.size() >= 13) {
    ms = n;
    return true;
  }
  // More seconds ago than int64_t milliseconds hold would overflow.
  if (n > std::numeric_limits<int64_t>::max() / 1000 / scale)
    return false;
  ms = now - n * scale * 1000;
  return true;
}

void print_json(const json &j) {
  std::printf("%s\n",
              j.dump(2, ' ', false, json::error_handler_t::replace).c_str());
}

std::string text(const json &j) {
  if (j.is_string())
    return j.get<std::string>();
  if (j.is_null())
    return "-";
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

void print_status(const json &r) {
  std::printf("keeld %s, up %s s, %s sweeps every %s s\n",
              text(r.value("version", json())).c_str(),
              text(r.value("uptime_s", json())).c_str(),
              text(r.value("sweeps", json())).c_str(),
              text(r.value("interval_s", json())).c_str());
  if (r.contains("profile")) {
    const json &p = r["profile"];
    std::printf("profile %s: %s rules", text(p.value("path", json())).c_str(),
                text(p.value("rules", json())).c_str());
    if (p.contains("error") && !p["error"].is_null())
      std::printf(" (last reload failed: %s)", text(p["error"]).c_str());
    std::printf("\n");
  }
  if (r.contains("archive"))
    std::printf("archive %s: %s bytes\n",
                text(r["archive"].value("path", json())).c_str(),
                text(r["archive"].value("bytes", json())).c_str());
  std::printf("%-16s %7s %-10s %-12s %-8s %s\n", "IFACE", "IFINDEX", "DRIVER",
              "BUS", "STATE", "PROFILE");
  for (const json &l : r.value("interfaces", json::array())) {
    std::string rules;
    for (const json &rule : l.value("rules", json::array()))
      rules += (rules.empty() ? "" : ",") + text(rule);
    if (l.value("drift", 0) > 0)
      rules += " (drift: " + text(l["drift"]) + ")";
    std::printf("%-16s %7s %-10s %-12s %-8s %s\n", text(l["name"]).c_str(),
                text(l["ifindex"]).c_str(), text(l["driver"]).c_str(),
                text(l["bus_info"]).c_str(), text(l["oper_state"]).c_str(),
                rules.empty() ? "-" : rules.c_str());
  }
}

void print_show(const json &r) {
  // Settings and the netdev family's objects, one "key: value" per line.
  for (const auto &[section, value] : r.items()) {
    std::printf("%s:\n", section.c_str());
    if (value.is_object()) {
      for (const auto &[k, v] : value.items())
        std::printf("  %-28s %s\n", k.c_str(), text(v).c_str());
    } else if (value.is_array()) {
      for (const json &item : value)
        std::printf("  %s\n", text(item).c_str());
    } else {
      std::printf("  %s\n", text(value).c_str());
    }
  }
}

void print_report(const json &r) {
  for (const json &iface : r.value("interfaces", json::array())) {
    std::printf("%s: profile %s\n", text(iface["ifname"]).c_str(),
                text(iface.value("profile", json())).c_str());
    for (const json &s : iface.value("results", json::array())) {
      std::printf("  %-28s %-14s %s\n", text(s["setting"]).c_str(),
                  text(s["outcome"]).c_str(),
                  text(s.value("message", json(""))).c_str());
    }
  }
  for (const json &w : r.value("warnings", json::array()))
    std::printf("warning: %s\n", text(w).c_str());
}

void print_diff(const json &r) {
  for (const json &iface : r.value("interfaces", json::array())) {
    const json &diffs = iface.value("differences", json::array());
    std::printf("%s: %zu difference%s\n", text(iface["ifname"]).c_str(),
                diffs.size(), diffs.size() == 1 ? "" : "s");
    for (const json &d : diffs)
      std::printf("  %-28s %s -> %s\n", text(d["setting"]).c_str(),
                  text(d["current"]).c_str(), text(d["desired"]).c_str());
  }
  for (const json &w : r.value("warnings", json::array()))
    std::printf("warning: %s\n", text(w).c_str());
}

// counters: [{"key": "link.rx_packets", "value": N}, ...], ts_ms
void print_stats(const json &now, const json *before) {
  std::map<std::string, uint64_t> prev;
  double secs = 0;
  if (before != nullptr) {
    for (const json &c : (*before)["counters"])
      prev[c["key"].get<std::string>()] = c["value"].get<uint64_t>();
    secs = static_cast<double>(now["ts_ms"].get<int64_t>() -
                               (*before)["ts_ms"].get<int64_t>()) /
           1000.0;
  }
  for (const json &c : now["counters"]) {
    const std::string key = c["key"].get<std::string>();
    const auto value = c["value"].get<uint64_t>();
    if (before == nullptr) {
      std::printf("%-48s %20" PRIu64 "\n", key.c_str(), value);
      continue;
    }
    auto it = prev.find(key);
    if (it == prev.end() || secs <= 0)
      continue;
    const double rate = value >= it->second
                            ? static_cast<double>(value - it->second) / secs
                            : 0.0;
    std::printf("%-48s %20.1f/s\n", key.c_str(), rate);
  }
}

// The profile file or directory at path, read here with the caller's
// rights, as the "files" keeld's apply and diff take: keeld opens no
// path a client names. Only regular files; all of it must fit in one
// control request.
keel::Result<json> profile_files(const std::string &cmd,
                                 const std::string &path) {
  // Absolute, so that keeld's messages name the file wherever it is.
  std::error_code ec;
  std::string name = std::filesystem::absolute(path, ec).string();
  if (ec)
    name = path;
  auto sources =
      keel::read_profile_sources(name, keel::ControlServer::kMaxRequest);
  if (!sources)
    return sources.error();
  json files = json::array();
  for (keel::ProfileSource &s : *sources)
    files.push_back({{"name", std::move(s.name)}, {"text", std::move(s.text)}});
  const json request{{"cmd", cmd}, {"args", {{"files", files}}}};
  const size_t size =
      request.dump(-1, ' ', false, json::error_handler_t::replace).size() + 1;
  if (size > keel::ControlServer::kMaxRequest)
    return keel::Error(
        EFBIG, path + ": the profile text makes a request of " +
                   std::to_string(size) + " bytes; keeld takes at most " +
                   std::to_string(keel::ControlServer::kMaxRequest));
  return files;
}

int run_stats(const Options &o) {
  if (o.args.size() != 2)
    return usage_error("stats wants IFACE");
  const json args{{"ifname", o.args[1]}};
  auto first = keel::control_call(o.socket, "stats", args);
  // EAGAIN: an interface keeld has not swept yet; it sweeps at once
  // when asked, so ask again for up to 5 s.
  for (int i = 0; i < 50 && !first && first.error().errnum() == EAGAIN; i++) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    first = keel::control_call(o.socket, "stats", args);
  }
  if (!first) {
    std::fprintf(stderr, "keelctl: %s\n", first.error().message().c_str());
    return 1;
  }
  json before = *first;
  if (!o.rate && !o.watch) {
    if (o.json)
      print_json(before);
    else
      print_stats(before, nullptr);
    return 0;
  }
  for (;;) {
    std::this_thread::sleep_for(std::chrono::duration<double>(o.interval));
    auto now = keel::control_call(o.socket, "stats", args);
    if (!now) {
      std::fprintf(stderr, "keelctl: %s\n", now.error().message().c_str());
      return 1;
    }
    if (o.watch)
      std::printf("\033[H\033[2J");
    if (o.json)
      print_json(*now);
    else
      print_stats(*now, o.rate ? &before : nullptr);
    std::fflush(stdout);
    if (!o.watch)
      return 0;
    before = *now;
  }
}

int run(int argc, char **argv) {
  Options o;
  const char *env = std::getenv("KEELD_SOCKET");
  o.socket = env != nullptr ? env : kDefaultSocket;
  static const option kLong[] = {
      {"socket", required_argument, nullptr, 'S'},
      {"json", no_argument, nullptr, 'j'},
      {"watch", no_argument, nullptr, 'w'},
      {"rate", no_argument, nullptr, 'r'},
      {"interval", required_argument, nullptr, 'i'},
      {"format", required_argument, nullptr, 'f'},
      {"iface", required_argument, nullptr, 'I'},
      {"since", required_argument, nullptr, 's'},
      {"until", required_argument, nullptr, 'u'},
      {"version", no_argument, nullptr, 'V'},
      {"help", no_argument, nullptr, 'h'},
      {nullptr, 0, nullptr, 0},
  };
  // "+": stop at each non-option; it is an argument, and options may
  // follow it (keelctl stats eth0 --rate).
  while (optind < argc) {
    const int c = getopt_long(argc, argv, "+h", kLong, nullptr);
    if (c == -1) {
      if (optind < argc)
        o.args.emplace_back(argv[optind++]);
      continue;
    }
    switch (c) {
    case 'S':
      o.socket = optarg;
      break;
    case 'j':
      o.json = true;
      break;
    case 'w':
      o.watch = true;
      break;
    case 'r':
      o.rate = true;
      break;
    case 'i':
      try {
        o.interval = std::stod(optarg);
      } catch (const std::exception &) {
        return usage_error("bad --interval");
      }
      if (o.interval <= 0 || o.interval > 3600)
        return usage_error("--interval must be in (0, 3600] seconds");
      break;
    case 'f':
      o.format = optarg;
      if (o.format != "csv" && o.format != "json")
        return usage_error("--format must be csv or json");
      break;
    case 'I':
      o.iface = optarg;
      break;
    case 's':
      o.since = optarg;
      break;
    case 'u':
      o.until = optarg;
      break;
    case 'V':
      std::printf("keelctl %s\n", keel::kVersion);
      return 0;
    case 'h':
      std::fputs(kUsage.data(), stdout);
      return 0;
    default:
      std::fputs(kUsage.data(), stderr);
      return 2;
    }
  }
  if (o.args.empty())
    return usage_error("no command");

  const std::string &cmd = o.args[0];
  json args = json::object();
  if (cmd == "stats")
    return run_stats(o);
  if (cmd == "status" || cmd == "metrics") {
    if (o.args.size() != 1)
      return usage_error(cmd + " takes no arguments");
  } else if (cmd == "show") {
    if (o.args.size() != 2)
      return usage_error("show wants IFACE");
    args["ifname"] = o.args[1];
  } else if (cmd == "apply" || cmd == "diff") {
    if (o.args.size() > 2 || (cmd == "diff" && o.args.size() != 2))
      return usage_error(cmd + " wants " +
                         (cmd == "diff" ? "PROFILE" : "[PROFILE]"));
    if (o.args.size() == 2) {
      auto files = profile_files(cmd, o.args[1]);
      if (!files) {
        std::fprintf(stderr, "keelctl: %s\n", files.error().message().c_str());
        return 1;
      }
      args["files"] = std::move(*files);
    }
  } else if (cmd == "history") {
    if (o.args.size() != 3)
      return usage_error("history wants IFACE COUNTER");
    args["ifname"] = o.args[1];
    args["counter"] = o.args[2];
  } else if (cmd == "export") {
    if (o.args.size() != 1)
      return usage_error("export takes options only");
    args["format"] = o.format;
    if (!o.iface.empty())
      args["ifname"] = o.iface;
  } else {
    return usage_error("unknown command '" + cmd + "'");
  }
  if (cmd == "history" || cmd == "export") {
    int64_t ms = 0;
    if (!o.since.empty()) {
      if (!parse_time(o.since, ms))
        return usage_error("bad --since");
      args["since_ms"] = ms;
    }
    if (!o.until.empty()) {
      if (!parse_time(o.until, ms))
        return usage_error("bad --until");
      args["until_ms"] = ms;
    }
  }

  auto r = keel::control_call(o.socket, cmd, args);
  if (!r) {
    std::fprintf(stderr, "keelctl: %s\n", r.error().message().c_str());
    return 1;
  }
  if (o.json) {
    print_json(*r);
  } else if (cmd == "status") {
    print_status(*r);
  } else if (cmd == "show") {
    print_show(*r);
  } else if (cmd == "apply") {
    print_report(*r);
  } else if (cmd == "diff") {
    print_diff(*r);
  } else if (cmd == "history") {
    for (const json &p : r->value("points", json::array()))
      std::printf("%s %s\n", text(p[0]).c_str(), text(p[1]).c_str());
  } else {
    // export and metrics answer with text
    std::fputs(r->is_string() ? r->get<std::string>().c_str()
                              : text(*r).c_str(),
               stdout);
  }
  // apply reports failures in its answer; the exit status says so too
  if (cmd == "apply" && !r->value("ok", true))
    return 1;
  return 0;
}

} // namespace

int main(int argc, char **argv) {
  try {
    return run(argc, argv);
  } catch (const std::exception &e) {
    std::fprintf(stderr, "keelctl: fatal: %s\n", e.what());
    return 1;
  }
}
