// SPDX-License-Identifier: GPL-2.0
//
// libFuzzer target: keeld's control requests. The input is split into
// lines, as ControlServer splits what a client sends, and each line goes
// to ControlServer::answer() of a Daemon (keel/daemon.h) with every
// command registered: status, show, stats, apply, diff, metrics,
// history, export. The daemon runs on tests/fake_nic.h (an in-memory
// NicControl: no netlink, no interface of the host is read or changed),
// its control socket, archive and profiles live in a temporary
// directory removed at exit, and the metrics server is off. Its loop
// never runs (no step()): signals, timers and connections play no part.
//
// Invariants: no crash, no leak; every answer is one line of a JSON
// object with a boolean "ok", and "error" (a string) and "errno" when
// not ok; a line that is not a JSON object with a string "cmd" closes
// the connection (the rest of the input is not answered).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "../tests/fake_nic.h"
#include "../tests/temp_dir.h"
#include "keel/daemon.h"

namespace keel {
namespace {

void check(bool ok) {
  if (!ok) std::abort();
}

LinkInfo link(int ifindex, const char *name, const char *driver) {
  LinkInfo l;
  l.ifindex = ifindex;
  l.name = name;
  l.driver = driver;
  l.bus_info = "0000:00:0" + std::to_string(ifindex) + ".0";
  l.mac = "52:54:00:12:34:5" + std::to_string(ifindex);
  l.mtu = 1500;
  l.admin_up = true;
  l.oper_state = "up";
  return l;
}

// An interface with every group keeld configures.
NicSettings full_settings() {
  NicSettings s;
  s.features = Features{
      {"rx-checksum", {.active = true, .fixed = false}},
      {"tx-scatter-gather", {.active = true, .fixed = false}},
      {"tx-tcp-segmentation", {.active = true, .fixed = false}},
      {"rx-gro", {.active = true, .fixed = false}},
      {"rx-lro", {.active = false, .fixed = true}},
      {"rx-vlan-hw-parse", {.active = true, .fixed = false}},
  };
  s.rings = Rings{.rx = 256, .tx = 256, .rx_max = 4096, .tx_max = 4096};
  s.channels = Channels{.rx = 0,
                        .tx = 0,
                        .other = 0,
                        .combined = 4,
                        .rx_max = 0,
                        .tx_max = 0,
                        .other_max = 0,
                        .combined_max = 8};
  s.coalesce = Coalesce{{"rx-usecs", 3}, {"tx-usecs", 50}};
  s.coalesce->emplace("use-adaptive-rx", 0);
  Rss rss;
  rss.hfunc = "toeplitz";
  rss.key = std::vector<uint8_t>(40, 0x6d);
  rss.indir = std::vector<uint32_t>(128, 0);
  s.rss = rss;
  s.priv_flags = PrivFlags{{"legacy-rx", false}};
  return s;
}

struct World {
  TempDir dir{"keel-fuzz-control"};
  std::unique_ptr<Daemon> daemon;

  World() {
    check(!dir.path().empty());
    // keeld's own profiles ("apply" without files reloads them).
    std::ofstream(dir.file("profiles.toml"))
        << "[[profile]]\nname = \"keel\"\n[profile.match]\n"
           "driver = \"keel\"\n[profile.rings]\nrx = 1024\n";
    auto nic = std::make_unique<FakeNic>();
    nic->add(link(1, "lo", ""), NicSettings{});
    nic->add(link(2, "eth0", "keel"), full_settings());
    nic->add(link(3, "eth1", "igb"), NicSettings{});
    nic->set_counters(2, {Counter{"link", "rx_packets", "", 7},
                          Counter{"queue", "rx-packets", "rx-0", 5}});
    DaemonConfig cfg;
    cfg.socket = dir.file("keeld.sock");
    cfg.profiles = dir.file("profiles.toml");
    cfg.archive = ArchiveConfig{};
    cfg.archive->path = dir.file("archive.db");
    cfg.metrics = MetricsAddress{};  // none
    auto d = Daemon::create(cfg, std::move(nic));
    check(static_cast<bool>(d));
    daemon = std::move(*d);
    // Counters for stats, history, export and metrics.
    check(static_cast<bool>(daemon->sweep()));
  }
};

// Made once, before the first input; destroyed at exit, with its
// directory.
World &world() {
  static World w;
  return w;
}

void check_answer(const std::string &answer) {
  check(answer.find('\n') == std::string::npos);
  const auto j = nlohmann::json::parse(answer, nullptr, false);
  check(!j.is_discarded() && j.is_object());
  const auto ok = j.find("ok");
  check(ok != j.end() && ok->is_boolean());
  if (!ok->get<bool>()) {
    check(j.contains("error") && j["error"].is_string());
    check(j.contains("errno"));
  }
}

}  // namespace
}  // namespace keel

extern "C" int LLVMFuzzerInitialize(int * /*argc*/, char *** /*argv*/) {
  (void)keel::world();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size > keel::ControlServer::kMaxRequest) return 0;
  std::string_view in(reinterpret_cast<const char *>(data), size);
  keel::ControlServer &control = keel::world().daemon->control();
  while (!in.empty()) {
    const size_t nl = in.find('\n');
    const std::string_view line = in.substr(0, nl);
    in = nl == std::string_view::npos ? std::string_view() : in.substr(nl + 1);
    bool close = false;
    keel::check_answer(control.answer(line, close));
    if (close) break;
  }
  return 0;
}
