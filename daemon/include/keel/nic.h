// SPDX-License-Identifier: GPL-2.0
//
// keel::NicControl: what keeld reads from and changes on a network
// interface, as value types plus one abstract interface. The real
// implementation speaks rtnetlink and the ethtool and netdev generic
// netlink families (src/nic_netlink.cc); unit tests use a fake.
//
// Names follow the kernel's standard interfaces, so that a profile or a
// report reads like the ip/ethtool command that would do the same:
//   - features: the kernel's netdev feature strings, as ethtool -k lists
//     them individually ("rx-checksum", "tx-checksum-ipv4",
//     "rx-vlan-hw-parse", "tx-tcp-segmentation", ...);
//   - coalescing: the ethtool netlink attribute names without the prefix,
//     lower case with '-' ("rx-usecs", "tx-usecs", "use-adaptive-rx" ...);
//   - counters: see Counter below.
//
// Errors: every call returns Result. An Error from a set_*() call carries
// the kernel's errno and, when the kernel sent one, its extack message
// ("set rings on eth0: ring size must be a multiple of 8").
//
// Threading: a NicControl is used by one thread at a time.
#pragma once

#include <cerrno>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "keel/result.h"

namespace keel {

// One network interface; an immutable snapshot.
struct LinkInfo {
  int ifindex = 0;
  std::string name;        // "eth0"
  std::string driver;      // ethtool drvinfo driver ("keel", "veth"), or ""
  std::string bus_info;    // ethtool drvinfo bus info ("0000:00:03.0"), or ""
  std::string mac;         // "52:54:00:12:34:56" lower case, or ""
  unsigned int mtu = 0;    // bytes
  bool admin_up = false;   // IFF_UP
  std::string oper_state;  // RFC 2863: "up", "down", "unknown" ...

  friend bool operator==(const LinkInfo &, const LinkInfo &) = default;
};

struct Feature {
  bool active = false;  // on now
  bool fixed = false;   // the driver does not let it change

  friend bool operator==(const Feature &, const Feature &) = default;
};
// By kernel feature string.
using Features = std::map<std::string, Feature>;

struct Rings {
  uint32_t rx = 0;
  uint32_t tx = 0;
  uint32_t rx_max = 0;
  uint32_t tx_max = 0;

  friend bool operator==(const Rings &, const Rings &) = default;
};

struct Channels {
  uint32_t rx = 0;
  uint32_t tx = 0;
  uint32_t other = 0;
  uint32_t combined = 0;
  uint32_t rx_max = 0;
  uint32_t tx_max = 0;
  uint32_t other_max = 0;
  uint32_t combined_max = 0;

  friend bool operator==(const Channels &, const Channels &) = default;
};

// Coalescing parameters the device reports, by name ("rx-usecs").
using Coalesce = std::map<std::string, uint32_t>;

struct Rss {
  std::string hfunc;             // "toeplitz", "xor", "crc32", or ""
  std::vector<uint8_t> key;      // hash key; empty if not reported
  std::vector<uint32_t> indir;   // indirection table; empty if none
  bool user_configured = false;  // the table was set by the user

  friend bool operator==(const Rss &, const Rss &) = default;
};

// Driver private flags (ethtool --show-priv-flags), by name.
using PrivFlags = std::map<std::string, bool>;

// What keeld can manage on one interface. A group the device does not
// support (veth has no coalescing, no RSS) is nullopt.
struct NicSettings {
  unsigned int mtu = 0;
  bool admin_up = false;
  std::optional<Features> features;
  std::optional<Rings> rings;
  std::optional<Channels> channels;
  std::optional<Coalesce> coalesce;
  std::optional<Rss> rss;
  std::optional<PrivFlags> priv_flags;

  friend bool operator==(const NicSettings &, const NicSettings &) = default;
};

// Requests: only the fields that are set change.
struct RingsRequest {
  std::optional<uint32_t> rx;
  std::optional<uint32_t> tx;

  friend bool operator==(const RingsRequest &, const RingsRequest &) = default;
};

struct ChannelsRequest {
  std::optional<uint32_t> rx;
  std::optional<uint32_t> tx;
  std::optional<uint32_t> other;
  std::optional<uint32_t> combined;

  friend bool operator==(const ChannelsRequest &,
                         const ChannelsRequest &) = default;
};

struct RssRequest {
  std::optional<std::vector<uint8_t>> key;
  // An explicit table, or "equal N" (the first N queues, round robin) as
  // an explicit table of the device's size; empty optional leaves it.
  std::optional<std::vector<uint32_t>> indir;

  friend bool operator==(const RssRequest &, const RssRequest &) = default;
};

// One counter of one interface.
//   group "link":      rtnetlink stats64, names as in struct
//                      rtnl_link_stats64 ("rx_packets", "tx_dropped")
//   group "eth-mac", "eth-phy", "eth-ctrl", "pause": ethtool standard
//                      statistics, names as ethtool -S --all-groups
//                      prints them ("FramesReceivedOK", "tx_pause_frames")
//   group "rmon":      rmon, histogram buckets named "rx-64-64",
//                      "tx-65-127" ...
//   group "queue":     netdev qstats per queue, names as the netdev
//                      family spells them ("rx-packets", "rx-alloc-fail");
//                      queue is "rx-3" or "tx-0"
//   group "page-pool": netdev page-pool-stats ("alloc-fast", "recycle-ring"),
//                      queue is the pool id ("pool-7")
//   group "driver":    driver-specific ethtool -S counters (ioctl)
struct Counter {
  std::string group;
  std::string name;
  std::string queue;  // "" unless group is "queue" or "page-pool"
  uint64_t value = 0;

  friend bool operator==(const Counter &, const Counter &) = default;
};

// Every counter of one interface at one moment.
struct IfaceCounters {
  LinkInfo link;
  std::vector<Counter> counters;

  friend bool operator==(const IfaceCounters &,
                         const IfaceCounters &) = default;
};

// The netdev family's objects of one interface (netdev queue-get,
// napi-get, page-pool-get), for keelctl show.
struct QueueInfo {
  uint32_t id = 0;
  std::string type;                 // "rx" or "tx"
  std::optional<uint32_t> napi_id;  // absent when not linked to a NAPI

  friend bool operator==(const QueueInfo &, const QueueInfo &) = default;
};

struct NapiInfo {
  uint32_t id = 0;
  std::optional<uint32_t> irq;
  std::optional<uint32_t> pid;  // threaded NAPI's kthread

  friend bool operator==(const NapiInfo &, const NapiInfo &) = default;
};

struct PagePoolInfo {
  uint64_t id = 0;
  std::optional<uint32_t> napi_id;
  std::optional<uint64_t> inflight;      // pages handed out, not returned
  std::optional<uint64_t> inflight_mem;  // bytes

  friend bool operator==(const PagePoolInfo &, const PagePoolInfo &) = default;
};

struct NetdevObjects {
  std::vector<QueueInfo> queues;
  std::vector<NapiInfo> napis;
  std::vector<PagePoolInfo> page_pools;

  friend bool operator==(const NetdevObjects &,
                         const NetdevObjects &) = default;
};

class NicControl {
 public:
  NicControl() = default;
  NicControl(const NicControl &) = delete;
  NicControl &operator=(const NicControl &) = delete;
  NicControl(NicControl &&) = delete;
  NicControl &operator=(NicControl &&) = delete;
  virtual ~NicControl() = default;

  // Every interface, ordered by ifindex.
  virtual Result<std::vector<LinkInfo>> links() = 0;
  // The current settings of one interface; ENODEV if it is gone.
  virtual Result<NicSettings> settings(int ifindex) = 0;

  virtual Result<void> set_mtu(int ifindex, unsigned int mtu) = 0;
  virtual Result<void> set_admin_up(int ifindex, bool up) = 0;
  // Features by kernel feature string; unknown names are EINVAL. Success
  // means the kernel accepted the request; call settings() to see what
  // it actually turned on (dependent features may differ).
  virtual Result<void> set_features(int ifindex,
                                    const std::map<std::string, bool> &f) = 0;
  virtual Result<void> set_rings(int ifindex, const RingsRequest &r) = 0;
  virtual Result<void> set_channels(int ifindex, const ChannelsRequest &c) = 0;
  virtual Result<void> set_coalesce(int ifindex, const Coalesce &c) = 0;
  virtual Result<void> set_rss(int ifindex, const RssRequest &r) = 0;
  virtual Result<void> set_priv_flags(int ifindex, const PrivFlags &f) = 0;

  // Every counter of every interface (one sweep). Groups a device does
  // not support are simply absent.
  virtual Result<std::vector<IfaceCounters>> counters() = 0;

  // Queues, NAPIs and page pools (empty lists when the kernel or the
  // driver reports none); ENOTSUP when this NicControl cannot tell.
  virtual Result<NetdevObjects> netdev_objects(int /*ifindex*/) {
    return Error(ENOTSUP, "netdev objects not available");
  }
};

}  // namespace keel
