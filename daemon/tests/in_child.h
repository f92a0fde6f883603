// SPDX-License-Identifier: GPL-2.0
//
// keel::in_child() for tests of code that might hang or eat memory (a
// FIFO opened for reading, /dev/zero read to the end): the code runs in a
// child process with a time limit and an address-space limit (not under
// ASan, see below), so a hang or a runaway read fails the test instead
// of blocking it or the machine.
//
// Threading: fork()s; call it while the test runs no other thread.
#pragma once

#include <sys/resource.h>
#include <sys/wait.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <exception>
#include <fcntl.h>
#include <poll.h>
#include <string>
#include <unistd.h>

#include "keel/fd.h"
#include "keel/result.h"

// ASan (make check-asan) reserves terabytes of address space for its
// shadow memory at start: under an address-space limit it cannot map
// more, and the child fails for that alone. There the child runs without
// it; the time limit stays, and ASan's allocator refuses sizes beyond
// its own maximum.
#if defined(__SANITIZE_ADDRESS__)
#define KEEL_IN_CHILD_AS_LIMIT 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define KEEL_IN_CHILD_AS_LIMIT 0
#endif
#endif
#ifndef KEEL_IN_CHILD_AS_LIMIT
#define KEEL_IN_CHILD_AS_LIMIT 1
#endif

namespace keel {

// Run fn() (returning a std::string) in a child; its string, or an
// Error when the child did not finish within timeout (it is killed) or
// did not exit normally (a signal). An exception fn() throws, such as
// std::bad_alloc beyond 1 GiB, is given back as "threw WHAT".
template <typename Fn>
Result<std::string> in_child(std::chrono::milliseconds timeout, Fn fn) {
  std::array<int, 2> p{};
  if (::pipe2(p.data(), O_CLOEXEC) < 0) return Error::from_errno("pipe2");
  Fd rd(p[0]);
  Fd wr(p[1]);
  const pid_t pid = ::fork();
  if (pid < 0) return Error::from_errno("fork");
  if (pid == 0) {
    rd.reset();
    if (KEEL_IN_CHILD_AS_LIMIT) {
      const rlimit as{size_t{1} << 30, size_t{1} << 30};
      ::setrlimit(RLIMIT_AS, &as);
    }
    std::string out;
    try {
      out = fn();
    } catch (const std::exception &e) {
      // Not to the test framework: this child would run on as the test.
      out = std::string("threw ") + e.what();
    }
    for (size_t off = 0; off < out.size();) {
      const ssize_t n = ::write(wr.get(), out.data() + off, out.size() - off);
      if (n <= 0) ::_exit(3);
      off += static_cast<size_t>(n);
    }
    ::_exit(0);
  }
  wr.reset();
  std::string out;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  bool timed_out = false;
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      timed_out = true;
      break;
    }
    pollfd pfd{.fd = rd.get(), .events = POLLIN, .revents = 0};
    if (::poll(&pfd, 1, static_cast<int>(left.count())) == 0) continue;
    std::array<char, 4096> buf{};
    const ssize_t n = ::read(rd.get(), buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    out.append(buf.data(), static_cast<size_t>(n));
  }
  if (timed_out) ::kill(pid, SIGKILL);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (timed_out)
    return Error(ETIMEDOUT, "did not finish within " +
                                std::to_string(timeout.count()) + " ms");
  if (WIFSIGNALED(status))
    return Error(EINTR, "died of signal " + std::to_string(WTERMSIG(status)));
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    return Error(EIO,
                 "exited with status " + std::to_string(WEXITSTATUS(status)));
  return out;
}

}  // namespace keel
