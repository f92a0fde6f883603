// SPDX-License-Identifier: GPL-2.0
#include "keel/profile_files.h"

#include <sys/stat.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdint>
#include <fcntl.h>
#include <filesystem>
#include <system_error>
#include <unistd.h>

#include "keel/fd.h"

namespace keel {

namespace {

std::string_view kind(mode_t mode) {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISSOCK(mode)) return "a socket";
  return "of an unknown kind";
}

Result<void> regular(const std::string &path, const struct stat &st,
                     size_t max_bytes) {
  if (!S_ISREG(st.st_mode))
    return Error(EINVAL, path + " is " + std::string(kind(st.st_mode)) +
                             ", not a regular file");
  if (st.st_size < 0 || static_cast<uint64_t>(st.st_size) > max_bytes)
    return Error(EFBIG, path + " is larger than " + std::to_string(max_bytes) +
                            " bytes");
  return {};
}

}  // namespace

Result<std::string> read_regular_file(const std::string &path,
                                      size_t max_bytes) {
  // Not even opened when it is plainly no regular file: opening a
  // device can have effects of its own.
  struct stat st {};
  if (::stat(path.c_str(), &st) < 0) return Error::from_errno(path);
  if (auto ok = regular(path, st, max_bytes); !ok) return ok.error();

  // O_NONBLOCK: a FIFO swapped in after the stat() does not block the
  // open; fstat() below refuses it.
  Fd fd(::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY));
  if (!fd.valid()) return Error::from_errno("open " + path);
  if (::fstat(fd.get(), &st) < 0) return Error::from_errno("stat " + path);
  if (auto ok = regular(path, st, max_bytes); !ok) return ok.error();

  std::string text;
  text.reserve(static_cast<size_t>(st.st_size));
  std::array<char, 16384> buf{};
  for (;;) {
    // At most max_bytes + 1 in all: one byte more says "too large".
    const size_t room = max_bytes + 1 - text.size();
    const ssize_t n = ::read(fd.get(), buf.data(), std::min(room, buf.size()));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Error::from_errno("read " + path);
    if (n == 0) break;
    text.append(buf.data(), static_cast<size_t>(n));
    if (text.size() > max_bytes)
      return Error(EFBIG, path + " is larger than " +
                              std::to_string(max_bytes) + " bytes");
  }
  return text;
}

Result<std::vector<ProfileSource>> read_profile_dir(const std::string &dir,
                                                    size_t max_bytes) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::directory_iterator it(dir, ec);
  if (ec) return Error(ec.value(), "read profile directory " + dir);
  std::vector<std::string> files;
  for (; it != fs::directory_iterator(); it.increment(ec)) {
    if (ec) return Error(ec.value(), "read profile directory " + dir);
    const fs::path &path = it->path();
    if (path.extension() != ".toml") continue;
    std::error_code dir_ec;  // a dangling link: read_regular_file says so
    if (it->is_directory(dir_ec)) continue;
    files.push_back(path.string());
  }
  if (ec) return Error(ec.value(), "read profile directory " + dir);
  std::sort(files.begin(), files.end());

  std::vector<ProfileSource> out;
  out.reserve(files.size());
  for (std::string &f : files) {
    auto text = read_regular_file(f, max_bytes);
    if (!text) return text.error();
    out.push_back(ProfileSource{std::move(f), std::move(*text)});
  }
  return out;
}

Result<std::vector<ProfileSource>> read_profile_sources(const std::string &path,
                                                        size_t max_bytes) {
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode))
    return read_profile_dir(path, max_bytes);
  auto text = read_regular_file(path, max_bytes);
  if (!text) return text.error();
  return std::vector<ProfileSource>{ProfileSource{path, std::move(*text)}};
}

}  // namespace keel
