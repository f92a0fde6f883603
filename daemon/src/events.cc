// SPDX-License-Identifier: GPL-2.0
#include "keel/events.h"

#include <linux/ethtool_netlink.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <netlink/genl/genl.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include <cerrno>

#include "keel/links.h"

namespace keel {

namespace {

constexpr size_t kDefaultRcvbuf = size_t{1} << 20;

Result<std::map<int, std::string>> current_links(nl::Socket &sock) {
  auto links = list_links(sock);
  if (!links) return links.error();
  std::map<int, std::string> out;
  for (const auto &l : *links) out.emplace(l.ifindex, l.name);
  return out;
}

Result<void> watch(const Fd &epoll, int fd) {
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = fd;
  if (epoll_ctl(epoll.get(), EPOLL_CTL_ADD, fd, &ev) < 0)
    return Error::from_errno("event monitor: epoll_ctl");
  return {};
}

Result<void> set_rcvbuf(nl::Socket &sock, size_t bytes) {
  const int err =
      nl_socket_set_buffer_size(sock.get(), static_cast<int>(bytes), 0);
  if (err < 0) return nl::nl_error(err, "event monitor: set receive buffer");
  return {};
}

}  // namespace

const char *to_string(LinkEvent::Kind kind) {
  switch (kind) {
    case LinkEvent::Kind::kNew:
      return "new";
    case LinkEvent::Kind::kChanged:
      return "changed";
    case LinkEvent::Kind::kRemoved:
      return "removed";
    case LinkEvent::Kind::kEthtool:
      return "ethtool";
    case LinkEvent::Kind::kResync:
      return "resync";
  }
  return "unknown";
}

Result<std::unique_ptr<EventMonitor>> EventMonitor::open(size_t rcvbuf) {
  if (rcvbuf == 0) rcvbuf = kDefaultRcvbuf;

  auto route = nl::Socket::connect(nl::Protocol::kRoute);
  if (!route) return route.error();
  auto genl = nl::Socket::connect(nl::Protocol::kGeneric);
  if (!genl) return genl.error();

  // The links known before subscribing, so a NEWLINK for one of them is a
  // change, not a new link. Listed first: the dump must finish before the
  // socket turns non-blocking.
  auto known = current_links(*route);
  if (!known) return known.error().with_context("event monitor");

  if (auto r = nl::subscribe(*route, RTNLGRP_LINK); !r) return r.error();
  auto group =
      genl->multicast_group(ETHTOOL_GENL_NAME, ETHTOOL_MCGRP_MONITOR_NAME);
  if (!group) return group.error().with_context("event monitor");
  if (auto r = nl::subscribe(*genl, *group); !r) return r.error();
  // Only now: the listing and the group lookup need room for their
  // replies, whatever the buffer size asked for.
  if (auto r = set_rcvbuf(*route, rcvbuf); !r) return r.error();
  if (auto r = set_rcvbuf(*genl, rcvbuf); !r) return r.error();

  Fd epoll(epoll_create1(EPOLL_CLOEXEC));
  if (!epoll.valid()) return Error::from_errno("event monitor: epoll_create1");
  if (auto r = watch(epoll, route->fd()); !r) return r.error();
  if (auto r = watch(epoll, genl->fd()); !r) return r.error();

  return std::make_unique<EventMonitor>(Token{}, std::move(*route),
                                        std::move(*genl), std::move(epoll),
                                        std::move(*known));
}

EventMonitor::EventMonitor(Token /*token*/, nl::Socket route, nl::Socket genl,
                           Fd epoll, std::map<int, std::string> known)
    : route_(std::move(route)),
      genl_(std::move(genl)),
      epoll_(std::move(epoll)),
      known_(std::move(known)) {}

Result<void> EventMonitor::on_route(nl_msg *msg, std::vector<LinkEvent> &out) {
  nlmsghdr *hdr = nlmsg_hdr(msg);
  if (hdr->nlmsg_type != RTM_NEWLINK && hdr->nlmsg_type != RTM_DELLINK)
    return {};
  if (!nlmsg_valid_hdr(hdr, sizeof(ifinfomsg))) return {};
  const auto *ifi = static_cast<const ifinfomsg *>(nlmsg_data(hdr));
  // AF_BRIDGE messages describe bridge ports, not links: a port leaving
  // its bridge sends a DELLINK for a link that stays.
  if (ifi->ifi_family != AF_UNSPEC) return {};
  auto tb = nl::Attrs::parse(nlmsg_attrdata(hdr, sizeof(ifinfomsg)),
                             nlmsg_attrlen(hdr, sizeof(ifinfomsg)), IFLA_MAX,
                             nullptr);
  if (!tb) return tb.error().with_context("link notification");
  const int ifindex = ifi->ifi_index;
  std::string name = tb->str(IFLA_IFNAME).value_or("");

  if (hdr->nlmsg_type == RTM_DELLINK) {
    if (name.empty()) {
      if (auto it = known_.find(ifindex); it != known_.end()) name = it->second;
    }
    known_.erase(ifindex);
    out.push_back({.kind = LinkEvent::Kind::kRemoved,
                   .ifindex = ifindex,
                   .name = std::move(name)});
    return {};
  }
  const auto [it, inserted] = known_.insert_or_assign(ifindex, name);
  out.push_back(
      {.kind = inserted ? LinkEvent::Kind::kNew : LinkEvent::Kind::kChanged,
       .ifindex = ifindex,
       .name = std::move(name)});
  return {};
}

Result<void> EventMonitor::on_genl(nl_msg *msg, std::vector<LinkEvent> &out) {
  // Every ethtool notification starts with its header nest (attribute 1,
  // ETHTOOL_A_*_HEADER), which names the device.
  auto tb = nl::Attrs::parse_genl(msg, 1, nullptr);
  if (!tb) return tb.error().with_context("ethtool notification");
  int ifindex = 0;
  std::string name;
  if (tb->has(1)) {
    auto hdr =
        nl::Attrs::parse_nested(tb->get(1), ETHTOOL_A_HEADER_MAX, nullptr);
    if (hdr) {
      ifindex =
          static_cast<int>(hdr->u32(ETHTOOL_A_HEADER_DEV_INDEX).value_or(0));
      name = hdr->str(ETHTOOL_A_HEADER_DEV_NAME).value_or("");
    }
  }
  if (name.empty()) {
    if (auto it = known_.find(ifindex); it != known_.end()) name = it->second;
  }
  out.push_back({.kind = LinkEvent::Kind::kEthtool,
                 .ifindex = ifindex,
                 .name = std::move(name)});
  return {};
}

Result<void> EventMonitor::relist() {
  // A fresh socket: the notification one is non-blocking and subscribed.
  auto sock = nl::Socket::connect(nl::Protocol::kRoute);
  if (!sock) return sock.error();
  auto known = current_links(*sock);
  if (!known) return known.error();
  known_ = std::move(*known);
  return {};
}

Result<std::vector<LinkEvent>> EventMonitor::read() {
  std::vector<LinkEvent> out;
  bool overrun = false;
  auto route = nl::drain(route_, [&](nl_msg *m) { return on_route(m, out); });
  if (!route) {
    if (route.error().errnum() != ENOBUFS) return route.error();
    overrun = true;
  }
  auto genl = nl::drain(genl_, [&](nl_msg *m) { return on_genl(m, out); });
  if (!genl) {
    if (genl.error().errnum() != ENOBUFS) return genl.error();
    overrun = true;
  }
  if (overrun) {
    // Drain what is left, then start over from a fresh listing.
    const nl::ReplyHandler skip = [](nl_msg *) -> Result<void> { return {}; };
    (void)nl::drain(route_, skip);
    (void)nl::drain(genl_, skip);
    if (auto r = relist(); !r) return r.error().with_context("resync");
    return std::vector<LinkEvent>{
        {.kind = LinkEvent::Kind::kResync, .ifindex = 0, .name = ""}};
  }
  return out;
}

}  // namespace keel
