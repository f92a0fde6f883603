// SPDX-License-Identifier: GPL-2.0
//
// keel::nl: the one thin RAII layer over libnl-3. Nothing else in the
// daemon calls libnl's alloc/free functions directly.
//
// Every libnl handle is owned by a std::unique_ptr with a FreeFn deleter:
// freed exactly once, when its owner goes away; owners are move-only.
// get() lends the raw pointer to libnl calls; it is never stored.
//
// Errors: functions that can fail return keel::Result; libnl's negative
// NLE_* codes are turned into errno values plus nl_geterror()'s text.
//
// Threading: a Socket, Msg or Cache is not safe to use from two threads at
// once (libnl sockets are not). Give each thread its own Socket; moving one
// to another thread is fine.
#pragma once

#include <netlink/cache.h>
#include <netlink/msg.h>
#include <netlink/socket.h>

#include <memory>
#include <string_view>

#include "keel/result.h"

namespace keel::nl {

// unique_ptr deleter that calls a C free function, skipping null.
template <typename T, void (*Free)(T *)>
struct FreeFn {
  void operator()(T *p) const noexcept {
    if (p != nullptr) Free(p);
  }
};

using SockPtr = std::unique_ptr<nl_sock, FreeFn<nl_sock, nl_socket_free>>;
using MsgPtr = std::unique_ptr<nl_msg, FreeFn<nl_msg, nlmsg_free>>;
using CachePtr = std::unique_ptr<nl_cache, FreeFn<nl_cache, nl_cache_free>>;

// libnl error code (negative NLE_* or positive) to a positive errno.
int nl_to_errno(int nlerr) noexcept;
// Error for a failed libnl call: "what: <nl_geterror text>".
Error nl_error(int nlerr, std::string_view what);

enum class Protocol {
  kRoute,    // NETLINK_ROUTE (rtnetlink: links, addresses, routes)
  kGeneric,  // NETLINK_GENERIC (ethtool, devlink, netdev families)
};

// A connected netlink socket.
class Socket {
 public:
  static Result<Socket> connect(Protocol protocol);

  [[nodiscard]] nl_sock *get() const noexcept { return sock_.get(); }
  [[nodiscard]] Protocol protocol() const noexcept { return protocol_; }

 private:
  Socket(SockPtr sock, Protocol protocol)
      : sock_(std::move(sock)), protocol_(protocol) {}

  SockPtr sock_;
  Protocol protocol_;
};

// A netlink message being built or parsed.
class Msg {
 public:
  static Result<Msg> alloc();
  // Take ownership of a message libnl handed out.
  static Msg adopt(nl_msg *msg) noexcept { return Msg(MsgPtr(msg)); }

  [[nodiscard]] nl_msg *get() const noexcept { return msg_.get(); }
  // Give ownership back, e.g. to nl_send_auto() callers that free it.
  [[nodiscard]] nl_msg *release() noexcept { return msg_.release(); }

 private:
  explicit Msg(MsgPtr msg) : msg_(std::move(msg)) {}

  MsgPtr msg_;
};

// A libnl object cache (links, addresses ...).
class Cache {
 public:
  static Cache adopt(nl_cache *cache) noexcept {
    return Cache(CachePtr(cache));
  }

  [[nodiscard]] nl_cache *get() const noexcept { return cache_.get(); }
  [[nodiscard]] int size() const noexcept;

 private:
  explicit Cache(CachePtr cache) : cache_(std::move(cache)) {}

  CachePtr cache_;
};

// The numeric id of a generic netlink family ("ethtool", "nlctrl" ...).
// The socket must be a Protocol::kGeneric one. ENOENT if the kernel has no
// such family.
Result<int> resolve_genl_family(Socket &sock, std::string_view name);

}  // namespace keel::nl
