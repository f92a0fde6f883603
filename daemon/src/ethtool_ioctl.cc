// SPDX-License-Identifier: GPL-2.0
#include "keel/ethtool_ioctl.h"

#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>

namespace keel {

namespace {

std::string fixed_string(const char *s, size_t max) {
  return {s, strnlen(s, max)};
}

// ethtool_rxfh followed by the table and the key, in u32 words so the
// header stays aligned.
std::vector<uint32_t> rxfh_buffer(uint32_t indir_size, uint32_t key_size) {
  const size_t bytes =
      sizeof(ethtool_rxfh) + indir_size * sizeof(uint32_t) + key_size;
  return std::vector<uint32_t>((bytes + 3) / 4, 0);
}

}  // namespace

std::string ifname_of(int ifindex) {
  std::array<char, IF_NAMESIZE> buf{};
  if (if_indextoname(static_cast<unsigned int>(ifindex), buf.data()) != nullptr)
    return buf.data();
  return "ifindex " + std::to_string(ifindex);
}

int ifindex_of(std::string_view name) {
  return static_cast<int>(if_nametoindex(std::string(name).c_str()));
}

Result<EthtoolIoctl> EthtoolIoctl::open() {
  Fd fd(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return Error::from_errno("open ethtool ioctl socket");
  return EthtoolIoctl(std::move(fd));
}

Result<void> EthtoolIoctl::call(std::string_view ifname, void *data,
                                std::string_view what) const {
  ifreq ifr{};
  if (ifname.empty() || ifname.size() >= sizeof(ifr.ifr_name))
    return Error(EINVAL, std::string(what) + ": bad interface name '" +
                             std::string(ifname) + "'");
  std::copy(ifname.begin(), ifname.end(), std::begin(ifr.ifr_name));
  ifr.ifr_data = static_cast<char *>(data);
  if (::ioctl(fd_.get(), SIOCETHTOOL, &ifr) < 0)
    return Error::from_errno(std::string(what) + " on " + std::string(ifname));
  return {};
}

Result<DrvInfo> EthtoolIoctl::drvinfo(std::string_view ifname) const {
  ethtool_drvinfo info{};
  info.cmd = ETHTOOL_GDRVINFO;
  auto res = call(ifname, &info, "get driver info");
  if (!res) return res.error();
  return DrvInfo{
      .driver = fixed_string(std::data(info.driver), sizeof(info.driver)),
      .bus_info = fixed_string(std::data(info.bus_info), sizeof(info.bus_info)),
  };
}

Result<RssIoctl> EthtoolIoctl::get_rss(std::string_view ifname) const {
  ethtool_rxfh head{};
  head.cmd = ETHTOOL_GRSSH;
  auto res = call(ifname, &head, "get rss");
  if (!res) return res.error();

  auto buf = rxfh_buffer(head.indir_size, head.key_size);
  auto *rxfh = reinterpret_cast<ethtool_rxfh *>(buf.data());
  rxfh->cmd = ETHTOOL_GRSSH;
  rxfh->indir_size = head.indir_size;
  rxfh->key_size = head.key_size;
  res = call(ifname, rxfh, "get rss");
  if (!res) return res.error();

  const auto *indir = reinterpret_cast<const uint32_t *>(
      reinterpret_cast<const char *>(rxfh) + sizeof(ethtool_rxfh));
  const auto *key = reinterpret_cast<const uint8_t *>(indir + rxfh->indir_size);
  return RssIoctl{
      .hfunc = rxfh->hfunc,
      .key = std::vector<uint8_t>(key, key + rxfh->key_size),
      .indir = std::vector<uint32_t>(indir, indir + rxfh->indir_size),
  };
}

Result<void> EthtoolIoctl::set_rss(std::string_view ifname,
                                   const std::vector<uint8_t> &key,
                                   const std::vector<uint32_t> &indir) const {
  const std::string what = "set rss on " + std::string(ifname);
  auto cur = get_rss(ifname);
  if (!cur) return cur.error().with_context("set rss");
  if (!key.empty() && key.size() != cur->key.size())
    return Error(EINVAL, what + ": key must be " +
                             std::to_string(cur->key.size()) + " bytes");
  if (!indir.empty() && indir.size() != cur->indir.size())
    return Error(EINVAL, what + ": indirection table must have " +
                             std::to_string(cur->indir.size()) + " entries");

  const auto indir_size = static_cast<uint32_t>(indir.size());
  const auto key_size = static_cast<uint32_t>(key.size());
  auto buf = rxfh_buffer(indir_size, key_size);
  auto *rxfh = reinterpret_cast<ethtool_rxfh *>(buf.data());
  rxfh->cmd = ETHTOOL_SRSSH;
  rxfh->rss_context = 0;
  rxfh->hfunc = 0;  // ETH_RSS_HASH_NO_CHANGE (not in the uapi)
  // indir_size 0 would reset the table to the driver's default; key_size
  // 0 leaves the key.
  rxfh->indir_size = indir.empty() ? ETH_RXFH_INDIR_NO_CHANGE : indir_size;
  rxfh->key_size = key_size;
  auto *table = reinterpret_cast<uint32_t *>(reinterpret_cast<char *>(rxfh) +
                                             sizeof(ethtool_rxfh));
  std::copy(indir.begin(), indir.end(), table);
  std::copy(key.begin(), key.end(),
            reinterpret_cast<uint8_t *>(table + indir_size));
  auto res = call(ifname, rxfh, "set rss");
  if (!res) return res.error();
  return {};
}

}  // namespace keel
