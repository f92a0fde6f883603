// SPDX-License-Identifier: GPL-2.0
//
// The netdev family's queue, NAPI and page-pool replies: hand-built
// messages through the parsers, and the host's loopback queues.
#include "keel/netdev_objects.h"

#include <linux/netdev.h>

#include <gtest/gtest.h>

namespace keel {
namespace {

nl::Msg reply(uint8_t cmd) {
  auto msg = nl::genl_msg(42, cmd, 0);
  EXPECT_TRUE(msg.has_value());
  return std::move(*msg);
}

TEST(NetdevObjects, QueueOfThisInterface) {
  nl::Msg m = reply(NETDEV_CMD_QUEUE_GET);
  ASSERT_TRUE(nl::put_u32(m, NETDEV_A_QUEUE_ID, 3));
  ASSERT_TRUE(nl::put_u32(m, NETDEV_A_QUEUE_IFINDEX, 7));
  ASSERT_TRUE(nl::put_u32(m, NETDEV_A_QUEUE_TYPE, NETDEV_QUEUE_TYPE_TX));
  ASSERT_TRUE(nl::put_u32(m, NETDEV_A_QUEUE_NAPI_ID, 8195));
  QueueInfo q;
  auto ok = parse_queue(m.get(), 7, q);
  ASSERT_TRUE(ok) << ok.error().str();
  EXPECT_TRUE(*ok);
  EXPECT_EQ(q, (QueueInfo{3, "tx", 8195}));
  auto other = parse_queue(m.get(), 8, q);
  ASSERT_TRUE(other);
  EXPECT_FALSE(*other);
}

TEST(NetdevObjects, QueueWithoutNapiAndMissingFields) {
  nl::Msg m = reply(NETDEV_CMD_QUEUE_GET);
  ASSERT_TRUE(nl::put_u32(m, NETDEV_A_QUEUE_ID, 0));
  ASSERT_TRUE(nl::put_u32(m, NETDEV_A_QUEUE_IFINDEX, 7));
  ASSERT_TRUE(nl::put_u32(m, NETDEV_A_QUEUE_TYPE, NETDEV_QUEUE_TYPE_RX));
  QueueInfo q;
  ASSERT_TRUE(parse_queue(m.get(), 7, q));
  EXPECT_EQ(q.type, "rx");
  EXPECT_FALSE(q.napi_id.has_value());

  nl::Msg bad = reply(NETDEV_CMD_QUEUE_GET);
  ASSERT_TRUE(nl::put_u32(bad, NETDEV_A_QUEUE_ID, 0));
  auto res = parse_queue(bad.get(), 7, q);
  ASSERT_FALSE(res);
  EXPECT_EQ(res.error().errnum(), EBADMSG);
}

TEST(NetdevObjects, NapiAndPagePool) {
  nl::Msg n = reply(NETDEV_CMD_NAPI_GET);
  ASSERT_TRUE(nl::put_u32(n, NETDEV_A_NAPI_IFINDEX, 2));
  ASSERT_TRUE(nl::put_u32(n, NETDEV_A_NAPI_ID, 8193));
  ASSERT_TRUE(nl::put_u32(n, NETDEV_A_NAPI_IRQ, 25));
  NapiInfo napi;
  ASSERT_TRUE(*parse_napi(n.get(), 2, napi));
  EXPECT_EQ(napi, (NapiInfo{8193, 25, std::nullopt}));

  // The kernel puts the "uint" attributes with nla_put_uint(): 4 bytes
  // when the value fits in 32 bits, 8 otherwise
  nl::Msg p = reply(NETDEV_CMD_PAGE_POOL_GET);
  ASSERT_TRUE(nl::put_u32(p, NETDEV_A_PAGE_POOL_ID, 12));
  ASSERT_TRUE(nl::put_u32(p, NETDEV_A_PAGE_POOL_IFINDEX, 2));
  ASSERT_TRUE(nl::put_u32(p, NETDEV_A_PAGE_POOL_NAPI_ID, 8193));
  ASSERT_TRUE(nl::put_u32(p, NETDEV_A_PAGE_POOL_INFLIGHT, 256));
  ASSERT_TRUE(nl::put_u64(p, NETDEV_A_PAGE_POOL_INFLIGHT_MEM, 1ULL << 33));
  PagePoolInfo pool;
  auto parsed = parse_page_pool(p.get(), 2, pool);
  ASSERT_TRUE(parsed) << parsed.error().str();
  ASSERT_TRUE(*parsed);
  EXPECT_EQ(pool, (PagePoolInfo{12, 8193, 256, 1ULL << 33}));
  // An 8-byte id parses too
  nl::Msg p8 = reply(NETDEV_CMD_PAGE_POOL_GET);
  ASSERT_TRUE(nl::put_u64(p8, NETDEV_A_PAGE_POOL_ID, 1ULL << 40));
  ASSERT_TRUE(nl::put_u32(p8, NETDEV_A_PAGE_POOL_IFINDEX, 2));
  ASSERT_TRUE(*parse_page_pool(p8.get(), 2, pool));
  EXPECT_EQ(pool.id, 1ULL << 40);
  // a pool without an ifindex (its netdev is gone) belongs to nobody
  nl::Msg orphan = reply(NETDEV_CMD_PAGE_POOL_GET);
  ASSERT_TRUE(nl::put_u64(orphan, NETDEV_A_PAGE_POOL_ID, 13));
  EXPECT_FALSE(*parse_page_pool(orphan.get(), 2, pool));
}

TEST(NetdevObjects, LoopbackQueuesOnThisHost) {
  auto sock = nl::Socket::connect(nl::Protocol::kGeneric);
  ASSERT_TRUE(sock) << sock.error().str();
  auto objs = read_netdev_objects(*sock, 1);
  ASSERT_TRUE(objs) << objs.error().str();
  // lo has one RX and one TX queue and no NAPI
  ASSERT_EQ(objs->queues.size(), 2U);
  EXPECT_TRUE(objs->napis.empty());
}

}  // namespace
}  // namespace keel
