// SPDX-License-Identifier: GPL-2.0
#include "keel/control.h"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/un.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <unistd.h>
#include <vector>

#include "keel/log.h"
#include "keel/unix_socket.h"

namespace keel {

namespace {

using nlohmann::json;

std::string dump(const json &j) {
  // Interface names and kernel messages are bytes, not always UTF-8.
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

json error_json(const Error &err) {
  return json{{"ok", false},
              {"error", err.message()},
              {"errno", errno_name(err.errnum())},
              {"errnum", err.errnum()}};
}

bool watch_fd(int epoll, int op, int fd, uint32_t events) {
  epoll_event ev{};
  ev.events = events;
  ev.data.fd = fd;
  return ::epoll_ctl(epoll, op, fd, &ev) == 0;
}

// Whether a whole request (a line) waits in in.
bool waiting(const std::string &in) {
  return in.find('\n') != std::string::npos;
}

}  // namespace

Result<std::unique_ptr<ControlServer>> ControlServer::listen(
    const std::string &path, std::optional<gid_t> group) {
  auto fd = unix_listen(path, group, "control socket");
  if (!fd) return fd.error();
  auto server = adopt(std::move(*fd), group.value_or(::getegid()));
  if (!server) {
    ::unlink(path.c_str());
    return server.error();
  }
  (*server)->path_ = path;
  return server;
}

Result<std::unique_ptr<ControlServer>> ControlServer::adopt(Fd listener,
                                                            gid_t group) {
  Fd ep(::epoll_create1(EPOLL_CLOEXEC));
  if (!ep.valid()) return Error::from_errno("epoll_create1");
  Fd wake(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
  if (!wake.valid()) return Error::from_errno("eventfd");
  Fd timer(::timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC));
  if (!timer.valid()) return Error::from_errno("timerfd_create");
  if (!watch_fd(ep.get(), EPOLL_CTL_ADD, listener.get(), EPOLLIN) ||
      !watch_fd(ep.get(), EPOLL_CTL_ADD, wake.get(), EPOLLIN) ||
      !watch_fd(ep.get(), EPOLL_CTL_ADD, timer.get(), EPOLLIN))
    return Error::from_errno("epoll_ctl control socket");
  return std::make_unique<ControlServer>(Token{}, std::move(listener),
                                         std::move(ep), std::move(wake),
                                         std::move(timer), group);
}

ControlServer::ControlServer(Token /*token*/, Fd listener, Fd epoll, Fd wake,
                             Fd timer, gid_t group)
    : listener_(std::move(listener)),
      epoll_(std::move(epoll)),
      wake_(std::move(wake)),
      timer_(std::move(timer)),
      group_(group) {}

ControlServer::~ControlServer() {
  if (!path_.empty()) ::unlink(path_.c_str());
}

void ControlServer::on(std::string cmd, ControlHandler handler) {
  handlers_[std::move(cmd)] = std::move(handler);
}

// One turn. epoll_wait() once, with room for every descriptor in the set
// (the listener, the wake eventfd, the timer, kMaxClients connections),
// then every connection gets its share: requests answered, answers
// written, or closed if idle too long.
void ControlServer::dispatch() {
  resume_accepting(Clock::now());
  std::array<epoll_event, kMaxClients + 3> events{};
  const int n = ::epoll_wait(epoll_.get(), events.data(),
                             static_cast<int>(events.size()), 0);
  for (int i = 0; i < n; i++) {
    const auto &ev = events[static_cast<size_t>(i)];
    if (ev.data.fd == listener_.get()) {
      accept_some();
    } else if (ev.data.fd == wake_.get() || ev.data.fd == timer_.get()) {
      uint64_t count = 0;
      (void)!::read(ev.data.fd, &count, sizeof(count));
      if (ev.data.fd == timer_.get()) armed_.reset();
    } else if (auto it = clients_.find(ev.data.fd); it != clients_.end()) {
      // EPOLLHUP or EPOLLERR, a peer gone both ways: what it sent is
      // still read and served, as ever; writing its answer closes it.
      if ((ev.events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0)
        receive(it->second);
    }
  }

  bool more = false;
  const Clock::time_point now = Clock::now();
  for (auto it = clients_.begin(); it != clients_.end();) {
    Client &c = it->second;
    answer_some(c);
    const bool idle = now - c.active >= idle_timeout_;
    if (idle) close_idle(c);
    if (idle || !flush(c) || (c.closing && c.out.empty()) || !watch(c)) {
      ::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, it->first, nullptr);
      it = clients_.erase(it);
      continue;
    }
    more = more || waiting(c.in);
    ++it;
  }
  // Requests read but not answered in this turn: fd() stays readable.
  if (more) {
    const uint64_t one = 1;
    (void)!::write(wake_.get(), &one, sizeof(one));
  }
  arm_timer();
}

// EMFILE, ENFILE, ENOBUFS, ENOMEM (or worse): the connection stays in
// the queue and the listener readable, so polling it again at once would
// spin. Leave it out of the set for kAcceptBackoff; the timer brings the
// owner back.
void ControlServer::pause_accepting(int err) {
  stats_.accept_pauses++;
  ::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, listener_.get(), nullptr);
  accept_paused_until_ = Clock::now() + kAcceptBackoff;
  if (accept_failing_) return;
  accept_failing_ = true;
  log_warning(Error::from_errno(err, "control socket: cannot accept").str() +
              "; trying again every " + std::to_string(kAcceptBackoff.count()) +
              " ms");
}

void ControlServer::resume_accepting(Clock::time_point now) {
  if (!accept_paused_until_ || now < *accept_paused_until_) return;
  if (watch_fd(epoll_.get(), EPOLL_CTL_ADD, listener_.get(), EPOLLIN))
    accept_paused_until_.reset();
  else
    accept_paused_until_ = now + kAcceptBackoff;
}

// Best effort, as a refusal: say why, unless an answer is half written.
void ControlServer::close_idle(Client &c) {
  stats_.idle_closed++;
  if (!c.out.empty()) return;
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(idle_timeout_);
  const Error why(ETIMEDOUT, "idle for " + std::to_string(ms.count()) +
                                 " ms: connection closed");
  const std::string line = dump(error_json(why)) + "\n";
  (void)!::send(c.fd.get(), line.data(), line.size(),
                MSG_NOSIGNAL | MSG_DONTWAIT);
}

// The timer fires when the first connection's idle time is up or
// accepting is to be tried again. It is set again only for an earlier
// moment: firing early costs a turn that finds nothing due and sets it
// for the next.
void ControlServer::arm_timer() {
  std::optional<Clock::time_point> due = accept_paused_until_;
  for (const auto &[fd, c] : clients_)
    if (!due || c.active + idle_timeout_ < *due) due = c.active + idle_timeout_;
  if (!due || (armed_ && *armed_ <= *due)) return;
  // Relative, at least 1 ns: a zero it_value would disarm the timer.
  using std::chrono::duration_cast;
  const auto left =
      std::max(std::chrono::nanoseconds(1),
               duration_cast<std::chrono::nanoseconds>(*due - Clock::now()));
  const auto secs = duration_cast<std::chrono::seconds>(left);
  itimerspec spec{};
  spec.it_value.tv_sec = static_cast<time_t>(secs.count());
  spec.it_value.tv_nsec = (left - secs).count();
  if (::timerfd_settime(timer_.get(), 0, &spec, nullptr) == 0) armed_ = due;
}

// Root, keeld's user, or a member of the socket's group: by its primary
// group or a supplementary one.
//
// The supplementary groups are SO_PEERGROUPS's: like SO_PEERCRED's uid
// and gid, the kernel's copy of the peer's credentials as they were at
// connect(), with nothing to race. Not /proc/PID/status of SO_PEERCRED's
// pid: that process may have exited or changed its groups since, and the
// pid been reused by another, whose groups would be checked instead (and
// the unit's ProtectProc=invisible hides other users' processes from
// keeld anyway). Not getgrouplist() of the uid either: that is the group
// database, not the groups the process has (one that dropped the group
// would still pass), and NSS may block the loop on a network service.
bool ControlServer::allowed(int fd) const {
  ucred cred{};
  socklen_t len = sizeof(cred);
  if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) return false;
  if (cred.uid == 0 || cred.uid == ::geteuid() || cred.gid == group_)
    return true;
  std::vector<gid_t> groups(64);
  for (int tries = 0; tries < 2; tries++) {
    len = static_cast<socklen_t>(groups.size() * sizeof(gid_t));
    if (::getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups.data(), &len) == 0) {
      groups.resize(len / sizeof(gid_t));
      return std::find(groups.begin(), groups.end(), group_) != groups.end();
    }
    if (errno != ERANGE) break;
    groups.resize(len / sizeof(gid_t));  // the size the kernel asked for
  }
  return false;
}

void ControlServer::accept_some() {
  for (size_t i = 0; i < kAcceptsPerTurn; i++) {
    Fd fd(::accept4(listener_.get(), nullptr, nullptr,
                    SOCK_NONBLOCK | SOCK_CLOEXEC));
    if (!fd.valid()) {
      const int err = errno;
      if (err == EINTR || err == ECONNABORTED) continue;  // peer left
      if (err != EAGAIN) pause_accepting(err);
      return;
    }
    if (accept_failing_) {
      log_info("control socket: accepting connections again");
      accept_failing_ = false;
    }

    std::string refusal;
    if (!allowed(fd.get())) {
      stats_.refused++;
      refusal = "permission denied: not root, keeld's user or its group";
    } else if (clients_.size() >= kMaxClients) {
      refusal = "too many control connections";
    }
    if (!refusal.empty()) {
      // Best effort: the socket is new, its buffer empty. A peer that
      // left already makes this EPIPE, never SIGPIPE; it is closed as
      // every refused one is.
      const std::string line = dump(error_json(Error(EACCES, refusal))) + "\n";
      (void)!::send(fd.get(), line.data(), line.size(),
                    MSG_NOSIGNAL | MSG_DONTWAIT);
      continue;
    }
    const uint32_t events = EPOLLIN | EPOLLRDHUP;
    if (!watch_fd(epoll_.get(), EPOLL_CTL_ADD, fd.get(), events)) continue;
    stats_.accepted++;
    Client &c = clients_[fd.get()];
    c.fd = std::move(fd);
    c.events = events;
    c.active = Clock::now();
  }
}

std::string ControlServer::answer(std::string_view line, bool &close) {
  close = false;
  const json req = json::parse(line, nullptr, false);
  if (req.is_discarded() || !req.is_object()) {
    close = true;
    return dump(error_json(Error(EINVAL, "request is not a JSON object")));
  }
  auto cmd = req.find("cmd");
  if (cmd == req.end() || !cmd->is_string()) {
    close = true;
    return dump(
        error_json(Error(EINVAL, "request has no string member 'cmd'")));
  }
  const json empty = json::object();
  auto args = req.find("args");
  if (args != req.end() && !args->is_object())
    return dump(error_json(Error(EINVAL, "'args' must be an object")));
  auto handler = handlers_.find(cmd->get_ref<const std::string &>());
  if (handler == handlers_.end())
    return dump(error_json(
        Error(EINVAL, "unknown command '" + cmd->get<std::string>() + "'")));

  stats_.requests++;
  // Handlers read their arguments with nlohmann::json, which throws on a
  // wrong type: that is the client's error, answered as such.
  try {
    auto result = handler->second(args != req.end() ? *args : empty);
    if (!result) return dump(error_json(result.error()));
    return dump(json{{"ok", true}, {"result", std::move(*result)}});
  } catch (const json::exception &e) {
    return dump(
        error_json(Error(EINVAL, std::string("bad arguments: ") + e.what())));
  }
}

// Read what the peer sent, unless requests read before still wait for
// a turn: a whole line, or more than kMaxRequest bytes, is enough.
void ControlServer::receive(Client &c) {
  if (c.eof || c.closing || waiting(c.in)) return;
  std::array<char, 4096> buf{};
  for (;;) {
    const ssize_t n = ::read(c.fd.get(), buf.data(), buf.size());
    if (n > 0) {
      c.in.append(buf.data(), static_cast<size_t>(n));
      if (std::memchr(buf.data(), '\n', static_cast<size_t>(n)) != nullptr ||
          c.in.size() > kMaxRequest)
        return;
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n == 0 || errno != EAGAIN) c.eof = true;
    return;
  }
}

// Answer up to kRequestsPerTurn of the requests read; the rest wait for
// the next turns. A request while kMaxOutput bytes of answers wait for
// the client to read them closes the connection at once, answers and
// all: a client asking without reading could otherwise make keeld hold
// any amount of them.
void ControlServer::answer_some(Client &c) {
  size_t pos = 0;
  for (size_t done = 0; !c.closing && done < kRequestsPerTurn; done++) {
    const size_t nl = c.in.find('\n', pos);
    if (nl == std::string::npos || nl - pos > kMaxRequest) break;
    if (c.out.size() - c.sent >= kMaxOutput) {
      stats_.output_full++;
      c.closing = true;
      c.out.clear();
      c.sent = 0;
      break;
    }
    bool close = false;
    const std::string_view all = c.in;
    c.out += answer(all.substr(pos, nl - pos), close);
    c.out += '\n';
    c.active = Clock::now();  // after the handler, however long it took
    pos = nl + 1;
    if (close) {
      stats_.bad_input++;
      c.closing = true;
    }
  }
  c.in.erase(0, pos);
  const size_t nl = c.in.find('\n');
  if (!c.closing &&
      (nl == std::string::npos ? c.in.size() : nl) > kMaxRequest) {
    stats_.bad_input++;
    c.out += dump(error_json(Error(EMSGSIZE, "request longer than " +
                                                 std::to_string(kMaxRequest) +
                                                 " bytes"))) +
             "\n";
    c.closing = true;
  }
  // A peer that sends no more is closed once its whole requests are
  // answered; the rest of a line it began is dropped.
  if (c.eof && nl == std::string::npos) c.closing = true;
  if (c.closing) c.in.clear();
}

// Write what is pending; false when the connection is broken: EPIPE or
// ECONNRESET is a client that left, whose connection is dropped.
// MSG_NOSIGNAL: a client gone must not raise SIGPIPE in keeld.
// What was written stays in out until it is the larger part, so each
// byte is moved a bounded number of times however small the pieces the
// socket takes.
bool ControlServer::flush(Client &c) {
  while (c.sent < c.out.size()) {
    const ssize_t n = ::send(c.fd.get(), c.out.data() + c.sent,
                             c.out.size() - c.sent, MSG_NOSIGNAL);
    if (n > 0) {
      c.sent += static_cast<size_t>(n);
      c.active = Clock::now();
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) break;
    return false;
  }
  if (c.sent == c.out.size()) {
    c.out.clear();
    c.sent = 0;
  } else if (c.sent > c.out.size() / 2) {
    c.out.erase(0, c.sent);
    c.sent = 0;
  }
  return true;
}

// Watch the connection for input only while nothing it sent waits for a
// turn (the wake eventfd brings those), and for room while answers wait.
bool ControlServer::watch(Client &c) {
  uint32_t events = 0;
  if (!c.eof && !c.closing && !waiting(c.in)) events |= EPOLLIN | EPOLLRDHUP;
  if (!c.out.empty()) events |= EPOLLOUT;
  if (events == c.events) return true;
  if (!watch_fd(epoll_.get(), EPOLL_CTL_MOD, c.fd.get(), events)) return false;
  c.events = events;
  return true;
}

Result<nlohmann::json> control_call(const std::string &path,
                                    std::string_view cmd,
                                    const nlohmann::json &args,
                                    int timeout_ms) {
  auto fd = unix_connect(path, "keeld");
  if (!fd) return fd.error();
  timeval tv{.tv_sec = timeout_ms / 1000,
             .tv_usec = static_cast<suseconds_t>(timeout_ms % 1000) * 1000};
  if (::setsockopt(fd->get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0 ||
      ::setsockopt(fd->get(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0)
    return Error::from_errno("control socket timeout");

  const std::string line =
      dump(json{{"cmd", std::string(cmd)}, {"args", args}}) + "\n";
  std::optional<Error> send_error;
  for (size_t off = 0; off < line.size();) {
    const ssize_t n =
        ::send(fd->get(), line.data() + off, line.size() - off, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      // keeld may have answered and closed already (a refused peer):
      // its answer says more than EPIPE.
      send_error = Error::from_errno("send to keeld");
      break;
    }
    off += static_cast<size_t>(n);
  }
  std::string in;
  std::array<char, 65536> buf{};
  for (;;) {
    const ssize_t n = ::read(fd->get(), buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && send_error) return *send_error;
    if (n < 0) return Error::from_errno("read from keeld");
    if (n == 0) break;
    in.append(buf.data(), static_cast<size_t>(n));
    if (in.find('\n') != std::string::npos) break;
  }
  const auto nl = in.find('\n');
  if (nl == std::string::npos) {
    if (send_error) return *send_error;
    return Error(EPROTO, "keeld closed the connection without an answer");
  }
  const std::string_view text = in;
  json reply = json::parse(text.substr(0, nl), nullptr, false);
  if (reply.is_discarded() || !reply.is_object() || !reply.contains("ok") ||
      !reply["ok"].is_boolean())
    return Error(EPROTO, "keeld's answer is not valid");
  if (reply["ok"].get<bool>())
    return reply.contains("result") ? reply["result"] : json();
  const int errnum = reply.value("errnum", EIO);
  return Error(errnum > 0 ? errnum : EIO,
               reply.value("error", std::string("keeld refused the request")));
}

}  // namespace keel
