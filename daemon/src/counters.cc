// SPDX-License-Identifier: GPL-2.0
//
// keel::CounterReader and the parsers of the kernel's counter replies;
// see keel/counters.h.
#include "keel/counters.h"

#include <linux/ethtool.h>
#include <linux/ethtool_netlink.h>
#include <linux/genetlink.h>
#include <linux/netdev.h>
#include <netlink/genl/genl.h>
#include <netlink/socket.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <iterator>
#include <limits>
#include <string_view>
#include <utility>

#include "ethtool_stats.h"

namespace keel {
namespace counters {

AttrStream genl_payload(nl_msg *msg) {
  nlmsghdr *hdr = nlmsg_hdr(msg);
  if (!genlmsg_valid_hdr(hdr, 0)) return {};
  return {genlmsg_attrdata(genlmsg_hdr(hdr), 0),
          genlmsg_attrlen(genlmsg_hdr(hdr), 0)};
}

AttrStream nest_payload(const nlattr *nest) {
  if (nest == nullptr) return {};
  return {static_cast<const nlattr *>(nla_data(nest)), nla_len(nest)};
}

std::vector<const nlattr *> attr_list(AttrStream stream) {
  std::vector<const nlattr *> out;
  if (stream.head == nullptr) return out;
  const nlattr *pos = nullptr;
  int rem = 0;
  // libnl's macro lacks const; it only reads.
  nla_for_each_attr(pos, const_cast<nlattr *>(stream.head), stream.len, rem) {
    out.push_back(pos);
  }
  return out;
}

namespace {

Result<nl::Attrs> parse(AttrStream s, int maxtype) {
  return nl::Attrs::parse(s.head, s.len, maxtype, nullptr);
}

// A u64 counter attribute: u64, or u32 for the netdev family's "uint".
std::optional<uint64_t> counter_value(const nlattr *a) {
  if (nla_len(a) == 4) return nla_get_u32(const_cast<nlattr *>(a));
  if (nla_len(a) == 8) return nla_get_u64(const_cast<nlattr *>(a));
  return std::nullopt;
}

Error bad(std::string_view what) {
  return Error(EBADMSG, "parse " + std::string(what) + ": malformed reply");
}

std::string_view stats_group_name(uint32_t id) {
  switch (id) {
    case ETHTOOL_STATS_ETH_PHY:
      return "eth-phy";
    case ETHTOOL_STATS_ETH_MAC:
      return "eth-mac";
    case ETHTOOL_STATS_ETH_CTRL:
      return "eth-ctrl";
    case ETHTOOL_STATS_RMON:
      return "rmon";
    default:
      return "";
  }
}

// One histogram bucket (ETHTOOL_A_STATS_GRP_HIST_RX/TX nest).
Result<void> parse_hist(const nlattr *nest, std::string_view dir,
                        std::vector<Counter> &out) {
  auto a = parse(nest_payload(nest), ETHTOOL_A_STATS_GRP_MAX);
  if (!a) return a.error().with_context("parse rmon histogram");
  const auto low = a->u32(ETHTOOL_A_STATS_GRP_HIST_BKT_LOW);
  const auto high = a->u32(ETHTOOL_A_STATS_GRP_HIST_BKT_HI);
  const nlattr *val = a->get(ETHTOOL_A_STATS_GRP_HIST_VAL);
  if (!low || !high || val == nullptr) return bad("rmon histogram");
  const auto v = counter_value(val);
  if (!v) return bad("rmon histogram");
  out.push_back(Counter{"rmon",
                        std::string(dir) + "-" + std::to_string(*low) + "-" +
                            std::to_string(*high),
                        "", *v});
  return {};
}

// One ETHTOOL_A_STATS_GRP nest.
Result<void> parse_stats_group(const nlattr *grp, const StringSets &names,
                               std::vector<Counter> &out) {
  auto a = parse(nest_payload(grp), ETHTOOL_A_STATS_GRP_MAX);
  if (!a) return a.error().with_context("parse stats group");
  const auto id = a->u32(ETHTOOL_A_STATS_GRP_ID);
  const auto ss = a->u32(ETHTOOL_A_STATS_GRP_SS_ID);
  if (!id || !ss) return bad("stats group");
  const std::string_view group = stats_group_name(*id);
  if (group.empty()) return {};  // a group newer than us
  const std::vector<std::string> *table = nullptr;
  if (auto it = names.find(*ss); it != names.end()) table = &it->second;

  // Statistics, histogram buckets and padding, in the kernel's order;
  // each statistic is a nest holding one u64 whose type is its index
  // (starting at 0, which nla_parse would drop).
  for (const nlattr *attr : attr_list(nest_payload(grp))) {
    switch (nla_type(attr)) {
      case ETHTOOL_A_STATS_GRP_STAT:
        for (const nlattr *stat : attr_list(nest_payload(attr))) {
          const auto v = counter_value(stat);
          if (!v) return bad("stats group statistic");
          const auto index = static_cast<size_t>(nla_type(stat));
          std::string name;
          if (table != nullptr && index < table->size()) name = (*table)[index];
          if (name.empty()) name = "stat-" + std::to_string(index);
          out.push_back(Counter{std::string(group), name, "", *v});
        }
        break;
      case ETHTOOL_A_STATS_GRP_HIST_RX:
      case ETHTOOL_A_STATS_GRP_HIST_TX: {
        const bool rx = nla_type(attr) == ETHTOOL_A_STATS_GRP_HIST_RX;
        if (auto r = parse_hist(attr, rx ? "rx" : "tx", out); !r) return r;
        break;
      }
      default:
        break;
    }
  }
  return {};
}

constexpr std::array<std::pair<int, std::string_view>, 27> kQstatsNames{{
    {NETDEV_A_QSTATS_RX_PACKETS, "rx-packets"},
    {NETDEV_A_QSTATS_RX_BYTES, "rx-bytes"},
    {NETDEV_A_QSTATS_TX_PACKETS, "tx-packets"},
    {NETDEV_A_QSTATS_TX_BYTES, "tx-bytes"},
    {NETDEV_A_QSTATS_RX_ALLOC_FAIL, "rx-alloc-fail"},
    {NETDEV_A_QSTATS_RX_HW_DROPS, "rx-hw-drops"},
    {NETDEV_A_QSTATS_RX_HW_DROP_OVERRUNS, "rx-hw-drop-overruns"},
    {NETDEV_A_QSTATS_RX_CSUM_COMPLETE, "rx-csum-complete"},
    {NETDEV_A_QSTATS_RX_CSUM_UNNECESSARY, "rx-csum-unnecessary"},
    {NETDEV_A_QSTATS_RX_CSUM_NONE, "rx-csum-none"},
    {NETDEV_A_QSTATS_RX_CSUM_BAD, "rx-csum-bad"},
    {NETDEV_A_QSTATS_RX_HW_GRO_PACKETS, "rx-hw-gro-packets"},
    {NETDEV_A_QSTATS_RX_HW_GRO_BYTES, "rx-hw-gro-bytes"},
    {NETDEV_A_QSTATS_RX_HW_GRO_WIRE_PACKETS, "rx-hw-gro-wire-packets"},
    {NETDEV_A_QSTATS_RX_HW_GRO_WIRE_BYTES, "rx-hw-gro-wire-bytes"},
    {NETDEV_A_QSTATS_RX_HW_DROP_RATELIMITS, "rx-hw-drop-ratelimits"},
    {NETDEV_A_QSTATS_TX_HW_DROPS, "tx-hw-drops"},
    {NETDEV_A_QSTATS_TX_HW_DROP_ERRORS, "tx-hw-drop-errors"},
    {NETDEV_A_QSTATS_TX_CSUM_NONE, "tx-csum-none"},
    {NETDEV_A_QSTATS_TX_NEEDS_CSUM, "tx-needs-csum"},
    {NETDEV_A_QSTATS_TX_HW_GSO_PACKETS, "tx-hw-gso-packets"},
    {NETDEV_A_QSTATS_TX_HW_GSO_BYTES, "tx-hw-gso-bytes"},
    {NETDEV_A_QSTATS_TX_HW_GSO_WIRE_PACKETS, "tx-hw-gso-wire-packets"},
    {NETDEV_A_QSTATS_TX_HW_GSO_WIRE_BYTES, "tx-hw-gso-wire-bytes"},
    {NETDEV_A_QSTATS_TX_HW_DROP_RATELIMITS, "tx-hw-drop-ratelimits"},
    {NETDEV_A_QSTATS_TX_STOP, "tx-stop"},
    {NETDEV_A_QSTATS_TX_WAKE, "tx-wake"},
}};
static_assert(kQstatsNames.size() ==
                  NETDEV_A_QSTATS_MAX - NETDEV_A_QSTATS_RX_PACKETS + 1,
              "every NETDEV_A_QSTATS_* counter has a name");

constexpr std::array<std::pair<int, std::string_view>, 11> kPagePoolNames{{
    {NETDEV_A_PAGE_POOL_STATS_ALLOC_FAST, "alloc-fast"},
    {NETDEV_A_PAGE_POOL_STATS_ALLOC_SLOW, "alloc-slow"},
    {NETDEV_A_PAGE_POOL_STATS_ALLOC_SLOW_HIGH_ORDER, "alloc-slow-high-order"},
    {NETDEV_A_PAGE_POOL_STATS_ALLOC_EMPTY, "alloc-empty"},
    {NETDEV_A_PAGE_POOL_STATS_ALLOC_REFILL, "alloc-refill"},
    {NETDEV_A_PAGE_POOL_STATS_ALLOC_WAIVE, "alloc-waive"},
    {NETDEV_A_PAGE_POOL_STATS_RECYCLE_CACHED, "recycle-cached"},
    {NETDEV_A_PAGE_POOL_STATS_RECYCLE_CACHE_FULL, "recycle-cache-full"},
    {NETDEV_A_PAGE_POOL_STATS_RECYCLE_RING, "recycle-ring"},
    {NETDEV_A_PAGE_POOL_STATS_RECYCLE_RING_FULL, "recycle-ring-full"},
    {NETDEV_A_PAGE_POOL_STATS_RECYCLE_RELEASED_REFCNT,
     "recycle-released-refcnt"},
}};
static_assert(kPagePoolNames.size() == NETDEV_A_PAGE_POOL_STATS_MAX -
                                           NETDEV_A_PAGE_POOL_STATS_ALLOC_FAST +
                                           1,
              "every NETDEV_A_PAGE_POOL_STATS_* counter has a name");

template <size_t N>
std::string lookup(const std::array<std::pair<int, std::string_view>, N> &t,
                   int type) {
  for (const auto &[t_type, name] : t)
    if (t_type == type) return std::string(name);
  return {};
}

// Counters of one netdev reply: every known counter attribute, in the
// order the kernel sent them.
Result<void> netdev_counters(AttrStream attrs, std::string_view group,
                             const std::string &queue,
                             std::string (*name_of)(int),
                             std::vector<Counter> &out) {
  for (const nlattr *attr : attr_list(attrs)) {
    std::string name = name_of(nla_type(attr));
    if (name.empty()) continue;
    const auto v = counter_value(attr);
    if (!v) return bad(group);
    out.push_back(Counter{std::string(group), std::move(name), queue, *v});
  }
  return {};
}

}  // namespace

std::string qstats_name(int type) { return lookup(kQstatsNames, type); }

std::string page_pool_stats_name(int type) {
  return lookup(kPagePoolNames, type);
}

const StringSets &builtin_stats_strings() {
  static const StringSets sets{
      {ETH_SS_STATS_ETH_PHY, {"SymbolErrorDuringCarrier"}},
      {ETH_SS_STATS_ETH_MAC,
       {"FramesTransmittedOK",
        "SingleCollisionFrames",
        "MultipleCollisionFrames",
        "FramesReceivedOK",
        "FrameCheckSequenceErrors",
        "AlignmentErrors",
        "OctetsTransmittedOK",
        "FramesWithDeferredXmissions",
        "LateCollisions",
        "FramesAbortedDueToXSColls",
        "FramesLostDueToIntMACXmitError",
        "CarrierSenseErrors",
        "OctetsReceivedOK",
        "FramesLostDueToIntMACRcvError",
        "MulticastFramesXmittedOK",
        "BroadcastFramesXmittedOK",
        "FramesWithExcessiveDeferral",
        "MulticastFramesReceivedOK",
        "BroadcastFramesReceivedOK",
        "InRangeLengthErrors",
        "OutOfRangeLengthField",
        "FrameTooLongErrors"}},
      {ETH_SS_STATS_ETH_CTRL,
       {"MACControlFramesTransmitted", "MACControlFramesReceived",
        "UnsupportedOpcodesReceived"}},
      {ETH_SS_STATS_RMON,
       {"etherStatsUndersizePkts", "etherStatsOversizePkts",
        "etherStatsFragments", "etherStatsJabbers"}},
  };
  return sets;
}

Result<void> parse_strset_reply(AttrStream attrs, StringSets &sets) {
  auto top = parse(attrs, ETHTOOL_A_STRSET_MAX);
  if (!top) return top.error().with_context("parse strset reply");
  for (const nlattr *set :
       attr_list(nest_payload(top->get(ETHTOOL_A_STRSET_STRINGSETS)))) {
    if (nla_type(set) != ETHTOOL_A_STRINGSETS_STRINGSET) continue;
    auto s = parse(nest_payload(set), ETHTOOL_A_STRINGSET_MAX);
    if (!s) return s.error().with_context("parse strset reply");
    const auto id = s->u32(ETHTOOL_A_STRINGSET_ID);
    const auto count = s->u32(ETHTOOL_A_STRINGSET_COUNT);
    if (!id || !count) return bad("strset reply");
    // The count sizes the vector: bounded, as NetlinkNic's string sets
    // (ethnl::kMaxStrings); the standard statistics sets have dozens.
    constexpr uint32_t kMaxStrings = uint32_t{1} << 17;
    if (*count > kMaxStrings) return bad("strset reply (string count)");
    std::vector<std::string> names(*count);
    for (const nlattr *str :
         attr_list(nest_payload(s->get(ETHTOOL_A_STRINGSET_STRINGS)))) {
      if (nla_type(str) != ETHTOOL_A_STRINGS_STRING) continue;
      auto e = parse(nest_payload(str), ETHTOOL_A_STRING_MAX);
      if (!e) return e.error().with_context("parse strset reply");
      const auto index = e->u32(ETHTOOL_A_STRING_INDEX);
      auto value = e->str(ETHTOOL_A_STRING_VALUE);
      if (!index || !value) return bad("strset reply");
      if (*index < names.size()) names[*index] = std::move(*value);
    }
    sets[*id] = std::move(names);
  }
  return {};
}

Result<void> parse_stats_reply(AttrStream attrs, const StringSets &names,
                               std::vector<Counter> &out) {
  for (const nlattr *attr : attr_list(attrs)) {
    if (nla_type(attr) != ETHTOOL_A_STATS_GRP) continue;
    if (auto r = parse_stats_group(attr, names, out); !r) return r;
  }
  return {};
}

Result<void> parse_pause_reply(AttrStream attrs, std::vector<Counter> &out) {
  auto top = parse(attrs, ETHTOOL_A_PAUSE_MAX);
  if (!top) return top.error().with_context("parse pause reply");
  const nlattr *stats = top->get(ETHTOOL_A_PAUSE_STATS);
  if (stats == nullptr) return {};
  for (const nlattr *attr : attr_list(nest_payload(stats))) {
    std::string_view name;
    switch (nla_type(attr)) {
      case ETHTOOL_A_PAUSE_STAT_TX_FRAMES:
        name = "tx_pause_frames";
        break;
      case ETHTOOL_A_PAUSE_STAT_RX_FRAMES:
        name = "rx_pause_frames";
        break;
      default:
        continue;
    }
    const auto v = counter_value(attr);
    if (!v) return bad("pause reply");
    out.push_back(Counter{"pause", std::string(name), "", *v});
  }
  return {};
}

Result<void> parse_qstats_reply(AttrStream attrs, std::vector<Counter> &out) {
  auto top = parse(attrs, NETDEV_A_QSTATS_MAX);
  if (!top) return top.error().with_context("parse qstats reply");
  const auto type = top->u32(NETDEV_A_QSTATS_QUEUE_TYPE);
  const auto id = top->u32(NETDEV_A_QSTATS_QUEUE_ID);
  if (!type || !id) return bad("qstats reply");
  std::string queue;
  if (*type == NETDEV_QUEUE_TYPE_RX)
    queue = "rx-";
  else if (*type == NETDEV_QUEUE_TYPE_TX)
    queue = "tx-";
  else
    return {};  // a queue type newer than us
  queue += std::to_string(*id);
  return netdev_counters(attrs, "queue", queue, qstats_name, out);
}

Result<void> parse_page_pool_stats_reply(AttrStream attrs, int ifindex,
                                         std::vector<Counter> &out) {
  auto top = parse(attrs, NETDEV_A_PAGE_POOL_STATS_MAX);
  if (!top) return top.error().with_context("parse page pool stats");
  auto info = parse(nest_payload(top->get(NETDEV_A_PAGE_POOL_STATS_INFO)),
                    NETDEV_A_PAGE_POOL_MAX);
  if (!info) return info.error().with_context("parse page pool stats");
  const nlattr *id_attr = info->get(NETDEV_A_PAGE_POOL_ID);
  if (id_attr == nullptr) return bad("page pool stats");
  const auto id = counter_value(id_attr);
  if (!id) return bad("page pool stats");
  // Pools of no interface (orphaned, or of loopback) carry no ifindex.
  const auto pool_ifindex = info->u32(NETDEV_A_PAGE_POOL_IFINDEX);
  if (!pool_ifindex || static_cast<int>(*pool_ifindex) != ifindex) return {};
  return netdev_counters(attrs, "page-pool", "pool-" + std::to_string(*id),
                         page_pool_stats_name, out);
}

Result<int> ethtool_reply_ifindex(AttrStream attrs, int header_type) {
  auto top = parse(attrs, header_type);
  if (!top) return top.error().with_context("parse ethtool reply header");
  auto hdr = parse(nest_payload(top->get(header_type)), ETHTOOL_A_HEADER_MAX);
  if (!hdr) return hdr.error().with_context("parse ethtool reply header");
  const auto ifindex = hdr->u32(ETHTOOL_A_HEADER_DEV_INDEX);
  if (!ifindex || *ifindex == 0 ||
      *ifindex > static_cast<uint32_t>(std::numeric_limits<int>::max()))
    return bad("ethtool reply header");
  return static_cast<int>(*ifindex);
}

Result<int> qstats_reply_ifindex(AttrStream attrs) {
  auto top = parse(attrs, NETDEV_A_QSTATS_MAX);
  if (!top) return top.error().with_context("parse qstats reply");
  const auto ifindex = top->u32(NETDEV_A_QSTATS_IFINDEX);
  if (!ifindex || *ifindex == 0 ||
      *ifindex > static_cast<uint32_t>(std::numeric_limits<int>::max()))
    return bad("qstats reply (ifindex)");
  return static_cast<int>(*ifindex);
}

Result<int> page_pool_stats_reply_ifindex(AttrStream attrs) {
  auto top = parse(attrs, NETDEV_A_PAGE_POOL_STATS_MAX);
  if (!top) return top.error().with_context("parse page pool stats");
  auto info = parse(nest_payload(top->get(NETDEV_A_PAGE_POOL_STATS_INFO)),
                    NETDEV_A_PAGE_POOL_MAX);
  if (!info) return info.error().with_context("parse page pool stats");
  // Pools of no interface (orphaned, or of loopback) carry no ifindex.
  const auto ifindex = info->u32(NETDEV_A_PAGE_POOL_IFINDEX);
  if (!ifindex) return 0;
  if (*ifindex > static_cast<uint32_t>(std::numeric_limits<int>::max()))
    return bad("page pool stats (ifindex)");
  return static_cast<int>(*ifindex);
}

std::vector<std::string> parse_gstrings(std::span<const uint8_t> data,
                                        size_t count) {
  std::vector<std::string> names;
  const size_t n = std::min(count, data.size() / ETH_GSTRING_LEN);
  names.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    const auto *s =
        reinterpret_cast<const char *>(data.data()) + i * ETH_GSTRING_LEN;
    names.emplace_back(s, strnlen(s, ETH_GSTRING_LEN));
  }
  return names;
}

std::vector<Counter> driver_counters(const std::vector<std::string> &names,
                                     std::span<const uint64_t> values) {
  std::vector<Counter> out;
  const size_t n = std::min(names.size(), values.size());
  out.reserve(n);
  for (size_t i = 0; i < n; ++i)
    out.push_back(Counter{"driver", names[i], "", values[i]});
  return out;
}

}  // namespace counters

namespace {

// The device or the kernel lacks what was asked: the group is absent.
bool unsupported(const Error &e) {
  return e.errnum() == EOPNOTSUPP || e.errnum() == ENODATA;
}

constexpr int kLoopbackIfindex = 1;

// An ethtool request header naming the device by index, or (ifindex 0,
// for a dump) none: flags alone, so that the nest is not empty.
Result<void> put_header(nl::Msg &msg, int type, int ifindex, uint32_t flags) {
  auto hdr = nl::Nest::open(msg, type);
  if (!hdr) return hdr.error();
  if (ifindex != 0) {
    if (auto r = nl::put_u32(msg, ETHTOOL_A_HEADER_DEV_INDEX,
                             static_cast<uint32_t>(ifindex));
        !r)
      return r;
  }
  if (flags != 0 || ifindex == 0) {
    if (auto r = nl::put_u32(msg, ETHTOOL_A_HEADER_FLAGS, flags); !r) return r;
  }
  hdr->close();
  return {};
}

std::string what(std::string_view request, const LinkInfo &link) {
  return std::string(request) + " " +
         (link.name.empty() ? "ifindex " + std::to_string(link.ifindex)
                            : link.name);
}

// The standard statistics' names, from the kernel if it will say.
counters::StringSets fetch_stats_strings(nl::Socket &sock, int ethtool) {
  counters::StringSets sets;
  auto msg = nl::genl_msg(ethtool, ETHTOOL_MSG_STRSET_GET, 0);
  if (!msg) return counters::builtin_stats_strings();
  // These sets are global, but kernels refuse (EINVAL) a request without
  // a device; name loopback, which is ifindex 1 in every namespace.
  if (!put_header(*msg, ETHTOOL_A_STRSET_HEADER, kLoopbackIfindex, 0))
    return counters::builtin_stats_strings();
  {
    auto outer = nl::Nest::open(*msg, ETHTOOL_A_STRSET_STRINGSETS);
    if (!outer) return counters::builtin_stats_strings();
    for (const uint32_t id : {ETH_SS_STATS_ETH_PHY, ETH_SS_STATS_ETH_MAC,
                              ETH_SS_STATS_ETH_CTRL, ETH_SS_STATS_RMON}) {
      auto inner = nl::Nest::open(*msg, ETHTOOL_A_STRINGSETS_STRINGSET);
      if (!inner || !nl::put_u32(*msg, ETHTOOL_A_STRINGSET_ID, id))
        return counters::builtin_stats_strings();
      inner->close();
    }
    outer->close();
  }
  auto res = sock.request(
      std::move(*msg),
      [&](nl_msg *reply) {
        return counters::parse_strset_reply(counters::genl_payload(reply),
                                            sets);
      },
      "ethtool strset get");
  // Fill in whatever the kernel did not name.
  for (const auto &[id, names] : counters::builtin_stats_strings()) {
    auto &got = sets[id];
    if (!res || got.empty()) got = names;
  }
  return sets;
}

}  // namespace

Result<std::unique_ptr<CounterReader>> CounterReader::open() {
  auto sock = nl::Socket::connect(nl::Protocol::kGeneric);
  if (!sock) return sock.error().with_context("counter reader");
  // One recvmsg per reply instead of a peek and a read: every reply we
  // ask for is far below 64 KiB, the most a kernel dump batch takes.
  nl_socket_disable_msg_peek(sock->get());
  if (const int err = nl_socket_set_msg_buf_size(sock->get(), 65536); err < 0)
    return nl::nl_error(err, "counter reader: set receive buffer size");
  auto fd = ethtool_ioctl::open_socket();
  if (!fd) return fd.error().with_context("counter reader");
  auto r =
      std::make_unique<CounterReader>(Key(), std::move(*sock), std::move(*fd));

  if (auto id = r->sock_.family("ethtool"); id) {
    r->ethtool_ = *id;
    r->std_names_ = fetch_stats_strings(r->sock_, r->ethtool_);
  } else if (id.error().errnum() != ENOENT) {
    return id.error().with_context("counter reader");
  }
  if (auto id = r->sock_.family("netdev"); id)
    r->netdev_ = *id;
  else if (id.error().errnum() != ENOENT)
    return id.error().with_context("counter reader");
  return r;
}

std::unique_ptr<CounterReader> CounterReader::over(nl::Socket sock, int ethtool,
                                                   int netdev, Fd ioctl_fd) {
  auto r = std::make_unique<CounterReader>(Key(), std::move(sock),
                                           std::move(ioctl_fd));
  r->ethtool_ = ethtool;
  r->netdev_ = netdev;
  if (ethtool >= 0) r->std_names_ = counters::builtin_stats_strings();
  return r;
}

Result<CounterReader::ByLink> CounterReader::read_all(
    std::span<const LinkInfo> links) {
  const Clock::time_point now = Clock::now();
  forget_unread(now);
  for (const LinkInfo &link : links) last_read_[link.ifindex] = now;

  using Dump = Result<DumpResult> (CounterReader::*)();
  struct Step {
    const char *group;
    Dump dump;
  };
  // One dump per group for every link; each link's counters in the order
  // of the steps, then its driver group.
  std::vector<std::pair<const char *, DumpResult>> dumps;
  for (const Step &step : {
           Step{"eth-phy/eth-mac/eth-ctrl/rmon", &CounterReader::dump_stats},
           Step{"pause", &CounterReader::dump_pause},
           Step{"queue", &CounterReader::dump_qstats},
           Step{"page-pool", &CounterReader::dump_page_pools},
       }) {
    auto r = (this->*step.dump)();
    const std::pair<int, std::string> key{kEveryLink, step.group};
    if (!r) {
      // Every link loses the group for this read; said once.
      group_failed(kEveryLink, step.group, r.error(),
                   std::string("counters: group ") + step.group +
                       " left out of every interface");
      continue;
    }
    failing_.erase(key);
    dumps.emplace_back(step.group, std::move(*r));
  }

  ByLink out;
  for (const LinkInfo &link : links) {
    std::vector<Counter> mine;
    for (auto &[group, got] : dumps) {
      const std::pair<int, std::string> key{link.ifindex, group};
      if (auto bad = got.failed.find(link.ifindex); bad != got.failed.end()) {
        group_failed(
            link.ifindex, group, bad->second,
            "counters of " + link.name + ": group " + group + " left out");
        continue;
      }
      failing_.erase(key);
      auto it = got.counters.find(link.ifindex);
      if (it == got.counters.end()) continue;
      mine.insert(mine.end(), std::make_move_iterator(it->second.begin()),
                  std::make_move_iterator(it->second.end()));
    }
    auto r = read_driver(link, mine);
    const std::pair<int, std::string> key{link.ifindex, "driver"};
    if (!r && r.error().errnum() == ENODEV) {
      // Gone, or its name is another interface's now: none of what was
      // read is known to be this link's.
      forget(link.ifindex);
      continue;
    }
    if (!r)
      group_failed(link.ifindex, "driver", r.error(),
                   "counters of " + link.name + ": group driver left out");
    else
      failing_.erase(key);
    out[link.ifindex] = std::move(mine);
  }
  return out;
}

Result<std::vector<Counter>> CounterReader::read(const LinkInfo &link) {
  auto all = read_all(std::span<const LinkInfo>(&link, 1));
  if (!all) return all.error();
  auto it = all->find(link.ifindex);
  if (it == all->end())
    return Error(ENODEV, what("counters", link) + ": the interface is gone");
  return std::move(it->second);
}

void CounterReader::group_failed(int ifindex, const std::string &group,
                                 const Error &err, const std::string &context) {
  if (failing_.emplace(ifindex, group).second && on_group_error_)
    on_group_error_(err.with_context(context));
}

void CounterReader::forget_unread(Clock::time_point now) {
  const Clock::duration every =
      std::min<Clock::duration>(forget_after_, std::chrono::minutes(1));
  if (now - last_forget_ < every) return;
  last_forget_ = now;
  std::vector<int> gone;
  for (const auto &[ifindex, when] : last_read_)
    if (now - when >= forget_after_) gone.push_back(ifindex);
  for (int ifindex : gone) forget(ifindex);
}

void CounterReader::forget(int ifindex) {
  last_read_.erase(ifindex);
  driver_names_.erase(ifindex);
  std::erase_if(failing_,
                [ifindex](const auto &f) { return f.first == ifindex; });
}

Result<CounterReader::DumpResult> CounterReader::dump(nl::Msg msg,
                                                      IfindexOf ifindex_of,
                                                      const DumpParser &parse,
                                                      std::string_view what) {
  DumpResult got;
  auto res = sock_.request(
      std::move(msg),
      [&](nl_msg *reply) -> Result<void> {
        const counters::AttrStream attrs = counters::genl_payload(reply);
        // A message that names no interface cannot be handed to one: the
        // dump as a whole is not to be trusted.
        auto ifindex = ifindex_of(attrs);
        if (!ifindex) return ifindex.error().with_context(what);
        if (*ifindex == 0 || got.failed.contains(*ifindex)) return {};
        std::vector<Counter> one;
        if (auto r = parse(attrs, *ifindex, one); !r) {
          // That interface loses the group, the others keep it.
          got.counters.erase(*ifindex);
          got.failed.emplace(*ifindex, r.error().with_context(what));
          return {};
        }
        auto &mine = got.counters[*ifindex];
        mine.insert(mine.end(), std::make_move_iterator(one.begin()),
                    std::make_move_iterator(one.end()));
        return {};
      },
      what);
  if (!res) return res.error();
  return got;
}

namespace {

// ethtool STATS_GET and PAUSE_GET dumps: the replies' header attribute.
template <int kHeader>
Result<int> ethtool_ifindex(counters::AttrStream attrs) {
  return counters::ethtool_reply_ifindex(attrs, kHeader);
}

}  // namespace

Result<CounterReader::DumpResult> CounterReader::dump_stats() {
  if (ethtool_ < 0) return DumpResult{};
  // A device unregistered while the dump runs ends it with ENODEV
  // (ethnl_ops_begin()); the next attempt no longer lists it.
  for (int attempt = 0;; ++attempt) {
    auto msg = nl::genl_msg(ethtool_, ETHTOOL_MSG_STATS_GET, NLM_F_DUMP);
    if (!msg) return msg.error();
    if (auto r = put_header(*msg, ETHTOOL_A_STATS_HEADER, 0, 0); !r)
      return r.error();
    {
      // Every group we know, as a compact bitset without a mask.
      auto groups = nl::Nest::open(*msg, ETHTOOL_A_STATS_GROUPS);
      if (!groups) return groups.error();
      const uint32_t bits = (1U << __ETHTOOL_STATS_CNT) - 1;
      if (auto r = nl::put_flag(*msg, ETHTOOL_A_BITSET_NOMASK); !r)
        return r.error();
      if (auto r =
              nl::put_u32(*msg, ETHTOOL_A_BITSET_SIZE, __ETHTOOL_STATS_CNT);
          !r)
        return r.error();
      if (auto r =
              nl::put_binary(*msg, ETHTOOL_A_BITSET_VALUE, &bits, sizeof(bits));
          !r)
        return r.error();
      groups->close();
    }
    auto res = dump(
        std::move(*msg), ethtool_ifindex<ETHTOOL_A_STATS_HEADER>,
        [this](counters::AttrStream attrs, int /*ifindex*/,
               std::vector<Counter> &out) {
          return counters::parse_stats_reply(attrs, std_names_, out);
        },
        "ethtool stats dump");
    if (res) return res;
    if (res.error().errnum() == ENODEV && attempt == 0) continue;
    if (unsupported(res.error())) return DumpResult{};
    return res;
  }
}

Result<CounterReader::DumpResult> CounterReader::dump_pause() {
  if (ethtool_ < 0) return DumpResult{};
  for (int attempt = 0;; ++attempt) {
    auto msg = nl::genl_msg(ethtool_, ETHTOOL_MSG_PAUSE_GET, NLM_F_DUMP);
    if (!msg) return msg.error();
    if (auto r =
            put_header(*msg, ETHTOOL_A_PAUSE_HEADER, 0, ETHTOOL_FLAG_STATS);
        !r)
      return r.error();
    auto res = dump(
        std::move(*msg), ethtool_ifindex<ETHTOOL_A_PAUSE_HEADER>,
        [](counters::AttrStream attrs, int /*ifindex*/,
           std::vector<Counter> &out) {
          return counters::parse_pause_reply(attrs, out);
        },
        "ethtool pause dump");
    if (res) return res;
    if (res.error().errnum() == ENODEV && attempt == 0) continue;
    if (unsupported(res.error())) return DumpResult{};
    return res;
  }
}

Result<CounterReader::DumpResult> CounterReader::dump_qstats() {
  if (netdev_ < 0 || !qstats_ok_) return DumpResult{};
  auto msg = nl::genl_msg(netdev_, NETDEV_CMD_QSTATS_GET, NLM_F_DUMP);
  if (!msg) return msg.error();
  // No ifindex: every device with queue statistics; those without
  // (no stat_ops, as lo) are left out of the dump, not refused.
  if (auto r =
          nl::put_u32(*msg, NETDEV_A_QSTATS_SCOPE, NETDEV_QSTATS_SCOPE_QUEUE);
      !r)
    return r.error();
  auto res = dump(
      std::move(*msg), counters::qstats_reply_ifindex,
      [](counters::AttrStream attrs, int /*ifindex*/,
         std::vector<Counter> &out) {
        return counters::parse_qstats_reply(attrs, out);
      },
      "netdev qstats dump");
  if (!res && res.error().errnum() == EOPNOTSUPP) {
    // Unfiltered, only a kernel without qstats-get says that (an
    // NLMSG_ERROR): it will not change while we run, so stop asking.
    qstats_ok_ = false;
    return DumpResult{};
  }
  return res;
}

Result<CounterReader::DumpResult> CounterReader::dump_page_pools() {
  if (netdev_ < 0 || !page_pools_ok_) return DumpResult{};
  auto msg = nl::genl_msg(netdev_, NETDEV_CMD_PAGE_POOL_STATS_GET, NLM_F_DUMP);
  if (!msg) return msg.error();
  auto res = dump(
      std::move(*msg), counters::page_pool_stats_reply_ifindex,
      [](counters::AttrStream attrs, int ifindex, std::vector<Counter> &out) {
        return counters::parse_page_pool_stats_reply(attrs, ifindex, out);
      },
      "netdev page-pool-stats dump");
  if (!res) {
    // No CONFIG_PAGE_POOL_STATS (6.12 then has no such command, an
    // NLMSG_ERROR), or no CAP_NET_ADMIN: neither changes while we run,
    // so stop asking.
    const int e = res.error().errnum();
    if (e != EOPNOTSUPP && e != EPERM) return res;
    page_pools_ok_ = false;
    return DumpResult{};
  }
  return res;
}

Result<const CounterReader::DriverNames *> CounterReader::driver_names(
    const LinkInfo &link, uint32_t count) {
  auto it = driver_names_.find(link.ifindex);
  if (it != driver_names_.end() && it->second.names.size() == count &&
      it->second.ifname == link.name && it->second.driver == link.driver)
    return &it->second;
  auto names = ethtool_ioctl::stats_names(ioctl_fd_, link.name, count);
  if (!names) return names.error();
  DriverNames &entry = driver_names_[link.ifindex];
  entry = DriverNames{link.name, link.driver, std::move(*names)};
  return &entry;
}

Result<void> CounterReader::read_driver(const LinkInfo &link,
                                        std::vector<Counter> &out) {
  if (!ioctl_fd_.valid()) return {};
  // The ioctl names the interface: make sure the name is still this
  // link's, or we would report another interface's counters.
  auto index = ethtool_ioctl::ifindex_of(ioctl_fd_, link.name);
  if (!index) return index.error();
  if (*index != link.ifindex)
    return Error(ENODEV, what("ethtool -S", link) +
                             ": the name is now ifindex " +
                             std::to_string(*index));
  // The set can change under us (a channel count change); try again
  // once with the new count before giving up.
  for (int attempt = 0; attempt < 2; ++attempt) {
    auto count = ethtool_ioctl::stats_count(ioctl_fd_, link.name);
    if (!count) return count.error();
    if (!*count || **count == 0) {
      driver_names_.erase(link.ifindex);
      return {};
    }
    auto names = driver_names(link, **count);
    if (!names) return names.error();
    auto values = ethtool_ioctl::stats_values(ioctl_fd_, link.name, **count);
    if (!values) return values.error();
    if (values->size() == (*names)->names.size()) {
      auto got = counters::driver_counters((*names)->names, *values);
      out.insert(out.end(), std::make_move_iterator(got.begin()),
                 std::make_move_iterator(got.end()));
      return {};
    }
    driver_names_.erase(link.ifindex);
  }
  return Error(EAGAIN, what("ethtool -S", link) +
                           ": the driver's statistics keep changing");
}

Result<std::function<Result<CounterReader::ByLink>(std::span<const LinkInfo>)>>
open_counter_source() {
  auto reader = CounterReader::open();
  if (!reader) return reader.error();
  std::shared_ptr<CounterReader> shared(std::move(*reader));
  return std::function<Result<CounterReader::ByLink>(
      std::span<const LinkInfo>)>([shared](std::span<const LinkInfo> links) {
    return shared->read_all(links);
  });
}

}  // namespace keel
