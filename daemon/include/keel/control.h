// SPDX-License-Identifier: GPL-2.0
//
// keel::ControlServer: keeld's control socket.
//
// Protocol: a unix stream socket carrying one JSON object per line in each
// direction. A request is
//     {"cmd": "status", "args": {...}}
// and its answer, on one line,
//     {"ok": true, "result": ...}   or
//     {"ok": false, "error": "text", "errno": "EINVAL"}
// Requests on one connection are answered in order. A line longer than
// kMaxRequest bytes, text that is not a JSON object, or a request without
// a string "cmd" is answered with an error and the connection is closed;
// the daemon and its other connections are unaffected. An unknown command
// or bad arguments are answered with an error and the connection stays.
//
// Access: the socket file is created with mode 0660 (owner root or the
// daemon's user, group optional). On top of the file mode, each peer's
// credentials are checked when it connects: root, the daemon's own uid,
// or a member of the socket's group (its primary group, SO_PEERCRED, or a
// supplementary one, SO_PEERGROUPS; both as they were at connect()) are
// served; anyone else is refused with an error line.
//
// Accepting: kAcceptsPerTurn connections per turn at most. When
// accept4() fails for want of descriptors (EMFILE, ENFILE) or memory, the
// connection stays queued and the listener readable: the listener leaves
// the epoll set for kAcceptBackoff, then accepting is tried again. One
// warning is logged when such an episode begins, one line when a
// connection is accepted again.
//
// A connection idle for kIdleTimeout (no whole request received, no
// answer bytes taken by the client) is closed, with an ETIMEDOUT error
// line if no answer is pending: a client that connects and waits, sends
// half a request, or asks and never reads cannot hold a slot for ever.
//
// Answers a client has not read yet wait in keeld up to kMaxOutput
// bytes (one answer may be longer): a request to be answered while that
// much waits closes the connection at once, its answers dropped.
//
// Every write to a client is send(MSG_NOSIGNAL): a client that left
// (EPIPE, ECONNRESET) has its connection closed and costs nothing else;
// the server never raises SIGPIPE, whatever the process does with it.
//
// Fairness: one call of dispatch() is one turn. In a turn each
// connection has at most kRequestsPerTurn requests answered; the rest
// wait, read but unanswered, for the next turns (while it has such
// requests waiting, nothing more is read from it). So a client that
// pipelines a flood of requests delays another client's answer by one
// turn at most, and the owner's other work runs between turns.
//
// Threading: single-threaded. fd() is an epoll descriptor covering the
// listener, every connection, an eventfd that keeps it readable while
// work is left for another turn and a timerfd that makes it readable
// when a connection's idle time is up or accepting is to resume; when it
// is readable the owner calls dispatch(), which never blocks.
//
// Counters: connections accepted, refused (credentials), closed for bad
// input, requests answered, connections closed idle or at the output
// cap, pauses in accepting; see stats().
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "keel/fd.h"
#include "keel/result.h"

namespace keel {

// A request handler: args in, result out, or an Error that the client
// receives as {"ok": false, ...}.
using ControlHandler =
    std::function<Result<nlohmann::json>(const nlohmann::json &args)>;

struct ControlStats {
  uint64_t accepted = 0;
  uint64_t refused = 0;    // credentials not allowed
  uint64_t bad_input = 0;  // closed for oversized or malformed input
  uint64_t requests = 0;   // answered, ok or not
  uint64_t idle_closed = 0;
  uint64_t accept_pauses = 0;  // accept4() failed: EMFILE, ENFILE, ...
  uint64_t output_full = 0;    // closed asking with kMaxOutput unread
};

class ControlServer {
  struct Token {
    explicit Token() = default;
  };

 public:
  static constexpr size_t kMaxRequest = size_t{64} * 1024;
  static constexpr size_t kMaxClients = 64;
  // Requests answered per connection in one turn of dispatch().
  static constexpr size_t kRequestsPerTurn = 16;
  // Answers held for one connection before it must read them.
  static constexpr size_t kMaxOutput = size_t{8} << 20;
  // A connection that neither sends a whole request nor takes any of its
  // answers for this long is closed. keelctl gives up after as long.
  static constexpr std::chrono::seconds kIdleTimeout{30};
  // Connections accepted in one turn at most (the listen backlog).
  static constexpr size_t kAcceptsPerTurn = 16;
  // When accept4() fails for want of descriptors or memory, the listener
  // is left alone this long rather than polled in a busy loop.
  static constexpr std::chrono::milliseconds kAcceptBackoff{100};

  // Listen on path (a stale socket file is replaced; a live one is
  // EADDRINUSE). group: the socket's group, or nullopt to keep ours.
  static Result<std::unique_ptr<ControlServer>> listen(
      const std::string &path, std::optional<gid_t> group = std::nullopt);
  // Serve an already listening socket (tests, socket activation).
  static Result<std::unique_ptr<ControlServer>> adopt(Fd listener, gid_t group);

  // For listen()/adopt() only: nobody else can name a Token.
  ControlServer(Token, Fd listener, Fd epoll, Fd wake, Fd timer, gid_t group);

  ControlServer(const ControlServer &) = delete;
  ControlServer &operator=(const ControlServer &) = delete;
  ControlServer(ControlServer &&) = delete;
  ControlServer &operator=(ControlServer &&) = delete;
  ~ControlServer();

  void on(std::string cmd, ControlHandler handler);

  [[nodiscard]] int fd() const noexcept { return epoll_.get(); }
  // One turn: accept, read, answer (kRequestsPerTurn per connection at
  // most) and write what is ready; never blocks.
  void dispatch();

  // kIdleTimeout unless set (tests).
  void set_idle_timeout(std::chrono::milliseconds timeout) noexcept {
    idle_timeout_ = timeout;
  }
  [[nodiscard]] const ControlStats &stats() const noexcept { return stats_; }
  [[nodiscard]] size_t clients() const noexcept { return clients_.size(); }

  // One answer line (without '\n') for a request line; public for tests.
  // close is set when the connection must be closed after the answer.
  std::string answer(std::string_view line, bool &close);

 private:
  using Clock = std::chrono::steady_clock;

  struct Client {
    Fd fd;
    Clock::time_point active;  // accepted, a request taken, answers taken
    std::string in;            // bytes read, not yet answered
    std::string out;           // answers, written up to sent
    size_t sent = 0;
    bool eof = false;      // the peer sends no more
    bool closing = false;  // close once out is written
    uint32_t events = 0;   // what epoll watches for
  };

  void accept_some();
  void pause_accepting(int err);
  void resume_accepting(Clock::time_point now);
  void receive(Client &c);
  void answer_some(Client &c);
  bool flush(Client &c);
  bool watch(Client &c);
  void close_idle(Client &c);
  void arm_timer();
  [[nodiscard]] bool allowed(int fd) const;

  Fd listener_;
  Fd epoll_;
  Fd wake_;   // an eventfd, readable while work waits for the next turn
  Fd timer_;  // a timerfd, readable when the first deadline is due
  std::optional<Clock::time_point> armed_;  // when timer_ fires
  std::chrono::milliseconds idle_timeout_ = kIdleTimeout;
  // Accepting is paused until then (the listener is out of the set).
  std::optional<Clock::time_point> accept_paused_until_;
  bool accept_failing_ = false;  // since the last accepted connection
  gid_t group_;
  std::string path_;  // unlinked on destruction; "" if adopted
  std::map<int, Client> clients_;
  std::map<std::string, ControlHandler, std::less<>> handlers_;
  ControlStats stats_;
};

// Client side, for keelctl and tests: connect, send one request, read one
// answer line. timeout_ms bounds the whole exchange.
Result<nlohmann::json> control_call(const std::string &path,
                                    std::string_view cmd,
                                    const nlohmann::json &args,
                                    int timeout_ms = 30000);

}  // namespace keel
