// SPDX-License-Identifier: GPL-2.0
//
// Reading profile files without trusting what is at the path: keeld
// reads its own profiles (--profiles) this way, keelctl the file or
// directory its user names, with that user's rights. keeld never opens a
// path a control client names; keelctl sends it the text (see control.h
// and Documentation/keeld.rst).
//
// A profile file must be a regular file of at most max_bytes bytes.
// Anything else (a FIFO, whose open would block until a writer comes; a
// device such as /dev/zero, which never ends; a socket; a directory) is
// refused with an error naming the path and what it is, before it is
// opened when stat() already shows it, and by fstat() on the open
// descriptor otherwise, so a path swapped in between is refused too.
// The open is O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY; at most
// max_bytes + 1 bytes are read, so a file that grows (or a procfs file
// that claims 0 bytes) cannot make the read unbounded.
//
// Symbolic links are followed: the paths are the administrator's
// (keeld's configuration) or the caller's own (keelctl), and the checks
// above apply to the file a link leads to.
//
// Threading: plain functions; nothing is shared.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "keel/result.h"

namespace keel {

// The most bytes keeld reads from one of its own profile files.
inline constexpr size_t kMaxProfileFile = size_t{1} << 20;  // 1 MiB

// The text of the regular file at path: EINVAL when it is not a regular
// file ("PATH is a FIFO, not a regular file"), EFBIG when it is larger
// than max_bytes ("PATH is larger than N bytes"), the errno of a failed
// open or read otherwise.
Result<std::string> read_regular_file(const std::string &path,
                                      size_t max_bytes);

// One profile file's text and the name errors give it ("file:line:col").
struct ProfileSource {
  std::string name;
  std::string text;

  friend bool operator==(const ProfileSource &,
                         const ProfileSource &) = default;
};

// The *.toml entries of dir in name order, each read as above; entries
// that are directories are skipped, any other that is not a regular file
// fails the whole read. A missing dir is ENOENT.
Result<std::vector<ProfileSource>> read_profile_dir(const std::string &dir,
                                                    size_t max_bytes);

// path is a directory: read_profile_dir(); anything else: the one file.
// Names are the paths as given, joined with the entry names.
Result<std::vector<ProfileSource>> read_profile_sources(const std::string &path,
                                                        size_t max_bytes);

}  // namespace keel
