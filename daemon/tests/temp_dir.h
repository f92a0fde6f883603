// SPDX-License-Identifier: GPL-2.0
//
// keel::TempDir for tests: a directory of their own, removed with
// everything in it when the object goes.
//
// Threading: one owner.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <string>
#include <system_error>

namespace keel {

// A fresh directory under the system's temporary directory, removed
// (with what is in it) when the object goes.
class TempDir {
 public:
  explicit TempDir(const std::string &prefix = "keel-test") {
    std::string tmpl =
        (std::filesystem::temp_directory_path() / (prefix + "-XXXXXX"))
            .string();
    if (::mkdtemp(tmpl.data()) != nullptr) path_ = tmpl;
  }
  TempDir(const TempDir &) = delete;
  TempDir &operator=(const TempDir &) = delete;
  TempDir(TempDir &&) = delete;
  TempDir &operator=(TempDir &&) = delete;
  ~TempDir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }

  // "" if it could not be made.
  [[nodiscard]] const std::string &path() const noexcept { return path_; }
  // A file in it.
  [[nodiscard]] std::string file(const std::string &name) const {
    return path_ + "/" + name;
  }

 private:
  std::string path_;
};

}  // namespace keel
