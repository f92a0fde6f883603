// SPDX-License-Identifier: GPL-2.0
//
// keel::EthtoolIoctl: the few ethtool operations that netlink does not
// carry (as of the 6.12 uapi), done through the SIOCETHTOOL ioctl:
//   - drvinfo (ETHTOOL_GDRVINFO): driver name and bus info; netlink has
//     no drvinfo message;
//   - RSS (ETHTOOL_GRSSH / ETHTOOL_SRSSH): the 6.12 ethtool family has
//     RSS_GET but no RSS_SET, so changing the key or the indirection
//     table goes through the ioctl.
// The ioctl addresses an interface by name and has no extended acks, so
// errors carry only the errno.
//
// Ownership: an EthtoolIoctl owns one AF_INET datagram socket (the ioctl's
// handle), closed when it goes away. The socket belongs to the network
// namespace the process was in when open() ran.
//
// Threading: the ioctls are stateless; one thread at a time is simplest.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "keel/fd.h"
#include "keel/result.h"

namespace keel {

struct DrvInfo {
  std::string driver;    // "veth", "keel"
  std::string bus_info;  // "0000:00:03.0", or ""

  friend bool operator==(const DrvInfo &, const DrvInfo &) = default;
};

// The device's RSS setup as ETHTOOL_GRSSH reports it.
struct RssIoctl {
  uint32_t hfunc = 0;  // ETH_RSS_HASH_* bit mask
  std::vector<uint8_t> key;
  std::vector<uint32_t> indir;

  friend bool operator==(const RssIoctl &, const RssIoctl &) = default;
};

// if_indextoname(): the name for messages, or "ifindex N" when it is gone.
// if_nametoindex(): 0 when there is no such interface. Here because
// glibc's <net/if.h> and the kernel's <linux/if.h> do not mix.
std::string ifname_of(int ifindex);
int ifindex_of(std::string_view name);

class EthtoolIoctl {
 public:
  static Result<EthtoolIoctl> open();

  // ETHTOOL_GDRVINFO. EOPNOTSUPP for devices without drvinfo (lo).
  Result<DrvInfo> drvinfo(std::string_view ifname) const;
  // ETHTOOL_GRSSH: sizes first, then the data.
  Result<RssIoctl> get_rss(std::string_view ifname) const;
  // ETHTOOL_SRSSH on the default context. key and indir empty leave them
  // as they are; a non-empty one must have the device's size.
  Result<void> set_rss(std::string_view ifname, const std::vector<uint8_t> &key,
                       const std::vector<uint32_t> &indir) const;

 private:
  explicit EthtoolIoctl(Fd fd) : fd_(std::move(fd)) {}
  Result<void> call(std::string_view ifname, void *data,
                    std::string_view what) const;

  Fd fd_;
};

}  // namespace keel
