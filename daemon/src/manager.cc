// SPDX-License-Identifier: GPL-2.0
#include "keel/manager.h"

#include <sys/stat.h>

#include <cerrno>
#include <string>
#include <utility>

#include "keel/log.h"

namespace keel {

Result<std::vector<Profile>> load_profiles(const std::string &path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return std::vector<Profile>{};
    return Error::from_errno(path);
  }
  if (S_ISDIR(st.st_mode)) return load_profile_dir(path);
  return load_profile_file(path);
}

ProfileManager::ProfileManager(NicControl &nic, std::string path,
                               std::chrono::milliseconds drift_period)
    : nic_(nic), path_(std::move(path)), drift_period_(drift_period) {}

Result<void> ProfileManager::load() {
  auto loaded = load_profiles(path_);
  if (!loaded) {
    stats_.reload_errors++;
    error_ = loaded.error().message();
    return loaded.error();
  }
  stats_.reloads++;
  error_.clear();
  profiles_ = std::move(*loaded);
  // Interfaces whose profile is gone or changed are matched again by the
  // next apply_all(); until then they keep what they have.
  managed_.clear();
  return {};
}

ApplyReport ProfileManager::apply_one(const LinkInfo &link,
                                      const Profile &profile) {
  ApplyReport report = apply(nic_, link, profile);
  stats_.applies++;
  for (const SettingResult &r : report.results) {
    if (r.outcome != Outcome::kFailed) continue;
    stats_.settings_failed++;
    log_warning(link.name + ": profile " + profile.name + ": " + r.setting +
                ": " + r.message);
  }
  if (report.changed() > 0)
    log_info(link.name + ": profile " + profile.name + ": " +
             std::to_string(report.changed()) + " setting(s) applied");
  Managed &m = managed_[link.ifindex];
  m.ifname = link.name;
  m.profile = profile.name;
  m.last_apply = report;
  m.drift.clear();
  return report;
}

Result<std::vector<ApplyReport>> ProfileManager::apply_all() {
  auto links = nic_.links();
  if (!links) return links.error();
  std::vector<ApplyReport> reports;
  for (const LinkInfo &link : *links) {
    const Profile *p = first_match(profiles_, link);
    if (p == nullptr) {
      managed_.erase(link.ifindex);
      continue;
    }
    reports.push_back(apply_one(link, *p));
  }
  return reports;
}

std::optional<ApplyReport> ProfileManager::link_appeared(const LinkInfo &link) {
  const Profile *p = first_match(profiles_, link);
  if (p == nullptr) {
    managed_.erase(link.ifindex);
    return std::nullopt;
  }
  auto it = managed_.find(link.ifindex);
  // A change event of an interface already under the same profile is
  // not an appearance: drift checks handle it.
  if (it != managed_.end() && it->second.profile == p->name &&
      it->second.ifname == link.name)
    return std::nullopt;
  return apply_one(link, *p);
}

void ProfileManager::link_removed(int ifindex) { managed_.erase(ifindex); }

Result<std::vector<Difference>> ProfileManager::check_drift(
    const LinkInfo &link) {
  auto it = managed_.find(link.ifindex);
  if (it == managed_.end()) return std::vector<Difference>{};
  const Profile *p = nullptr;
  for (const Profile &candidate : profiles_)
    if (candidate.name == it->second.profile) p = &candidate;
  if (p == nullptr) return std::vector<Difference>{};
  auto settings = nic_.settings(link.ifindex);
  if (!settings) return settings.error();
  std::vector<Difference> drift;
  for (Difference &d : diff(*p, *settings))
    if (d.supported) drift.push_back(std::move(d));
  Managed &m = it->second;
  if (drift.empty()) {
    m.drift.clear();
    return drift;
  }
  stats_.drift_detected++;
  if (drift != m.drift) {
    std::string what;
    for (const Difference &d : drift)
      what +=
          " " + d.setting + " " + d.current + " (profile: " + d.desired + ")";
    log_warning(link.name + ": drift from profile " + p->name + ":" + what);
  }
  m.drift = drift;
  const auto now = Clock::now();
  if (p->correct_drift && now - m.last_correction >= drift_period_) {
    const Profile profile = *p;  // apply_one() may rehash managed_
    apply_one(link, profile);
    managed_[link.ifindex].last_correction = now;
    stats_.drift_corrected++;
  }
  return drift;
}

void ProfileManager::check_all() {
  if (managed_.empty()) return;
  auto links = nic_.links();
  if (!links) {
    log_warning("drift check: " + links.error().message());
    return;
  }
  for (const LinkInfo &link : *links) {
    if (managed_.count(link.ifindex) == 0) continue;
    auto res = check_drift(link);
    if (!res && res.error().errnum() != ENODEV)
      log_warning(link.name + ": drift check: " + res.error().message());
  }
}

const Managed *ProfileManager::managed(int ifindex) const {
  auto it = managed_.find(ifindex);
  return it == managed_.end() ? nullptr : &it->second;
}

}  // namespace keel
