// SPDX-License-Identifier: GPL-2.0
//
// keel::NetlinkNic: the real NicControl, over netlink.
//   - links, MTU, admin state and the "link" counters (struct
//     rtnl_link_stats64) through rtnetlink (RTM_GETLINK, RTM_NEWLINK);
//   - features, rings, channels, coalescing, RSS and private flags through
//     the "ethtool" generic netlink family, resolved by name;
//   - driver and bus info (ETHTOOL_GDRVINFO) and RSS changes
//     (ETHTOOL_SRSSH) through the SIOCETHTOOL ioctl, since netlink has no
//     drvinfo and the 6.12 ethtool family no RSS_SET (see ethtool_ioctl.h).
// Every other counter group comes from the CounterSource given to
// create() (ethtool standard stats, qstats, page pools, driver -S),
// called once per counters() with every link.
//
// Driver and bus info are cached by ifindex: a driver is bound to a
// net_device for its whole life (rebinding, a driver reload or a move to
// another bus makes a new net_device, with a new ifindex), so the ioctl
// runs only for an ifindex not seen before, or whose name changed since.
// The ioctl names the interface, so a fresh answer is kept only if the
// name still names that ifindex afterwards (else the link goes without
// driver info until the next listing). Each listing (links(),
// counters()) drops the entries of ifindexes it no longer lists.
// A sweep (counters()) then costs one RTM_GETLINK dump here, whatever
// the number of links, plus what the CounterSource costs.
//
// Feature "fixed" follows ethtool -k: a feature is fixed when the driver
// cannot change it (not in the HW bitset) or the kernel never lets it
// change (NOCHANGE bitset).
//
// Ownership: a NetlinkNic owns one NETLINK_ROUTE socket, one
// NETLINK_GENERIC socket and one ioctl socket, all in the network
// namespace the process was in at create().
//
// Threading: one thread at a time (libnl sockets are not thread-safe).
#pragma once

#include <netlink/attr.h>
#include <netlink/msg.h>

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "keel/ethtool_ioctl.h"
#include "keel/nic.h"
#include "keel/nl.h"
#include "keel/result.h"

namespace keel {

namespace ethnl {
// One rtnetlink link message (RTM_NEWLINK) as LinkInfo (without drvinfo)
// and the "link" counters of its IFLA_STATS64.
struct LinkMsg {
  LinkInfo info;
  std::vector<Counter> counters;
};
}  // namespace ethnl

// Extra counters (every group but "link") of the links of one sweep, by
// ifindex, read at once (CounterReader::read_all()); a link without an
// entry gets its "link" counters only.
using CounterSource = std::function<Result<std::map<int, std::vector<Counter>>>(
    std::span<const LinkInfo>)>;

class NetlinkNic final : public NicControl {
  struct Token {
    explicit Token() = default;
  };

 public:
  static Result<std::unique_ptr<NetlinkNic>> create(CounterSource extra = {});

  NetlinkNic(Token, nl::Socket route, nl::Socket genl, EthtoolIoctl ioctl,
             int ethtool_family, CounterSource extra);

  Result<std::vector<LinkInfo>> links() override;
  Result<NicSettings> settings(int ifindex) override;

  Result<void> set_mtu(int ifindex, unsigned int mtu) override;
  Result<void> set_admin_up(int ifindex, bool up) override;
  Result<void> set_features(int ifindex,
                            const std::map<std::string, bool> &f) override;
  Result<void> set_rings(int ifindex, const RingsRequest &r) override;
  Result<void> set_channels(int ifindex, const ChannelsRequest &c) override;
  Result<void> set_coalesce(int ifindex, const Coalesce &c) override;
  Result<void> set_rss(int ifindex, const RssRequest &r) override;
  Result<void> set_priv_flags(int ifindex, const PrivFlags &f) override;

  Result<std::vector<IfaceCounters>> counters() override;
  // The netdev family's queues, NAPIs and page pools (netdev_objects.h).
  Result<NetdevObjects> netdev_objects(int ifindex) override;

 private:
  // Every link (nullopt) or one; without drvinfo.
  Result<std::vector<ethnl::LinkMsg>> dump_links(std::optional<int> ifindex);
  // Driver and bus info from the cache, or the ioctl for a new ifindex
  // or name.
  void add_drvinfo(LinkInfo &info);
  // Drop the cached drvinfo of every ifindex not in links.
  void prune_drvinfo(const std::vector<ethnl::LinkMsg> &links);
  Result<void> set_link(int ifindex, unsigned int mtu, std::optional<bool> up,
                        std::string_view what);
  Result<const std::vector<std::string> *> strings(uint32_t set);
  Result<nl::Msg> ethtool_msg(uint8_t cmd, int ifindex, uint32_t flags);
  // An ethtool GET; false when the device does not support it.
  Result<bool> ethtool_get(uint8_t cmd, int ifindex,
                           const nl::ReplyHandler &on_reply,
                           std::string_view what);
  Result<void> ethtool_set(nl::Msg msg, std::string_view what);

  nl::Socket route_;
  nl::Socket genl_;
  EthtoolIoctl ioctl_;
  int ethtool_family_;
  CounterSource extra_;
  std::map<uint32_t, std::vector<std::string>> strsets_;  // by ETH_SS_*
  struct CachedDrvInfo {
    std::string ifname;  // the name it was read under
    DrvInfo info;        // empty for a device without drvinfo (lo)
  };
  std::map<int, CachedDrvInfo> drvinfo_;  // by ifindex
};

// The message parsers and builders NetlinkNic uses, exposed for unit
// tests on hand-built messages.
namespace ethnl {

// An ethtool bitset, compact or verbose. value[i]: bit i is set; mask[i]:
// bit i is in the mask (all true for NOMASK bitsets). names[i] is the
// bit's name when the message gave it (verbose form), else "".
struct Bitset {
  uint32_t size = 0;
  bool nomask = false;
  std::vector<bool> value;
  std::vector<bool> mask;
  std::vector<std::string> names;

  [[nodiscard]] bool test(size_t i) const {
    return i < value.size() && value[i];
  }
  friend bool operator==(const Bitset &, const Bitset &) = default;
};
// The largest bitset parse_bitset() accepts (EBADMSG above): sizes and
// bit indexes come from the message and size its vectors. The kernel's
// largest (link modes, features) have a few hundred bits.
inline constexpr uint32_t kMaxBitsetSize = uint32_t{1} << 16;
// The most strings of one ethtool string set keeld takes (EBADMSG above),
// for the same reason; ETH_SS_STATS of a driver with hundreds of queues
// has a few tens of thousands.
inline constexpr uint32_t kMaxStrings = uint32_t{1} << 17;
Result<Bitset> parse_bitset(const nlattr *nest);

// A verbose bitset of named bits with a mask (only the named bits change),
// as FEATURES_SET and PRIVFLAGS_SET take it.
Result<void> put_named_bitset(nl::Msg &msg, int type,
                              const std::map<std::string, bool> &bits);

// FEATURES_GET reply to Features; names[i] is feature bit i's string
// (ETH_SS_FEATURES); names given in the reply take precedence.
Result<Features> parse_features(nl_msg *msg,
                                const std::vector<std::string> &names);
Result<PrivFlags> parse_priv_flags(nl_msg *msg);
Result<Rings> parse_rings(nl_msg *msg);
Result<Channels> parse_channels(nl_msg *msg);
Result<Coalesce> parse_coalesce(nl_msg *msg);
// names: ETH_SS_RSS_HASH_FUNCS.
Result<Rss> parse_rss(nl_msg *msg, const std::vector<std::string> &names);

// ETHTOOL_A_COALESCE_* attribute <-> "rx-usecs" style name.
std::optional<int> coalesce_attr(std::string_view name);
std::string coalesce_name(int attr);
// True for the u8 attributes (use-adaptive-rx ...).
bool coalesce_is_u8(int attr);

Result<LinkMsg> parse_link(nl_msg *msg);

}  // namespace ethnl

}  // namespace keel
