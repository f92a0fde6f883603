// SPDX-License-Identifier: GPL-2.0
//
// keel::CounterReader: every counter of the interfaces of a sweep that is
// not in the rtnetlink "link" group (NetlinkNic reads that one itself,
// from the RTM_GETLINK dump that lists the links, and calls a
// CounterReader for the rest). read_all() returns, per interface, in this
// order and with the group/name/queue conventions of keel::Counter
// (keel/nic.h):
//
//   "eth-phy", "eth-mac", "eth-ctrl", "rmon"
//       ethtool STATS_GET (netlink), aggregate source. Names are the
//       kernel's string sets (ETH_SS_STATS_ETH_MAC ...), read once from
//       ETHTOOL_MSG_STRSET_GET, with a built-in copy as fallback:
//       "SymbolErrorDuringCarrier", "FramesTransmittedOK",
//       "MACControlFramesTransmitted", "etherStatsUndersizePkts" ...
//       rmon histogram buckets are "rx-<low>-<high>" / "tx-<low>-<high>"
//       ("rx-64-64", "tx-1519-65535"); an open-ended bucket has high 0.
//   "pause"
//       ethtool PAUSE_GET with ETHTOOL_FLAG_STATS: "tx_pause_frames",
//       "rx_pause_frames".
//   "queue"
//       netdev QSTATS_GET, scope queue; queue "rx-<id>" / "tx-<id>"; names
//       as the netdev family spells them: rx-packets, rx-bytes,
//       tx-packets, tx-bytes, rx-alloc-fail, rx-hw-drops,
//       rx-hw-drop-overruns, rx-csum-complete, rx-csum-unnecessary,
//       rx-csum-none, rx-csum-bad, rx-hw-gro-packets, rx-hw-gro-bytes,
//       rx-hw-gro-wire-packets, rx-hw-gro-wire-bytes,
//       rx-hw-drop-ratelimits, tx-hw-drops, tx-hw-drop-errors,
//       tx-csum-none, tx-needs-csum, tx-hw-gso-packets, tx-hw-gso-bytes,
//       tx-hw-gso-wire-packets, tx-hw-gso-wire-bytes,
//       tx-hw-drop-ratelimits, tx-stop, tx-wake.
//   "page-pool"
//       netdev PAGE_POOL_STATS_GET, the pools of that interface; queue
//       "pool-<id>"; names alloc-fast, alloc-slow, alloc-slow-high-order,
//       alloc-empty, alloc-refill, alloc-waive, recycle-cached,
//       recycle-cache-full, recycle-ring, recycle-ring-full,
//       recycle-released-refcnt. Needs CAP_NET_ADMIN; without it the group
//       is absent.
//   "driver"
//       the driver's own `ethtool -S` counters, through the SIOCETHTOOL
//       ioctl (ETHTOOL_GSSET_INFO, ETHTOOL_GSTRINGS, ETHTOOL_GSTATS). The
//       name table is cached per interface and re-read when the counter
//       count, the name or the driver of the interface changes.
//
// Cost of a read_all(), whatever the number of interfaces: one dump per
// netlink group, for every interface of the namespace at once (ethtool
// STATS_GET and PAUSE_GET as dumps, with a request header naming no
// device; netdev QSTATS_GET without an ifindex; PAGE_POOL_STATS_GET),
// its replies handed to the interfaces by the ifindex each carries (the
// ethtool reply header's DEV_INDEX, NETDEV_A_QSTATS_IFINDEX, the pool's
// NETDEV_A_PAGE_POOL_IFINDEX). What is left per interface is the
// ethtool -S ioctl: SIOCGIFINDEX (the name still names the ifindex),
// ETHTOOL_GSSET_INFO (the count that sizes the buffer) and
// ETHTOOL_GSTATS; ETHTOOL_GSTRINGS only when the name table is re-read.
//
// A group the device or the kernel does not support is absent, not an
// error: the kernel leaves such a device out of the dump (ethtool's
// EOPNOTSUPP, qstats of a device without queue statistics such as lo);
// a kernel without the request (EOPNOTSUPP, ENODATA, no "netdev" family,
// no CAP_NET_ADMIN for page pools) leaves the group out for every
// interface. A dump interrupted because what it lists changed
// (NLM_F_DUMP_INTR) is asked for again (nl::Socket::request()); an
// ethtool dump that ends with ENODEV (a device unregistered while it was
// read) is asked for once more. A dump that fails otherwise costs every
// interface that group in this read_all(); a reply of one interface that
// cannot be parsed costs that interface that group; a failing ethtool -S
// ioctl costs that interface its "driver" group; the other groups are
// still read. Each failure goes to the on_group_error() hook once, when
// the group (of every interface for a dump, of that interface otherwise)
// starts failing, and again only after it has read fine. An interface
// whose ioctl finds it gone (ENODEV: removed, or its name now another
// ifindex's) has no entry in the result.
//
// The parse_*() functions turn kernel replies into Counters. They take
// the attribute stream of a reply (see genl_payload()) and need neither
// a socket nor privilege, so unit tests feed them hand-built messages.
//
// A CounterReader reads the network namespace it was opened in. The
// netlink replies name the interface by ifindex, the ioctl by name, so
// LinkInfo must carry both (an empty name is EINVAL for the ioctl).
//
// Ownership: a CounterReader owns its generic netlink socket, its ioctl
// socket and its caches; replies are parsed while the message is lent.
// Threading: a CounterReader is used by one thread at a time (its libnl
// socket is not thread-safe); give each thread its own. The parse_*()
// functions are pure and may run anywhere.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "keel/fd.h"
#include "keel/nic.h"
#include "keel/nl.h"
#include "keel/result.h"

namespace keel {

namespace counters {

// A stream of netlink attributes (a message's or a nest's payload), lent
// from the message it points into.
struct AttrStream {
  const nlattr *head = nullptr;
  int len = 0;
};

// The attributes of a generic netlink message (after the genl header);
// empty if the message is too short.
AttrStream genl_payload(nl_msg *msg);
// The payload of a nested attribute.
AttrStream nest_payload(const nlattr *nest);
// Every attribute of a stream, in order, including repeated types and
// type 0 (which ethtool uses for the first statistic).
std::vector<const nlattr *> attr_list(AttrStream stream);

// ethtool string sets by ETH_SS_* id; names indexed by string index.
using StringSets = std::map<uint32_t, std::vector<std::string>>;

// The kernel's names for ETH_SS_STATS_ETH_PHY, _ETH_MAC, _ETH_CTRL and
// _RMON, as of Linux 6.12; used when STRSET_GET is not available.
const StringSets &builtin_stats_strings();

// Each parser appends what it finds to out.

// ETHTOOL_MSG_STRSET_GET reply: every string set in it into sets.
Result<void> parse_strset_reply(AttrStream attrs, StringSets &sets);
// ETHTOOL_MSG_STATS_GET reply: groups eth-phy, eth-mac, eth-ctrl, rmon.
// A statistic whose index has no name in names is "stat-<index>".
Result<void> parse_stats_reply(AttrStream attrs, const StringSets &names,
                               std::vector<Counter> &out);
// ETHTOOL_MSG_PAUSE_GET reply (with stats): group pause.
Result<void> parse_pause_reply(AttrStream attrs, std::vector<Counter> &out);
// One NETDEV_CMD_QSTATS_GET dump message (one queue): group queue.
Result<void> parse_qstats_reply(AttrStream attrs, std::vector<Counter> &out);
// One NETDEV_CMD_PAGE_POOL_STATS_GET dump message (one pool): group
// page-pool, only if the pool belongs to ifindex.
Result<void> parse_page_pool_stats_reply(AttrStream attrs, int ifindex,
                                         std::vector<Counter> &out);

// The interface a dump message is about, to hand it to that interface's
// parser. An ethtool reply: ETHTOOL_A_HEADER_DEV_INDEX in its header,
// attribute header_type (ETHTOOL_A_STATS_HEADER ...). A qstats reply:
// NETDEV_A_QSTATS_IFINDEX. EBADMSG when it has none. A page-pool-stats
// reply: the pool's NETDEV_A_PAGE_POOL_IFINDEX, 0 for a pool of no
// interface.
Result<int> ethtool_reply_ifindex(AttrStream attrs, int header_type);
Result<int> qstats_reply_ifindex(AttrStream attrs);
Result<int> page_pool_stats_reply_ifindex(AttrStream attrs);

// The netdev family's name of a NETDEV_A_QSTATS_* or
// NETDEV_A_PAGE_POOL_STATS_* counter attribute; "" if it is not one.
std::string qstats_name(int type);
std::string page_pool_stats_name(int type);

// ETHTOOL_GSTRINGS data: count names of ETH_GSTRING_LEN bytes each,
// NUL-padded. Fewer if data is short.
std::vector<std::string> parse_gstrings(std::span<const uint8_t> data,
                                        size_t count);
// Group "driver" from the ioctl's names and values (the shorter wins).
std::vector<Counter> driver_counters(const std::vector<std::string> &names,
                                     std::span<const uint64_t> values);

}  // namespace counters

class CounterReader {
 public:
  // Connects a generic netlink socket and resolves the "ethtool" and
  // "netdev" families (either may be absent: its groups are skipped).
  static Result<std::unique_ptr<CounterReader>> open();

  // A reader over sock, whose peer has the "ethtool" and "netdev"
  // families as ethtool and netdev (-1: it has none), asking it nothing
  // before read(): for tests against tests/fake_kernel.h. Without
  // ioctl_fd (an invalid Fd) there is no group "driver"; the ethtool
  // names are the built-in ones.
  static std::unique_ptr<CounterReader> over(nl::Socket sock, int ethtool,
                                             int netdev, Fd ioctl_fd);

  // Only open() and over() can make the key; public so that make_unique
  // can construct.
  class Key {
    friend class CounterReader;
    Key() = default;
  };
  CounterReader(Key /*key*/, nl::Socket sock, Fd ioctl_fd)
      : sock_(std::move(sock)), ioctl_fd_(std::move(ioctl_fd)) {}

  CounterReader(const CounterReader &) = delete;
  CounterReader &operator=(const CounterReader &) = delete;
  CounterReader(CounterReader &&) = delete;
  CounterReader &operator=(CounterReader &&) = delete;
  ~CounterReader() = default;

  // Every counter except group "link" of each of links, by ifindex; see
  // the top of this file for the cost and what is left out. A link gone
  // (its ioctl says ENODEV) has no entry. A failing group is left out,
  // not returned: read_all() itself does not fail today (the Result is
  // NetlinkNic's CounterSource's, which may).
  using ByLink = std::map<int, std::vector<Counter>>;
  Result<ByLink> read_all(std::span<const LinkInfo> links);

  // read_all() of one link: the same dumps, so it costs as much as a
  // sweep of every interface (for tests and tools; a sweep calls
  // read_all()). ENODEV if the interface is gone.
  Result<std::vector<Counter>> read(const LinkInfo &link);

  // Called from read_all() with the error of a group it left out
  // ("counters of eth0: group driver left out: ...", "counters: group
  // queue left out of every interface: ..."), once per interface (or
  // dump) and group until that group reads again.
  using GroupErrorHook = std::function<void(const Error &)>;
  void on_group_error(GroupErrorHook hook) {
    on_group_error_ = std::move(hook);
  }

  // Drop what is kept about an interface that went away (its driver
  // name table, its failing groups).
  void forget(int ifindex);

  // read() forgets, as forget() does, interfaces it has not read for
  // kForgetAfter: links removed since, which a sweep no longer reads.
  // It looks for them once a minute at most. An interface forgotten while
  // it is still there (sweeps further apart than that) costs one fresh
  // fetch of its names. kForgetAfter unless set (tests).
  static constexpr std::chrono::minutes kForgetAfter{10};
  void set_forget_after(std::chrono::milliseconds after) noexcept {
    forget_after_ = after;
  }

 private:
  using Clock = std::chrono::steady_clock;

  void forget_unread(Clock::time_point now);
  struct DriverNames {
    std::string ifname;
    std::string driver;
    std::vector<std::string> names;
  };

  // What one dump gave: counters and, for replies that could not be
  // parsed, the error, by ifindex.
  struct DumpResult {
    ByLink counters;
    std::map<int, Error> failed;
  };
  // A parser of one dump message of an interface.
  using DumpParser = std::function<Result<void>(
      counters::AttrStream, int ifindex, std::vector<Counter> &out)>;
  using IfindexOf = Result<int> (*)(counters::AttrStream);

  Result<DumpResult> dump(nl::Msg msg, IfindexOf ifindex_of,
                          const DumpParser &parse, std::string_view what);
  Result<DumpResult> dump_stats();
  Result<DumpResult> dump_pause();
  Result<DumpResult> dump_qstats();
  Result<DumpResult> dump_page_pools();
  Result<void> read_driver(const LinkInfo &link, std::vector<Counter> &out);
  // Say err of group (of ifindex, or of every interface: kEveryLink) if
  // it just started failing.
  static constexpr int kEveryLink = 0;
  void group_failed(int ifindex, const std::string &group, const Error &err,
                    const std::string &context);
  Result<const DriverNames *> driver_names(const LinkInfo &link,
                                           uint32_t count);

  nl::Socket sock_;
  Fd ioctl_fd_;       // AF_INET datagram socket for SIOCETHTOOL, or none
  int ethtool_ = -1;  // family ids; -1 if the kernel has none
  int netdev_ = -1;
  bool page_pools_ok_ = true;  // cleared on EOPNOTSUPP or EPERM
  bool qstats_ok_ = true;      // cleared on EOPNOTSUPP (no qstats-get)
  counters::StringSets std_names_;
  std::map<int, DriverNames> driver_names_;  // by ifindex
  GroupErrorHook on_group_error_;
  std::set<std::pair<int, std::string>> failing_;  // ifindex, group
  std::map<int, Clock::time_point> last_read_;     // by ifindex
  Clock::time_point last_forget_{};  // when forget_unread() last looked
  std::chrono::milliseconds forget_after_ = kForgetAfter;
};

// A CounterReader behind the hook NetlinkNic calls once per sweep
// (NetlinkNic's CounterSource: read_all()); the function owns the reader.
Result<std::function<Result<CounterReader::ByLink>(std::span<const LinkInfo>)>>
open_counter_source();

}  // namespace keel
