// SPDX-License-Identifier: GPL-2.0
//
// SIOCETHTOOL requests for the driver's statistics. Each request is one
// of the ethtool structs with a flexible array (ethtool_sset_info,
// ethtool_gstrings, ethtool_stats) followed by its payload; it lives in a
// std::vector<uint64_t>, so the storage is freed by its owner and aligned
// for every member, and is only ever accessed through memcpy.
#include "ethtool_stats.h"

#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <span>
#include <string>
#include <string_view>

#include "keel/counters.h"

namespace keel::ethtool_ioctl {
namespace {

// The kernel fills as many entries as the driver has *now*, whatever the
// caller asked for; leave room for a set that grew since it was counted.
size_t with_slack(uint32_t count) { return size_t{count} * 2 + 64; }

// Zeroed, 8-byte aligned storage for one request.
class Buffer {
 public:
  explicit Buffer(size_t bytes) : words_((bytes + 7) / 8, 0), size_(bytes) {}

  [[nodiscard]] size_t size() const noexcept { return size_; }
  [[nodiscard]] uint8_t *bytes() noexcept {
    return reinterpret_cast<uint8_t *>(words_.data());
  }
  [[nodiscard]] std::span<const uint8_t> span(size_t off, size_t len) const {
    return {reinterpret_cast<const uint8_t *>(words_.data()) + off, len};
  }

  // Copy a trivially copyable value in or out at a byte offset.
  template <typename T>
  void put(size_t off, const T &value) {
    check(off, sizeof(T));
    std::memcpy(bytes() + off, &value, sizeof(T));
  }
  template <typename T>
  [[nodiscard]] T get(size_t off) const {
    check(off, sizeof(T));
    T value{};
    std::memcpy(&value, span(off, sizeof(T)).data(), sizeof(T));
    return value;
  }

 private:
  void check(size_t off, size_t len) const {
    if (off > size_ || len > size_ - off) {
      std::fputs("keel: ethtool ioctl buffer access out of range\n", stderr);
      std::abort();
    }
  }

  std::vector<uint64_t> words_;
  size_t size_;
};

// The kernel wrote past the end of buf: memory is already corrupted.
[[noreturn]] void overrun(std::string_view what) {
  std::fprintf(stderr, "keel: %.*s: the kernel overran the buffer\n",
               static_cast<int>(what.size()), what.data());
  std::abort();
}

Result<ifreq> make_ifreq(const std::string &ifname, std::string_view what) {
  ifreq ifr{};
  if (ifname.empty() || ifname.size() >= sizeof(ifr.ifr_name))
    return Error(EINVAL,
                 std::string(what) + ": bad interface name '" + ifname + "'");
  std::memcpy(ifr.ifr_name, ifname.data(), ifname.size());
  return ifr;
}

Result<void> ethtool(const Fd &sock, const std::string &ifname, Buffer &buf,
                     std::string_view what) {
  auto req = make_ifreq(ifname, what);
  if (!req) return req.error();
  ifreq &ifr = *req;
  ifr.ifr_data = reinterpret_cast<char *>(buf.bytes());
  if (ioctl(sock.get(), SIOCETHTOOL, &ifr) < 0)
    return Error::from_errno(std::string(what) + " " + ifname);
  return {};
}

}  // namespace

Result<Fd> open_socket() {
  Fd fd(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!fd.valid()) fd = Fd(socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return Error::from_errno("ethtool ioctl socket");
  return fd;
}

Result<int> ifindex_of(const Fd &sock, const std::string &ifname) {
  auto req = make_ifreq(ifname, "SIOCGIFINDEX");
  if (!req) return req.error();
  if (ioctl(sock.get(), SIOCGIFINDEX, &*req) < 0)
    return Error::from_errno("SIOCGIFINDEX " + ifname);
  return req->ifr_ifindex;
}

Result<std::optional<uint32_t>> stats_count(const Fd &sock,
                                            const std::string &ifname) {
  constexpr size_t kData = offsetof(ethtool_sset_info, data);
  Buffer buf(kData + sizeof(uint32_t));
  ethtool_sset_info hdr{};
  hdr.cmd = ETHTOOL_GSSET_INFO;
  hdr.sset_mask = uint64_t{1} << ETH_SS_STATS;
  std::memcpy(buf.bytes(), &hdr, kData);
  auto res = ethtool(sock, ifname, buf, "ETHTOOL_GSSET_INFO");
  if (!res) {
    if (res.error().errnum() == EOPNOTSUPP) return std::optional<uint32_t>();
    return res.error();
  }
  const auto mask = buf.get<uint64_t>(offsetof(ethtool_sset_info, sset_mask));
  if ((mask & (uint64_t{1} << ETH_SS_STATS)) == 0)
    return std::optional<uint32_t>();
  const auto count = buf.get<uint32_t>(kData);
  if (count > kMaxStats)
    return Error(EOVERFLOW, "ETHTOOL_GSSET_INFO " + ifname + ": " +
                                std::to_string(count) +
                                " statistics, more than the " +
                                std::to_string(kMaxStats) + " keeld reads");
  return std::optional<uint32_t>(count);
}

Result<std::vector<std::string>> stats_names(const Fd &sock,
                                             const std::string &ifname,
                                             uint32_t count) {
  constexpr size_t kData = offsetof(ethtool_gstrings, data);
  const size_t room = with_slack(count);
  Buffer buf(kData + room * ETH_GSTRING_LEN);
  ethtool_gstrings hdr{};
  hdr.cmd = ETHTOOL_GSTRINGS;
  hdr.string_set = ETH_SS_STATS;
  hdr.len = count;
  std::memcpy(buf.bytes(), &hdr, kData);
  auto res = ethtool(sock, ifname, buf, "ETHTOOL_GSTRINGS");
  if (!res) return res.error();
  const auto len = buf.get<uint32_t>(offsetof(ethtool_gstrings, len));
  if (len > room) overrun("ETHTOOL_GSTRINGS " + ifname);
  return counters::parse_gstrings(
      buf.span(kData, size_t{len} * ETH_GSTRING_LEN), len);
}

Result<std::vector<uint64_t>> stats_values(const Fd &sock,
                                           const std::string &ifname,
                                           uint32_t count) {
  constexpr size_t kData = offsetof(ethtool_stats, data);
  const size_t room = with_slack(count);
  Buffer buf(kData + room * sizeof(uint64_t));
  ethtool_stats hdr{};
  hdr.cmd = ETHTOOL_GSTATS;
  hdr.n_stats = count;
  std::memcpy(buf.bytes(), &hdr, kData);
  auto res = ethtool(sock, ifname, buf, "ETHTOOL_GSTATS");
  if (!res) return res.error();
  const auto n = buf.get<uint32_t>(offsetof(ethtool_stats, n_stats));
  if (n > room) overrun("ETHTOOL_GSTATS " + ifname);
  std::vector<uint64_t> values(n);
  for (size_t i = 0; i < n; ++i)
    values[i] = buf.get<uint64_t>(kData + i * sizeof(uint64_t));
  return values;
}

}  // namespace keel::ethtool_ioctl
