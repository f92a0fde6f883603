// SPDX-License-Identifier: GPL-2.0
//
// The RAII layer's ownership rules, checked with a fake C handle whose
// free function counts calls: no root, no netlink.
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

TEST_F(HandleTest, MoveTransfersOwnership) {
  {
    FakePtr a(new FakeHandle{2});
    FakePtr b(std::move(a));
    EXPECT_EQ(a, nullptr);  // NOLINT(bugprone-use-after-move)
    ASSERT_NE(b, nullptr);
    EXPECT_EQ(g_freed, 0);
  }
  EXPECT_EQ(g_freed, 1);
}

TEST_F(HandleTest, MoveAssignFreesOldHandle) {
  FakePtr a(new FakeHandle{3});
  FakePtr b(new FakeHandle{4});
  b = std::move(a);
  EXPECT_EQ(g_freed, 1);
  EXPECT_EQ(g_last_freed, 4);
  b.reset();
  EXPECT_EQ(g_freed, 2);
  EXPECT_EQ(g_last_freed, 3);
}

TEST_F(HandleTest, ReleaseGivesUpOwnership) {
  FakeHandle *raw = nullptr;
  {
    FakePtr p(new FakeHandle{5});
    raw = p.release();
  }
  EXPECT_EQ(g_freed, 0);
  fake_free(raw);
  EXPECT_EQ(g_freed, 1);
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
