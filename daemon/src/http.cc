// SPDX-License-Identifier: GPL-2.0
#include "keel/http.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <arpa/inet.h>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <string_view>
#include <unistd.h>

#include "keel/unix_socket.h"

namespace keel {

namespace {

constexpr const char *kContentType = "text/plain; version=0.0.4; charset=utf-8";

struct ResponseDestroy {
  void operator()(MHD_Response *r) const noexcept { MHD_destroy_response(r); }
};
using Response = std::unique_ptr<MHD_Response, ResponseDestroy>;

Response make_response(std::string_view body) {
  // MUST_COPY: MHD keeps its own copy, so the const_cast never writes.
  return Response(MHD_create_response_from_buffer(
      body.size(), const_cast<char *>(body.data()), MHD_RESPMEM_MUST_COPY));
}

Result<Fd> stream_socket(int domain) {
  Fd fd(::socket(domain, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return Error::from_errno("metrics socket");
  return fd;
}

// Only its address matters: it marks a request as answered.
int answered_marker = 0;

}  // namespace

// MHD's access handler, a friend of MetricsServer.
class MetricsServerAccess {
 public:
  static MHD_Result handle(void *cls, MHD_Connection *conn, const char *url,
                           const char *method, const char * /*version*/,
                           const char * /*upload_data*/,
                           size_t *upload_data_size, void **req_cls) {
    // The answer is queued on the first call; a request body that comes
    // after it is dropped.
    *upload_data_size = 0;
    if (*req_cls == &answered_marker) return MHD_YES;
    *req_cls = &answered_marker;
    auto *server = static_cast<MetricsServer *>(cls);
    return server->answer(conn, url, method) ? MHD_YES : MHD_NO;
  }
};

void MetricsServer::DaemonStop::operator()(MHD_Daemon *d) const noexcept {
  // Take the listening socket back first: the Fd owns and closes it.
  (void)MHD_quiesce_daemon(d);
  MHD_stop_daemon(d);
}

MetricsServer::MetricsServer(Token /*token*/, Fd listener, Provider provider)
    : listener_(std::move(listener)), provider_(std::move(provider)) {}

MetricsServer::~MetricsServer() {
  daemon_.reset();
  if (!path_.empty()) ::unlink(path_.c_str());
}

Result<std::unique_ptr<MetricsServer>> MetricsServer::listen_tcp(
    uint16_t port, Provider provider) {
  auto fd = stream_socket(AF_INET);
  if (!fd) return fd.error();
  const int on = 1;
  if (::setsockopt(fd->get(), SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) < 0)
    return Error::from_errno("metrics socket SO_REUSEADDR");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const std::string where = "127.0.0.1:" + std::to_string(port);
  if (::bind(fd->get(), reinterpret_cast<const sockaddr *>(&addr),
             sizeof(addr)) < 0)
    return Error::from_errno("bind metrics socket " + where);
  if (::listen(fd->get(), 16) < 0)
    return Error::from_errno("listen on " + where);
  socklen_t len = sizeof(addr);
  if (::getsockname(fd->get(), reinterpret_cast<sockaddr *>(&addr), &len) < 0)
    return Error::from_errno("metrics socket address");
  auto server = std::make_unique<MetricsServer>(Token{}, std::move(*fd),
                                                std::move(provider));
  server->port_ = ntohs(addr.sin_port);
  auto started = server->start();
  if (!started) return started.error().with_context("metrics on " + where);
  return server;
}

Result<std::unique_ptr<MetricsServer>> MetricsServer::listen_unix(
    const std::string &path, Provider provider, std::optional<gid_t> group) {
  auto fd = unix_listen(path, group, "metrics socket");
  if (!fd) return fd.error();
  // From here on the server owns the file and removes it on any failure.
  auto server = std::make_unique<MetricsServer>(Token{}, std::move(*fd),
                                                std::move(provider));
  server->path_ = path;
  auto started = server->start();
  if (!started) return started.error().with_context("metrics on " + path);
  return server;
}

Result<void> MetricsServer::start() {
  const MHD_socket listen_fd = listener_.get();
  MHD_Daemon *d = MHD_start_daemon(
      MHD_USE_EPOLL, 0, nullptr, nullptr, &MetricsServerAccess::handle, this,
      MHD_OPTION_LISTEN_SOCKET, listen_fd, MHD_OPTION_CONNECTION_LIMIT,
      kMaxConnections, MHD_OPTION_CONNECTION_TIMEOUT,
      static_cast<unsigned int>(kIdleTimeout.count()), MHD_OPTION_END);
  if (d == nullptr) {
    const int err = errno != 0 ? errno : EIO;
    // If MHD closed the socket while failing, the Fd must not close it
    // again (nothing else opens descriptors on this thread meanwhile).
    if (::fcntl(listen_fd, F_GETFD) < 0) (void)listener_.release();
    return Error::from_errno(err, "start libmicrohttpd");
  }
  daemon_.reset(d);
  const MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_EPOLL_FD);
  if (info == nullptr || info->epoll_fd < 0)
    return Error(EIO, "libmicrohttpd has no epoll descriptor");
  epoll_fd_ = info->epoll_fd;
  return {};
}

void MetricsServer::dispatch() {
  if (daemon_) (void)MHD_run(daemon_.get());
}

std::optional<std::chrono::milliseconds> MetricsServer::timeout() const {
  MHD_UNSIGNED_LONG_LONG ms = 0;
  if (!daemon_ || MHD_get_timeout(daemon_.get(), &ms) != MHD_YES)
    return std::nullopt;
  return std::chrono::milliseconds(ms);
}

bool MetricsServer::answer(MHD_Connection *conn, const char *url,
                           const char *method) {
  const std::string_view m(method);
  unsigned int status = MHD_HTTP_OK;
  std::string body;
  if (m != MHD_HTTP_METHOD_GET && m != MHD_HTTP_METHOD_HEAD) {
    status = MHD_HTTP_METHOD_NOT_ALLOWED;
    body = "method not allowed\n";
  } else if (std::string_view(url) != "/metrics") {
    status = MHD_HTTP_NOT_FOUND;
    body = "not found; metrics are at /metrics\n";
  } else {
    body = provider_();
  }
  Response response = make_response(body);
  if (!response) {
    stats_.failed++;
    return false;
  }
  const char *type =
      status == MHD_HTTP_OK ? kContentType : "text/plain; charset=utf-8";
  bool ok = MHD_add_response_header(
                response.get(), MHD_HTTP_HEADER_CONTENT_TYPE, type) == MHD_YES;
  if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
    ok = ok && MHD_add_response_header(response.get(), MHD_HTTP_HEADER_ALLOW,
                                       "GET, HEAD") == MHD_YES;
  ok = ok && MHD_queue_response(conn, status, response.get()) == MHD_YES;
  if (!ok) {
    stats_.failed++;
    return false;
  }
  if (status == MHD_HTTP_OK)
    stats_.metrics++;
  else if (status == MHD_HTTP_NOT_FOUND)
    stats_.not_found++;
  else
    stats_.bad_method++;
  return true;
}

}  // namespace keel
