// SPDX-License-Identifier: GPL-2.0
//
// The RAII layer's ownership rules: FreeFn with a fake C handle whose
// free function counts calls, the wrappers on real libnl handles (no
// root).
#include <fcntl.h>

#include <cerrno>
#include <memory>
#include <type_traits>
#include <utility>

#include <gtest/gtest.h>

#include "keel/nl.h"

namespace keel::nl {
namespace {

struct FakeHandle {
  int id;
};

int g_freed = 0;
int g_last_freed = -1;

void fake_free(FakeHandle *h) {
  ++g_freed;
  g_last_freed = h->id;
  delete h;  // NOLINT(cppcoreguidelines-owning-memory)
}

using FakePtr = std::unique_ptr<FakeHandle, FreeFn<FakeHandle, fake_free>>;

class HandleTest : public ::testing::Test {
 protected:
  void SetUp() override {
    g_freed = 0;
    g_last_freed = -1;
  }
};

TEST_F(HandleTest, FreedExactlyOnceAtScopeEnd) {
  {
    FakePtr p(new FakeHandle{1});
    EXPECT_EQ(g_freed, 0);
  }
  EXPECT_EQ(g_freed, 1);
  EXPECT_EQ(g_last_freed, 1);
}

TEST_F(HandleTest, NullIsNotFreed) {
  { FakePtr p(nullptr); }
  EXPECT_EQ(g_freed, 0);
}

// Above, FreeFn: Keel's part of a handle (the rest is std::unique_ptr's).
// Below, the wrappers' ownership, observed on real libnl handles.

// A moved socket hands over its descriptor, and the last owner closes
// it: the descriptor is invalid once the new owner is gone.
TEST(Socket, MoveHandsOverAndCloses) {
  int fd = -1;
  {
    auto s = Socket::connect(Protocol::kRoute);
    ASSERT_TRUE(s) << s.error().str();
    fd = s->fd();
    ASSERT_GE(fd, 0);
    Socket moved = std::move(*s);
    EXPECT_EQ(s->get(), nullptr);  // NOLINT(bugprone-use-after-move)
    EXPECT_EQ(moved.fd(), fd);
    EXPECT_NE(::fcntl(fd, F_GETFD), -1);
  }
  errno = 0;
  EXPECT_EQ(::fcntl(fd, F_GETFD), -1);
  EXPECT_EQ(errno, EBADF);
}

// Assigning over a message takes the new one; the old one is freed
// (a leak would show under LeakSanitizer).
TEST(Msg, MoveAssignFreesTheOld) {
  auto a = Msg::alloc();
  auto b = Msg::alloc();
  ASSERT_TRUE(a && b);
  nl_msg *raw = a->get();
  *b = std::move(*a);
  EXPECT_EQ(b->get(), raw);
  EXPECT_EQ(a->get(), nullptr);  // NOLINT(bugprone-use-after-move)
}

// The wrappers own their handle: move-only, never copyable.
static_assert(!std::is_copy_constructible_v<Socket>);
static_assert(!std::is_copy_assignable_v<Socket>);
static_assert(std::is_nothrow_move_constructible_v<Socket>);
static_assert(!std::is_copy_constructible_v<Msg>);
static_assert(std::is_nothrow_move_constructible_v<Msg>);
static_assert(!std::is_copy_constructible_v<Cache>);
static_assert(std::is_nothrow_move_constructible_v<Cache>);
// No implicit conversion from a raw handle.
static_assert(!std::is_convertible_v<nl_msg *, Msg>);
static_assert(!std::is_convertible_v<nl_cache *, Cache>);

TEST(Msg, AllocMoveRelease) {
  auto msg = Msg::alloc();
  ASSERT_TRUE(msg) << msg.error().str();
  nl_msg *raw = msg->get();
  ASSERT_NE(raw, nullptr);

  Msg moved = std::move(*msg);
  EXPECT_EQ(moved.get(), raw);
  EXPECT_EQ(msg->get(), nullptr);  // NOLINT(bugprone-use-after-move)

  Msg again = Msg::adopt(moved.release());
  EXPECT_EQ(moved.get(), nullptr);
  EXPECT_EQ(again.get(), raw);
}

TEST(Cache, EmptyAdopt) {
  Cache c = Cache::adopt(nullptr);
  EXPECT_EQ(c.get(), nullptr);
  EXPECT_EQ(c.size(), 0);
}

TEST(NlError, MapsToErrno) {
  EXPECT_EQ(nl_to_errno(-NLE_OBJ_NOTFOUND), ENOENT);
  EXPECT_EQ(nl_to_errno(-NLE_PERM), EPERM);
  EXPECT_EQ(nl_to_errno(-NLE_NOMEM), ENOMEM);
  EXPECT_EQ(nl_to_errno(-NLE_FAILURE), EIO);
  EXPECT_EQ(nl_to_errno(0), 0);

  Error e = nl_error(-NLE_OBJ_NOTFOUND, "resolve genl family x");
  EXPECT_EQ(e.errnum(), ENOENT);
  EXPECT_EQ(e.message(), "resolve genl family x: Object not found");
}

}  // namespace
}  // namespace keel::nl
