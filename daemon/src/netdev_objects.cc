// SPDX-License-Identifier: GPL-2.0
#include "keel/netdev_objects.h"

#include <linux/netdev.h>

#include <array>
#include <cerrno>
#include <string>

namespace keel {

namespace {

constexpr const char *kFamily = "netdev";

}  // namespace

Result<bool> parse_queue(nl_msg *msg, int ifindex, QueueInfo &out) {
  std::array<nla_policy, NETDEV_A_QUEUE_MAX + 1> policy{};
  policy[NETDEV_A_QUEUE_ID].type = NLA_U32;
  policy[NETDEV_A_QUEUE_IFINDEX].type = NLA_U32;
  policy[NETDEV_A_QUEUE_TYPE].type = NLA_U32;
  policy[NETDEV_A_QUEUE_NAPI_ID].type = NLA_U32;
  auto attrs = nl::Attrs::parse_genl(msg, NETDEV_A_QUEUE_MAX, policy.data());
  if (!attrs) return attrs.error();
  auto idx = attrs->u32(NETDEV_A_QUEUE_IFINDEX);
  auto id = attrs->u32(NETDEV_A_QUEUE_ID);
  auto type = attrs->u32(NETDEV_A_QUEUE_TYPE);
  if (!idx || !id || !type)
    return Error(EBADMSG, "queue-get: reply without ifindex, id or type");
  if (static_cast<int>(*idx) != ifindex) return false;
  out.id = *id;
  out.type = *type == NETDEV_QUEUE_TYPE_RX   ? "rx"
             : *type == NETDEV_QUEUE_TYPE_TX ? "tx"
                                             : "type-" + std::to_string(*type);
  out.napi_id = attrs->u32(NETDEV_A_QUEUE_NAPI_ID);
  return true;
}

Result<bool> parse_napi(nl_msg *msg, int ifindex, NapiInfo &out) {
  std::array<nla_policy, NETDEV_A_NAPI_MAX + 1> policy{};
  policy[NETDEV_A_NAPI_IFINDEX].type = NLA_U32;
  policy[NETDEV_A_NAPI_ID].type = NLA_U32;
  policy[NETDEV_A_NAPI_IRQ].type = NLA_U32;
  policy[NETDEV_A_NAPI_PID].type = NLA_U32;
  auto attrs = nl::Attrs::parse_genl(msg, NETDEV_A_NAPI_MAX, policy.data());
  if (!attrs) return attrs.error();
  auto idx = attrs->u32(NETDEV_A_NAPI_IFINDEX);
  auto id = attrs->u32(NETDEV_A_NAPI_ID);
  if (!idx || !id) return Error(EBADMSG, "napi-get: reply without ifindex/id");
  if (static_cast<int>(*idx) != ifindex) return false;
  out.id = *id;
  out.irq = attrs->u32(NETDEV_A_NAPI_IRQ);
  out.pid = attrs->u32(NETDEV_A_NAPI_PID);
  return true;
}

Result<bool> parse_page_pool(nl_msg *msg, int ifindex, PagePoolInfo &out) {
  // id, inflight and inflight-mem are the spec's "uint": the kernel
  // puts them with nla_put_uint(), 4 bytes when the value fits, which
  // an NLA_U64 policy (8 bytes at least) would refuse. Attrs::u64()
  // reads both sizes.
  std::array<nla_policy, NETDEV_A_PAGE_POOL_MAX + 1> policy{};
  policy[NETDEV_A_PAGE_POOL_IFINDEX].type = NLA_U32;
  policy[NETDEV_A_PAGE_POOL_NAPI_ID].type = NLA_U32;
  auto attrs =
      nl::Attrs::parse_genl(msg, NETDEV_A_PAGE_POOL_MAX, policy.data());
  if (!attrs) return attrs.error();
  auto id = attrs->u64(NETDEV_A_PAGE_POOL_ID);
  if (!id) return Error(EBADMSG, "page-pool-get: reply without id");
  // Pools of a gone netdev, or of loopback, carry no ifindex
  auto idx = attrs->u32(NETDEV_A_PAGE_POOL_IFINDEX);
  if (!idx || static_cast<int>(*idx) != ifindex) return false;
  out.id = *id;
  out.napi_id = attrs->u32(NETDEV_A_PAGE_POOL_NAPI_ID);
  out.inflight = attrs->u64(NETDEV_A_PAGE_POOL_INFLIGHT);
  out.inflight_mem = attrs->u64(NETDEV_A_PAGE_POOL_INFLIGHT_MEM);
  return true;
}

namespace {

// Dump cmd (filtered by ifindex when filter_attr is not 0) and keep what
// parse accepts.
template <typename T, typename Parse>
Result<void> dump(nl::Socket &sock, int family, uint8_t cmd, int filter_attr,
                  int ifindex, Parse parse, std::vector<T> &out,
                  const char *what) {
  auto msg = nl::genl_msg(family, cmd, NLM_F_DUMP);
  if (!msg) return msg.error();
  if (filter_attr != 0) {
    auto res = nl::put_u32(*msg, filter_attr, static_cast<uint32_t>(ifindex));
    if (!res) return res;
  }
  return sock.request(
      std::move(*msg),
      [&](nl_msg *reply) -> Result<void> {
        T item;
        auto ok = parse(reply, ifindex, item);
        if (!ok) return ok.error();
        if (*ok) out.push_back(std::move(item));
        return {};
      },
      what);
}

}  // namespace

Result<NetdevObjects> read_netdev_objects(nl::Socket &sock, int ifindex) {
  NetdevObjects objs;
  auto family = sock.family(kFamily);
  if (!family) {
    if (family.error().errnum() == ENOENT) return objs;
    return family.error();
  }
  auto res = dump(sock, *family, NETDEV_CMD_QUEUE_GET, NETDEV_A_QUEUE_IFINDEX,
                  ifindex, parse_queue, objs.queues, "queue-get");
  if (!res && res.error().errnum() != EOPNOTSUPP) return res.error();
  res = dump(sock, *family, NETDEV_CMD_NAPI_GET, NETDEV_A_NAPI_IFINDEX, ifindex,
             parse_napi, objs.napis, "napi-get");
  if (!res && res.error().errnum() != EOPNOTSUPP) return res.error();
  res = dump(sock, *family, NETDEV_CMD_PAGE_POOL_GET, 0, ifindex,
             parse_page_pool, objs.page_pools, "page-pool-get");
  // Page pools want CAP_NET_ADMIN: without it, none are shown.
  if (!res && res.error().errnum() != EPERM &&
      res.error().errnum() != EOPNOTSUPP)
    return res.error();
  return objs;
}

}  // namespace keel
