// SPDX-License-Identifier: GPL-2.0
//
// Internal to keelcounters: the driver's own statistics (`ethtool -S`)
// through the SIOCETHTOOL ioctl, which the ethtool netlink family does
// not carry. Buffers are std::vectors owned by each call; the ioctl
// socket is lent by the caller.
//
// Threading: no state of its own; one call at a time per socket is not
// required (ioctls on one socket are independent).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "keel/fd.h"
#include "keel/result.h"

namespace keel::ethtool_ioctl {

// A datagram socket to issue SIOCETHTOOL on, in the caller's netns.
Result<Fd> open_socket();

// The ifindex that ifname names now (SIOCGIFINDEX); ENODEV if none.
Result<int> ifindex_of(const Fd &sock, const std::string &ifname);

// The most driver statistics keeld reads from one interface. The count
// comes from the kernel and sizes the buffers (twice it, 32-byte names):
// a count above this is an error (EOVERFLOW), not a multi-gigabyte
// allocation. Real drivers with hundreds of queues report a few tens of
// thousands.
inline constexpr uint32_t kMaxStats = uint32_t{1} << 17;

// The number of ETH_SS_STATS strings of ifname; nullopt if the driver has
// no statistics (EOPNOTSUPP, or the set is not reported); EOVERFLOW above
// kMaxStats.
Result<std::optional<uint32_t>> stats_count(const Fd &sock,
                                            const std::string &ifname);
// The ETH_SS_STATS names; as many as the kernel returned (it may differ
// from count if the driver changed its set in between).
Result<std::vector<std::string>> stats_names(const Fd &sock,
                                             const std::string &ifname,
                                             uint32_t count);
// The values (ETHTOOL_GSTATS); as many as the kernel returned.
Result<std::vector<uint64_t>> stats_values(const Fd &sock,
                                           const std::string &ifname,
                                           uint32_t count);

}  // namespace keel::ethtool_ioctl
