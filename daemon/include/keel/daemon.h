// SPDX-License-Identifier: GPL-2.0
//
// keel::Daemon: keeld's event loop. One thread (the collector has one
// more, below) and one epoll set holding the signal descriptor
// (SIGTERM/SIGINT stop and flush the archive, SIGHUP reloads the
// profiles and applies them), the sweep timer, the drift timer, link and
// ethtool notifications, the control socket and the metrics server.
//
// Sweeps and archive work belong to a keel::Collector (collector.h):
// on a thread of its own when create() is given a NicControl for it
// (keeld does), so that no sweep, archive write or maintenance holds up
// a control request or a scrape; otherwise (tests that step the loop)
// inline, on the sweep timer. The loop answers from the latest sweep the
// collector published. Notifications apply profiles to
// interfaces that appear or are renamed and check managed interfaces for
// drift at once; the drift timer checks them all periodically. What
// notifications asked for stays pending while the links cannot be listed,
// and the sweep timer tries again.
//
// Control commands served here (see control.h for the protocol and
// Documentation/keeld.rst for the answers):
//   status                  version, uptime, sweeps, profiles, archive,
//                           every interface with its profile and drift
//   show {ifname}           the interface's link data and settings
//   stats {ifname}          the latest sweep's counters of the interface
//   apply {files?}          apply the profile text sent, or reload and
//                           apply keeld's own; a report per interface
//   diff {files}            what applying the profile text would change
//     files: [{"name", "text"}, ...], the texts of a file or of a
//     directory's *.toml in order, parsed as one set. keeld never opens a
//     path a client names: a request with "path" is refused (EINVAL).
//   history {ifname, counter, since_ms?, until_ms?}
//   export {format, ifname?, since_ms?, until_ms?}
//   metrics                 the Prometheus exposition text
//
// Threading: everything but the collector runs on the thread that calls
// run() or step(); it owns the NicControl for settings and profiles and
// a read-only Archive connection for history and export. See
// collector.h for what the collector thread owns.
// Counters: sweeps, sweep errors, last sweep duration, archive errors,
// maintenance runs and the last one's duration (status, metrics).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "keel/archive.h"
#include "keel/collector.h"
#include "keel/control.h"
#include "keel/events.h"
#include "keel/fd.h"
#include "keel/http.h"
#include "keel/manager.h"
#include "keel/nic.h"
#include "keel/options.h"
#include "keel/result.h"

namespace keel {

struct DaemonConfig {
  std::string socket = "/run/keel/keeld.sock";
  std::optional<gid_t> socket_group;
  std::chrono::milliseconds interval{1000};
  std::string profiles;  // file or directory; "" for none
  std::chrono::milliseconds drift_check{10000};
  std::optional<ArchiveConfig> archive;
  MetricsAddress metrics;
};

// Where link and ethtool notifications come from: EventMonitor, or a
// fake in tests. fd() is polled for input; read() never blocks.
class EventSource {
 public:
  EventSource() = default;
  EventSource(const EventSource &) = delete;
  EventSource &operator=(const EventSource &) = delete;
  EventSource(EventSource &&) = delete;
  EventSource &operator=(EventSource &&) = delete;
  virtual ~EventSource() = default;

  [[nodiscard]] virtual int fd() const = 0;
  virtual Result<std::vector<LinkEvent>> read() = 0;
};

struct DaemonStats {
  uint64_t sweeps = 0;
  uint64_t sweep_errors = 0;
  std::chrono::microseconds last_sweep{0};
  uint64_t archive_errors = 0;
  uint64_t maintenance_runs = 0;
  std::chrono::microseconds last_maintenance{0};
  uint64_t events = 0;
  uint64_t event_resyncs = 0;
};

class Daemon {
  struct Token {
    explicit Token() = default;
  };

 public:
  // Set up the signals (blocked, read through a signalfd), the timers,
  // the control socket, the archive and the metrics server, load the
  // profiles and apply them. The first sweep runs at once. events may be
  // null (no notifications: drift is found by the timer only).
  // sweep_nic, if given, is the collector's own NicControl (a second
  // connection to the kernel), and sweeps run on the collector's thread,
  // started by the first step() (after keeld has forked to detach);
  // without it they run inline with nic.
  static Result<std::unique_ptr<Daemon>> create(
      DaemonConfig config, std::unique_ptr<NicControl> nic,
      std::unique_ptr<EventSource> events = nullptr,
      std::unique_ptr<NicControl> sweep_nic = nullptr);

  Daemon(Token, DaemonConfig config, std::unique_ptr<NicControl> nic,
         std::unique_ptr<EventSource> events);
  Daemon(const Daemon &) = delete;
  Daemon &operator=(const Daemon &) = delete;
  Daemon(Daemon &&) = delete;
  Daemon &operator=(Daemon &&) = delete;
  ~Daemon();

  // Serve until SIGTERM or SIGINT; an error if the loop itself broke
  // (epoll_wait() failing).
  Result<void> run();
  // Wait up to timeout_ms for one batch of events and handle it; false
  // once a stop signal arrived.
  bool step(int timeout_ms);

  // A sweep now, inline; EBUSY when the collector has its thread.
  Result<void> sweep();
  // SIGHUP: reload the profiles (keeping the last good ones on error)
  // and apply them.
  Result<void> reload();
  [[nodiscard]] DaemonStats stats() const;
  [[nodiscard]] const ProfileManager &manager() const noexcept {
    return *manager_;
  }
  // The exposition text /metrics serves.
  [[nodiscard]] std::string metrics_text() const;
  // The control socket's server, for tests and fuzzing (answer()).
  [[nodiscard]] ControlServer &control() noexcept { return *control_; }

 private:
  Result<void> setup(std::unique_ptr<NicControl> sweep_nic);
  void register_commands();
  Result<LinkInfo> find_link(const std::string &name);
  void handle_signals();
  void handle_events();
  // Look at the interfaces events named (all after a resync) once the
  // links can be listed; until then they stay pending.
  void handle_pending_links();
  void on_timer();
  void stop();
  Result<nlohmann::json> apply_command(const nlohmann::json &args);
  Result<nlohmann::json> diff_command(const nlohmann::json &args);

  DaemonConfig config_;
  std::unique_ptr<NicControl> nic_;
  std::unique_ptr<EventSource> events_;
  std::unique_ptr<ProfileManager> manager_;
  std::unique_ptr<Collector> collector_;
  std::unique_ptr<Archive> archive_;  // read-only: history and export
  std::unique_ptr<MetricsServer> metrics_;
  std::unique_ptr<ControlServer> control_;
  Fd epoll_;
  Fd signals_;
  Fd timer_;
  Fd drift_timer_;
  bool stopping_ = false;
  bool threaded_ = false;      // the collector sweeps on its thread
  bool loop_started_ = false;  // the first step() ran
  std::chrono::steady_clock::time_point started_;
  DaemonStats stats_;            // events; the rest comes from the collector
  std::set<int> pending_links_;  // ifindexes events named, not yet handled
  bool pending_resync_ = false;  // a resync not yet handled: every link
  std::optional<Error> fatal_;   // why the loop stopped, if not a signal
};

}  // namespace keel
