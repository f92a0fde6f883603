// SPDX-License-Identifier: GPL-2.0
//
// keeld: the Keel daemon. Parses the command line (options.h), builds the
// netlink NicControl, the event monitor and the counter reader, and runs
// keel::Daemon until SIGTERM. See Documentation/man/keeld.8.
#include <linux/capability.h>
#include <sys/syscall.h>

#include <array>
#include <cerrno>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <fcntl.h>
#include <grp.h>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unistd.h>
#include <vector>

#include "keel/counters.h"
#include "keel/daemon.h"
#include "keel/events.h"
#include "keel/fd.h"
#include "keel/links.h"
#include "keel/log.h"
#include "keel/manager.h"
#include "keel/nic_netlink.h"
#include "keel/options.h"
#include "keel/plan.h"
#include "keel/version.h"

namespace {

using keel::KeeldOptions;

int list_links() {
  auto links = keel::list_links();
  if (!links) {
    std::fprintf(stderr, "keeld: %s\n", links.error().str().c_str());
    return 1;
  }
  std::printf("%-16s %7s %6s %s\n", "NAME", "IFINDEX", "MTU", "STATE");
  for (const keel::Link &link : *links)
    std::printf("%-16s %7d %6u %s\n", link.name.c_str(), link.ifindex, link.mtu,
                link.oper_state.c_str());
  return 0;
}

// --check-profiles: parse, then show what they match here and what
// applying them would change.
int check_profiles(const std::string &path) {
  auto profiles = keel::load_profiles(path);
  if (!profiles) {
    std::fprintf(stderr, "keeld: %s\n", profiles.error().message().c_str());
    return 1;
  }
  std::printf("%s: %zu profile(s)\n", path.c_str(), profiles->size());
  auto nic = keel::NetlinkNic::create();
  if (!nic) {
    std::fprintf(stderr, "keeld: %s\n", nic.error().str().c_str());
    return 1;
  }
  auto links = (*nic)->links();
  if (!links) {
    std::fprintf(stderr, "keeld: %s\n", links.error().str().c_str());
    return 1;
  }
  for (const keel::LinkInfo &link : *links) {
    const keel::Profile *p = keel::first_match(*profiles, link);
    if (p == nullptr) continue;
    auto settings = (*nic)->settings(link.ifindex);
    if (!settings) {
      std::printf("%s: profile %s: %s\n", link.name.c_str(), p->name.c_str(),
                  settings.error().message().c_str());
      continue;
    }
    std::printf("%s: profile %s\n%s", link.name.c_str(), p->name.c_str(),
                keel::to_text(keel::diff(*p, *settings)).c_str());
  }
  return 0;
}

// The netlink event monitor as the daemon's EventSource.
class Notifications final : public keel::EventSource {
 public:
  explicit Notifications(std::unique_ptr<keel::EventMonitor> monitor)
      : monitor_(std::move(monitor)) {}
  [[nodiscard]] int fd() const override { return monitor_->fd(); }
  keel::Result<std::vector<keel::LinkEvent>> read() override {
    return monitor_->read();
  }

 private:
  std::unique_ptr<keel::EventMonitor> monitor_;
};

keel::Result<keel::DaemonConfig> daemon_config(const KeeldOptions &o) {
  keel::DaemonConfig c;
  c.socket = o.socket;
  c.interval = o.interval;
  c.profiles = o.profiles;
  c.drift_check = o.drift_check;
  c.metrics = o.metrics;
  if (o.group) {
    std::vector<char> buf(16384);
    group gr{};
    group *found = nullptr;
    const int err =
        ::getgrnam_r(o.group->c_str(), &gr, buf.data(), buf.size(), &found);
    if (err != 0 || found == nullptr)
      return keel::Error(err != 0 ? err : ENOENT,
                         "--group: no group named '" + *o.group + "'");
    c.socket_group = gr.gr_gid;
  }
  if (!o.archive.empty()) {
    keel::ArchiveConfig a;
    a.path = o.archive;
    a.retention = std::chrono::duration_cast<std::chrono::seconds>(o.retention);
    a.max_bytes = o.archive_max;
    a.raw_for = std::chrono::duration_cast<std::chrono::seconds>(o.raw_for);
    a.step = std::chrono::duration_cast<std::chrono::seconds>(o.step);
    c.archive = a;
  }
  return c;
}

// CAP_CHOWN serves once, to give the control socket --group's group
// (the unit grants it for that); once the daemon is set up it goes from
// the effective, permitted and inheritable sets, which a process may
// always lower. The bounding set keeps it (dropping that takes
// CAP_SETPCAP), but a lost permitted capability comes back only through
// execve(), which keeld never calls. Nothing to do if keeld never had it.
// One thread (see daemon.h), so the whole process loses it.
keel::Result<void> drop_cap_chown() {
  __user_cap_header_struct header{};
  header.version = _LINUX_CAPABILITY_VERSION_3;
  std::array<__user_cap_data_struct, _LINUX_CAPABILITY_U32S_3> caps{};
  if (::syscall(SYS_capget, &header, caps.data()) < 0)
    return keel::Error::from_errno("capget");
  static_assert(CAP_CHOWN < 32, "CAP_CHOWN is in the first word");
  const uint32_t keep = ~(uint32_t{1} << CAP_CHOWN);
  if ((caps[0].permitted & ~keep) == 0 && (caps[0].inheritable & ~keep) == 0)
    return {};
  caps[0].effective &= keep;
  caps[0].permitted &= keep;
  caps[0].inheritable &= keep;
  if (::syscall(SYS_capset, &header, caps.data()) < 0)
    return keel::Error::from_errno("drop CAP_CHOWN");
  return {};
}

// Write pid to path (--pidfile); an error says why it could not be.
keel::Result<void> write_pidfile(const std::string &path, pid_t pid) {
  keel::Fd fd(
      ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  if (!fd.valid()) return keel::Error::from_errno("pidfile " + path);
  const std::string text = std::to_string(pid) + "\n";
  const ssize_t n = ::write(fd.get(), text.data(), text.size());
  if (n != static_cast<ssize_t>(text.size()))
    return keel::Error(n < 0 ? errno : EIO, "write pidfile " + path);
  if (::close(fd.release()) < 0)
    return keel::Error::from_errno("write pidfile " + path);
  return {};
}

// Leave the terminal: the parent exits 0 once the daemon is set up, so a
// failed start is still reported by the exit status. The parent writes
// the pidfile with the child's pid before it exits, so
// whoever waits for it (systemd's Type=forking) finds the file, and a
// pidfile that cannot be written is the parent's exit status 1 (the child
// is stopped, SIGTERM).
bool detach(const std::string &pidfile) {
  const pid_t pid = ::fork();
  if (pid < 0) return false;
  if (pid > 0) {
    if (!pidfile.empty()) {
      if (auto res = write_pidfile(pidfile, pid); !res) {
        keel::log_error(res.error().str());
        ::kill(pid, SIGTERM);
        ::_exit(1);
      }
    }
    ::_exit(0);
  }
  ::setsid();
  const int null = ::open("/dev/null", O_RDWR | O_CLOEXEC);
  if (null >= 0) {
    ::dup2(null, STDIN_FILENO);
    ::dup2(null, STDOUT_FILENO);
    ::dup2(null, STDERR_FILENO);
    ::close(null);
  }
  keel::log_to_syslog();
  return true;
}

int run_daemon(const KeeldOptions &o) {
  // Every write to a client socket is send(MSG_NOSIGNAL); ignoring
  // SIGPIPE as well means a write that misses it costs an EPIPE, not
  // the daemon (issue 11: keeld exited with status 141).
  struct sigaction ignore {};
  ignore.sa_handler = SIG_IGN;
  if (::sigaction(SIGPIPE, &ignore, nullptr) < 0) {
    keel::log_error(keel::Error::from_errno("ignore SIGPIPE").str());
    return 1;
  }
  auto config = daemon_config(o);
  if (!config) {
    std::fprintf(stderr, "keeld: %s\n", config.error().message().c_str());
    return 2;
  }
  auto reader = keel::CounterReader::open();
  if (!reader) {
    keel::log_error("counters: " + reader.error().str());
    return 1;
  }
  // A group that fails costs only itself, and is said once.
  (*reader)->on_group_error(
      [](const keel::Error &e) { keel::log_warning(e.str()); });
  // The reader lives as long as the NicControl that calls it: the
  // collector's, whose thread sweeps (keel/collector.h). The loop has a
  // NicControl of its own for settings and profiles; libnl sockets are
  // never shared between threads.
  std::shared_ptr<keel::CounterReader> shared = std::move(*reader);
  auto sweep_nic =
      keel::NetlinkNic::create([shared](std::span<const keel::LinkInfo> links) {
        return shared->read_all(links);
      });
  if (!sweep_nic) {
    keel::log_error(sweep_nic.error().str());
    return 1;
  }
  auto nic = keel::NetlinkNic::create();
  if (!nic) {
    keel::log_error(nic.error().str());
    return 1;
  }
  auto monitor = keel::EventMonitor::open();
  if (!monitor) {
    keel::log_error("notifications: " + monitor.error().str());
    return 1;
  }
  auto daemon =
      keel::Daemon::create(*config, std::move(*nic),
                           std::make_unique<Notifications>(std::move(*monitor)),
                           std::move(*sweep_nic));
  if (!daemon) {
    keel::log_error(daemon.error().str());
    return 1;
  }
  if (auto dropped = drop_cap_chown(); !dropped) {
    keel::log_error(dropped.error().str());
    return 1;
  }
  if (!o.foreground && !detach(o.pidfile)) {
    keel::log_error("fork failed");
    return 1;
  }
  if (o.foreground && !o.pidfile.empty()) {
    if (auto res = write_pidfile(o.pidfile, ::getpid()); !res) {
      keel::log_error(res.error().str());
      return 1;
    }
  }
  keel::log_info(std::string("keeld ") + keel::kVersion + " running");
  auto res = (*daemon)->run();
  daemon->reset();  // flushes the archive
  if (!o.pidfile.empty()) ::unlink(o.pidfile.c_str());
  if (!res) {
    keel::log_error(res.error().str());
    return 1;
  }
  keel::log_info("keeld stopped");
  return 0;
}

int run(int argc, char **argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  auto o = keel::parse_options(args);
  if (!o) {
    std::fprintf(stderr, "keeld: %s\n%s", o.error().message().c_str(),
                 keel::keeld_usage());
    return 2;
  }
  switch (o->mode) {
    case KeeldOptions::Mode::kVersion:
      std::printf("keeld %s\n", keel::kVersion);
      return 0;
    case KeeldOptions::Mode::kHelp:
      std::fputs(keel::keeld_usage(), stdout);
      return 0;
    case KeeldOptions::Mode::kListLinks:
      return list_links();
    case KeeldOptions::Mode::kCheckProfiles:
      return check_profiles(o->check_path);
    case KeeldOptions::Mode::kRun:
      break;
  }
  return run_daemon(*o);
}

}  // namespace

// Recoverable errors travel as keel::Result; the only exception that can
// reach here is std::bad_alloc, which ends the daemon with a message.
int main(int argc, char **argv) {
  try {
    return run(argc, argv);
  } catch (const std::exception &e) {
    std::fprintf(stderr, "keeld: fatal: %s\n", e.what());
    return 1;
  }
}
