// SPDX-License-Identifier: GPL-2.0
//
// diff() and apply() of a profile against NicControl (see keel/plan.h).
// Both work from one list of Items, every setting the profile manages
// with its current and desired value, so that what diff() reports and
// what apply() does cannot disagree.
//
// Threading: pure functions; apply() calls the NicControl it is given.
#include "keel/plan.h"

#include <algorithm>
#include <array>
#include <cstdio>
#include <functional>
#include <optional>

namespace keel {

namespace {

enum class Group {
  kMtu,
  kFeatures,
  kRings,
  kChannels,
  kCoalesce,
  kRss,
  kPrivFlags,
  kUp
};

// One managed setting.
struct Item {
  Group group = Group::kMtu;
  std::string key;      // within the group: "rx-checksum", "rx", "key"
  std::string setting;  // "features.rx-checksum"
  std::string current;
  std::string desired;
  bool supported = true;
  bool equal = false;
  std::string reason;  // why not supported
};

std::string on_off(bool b) { return b ? "on" : "off"; }

std::string hex_bytes(const std::vector<uint8_t> &bytes) {
  std::string out;
  for (uint8_t b : bytes) {
    std::array<char, 4> buf{};
    std::snprintf(buf.data(), buf.size(), "%s%02x", out.empty() ? "" : ":", b);
    out += buf.data();
  }
  return out;
}

std::string table_text(const std::vector<uint32_t> &t) {
  std::string out;
  for (uint32_t v : t) {
    if (!out.empty()) out += ' ';
    out += std::to_string(v);
  }
  return out;
}

class Planner {
 public:
  Planner(const Profile &p, const NicSettings &s) : p_(p), s_(s) {}

  std::vector<Item> items() {
    if (p_.mtu)
      add(Group::kMtu, "", "mtu", std::to_string(s_.mtu),
          std::to_string(*p_.mtu));
    features();
    rings();
    channels();
    coalesce();
    rss();
    priv_flags();
    if (p_.admin_up)
      add(Group::kUp, "", "up", s_.admin_up ? "up" : "down",
          *p_.admin_up ? "up" : "down");
    return std::move(out_);
  }

 private:
  void add(Group g, std::string key, std::string setting, std::string current,
           std::string desired) {
    Item it;
    it.group = g;
    it.key = std::move(key);
    it.setting = std::move(setting);
    it.current = std::move(current);
    it.desired = std::move(desired);
    it.equal = it.current == it.desired;
    out_.push_back(std::move(it));
  }

  void unsupported(Group g, std::string key, std::string setting,
                   std::string desired, std::string reason) {
    Item it;
    it.group = g;
    it.key = std::move(key);
    it.setting = std::move(setting);
    it.desired = std::move(desired);
    it.supported = false;
    it.reason = std::move(reason);
    out_.push_back(std::move(it));
  }

  void features() {
    for (const auto &[name, want] : p_.features) {
      std::string setting = "features." + name;
      if (!s_.features) {
        unsupported(Group::kFeatures, name, setting, on_off(want),
                    "the device reports no features");
        continue;
      }
      auto f = s_.features->find(name);
      if (f == s_.features->end()) {
        if (p_.optional_features.count(name) == 0)
          unsupported(Group::kFeatures, name, setting, on_off(want),
                      "the device has no feature " + name);
        continue;
      }
      add(Group::kFeatures, name, setting, on_off(f->second.active),
          on_off(want));
      Item &it = out_.back();
      if (!it.equal && f->second.fixed) {
        it.supported = false;
        it.reason = "fixed by the driver";
      }
    }
  }

  void numbers(
      Group g, const std::string &prefix,
      const std::vector<std::pair<std::string, std::optional<uint32_t>>> &want,
      const std::vector<uint32_t> &have, bool present,
      const std::string &missing) {
    for (size_t i = 0; i < want.size(); ++i) {
      if (!want[i].second) continue;
      const std::string &key = want[i].first;
      std::string desired = std::to_string(*want[i].second);
      if (!present)
        unsupported(g, key, prefix + key, desired, missing);
      else
        add(g, key, prefix + key, std::to_string(have[i]), desired);
    }
  }

  void rings() {
    const RingsRequest &r = p_.rings;
    Rings have = s_.rings.value_or(Rings{});
    numbers(Group::kRings, "rings.", {{"rx", r.rx}, {"tx", r.tx}},
            {have.rx, have.tx}, s_.rings.has_value(),
            "the device has no ring parameters");
  }

  void channels() {
    const ChannelsRequest &c = p_.channels;
    Channels have = s_.channels.value_or(Channels{});
    numbers(Group::kChannels, "channels.",
            {{"rx", c.rx},
             {"tx", c.tx},
             {"other", c.other},
             {"combined", c.combined}},
            {have.rx, have.tx, have.other, have.combined},
            s_.channels.has_value(), "the device has no channel parameters");
  }

  void coalesce() {
    for (const auto &[name, want] : p_.coalesce) {
      std::string setting = "coalesce." + name;
      if (!s_.coalesce) {
        unsupported(Group::kCoalesce, name, setting, std::to_string(want),
                    "the device has no coalescing parameters");
        continue;
      }
      auto c = s_.coalesce->find(name);
      if (c == s_.coalesce->end()) {
        unsupported(Group::kCoalesce, name, setting, std::to_string(want),
                    "the device does not support " + name);
        continue;
      }
      add(Group::kCoalesce, name, setting, std::to_string(c->second),
          std::to_string(want));
    }
  }

  void rss() {
    if (p_.rss_key) {
      std::string desired = hex_bytes(*p_.rss_key);
      if (!s_.rss || s_.rss->key.empty())
        unsupported(Group::kRss, "key", "rss.key", desired,
                    "the device reports no RSS hash key");
      else if (s_.rss->key.size() != p_.rss_key->size())
        unsupported(
            Group::kRss, "key", "rss.key", desired,
            "the device's key is " + std::to_string(s_.rss->key.size()) +
                " bytes, the profile's " + std::to_string(p_.rss_key->size()));
      else
        add(Group::kRss, "key", "rss.key", hex_bytes(s_.rss->key), desired);
    }
    if (p_.rss_indir || p_.rss_equal) {
      size_t size = s_.rss ? s_.rss->indir.size() : 0;
      std::vector<uint32_t> want =
          p_.rss_indir ? *p_.rss_indir : equal_indir(*p_.rss_equal, size);
      std::string desired = p_.rss_indir
                                ? table_text(want)
                                : "equal " + std::to_string(*p_.rss_equal);
      if (size == 0)
        unsupported(Group::kRss, "indir", "rss.indir", desired,
                    "the device reports no RSS indirection table");
      else if (want.size() != size)
        unsupported(Group::kRss, "indir", "rss.indir", desired,
                    "the device's table has " + std::to_string(size) +
                        " entries, the profile's " +
                        std::to_string(want.size()));
      else
        add(Group::kRss, "indir", "rss.indir", table_text(s_.rss->indir),
            table_text(want));
    }
  }

  void priv_flags() {
    for (const auto &[name, want] : p_.priv_flags) {
      std::string setting = "priv-flags." + name;
      if (!s_.priv_flags) {
        unsupported(Group::kPrivFlags, name, setting, on_off(want),
                    "the device has no private flags");
        continue;
      }
      auto f = s_.priv_flags->find(name);
      if (f == s_.priv_flags->end()) {
        unsupported(Group::kPrivFlags, name, setting, on_off(want),
                    "the device has no private flag " + name);
        continue;
      }
      add(Group::kPrivFlags, name, setting, on_off(f->second), on_off(want));
    }
  }

  const Profile &p_;
  const NicSettings &s_;
  std::vector<Item> out_;
};

std::vector<Item> plan_items(const Profile &p, const NicSettings &s) {
  return Planner(p, s).items();
}

// One setting on its way through apply().
struct Slot {
  Item item;
  SettingResult result;
  bool pending = false;  // to be sent
};

// The calls, one per group, built from the pending slots of that group.
class Applier {
 public:
  Applier(NicControl &nic, const LinkInfo &link, const Profile &p,
          const NicSettings &cur)
      : nic_(nic), link_(link), p_(p), cur_(cur) {
    for (Item &it : plan_items(p, cur)) {
      Slot s;
      s.result.setting = it.setting;
      if (!it.supported) {
        s.result.outcome = Outcome::kNotSupported;
        s.result.message = it.reason;
      } else if (it.equal) {
        s.result.outcome = Outcome::kAlready;
      } else {
        s.pending = true;
      }
      s.item = std::move(it);
      slots_.push_back(std::move(s));
    }
  }

  std::vector<SettingResult> run() {
    const int ifindex = link_.ifindex;
    group(Group::kMtu, false, [&](const std::vector<const Item *> &) {
      return nic_.set_mtu(ifindex, *p_.mtu);
    });
    group(Group::kFeatures, true, [&](const std::vector<const Item *> &its) {
      std::map<std::string, bool> f;
      for (const Item *it : its) f[it->key] = p_.features.at(it->key);
      return nic_.set_features(ifindex, f);
    });
    group(Group::kRings, true, [&](const std::vector<const Item *> &its) {
      RingsRequest r;
      for (const Item *it : its) {
        if (it->key == "rx") r.rx = p_.rings.rx;
        if (it->key == "tx") r.tx = p_.rings.tx;
      }
      return nic_.set_rings(ifindex, r);
    });
    if (rss_before_channels()) rss_group();
    group(Group::kChannels, false, [&](const std::vector<const Item *> &its) {
      ChannelsRequest c;
      for (const Item *it : its) {
        if (it->key == "rx") c.rx = p_.channels.rx;
        if (it->key == "tx") c.tx = p_.channels.tx;
        if (it->key == "other") c.other = p_.channels.other;
        if (it->key == "combined") c.combined = p_.channels.combined;
      }
      return nic_.set_channels(ifindex, c);
    });
    group(Group::kCoalesce, true, [&](const std::vector<const Item *> &its) {
      Coalesce c;
      for (const Item *it : its) c[it->key] = p_.coalesce.at(it->key);
      return nic_.set_coalesce(ifindex, c);
    });
    rss_group();
    group(Group::kPrivFlags, true, [&](const std::vector<const Item *> &its) {
      PrivFlags f;
      for (const Item *it : its) f[it->key] = p_.priv_flags.at(it->key);
      return nic_.set_priv_flags(ifindex, f);
    });
    group(Group::kUp, false, [&](const std::vector<const Item *> &) {
      return nic_.set_admin_up(ifindex, *p_.admin_up);
    });
    verify();
    std::vector<SettingResult> out;
    out.reserve(slots_.size());
    for (Slot &s : slots_) out.push_back(std::move(s.result));
    return out;
  }

 private:
  using Call = std::function<Result<void>(const std::vector<const Item *> &)>;

  void group(Group g, bool splittable, const Call &call) {
    std::vector<Slot *> pending;
    for (Slot &s : slots_)
      if (s.pending && s.item.group == g) pending.push_back(&s);
    if (pending.empty()) return;
    std::vector<const Item *> items;
    items.reserve(pending.size());
    for (Slot *s : pending) items.push_back(&s->item);
    Result<void> r = call(items);
    if (r.has_value() || !splittable || pending.size() == 1) {
      for (Slot *s : pending) finish(*s, r);
      return;
    }
    // Find out which of them the kernel refuses.
    for (Slot *s : pending) finish(*s, call({&s->item}));
  }

  static void finish(Slot &s, const Result<void> &r) {
    s.pending = false;
    if (r.has_value()) {
      s.result.outcome = Outcome::kApplied;
      s.result.message.clear();
    } else {
      s.result.outcome = Outcome::kFailed;
      s.result.message = r.error().message();
    }
  }

  void rss_group() {
    group(Group::kRss, false, [&](const std::vector<const Item *> &its) {
      RssRequest r;
      for (const Item *it : its) {
        if (it->key == "key") r.key = p_.rss_key;
        if (it->key == "indir") r.indir = desired_indir();
      }
      return nic_.set_rss(ifindex(), r);
    });
  }

  [[nodiscard]] int ifindex() const { return link_.ifindex; }

  [[nodiscard]] std::vector<uint32_t> desired_indir() const {
    if (p_.rss_indir) return *p_.rss_indir;
    size_t size = cur_.rss ? cur_.rss->indir.size() : 0;
    return equal_indir(p_.rss_equal.value_or(0), size);
  }

  [[nodiscard]] bool pending(std::string_view setting) const {
    return std::any_of(slots_.begin(), slots_.end(), [&](const Slot &s) {
      return s.pending && s.item.setting == setting;
    });
  }

  // Channels about to shrink below the current table, and a new table
  // that fits the new count: set the table first.
  [[nodiscard]] bool rss_before_channels() const {
    if (!cur_.channels || !cur_.rss || cur_.rss->indir.empty()) return false;
    if (!pending("channels.rx") && !pending("channels.combined")) return false;
    if (!pending("rss.indir")) return false;
    const Channels &c = *cur_.channels;
    uint32_t rx_queues = p_.channels.combined.value_or(c.combined) +
                         p_.channels.rx.value_or(c.rx);
    uint32_t now_max =
        *std::max_element(cur_.rss->indir.begin(), cur_.rss->indir.end());
    if (now_max < rx_queues) return false;
    std::vector<uint32_t> want = desired_indir();
    return !want.empty() &&
           *std::max_element(want.begin(), want.end()) < rx_queues;
  }

  // Read back; whatever does not read as asked is not verified.
  void verify() {
    bool sent = std::any_of(slots_.begin(), slots_.end(), [](const Slot &s) {
      return s.result.outcome == Outcome::kApplied;
    });
    if (!sent) return;
    Result<NicSettings> now = nic_.settings(link_.ifindex);
    if (!now) {
      for (Slot &s : slots_) {
        if (s.result.outcome != Outcome::kApplied) continue;
        s.result.outcome = Outcome::kNotVerified;
        s.result.message =
            "accepted, but reading back failed: " + now.error().message();
      }
      return;
    }
    std::vector<Item> after = plan_items(p_, *now);
    for (Slot &s : slots_) {
      if (s.result.outcome != Outcome::kApplied &&
          s.result.outcome != Outcome::kAlready)
        continue;
      auto it = std::find_if(after.begin(), after.end(), [&](const Item &a) {
        return a.setting == s.item.setting;
      });
      if (it == after.end() || it->equal) continue;
      bool was_applied = s.result.outcome == Outcome::kApplied;
      s.result.outcome = Outcome::kNotVerified;
      s.result.message =
          (was_applied ? "accepted, but reads back " + it->current
                       : "changed by another setting to " + it->current) +
          " (wanted " + it->desired + ")";
    }
  }

  NicControl &nic_;
  const LinkInfo &link_;
  const Profile &p_;
  const NicSettings &cur_;
  std::vector<Slot> slots_;
};

}  // namespace

std::vector<Difference> diff(const Profile &profile,
                             const NicSettings &settings) {
  std::vector<Difference> out;
  for (Item &it : plan_items(profile, settings)) {
    if (it.equal) continue;
    out.push_back(Difference{std::move(it.setting), std::move(it.current),
                             std::move(it.desired), it.supported});
  }
  return out;
}

std::string_view outcome_name(Outcome o) {
  switch (o) {
    case Outcome::kApplied:
      return "applied";
    case Outcome::kAlready:
      return "already";
    case Outcome::kFailed:
      return "failed";
    case Outcome::kNotSupported:
      return "not-supported";
    case Outcome::kNotVerified:
      return "not-verified";
  }
  return "unknown";
}

bool ApplyReport::ok() const { return count(Outcome::kFailed) == 0; }

size_t ApplyReport::changed() const {
  return count(Outcome::kApplied) + count(Outcome::kNotVerified);
}

size_t ApplyReport::count(Outcome o) const {
  return static_cast<size_t>(
      std::count_if(results.begin(), results.end(),
                    [o](const SettingResult &r) { return r.outcome == o; }));
}

const SettingResult *ApplyReport::find(std::string_view setting) const {
  for (const SettingResult &r : results)
    if (r.setting == setting) return &r;
  return nullptr;
}

ApplyReport apply(NicControl &nic, const LinkInfo &link,
                  const Profile &profile) {
  ApplyReport report;
  report.ifname = link.name;
  report.profile = profile.name;
  Result<NicSettings> cur = nic.settings(link.ifindex);
  if (!cur) {
    report.results.push_back(SettingResult{
        "settings", Outcome::kFailed,
        "read settings of " + link.name + ": " + cur.error().message()});
    return report;
  }
  report.results = Applier(nic, link, profile, *cur).run();
  return report;
}

nlohmann::json to_json(const ApplyReport &report) {
  nlohmann::json results = nlohmann::json::array();
  for (const SettingResult &r : report.results)
    results.push_back({{"setting", r.setting},
                       {"outcome", outcome_name(r.outcome)},
                       {"message", r.message}});
  return nlohmann::json{{"ifname", report.ifname},
                        {"profile", report.profile},
                        {"ok", report.ok()},
                        {"changed", report.changed()},
                        {"results", results}};
}

nlohmann::json to_json(const std::vector<Difference> &diffs) {
  nlohmann::json out = nlohmann::json::array();
  for (const Difference &d : diffs)
    out.push_back({{"setting", d.setting},
                   {"current", d.current},
                   {"desired", d.desired},
                   {"supported", d.supported}});
  return out;
}

std::string to_text(const ApplyReport &report) {
  std::string out = report.ifname + ": profile " + report.profile + ": ";
  std::string counts;
  for (Outcome o : {Outcome::kApplied, Outcome::kAlready, Outcome::kFailed,
                    Outcome::kNotSupported, Outcome::kNotVerified}) {
    size_t n = report.count(o);
    if (n == 0) continue;
    if (!counts.empty()) counts += ", ";
    counts += std::to_string(n) + " " + std::string(outcome_name(o));
  }
  out += counts.empty() ? "nothing to do" : counts;
  out += '\n';
  for (const SettingResult &r : report.results) {
    if (r.outcome == Outcome::kAlready) continue;
    out += "  " + r.setting + ": " + std::string(outcome_name(r.outcome));
    if (!r.message.empty()) out += ": " + r.message;
    out += '\n';
  }
  return out;
}

std::string to_text(const std::vector<Difference> &diffs) {
  std::string out;
  for (const Difference &d : diffs) {
    if (d.supported)
      out += d.setting + ": " + d.current + " -> " + d.desired + "\n";
    else
      out += d.setting + ": not supported (wants " + d.desired + ")\n";
  }
  return out;
}

}  // namespace keel
