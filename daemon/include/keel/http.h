// SPDX-License-Identifier: GPL-2.0
//
// keel::MetricsServer: the HTTP endpoint Prometheus scrapes.
//
//   GET /metrics   200, Content-Type: text/plain; version=0.0.4;
//                  charset=utf-8, the body from the Provider
//   HEAD /metrics  the same without the body
//   other paths    404
//   other methods  405 with Allow: GET, HEAD
//
// Listens on 127.0.0.1 only (TCP) or on a unix socket (mode 0660, group
// optional; a stale socket file is replaced, a live one is EADDRINUSE,
// the file is removed on destruction). Served by libmicrohttpd in its
// external epoll mode (MHD_USE_EPOLL, no thread of its own) over a
// listening socket bound here and handed in with MHD_OPTION_LISTEN_SOCKET;
// MHD serves AF_UNIX listeners like TCP ones.
//
// Ownership: the server owns the MHD daemon (std::unique_ptr with an
// MHD_stop_daemon deleter) and the listening socket (an Fd: MHD is asked
// to give it back with MHD_quiesce_daemon before it stops); responses are
// owned for the length of one request. At most kMaxConnections at once;
// a connection idle for kIdleTimeout is closed.
//
// Threading: single-threaded. fd() is MHD's epoll descriptor; when it is
// readable the owner calls dispatch(), which never blocks, and it calls
// dispatch() again after timeout_ms() even if nothing was readable (to
// close idle connections). The Provider runs inside dispatch().
//
// Counters: requests answered, by status class; see stats().
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "keel/fd.h"
#include "keel/result.h"

struct MHD_Daemon;
struct MHD_Connection;

namespace keel {

struct HttpStats {
  uint64_t metrics = 0;     // 200 on /metrics
  uint64_t not_found = 0;   // 404
  uint64_t bad_method = 0;  // 405
  uint64_t failed = 0;      // a response could not be queued
};

class MetricsServer {
  struct Token {
    explicit Token() = default;
  };

 public:
  using Provider = std::function<std::string()>;

  static constexpr unsigned int kMaxConnections = 16;
  static constexpr std::chrono::seconds kIdleTimeout{10};

  // 127.0.0.1:port; port 0 picks a free one (see port()).
  static Result<std::unique_ptr<MetricsServer>> listen_tcp(uint16_t port,
                                                           Provider provider);
  static Result<std::unique_ptr<MetricsServer>> listen_unix(
      const std::string &path, Provider provider,
      std::optional<gid_t> group = std::nullopt);

  MetricsServer(Token, Fd listener, Provider provider);
  MetricsServer(const MetricsServer &) = delete;
  MetricsServer &operator=(const MetricsServer &) = delete;
  MetricsServer(MetricsServer &&) = delete;
  MetricsServer &operator=(MetricsServer &&) = delete;
  ~MetricsServer();

  [[nodiscard]] int fd() const noexcept { return epoll_fd_; }
  // The TCP port listened on; 0 for a unix socket.
  [[nodiscard]] uint16_t port() const noexcept { return port_; }
  // Accept, read, answer, write and time out whatever is due; never
  // blocks.
  void dispatch();
  // When dispatch() is due at the latest, or nullopt if only events
  // on fd() matter now.
  [[nodiscard]] std::optional<std::chrono::milliseconds> timeout() const;

  [[nodiscard]] const HttpStats &stats() const noexcept { return stats_; }

 private:
  struct DaemonStop {
    void operator()(MHD_Daemon *d) const noexcept;
  };

  friend class MetricsServerAccess;  // MHD's callback, in http.cc

  Result<void> start();
  // Queue the answer to one request; false if MHD refused it.
  bool answer(MHD_Connection *conn, const char *url, const char *method);

  Fd listener_;
  Provider provider_;
  uint16_t port_ = 0;
  std::string path_;   // unix socket file, unlinked on destruction
  int epoll_fd_ = -1;  // MHD's, lent
  HttpStats stats_;
  // Declared last, stopped first: it calls back into this object.
  std::unique_ptr<MHD_Daemon, DaemonStop> daemon_;
};

}  // namespace keel
