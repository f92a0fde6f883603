// SPDX-License-Identifier: GPL-2.0
#include "keel/daemon.h"

#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>

#include <array>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <unistd.h>

#include "keel/json.h"
#include "keel/version.h"

namespace keel {

using nlohmann::json;

namespace {

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
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
    DaemonConfig config, std::unique_ptr<NicControl> nic) {
  if (!nic) return Error(EINVAL, "keeld: no NicControl");
  if (config.interval < std::chrono::milliseconds(10))
    return Error(EINVAL, "keeld: the sweep interval must be 10 ms or more");
  auto d = std::make_unique<Daemon>(Token{}, std::move(config), std::move(nic));
  auto res = d->setup();
  if (!res) return res.error();
  return d;
}

Daemon::Daemon(Token /*token*/, DaemonConfig config,
               std::unique_ptr<NicControl> nic)
    : config_(std::move(config)),
      nic_(std::move(nic)),
      started_(std::chrono::steady_clock::now()) {}

Result<void> Daemon::setup() {
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

  timer_ = Fd(::timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC));
  if (!timer_.valid()) return Error::from_errno("timerfd_create");
  const auto ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(config_.interval)
          .count();
  itimerspec its{};
  its.it_interval.tv_sec = ns / 1000000000;
  its.it_interval.tv_nsec = ns % 1000000000;
  its.it_value.tv_nsec = 1;  // the first sweep at once
  if (::timerfd_settime(timer_.get(), 0, &its, nullptr) < 0)
    return Error::from_errno("timerfd_settime");

  auto control = ControlServer::listen(config_.socket, config_.socket_group);
  if (!control) return control.error();
  control_ = std::move(*control);
  register_commands();

  for (int fd : {signals_.get(), timer_.get(), control_->fd()}) {
    auto res = watch(epoll_.get(), fd);
    if (!res) return res;
  }
  return {};
}

Result<void> Daemon::run() {
  while (step(-1)) {
  }
  return {};
}

bool Daemon::step(int timeout_ms) {
  std::array<epoll_event, 8> events{};
  const int n = ::epoll_wait(epoll_.get(), events.data(),
                             static_cast<int>(events.size()), timeout_ms);
  for (int i = 0; i < n; i++) {
    const int fd = events[static_cast<size_t>(i)].data.fd;
    if (fd == signals_.get()) {
      handle_signals();
    } else if (fd == timer_.get()) {
      uint64_t expirations = 0;
      if (::read(timer_.get(), &expirations, sizeof(expirations)) > 0) {
        auto res = sweep();
        if (!res)
          std::fprintf(stderr, "keeld: sweep: %s\n", res.error().str().c_str());
      }
    } else if (fd == control_->fd()) {
      control_->dispatch();
    }
  }
  return !stopping_;
}

void Daemon::handle_signals() {
  signalfd_siginfo info{};
  while (::read(signals_.get(), &info, sizeof(info)) ==
         static_cast<ssize_t>(sizeof(info))) {
    if (info.ssi_signo == SIGTERM || info.ssi_signo == SIGINT) stopping_ = true;
    // SIGHUP: reload the profiles (once profiles land).
  }
}

Result<void> Daemon::sweep() {
  const auto start = std::chrono::steady_clock::now();
  auto counters = nic_->counters();
  stats_.last_sweep = std::chrono::duration_cast<std::chrono::microseconds>(
      std::chrono::steady_clock::now() - start);
  if (!counters) {
    stats_.sweep_errors++;
    return counters.error();
  }
  stats_.sweeps++;
  last_sweep_ms_ = now_ms();
  latest_.clear();
  for (IfaceCounters &ic : *counters) {
    const std::string name = ic.link.name;
    latest_.emplace(name, std::move(ic));
  }
  return {};
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
      ifaces.push_back(std::move(j));
    }
    const auto up = std::chrono::duration_cast<std::chrono::seconds>(
        std::chrono::steady_clock::now() - started_);
    return json{
        {"version", kVersion},
        {"uptime_s", up.count()},
        {"interval_s", static_cast<double>(config_.interval.count()) / 1000},
        {"sweeps", stats_.sweeps},
        {"sweep_errors", stats_.sweep_errors},
        {"last_sweep_us", stats_.last_sweep.count()},
        {"interfaces", ifaces}};
  });

  control_->on("show", [this](const json &args) -> Result<json> {
    const auto name = args.at("ifname").get<std::string>();
    auto link = find_link(name);
    if (!link) return link.error();
    auto settings = nic_->settings(link->ifindex);
    if (!settings) return settings.error();
    return json{{"link", to_json(*link)}, {"settings", to_json(*settings)}};
  });

  control_->on("stats", [this](const json &args) -> Result<json> {
    const auto name = args.at("ifname").get<std::string>();
    auto it = latest_.find(name);
    if (it == latest_.end()) {
      // Not in the last sweep: a new interface, or none by that name.
      auto link = find_link(name);
      if (!link) return link.error();
      auto res = sweep();
      if (!res) return res.error();
      it = latest_.find(name);
      if (it == latest_.end())
        return Error(EAGAIN, "no counters for '" + name + "' yet");
    }
    return counters_json(it->second, last_sweep_ms_);
  });
}

}  // namespace keel
