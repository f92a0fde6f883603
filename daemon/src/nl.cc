// SPDX-License-Identifier: GPL-2.0
#include "keel/nl.h"

#include <linux/netlink.h>
#include <netlink/errno.h>
#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <netlink/netlink.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <poll.h>
#include <string>

namespace keel::nl {

int nl_to_errno(int nlerr) noexcept {
  switch (std::abs(nlerr)) {
    case NLE_SUCCESS:
      return 0;
    case NLE_INTR:
      return EINTR;
    case NLE_BAD_SOCK:
      return EBADF;
    case NLE_AGAIN:
      return EAGAIN;
    case NLE_NOMEM:
      return ENOMEM;
    case NLE_EXIST:
      return EEXIST;
    case NLE_INVAL:
    case NLE_MSGSIZE:
    case NLE_RANGE:
      return EINVAL;
    case NLE_NOACCESS:
      return EACCES;
    case NLE_PERM:
      return EPERM;
    case NLE_OPNOTSUPP:
    case NLE_AF_NOSUPPORT:
    case NLE_PROTO_MISMATCH:
      return EOPNOTSUPP;
    case NLE_OBJ_NOTFOUND:
    case NLE_NODEV:
      return ENOENT;
    case NLE_BUSY:
      return EBUSY;
    case NLE_NOADDR:
      return EADDRNOTAVAIL;
    case NLE_IMMUTABLE:
      return EROFS;
    default:
      return EIO;
  }
}

Error nl_error(int nlerr, std::string_view what) {
  return Error(nl_to_errno(nlerr),
               std::string(what) + ": " + nl_geterror(nlerr));
}

Result<Socket> Socket::connect(Protocol protocol) {
  SockPtr sock(nl_socket_alloc());
  if (!sock) return Error(ENOMEM, "nl_socket_alloc: out of memory");

  int err = 0;
  const char *what = nullptr;
  switch (protocol) {
    case Protocol::kRoute:
      err = nl_connect(sock.get(), NETLINK_ROUTE);
      what = "connect NETLINK_ROUTE";
      break;
    case Protocol::kGeneric:
      err = genl_connect(sock.get());
      what = "connect NETLINK_GENERIC";
      break;
    case Protocol::kUsersock:
      err = nl_connect(sock.get(), NETLINK_USERSOCK);
      what = "connect NETLINK_USERSOCK";
      break;
  }
  if (err < 0) return nl_error(err, what);
  // Extended acks carry the kernel's reason for refusing a request;
  // capped acks keep the echoed request out of them.
  const int one = 1;
  const int fd = nl_socket_get_fd(sock.get());
  if (setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one)) < 0 ||
      setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one)) < 0)
    return Error::from_errno("enable netlink extended acks");
  return Socket(std::move(sock), protocol);
}

int Socket::fd() const noexcept { return nl_socket_get_fd(sock_.get()); }

namespace {

// How long reading the rest of a failed request waits for each further
// datagram. The kernel queues a reply, or the next part of a dump, before
// the read that asks for it returns: silence this long means the end was
// lost (in a datagram that could not be read).
constexpr int kDrainWaitMs = 1000;
// The most datagrams read to find that end.
constexpr int kMaxDrainReads = 1 << 16;

// One attempt at a request while libnl's callbacks run: the messages
// carrying its sequence number, kept until its end (NLMSG_DONE or
// NLMSG_ERROR) arrives. Those of an interrupted dump are dropped.
struct Attempt {
  std::string_view what;
  uint32_t seq = 0;
  std::vector<Msg> replies;
  std::optional<Error> failed;  // a reply that could not be read
  bool done = false;
  bool interrupted = false;  // a reply had NLM_F_DUMP_INTR
  int kernel_errno = 0;
  std::string extack;
};

// The extack message of an NLMSG_ERROR or NLMSG_DONE whose extack TLVs
// start off bytes into the message, if the kernel sent one.
std::string extack_at(const nlmsghdr *hdr, size_t off) {
  if ((hdr->nlmsg_flags & NLM_F_ACK_TLVS) == 0) return {};
  if (hdr->nlmsg_len <= off) return {};
  auto *head = reinterpret_cast<nlattr *>(
      const_cast<char *>(reinterpret_cast<const char *>(hdr) + off));
  const int len = static_cast<int>(hdr->nlmsg_len - off);
  std::vector<nlattr *> tb(NLMSGERR_ATTR_MAX + 1, nullptr);
  if (nla_parse(tb.data(), NLMSGERR_ATTR_MAX, head, len, nullptr) < 0)
    return {};
  const nlattr *msg = tb[NLMSGERR_ATTR_MSG];
  if (msg == nullptr || nla_len(msg) <= 0) return {};
  const auto *text = static_cast<const char *>(nla_data(msg));
  return {text, strnlen(text, static_cast<size_t>(nla_len(msg)))};
}

// The extack message of an NLMSG_ERROR, if the kernel sent one.
std::string extack_message(const nlmsgerr *e) {
  // e is the payload of an nlmsghdr; the TLVs follow the (capped) echo
  // of the request.
  const auto *hdr = reinterpret_cast<const nlmsghdr *>(
      reinterpret_cast<const char *>(e) - NLMSG_HDRLEN);
  size_t off = NLMSG_HDRLEN + sizeof(*e);
  if ((hdr->nlmsg_flags & NLM_F_CAPPED) == 0)
    off += e->msg.nlmsg_len - NLMSG_HDRLEN;
  return extack_at(hdr, off);
}

void fail(Attempt &at, int errnum, std::string_view why) {
  if (!at.failed)
    at.failed = Error(errnum, std::string(at.what) + ": " + std::string(why));
}

// Every message read comes here first (NL_CB_MSG_IN), and nowhere else:
// it returns NL_SKIP (on to the next message) or NL_STOP (the end). So
// libnl's own sequence checks and counters, which its helpers on the
// same socket rely on (genl_ctrl_resolve()), never see our requests.
int on_message(nl_msg *msg, void *arg) {
  auto *at = static_cast<Attempt *>(arg);
  const nlmsghdr *hdr = nlmsg_hdr(msg);
  // Not ours: the rest of an earlier request that failed before its end.
  if (hdr->nlmsg_seq != at->seq) return NL_SKIP;
  if ((hdr->nlmsg_flags & NLM_F_DUMP_INTR) != 0) {
    // Read on to the end, keeping nothing: the dump is asked for again.
    at->interrupted = true;
    at->replies.clear();
  }
  switch (hdr->nlmsg_type) {
    case NLMSG_DONE:
      // A dump the kernel could not finish ends with -errno here, and
      // maybe an extack message after it; what came before is a part.
      if (hdr->nlmsg_len >= NLMSG_LENGTH(sizeof(int))) {
        int err = 0;
        std::memcpy(&err, nlmsg_data(hdr), sizeof(err));
        if (err < 0) {
          at->kernel_errno = -err;
          at->extack = extack_at(hdr, NLMSG_LENGTH(sizeof(err)));
        }
      }
      at->done = true;
      return NL_STOP;
    case NLMSG_ERROR: {
      if (hdr->nlmsg_len < NLMSG_LENGTH(sizeof(nlmsgerr))) {
        // Not an end we can trust: read on to the real one, or until
        // the reply goes quiet.
        fail(*at, EBADMSG, "truncated NLMSG_ERROR reply");
        return NL_SKIP;
      }
      const auto *e = static_cast<const nlmsgerr *>(nlmsg_data(hdr));
      at->kernel_errno = -e->error;
      if (e->error != 0) at->extack = extack_message(e);
      at->done = true;
      return NL_STOP;
    }
    case NLMSG_NOOP:
      return NL_SKIP;
    case NLMSG_OVERRUN:
      fail(*at, ENOBUFS, "the kernel lost part of the reply (NLMSG_OVERRUN)");
      return NL_SKIP;
    default:
      break;
  }
  if (at->failed || at->interrupted) return NL_SKIP;
  // libnl frees msg after this call; the reference taken here is the
  // Msg's.
  nlmsg_get(msg);
  at->replies.push_back(Msg::adopt(msg));
  return NL_SKIP;
}

// Send msg as at.seq's attempt and read its replies into at; a reply that
// cannot be read or the kernel's error is the result.
Result<void> exchange(nl_sock *sock, nl_msg *msg, Attempt &at) {
  CbPtr cb(nl_cb_alloc(NL_CB_DEFAULT));
  if (!cb) return Error(ENOMEM, std::string(at.what) + ": nl_cb_alloc failed");
  nl_cb_set(cb.get(), NL_CB_MSG_IN, NL_CB_CUSTOM, on_message, &at);
  // Our own sequence numbers, not libnl's: see on_message().
  nlmsg_hdr(msg)->nlmsg_seq = at.seq;

  int err = nl_send_auto(sock, msg);
  if (err < 0) return nl_error(err, at.what);
  int drain_reads = 0;
  while (!at.done) {
    if (at.failed) {
      // A reply could not be read. Read the rest and drop it, so the
      // next request on this socket starts clean (a dump still running
      // would also make the kernel refuse the next one with EBUSY).
      // Whatever is left if the end never comes, the next request skips
      // by its sequence number.
      if (++drain_reads > kMaxDrainReads) break;
      pollfd pfd{.fd = nl_socket_get_fd(sock), .events = POLLIN, .revents = 0};
      if (::poll(&pfd, 1, kDrainWaitMs) <= 0 || (pfd.revents & POLLIN) == 0)
        break;
    }
    err = nl_recvmsgs(sock, cb.get());
    if (err < 0 && !at.failed) at.failed = nl_error(err, at.what);
  }
  if (at.failed) return *at.failed;
  if (at.kernel_errno != 0) {
    if (!at.extack.empty())
      return Error(at.kernel_errno, std::string(at.what) + ": " + at.extack);
    return Error::from_errno(at.kernel_errno, at.what);
  }
  return {};
}

}  // namespace

uint32_t Socket::next_seq() noexcept {
  // 0 is NL_AUTO_SEQ, and what notifications carry.
  if (++seq_ == 0) ++seq_;
  return seq_;
}

Result<void> Socket::request(Msg msg, const ReplyHandler &on_reply,
                             std::string_view what) {
  for (int attempt = 0; attempt < kDumpAttempts; ++attempt) {
    Attempt at;
    at.what = what;
    // A fresh number for each attempt: nothing of an earlier one counts.
    at.seq = next_seq();
    if (auto res = exchange(sock_.get(), msg.get(), at); !res) return res;
    if (at.interrupted) continue;
    for (const Msg &reply : at.replies) {
      if (auto res = on_reply(reply.get()); !res) return res;
    }
    return {};
  }
  return Error(EAGAIN, std::string(what) + ": dump interrupted " +
                           std::to_string(kDumpAttempts) +
                           " times in a row (what the kernel listed kept "
                           "changing while it was read)");
}

Result<int> Socket::family(std::string_view name) {
  if (auto it = families_.find(name); it != families_.end()) return it->second;
  auto id = resolve_genl_family(*this, name);
  if (!id) return id.error();
  families_.emplace(std::string(name), *id);
  return *id;
}

Result<int> Socket::multicast_group(std::string_view family,
                                    std::string_view group) {
  const std::string f(family);
  const std::string g(group);
  const int id = genl_ctrl_resolve_grp(sock_.get(), f.c_str(), g.c_str());
  if (id < 0) return nl_error(id, "resolve multicast group " + f + "/" + g);
  return id;
}

Result<Msg> Msg::alloc() {
  MsgPtr msg(nlmsg_alloc());
  if (!msg) return Error(ENOMEM, "nlmsg_alloc: out of memory");
  return Msg(std::move(msg));
}

Result<Msg> genl_msg(int family, uint8_t cmd, int flags, uint8_t version) {
  auto msg = Msg::alloc();
  if (!msg) return msg.error();
  if (genlmsg_put(msg->get(), NL_AUTO_PORT, NL_AUTO_SEQ, family, 0, flags, cmd,
                  version) == nullptr)
    return Error(EMSGSIZE, "genlmsg_put: message too small");
  return msg;
}

namespace {
Result<void> put_result(int err, int type) {
  if (err < 0) return nl_error(err, "add attribute " + std::to_string(type));
  return {};
}
}  // namespace

Result<void> put_u8(Msg &msg, int type, uint8_t value) {
  return put_result(nla_put_u8(msg.get(), type, value), type);
}

Result<void> put_u32(Msg &msg, int type, uint32_t value) {
  return put_result(nla_put_u32(msg.get(), type, value), type);
}

Result<void> put_u64(Msg &msg, int type, uint64_t value) {
  return put_result(nla_put_u64(msg.get(), type, value), type);
}

Result<void> put_string(Msg &msg, int type, std::string_view value) {
  const std::string s(value);
  return put_result(nla_put_string(msg.get(), type, s.c_str()), type);
}

Result<void> put_flag(Msg &msg, int type) {
  return put_result(nla_put_flag(msg.get(), type), type);
}

Result<void> put_binary(Msg &msg, int type, const void *data, size_t len) {
  return put_result(nla_put(msg.get(), type, static_cast<int>(len), data),
                    type);
}

Result<Nest> Nest::open(Msg &msg, int type) {
  nlattr *attr = nla_nest_start(msg.get(), type);
  if (attr == nullptr)
    return Error(EMSGSIZE, "open nest " + std::to_string(type));
  return Nest(msg.get(), attr);
}

Nest::~Nest() {
  if (attr_ != nullptr) nla_nest_cancel(msg_, attr_);
}

void Nest::close() noexcept {
  if (attr_ != nullptr) nla_nest_end(msg_, attr_);
  attr_ = nullptr;
}

Result<Attrs> Attrs::parse(const nlattr *head, int len, int maxtype,
                           const nla_policy *policy) {
  std::vector<nlattr *> tb(static_cast<size_t>(maxtype) + 1, nullptr);
  // libnl's signatures lack const; it neither changes nor keeps them.
  const int err = nla_parse(tb.data(), maxtype, const_cast<nlattr *>(head), len,
                            const_cast<nla_policy *>(policy));
  if (err < 0) return nl_error(err, "parse attributes");
  return Attrs(std::move(tb));
}

Result<Attrs> Attrs::parse_genl(nl_msg *msg, int maxtype,
                                const nla_policy *policy) {
  nlmsghdr *hdr = nlmsg_hdr(msg);
  if (!genlmsg_valid_hdr(hdr, 0))
    return Error(EBADMSG, "parse attributes: short generic netlink message");
  return parse(genlmsg_attrdata(genlmsg_hdr(hdr), 0),
               genlmsg_attrlen(genlmsg_hdr(hdr), 0), maxtype, policy);
}

Result<Attrs> Attrs::parse_nested(const nlattr *nest, int maxtype,
                                  const nla_policy *policy) {
  if (nest == nullptr) return Error(EINVAL, "parse attributes: no nest");
  return parse(static_cast<const nlattr *>(nla_data(nest)), nla_len(nest),
               maxtype, policy);
}

const nlattr *Attrs::get(int type) const noexcept {
  if (type < 0 || static_cast<size_t>(type) >= tb_.size()) return nullptr;
  return tb_[static_cast<size_t>(type)];
}

std::optional<uint8_t> Attrs::u8(int type) const noexcept {
  const nlattr *a = get(type);
  if (a == nullptr || nla_len(a) < 1) return std::nullopt;
  return nla_get_u8(const_cast<nlattr *>(a));
}

std::optional<uint32_t> Attrs::u32(int type) const noexcept {
  const nlattr *a = get(type);
  if (a == nullptr || nla_len(a) < 4) return std::nullopt;
  return nla_get_u32(const_cast<nlattr *>(a));
}

std::optional<uint64_t> Attrs::u64(int type) const noexcept {
  const nlattr *a = get(type);
  if (a == nullptr) return std::nullopt;
  // The kernel sends some counters as u32 and others as u64 (uint).
  if (nla_len(a) == 4) return nla_get_u32(const_cast<nlattr *>(a));
  if (nla_len(a) < 8) return std::nullopt;
  return nla_get_u64(const_cast<nlattr *>(a));
}

std::optional<std::string> Attrs::str(int type) const {
  const nlattr *a = get(type);
  if (a == nullptr) return std::nullopt;
  const auto *text = static_cast<const char *>(nla_data(a));
  return std::string(text, strnlen(text, static_cast<size_t>(nla_len(a))));
}

std::vector<uint8_t> Attrs::binary(int type) const {
  const nlattr *a = get(type);
  if (a == nullptr) return {};
  const auto *p = static_cast<const uint8_t *>(nla_data(a));
  return {p, p + nla_len(a)};
}

std::vector<const nlattr *> attr_list(const nlattr *nest) {
  std::vector<const nlattr *> out;
  if (nest == nullptr) return out;
  const nlattr *pos = nullptr;
  int rem = 0;
  nla_for_each_nested(pos, const_cast<nlattr *>(nest), rem) {
    out.push_back(pos);
  }
  return out;
}

int Cache::size() const noexcept {
  return cache_ ? nl_cache_nitems(cache_.get()) : 0;
}

Result<int> resolve_genl_family(Socket &sock, std::string_view name) {
  const std::string what = "resolve genl family " + std::string(name);

  if (sock.protocol() != Protocol::kGeneric)
    return Error(EINVAL, what + ": not a NETLINK_GENERIC socket");
  const std::string family(name);
  const int id = genl_ctrl_resolve(sock.get(), family.c_str());
  if (id < 0) return nl_error(id, what);
  return id;
}

Result<void> subscribe(Socket &sock, int group) {
  const std::string what = "join multicast group " + std::to_string(group);
  nl_socket_disable_seq_check(sock.get());
  int err = nl_socket_add_membership(sock.get(), group);
  if (err < 0) return nl_error(err, what);
  err = nl_socket_set_nonblocking(sock.get());
  if (err < 0) return nl_error(err, what);
  return {};
}

namespace {

struct DrainState {
  const ReplyHandler *on_msg = nullptr;
  std::optional<Error> failed;
};

int on_notification(nl_msg *msg, void *arg) {
  auto *st = static_cast<DrainState *>(arg);
  if (st->failed) return NL_SKIP;
  auto res = (*st->on_msg)(msg);
  if (!res) st->failed = res.error();
  return NL_OK;
}

int skip_seq_check(nl_msg * /*msg*/, void * /*arg*/) { return NL_OK; }

}  // namespace

Result<void> drain(Socket &sock, const ReplyHandler &on_msg) {
  CbPtr cb(nl_cb_alloc(NL_CB_DEFAULT));
  if (!cb) return Error(ENOMEM, "read notifications: nl_cb_alloc failed");
  DrainState st;
  st.on_msg = &on_msg;
  nl_cb_set(cb.get(), NL_CB_VALID, NL_CB_CUSTOM, on_notification, &st);
  nl_cb_set(cb.get(), NL_CB_SEQ_CHECK, NL_CB_CUSTOM, skip_seq_check, nullptr);
  for (;;) {
    const int err = nl_recvmsgs(sock.get(), cb.get());
    if (st.failed) return *st.failed;
    if (err == -NLE_AGAIN) return {};
    // libnl reports recvmsg()'s ENOBUFS (a receive buffer overrun) as
    // NLE_NOMEM.
    if (err == -NLE_NOMEM)
      return Error(ENOBUFS, "read notifications: receive buffer overrun");
    if (err < 0) return nl_error(err, "read notifications");
  }
}

}  // namespace keel::nl
