// SPDX-License-Identifier: GPL-2.0
//
// keel::Profile: keeld's declarative interface profiles, read from TOML
// files, and the matching of a profile to an interface. What a profile
// changes is worked out and done by keel/plan.h.
//
// File format (one file may hold several [[profile]] tables; a directory
// is read as its *.toml files in name order):
//
//   [[profile]]
//   name = "keel-rx"          # required, unique across the whole load
//   correct_drift = true      # default false: drift is only reported
//
//   [profile.match]           # every key given must match; a list means
//   name = ["eth*", "enp1s0"] #   any of. fnmatch(3) globs on the name
//   driver = "keel"           # a string or a list; exact driver names
//   pci = ["0000:01:00.0"]    # PCI bus address; "01:00.0" means domain 0
//   mac = ["52:54:00:12:34:56"]  # case-insensitive
//
//   [profile.link]
//   mtu = 9000                # 68..65535
//   up = true                 # admin state, applied last
//
//   [profile.features]        # kernel feature strings (ethtool -k) ...
//   "rx-checksum" = true
//   tso = false               # ... or ethtool's short names, see below
//
//   [profile.rings]           # ethtool -G; 1..65536
//   rx = 1024
//   tx = 1024
//
//   [profile.channels]        # ethtool -L; 0..4096
//   combined = 4              # also rx, tx, other
//
//   [profile.coalesce]        # ethtool -C; names as in nic.h Coalesce:
//   "rx-usecs" = 50           # the ETHTOOL_A_COALESCE_* names, lower
//   "use-adaptive-rx" = true  # case with '-'. use-* take a boolean, the
//                             # others an integer 0..4294967295
//
//   [profile.rss]             # ethtool -X
//   key = "6d:5a:56:da:..."   # hash key, hex bytes separated by ':'
//   equal = 4                 # spread over the first N rx queues, or
//   indir = [0, 1, 2, 3]      # an explicit table (the device's size);
//                             # not both
//
//   [profile.priv-flags]      # ethtool --set-priv-flags
//   "legacy-rx" = true
//
// Short feature names (ethtool's): a name standing for several kernel
// features sets each of them that the device has; the others are not
// reported (feature_aliases() lists them):
//   rx -> rx-checksum           tx -> tx-checksum-* (5 strings)
//   sg -> tx-scatter-gather*    tso -> tx-tcp*-segmentation (4 strings)
//   gso -> tx-generic-segmentation   gro -> rx-gro     lro -> rx-lro
//   rxvlan -> rx-vlan-hw-parse  txvlan -> tx-vlan-hw-insert
//   rxhash -> rx-hashing        ntuple -> rx-ntuple-filter
//
// A profile file is read only if it is a regular file of at most
// kMaxProfileFile (1 MiB) bytes; a FIFO, a device or a larger file is an
// error naming it (keel/profile_files.h).
//
// Every error names the place: "file:line:column: message" (TOML syntax,
// unknown tables or keys, wrong types, numbers out of range, bad MAC, PCI
// address or key, a profile that matches on nothing, a name given twice,
// a feature set twice through an alias, a character toml++ 3.3 cannot
// parse safely: U+00A1..U+0499, U+2D6E..U+3167 but U+3000, and
// U+FAF6..U+FEFE, anywhere in the text). A load either gives every
// profile or an Error; the caller keeps its last good set on an Error.
//
// Nothing here throws; toml++ is used with exceptions off, inside
// profile.cc only. Threading: pure functions and value types.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "keel/nic.h"
#include "keel/profile_files.h"
#include "keel/result.h"

namespace keel {

// Which interfaces a profile applies to. Empty lists are not criteria;
// a parsed profile always has at least one non-empty list.
struct Match {
  std::vector<std::string> names;    // fnmatch(3) globs
  std::vector<std::string> drivers;  // exact
  std::vector<std::string> pci;      // "dddd:bb:dd.f", lower case
  std::vector<std::string> macs;     // "xx:xx:xx:xx:xx:xx", lower case

  [[nodiscard]] bool empty() const {
    return names.empty() && drivers.empty() && pci.empty() && macs.empty();
  }

  friend bool operator==(const Match &, const Match &) = default;
};

struct Profile {
  std::string name;
  std::string source;  // "file:line" of its [[profile]] header
  Match match;
  std::optional<unsigned int> mtu;
  std::optional<bool> admin_up;
  // By kernel feature string; aliases are already expanded.
  std::map<std::string, bool> features;
  // The features above that came from a short name standing for several
  // (tx, sg, tso): a device without one of them is not an error.
  std::set<std::string> optional_features;
  RingsRequest rings;
  ChannelsRequest channels;
  Coalesce coalesce;  // use-* as 0/1
  std::optional<std::vector<uint8_t>> rss_key;
  std::optional<std::vector<uint32_t>> rss_indir;  // explicit table
  std::optional<uint32_t> rss_equal;               // or the first N queues
  PrivFlags priv_flags;
  bool correct_drift = false;

  friend bool operator==(const Profile &, const Profile &) = default;
};

// ethtool's short feature names and the kernel strings each stands for.
const std::vector<std::pair<std::string_view, std::vector<std::string_view>>>
    &feature_aliases();

// The coalescing names a profile may set; the bool ones are marked.
struct CoalesceParam {
  std::string_view name;
  bool boolean;
};
const std::vector<CoalesceParam> &coalesce_params();

// Every profile in one TOML document; source names it in errors
// ("/etc/keel/profiles.d/10-rx.toml:4:7: mtu must be 68..65535").
Result<std::vector<Profile>> parse_profiles(std::string_view text,
                                            const std::string &source);
// Several files' texts as one set, in the order given: one bad text fails
// the whole set, and so does a name used in two of them.
Result<std::vector<Profile>> parse_profile_sources(
    const std::vector<ProfileSource> &sources);
// A regular file of at most kMaxProfileFile bytes (profile_files.h).
Result<std::vector<Profile>> load_profile_file(const std::string &path);
// Every *.toml in dir, in name order, read as load_profile_file() does
// (subdirectories are skipped); one bad file fails the whole load, and so
// does a name used in two files. A missing dir is ENOENT.
Result<std::vector<Profile>> load_profile_dir(const std::string &dir);

// Whether every criterion the profile gives matches the interface.
bool matches(const Profile &profile, const LinkInfo &link);
// The first profile (in load order) that matches, or nullptr. The pointer
// is into profiles and lives as long as that vector is not changed.
const Profile *first_match(const std::vector<Profile> &profiles,
                           const LinkInfo &link);

// The indirection table "equal n" means for a table of size entries.
std::vector<uint32_t> equal_indir(uint32_t n, size_t size);

}  // namespace keel
