// SPDX-License-Identifier: GPL-2.0
#include "keel/unix_socket.h"

#include <sys/socket.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <unistd.h>

namespace keel {

namespace {

Result<Fd> stream_socket(int flags, std::string_view what) {
  Fd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | flags, 0));
  if (!fd.valid()) return Error::from_errno(what);
  return fd;
}

int connect_to(int fd, const sockaddr_un &addr) {
  return ::connect(fd, reinterpret_cast<const sockaddr *>(&addr), sizeof(addr));
}

Result<void> remove_stale(const std::string &path, const sockaddr_un &addr,
                          std::string_view what) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) < 0) {
    if (errno == ENOENT) return {};
    return Error::from_errno("stat " + path);
  }
  if (!S_ISSOCK(st.st_mode))
    return Error(EEXIST, path + " exists and is not a socket");
  auto probe = stream_socket(0, what);
  if (!probe) return probe.error();
  if (connect_to(probe->get(), addr) == 0)
    return Error(EADDRINUSE, path + ": another server is listening on this " +
                                 std::string(what));
  if (::unlink(path.c_str()) < 0 && errno != ENOENT)
    return Error::from_errno("remove stale " + path);
  return {};
}

Error chown_error(int err, const std::string &path, gid_t group) {
  return Error::from_errno(err, "give " + path + " the group " +
                                    std::to_string(group) +
                                    (err == EPERM ? " (needs CAP_CHOWN)" : ""));
}

}  // namespace

Result<sockaddr_un> unix_address(const std::string &path,
                                 std::string_view what) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof(addr.sun_path))
    return Error(ENAMETOOLONG, std::string(what) + " path '" + path +
                                   "' is empty or too long");
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  return addr;
}

Result<Fd> unix_listen(const std::string &path, std::optional<gid_t> group,
                       std::string_view what) {
  auto addr = unix_address(path, what);
  if (!addr) return addr.error();
  auto stale = remove_stale(path, *addr, what);
  if (!stale) return stale.error();
  auto fd = stream_socket(SOCK_NONBLOCK, what);
  if (!fd) return fd.error();
  if (::bind(fd->get(), reinterpret_cast<const sockaddr *>(&*addr),
             sizeof(*addr)) < 0)
    return Error::from_errno("bind " + path);
  // Nobody can connect before listen(), so the mode is set in time.
  // Giving the file a group keeld is not in takes CAP_CHOWN.
  Result<void> res;
  if (::chmod(path.c_str(), 0660) < 0)
    res = Error::from_errno("set the mode of " + path);
  else if (group && ::chown(path.c_str(), static_cast<uid_t>(-1), *group) < 0)
    res = chown_error(errno, path, *group);
  else if (::listen(fd->get(), 16) < 0)
    res = Error::from_errno("listen on " + path);
  if (!res) {
    ::unlink(path.c_str());
    return res.error();
  }
  return fd;
}

Result<Fd> unix_connect(const std::string &path, std::string_view what) {
  auto addr = unix_address(path, what);
  if (!addr) return addr.error();
  auto fd = stream_socket(0, what);
  if (!fd) return fd.error();
  if (connect_to(fd->get(), *addr) < 0)
    return Error::from_errno("connect to " + std::string(what) + " at " + path);
  return fd;
}

}  // namespace keel
