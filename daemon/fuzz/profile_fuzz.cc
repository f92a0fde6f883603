// SPDX-License-Identifier: GPL-2.0
//
// libFuzzer target: keel::parse_profiles() on arbitrary text (the TOML a
// client sends with apply/diff, or keeld's own profile files), then
// diff() of every profile parsed against a device that has every group.
//
// Invariants: no crash, no leak; a parse either gives profiles that
// hold what profile.h promises (a unique name, a match on something,
// the MTU in range, not both an RSS table and "equal") or an Error
// naming the source.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <set>
#include <string>
#include <string_view>

#include "keel/plan.h"
#include "keel/profile.h"

namespace {

keel::NicSettings device() {
  keel::NicSettings s;
  s.mtu = 1500;
  s.features = keel::Features{
      {"rx-checksum", {.active = true, .fixed = false}},
      {"tx-scatter-gather", {.active = true, .fixed = false}},
      {"rx-lro", {.active = false, .fixed = true}},
  };
  s.rings = keel::Rings{.rx = 256, .tx = 256, .rx_max = 4096, .tx_max = 4096};
  s.channels = keel::Channels{.rx = 0,
                              .tx = 0,
                              .other = 0,
                              .combined = 4,
                              .rx_max = 0,
                              .tx_max = 0,
                              .other_max = 0,
                              .combined_max = 8};
  s.coalesce = keel::Coalesce{{"rx-usecs", 3}, {"use-adaptive-rx", 0}};
  keel::Rss rss;
  rss.hfunc = "toeplitz";
  rss.key = std::vector<uint8_t>(40, 0x6d);
  rss.indir = keel::equal_indir(4, 128);
  s.rss = rss;
  s.priv_flags = keel::PrivFlags{{"legacy-rx", false}};
  return s;
}

void check(bool ok) {
  if (!ok) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static const keel::NicSettings kDevice = device();
  const std::string_view text(reinterpret_cast<const char *>(data), size);
  auto profiles = keel::parse_profiles(text, "fuzz.toml");
  if (!profiles) {
    check(profiles.error().errnum() != 0);
    check(profiles.error().message().starts_with("fuzz.toml"));
    return 0;
  }
  std::set<std::string> names;
  for (const keel::Profile &p : *profiles) {
    check(!p.name.empty() && names.insert(p.name).second);
    check(!p.match.empty());
    check(!p.mtu || (*p.mtu >= 68 && *p.mtu <= 65535));
    check(!(p.rss_indir && p.rss_equal));
    (void)keel::diff(p, kDevice);
  }
  return 0;
}
