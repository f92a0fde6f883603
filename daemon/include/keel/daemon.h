// SPDX-License-Identifier: GPL-2.0
//
// keel::Daemon: keeld's event loop. One thread, one epoll set holding
// the signal descriptor (SIGTERM/SIGINT stop, SIGHUP reloads), the sweep
// timer and the control socket. Every sweep reads all counters through
// NicControl::counters() and keeps the latest per interface for the
// control commands.
//
// Control commands served here (see control.h for the protocol):
//   status                  version, uptime, sweeps, every interface
//   show {ifname}           the interface's link data and settings
//   stats {ifname}          the latest sweep's counters of the interface
//
// Threading: everything runs on the thread that calls run() or step().
// Counters: sweeps, sweep errors, last sweep duration (status).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "keel/control.h"
#include "keel/fd.h"
#include "keel/nic.h"
#include "keel/result.h"

namespace keel {

struct DaemonConfig {
  std::string socket = "/run/keel/keeld.sock";
  std::optional<gid_t> socket_group;
  std::chrono::milliseconds interval{1000};
};

struct DaemonStats {
  uint64_t sweeps = 0;
  uint64_t sweep_errors = 0;
  std::chrono::microseconds last_sweep{0};
};

class Daemon {
  struct Token {
    explicit Token() = default;
  };

 public:
  // Set up the signals (blocked, read through a signalfd), the timer and
  // the control socket. The first sweep runs at once.
  static Result<std::unique_ptr<Daemon>> create(
      DaemonConfig config, std::unique_ptr<NicControl> nic);

  Daemon(Token, DaemonConfig config, std::unique_ptr<NicControl> nic);
  Daemon(const Daemon &) = delete;
  Daemon &operator=(const Daemon &) = delete;
  Daemon(Daemon &&) = delete;
  Daemon &operator=(Daemon &&) = delete;
  ~Daemon() = default;

  // Serve until SIGTERM or SIGINT.
  Result<void> run();
  // Wait up to timeout_ms for one batch of events and handle it; false
  // once a stop signal arrived.
  bool step(int timeout_ms);

  Result<void> sweep();
  [[nodiscard]] const DaemonStats &stats() const noexcept { return stats_; }

 private:
  Result<void> setup();
  void register_commands();
  Result<LinkInfo> find_link(const std::string &name);
  void handle_signals();

  DaemonConfig config_;
  std::unique_ptr<NicControl> nic_;
  std::unique_ptr<ControlServer> control_;
  Fd epoll_;
  Fd signals_;
  Fd timer_;
  bool stopping_ = false;
  std::chrono::steady_clock::time_point started_;
  DaemonStats stats_;
  int64_t last_sweep_ms_ = 0;                    // wall clock, epoch ms
  std::map<std::string, IfaceCounters> latest_;  // by interface name
};

}  // namespace keel
