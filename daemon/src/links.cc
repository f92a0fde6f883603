// SPDX-License-Identifier: GPL-2.0
#include "keel/links.h"

#include <netlink/route/link.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>

namespace keel {

namespace {

Link to_link(rtnl_link *link) {
  std::array<char, 32> state{};
  const char *name = rtnl_link_get_name(link);

  rtnl_link_operstate2str(rtnl_link_get_operstate(link), state.data(),
                          state.size());
  return Link{
      .name = name != nullptr ? name : "",
      .ifindex = rtnl_link_get_ifindex(link),
      .mtu = rtnl_link_get_mtu(link),
      .oper_state = state.data(),
  };
}

}  // namespace

Result<std::vector<Link>> list_links(nl::Socket &sock) {
  if (sock.protocol() != nl::Protocol::kRoute)
    return Error(EINVAL, "list links: not a NETLINK_ROUTE socket");

  nl_cache *raw = nullptr;
  const int err = rtnl_link_alloc_cache(sock.get(), AF_UNSPEC, &raw);
  if (err < 0) return nl::nl_error(err, "list links");
  const nl::Cache cache = nl::Cache::adopt(raw);

  std::vector<Link> links;
  links.reserve(static_cast<size_t>(cache.size()));
  for (nl_object *obj = nl_cache_get_first(cache.get()); obj != nullptr;
       obj = nl_cache_get_next(obj)) {
    // The cache is a link cache: every object in it is an rtnl_link.
    links.push_back(to_link(reinterpret_cast<rtnl_link *>(obj)));
  }
  std::sort(links.begin(), links.end(),
            [](const Link &a, const Link &b) { return a.ifindex < b.ifindex; });
  return links;
}

Result<std::vector<Link>> list_links() {
  auto sock = nl::Socket::connect(nl::Protocol::kRoute);
  if (!sock) return sock.error();
  return list_links(*sock);
}

}  // namespace keel
