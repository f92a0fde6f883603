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

#include <netlink/attr.h>
#include <netlink/cache.h>
#include <netlink/handlers.h>
#include <netlink/msg.h>
#include <netlink/socket.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

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
using CbPtr = std::unique_ptr<nl_cb, FreeFn<nl_cb, nl_cb_put>>;

// libnl error code (negative NLE_* or positive) to a positive errno.
int nl_to_errno(int nlerr) noexcept;
// Error for a failed libnl call: "what: <nl_geterror text>".
Error nl_error(int nlerr, std::string_view what);

enum class Protocol {
  kRoute,     // NETLINK_ROUTE (rtnetlink: links, addresses, routes)
  kGeneric,   // NETLINK_GENERIC (ethtool, devlink, netdev families)
  kUsersock,  // NETLINK_USERSOCK: userspace peers, no kernel side; the
              // unit tests' fake kernel (tests/fake_kernel.h) listens there
};

class Msg;

// Called for each reply message of a request; the message is lent for the
// call. An Error return stops the request and becomes its result.
using ReplyHandler = std::function<Result<void>(nl_msg *)>;

// How many times Socket::request() sends a dump the kernel keeps
// interrupting before it gives up.
inline constexpr int kDumpAttempts = 5;

// A connected netlink socket. Sockets ask the kernel for extended acks
// (NETLINK_EXT_ACK), so a refused request reports the kernel's message.
class Socket {
 public:
  static Result<Socket> connect(Protocol protocol);

  [[nodiscard]] nl_sock *get() const noexcept { return sock_.get(); }
  [[nodiscard]] Protocol protocol() const noexcept { return protocol_; }
  // The file descriptor, for poll(); owned by the socket.
  [[nodiscard]] int fd() const noexcept;

  // Send msg (a request or a dump), read every reply up to the kernel's
  // ack or the dump's end, then hand the replies to on_reply in order; the
  // first Error it returns stops that and is the result. A kernel error
  // becomes Error(errno, "what: <extack message>") or, without an extack
  // message, Error(errno, "what: <strerror>").
  //
  // A dump whose replies carry NLM_F_DUMP_INTR (what the kernel listed
  // changed while it was read: entries may be missing or twice there) is
  // read to its end, dropped and asked for again: on_reply only ever sees
  // a whole dump that was not interrupted. After kDumpAttempts interrupted
  // ones in a row: Error(EAGAIN, "what: dump interrupted 5 times in a row
  // ...").
  //
  // Replies are told apart by sequence number: each request gets a fresh
  // one from the socket's own counter (not libnl's, which its helpers
  // such as genl_ctrl_resolve() keep using), and anything else read
  // meanwhile is skipped. A reply that cannot be read (a datagram larger
  // than the receive buffer, a truncated NLMSG_ERROR) fails the request,
  // but only once the rest of its replies are read and dropped, up to its
  // end or about a second of silence: the next request finds the socket
  // clean.
  Result<void> request(Msg msg, const ReplyHandler &on_reply,
                       std::string_view what);

  // The numeric id of a generic netlink family, resolved once and then
  // remembered. ENOENT if the kernel has no such family.
  Result<int> family(std::string_view name);
  // The id of a family's multicast group; ENOENT if it has none so named.
  Result<int> multicast_group(std::string_view family, std::string_view group);

 private:
  Socket(SockPtr sock, Protocol protocol)
      : sock_(std::move(sock)), protocol_(protocol) {}

  // The sequence number of the next request; never 0 (NL_AUTO_SEQ).
  uint32_t next_seq() noexcept;

  SockPtr sock_;
  Protocol protocol_;
  uint32_t seq_ = 0;  // the last sequence number request() used
  std::map<std::string, int, std::less<>> families_;
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

// Start a generic netlink message for family/cmd. flags: NLM_F_DUMP for
// a dump, 0 for a request (libnl adds NLM_F_REQUEST and NLM_F_ACK).
Result<Msg> genl_msg(int family, uint8_t cmd, int flags, uint8_t version = 1);

// Attribute builders; each fails with EMSGSIZE when the message is full.
Result<void> put_u8(Msg &msg, int type, uint8_t value);
Result<void> put_u32(Msg &msg, int type, uint32_t value);
Result<void> put_u64(Msg &msg, int type, uint64_t value);
Result<void> put_string(Msg &msg, int type, std::string_view value);
Result<void> put_flag(Msg &msg, int type);
Result<void> put_binary(Msg &msg, int type, const void *data, size_t len);

// A nested attribute being built: open it, add to the message, then
// close(). A Nest not closed is cancelled when it goes away.
class Nest {
 public:
  static Result<Nest> open(Msg &msg, int type);
  Nest(Nest &&other) noexcept
      : msg_(other.msg_), attr_(std::exchange(other.attr_, nullptr)) {}
  Nest &operator=(Nest &&) = delete;
  Nest(const Nest &) = delete;
  Nest &operator=(const Nest &) = delete;
  ~Nest();

  void close() noexcept;

 private:
  Nest(nl_msg *msg, nlattr *attr) : msg_(msg), attr_(attr) {}

  nl_msg *msg_;   // lent by the Msg being built; not owned
  nlattr *attr_;  // inside msg_; null once closed or cancelled
};

// One level of parsed attributes, indexed by type; attributes are lent
// from the message being parsed and valid only while it is. Getters check
// the length of what they read (an attribute too short for its type reads
// as absent, a string ends at its attribute's end), so no parse reads
// outside the message, with or without a policy. A policy, where a parser
// passes one (netdev_objects.cc), refuses a malformed message as a whole
// before anything reads it.
class Attrs {
 public:
  // Parse a stream of attributes (e.g. a nest's payload).
  static Result<Attrs> parse(const nlattr *head, int len, int maxtype,
                             const nla_policy *policy);
  // Parse the top-level attributes of a generic netlink message.
  static Result<Attrs> parse_genl(nl_msg *msg, int maxtype,
                                  const nla_policy *policy);
  // Parse the payload of a nested attribute.
  static Result<Attrs> parse_nested(const nlattr *nest, int maxtype,
                                    const nla_policy *policy);

  [[nodiscard]] const nlattr *get(int type) const noexcept;
  [[nodiscard]] bool has(int type) const noexcept {
    return get(type) != nullptr;
  }
  [[nodiscard]] std::optional<uint8_t> u8(int type) const noexcept;
  [[nodiscard]] std::optional<uint32_t> u32(int type) const noexcept;
  [[nodiscard]] std::optional<uint64_t> u64(int type) const noexcept;
  // A NUL-terminated string attribute (NLA_STRING/NLA_NUL_STRING).
  [[nodiscard]] std::optional<std::string> str(int type) const;
  [[nodiscard]] std::vector<uint8_t> binary(int type) const;

 private:
  explicit Attrs(std::vector<nlattr *> tb) : tb_(std::move(tb)) {}

  std::vector<nlattr *> tb_;  // index = type; entries point into a message
};

// Every attribute of a stream (a nest's payload), in order, with types;
// for arrays of nests that repeat one type.
std::vector<const nlattr *> attr_list(const nlattr *nest);

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

// Notification sockets: a Socket that listens to multicast groups instead
// of sending requests. subscribe() joins a group, turns off libnl's
// sequence number checks (notifications carry seq 0) and makes the socket
// non-blocking. drain() hands every pending message to on_msg and returns
// once nothing more is pending; ENOBUFS means the kernel dropped
// notifications because the receive buffer overran.
Result<void> subscribe(Socket &sock, int group);
Result<void> drain(Socket &sock, const ReplyHandler &on_msg);

}  // namespace keel::nl
