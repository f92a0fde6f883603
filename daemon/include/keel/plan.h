// SPDX-License-Identifier: GPL-2.0
//
// What a profile (keel/profile.h) would change on an interface, and doing
// it through keel::NicControl.
//
// Setting names, used in differences, reports, JSON and text:
//   "mtu", "up", "features.<kernel string>", "rings.rx", "rings.tx",
//   "channels.{rx,tx,other,combined}", "coalesce.<name>", "rss.key",
//   "rss.indir", "priv-flags.<flag>".
// Values are strings: numbers in decimal, "on"/"off" for features and
// private flags, "up"/"down" for the admin state, the RSS key as
// "6d:5a:..." and the table as its entries separated by spaces.
//
// diff() lists only the settings a profile manages whose value differs
// (drift detection uses it too); a setting the device cannot change (a
// group it lacks, a fixed feature, a coalescing parameter it does not
// report, a key or table of the wrong size) is listed with supported =
// false.
//
// apply() changes what differs, group by group: mtu, features, rings,
// channels, coalesce, rss, priv flags, then the admin state last. When
// channels shrink below what the current RSS table points at and the
// profile sets a table that fits, the RSS group goes before the channels
// (the kernel refuses the other order). A failed group does not stop the
// others; when a call carrying several settings of the features, rings,
// coalesce or priv-flags groups fails, each setting is tried alone so the
// report says which one the kernel refused, with its extack text. After
// the calls, settings() is read again: a setting the kernel accepted but
// that reads back different (a dependent feature, a rounded ring size) is
// kNotVerified, and so is a setting that was already right but was moved
// by another change.
//
// Threading: pure functions; apply() uses the NicControl it is given
// from the calling thread only.
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "keel/nic.h"
#include "keel/profile.h"

namespace keel {

struct Difference {
  std::string setting;  // "rings.rx"
  std::string current;  // "" when the device does not report it
  std::string desired;
  bool supported = true;

  friend bool operator==(const Difference &, const Difference &) = default;
};

std::vector<Difference> diff(const Profile &profile,
                             const NicSettings &settings);

enum class Outcome {
  kApplied,       // changed, and reads back as asked
  kAlready,       // was already as asked; nothing sent
  kFailed,        // the kernel refused; message has its extack text
  kNotSupported,  // the device cannot do it; message says why
  kNotVerified,   // accepted (or untouched) but reads back different
};
// "applied", "already", "failed", "not-supported", "not-verified"
std::string_view outcome_name(Outcome o);

struct SettingResult {
  std::string setting;
  Outcome outcome = Outcome::kAlready;
  std::string message;  // the error with extack text, or why not

  friend bool operator==(const SettingResult &,
                         const SettingResult &) = default;
};

struct ApplyReport {
  std::string ifname;
  std::string profile;
  std::vector<SettingResult> results;  // every managed setting, in order

  // No setting failed (not-supported and not-verified are not failures).
  [[nodiscard]] bool ok() const;
  // Settings whose value changed or should have: kApplied and
  // kNotVerified. 0 on an interface that was already right.
  [[nodiscard]] size_t changed() const;
  // Number of results with this outcome.
  [[nodiscard]] size_t count(Outcome o) const;
  // The result for one setting, or nullptr.
  [[nodiscard]] const SettingResult *find(std::string_view setting) const;

  friend bool operator==(const ApplyReport &, const ApplyReport &) = default;
};

ApplyReport apply(NicControl &nic, const LinkInfo &link,
                  const Profile &profile);

// {"ifname", "profile", "ok", "changed", "results": [{"setting",
//  "outcome", "message"}]}
nlohmann::json to_json(const ApplyReport &report);
// [{"setting", "current", "desired", "supported"}]
nlohmann::json to_json(const std::vector<Difference> &diffs);
// A summary line, then one indented line per setting that is not
// kAlready: "  rings.tx: failed: <message>".
std::string to_text(const ApplyReport &report);
// One line per difference: "mtu: 1500 -> 9000", or
// "coalesce.rx-usecs: not supported (wants 50)".
std::string to_text(const std::vector<Difference> &diffs);

}  // namespace keel
