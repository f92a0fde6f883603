// SPDX-License-Identifier: GPL-2.0
#include <cerrno>
#include <cstring>
#include <string>

#include "keel/result.h"

namespace keel {

Error Error::from_errno(std::string_view what) {
  return from_errno(errno, what);
}

Error Error::from_errno(int errnum, std::string_view what) {
  // strerrordesc_np() is thread-safe, unlike strerror(); glibc 2.32+.
  const char *desc = strerrordesc_np(errnum);
  return Error(errnum, std::string(what) + ": " +
                           (desc != nullptr ? desc : "Unknown error"));
}

Error Error::with_context(std::string_view context) const {
  return Error(errnum_, std::string(context) + ": " + message_);
}

std::string errno_name(int errnum) {
  // strerrorname_np() is glibc 2.32+; bookworm has 2.36.
  const char *name = strerrorname_np(errnum);
  return name != nullptr ? std::string(name) : "E" + std::to_string(errnum);
}

std::string Error::str() const {
  return message_ + " (" + errno_name(errnum_) + ")";
}

namespace detail {
void bad_result_access(const Error &err) {
  std::fprintf(stderr, "keel: value() of a failed Result: %s\n",
               err.str().c_str());
  std::abort();
}
}  // namespace detail

}  // namespace keel
