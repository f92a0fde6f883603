// SPDX-License-Identifier: GPL-2.0
//
// keel::EventMonitor: tells keeld when links appear, vanish, are renamed
// or change state (rtnetlink RTNLGRP_LINK) and when ethtool settings
// change (the ethtool family's "monitor" multicast group).
//
// It listens on two netlink sockets, a NETLINK_ROUTE one and a
// NETLINK_GENERIC one, and wraps both in one epoll descriptor: fd() is
// readable whenever either socket has something pending, so the daemon
// adds that single fd to its own epoll set and calls read() when it fires.
// read() never blocks; it drains both sockets.
//
// Events:
//   kNew      a link the monitor had not seen (RTM_NEWLINK)
//   kChanged  a known link changed: flags, operstate, MTU, name (a rename
//             carries the new name), ...
//   kRemoved  RTM_DELLINK
//   kEthtool  an ethtool notification (features, rings, channels ...
//             changed); name may be ""
//   kResync   the kernel dropped notifications (ENOBUFS, a receive buffer
//             overrun): state may be stale, re-list everything. Returned
//             alone; ifindex 0.
// A burst of changes to one link gives one event per kernel message; the
// daemon coalesces if it wants.
//
// Ownership: owns both sockets and the epoll fd; all closed on
// destruction. Sockets belong to the network namespace of the process at
// open().
//
// Threading: one thread at a time.
#pragma once

#include <cstddef>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "keel/fd.h"
#include "keel/nl.h"
#include "keel/result.h"

namespace keel {

struct LinkEvent {
  enum class Kind { kNew, kChanged, kRemoved, kEthtool, kResync };
  Kind kind = Kind::kChanged;
  int ifindex = 0;
  std::string name;

  friend bool operator==(const LinkEvent &, const LinkEvent &) = default;
};

const char *to_string(LinkEvent::Kind kind);

class EventMonitor {
  struct Token {
    explicit Token() = default;
  };

 public:
  // rcvbuf: each socket's receive buffer in bytes (0 keeps a 1 MiB
  // default); tests use a tiny one to provoke an overrun.
  static Result<std::unique_ptr<EventMonitor>> open(size_t rcvbuf = 0);

  EventMonitor(Token, nl::Socket route, nl::Socket genl, Fd epoll,
               std::map<int, std::string> known);

  // Readable when events are pending; non-blocking; owned by the monitor.
  [[nodiscard]] int fd() const noexcept { return epoll_.get(); }

  // Every pending event, oldest first; empty when nothing is pending.
  Result<std::vector<LinkEvent>> read();

 private:
  Result<void> on_route(nl_msg *msg, std::vector<LinkEvent> &out);
  Result<void> on_genl(nl_msg *msg, std::vector<LinkEvent> &out);
  Result<void> relist();

  nl::Socket route_;
  nl::Socket genl_;
  Fd epoll_;
  std::map<int, std::string> known_;  // ifindex -> name, links seen so far
};

}  // namespace keel
