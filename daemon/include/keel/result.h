// SPDX-License-Identifier: GPL-2.0
//
// keel::Error and keel::Result<T>: errors as values.
//
// Result<T> holds either a T or an Error, with the member names of C++23's
// std::expected (has_value, value, error, value_or, operator*, ->) so that
// moving to std::expected later is a rename. std::expected itself is not
// used: GCC 12's libstdc++ provides it only under -std=c++23, and clang 14
// (bookworm's clang, and the one clang-tidy runs) cannot instantiate
// libstdc++'s <expected> at all.
//
// Reading value() of a Result that holds an Error is a programming error:
// it prints the error and aborts. Check has_value() (or operator bool)
// first. Nothing here throws.
//
// Thread safety: plain value types; no shared state.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>

namespace keel {

// An errno value and a message saying what failed ("resolve genl family
// ethtool: Object not found"). errnum is a positive errno (ENOENT, ...).
class Error {
 public:
  Error(int errnum, std::string message)
      : errnum_(errnum), message_(std::move(message)) {}

  // Error from the current errno, e.g. after a failed syscall.
  static Error from_errno(std::string_view what);
  static Error from_errno(int errnum, std::string_view what);

  [[nodiscard]] int errnum() const noexcept { return errnum_; }
  [[nodiscard]] const std::string &message() const noexcept { return message_; }

  // A copy with "context: " in front of the message.
  [[nodiscard]] Error with_context(std::string_view context) const;

  // "message (ENOENT: No such file or directory)"
  [[nodiscard]] std::string str() const;

  friend bool operator==(const Error &, const Error &) = default;

 private:
  int errnum_;
  std::string message_;
};

// The symbolic name of an errno value ("ENOENT"), or "E<number>".
std::string errno_name(int errnum);

namespace detail {
[[noreturn]] void bad_result_access(const Error &err);
}  // namespace detail

template <typename T>
class [[nodiscard]] Result {
  static_assert(!std::is_reference_v<T>, "Result<T&> is not supported");
  static_assert(!std::is_same_v<std::remove_cv_t<T>, Error>,
                "Result<Error> is ambiguous");

 public:
  using value_type = T;
  using error_type = Error;

  // Implicit on purpose: `return value;` and `return Error{...};` both work.
  Result(T value)  // NOLINT(google-explicit-constructor)
      : v_(std::in_place_index<0>, std::move(value)) {}
  Result(Error err)  // NOLINT(google-explicit-constructor)
      : v_(std::in_place_index<1>, std::move(err)) {}

  [[nodiscard]] bool has_value() const noexcept { return v_.index() == 0; }
  explicit operator bool() const noexcept { return has_value(); }

  [[nodiscard]] T &value() & {
    check();
    return std::get<0>(v_);
  }
  [[nodiscard]] const T &value() const & {
    check();
    return std::get<0>(v_);
  }
  [[nodiscard]] T &&value() && {
    check();
    return std::get<0>(std::move(v_));
  }

  [[nodiscard]] T &operator*() & { return value(); }
  [[nodiscard]] const T &operator*() const & { return value(); }
  [[nodiscard]] T &&operator*() && { return std::move(*this).value(); }
  T *operator->() { return &value(); }
  const T *operator->() const { return &value(); }

  // The error; only valid when !has_value().
  [[nodiscard]] const Error &error() const & { return std::get<1>(v_); }
  [[nodiscard]] Error &&error() && { return std::get<1>(std::move(v_)); }

  template <typename U>
  [[nodiscard]] T value_or(U &&fallback) const & {
    return has_value() ? std::get<0>(v_)
                       : static_cast<T>(std::forward<U>(fallback));
  }
  template <typename U>
  [[nodiscard]] T value_or(U &&fallback) && {
    return has_value() ? std::get<0>(std::move(v_))
                       : static_cast<T>(std::forward<U>(fallback));
  }

 private:
  void check() const {
    if (!has_value()) detail::bad_result_access(std::get<1>(v_));
  }

  std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  using value_type = void;
  using error_type = Error;

  Result() = default;
  Result(Error err)  // NOLINT(google-explicit-constructor)
      : err_(std::move(err)) {}

  [[nodiscard]] bool has_value() const noexcept { return !err_.has_value(); }
  explicit operator bool() const noexcept { return has_value(); }
  void value() const {
    if (err_) detail::bad_result_access(*err_);
  }
  [[nodiscard]] const Error &error() const & { return *err_; }

 private:
  std::optional<Error> err_;
};

}  // namespace keel
