// SPDX-License-Identifier: GPL-2.0
//
// Talks to the host kernel over netlink; needs no privilege.
#include "keel/nl.h"

#include <algorithm>
#include <cerrno>

#include <gtest/gtest.h>

#include "keel/links.h"

namespace keel {
namespace {

TEST(Links, FindsLoopback) {
  auto links = list_links();
  ASSERT_TRUE(links) << links.error().str();
  auto lo = std::find_if(links->begin(), links->end(),
                         [](const Link &l) { return l.name == "lo"; });
  ASSERT_NE(lo, links->end());
  EXPECT_GT(lo->ifindex, 0);
  EXPECT_GT(lo->mtu, 0U);
  EXPECT_FALSE(lo->oper_state.empty());
  EXPECT_TRUE(std::is_sorted(
      links->begin(), links->end(),
      [](const Link &a, const Link &b) { return a.ifindex < b.ifindex; }));
}

TEST(Links, RejectsGenericSocket) {
  auto sock = nl::Socket::connect(nl::Protocol::kGeneric);
  ASSERT_TRUE(sock) << sock.error().str();
  auto links = list_links(*sock);
  ASSERT_FALSE(links);
  EXPECT_EQ(links.error().errnum(), EINVAL);
}

TEST(Genl, ResolvesNlctrl) {
  auto sock = nl::Socket::connect(nl::Protocol::kGeneric);
  ASSERT_TRUE(sock) << sock.error().str();
  auto id = nl::resolve_genl_family(*sock, "nlctrl");
  ASSERT_TRUE(id) << id.error().str();
  EXPECT_EQ(*id, 0x10);  // GENL_ID_CTRL
}

TEST(Genl, ResolvesEthtool) {
  auto sock = nl::Socket::connect(nl::Protocol::kGeneric);
  ASSERT_TRUE(sock) << sock.error().str();
  auto id = nl::resolve_genl_family(*sock, "ethtool");
  if (!id && id.error().errnum() == ENOENT)
    GTEST_SKIP() << "kernel without CONFIG_ETHTOOL_NETLINK";
  ASSERT_TRUE(id) << id.error().str();
  EXPECT_GT(*id, 0x10);
}

TEST(Genl, UnknownFamilyIsEnoent) {
  auto sock = nl::Socket::connect(nl::Protocol::kGeneric);
  ASSERT_TRUE(sock) << sock.error().str();
  auto id = nl::resolve_genl_family(*sock, "keel-no-such-family");
  ASSERT_FALSE(id);
  EXPECT_EQ(id.error().errnum(), ENOENT);
  EXPECT_NE(id.error().message().find("keel-no-such-family"),
            std::string::npos);
}

TEST(Genl, RejectsRouteSocket) {
  auto sock = nl::Socket::connect(nl::Protocol::kRoute);
  ASSERT_TRUE(sock) << sock.error().str();
  auto id = nl::resolve_genl_family(*sock, "nlctrl");
  ASSERT_FALSE(id);
  EXPECT_EQ(id.error().errnum(), EINVAL);
}

}  // namespace
}  // namespace keel
