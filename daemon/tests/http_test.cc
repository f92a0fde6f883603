// SPDX-License-Identifier: GPL-2.0
//
// Tests of keel::MetricsServer: a plain socket client on a thread talks
// HTTP/1.1 to the server, which the test thread drives through fd() and
// dispatch() the way keeld's epoll loop does. TCP on an ephemeral
// loopback port and a unix socket; no privilege needed.
#include "keel/http.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <future>
#include <map>
#include <netinet/in.h>
#include <poll.h>
#include <string>
#include <unistd.h>

#include <gtest/gtest.h>

#include "keel/fd.h"
#include "temp_dir.h"

namespace keel {
namespace {

using namespace std::chrono_literals;

struct Reply {
  int status = 0;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  std::string error;
};

Reply parse_reply(const std::string &raw) {
  Reply r;
  const size_t end = raw.find("\r\n\r\n");
  if (end == std::string::npos) {
    r.error = "no end of headers in: " + raw;
    return r;
  }
  r.body = raw.substr(end + 4);
  size_t pos = raw.find("\r\n");
  const std::string status_line = raw.substr(0, pos);
  if (status_line.rfind("HTTP/1.1 ", 0) != 0) {
    r.error = "bad status line: " + status_line;
    return r;
  }
  r.status = std::stoi(status_line.substr(9, 3));
  while (pos < end) {
    const size_t next = raw.find("\r\n", pos + 2);
    const std::string line = raw.substr(pos + 2, next - pos - 2);
    const size_t colon = line.find(':');
    if (colon != std::string::npos) {
      std::string name = line.substr(0, colon);
      std::transform(name.begin(), name.end(), name.begin(), [](char c) {
        return static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      });
      r.headers[name] = line.substr(line.find_first_not_of(' ', colon + 1));
    }
    pos = next;
  }
  return r;
}

// Blocking client: send the request, read until the server closes.
std::string exchange(Fd fd, const sockaddr *addr, socklen_t len,
                     const std::string &request) {
  if (::connect(fd.get(), addr, len) < 0)
    return Error::from_errno("connect").str();
  size_t sent = 0;
  while (sent < request.size()) {
    const ssize_t n = ::send(fd.get(), request.data() + sent,
                             request.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) return Error::from_errno("send").str();
    sent += static_cast<size_t>(n);
  }
  std::string out;
  std::array<char, 4096> buf{};
  for (;;) {
    const ssize_t n = ::recv(fd.get(), buf.data(), buf.size(), 0);
    if (n <= 0) break;
    out.append(buf.data(), static_cast<size_t>(n));
  }
  return out;
}

// Serve on this thread until the client thread is done.
std::string serve_until_done(MetricsServer &server,
                             std::future<std::string> &client) {
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (client.wait_for(0ms) != std::future_status::ready) {
    if (std::chrono::steady_clock::now() > deadline) {
      ADD_FAILURE() << "client did not finish";
      break;
    }
    pollfd p{server.fd(), POLLIN, 0};
    (void)::poll(&p, 1, 10);
    server.dispatch();
  }
  return client.get();
}

Reply tcp_request(MetricsServer &server, const std::string &request) {
  auto client = std::async(std::launch::async, [&server, request] {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(server.port());
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    Fd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    return exchange(std::move(fd), reinterpret_cast<const sockaddr *>(&addr),
                    sizeof(addr), request);
  });
  return parse_reply(serve_until_done(server, client));
}

std::string get(const std::string &path, const std::string &method = "GET") {
  return method + " " + path +
         " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
}

constexpr std::string_view kBody =
    "# HELP keel_test_total A test.\n# TYPE keel_test_total counter\n"
    "keel_test_total 1\n";

TEST(MetricsServer, GetMetricsOverTcp) {
  int calls = 0;
  auto server = MetricsServer::listen_tcp(0, [&calls] {
    calls++;
    return std::string(kBody);
  });
  ASSERT_TRUE(server) << server.error().str();
  ASSERT_NE((*server)->port(), 0);
  ASSERT_GE((*server)->fd(), 0);

  const Reply r = tcp_request(**server, get("/metrics"));
  ASSERT_TRUE(r.error.empty()) << r.error;
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.headers.at("content-type"),
            "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_EQ(r.headers.at("content-length"), std::to_string(kBody.size()));
  EXPECT_EQ(r.body, kBody);
  EXPECT_EQ(calls, 1);

  // Query strings do not change the path.
  const Reply q = tcp_request(**server, get("/metrics?name[]=x"));
  EXPECT_EQ(q.status, 200);
  EXPECT_EQ((*server)->stats().metrics, 2U);
}

TEST(MetricsServer, HeadHasNoBody) {
  auto server = MetricsServer::listen_tcp(0, [] { return std::string(kBody); });
  ASSERT_TRUE(server) << server.error().str();
  const Reply r = tcp_request(**server, get("/metrics", "HEAD"));
  ASSERT_TRUE(r.error.empty()) << r.error;
  EXPECT_EQ(r.status, 200);
  EXPECT_TRUE(r.body.empty());
}

TEST(MetricsServer, OtherPathIs404) {
  int calls = 0;
  auto server = MetricsServer::listen_tcp(0, [&calls] {
    calls++;
    return std::string(kBody);
  });
  ASSERT_TRUE(server) << server.error().str();
  for (const char *path : {"/", "/metrics/", "/metricsx", "/favicon.ico"}) {
    const Reply r = tcp_request(**server, get(path));
    ASSERT_TRUE(r.error.empty()) << r.error;
    EXPECT_EQ(r.status, 404) << path;
  }
  EXPECT_EQ(calls, 0);
  EXPECT_EQ((*server)->stats().not_found, 4U);
}

TEST(MetricsServer, OtherMethodIs405) {
  auto server = MetricsServer::listen_tcp(0, [] { return std::string(kBody); });
  ASSERT_TRUE(server) << server.error().str();
  const Reply r = tcp_request(
      **server,
      "POST /metrics HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
      "Content-Length: 5\r\n\r\nhello");
  ASSERT_TRUE(r.error.empty()) << r.error;
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(r.headers.at("allow"), "GET, HEAD");
  const Reply d = tcp_request(**server, get("/metrics", "DELETE"));
  EXPECT_EQ(d.status, 405);
  EXPECT_EQ((*server)->stats().bad_method, 2U);
}

TEST(MetricsServer, PortInUse) {
  auto first = MetricsServer::listen_tcp(0, [] { return std::string(kBody); });
  ASSERT_TRUE(first) << first.error().str();
  auto second = MetricsServer::listen_tcp((*first)->port(),
                                          [] { return std::string(kBody); });
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error().errnum(), EADDRINUSE);
}

Reply unix_request(MetricsServer &server, const std::string &path,
                   const std::string &request) {
  auto client = std::async(std::launch::async, [path, request] {
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
    Fd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    return exchange(std::move(fd), reinterpret_cast<const sockaddr *>(&addr),
                    sizeof(addr), request);
  });
  return parse_reply(serve_until_done(server, client));
}

TEST(MetricsServer, UnixSocket) {
  TempDir dir;
  const std::string path = dir.file("metrics.sock");
  {
    auto server =
        MetricsServer::listen_unix(path, [] { return std::string(kBody); });
    ASSERT_TRUE(server) << server.error().str();
    EXPECT_EQ((*server)->port(), 0);
    struct stat st {};
    ASSERT_EQ(::stat(path.c_str(), &st), 0);
    EXPECT_TRUE(S_ISSOCK(st.st_mode));
    EXPECT_EQ(st.st_mode & 0777, 0660U);

    const Reply r = unix_request(**server, path, get("/metrics"));
    ASSERT_TRUE(r.error.empty()) << r.error;
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.headers.at("content-type"),
              "text/plain; version=0.0.4; charset=utf-8");
    EXPECT_EQ(r.body, kBody);
    EXPECT_EQ(unix_request(**server, path, get("/nope")).status, 404);

    // A live socket is not taken over.
    auto second =
        MetricsServer::listen_unix(path, [] { return std::string(kBody); });
    ASSERT_FALSE(second);
    EXPECT_EQ(second.error().errnum(), EADDRINUSE);
  }
  EXPECT_FALSE(std::filesystem::exists(path));  // removed on destruction
}

TEST(MetricsServer, UnixSocketReplacesStaleFile) {
  TempDir dir;
  const std::string path = dir.file("metrics.sock");
  {
    // A socket file nobody listens on, as a killed daemon leaves it.
    Fd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
    ASSERT_EQ(::bind(fd.get(), reinterpret_cast<const sockaddr *>(&addr),
                     sizeof(addr)),
              0);
  }
  ASSERT_TRUE(std::filesystem::exists(path));
  auto server =
      MetricsServer::listen_unix(path, [] { return std::string(kBody); });
  ASSERT_TRUE(server) << server.error().str();
  EXPECT_EQ(unix_request(**server, path, get("/metrics")).status, 200);

  const std::string file = dir.file("plain");
  { std::ofstream(file) << "x"; }
  auto refused =
      MetricsServer::listen_unix(file, [] { return std::string(kBody); });
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().errnum(), EEXIST);
}

TEST(MetricsServer, ManySequentialScrapes) {
  auto server = MetricsServer::listen_tcp(
      0, [] { return std::string(100000, 'x') + "\n"; });
  ASSERT_TRUE(server) << server.error().str();
  for (int i = 0; i < 20; i++) {
    const Reply r = tcp_request(**server, get("/metrics"));
    ASSERT_EQ(r.status, 200);
    ASSERT_EQ(r.body.size(), 100001U);
  }
}

size_t open_fds() {
  size_t n = 0;
  for ([[maybe_unused]] const auto &e :
       std::filesystem::directory_iterator("/proc/self/fd"))
    n++;
  return n;
}

TEST(MetricsServer, ClosesEverything) {
  const size_t before = open_fds();
  {
    auto server =
        MetricsServer::listen_tcp(0, [] { return std::string(kBody); });
    ASSERT_TRUE(server) << server.error().str();
    EXPECT_EQ(tcp_request(**server, get("/metrics")).status, 200);
    EXPECT_GT(open_fds(), before);
  }
  EXPECT_EQ(open_fds(), before);  // listener and MHD's epoll closed once
}

}  // namespace
}  // namespace keel
