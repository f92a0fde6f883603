// SPDX-License-Identifier: GPL-2.0
//
// keel::FakeKernel for unit tests: the kernel's side of netlink requests,
// without root. It listens on a NETLINK_USERSOCK socket (unprivileged
// processes may unicast to each other there) and answers the i-th request
// it receives with the i-th scripted FakeResponse: datagrams of crafted
// messages, each stamped with that request's sequence number and the
// requester's port. connect_to() gives an nl::Socket whose requests go to
// it. Messages go out as written: a FakeReply's len, when not 0, replaces
// the true nlmsg_len.
//
// Ownership: owns its socket, a stop eventfd and the thread that answers.
// Threading: the answers come from that thread; requests() and
// request_payloads() may be read only after finish(), which stops and
// joins it (the destructor does too).
#pragma once

#include <linux/netlink.h>
#include <netlink/msg.h>
#include <netlink/socket.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <poll.h>
#include <string>
#include <thread>
#include <unistd.h>
#include <utility>
#include <vector>

#include "keel/fd.h"
#include "keel/nl.h"
#include "keel/result.h"

namespace keel {

struct FakeReply {
  uint16_t type = NLMSG_DONE;
  uint16_t flags = 0;
  std::string payload;
  uint32_t len = 0;  // nlmsg_len to write instead of the true one; 0: true
};
using FakeDatagram = std::vector<FakeReply>;
using FakeResponse = std::vector<FakeDatagram>;

// The message type of fake data replies: the first one past the control
// messages (NLMSG_DONE, NLMSG_ERROR ...).
constexpr uint16_t kFakeDataType = NLMSG_MIN_TYPE;

// One message of a dump carrying payload (NLM_F_MULTI and flags).
inline FakeReply fake_part(std::string payload, uint16_t flags = 0) {
  return FakeReply{kFakeDataType, static_cast<uint16_t>(NLM_F_MULTI | flags),
                   std::move(payload), 0};
}

// The end of a dump: NLMSG_DONE, its int payload 0.
inline FakeReply fake_done(uint16_t flags = 0) {
  return FakeReply{NLMSG_DONE, static_cast<uint16_t>(NLM_F_MULTI | flags),
                   std::string(sizeof(int), '\0'), 0};
}

// The end of a dump the kernel could not finish: NLMSG_DONE carrying
// -errnum, and extack as its NLMSGERR_ATTR_MSG when not empty.
inline FakeReply fake_done_error(int errnum, const std::string &extack = "") {
  const int err = -errnum;
  std::string payload(sizeof(err), '\0');
  std::memcpy(payload.data(), &err, sizeof(err));
  uint16_t flags = NLM_F_MULTI;
  if (!extack.empty()) {
    flags |= NLM_F_ACK_TLVS;
    nlattr attr{};
    attr.nla_len = static_cast<uint16_t>(NLA_HDRLEN + extack.size() + 1);
    attr.nla_type = NLMSGERR_ATTR_MSG;
    payload.append(reinterpret_cast<const char *>(&attr), sizeof(attr));
    payload += extack;
    payload.resize(NLMSG_ALIGN(payload.size() + 1), '\0');
  }
  return FakeReply{NLMSG_DONE, flags, std::move(payload), 0};
}

// The end of a dump the kernel could not finish because of an attribute
// of the request, as NL_SET_BAD_ATTR() without a message reports it:
// NLMSG_DONE carrying -errnum and NLMSGERR_ATTR_OFFS, the attribute's
// offset in the request.
inline FakeReply fake_done_bad_attr(int errnum, uint32_t offset) {
  const int err = -errnum;
  std::string payload(sizeof(err), '\0');
  std::memcpy(payload.data(), &err, sizeof(err));
  nlattr attr{};
  attr.nla_len = static_cast<uint16_t>(NLA_HDRLEN + sizeof(offset));
  attr.nla_type = NLMSGERR_ATTR_OFFS;
  payload.append(reinterpret_cast<const char *>(&attr), sizeof(attr));
  payload.append(reinterpret_cast<const char *>(&offset), sizeof(offset));
  return FakeReply{NLMSG_DONE,
                   static_cast<uint16_t>(NLM_F_MULTI | NLM_F_ACK_TLVS),
                   std::move(payload), 0};
}

// A request the kernel refused: NLMSG_ERROR carrying -errnum and, as for
// a socket with NETLINK_CAP_ACK, just a request header (zeroed here).
inline FakeReply fake_error(int errnum) {
  nlmsgerr e{};
  e.error = -errnum;
  return FakeReply{NLMSG_ERROR, NLM_F_CAPPED,
                   std::string(reinterpret_cast<const char *>(&e), sizeof(e)),
                   0};
}

// An NLMSG_ERROR too short to hold a struct nlmsgerr: a reply that cannot
// be parsed.
inline FakeReply fake_truncated_error() {
  return FakeReply{NLMSG_ERROR, 0, std::string(sizeof(int), '\0'), 0};
}

class FakeKernel {
 public:
  explicit FakeKernel(std::vector<FakeResponse> script)
      : sock_(::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_USERSOCK)),
        stop_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)),
        script_(std::move(script)) {
    sockaddr_nl addr{};
    addr.nl_family = AF_NETLINK;  // nl_pid 0: the kernel picks a port
    socklen_t len = sizeof(addr);
    if (!sock_.valid() || !stop_.valid() ||
        ::bind(sock_.get(), reinterpret_cast<const sockaddr *>(&addr),
               sizeof(addr)) != 0 ||
        ::getsockname(sock_.get(), reinterpret_cast<sockaddr *>(&addr), &len) !=
            0)
      return;
    port_ = addr.nl_pid;
    thread_ = std::thread([this] { serve(); });
  }
  FakeKernel(const FakeKernel &) = delete;
  FakeKernel &operator=(const FakeKernel &) = delete;
  FakeKernel(FakeKernel &&) = delete;
  FakeKernel &operator=(FakeKernel &&) = delete;
  ~FakeKernel() { finish(); }

  // The port requests go to; 0 if the socket could not be set up.
  [[nodiscard]] uint32_t port() const { return port_; }

  // Stop answering and wait for the thread.
  void finish() {
    if (!thread_.joinable()) return;
    const uint64_t one = 1;
    (void)!::write(stop_.get(), &one, sizeof(one));
    thread_.join();
  }

  // The header of every request received, oldest first; after finish().
  [[nodiscard]] const std::vector<nlmsghdr> &requests() const {
    return requests_;
  }
  // What followed each of those headers; after finish().
  [[nodiscard]] const std::vector<std::string> &request_payloads() const {
    return payloads_;
  }

 private:
  // Gives up when no request comes for this long (a test that failed).
  static constexpr int kIdleMs = 10000;

  void serve() {
    std::vector<char> buf(65536);
    for (const FakeResponse &response : script_) {
      std::array<pollfd, 2> fds{
          {{sock_.get(), POLLIN, 0}, {stop_.get(), POLLIN, 0}}};
      if (::poll(fds.data(), fds.size(), kIdleMs) <= 0 ||
          (fds[1].revents & POLLIN) != 0)
        return;
      sockaddr_nl from{};
      socklen_t len = sizeof(from);
      const ssize_t n = ::recvfrom(sock_.get(), buf.data(), buf.size(), 0,
                                   reinterpret_cast<sockaddr *>(&from), &len);
      if (n < static_cast<ssize_t>(sizeof(nlmsghdr))) return;
      nlmsghdr request{};
      std::memcpy(&request, buf.data(), sizeof(request));
      requests_.push_back(request);
      const size_t end = std::min(static_cast<size_t>(n),
                                  static_cast<size_t>(request.nlmsg_len));
      payloads_.emplace_back(buf.data() + std::min(end, sizeof(request)),
                             buf.data() + end);
      for (const FakeDatagram &d : response) {
        const std::string bytes = datagram(d, request.nlmsg_seq, from.nl_pid);
        if (::sendto(sock_.get(), bytes.data(), bytes.size(), 0,
                     reinterpret_cast<const sockaddr *>(&from),
                     sizeof(from)) < 0)
          return;
      }
    }
  }

  static std::string datagram(const FakeDatagram &d, uint32_t seq,
                              uint32_t port) {
    std::string out;
    for (const FakeReply &r : d) {
      nlmsghdr h{};
      h.nlmsg_len = r.len != 0
                        ? r.len
                        : static_cast<uint32_t>(NLMSG_LENGTH(r.payload.size()));
      h.nlmsg_type = r.type;
      h.nlmsg_flags = r.flags;
      h.nlmsg_seq = seq;
      h.nlmsg_pid = port;
      out.append(reinterpret_cast<const char *>(&h), sizeof(h));
      out += r.payload;
      out.resize(NLMSG_ALIGN(out.size()), '\0');
    }
    return out;
  }

  Fd sock_;
  Fd stop_;
  std::vector<FakeResponse> script_;
  uint32_t port_ = 0;
  std::vector<nlmsghdr> requests_;     // written by thread_ until finish()
  std::vector<std::string> payloads_;  // likewise
  std::thread thread_;
};

// A socket whose requests go to kernel. A receive timeout makes a test
// whose answer never comes fail instead of hang.
inline Result<nl::Socket> connect_to(const FakeKernel &kernel) {
  auto sock = nl::Socket::connect(nl::Protocol::kUsersock);
  if (!sock) return sock.error();
  nl_socket_set_peer_port(sock->get(), kernel.port());
  const timeval timeout{.tv_sec = 5, .tv_usec = 0};
  if (::setsockopt(sock->fd(), SOL_SOCKET, SO_RCVTIMEO, &timeout,
                   sizeof(timeout)) < 0)
    return Error::from_errno("fake kernel: SO_RCVTIMEO");
  return sock;
}

// A request for the fake kernel: a header of kFakeDataType, no payload.
inline Result<nl::Msg> fake_request(int flags = NLM_F_DUMP) {
  auto msg = nl::Msg::alloc();
  if (!msg) return msg.error();
  if (nlmsg_put(msg->get(), NL_AUTO_PORT, NL_AUTO_SEQ, kFakeDataType, 0,
                flags) == nullptr)
    return Error(EMSGSIZE, "fake request: nlmsg_put failed");
  return msg;
}

// The payload of a reply, as the fake kernel was given it.
inline std::string payload_of(nl_msg *msg) {
  const nlmsghdr *h = nlmsg_hdr(msg);
  return {static_cast<const char *>(nlmsg_data(h)),
          static_cast<size_t>(nlmsg_datalen(h))};
}

}  // namespace keel
