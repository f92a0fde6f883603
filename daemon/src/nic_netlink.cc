// SPDX-License-Identifier: GPL-2.0
#include "keel/nic_netlink.h"

#include <linux/ethtool.h>
#include <linux/ethtool_netlink.h>
#include <linux/if.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <set>
#include <utility>

#include "keel/netdev_objects.h"

namespace keel {

namespace ethnl {

namespace {

std::vector<bool> bits_of(const std::vector<uint8_t> &bytes, uint32_t size) {
  std::vector<bool> out(size, false);
  // Compact bitsets are arrays of host-endian u32 words.
  for (uint32_t i = 0; i < size; ++i) {
    const size_t word = i / 32;
    if ((word + 1) * 4 > bytes.size()) break;
    uint32_t w = 0;
    std::memcpy(&w, bytes.data() + word * 4, sizeof(w));
    out[i] = ((w >> (i % 32)) & 1U) != 0;
  }
  return out;
}

}  // namespace

Result<Bitset> parse_bitset(const nlattr *nest) {
  auto tb = nl::Attrs::parse_nested(nest, ETHTOOL_A_BITSET_MAX, nullptr);
  if (!tb) return tb.error().with_context("bitset");
  Bitset bs;
  bs.nomask = tb->has(ETHTOOL_A_BITSET_NOMASK);
  bs.size = tb->u32(ETHTOOL_A_BITSET_SIZE).value_or(0);
  if (bs.size > kMaxBitsetSize)
    return Error(EBADMSG, "bitset of " + std::to_string(bs.size) +
                              " bits, more than " +
                              std::to_string(kMaxBitsetSize));

  if (const nlattr *bits = tb->get(ETHTOOL_A_BITSET_BITS); bits != nullptr) {
    // Verbose: one nest per bit; without NOMASK every bit of the mask is
    // listed and VALUE marks the set ones, with NOMASK only set bits are.
    bs.value.assign(bs.size, false);
    bs.mask.assign(bs.size, bs.nomask);
    bs.names.assign(bs.size, std::string());
    for (const nlattr *bit : nl::attr_list(bits)) {
      if (nla_type(bit) != ETHTOOL_A_BITSET_BITS_BIT) continue;
      auto b = nl::Attrs::parse_nested(bit, ETHTOOL_A_BITSET_BIT_MAX, nullptr);
      if (!b) return b.error().with_context("bitset bit");
      auto index = b->u32(ETHTOOL_A_BITSET_BIT_INDEX);
      if (!index) return Error(EBADMSG, "bitset bit without an index");
      if (*index >= kMaxBitsetSize)
        return Error(EBADMSG, "bitset bit " + std::to_string(*index) +
                                  ", beyond " + std::to_string(kMaxBitsetSize));
      const size_t i = *index;
      if (i >= bs.value.size()) {
        bs.value.resize(i + 1, false);
        bs.mask.resize(i + 1, bs.nomask);
        bs.names.resize(i + 1);
        bs.size = static_cast<uint32_t>(i + 1);
      }
      bs.value[i] = bs.nomask || b->has(ETHTOOL_A_BITSET_BIT_VALUE);
      bs.mask[i] = true;
      bs.names[i] = b->str(ETHTOOL_A_BITSET_BIT_NAME).value_or("");
    }
    return bs;
  }

  if (!tb->has(ETHTOOL_A_BITSET_VALUE))
    return Error(EBADMSG, "bitset with neither bits nor a value");
  // Compact: the words must hold size bits (so size is bounded by the
  // message too).
  const size_t words = (size_t{bs.size} + 31) / 32;
  if (tb->binary(ETHTOOL_A_BITSET_VALUE).size() < words * 4 ||
      (!bs.nomask && tb->binary(ETHTOOL_A_BITSET_MASK).size() < words * 4))
    return Error(EBADMSG, "compact bitset of " + std::to_string(bs.size) +
                              " bits with shorter value or mask");
  bs.value = bits_of(tb->binary(ETHTOOL_A_BITSET_VALUE), bs.size);
  if (bs.nomask)
    bs.mask.assign(bs.size, true);
  else
    bs.mask = bits_of(tb->binary(ETHTOOL_A_BITSET_MASK), bs.size);
  bs.names.assign(bs.size, std::string());
  return bs;
}

Result<void> put_named_bitset(nl::Msg &msg, int type,
                              const std::map<std::string, bool> &bits) {
  auto outer = nl::Nest::open(msg, type);
  if (!outer) return outer.error();
  auto list = nl::Nest::open(msg, ETHTOOL_A_BITSET_BITS);
  if (!list) return list.error();
  for (const auto &[name, on] : bits) {
    auto bit = nl::Nest::open(msg, ETHTOOL_A_BITSET_BITS_BIT);
    if (!bit) return bit.error();
    if (auto r = nl::put_string(msg, ETHTOOL_A_BITSET_BIT_NAME, name); !r)
      return r;
    if (on) {
      if (auto r = nl::put_flag(msg, ETHTOOL_A_BITSET_BIT_VALUE); !r) return r;
    }
    bit->close();
  }
  list->close();
  outer->close();
  return {};
}

Result<Features> parse_features(nl_msg *msg,
                                const std::vector<std::string> &names) {
  auto tb = nl::Attrs::parse_genl(msg, ETHTOOL_A_FEATURES_MAX, nullptr);
  if (!tb) return tb.error();
  std::map<int, Bitset> sets;
  for (const int type : {ETHTOOL_A_FEATURES_HW, ETHTOOL_A_FEATURES_ACTIVE,
                         ETHTOOL_A_FEATURES_NOCHANGE}) {
    if (!tb->has(type)) {
      sets.emplace(type, Bitset{});
      continue;
    }
    auto bs = parse_bitset(tb->get(type));
    if (!bs) return bs.error().with_context("features");
    sets.emplace(type, std::move(*bs));
  }
  const Bitset &hw = sets[ETHTOOL_A_FEATURES_HW];
  const Bitset &active = sets[ETHTOOL_A_FEATURES_ACTIVE];
  const Bitset &nochange = sets[ETHTOOL_A_FEATURES_NOCHANGE];

  const size_t n = std::max({names.size(), size_t{hw.size}, size_t{active.size},
                             size_t{nochange.size}});
  Features out;
  for (size_t i = 0; i < n; ++i) {
    std::string name;
    for (const Bitset *bs : {&active, &hw, &nochange}) {
      if (i < bs->names.size() && !bs->names[i].empty()) {
        name = bs->names[i];
        break;
      }
    }
    if (name.empty() && i < names.size()) name = names[i];
    if (name.empty()) continue;
    out[name] = Feature{
        .active = active.test(i),
        .fixed = !hw.test(i) || nochange.test(i),
    };
  }
  return out;
}

Result<PrivFlags> parse_priv_flags(nl_msg *msg) {
  auto tb = nl::Attrs::parse_genl(msg, ETHTOOL_A_PRIVFLAGS_MAX, nullptr);
  if (!tb) return tb.error();
  PrivFlags out;
  if (!tb->has(ETHTOOL_A_PRIVFLAGS_FLAGS)) return out;
  auto bs = parse_bitset(tb->get(ETHTOOL_A_PRIVFLAGS_FLAGS));
  if (!bs) return bs.error().with_context("private flags");
  for (size_t i = 0; i < bs->names.size(); ++i) {
    if (bs->names[i].empty() || !bs->mask[i]) continue;
    out[bs->names[i]] = bs->value[i];
  }
  return out;
}

Result<Rings> parse_rings(nl_msg *msg) {
  auto tb = nl::Attrs::parse_genl(msg, ETHTOOL_A_RINGS_MAX, nullptr);
  if (!tb) return tb.error();
  return Rings{
      .rx = tb->u32(ETHTOOL_A_RINGS_RX).value_or(0),
      .tx = tb->u32(ETHTOOL_A_RINGS_TX).value_or(0),
      .rx_max = tb->u32(ETHTOOL_A_RINGS_RX_MAX).value_or(0),
      .tx_max = tb->u32(ETHTOOL_A_RINGS_TX_MAX).value_or(0),
  };
}

Result<Channels> parse_channels(nl_msg *msg) {
  auto tb = nl::Attrs::parse_genl(msg, ETHTOOL_A_CHANNELS_MAX, nullptr);
  if (!tb) return tb.error();
  return Channels{
      .rx = tb->u32(ETHTOOL_A_CHANNELS_RX_COUNT).value_or(0),
      .tx = tb->u32(ETHTOOL_A_CHANNELS_TX_COUNT).value_or(0),
      .other = tb->u32(ETHTOOL_A_CHANNELS_OTHER_COUNT).value_or(0),
      .combined = tb->u32(ETHTOOL_A_CHANNELS_COMBINED_COUNT).value_or(0),
      .rx_max = tb->u32(ETHTOOL_A_CHANNELS_RX_MAX).value_or(0),
      .tx_max = tb->u32(ETHTOOL_A_CHANNELS_TX_MAX).value_or(0),
      .other_max = tb->u32(ETHTOOL_A_CHANNELS_OTHER_MAX).value_or(0),
      .combined_max = tb->u32(ETHTOOL_A_CHANNELS_COMBINED_MAX).value_or(0),
  };
}

namespace {

struct CoalesceParam {
  int attr;
  const char *name;
  bool is_u8;
};

// Every scalar ETHTOOL_A_COALESCE_* attribute of the 6.12 uapi; the
// profile nests (RX_PROFILE, TX_PROFILE) are not scalars and not kept.
constexpr std::array kCoalesceParams{
    CoalesceParam{ETHTOOL_A_COALESCE_RX_USECS, "rx-usecs", false},
    CoalesceParam{ETHTOOL_A_COALESCE_RX_MAX_FRAMES, "rx-max-frames", false},
    CoalesceParam{ETHTOOL_A_COALESCE_RX_USECS_IRQ, "rx-usecs-irq", false},
    CoalesceParam{ETHTOOL_A_COALESCE_RX_MAX_FRAMES_IRQ, "rx-max-frames-irq",
                  false},
    CoalesceParam{ETHTOOL_A_COALESCE_TX_USECS, "tx-usecs", false},
    CoalesceParam{ETHTOOL_A_COALESCE_TX_MAX_FRAMES, "tx-max-frames", false},
    CoalesceParam{ETHTOOL_A_COALESCE_TX_USECS_IRQ, "tx-usecs-irq", false},
    CoalesceParam{ETHTOOL_A_COALESCE_TX_MAX_FRAMES_IRQ, "tx-max-frames-irq",
                  false},
    CoalesceParam{ETHTOOL_A_COALESCE_STATS_BLOCK_USECS, "stats-block-usecs",
                  false},
    CoalesceParam{ETHTOOL_A_COALESCE_USE_ADAPTIVE_RX, "use-adaptive-rx", true},
    CoalesceParam{ETHTOOL_A_COALESCE_USE_ADAPTIVE_TX, "use-adaptive-tx", true},
    CoalesceParam{ETHTOOL_A_COALESCE_PKT_RATE_LOW, "pkt-rate-low", false},
    CoalesceParam{ETHTOOL_A_COALESCE_RX_USECS_LOW, "rx-usecs-low", false},
    CoalesceParam{ETHTOOL_A_COALESCE_RX_MAX_FRAMES_LOW, "rx-max-frames-low",
                  false},
    CoalesceParam{ETHTOOL_A_COALESCE_TX_USECS_LOW, "tx-usecs-low", false},
    CoalesceParam{ETHTOOL_A_COALESCE_TX_MAX_FRAMES_LOW, "tx-max-frames-low",
                  false},
    CoalesceParam{ETHTOOL_A_COALESCE_PKT_RATE_HIGH, "pkt-rate-high", false},
    CoalesceParam{ETHTOOL_A_COALESCE_RX_USECS_HIGH, "rx-usecs-high", false},
    CoalesceParam{ETHTOOL_A_COALESCE_RX_MAX_FRAMES_HIGH, "rx-max-frames-high",
                  false},
    CoalesceParam{ETHTOOL_A_COALESCE_TX_USECS_HIGH, "tx-usecs-high", false},
    CoalesceParam{ETHTOOL_A_COALESCE_TX_MAX_FRAMES_HIGH, "tx-max-frames-high",
                  false},
    CoalesceParam{ETHTOOL_A_COALESCE_RATE_SAMPLE_INTERVAL,
                  "rate-sample-interval", false},
    CoalesceParam{ETHTOOL_A_COALESCE_USE_CQE_MODE_TX, "use-cqe-mode-tx", true},
    CoalesceParam{ETHTOOL_A_COALESCE_USE_CQE_MODE_RX, "use-cqe-mode-rx", true},
    CoalesceParam{ETHTOOL_A_COALESCE_TX_AGGR_MAX_BYTES, "tx-aggr-max-bytes",
                  false},
    CoalesceParam{ETHTOOL_A_COALESCE_TX_AGGR_MAX_FRAMES, "tx-aggr-max-frames",
                  false},
    CoalesceParam{ETHTOOL_A_COALESCE_TX_AGGR_TIME_USECS, "tx-aggr-time-usecs",
                  false},
};

const CoalesceParam *find_coalesce(int attr) {
  for (const auto &p : kCoalesceParams)
    if (p.attr == attr) return &p;
  return nullptr;
}

}  // namespace

std::optional<int> coalesce_attr(std::string_view name) {
  for (const auto &p : kCoalesceParams)
    if (name == p.name) return p.attr;
  return std::nullopt;
}

std::string coalesce_name(int attr) {
  const CoalesceParam *p = find_coalesce(attr);
  return p != nullptr ? p->name : "";
}

bool coalesce_is_u8(int attr) {
  const CoalesceParam *p = find_coalesce(attr);
  return p != nullptr && p->is_u8;
}

Result<Coalesce> parse_coalesce(nl_msg *msg) {
  auto tb = nl::Attrs::parse_genl(msg, ETHTOOL_A_COALESCE_MAX, nullptr);
  if (!tb) return tb.error();
  Coalesce out;
  for (const auto &p : kCoalesceParams) {
    const auto v =
        p.is_u8 ? std::optional<uint32_t>(tb->u8(p.attr)) : tb->u32(p.attr);
    if (v) out[p.name] = *v;
  }
  return out;
}

Result<Rss> parse_rss(nl_msg *msg, const std::vector<std::string> &names) {
  auto tb = nl::Attrs::parse_genl(msg, ETHTOOL_A_RSS_MAX, nullptr);
  if (!tb) return tb.error();
  Rss out;
  if (auto hfunc = tb->u32(ETHTOOL_A_RSS_HFUNC); hfunc && *hfunc != 0) {
    // A mask with one bit set: bit i is ETH_SS_RSS_HASH_FUNCS string i.
    const auto bit = static_cast<size_t>(__builtin_ctz(*hfunc));
    out.hfunc =
        bit < names.size() ? names[bit] : "hfunc-" + std::to_string(bit);
  }
  out.key = tb->binary(ETHTOOL_A_RSS_HKEY);
  const auto indir = tb->binary(ETHTOOL_A_RSS_INDIR);
  out.indir.resize(indir.size() / 4);
  // Without a table both are empty, and memcpy() must not see null.
  if (!out.indir.empty())
    std::memcpy(out.indir.data(), indir.data(), out.indir.size() * 4);
  return out;
}

namespace {

std::string oper_state_name(uint8_t state) {
  switch (state) {
    case IF_OPER_NOTPRESENT:
      return "notpresent";
    case IF_OPER_DOWN:
      return "down";
    case IF_OPER_LOWERLAYERDOWN:
      return "lowerlayerdown";
    case IF_OPER_TESTING:
      return "testing";
    case IF_OPER_DORMANT:
      return "dormant";
    case IF_OPER_UP:
      return "up";
    default:
      return "unknown";
  }
}

std::string mac_string(const std::vector<uint8_t> &addr) {
  std::string out;
  for (const uint8_t b : addr) {
    std::array<char, 4> buf{};
    std::snprintf(buf.data(), buf.size(), out.empty() ? "%02x" : ":%02x", b);
    out += buf.data();
  }
  return out;
}

using Stat = __u64 rtnl_link_stats64::*;
struct StatName {
  const char *name;
  Stat field;
};
constexpr std::array kStats64{
    StatName{"rx_packets", &rtnl_link_stats64::rx_packets},
    StatName{"tx_packets", &rtnl_link_stats64::tx_packets},
    StatName{"rx_bytes", &rtnl_link_stats64::rx_bytes},
    StatName{"tx_bytes", &rtnl_link_stats64::tx_bytes},
    StatName{"rx_errors", &rtnl_link_stats64::rx_errors},
    StatName{"tx_errors", &rtnl_link_stats64::tx_errors},
    StatName{"rx_dropped", &rtnl_link_stats64::rx_dropped},
    StatName{"tx_dropped", &rtnl_link_stats64::tx_dropped},
    StatName{"multicast", &rtnl_link_stats64::multicast},
    StatName{"collisions", &rtnl_link_stats64::collisions},
    StatName{"rx_length_errors", &rtnl_link_stats64::rx_length_errors},
    StatName{"rx_over_errors", &rtnl_link_stats64::rx_over_errors},
    StatName{"rx_crc_errors", &rtnl_link_stats64::rx_crc_errors},
    StatName{"rx_frame_errors", &rtnl_link_stats64::rx_frame_errors},
    StatName{"rx_fifo_errors", &rtnl_link_stats64::rx_fifo_errors},
    StatName{"rx_missed_errors", &rtnl_link_stats64::rx_missed_errors},
    StatName{"tx_aborted_errors", &rtnl_link_stats64::tx_aborted_errors},
    StatName{"tx_carrier_errors", &rtnl_link_stats64::tx_carrier_errors},
    StatName{"tx_fifo_errors", &rtnl_link_stats64::tx_fifo_errors},
    StatName{"tx_heartbeat_errors", &rtnl_link_stats64::tx_heartbeat_errors},
    StatName{"tx_window_errors", &rtnl_link_stats64::tx_window_errors},
    StatName{"rx_compressed", &rtnl_link_stats64::rx_compressed},
    StatName{"tx_compressed", &rtnl_link_stats64::tx_compressed},
    StatName{"rx_nohandler", &rtnl_link_stats64::rx_nohandler},
    StatName{"rx_otherhost_dropped", &rtnl_link_stats64::rx_otherhost_dropped},
};

}  // namespace

Result<LinkMsg> parse_link(nl_msg *msg) {
  nlmsghdr *hdr = nlmsg_hdr(msg);
  if (hdr->nlmsg_type != RTM_NEWLINK && hdr->nlmsg_type != RTM_DELLINK)
    return Error(EBADMSG,
                 "link message of type " + std::to_string(hdr->nlmsg_type));
  if (!nlmsg_valid_hdr(hdr, sizeof(ifinfomsg)))
    return Error(EBADMSG, "short link message");
  const auto *ifi = static_cast<const ifinfomsg *>(nlmsg_data(hdr));
  auto tb = nl::Attrs::parse(nlmsg_attrdata(hdr, sizeof(ifinfomsg)),
                             nlmsg_attrlen(hdr, sizeof(ifinfomsg)), IFLA_MAX,
                             nullptr);
  if (!tb) return tb.error().with_context("link message");

  LinkMsg out;
  out.info.ifindex = ifi->ifi_index;
  out.info.name = tb->str(IFLA_IFNAME).value_or("");
  out.info.mac = mac_string(tb->binary(IFLA_ADDRESS));
  out.info.mtu = tb->u32(IFLA_MTU).value_or(0);
  out.info.admin_up = (ifi->ifi_flags & IFF_UP) != 0;
  out.info.oper_state =
      oper_state_name(tb->u8(IFLA_OPERSTATE).value_or(IF_OPER_UNKNOWN));

  const auto raw = tb->binary(IFLA_STATS64);
  if (!raw.empty()) {
    // Older kernels send a shorter struct; missing fields read 0.
    rtnl_link_stats64 st{};
    std::memcpy(&st, raw.data(), std::min(raw.size(), sizeof(st)));
    out.counters.reserve(kStats64.size());
    for (const auto &s : kStats64)
      out.counters.push_back(Counter{
          .group = "link", .name = s.name, .queue = "", .value = st.*s.field});
  }
  return out;
}

}  // namespace ethnl

namespace {

// Every ethtool message has its request header as attribute 1
// (ETHTOOL_A_*_HEADER).
constexpr int kEthtoolHeaderAttr = 1;

Result<nl::Msg> rtnl_link_msg(uint16_t type, int flags, const ifinfomsg &ifi) {
  auto msg = nl::Msg::alloc();
  if (!msg) return msg.error();
  nlmsghdr *hdr = nlmsg_put(msg->get(), NL_AUTO_PORT, NL_AUTO_SEQ, type,
                            sizeof(ifinfomsg), flags);
  if (hdr == nullptr) return Error(EMSGSIZE, "nlmsg_put: message too small");
  std::memcpy(nlmsg_data(hdr), &ifi, sizeof(ifi));
  return msg;
}

Result<void> ignore_reply(nl_msg * /*msg*/) { return {}; }

}  // namespace

Result<std::unique_ptr<NetlinkNic>> NetlinkNic::create(CounterSource extra) {
  auto route = nl::Socket::connect(nl::Protocol::kRoute);
  if (!route) return route.error();
  // One recvmsg per datagram instead of a peek and a read (libnl's
  // default), as CounterReader's socket: the kernel's dump datagrams are
  // at most 32 KiB, and the links' RTM_GETLINK dump is most of a sweep's
  // replies. A datagram larger than the buffer fails its request.
  nl_socket_disable_msg_peek(route->get());
  if (const int err = nl_socket_set_msg_buf_size(route->get(), 65536); err < 0)
    return nl::nl_error(err, "route socket: set receive buffer size");
  auto genl = nl::Socket::connect(nl::Protocol::kGeneric);
  if (!genl) return genl.error();
  auto family = genl->family(ETHTOOL_GENL_NAME);
  if (!family) return family.error();
  auto ioctl = EthtoolIoctl::open();
  if (!ioctl) return ioctl.error();
  return std::make_unique<NetlinkNic>(Token{}, std::move(*route),
                                      std::move(*genl), std::move(*ioctl),
                                      *family, std::move(extra));
}

NetlinkNic::NetlinkNic(Token /*token*/, nl::Socket route, nl::Socket genl,
                       EthtoolIoctl ioctl, int ethtool_family,
                       CounterSource extra)
    : route_(std::move(route)),
      genl_(std::move(genl)),
      ioctl_(std::move(ioctl)),
      ethtool_family_(ethtool_family),
      extra_(std::move(extra)) {}

Result<std::vector<ethnl::LinkMsg>> NetlinkNic::dump_links(
    std::optional<int> ifindex) {
  ifinfomsg ifi{};
  ifi.ifi_family = AF_UNSPEC;
  ifi.ifi_index = ifindex.value_or(0);
  auto msg = rtnl_link_msg(RTM_GETLINK, ifindex ? 0 : NLM_F_DUMP, ifi);
  if (!msg) return msg.error();

  std::vector<ethnl::LinkMsg> out;
  const std::string what =
      ifindex ? "get link " + ifname_of(*ifindex) : std::string("list links");
  auto res = route_.request(
      std::move(*msg),
      [&out](nl_msg *reply) -> Result<void> {
        if (nlmsg_hdr(reply)->nlmsg_type != RTM_NEWLINK) return {};
        auto link = ethnl::parse_link(reply);
        if (!link) return link.error();
        out.push_back(std::move(*link));
        return {};
      },
      what);
  if (!res) return res.error();
  std::sort(out.begin(), out.end(), [](const auto &a, const auto &b) {
    return a.info.ifindex < b.info.ifindex;
  });
  return out;
}

void NetlinkNic::add_drvinfo(LinkInfo &info) {
  if (auto it = drvinfo_.find(info.ifindex);
      it != drvinfo_.end() && it->second.ifname == info.name) {
    info.driver = it->second.info.driver;
    info.bus_info = it->second.info.bus_info;
    return;
  }
  auto drv = ioctl_.drvinfo(info.name);
  if (!drv) {
    // Devices without drvinfo (lo) fail here with EOPNOTSUPP; they have
    // no driver name, and never will. Anything else (the name is gone
    // already) is asked again next time.
    if (drv.error().errnum() == EOPNOTSUPP)
      drvinfo_[info.ifindex] = CachedDrvInfo{info.name, DrvInfo{}};
    else
      drvinfo_.erase(info.ifindex);
    return;
  }
  // The ioctl asked by the name the listing gave: if that name is now
  // another interface's, the answer may be that one's. Neither use nor
  // keep it; the next listing has the new name. A miss costs this one
  // more ioctl.
  if (ifindex_of(info.name) != info.ifindex) {
    drvinfo_.erase(info.ifindex);
    return;
  }
  info.driver = drv->driver;
  info.bus_info = drv->bus_info;
  drvinfo_[info.ifindex] = CachedDrvInfo{info.name, std::move(*drv)};
}

void NetlinkNic::prune_drvinfo(const std::vector<ethnl::LinkMsg> &links) {
  std::set<int> listed;
  for (const auto &l : links) listed.insert(l.info.ifindex);
  std::erase_if(drvinfo_, [&listed](const auto &entry) {
    return !listed.contains(entry.first);
  });
}

Result<std::vector<LinkInfo>> NetlinkNic::links() {
  auto raw = dump_links(std::nullopt);
  if (!raw) return raw.error();
  prune_drvinfo(*raw);
  std::vector<LinkInfo> out;
  out.reserve(raw->size());
  for (auto &l : *raw) {
    add_drvinfo(l.info);
    out.push_back(std::move(l.info));
  }
  return out;
}

Result<const std::vector<std::string> *> NetlinkNic::strings(uint32_t set) {
  if (auto it = strsets_.find(set); it != strsets_.end()) return &it->second;

  auto msg = nl::genl_msg(ethtool_family_, ETHTOOL_MSG_STRSET_GET, 0,
                          ETHTOOL_GENL_VERSION);
  if (!msg) return msg.error();
  {
    // Global string sets: a header without a device (newer kernels
    // require the header; libnl drops empty nests, hence the flags).
    auto hdr = nl::Nest::open(*msg, ETHTOOL_A_STRSET_HEADER);
    if (!hdr) return hdr.error();
    if (auto r = nl::put_u32(*msg, ETHTOOL_A_HEADER_FLAGS, 0); !r)
      return r.error();
    hdr->close();
    auto sets = nl::Nest::open(*msg, ETHTOOL_A_STRSET_STRINGSETS);
    if (!sets) return sets.error();
    auto one = nl::Nest::open(*msg, ETHTOOL_A_STRINGSETS_STRINGSET);
    if (!one) return one.error();
    if (auto r = nl::put_u32(*msg, ETHTOOL_A_STRINGSET_ID, set); !r)
      return r.error();
    one->close();
    sets->close();
  }
  std::vector<std::string> names;
  auto res = genl_.request(
      std::move(*msg),
      [&names, set](nl_msg *reply) -> Result<void> {
        auto tb = nl::Attrs::parse_genl(reply, ETHTOOL_A_STRSET_MAX, nullptr);
        if (!tb) return tb.error();
        for (const nlattr *ss :
             nl::attr_list(tb->get(ETHTOOL_A_STRSET_STRINGSETS))) {
          auto s =
              nl::Attrs::parse_nested(ss, ETHTOOL_A_STRINGSET_MAX, nullptr);
          if (!s) return s.error();
          if (s->u32(ETHTOOL_A_STRINGSET_ID) != set) continue;
          const uint32_t count = s->u32(ETHTOOL_A_STRINGSET_COUNT).value_or(0);
          if (count > ethnl::kMaxStrings)
            return Error(EBADMSG, "string set of " + std::to_string(count) +
                                      " strings, more than " +
                                      std::to_string(ethnl::kMaxStrings));
          names.assign(count, "");
          for (const nlattr *str :
               nl::attr_list(s->get(ETHTOOL_A_STRINGSET_STRINGS))) {
            auto a =
                nl::Attrs::parse_nested(str, ETHTOOL_A_STRING_MAX, nullptr);
            if (!a) return a.error();
            const auto index = a->u32(ETHTOOL_A_STRING_INDEX);
            if (!index) continue;
            if (*index >= ethnl::kMaxStrings)
              return Error(EBADMSG, "string " + std::to_string(*index) +
                                        ", beyond " +
                                        std::to_string(ethnl::kMaxStrings));
            if (*index >= names.size()) names.resize(*index + 1);
            names[*index] = a->str(ETHTOOL_A_STRING_VALUE).value_or("");
          }
        }
        return {};
      },
      "get ethtool string set " + std::to_string(set));
  if (!res) return res.error();
  auto [it, inserted] = strsets_.emplace(set, std::move(names));
  return &it->second;
}

Result<nl::Msg> NetlinkNic::ethtool_msg(uint8_t cmd, int ifindex,
                                        uint32_t flags) {
  auto msg = nl::genl_msg(ethtool_family_, cmd, 0, ETHTOOL_GENL_VERSION);
  if (!msg) return msg.error();
  auto hdr = nl::Nest::open(*msg, kEthtoolHeaderAttr);
  if (!hdr) return hdr.error();
  if (auto r = nl::put_u32(*msg, ETHTOOL_A_HEADER_DEV_INDEX,
                           static_cast<uint32_t>(ifindex));
      !r)
    return r.error();
  if (flags != 0) {
    if (auto r = nl::put_u32(*msg, ETHTOOL_A_HEADER_FLAGS, flags); !r)
      return r.error();
  }
  hdr->close();
  return msg;
}

Result<bool> NetlinkNic::ethtool_get(uint8_t cmd, int ifindex,
                                     const nl::ReplyHandler &on_reply,
                                     std::string_view what) {
  auto msg = ethtool_msg(cmd, ifindex, 0);
  if (!msg) return msg.error();
  auto res = genl_.request(std::move(*msg), on_reply,
                           std::string(what) + " on " + ifname_of(ifindex));
  if (res) return true;
  if (res.error().errnum() == EOPNOTSUPP) return false;
  return res.error();
}

Result<void> NetlinkNic::ethtool_set(nl::Msg msg, std::string_view what) {
  return genl_.request(std::move(msg), ignore_reply, what);
}

Result<NicSettings> NetlinkNic::settings(int ifindex) {
  auto raw = dump_links(ifindex);
  if (!raw) return raw.error();
  if (raw->empty())
    return Error(ENODEV, "get link " + std::to_string(ifindex) + ": gone");
  NicSettings out;
  out.mtu = raw->front().info.mtu;
  out.admin_up = raw->front().info.admin_up;

  // Each group: fetch, parse in the handler, keep only if supported.
  auto feature_names = strings(ETH_SS_FEATURES);
  if (!feature_names) return feature_names.error();
  Features features;
  auto ok = ethtool_get(
      ETHTOOL_MSG_FEATURES_GET, ifindex,
      [&](nl_msg *m) -> Result<void> {
        auto f = ethnl::parse_features(m, **feature_names);
        if (!f) return f.error();
        features = std::move(*f);
        return {};
      },
      "get features");
  if (!ok) return ok.error();
  if (*ok) out.features = std::move(features);

  Rings rings;
  ok = ethtool_get(
      ETHTOOL_MSG_RINGS_GET, ifindex,
      [&](nl_msg *m) -> Result<void> {
        auto r = ethnl::parse_rings(m);
        if (!r) return r.error();
        rings = *r;
        return {};
      },
      "get rings");
  if (!ok) return ok.error();
  if (*ok) out.rings = rings;

  Channels channels;
  ok = ethtool_get(
      ETHTOOL_MSG_CHANNELS_GET, ifindex,
      [&](nl_msg *m) -> Result<void> {
        auto c = ethnl::parse_channels(m);
        if (!c) return c.error();
        channels = *c;
        return {};
      },
      "get channels");
  if (!ok) return ok.error();
  if (*ok) out.channels = channels;

  Coalesce coalesce;
  ok = ethtool_get(
      ETHTOOL_MSG_COALESCE_GET, ifindex,
      [&](nl_msg *m) -> Result<void> {
        auto c = ethnl::parse_coalesce(m);
        if (!c) return c.error();
        coalesce = std::move(*c);
        return {};
      },
      "get coalesce");
  if (!ok) return ok.error();
  if (*ok) out.coalesce = std::move(coalesce);

  auto hfuncs = strings(ETH_SS_RSS_HASH_FUNCS);
  if (!hfuncs) return hfuncs.error();
  Rss rss;
  ok = ethtool_get(
      ETHTOOL_MSG_RSS_GET, ifindex,
      [&](nl_msg *m) -> Result<void> {
        auto r = ethnl::parse_rss(m, **hfuncs);
        if (!r) return r.error();
        rss = std::move(*r);
        return {};
      },
      "get rss");
  if (!ok) return ok.error();
  if (*ok) out.rss = std::move(rss);

  PrivFlags priv;
  ok = ethtool_get(
      ETHTOOL_MSG_PRIVFLAGS_GET, ifindex,
      [&](nl_msg *m) -> Result<void> {
        auto p = ethnl::parse_priv_flags(m);
        if (!p) return p.error();
        priv = std::move(*p);
        return {};
      },
      "get private flags");
  if (!ok) return ok.error();
  if (*ok) out.priv_flags = std::move(priv);
  return out;
}

Result<void> NetlinkNic::set_link(int ifindex, unsigned int mtu,
                                  std::optional<bool> up,
                                  std::string_view what) {
  ifinfomsg ifi{};
  ifi.ifi_family = AF_UNSPEC;
  ifi.ifi_index = ifindex;
  if (up) {
    ifi.ifi_change = IFF_UP;
    ifi.ifi_flags = *up ? IFF_UP : 0;
  }
  auto msg = rtnl_link_msg(RTM_NEWLINK, 0, ifi);
  if (!msg) return msg.error();
  if (mtu != 0) {
    if (auto r = nl::put_u32(*msg, IFLA_MTU, mtu); !r) return r;
  }
  return route_.request(std::move(*msg), ignore_reply,
                        std::string(what) + " on " + ifname_of(ifindex));
}

Result<void> NetlinkNic::set_mtu(int ifindex, unsigned int mtu) {
  if (mtu == 0) return Error(EINVAL, "set mtu: 0 is not an MTU");
  return set_link(ifindex, mtu, std::nullopt, "set mtu");
}

Result<void> NetlinkNic::set_admin_up(int ifindex, bool up) {
  return set_link(ifindex, 0, up, up ? "set link up" : "set link down");
}

Result<void> NetlinkNic::set_features(int ifindex,
                                      const std::map<std::string, bool> &f) {
  if (f.empty()) return {};
  const std::string what = "set features on " + ifname_of(ifindex);
  auto names = strings(ETH_SS_FEATURES);
  if (!names) return names.error().with_context(what);
  for (const auto &[name, on] : f) {
    if (std::find((*names)->begin(), (*names)->end(), name) ==
        (*names)->end()) {
      std::string text = what;
      text += ": unknown feature '";
      text += name;
      text += '\'';
      return Error(EINVAL, std::move(text));
    }
  }
  auto msg =
      ethtool_msg(ETHTOOL_MSG_FEATURES_SET, ifindex, ETHTOOL_FLAG_OMIT_REPLY);
  if (!msg) return msg.error();
  if (auto r = ethnl::put_named_bitset(*msg, ETHTOOL_A_FEATURES_WANTED, f); !r)
    return r;
  return ethtool_set(std::move(*msg), what);
}

Result<void> NetlinkNic::set_rings(int ifindex, const RingsRequest &r) {
  auto msg = ethtool_msg(ETHTOOL_MSG_RINGS_SET, ifindex, 0);
  if (!msg) return msg.error();
  if (r.rx) {
    if (auto e = nl::put_u32(*msg, ETHTOOL_A_RINGS_RX, *r.rx); !e) return e;
  }
  if (r.tx) {
    if (auto e = nl::put_u32(*msg, ETHTOOL_A_RINGS_TX, *r.tx); !e) return e;
  }
  return ethtool_set(std::move(*msg), "set rings on " + ifname_of(ifindex));
}

Result<void> NetlinkNic::set_channels(int ifindex, const ChannelsRequest &c) {
  auto msg = ethtool_msg(ETHTOOL_MSG_CHANNELS_SET, ifindex, 0);
  if (!msg) return msg.error();
  const std::array<std::pair<int, std::optional<uint32_t>>, 4> fields{{
      {ETHTOOL_A_CHANNELS_RX_COUNT, c.rx},
      {ETHTOOL_A_CHANNELS_TX_COUNT, c.tx},
      {ETHTOOL_A_CHANNELS_OTHER_COUNT, c.other},
      {ETHTOOL_A_CHANNELS_COMBINED_COUNT, c.combined},
  }};
  for (const auto &[attr, value] : fields) {
    if (!value) continue;
    if (auto e = nl::put_u32(*msg, attr, *value); !e) return e;
  }
  return ethtool_set(std::move(*msg), "set channels on " + ifname_of(ifindex));
}

Result<void> NetlinkNic::set_coalesce(int ifindex, const Coalesce &c) {
  const std::string what = "set coalesce on " + ifname_of(ifindex);
  auto msg = ethtool_msg(ETHTOOL_MSG_COALESCE_SET, ifindex, 0);
  if (!msg) return msg.error();
  for (const auto &[name, value] : c) {
    const auto attr = ethnl::coalesce_attr(name);
    if (!attr) {
      std::string text = what;
      text += ": unknown parameter '";
      text += name;
      text += '\'';
      return Error(EINVAL, std::move(text));
    }
    Result<void> e = ethnl::coalesce_is_u8(*attr)
                         ? nl::put_u8(*msg, *attr, value != 0 ? 1 : 0)
                         : nl::put_u32(*msg, *attr, value);
    if (!e) return e;
  }
  return ethtool_set(std::move(*msg), what);
}

Result<void> NetlinkNic::set_rss(int ifindex, const RssRequest &r) {
  // The 6.12 ethtool netlink family has no RSS_SET: use ETHTOOL_SRSSH.
  // Empty key or table: leave it as it is.
  const std::vector<uint8_t> key = r.key.value_or(std::vector<uint8_t>{});
  const std::vector<uint32_t> indir = r.indir.value_or(std::vector<uint32_t>{});
  if (key.empty() && indir.empty()) return {};
  return ioctl_.set_rss(ifname_of(ifindex), key, indir);
}

Result<void> NetlinkNic::set_priv_flags(int ifindex, const PrivFlags &f) {
  if (f.empty()) return {};
  auto msg =
      ethtool_msg(ETHTOOL_MSG_PRIVFLAGS_SET, ifindex, ETHTOOL_FLAG_OMIT_REPLY);
  if (!msg) return msg.error();
  const std::map<std::string, bool> bits(f.begin(), f.end());
  if (auto r = ethnl::put_named_bitset(*msg, ETHTOOL_A_PRIVFLAGS_FLAGS, bits);
      !r)
    return r;
  return ethtool_set(std::move(*msg),
                     "set private flags on " + ifname_of(ifindex));
}

Result<std::vector<IfaceCounters>> NetlinkNic::counters() {
  auto raw = dump_links(std::nullopt);
  if (!raw) return raw.error();
  prune_drvinfo(*raw);
  std::vector<IfaceCounters> out;
  out.reserve(raw->size());
  for (auto &l : *raw) {
    add_drvinfo(l.info);
    out.push_back(IfaceCounters{.link = std::move(l.info),
                                .counters = std::move(l.counters)});
  }
  if (!extra_) return out;
  std::vector<LinkInfo> infos;
  infos.reserve(out.size());
  for (const auto &ic : out) infos.push_back(ic.link);
  // One call for every link: the source reads each group once for all
  // of them. If it fails as a whole, or leaves a link out (it vanished),
  // those links keep their "link" counters; CounterReader leaves out a
  // broken group by itself.
  auto more = extra_(infos);
  if (!more) return out;
  for (auto &ic : out) {
    auto it = more->find(ic.link.ifindex);
    if (it == more->end()) continue;
    ic.counters.insert(ic.counters.end(),
                       std::make_move_iterator(it->second.begin()),
                       std::make_move_iterator(it->second.end()));
  }
  return out;
}

Result<NetdevObjects> NetlinkNic::netdev_objects(int ifindex) {
  return read_netdev_objects(genl_, ifindex);
}

}  // namespace keel
