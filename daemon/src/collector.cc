// SPDX-License-Identifier: GPL-2.0
//
// keel::Collector; see keel/collector.h for the ownership rules.
#include "keel/collector.h"

#include <utility>
#include <vector>

#include "keel/log.h"

namespace keel {

namespace {

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::chrono::microseconds since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::microseconds>(
      std::chrono::steady_clock::now() - t);
}

}  // namespace

Collector::Collector(std::unique_ptr<NicControl> nic,
                     std::unique_ptr<Archive> archive,
                     std::chrono::milliseconds interval)
    : owned_nic_(std::move(nic)),
      nic_(owned_nic_.get()),
      archive_(std::move(archive)),
      interval_(interval),
      latest_(std::make_shared<const Snapshot>()) {}

Collector::Collector(NicControl &nic, std::unique_ptr<Archive> archive,
                     std::chrono::milliseconds interval)
    : nic_(&nic),
      archive_(std::move(archive)),
      interval_(interval),
      latest_(std::make_shared<const Snapshot>()) {}

Collector::~Collector() { stop(); }

Result<void> Collector::sweep_once() {
  const auto start = std::chrono::steady_clock::now();
  auto counters = nic_->counters();
  const auto took = since(start);
  if (!counters) {
    MutexLock lock(mu_);
    stats_.last_sweep = took;
    stats_.sweep_errors++;
    return counters.error();
  }
  const int64_t ts = now_ms();
  bool archive_failed = false;
  if (archive_) {
    auto res = archive_->record(ts, *counters);
    if (!res) {
      archive_failed = true;
      log_warning("archive: " + res.error().message());
    }
  }
  auto snap = std::make_shared<Snapshot>();
  snap->ts_ms = ts;
  for (IfaceCounters &ic : *counters) {
    std::string name = ic.link.name;
    snap->by_name.emplace(std::move(name), std::move(ic));
  }
  MutexLock lock(mu_);
  stats_.last_sweep = took;
  stats_.sweeps++;
  if (archive_failed) stats_.archive_errors++;
  latest_ = std::move(snap);
  return {};
}

void Collector::maintain_once() {
  if (!archive_) return;
  const int64_t now = now_ms();
  bool started = false;
  if (!maintaining_) {
    if (now - last_maintain_ms_ <
        std::chrono::duration_cast<std::chrono::milliseconds>(kMaintainEvery)
            .count())
      return;
    last_maintain_ms_ = now;
    maintaining_ = true;
    started = true;
  }
  // Bounded steps (each one short transaction) for up to kMaintainSlice,
  // at least one; the pass goes on after the next sweep.
  const auto start = std::chrono::steady_clock::now();
  bool failed = false;
  while (maintaining_) {
    auto m = archive_->maintain(now);
    if (!m) {
      log_warning("archive maintenance: " + m.error().message());
      failed = true;
      maintaining_ = false;
      break;
    }
    maintaining_ = m->more;
    if (since(start) >= kMaintainSlice) break;
  }
  const auto took = since(start);
  MutexLock lock(mu_);
  if (started) stats_.maintenance_runs++;
  stats_.last_maintenance = took;
  if (failed) stats_.archive_errors++;
}

void Collector::start() {
  if (thread_.joinable() || !owned_nic_) return;
  {
    MutexLock lock(mu_);
    stopping_ = false;
  }
  thread_ = std::thread([this] { loop(); });
}

void Collector::stop() {
  if (thread_.joinable()) {
    {
      MutexLock lock(mu_);
      stopping_ = true;
    }
    wake_.notify_all();
    thread_.join();
  }
  if (archive_) {
    auto res = archive_->flush();
    if (!res) log_error("archive flush: " + res.error().message());
  }
}

void Collector::sweep_soon() {
  {
    MutexLock lock(mu_);
    sweep_now_ = true;
  }
  wake_.notify_all();
}

std::shared_ptr<const Snapshot> Collector::latest() const {
  MutexLock lock(mu_);
  return latest_;
}

CollectorStats Collector::stats() const {
  MutexLock lock(mu_);
  return stats_;
}

void Collector::loop() {
  using Clock = std::chrono::steady_clock;
  auto next = Clock::now();
  for (;;) {
    {
      MutexLock lock(mu_);
      wake_.wait_until(mu_, next, [this]() KEEL_REQUIRES(mu_) {
        return stopping_ || sweep_now_;
      });
      if (stopping_) return;
      sweep_now_ = false;
    }
    auto res = sweep_once();
    if (!res) log_warning("sweep: " + res.error().message());
    maintain_once();
    // The next tick on the interval's grid; ticks missed while a sweep
    // or maintenance overran are skipped, not run back to back.
    const auto now = Clock::now();
    next += interval_;
    if (next <= now) next = now + interval_;
  }
}

}  // namespace keel
