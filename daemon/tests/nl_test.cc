// SPDX-License-Identifier: GPL-2.0
//
// Talks to the host kernel over netlink, and to a fake kernel answering
// with crafted replies (tests/fake_kernel.h); needs no privilege.
#include "keel/nl.h"

#include <linux/ethtool_netlink.h>
#include <linux/genetlink.h>
#include <netlink/genl/genl.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <poll.h>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "fake_kernel.h"
#include "keel/links.h"

namespace keel {
namespace {

TEST(Links, FindsLoopback) {
  auto links = list_links();
  ASSERT_TRUE(links) << links.error().str();
  auto lo = std::find_if(links->begin(), links->end(),
                         [](const Link &l) { return l.name == "lo"; });
  ASSERT_NE(lo, links->end());
  EXPECT_GT(lo->ifindex, 0);
  EXPECT_GT(lo->mtu, 0U);
  EXPECT_FALSE(lo->oper_state.empty());
  EXPECT_TRUE(std::is_sorted(
      links->begin(), links->end(),
      [](const Link &a, const Link &b) { return a.ifindex < b.ifindex; }));
}

TEST(Links, RejectsGenericSocket) {
  auto sock = nl::Socket::connect(nl::Protocol::kGeneric);
  ASSERT_TRUE(sock) << sock.error().str();
  auto links = list_links(*sock);
  ASSERT_FALSE(links);
  EXPECT_EQ(links.error().errnum(), EINVAL);
}

TEST(Genl, ResolvesNlctrl) {
  auto sock = nl::Socket::connect(nl::Protocol::kGeneric);
  ASSERT_TRUE(sock) << sock.error().str();
  auto id = nl::resolve_genl_family(*sock, "nlctrl");
  ASSERT_TRUE(id) << id.error().str();
  EXPECT_EQ(*id, 0x10);  // GENL_ID_CTRL
}

TEST(Genl, ResolvesEthtool) {
  auto sock = nl::Socket::connect(nl::Protocol::kGeneric);
  ASSERT_TRUE(sock) << sock.error().str();
  auto id = nl::resolve_genl_family(*sock, "ethtool");
  if (!id && id.error().errnum() == ENOENT)
    GTEST_SKIP() << "kernel without CONFIG_ETHTOOL_NETLINK";
  ASSERT_TRUE(id) << id.error().str();
  EXPECT_GT(*id, 0x10);
}

TEST(Genl, UnknownFamilyIsEnoent) {
  auto sock = nl::Socket::connect(nl::Protocol::kGeneric);
  ASSERT_TRUE(sock) << sock.error().str();
  auto id = nl::resolve_genl_family(*sock, "keel-no-such-family");
  ASSERT_FALSE(id);
  EXPECT_EQ(id.error().errnum(), ENOENT);
  EXPECT_NE(id.error().message().find("keel-no-such-family"),
            std::string::npos);
}

TEST(Genl, RejectsRouteSocket) {
  auto sock = nl::Socket::connect(nl::Protocol::kRoute);
  ASSERT_TRUE(sock) << sock.error().str();
  auto id = nl::resolve_genl_family(*sock, "nlctrl");
  ASSERT_FALSE(id);
  EXPECT_EQ(id.error().errnum(), EINVAL);
}

TEST(Request, DumpsGenlFamilies) {
  auto sock = nl::Socket::connect(nl::Protocol::kGeneric);
  ASSERT_TRUE(sock) << sock.error().str();
  auto msg = nl::genl_msg(GENL_ID_CTRL, CTRL_CMD_GETFAMILY, NLM_F_DUMP);
  ASSERT_TRUE(msg) << msg.error().str();
  std::set<std::string> names;
  std::array<nla_policy, CTRL_ATTR_MAX + 1> policy{};
  policy[CTRL_ATTR_FAMILY_NAME].type = NLA_STRING;
  auto res = sock->request(
      std::move(*msg),
      [&](nl_msg *reply) -> Result<void> {
        auto attrs = nl::Attrs::parse_genl(reply, CTRL_ATTR_MAX, policy.data());
        if (!attrs) return attrs.error();
        if (auto name = attrs->str(CTRL_ATTR_FAMILY_NAME)) names.insert(*name);
        return {};
      },
      "dump families");
  ASSERT_TRUE(res) << res.error().str();
  EXPECT_TRUE(names.contains("nlctrl"));
}

TEST(Request, HandlerErrorStopsTheRequest) {
  auto sock = nl::Socket::connect(nl::Protocol::kGeneric);
  ASSERT_TRUE(sock) << sock.error().str();
  auto msg = nl::genl_msg(GENL_ID_CTRL, CTRL_CMD_GETFAMILY, NLM_F_DUMP);
  ASSERT_TRUE(msg) << msg.error().str();
  int calls = 0;
  auto res = sock->request(
      std::move(*msg),
      [&](nl_msg *) -> Result<void> {
        ++calls;
        return Error(EBADMSG, "garbage");
      },
      "dump families");
  ASSERT_FALSE(res);
  EXPECT_EQ(res.error().errnum(), EBADMSG);
  EXPECT_EQ(calls, 1);
  // The socket stays usable after the failed request.
  EXPECT_TRUE(sock->family("nlctrl"));
}

// Collects the payload of every reply the fake kernel sent.
nl::ReplyHandler collect(std::vector<std::string> &out) {
  return [&out](nl_msg *reply) -> Result<void> {
    out.push_back(payload_of(reply));
    return {};
  };
}

// A request to tests/fake_kernel.h's fake kernel: every reply of a dump,
// across datagrams, in order.
TEST(FakeKernelDump, Clean) {
  FakeKernel kernel({{{fake_part("a"), fake_part("b")}, {fake_done()}}});
  ASSERT_NE(kernel.port(), 0U);
  auto sock = connect_to(kernel);
  ASSERT_TRUE(sock) << sock.error().str();
  auto msg = fake_request();
  ASSERT_TRUE(msg) << msg.error().str();
  std::vector<std::string> got;
  auto res = sock->request(std::move(*msg), collect(got), "dump");
  ASSERT_TRUE(res) << res.error().str();
  EXPECT_EQ(got, (std::vector<std::string>{"a", "b"}));
  kernel.finish();
  ASSERT_EQ(kernel.requests().size(), 1U);
  EXPECT_NE(kernel.requests()[0].nlmsg_flags & NLM_F_DUMP, 0);
}

// Issue 11: a dump the kernel marks NLM_F_DUMP_INTR (what it listed
// changed while it was read) is asked for again; the interrupted
// attempt's replies, flagged or not, never reach the handler.
TEST(FakeKernelDump, InterruptedIsRestarted) {
  FakeKernel kernel({
      {{fake_part("a1")},
       {fake_part("b1", NLM_F_DUMP_INTR), fake_done(NLM_F_DUMP_INTR)}},
      {{fake_part("a2"), fake_part("b2")}, {fake_done()}},
  });
  ASSERT_NE(kernel.port(), 0U);
  auto sock = connect_to(kernel);
  ASSERT_TRUE(sock) << sock.error().str();
  auto msg = fake_request();
  ASSERT_TRUE(msg) << msg.error().str();
  std::vector<std::string> got;
  auto res = sock->request(std::move(*msg), collect(got), "dump");
  ASSERT_TRUE(res) << res.error().str();
  EXPECT_EQ(got, (std::vector<std::string>{"a2", "b2"}));
  kernel.finish();
  ASSERT_EQ(kernel.requests().size(), 2U);
  EXPECT_NE(kernel.requests()[0].nlmsg_seq, kernel.requests()[1].nlmsg_seq);
}

// A dump interrupted kDumpAttempts times in a row is an error that says
// so; the socket answers the next request.
TEST(FakeKernelDump, InterruptedEveryTimeGivesUp) {
  const FakeResponse interrupted{
      {fake_part("x", NLM_F_DUMP_INTR), fake_done(NLM_F_DUMP_INTR)}};
  std::vector<FakeResponse> script(nl::kDumpAttempts, interrupted);
  script.push_back({{fake_part("y"), fake_done()}});
  FakeKernel kernel(script);
  ASSERT_NE(kernel.port(), 0U);
  auto sock = connect_to(kernel);
  ASSERT_TRUE(sock) << sock.error().str();
  auto msg = fake_request();
  ASSERT_TRUE(msg) << msg.error().str();
  std::vector<std::string> got;
  auto res = sock->request(std::move(*msg), collect(got), "list links");
  ASSERT_FALSE(res);
  EXPECT_EQ(res.error().errnum(), EAGAIN);
  EXPECT_NE(res.error().message().find("list links: dump interrupted " +
                                       std::to_string(nl::kDumpAttempts) +
                                       " times in a row"),
            std::string::npos)
      << res.error().message();
  EXPECT_TRUE(got.empty());

  auto next = fake_request();
  ASSERT_TRUE(next) << next.error().str();
  res = sock->request(std::move(*next), collect(got), "next");
  ASSERT_TRUE(res) << res.error().str();
  EXPECT_EQ(got, (std::vector<std::string>{"y"}));
  kernel.finish();
  EXPECT_EQ(kernel.requests().size(),
            static_cast<size_t>(nl::kDumpAttempts) + 1);
}

// A dump the kernel could not finish says why in its NLMSG_DONE: the
// request fails with that errno, and the part read is not handed on as
// if it were the whole.
TEST(FakeKernelDump, DoneWithAnError) {
  FakeKernel kernel({
      {{fake_part("a1")}, {fake_done_error(EMSGSIZE)}},
      {{fake_part("a2")}, {fake_done_error(ENODEV, "no such device")}},
      {{fake_part("a3")}, {fake_done()}},
  });
  ASSERT_NE(kernel.port(), 0U);
  auto sock = connect_to(kernel);
  ASSERT_TRUE(sock) << sock.error().str();
  auto msg = fake_request();
  ASSERT_TRUE(msg) << msg.error().str();
  std::vector<std::string> got;
  auto res = sock->request(std::move(*msg), collect(got), "list links");
  ASSERT_FALSE(res);
  EXPECT_EQ(res.error().str(), "list links: Message too long (EMSGSIZE)");
  EXPECT_TRUE(got.empty());
  // with the kernel's extack message
  auto second = fake_request();
  ASSERT_TRUE(second) << second.error().str();
  res = sock->request(std::move(*second), collect(got), "second");
  ASSERT_FALSE(res);
  EXPECT_EQ(res.error().str(), "second: no such device (ENODEV)");
  auto next = fake_request();
  ASSERT_TRUE(next) << next.error().str();
  res = sock->request(std::move(*next), collect(got), "next");
  ASSERT_TRUE(res) << res.error().str();
  EXPECT_EQ(got, (std::vector<std::string>{"a3"}));
}

// What one request to the fake kernel gave.
struct Outcome {
  std::string error;       // Error::str(); "" when it succeeded
  std::string replies;     // the payloads, joined
  bool left_over = false;  // something was still queued on the socket
};

Outcome request_once(nl::Socket &sock, const char *what) {
  Outcome out;
  auto msg = fake_request();
  if (!msg) return Outcome{msg.error().str(), "", false};
  std::vector<std::string> got;
  auto res = sock.request(std::move(*msg), collect(got), what);
  if (!res) out.error = res.error().str();
  for (const std::string &g : got) out.replies += g;
  // The fake kernel sends nothing before the next request.
  pollfd pfd{.fd = sock.fd(), .events = POLLIN, .revents = 0};
  out.left_over = ::poll(&pfd, 1, 0) > 0;
  return out;
}

// A request that succeeds with exactly these replies (the socket is clean
// after whatever came before).
void expect_answered(nl::Socket &sock, const char *what, const char *replies) {
  const Outcome out = request_once(sock, what);
  EXPECT_EQ(out.error, "") << what;
  EXPECT_EQ(out.replies, replies) << what;
}

// Issue 11: a reply that cannot be parsed in the middle of a dump fails
// the request, and the rest of that dump is read and dropped: the next
// requests get their own answers, not a sequence number mismatch.
TEST(FakeKernelDump, UnparsableReplyThenNextRequests) {
  FakeKernel kernel({
      {{fake_part("a1")},
       {fake_truncated_error()},
       {fake_part("c1")},
       {fake_done()}},
      {{fake_part("a2")}, {fake_done()}},
      {{fake_part("a3")}, {fake_done()}},
  });
  ASSERT_NE(kernel.port(), 0U);
  auto sock = connect_to(kernel);
  ASSERT_TRUE(sock) << sock.error().str();
  const Outcome first = request_once(*sock, "first");
  EXPECT_EQ(first.error, "first: truncated NLMSG_ERROR reply (EBADMSG)");
  EXPECT_FALSE(first.left_over);
  expect_answered(*sock, "second", "a2");
  expect_answered(*sock, "third", "a3");
}

// The same with a datagram larger than a receive buffer that does not
// peek first (as CounterReader's): it is cut, and fails the request.
TEST(FakeKernelDump, DatagramTooLargeThenNextRequests) {
  FakeKernel kernel({
      {{fake_part("a1")},
       {fake_part(std::string(8192, 'b'))},
       {fake_part("c1")},
       {fake_done()}},
      {{fake_part("a2")}, {fake_done()}},
      {{fake_part("a3")}, {fake_done()}},
  });
  ASSERT_NE(kernel.port(), 0U);
  auto sock = connect_to(kernel);
  ASSERT_TRUE(sock) << sock.error().str();
  nl_socket_disable_msg_peek(sock->get());
  ASSERT_EQ(nl_socket_set_msg_buf_size(sock->get(), 4096), 0);
  const Outcome first = request_once(*sock, "first");
  EXPECT_NE(first.error.find("first: "), std::string::npos) << first.error;
  EXPECT_FALSE(first.left_over);
  expect_answered(*sock, "second", "a2");
  expect_answered(*sock, "third", "a3");
}

// The end of a request that failed may never come: reading the rest
// gives up after a while, and the next request still gets its own answer.
TEST(FakeKernelDump, EndThatNeverComes) {
  FakeKernel kernel({
      {{fake_part("a1")}, {fake_truncated_error()}},
      {{fake_part("a2")}, {fake_done()}},
  });
  ASSERT_NE(kernel.port(), 0U);
  auto sock = connect_to(kernel);
  ASSERT_TRUE(sock) << sock.error().str();
  const Outcome first = request_once(*sock, "first");
  EXPECT_NE(first.error, "");
  expect_answered(*sock, "second", "a2");
}

// A handler that cannot parse one reply fails the request; the rest of
// the dump is still read, so the next request gets its own answer.
TEST(FakeKernelDump, HandlerErrorThenNextRequest) {
  FakeKernel kernel({
      {{fake_part("a1"), fake_part("bad")}, {fake_part("c1")}, {fake_done()}},
      {{fake_part("a2")}, {fake_done()}},
  });
  ASSERT_NE(kernel.port(), 0U);
  auto sock = connect_to(kernel);
  ASSERT_TRUE(sock) << sock.error().str();
  auto msg = fake_request();
  ASSERT_TRUE(msg) << msg.error().str();
  std::vector<std::string> seen;
  auto res = sock->request(
      std::move(*msg),
      [&](nl_msg *reply) -> Result<void> {
        seen.push_back(payload_of(reply));
        if (seen.back() == "bad") return Error(EBADMSG, "bad reply");
        return {};
      },
      "first");
  ASSERT_FALSE(res);
  EXPECT_EQ(res.error().errnum(), EBADMSG);
  EXPECT_EQ(seen, (std::vector<std::string>{"a1", "bad"}));
  auto next = fake_request();
  ASSERT_TRUE(next) << next.error().str();
  std::vector<std::string> got;
  res = sock->request(std::move(*next), collect(got), "second");
  ASSERT_TRUE(res) << res.error().str();
  EXPECT_EQ(got, (std::vector<std::string>{"a2"}));
}

// The kernel's extended ack text reaches the caller.
TEST(Request, ReportsExtack) {
  auto sock = nl::Socket::connect(nl::Protocol::kGeneric);
  ASSERT_TRUE(sock) << sock.error().str();
  auto family = sock->family("ethtool");
  if (!family && family.error().errnum() == ENOENT)
    GTEST_SKIP() << "kernel without CONFIG_ETHTOOL_NETLINK";
  ASSERT_TRUE(family) << family.error().str();
  auto msg = nl::genl_msg(*family, ETHTOOL_MSG_LINKINFO_GET, 0);
  ASSERT_TRUE(msg) << msg.error().str();
  {
    auto hdr = nl::Nest::open(*msg, ETHTOOL_A_LINKINFO_HEADER);
    ASSERT_TRUE(hdr) << hdr.error().str();
    ASSERT_TRUE(nl::put_string(*msg, ETHTOOL_A_HEADER_DEV_NAME, "keel-nosuch"));
    hdr->close();
  }
  auto res = sock->request(
      std::move(*msg), [](nl_msg *) -> Result<void> { return {}; },
      "linkinfo keel-nosuch");
  ASSERT_FALSE(res);
  EXPECT_EQ(res.error().errnum(), ENODEV);
  EXPECT_NE(res.error().message().find("linkinfo keel-nosuch: no device"),
            std::string::npos)
      << res.error().message();
}

TEST(Attrs, BuildsAndParsesNests) {
  auto msg = nl::genl_msg(GENL_ID_CTRL, CTRL_CMD_GETFAMILY, 0);
  ASSERT_TRUE(msg);
  ASSERT_TRUE(nl::put_u32(*msg, 1, 0xdeadbeef));
  {
    auto nest = nl::Nest::open(*msg, 2);
    ASSERT_TRUE(nest);
    ASSERT_TRUE(nl::put_u64(*msg, 1, 1ULL << 40));
    ASSERT_TRUE(nl::put_string(*msg, 2, "eth0"));
    ASSERT_TRUE(nl::put_u32(*msg, 3, 7));
    nest->close();
  }
  {
    // Cancelled: never closed.
    auto nest = nl::Nest::open(*msg, 3);
    ASSERT_TRUE(nest);
    ASSERT_TRUE(nl::put_u8(*msg, 1, 1));
  }
  std::array<nla_policy, 4> top{};
  top[1].type = NLA_U32;
  top[2].type = NLA_NESTED;
  auto attrs = nl::Attrs::parse_genl(msg->get(), 3, top.data());
  ASSERT_TRUE(attrs) << attrs.error().str();
  EXPECT_EQ(attrs->u32(1), 0xdeadbeefU);
  EXPECT_FALSE(attrs->has(3));
  EXPECT_EQ(attrs->u32(99), std::nullopt);

  std::array<nla_policy, 4> inner{};
  inner[2].type = NLA_STRING;
  auto in = nl::Attrs::parse_nested(attrs->get(2), 3, inner.data());
  ASSERT_TRUE(in) << in.error().str();
  EXPECT_EQ(in->u64(1), 1ULL << 40);
  EXPECT_EQ(in->str(2), "eth0");
  EXPECT_EQ(in->u64(3), 7U);  // a u32 read as a counter
  EXPECT_EQ(nl::attr_list(attrs->get(2)).size(), 3U);
}

TEST(Attrs, PolicyRejectsShortAttribute) {
  auto msg = nl::genl_msg(GENL_ID_CTRL, CTRL_CMD_GETFAMILY, 0);
  ASSERT_TRUE(msg);
  ASSERT_TRUE(nl::put_u8(*msg, 1, 1));
  std::array<nla_policy, 2> top{};
  top[1].type = NLA_U32;  // the kernel promised a u32 and sent a u8
  auto attrs = nl::Attrs::parse_genl(msg->get(), 1, top.data());
  ASSERT_FALSE(attrs);
  EXPECT_EQ(attrs.error().errnum(), EINVAL);
}

}  // namespace
}  // namespace keel
