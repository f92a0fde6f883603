// SPDX-License-Identifier: GPL-2.0
//
// keel::Collector: keeld's telemetry, off the loop that serves clients.
// A sweep reads every counter of every interface (NicControl::counters())
// and records them in the archive; archive maintenance (retention,
// downsampling, the size cap) follows: a pass once a minute, run in
// bounded steps (Archive::maintain()) for up to kMaintainSlice after each
// sweep until it is done, so that sweeps stay on time. Either can take
// long: at a thousand interfaces a sweep costs tens of milliseconds, and
// SQLite may wait for a lock. So they run on a thread of their own
// (start()), and the event loop only reads what the last sweep
// published (latest()).
//
// Ownership rules:
//   - The Collector owns the NicControl it sweeps with and the writing
//     Archive connection. After start() both are used only by the
//     collector thread; before start() (and if it is never started, as in
//     tests that step the loop) only by the thread that calls
//     sweep_once() and maintain_once(). Nothing else touches them: the
//     loop has its own NicControl for settings and profiles, and its own
//     read-only Archive connection for history and export (SQLite's WAL
//     lets it read while the collector writes).
//   - What a sweep found is published as an immutable Snapshot behind a
//     std::shared_ptr: latest() hands out a reference under mu_, and a
//     reader keeps its snapshot as long as it wants, whatever the
//     collector publishes meanwhile.
//   - The counters (CollectorStats) are kept under mu_ as well; stats()
//     returns a copy.
//   - No netlink call and no SQLite statement runs with mu_ held.
//   - stop() (or the destructor) ends the thread after the sweep or
//     maintenance step in flight, then flushes the archive.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <thread>

#include "keel/archive.h"
#include "keel/nic.h"
#include "keel/result.h"
#include "keel/thread_annotations.h"

namespace keel {

// One sweep's counters, by interface name.
struct Snapshot {
  int64_t ts_ms = 0;  // wall clock, epoch ms; 0 before the first sweep
  std::map<std::string, IfaceCounters> by_name;
};

struct CollectorStats {
  uint64_t sweeps = 0;
  uint64_t sweep_errors = 0;
  std::chrono::microseconds last_sweep{0};
  uint64_t archive_errors = 0;
  uint64_t maintenance_runs = 0;
  std::chrono::microseconds last_maintenance{0};
};

class Collector {
 public:
  static constexpr std::chrono::minutes kMaintainEvery{1};
  // Time spent on maintenance steps after a sweep, at most (and a step).
  static constexpr std::chrono::milliseconds kMaintainSlice{50};

  // Sweeps with nic, which it owns; archive may be null (keeld without
  // an archive).
  Collector(std::unique_ptr<NicControl> nic, std::unique_ptr<Archive> archive,
            std::chrono::milliseconds interval);
  // Sweeps with a NicControl that someone else owns and that outlives
  // the Collector: the loop's own, when sweeps run inline (never
  // start() such a Collector: the loop uses nic itself).
  Collector(NicControl &nic, std::unique_ptr<Archive> archive,
            std::chrono::milliseconds interval);
  Collector(const Collector &) = delete;
  Collector &operator=(const Collector &) = delete;
  Collector(Collector &&) = delete;
  Collector &operator=(Collector &&) = delete;
  ~Collector();

  // Sweep now on the calling thread: read, record, publish. Only before
  // start() (tests, and a loop stepped without the thread).
  Result<void> sweep_once() KEEL_EXCLUDES(mu_);
  // Archive maintenance steps for up to kMaintainSlice: a pass under way,
  // or a new one if a minute has passed since the last began; only
  // before start().
  void maintain_once() KEEL_EXCLUDES(mu_);

  // Run sweeps every interval (the first at once) and maintenance on a
  // thread of their own until stop().
  void start() KEEL_EXCLUDES(mu_);
  // Stop the thread (after the work in flight) and flush the archive.
  // Idempotent.
  void stop() KEEL_EXCLUDES(mu_);
  [[nodiscard]] bool running() const noexcept { return thread_.joinable(); }
  // Ask the thread for a sweep at once (an interface appeared).
  void sweep_soon() KEEL_EXCLUDES(mu_);

  [[nodiscard]] std::shared_ptr<const Snapshot> latest() const
      KEEL_EXCLUDES(mu_);
  [[nodiscard]] CollectorStats stats() const KEEL_EXCLUDES(mu_);

 private:
  void loop() KEEL_EXCLUDES(mu_);

  std::unique_ptr<NicControl> owned_nic_;  // null when borrowed
  NicControl *nic_;                        // owned_nic_, or borrowed
  std::unique_ptr<Archive> archive_;
  const std::chrono::milliseconds interval_;
  int64_t last_maintain_ms_ = 0;  // collector thread (or the caller)
  bool maintaining_ = false;      // a pass under way; the same

  mutable Mutex mu_;
  std::condition_variable_any wake_;  // waited on with mu_
  bool stopping_ KEEL_GUARDED_BY(mu_) = false;
  bool sweep_now_ KEEL_GUARDED_BY(mu_) = false;
  std::shared_ptr<const Snapshot> latest_ KEEL_GUARDED_BY(mu_);
  CollectorStats stats_ KEEL_GUARDED_BY(mu_);
  std::thread thread_;  // started and joined by the owner's thread
};

}  // namespace keel
