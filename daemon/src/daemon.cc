// SPDX-License-Identifier: GPL-2.0
#include "keel/daemon.h"

#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>

#include <array>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <limits>
#include <set>
#include <unistd.h>
#include <utility>

#include "keel/json.h"
#include "keel/log.h"
#include "keel/metrics.h"
#include "keel/version.h"

namespace keel {

using nlohmann::json;

namespace {

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// A periodic CLOCK_MONOTONIC timer whose first expiry is at once.
Result<Fd> periodic_timer(std::chrono::milliseconds period) {
  Fd timer(::timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC));
  if (!timer.valid()) return Error::from_errno("timerfd_create");
  const auto ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(period).count();
  itimerspec its{};
  its.it_interval.tv_sec = ns / 1000000000;
  its.it_interval.tv_nsec = ns % 1000000000;
  its.it_value.tv_nsec = 1;
  if (::timerfd_settime(timer.get(), 0, &its, nullptr) < 0)
    return Error::from_errno("timerfd_settime");
  return timer;
}

// A time argument of history or export (epoch ms), fallback if absent:
// a JSON integer that fits int64_t. nlohmann's value() would convert a
// float with static_cast, undefined beyond int64_t's range.
Result<int64_t> time_arg(const json &args, const char *name, int64_t fallback) {
  auto it = args.find(name);
  if (it == args.end()) return fallback;
  if (it->is_number_integer() &&
      (!it->is_number_unsigned() ||
       it->get<uint64_t>() <=
           static_cast<uint64_t>(std::numeric_limits<int64_t>::max())))
    return it->get<int64_t>();
  return Error(EINVAL, std::string("bad arguments: ") + name +
                           " must be an integer (epoch ms)");
}

// The archive's rows for keelctl export, as one string. Refused beyond
// kMaxExport bytes: the answer travels as one JSON line.
constexpr size_t kMaxExport = size_t{64} << 20;

Result<json> export_text(Archive &archive, const json &args) {
  auto format = parse_export_format(args.value("format", std::string("csv")));
  if (!format) return format.error();
  ExportFilter filter;
  filter.iface = args.value("ifname", std::string());
  filter.key_prefix = args.value("counter", std::string());
  auto since = time_arg(args, "since_ms", 0);
  if (!since) return since.error();
  auto until = time_arg(args, "until_ms", std::numeric_limits<int64_t>::max());
  if (!until) return until.error();
  filter.since_ms = *since;
  filter.until_ms = *until;
  std::string out;
  bool too_big = false;
  ExportWriter writer(*format, [&](std::string_view piece) {
    if (out.size() + piece.size() > kMaxExport) too_big = true;
    if (!too_big) out.append(piece);
  });
  writer.begin();
  auto res = archive.export_rows(filter, [&](const Row &r) { writer.row(r); });
  if (!res) return res.error();
  writer.end();
  if (too_big)
    return Error(E2BIG,
                 "the export is larger than 64 MiB: narrow it with "
                 "--iface, --since or --until");
  return json(out);
}

// The profiles a client sent with apply or diff: {"files": [{"name",
// "text"}, ...]}, parsed as one set. keeld opens no file a client names:
// it would do so as root (a FIFO hung the loop, /dev/zero was read
// without end, parse errors showed pieces of root's files; issue 11).
// keelctl reads the file with its user's rights and sends the text.
Result<std::vector<Profile>> sent_profiles(const json &args) {
  if (args.contains("path"))
    return Error(EINVAL,
                 "keeld opens no file a client names: send the profile text "
                 "as \"files\": [{\"name\", \"text\"}] (keelctl does)");
  auto files = args.find("files");
  if (files == args.end() || !files->is_array() || files->empty())
    return Error(EINVAL,
                 "\"files\" must be a non-empty array of {\"name\", "
                 "\"text\"}");
  std::vector<ProfileSource> sources;
  sources.reserve(files->size());
  for (const json &f : *files)
    sources.push_back(ProfileSource{f.at("name").get<std::string>(),
                                    f.at("text").get<std::string>()});
  return parse_profile_sources(sources);
}

bool expired(const Fd &timer) {
  uint64_t expirations = 0;
  return ::read(timer.get(), &expirations, sizeof(expirations)) > 0;
}

Result<void> watch(int epoll, int fd) {
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = fd;
  if (::epoll_ctl(epoll, EPOLL_CTL_ADD, fd, &ev) < 0)
    return Error::from_errno("epoll_ctl");
  return {};
}

}  // namespace

Result<std::unique_ptr<Daemon>> Daemon::create(
    DaemonConfig config, std::unique_ptr<NicControl> nic,
    std::unique_ptr<EventSource> events,
    std::unique_ptr<NicControl> sweep_nic) {
  if (!nic) return Error(EINVAL, "keeld: no NicControl");
  if (config.interval < std::chrono::milliseconds(10))
    return Error(EINVAL, "keeld: the sweep interval must be 10 ms or more");
  if (config.drift_check < std::chrono::milliseconds(10))
    return Error(EINVAL, "keeld: the drift period must be 10 ms or more");
  auto d = std::make_unique<Daemon>(Token{}, std::move(config), std::move(nic),
                                    std::move(events));
  auto res = d->setup(std::move(sweep_nic));
  if (!res) return res.error();
  return d;
}

Daemon::Daemon(Token /*token*/, DaemonConfig config,
               std::unique_ptr<NicControl> nic,
               std::unique_ptr<EventSource> events)
    : config_(std::move(config)),
      nic_(std::move(nic)),
      events_(std::move(events)),
      started_(std::chrono::steady_clock::now()) {}

// The collector's thread ends and the archive is flushed before the
// rest goes.
Daemon::~Daemon() {
  if (collector_) collector_->stop();
}

Result<void> Daemon::setup(std::unique_ptr<NicControl> sweep_nic) {
  epoll_ = Fd(::epoll_create1(EPOLL_CLOEXEC));
  if (!epoll_.valid()) return Error::from_errno("epoll_create1");

  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGTERM);
  sigaddset(&mask, SIGINT);
  sigaddset(&mask, SIGHUP);
  if (::pthread_sigmask(SIG_BLOCK, &mask, nullptr) != 0)
    return Error(EINVAL, "block signals");
  signals_ = Fd(::signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC));
  if (!signals_.valid()) return Error::from_errno("signalfd");

  auto timer = periodic_timer(config_.interval);
  if (!timer) return timer.error();
  timer_ = std::move(*timer);
  auto drift = periodic_timer(config_.drift_check);
  if (!drift) return drift.error();
  drift_timer_ = std::move(*drift);

  // Profiles: a bad set at start is fatal (there is no last good one).
  manager_ = std::make_unique<ProfileManager>(*nic_, config_.profiles,
                                              config_.drift_check);
  if (!config_.profiles.empty()) {
    auto res = manager_->load();
    if (!res) return res.error().with_context("profiles");
  }

  // The collector writes the archive; the loop reads it through a
  // connection of its own (WAL: readers never wait for the writer).
  std::unique_ptr<Archive> writer;
  if (config_.archive) {
    auto archive = Archive::open(*config_.archive);
    if (!archive) return archive.error().with_context("archive");
    writer = std::move(*archive);
    ArchiveConfig ro = *config_.archive;
    ro.read_only = true;
    auto reader = Archive::open(ro);
    if (!reader) return reader.error().with_context("archive");
    archive_ = std::move(*reader);
  }
  const bool threaded = sweep_nic != nullptr;
  if (threaded)
    collector_ = std::make_unique<Collector>(
        std::move(sweep_nic), std::move(writer), config_.interval);
  else  // inline sweeps with the loop's own NicControl, lent
    collector_ =
        std::make_unique<Collector>(*nic_, std::move(writer), config_.interval);

  auto provider = [this] { return metrics_text(); };
  if (config_.metrics.kind == MetricsAddress::Kind::kTcp) {
    auto m = MetricsServer::listen_tcp(config_.metrics.port, provider);
    if (!m) return m.error().with_context("metrics");
    metrics_ = std::move(*m);
  } else if (config_.metrics.kind == MetricsAddress::Kind::kUnix) {
    auto m = MetricsServer::listen_unix(config_.metrics.path, provider);
    if (!m) return m.error().with_context("metrics");
    metrics_ = std::move(*m);
  }

  auto control = ControlServer::listen(config_.socket, config_.socket_group);
  if (!control) return control.error();
  control_ = std::move(*control);
  register_commands();

  std::vector<int> fds = {signals_.get(), timer_.get(), drift_timer_.get(),
                          control_->fd()};
  if (events_) fds.push_back(events_->fd());
  if (metrics_) fds.push_back(metrics_->fd());
  for (int fd : fds) {
    auto res = watch(epoll_.get(), fd);
    if (!res) return res;
  }

  if (!manager_->profiles().empty()) {
    auto reports = manager_->apply_all();
    if (!reports) log_warning("apply: " + reports.error().message());
  }
  threaded_ = threaded;
  return {};
}

Result<void> Daemon::run() {
  while (step(-1)) {
  }
  if (fatal_) return *fatal_;
  return {};
}

bool Daemon::step(int timeout_ms) {
  if (!loop_started_) {
    loop_started_ = true;
    // keeld forks to detach between create() and the loop. epoll
    // watches a signalfd through the signal queue of the process that
    // added it: the parent's, which is gone. Added again here, a SIGTERM
    // to the detached daemon wakes the loop (it did not: keeld without
    // --foreground could not be stopped).
    (void)::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, signals_.get(), nullptr);
    if (auto res = watch(epoll_.get(), signals_.get()); !res) {
      fatal_ = res.error();
      stopping_ = true;
      return false;
    }
    // The same fork keeps only the calling thread: the collector's
    // starts now, not in create().
    if (threaded_) collector_->start();
  }
  std::array<epoll_event, 8> events{};
  const int n = ::epoll_wait(epoll_.get(), events.data(),
                             static_cast<int>(events.size()), timeout_ms);
  if (n < 0 && errno != EINTR) {
    // EBADF, EFAULT, EINVAL: the loop itself is broken and would spin;
    // stop rather than serve nothing at full CPU.
    fatal_ = Error::from_errno("epoll_wait");
    stopping_ = true;
  }
  for (int i = 0; i < n; i++) {
    const int fd = events[static_cast<size_t>(i)].data.fd;
    if (fd == signals_.get()) {
      handle_signals();
    } else if (fd == timer_.get()) {
      if (expired(timer_)) on_timer();
    } else if (fd == drift_timer_.get()) {
      if (expired(drift_timer_)) manager_->check_all();
    } else if (fd == control_->fd()) {
      control_->dispatch();
    } else if (events_ && fd == events_->fd()) {
      handle_events();
    } else if (metrics_ && fd == metrics_->fd()) {
      metrics_->dispatch();
    }
  }
  if (stopping_) stop();
  return !stopping_;
}

void Daemon::on_timer() {
  // MHD closes idle connections from dispatch(); give it a chance even
  // when no scraper is talking.
  if (metrics_) metrics_->dispatch();
  // Notifications whose links could not be listed (handle_events()).
  handle_pending_links();
  // Without its thread, the collector sweeps and maintains the archive
  // here (tests that step the loop).
  if (collector_->running()) return;
  auto res = sweep();
  if (!res) log_warning("sweep: " + res.error().message());
  collector_->maintain_once();
}

void Daemon::stop() { collector_->stop(); }

void Daemon::handle_events() {
  auto events = events_->read();
  if (!events) {
    log_warning("notifications: " + events.error().message());
    return;
  }
  if (events->empty()) return;
  stats_.events += events->size();
  // The kernel sends each event once, and read() has consumed them: what
  // they ask for is added to what is pending and stays there until it has
  // been done. If the links cannot be listed now (a dump the kernel kept
  // interrupting), the next sweep tick tries again, instead of a new
  // interface never getting its profile (issue 11).
  for (const LinkEvent &ev : *events) {
    switch (ev.kind) {
      case LinkEvent::Kind::kRemoved:
        // Needs no listing.
        manager_->link_removed(ev.ifindex);
        pending_links_.erase(ev.ifindex);
        break;
      case LinkEvent::Kind::kResync:
        stats_.event_resyncs++;
        pending_resync_ = true;
        break;
      default:
        pending_links_.insert(ev.ifindex);
        break;
    }
  }
  handle_pending_links();
}

void Daemon::handle_pending_links() {
  if (pending_links_.empty() && !pending_resync_) return;
  auto links = nic_->links();
  if (!links) {
    log_warning("notifications: " + links.error().message() +
                " (trying again at the next sweep)");
    return;
  }
  // One check per interface, however many events it had.
  std::set<int> changed = std::exchange(pending_links_, {});
  if (std::exchange(pending_resync_, false))
    for (const LinkInfo &l : *links) changed.insert(l.ifindex);
  auto link_of = [&](int ifindex) -> const LinkInfo * {
    for (const LinkInfo &l : *links)
      if (l.ifindex == ifindex) return &l;
    return nullptr;
  };
  for (int ifindex : changed) {
    const LinkInfo *link = link_of(ifindex);
    if (link == nullptr) continue;
    if (manager_->link_appeared(*link)) continue;
    if (manager_->managed(ifindex) == nullptr) continue;
    auto res = manager_->check_drift(*link);
    if (!res && res.error().errnum() != ENODEV)
      log_warning(link->name + ": drift check: " + res.error().message());
  }
}

Result<void> Daemon::reload() {
  auto res = manager_->load();
  if (!res) {
    log_error("profiles not reloaded, the last good ones stay: " +
              res.error().message());
    return res;
  }
  log_info("profiles reloaded: " + std::to_string(manager_->profiles().size()) +
           " profile(s)");
  auto reports = manager_->apply_all();
  if (!reports) {
    // The new profiles are loaded but in force nowhere yet: every link
    // gets its profile once the links can be listed (next sweep tick).
    log_warning(
        "profiles reloaded but not applied: " + reports.error().message() +
        " (trying again at the next sweep)");
    pending_resync_ = true;
    return reports.error();
  }
  return {};
}

void Daemon::handle_signals() {
  signalfd_siginfo info{};
  while (::read(signals_.get(), &info, sizeof(info)) ==
         static_cast<ssize_t>(sizeof(info))) {
    if (info.ssi_signo == SIGTERM || info.ssi_signo == SIGINT) stopping_ = true;
    if (info.ssi_signo == SIGHUP) (void)reload();
  }
}

Result<void> Daemon::sweep() {
  if (collector_->running())
    return Error(EBUSY, "sweeps run on the collector's thread");
  return collector_->sweep_once();
}

DaemonStats Daemon::stats() const {
  DaemonStats s = stats_;
  const CollectorStats c = collector_->stats();
  s.sweeps = c.sweeps;
  s.sweep_errors = c.sweep_errors;
  s.last_sweep = c.last_sweep;
  s.archive_errors = c.archive_errors;
  s.maintenance_runs = c.maintenance_runs;
  s.last_maintenance = c.last_maintenance;
  return s;
}

Result<LinkInfo> Daemon::find_link(const std::string &name) {
  auto links = nic_->links();
  if (!links) return links.error();
  for (const LinkInfo &l : *links)
    if (l.name == name) return l;
  return Error(ENODEV, "no interface named '" + name + "'");
}

void Daemon::register_commands() {
  control_->on("status", [this](const json &) -> Result<json> {
    auto links = nic_->links();
    if (!links) return links.error();
    json ifaces = json::array();
    for (const LinkInfo &l : *links) {
      json j = to_json(l);
      j["rules"] = json::array();
      j["drift"] = 0;
      if (const Managed *m = manager_->managed(l.ifindex)) {
        j["rules"].push_back(m->profile);
        j["drift"] = m->drift.size();
        j["differences"] = to_json(m->drift);
      }
      ifaces.push_back(std::move(j));
    }
    const auto up = std::chrono::duration_cast<std::chrono::seconds>(
        std::chrono::steady_clock::now() - started_);
    const ManagerStats &ms = manager_->stats();
    json profile{{"path", config_.profiles},
                 {"rules", manager_->profiles().size()},
                 {"error", manager_->error().empty() ? json(nullptr)
                                                     : json(manager_->error())},
                 {"applies", ms.applies},
                 {"settings_failed", ms.settings_failed},
                 {"drift_detected", ms.drift_detected},
                 {"drift_corrected", ms.drift_corrected}};
    const DaemonStats st = stats();
    json r{{"version", kVersion},
           {"uptime_s", up.count()},
           {"interval_s", static_cast<double>(config_.interval.count()) / 1000},
           {"sweeps", st.sweeps},
           {"sweep_errors", st.sweep_errors},
           {"last_sweep_us", st.last_sweep.count()},
           {"events", st.events},
           {"profile", profile},
           {"interfaces", ifaces}};
    if (archive_) {
      auto bytes = archive_->file_bytes();
      r["archive"] = {{"path", config_.archive->path},
                      {"bytes", bytes ? json(*bytes) : json(nullptr)},
                      {"errors", st.archive_errors},
                      {"maintenance_runs", st.maintenance_runs},
                      {"last_maintenance_us", st.last_maintenance.count()}};
    }
    return r;
  });

  control_->on("show", [this](const json &args) -> Result<json> {
    const auto name = args.at("ifname").get<std::string>();
    auto link = find_link(name);
    if (!link) return link.error();
    auto settings = nic_->settings(link->ifindex);
    if (!settings) return settings.error();
    json r{{"link", to_json(*link)}, {"settings", to_json(*settings)}};
    auto objs = nic_->netdev_objects(link->ifindex);
    if (objs) r.update(to_json(*objs));
    return r;
  });

  control_->on("stats", [this](const json &args) -> Result<json> {
    const auto name = args.at("ifname").get<std::string>();
    auto snap = collector_->latest();
    auto it = snap->by_name.find(name);
    if (it == snap->by_name.end()) {
      // Not in the last sweep: a new interface, or none by that name.
      auto link = find_link(name);
      if (!link) return link.error();
      if (collector_->running()) {
        // The loop never waits for a sweep: ask for one, and the
        // client asks again (keelctl does, for a few seconds).
        collector_->sweep_soon();
        return Error(EAGAIN, "no counters for '" + name +
                                 "' yet: keeld sweeps it now, ask again");
      }
      auto res = sweep();
      if (!res) return res.error();
      snap = collector_->latest();
      it = snap->by_name.find(name);
      if (it == snap->by_name.end())
        return Error(EAGAIN, "no counters for '" + name + "' yet");
    }
    return counters_json(it->second, snap->ts_ms);
  });

  control_->on("apply",
               [this](const json &args) { return apply_command(args); });
  control_->on("diff", [this](const json &args) { return diff_command(args); });

  control_->on("metrics", [this](const json &) -> Result<json> {
    return json(metrics_text());
  });

  control_->on("history", [this](const json &args) -> Result<json> {
    if (!archive_) return Error(ENOTSUP, "keeld runs without an archive");
    const auto ifname = args.at("ifname").get<std::string>();
    const auto key = args.at("counter").get<std::string>();
    auto until = time_arg(args, "until_ms", now_ms());
    if (!until) return until.error();
    // The last hour by default, not before the earliest time there is.
    constexpr int64_t kHourMs = int64_t{3600} * 1000;
    constexpr int64_t kEarliest = std::numeric_limits<int64_t>::min();
    auto since =
        time_arg(args, "since_ms",
                 *until < kEarliest + kHourMs ? kEarliest : *until - kHourMs);
    if (!since) return since.error();
    auto samples = archive_->history(ifname, key, *since, *until);
    if (!samples) return samples.error();
    json points = json::array();
    // [ts_ms, value], or [ts_ms, null] from when the series was not seen.
    for (const Sample &s : *samples)
      points.push_back({s.ts_ms, s.gone ? json(nullptr) : json(s.value)});
    return json{{"ifname", ifname}, {"counter", key}, {"points", points}};
  });

  control_->on("export", [this](const json &args) -> Result<json> {
    if (!archive_) return Error(ENOTSUP, "keeld runs without an archive");
    return export_text(*archive_, args);
  });
}

Result<json> Daemon::apply_command(const json &args) {
  std::vector<ApplyReport> reports;
  std::vector<Profile> loaded;
  const std::vector<Profile> *profiles = &loaded;
  if (args.contains("files") || args.contains("path")) {
    // A one-off: the text's profiles are applied, keeld's stay in force.
    auto p = sent_profiles(args);
    if (!p) return p.error();
    loaded = std::move(*p);
    auto links = nic_->links();
    if (!links) return links.error();
    for (const LinkInfo &link : *links)
      if (const Profile *profile = first_match(loaded, link))
        reports.push_back(apply(*nic_, link, *profile));
  } else {
    // keeld's own profiles, read again from disk
    auto res = manager_->load();
    if (!res) return res.error();
    auto r = manager_->apply_all();
    if (!r) return r.error();
    reports = std::move(*r);
    profiles = &manager_->profiles();
  }
  json ifaces = json::array();
  json warnings = json::array();
  bool ok = true;
  std::set<std::string> used;
  for (const ApplyReport &report : reports) {
    ok = ok && report.ok();
    used.insert(report.profile);
    json j = to_json(report);
    j["ifname"] = report.ifname;
    j["rules"] = json::array({report.profile});
    ifaces.push_back(std::move(j));
  }
  for (const Profile &p : *profiles)
    if (used.count(p.name) == 0)
      warnings.push_back("profile " + p.name + " (" + p.source +
                         ") matches no interface");
  return json{{"ok", ok}, {"interfaces", ifaces}, {"warnings", warnings}};
}

Result<json> Daemon::diff_command(const json &args) {
  auto p = sent_profiles(args);
  if (!p) return p.error();
  auto links = nic_->links();
  if (!links) return links.error();
  json ifaces = json::array();
  json warnings = json::array();
  std::set<std::string> used;
  for (const LinkInfo &link : *links) {
    const Profile *profile = first_match(*p, link);
    if (profile == nullptr) continue;
    used.insert(profile->name);
    auto settings = nic_->settings(link.ifindex);
    if (!settings) {
      warnings.push_back(link.name + ": " + settings.error().message());
      continue;
    }
    ifaces.push_back({{"ifname", link.name},
                      {"rules", json::array({profile->name})},
                      {"differences", to_json(diff(*profile, *settings))}});
  }
  for (const Profile &profile : *p)
    if (used.count(profile.name) == 0)
      warnings.push_back("profile " + profile.name + " (" + profile.source +
                         ") matches no interface");
  return json{{"interfaces", ifaces}, {"warnings", warnings}};
}

std::string Daemon::metrics_text() const {
  const auto snap = collector_->latest();
  std::vector<IfaceCounters> all;
  all.reserve(snap->by_name.size());
  for (const auto &[name, ic] : snap->by_name) all.push_back(ic);
  const DaemonStats st = stats();
  const ManagerStats &ms = manager_->stats();
  auto counter = [](std::string name, std::string help, uint64_t v) {
    return SelfMetric{std::move(name),
                      std::move(help),
                      MetricType::kCounter,
                      {},
                      static_cast<double>(v)};
  };
  std::vector<SelfMetric> self = {
      counter("keel_keeld_sweeps_total", "Counter sweeps done", st.sweeps),
      counter("keel_keeld_sweep_errors_total", "Counter sweeps that failed",
              st.sweep_errors),
      counter("keel_keeld_archive_errors_total",
              "Archive writes and maintenance runs that failed",
              st.archive_errors),
      counter("keel_keeld_events_total", "Link and ethtool notifications",
              st.events),
      counter("keel_keeld_profile_applies_total",
              "Profile applications to an interface", ms.applies),
      counter("keel_keeld_settings_failed_total",
              "Profile settings the kernel refused", ms.settings_failed),
      counter("keel_keeld_drift_detected_total",
              "Drift checks that found a managed setting changed",
              ms.drift_detected),
      counter("keel_keeld_drift_corrected_total", "Drift corrections",
              ms.drift_corrected),
      SelfMetric{"keel_keeld_last_sweep_seconds",
                 "Duration of the last counter sweep",
                 MetricType::kGauge,
                 {},
                 static_cast<double>(st.last_sweep.count()) / 1e6},
  };
  return exposition(all, self);
}

}  // namespace keel
