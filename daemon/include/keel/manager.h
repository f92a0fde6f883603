// SPDX-License-Identifier: GPL-2.0
//
// keel::ProfileManager: keeps interfaces as keeld's profiles describe
// them. It owns the last good set of profiles, applies the first profile
// that matches an interface (at start, when the interface appears or is
// renamed, on request), and checks managed interfaces for drift: a
// setting the profile manages that another tool changed. Drift is always
// reported; it is corrected when the profile has correct_drift, at most
// once per interface per drift period, so a setting the device will not
// keep (it reads back differently) is not rewritten in a loop.
//
// Ownership: the NicControl is lent by the caller (keeld's Daemon owns
// both) and must outlive the manager.
//
// Threading: one thread, the daemon's.
//
// Counters (stats()): applies, settings failed, drift seen, corrected.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "keel/nic.h"
#include "keel/plan.h"
#include "keel/profile.h"
#include "keel/result.h"

namespace keel {

// Profiles from a file, or from a directory's *.toml files; a path that
// does not exist holds no profiles. Only regular files of at most
// kMaxProfileFile bytes are read (a FIFO or a device is an error, at
// once). Errors say file:line:column.
Result<std::vector<Profile>> load_profiles(const std::string &path);

struct ManagerStats {
  uint64_t applies = 0;          // profile applications to an interface
  uint64_t settings_failed = 0;  // settings the kernel refused
  uint64_t drift_detected = 0;   // drift checks that found a difference
  uint64_t drift_corrected = 0;  // of which corrected
  uint64_t reloads = 0;          // successful loads
  uint64_t reload_errors = 0;    // refused loads (last good kept)
};

// What keeld knows of one interface a profile manages.
struct Managed {
  std::string ifname;
  std::string profile;
  ApplyReport last_apply;
  std::vector<Difference> drift;  // the last check's differences
  std::chrono::steady_clock::time_point last_correction{};
};

class ProfileManager {
 public:
  using Clock = std::chrono::steady_clock;

  ProfileManager(NicControl &nic, std::string path,
                 std::chrono::milliseconds drift_period);

  // (Re)load the profiles from the path. On error the last good set stays
  // in force, error() says why, and the error is returned.
  Result<void> load();
  [[nodiscard]] const std::vector<Profile> &profiles() const noexcept {
    return profiles_;
  }
  [[nodiscard]] const std::string &path() const noexcept { return path_; }
  [[nodiscard]] const std::string &error() const noexcept { return error_; }

  // Apply the profiles to every interface they match; one report per
  // interface. Interfaces no profile matches are left alone.
  Result<std::vector<ApplyReport>> apply_all();
  // A new or renamed interface: apply its profile, if any.
  std::optional<ApplyReport> link_appeared(const LinkInfo &link);
  void link_removed(int ifindex);

  // Compare one managed interface with its profile; correct when allowed.
  // Returns the differences found (empty: in line, or not managed).
  Result<std::vector<Difference>> check_drift(const LinkInfo &link);
  // check_drift() for every managed interface.
  void check_all();

  // What is known of a managed interface; nullptr if it is not managed.
  [[nodiscard]] const Managed *managed(int ifindex) const;
  [[nodiscard]] const ManagerStats &stats() const noexcept { return stats_; }

 private:
  ApplyReport apply_one(const LinkInfo &link, const Profile &profile);

  NicControl &nic_;
  std::string path_;
  std::chrono::milliseconds drift_period_;
  std::vector<Profile> profiles_;
  std::string error_;
  std::map<int, Managed> managed_;  // by ifindex
  ManagerStats stats_;
};

}  // namespace keel
