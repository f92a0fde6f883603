// SPDX-License-Identifier: GPL-2.0
#include "keel/result.h"

#include <cerrno>
#include <memory>
#include <string>

#include <gtest/gtest.h>

namespace keel {
namespace {

Result<int> parse_positive(int v) {
  if (v <= 0) return Error(EINVAL, "not positive: " + std::to_string(v));
  return v;
}

TEST(Result, HoldsValue) {
  auto r = parse_positive(7);
  ASSERT_TRUE(r.has_value());
  EXPECT_TRUE(static_cast<bool>(r));
  EXPECT_EQ(r.value(), 7);
  EXPECT_EQ(*r, 7);
  EXPECT_EQ(r.value_or(-1), 7);
}

TEST(Result, HoldsError) {
  auto r = parse_positive(-2);
  ASSERT_FALSE(r.has_value());
  EXPECT_FALSE(static_cast<bool>(r));
  EXPECT_EQ(r.error().errnum(), EINVAL);
  EXPECT_EQ(r.error().message(), "not positive: -2");
  EXPECT_EQ(r.value_or(-1), -1);
}

TEST(Result, MoveOnlyValue) {
  Result<std::unique_ptr<int>> r(std::make_unique<int>(5));
  ASSERT_TRUE(r);
  std::unique_ptr<int> p = std::move(r).value();
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(*p, 5);
}

TEST(Result, ArrowOperator) {
  Result<std::string> r(std::string("keel"));
  EXPECT_EQ(r->size(), 4U);
}

TEST(Result, ErrorMovesOut) {
  Result<std::string> r(Error(ENOENT, "gone"));
  Error e = std::move(r).error();
  EXPECT_EQ(e, Error(ENOENT, "gone"));
}

TEST(Result, Void) {
  Result<void> ok;
  EXPECT_TRUE(ok.has_value());
  Result<void> bad(Error(EBUSY, "busy"));
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().errnum(), EBUSY);
}

TEST(ResultDeathTest, ValueOfErrorAborts) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  Result<int> r(Error(EIO, "disk on fire"));
  EXPECT_DEATH((void)r.value(), "value\\(\\) of a failed Result: disk on fire");
}

TEST(Error, Formatting) {
  Error e(ENOENT, "resolve genl family ethtool: Object not found");
  EXPECT_EQ(e.str(), "resolve genl family ethtool: Object not found (ENOENT)");
}

TEST(Error, FromErrno) {
  Error e = Error::from_errno(EACCES, "open /dev/keel0");
  EXPECT_EQ(e.errnum(), EACCES);
  EXPECT_EQ(e.message(), "open /dev/keel0: Permission denied");
  EXPECT_EQ(e.str(), "open /dev/keel0: Permission denied (EACCES)");

  errno = EPERM;
  EXPECT_EQ(Error::from_errno("ioctl").errnum(), EPERM);
}

TEST(Error, Context) {
  Error e = Error(EBUSY, "device busy").with_context("set mtu eth0");
  EXPECT_EQ(e.message(), "set mtu eth0: device busy");
  EXPECT_EQ(e.errnum(), EBUSY);
}

TEST(Error, UnknownErrnoName) {
  EXPECT_EQ(errno_name(ENOENT), "ENOENT");
  EXPECT_EQ(errno_name(100000), "E100000");
}

}  // namespace
}  // namespace keel
