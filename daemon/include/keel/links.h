// SPDX-License-Identifier: GPL-2.0
//
// Network interfaces as rtnetlink reports them.
//
// Threading: list_links() opens its own socket, so it may be called from
// any thread; list_links(Socket&) uses the caller's socket.
#pragma once

#include <string>
#include <vector>

#include "keel/nl.h"
#include "keel/result.h"

namespace keel {

// One network interface; an immutable snapshot.
struct Link {
  std::string name;        // "lo", "eth0"
  int ifindex = 0;         // kernel interface index
  unsigned int mtu = 0;    // bytes
  std::string oper_state;  // RFC 2863 state: "up", "down", "unknown" ...

  friend bool operator==(const Link &, const Link &) = default;
};

// Every link, ordered by ifindex. Needs no privilege.
Result<std::vector<Link>> list_links(nl::Socket &sock);
Result<std::vector<Link>> list_links();

}  // namespace keel
