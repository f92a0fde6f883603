// SPDX-License-Identifier: GPL-2.0
//
// Reading keeld's TOML profiles (see keel/profile.h for the format) and
// matching them to interfaces. toml++ is compiled here header-only with
// TOML_EXCEPTIONS=0 (set by CMake for this file's library), so parse
// errors come back as values and nothing throws out of this file.
//
// Threading: pure functions.
#include "keel/profile.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <fnmatch.h>
#include <limits>
#include <optional>
#include <toml++/toml.h>

namespace keel {

const std::vector<std::pair<std::string_view, std::vector<std::string_view>>>
    &feature_aliases() {
  static const std::vector<
      std::pair<std::string_view, std::vector<std::string_view>>>
      aliases = {
          {"rx", {"rx-checksum"}},
          {"tx",
           {"tx-checksum-ipv4", "tx-checksum-ip-generic", "tx-checksum-ipv6",
            "tx-checksum-fcoe-crc", "tx-checksum-sctp"}},
          {"sg", {"tx-scatter-gather", "tx-scatter-gather-fraglist"}},
          {"tso",
           {"tx-tcp-segmentation", "tx-tcp-ecn-segmentation",
            "tx-tcp-mangleid-segmentation", "tx-tcp6-segmentation"}},
          {"gso", {"tx-generic-segmentation"}},
          {"gro", {"rx-gro"}},
          {"lro", {"rx-lro"}},
          {"rxvlan", {"rx-vlan-hw-parse"}},
          {"txvlan", {"tx-vlan-hw-insert"}},
          {"rxhash", {"rx-hashing"}},
          {"ntuple", {"rx-ntuple-filter"}},
      };
  return aliases;
}

const std::vector<CoalesceParam> &coalesce_params() {
  static const std::vector<CoalesceParam> params = {
      {"rx-usecs", false},           {"rx-max-frames", false},
      {"rx-usecs-irq", false},       {"rx-max-frames-irq", false},
      {"tx-usecs", false},           {"tx-max-frames", false},
      {"tx-usecs-irq", false},       {"tx-max-frames-irq", false},
      {"stats-block-usecs", false},  {"use-adaptive-rx", true},
      {"use-adaptive-tx", true},     {"pkt-rate-low", false},
      {"rx-usecs-low", false},       {"rx-max-frames-low", false},
      {"tx-usecs-low", false},       {"tx-max-frames-low", false},
      {"pkt-rate-high", false},      {"rx-usecs-high", false},
      {"rx-max-frames-high", false}, {"tx-usecs-high", false},
      {"tx-max-frames-high", false}, {"rate-sample-interval", false},
      {"use-cqe-mode-tx", true},     {"use-cqe-mode-rx", true},
      {"tx-aggr-max-bytes", false},  {"tx-aggr-max-frames", false},
      {"tx-aggr-time-usecs", false},
  };
  return params;
}

namespace {

constexpr int64_t kMtuMin = 68;
constexpr int64_t kMtuMax = 65535;
constexpr int64_t kRingMax = 65536;
constexpr int64_t kChannelMax = 4096;
constexpr int64_t kIndirMax = 65536;  // entries in a table
constexpr int64_t kQueueMax = 4096;   // a queue index in a table, and equal
constexpr size_t kRssKeyMax = 256;

std::string type_name(toml::node_type t) {
  switch (t) {
    case toml::node_type::table:
      return "a table";
    case toml::node_type::array:
      return "an array";
    case toml::node_type::string:
      return "a string";
    case toml::node_type::integer:
      return "an integer";
    case toml::node_type::floating_point:
      return "a float";
    case toml::node_type::boolean:
      return "a boolean";
    case toml::node_type::date:
    case toml::node_type::time:
    case toml::node_type::date_time:
      return "a date/time";
    case toml::node_type::none:
      break;
  }
  return "nothing";
}

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) {
    return static_cast<char>(std::tolower(c));
  });
  return out;
}

bool is_hex(char c) {
  return std::isxdigit(static_cast<unsigned char>(c)) != 0;
}

// "aa:bb:..." with exactly two hex digits per byte; nullopt if malformed.
std::optional<std::vector<uint8_t>> parse_hex_bytes(std::string_view s) {
  std::vector<uint8_t> out;
  size_t i = 0;
  while (true) {
    if (i + 2 > s.size() || !is_hex(s[i]) || !is_hex(s[i + 1]))
      return std::nullopt;
    unsigned int v = 0;
    std::from_chars(s.data() + i, s.data() + i + 2, v, 16);
    out.push_back(static_cast<uint8_t>(v));
    i += 2;
    if (i == s.size()) return out;
    if (s[i] != ':') return std::nullopt;
    ++i;
  }
}

std::optional<std::string> parse_mac(std::string_view s) {
  auto bytes = parse_hex_bytes(s);
  if (!bytes || bytes->size() != 6) return std::nullopt;
  return lower(s);
}

// "dddd:bb:dd.f" or "bb:dd.f"; returns the long form in lower case.
std::optional<std::string> parse_pci(std::string_view s) {
  std::string full = s.size() == 7 ? "0000:" + std::string(s) : std::string(s);
  if (full.size() != 12) return std::nullopt;
  for (size_t i = 0; i < full.size(); ++i) {
    char c = full[i];
    bool ok = false;
    if (i == 4 || i == 7)
      ok = c == ':';
    else if (i == 10)
      ok = c == '.';
    else if (i == 11)
      ok = c >= '0' && c <= '7';
    else
      ok = is_hex(c);
    if (!ok) return std::nullopt;
  }
  return lower(full);
}

bool valid_feature_name(std::string_view s) {
  if (s.empty()) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_';
  });
}

const std::vector<std::string_view> *feature_alias(std::string_view name) {
  for (const auto &[alias, strings] : feature_aliases())
    if (alias == name) return &strings;
  return nullptr;
}

const CoalesceParam *coalesce_param(std::string_view name) {
  for (const CoalesceParam &p : coalesce_params())
    if (p.name == name) return &p;
  return nullptr;
}

// One key of a table with its node, in document order.
struct Entry {
  std::string key;
  toml::source_region key_at;
  const toml::node *node;  // borrowed from the parsed table
};

std::vector<Entry> entries(const toml::table &t) {
  std::vector<Entry> out;
  for (auto &&[k, v] : t)
    out.push_back(Entry{std::string(k.str()), k.source(), &v});
  std::stable_sort(out.begin(), out.end(), [](const Entry &a, const Entry &b) {
    if (a.key_at.begin.line != b.key_at.begin.line)
      return a.key_at.begin.line < b.key_at.begin.line;
    return a.key_at.begin.column < b.key_at.begin.column;
  });
  return out;
}

// A profile and where its name was given (for duplicate names).
struct Parsed {
  Profile profile;
  std::string name_at;  // "file:line:col"
};

class Parser {
 public:
  explicit Parser(std::string source) : source_(std::move(source)) {}

  Result<std::vector<Parsed>> document(const toml::table &root) const {
    std::vector<Parsed> out;
    for (const Entry &e : entries(root)) {
      if (e.key != "profile")
        return error(e.key_at, "unknown top-level key '" + e.key +
                                   "'; profiles are [[profile]] tables");
      const toml::array *list = e.node->as_array();
      if (list == nullptr)
        return error(e.node->source(),
                     "'profile' must be [[profile]] tables, not " +
                         type_name(e.node->type()));
      for (const toml::node &n : *list) {
        const toml::table *t = n.as_table();
        if (t == nullptr)
          return error(n.source(),
                       "a profile must be a table, not " + type_name(n.type()));
        auto p = profile(*t);
        if (!p) return p.error();
        for (const Parsed &prev : out)
          if (prev.profile.name == p->profile.name)
            return Error(EINVAL, p->name_at + ": profile '" + p->profile.name +
                                     "' is already defined at " + prev.name_at);
        out.push_back(std::move(*p));
      }
    }
    return out;
  }

 private:
  [[nodiscard]] std::string place(const toml::source_region &r) const {
    return source_ + ":" + std::to_string(r.begin.line) + ":" +
           std::to_string(r.begin.column);
  }

  [[nodiscard]] Error error(const toml::source_region &r,
                            const std::string &msg) const {
    return Error(EINVAL, place(r) + ": " + msg);
  }

  [[nodiscard]] Error unknown(const Entry &e, std::string_view table,
                              std::string_view expected) const {
    return error(e.key_at, "unknown key '" + e.key + "' in [" +
                               std::string(table) + "] (expected " +
                               std::string(expected) + ")");
  }

  [[nodiscard]] Result<int64_t> integer(const Entry &e, int64_t lo,
                                        int64_t hi) const {
    const auto *v = e.node->as_integer();
    if (v == nullptr)
      return error(e.node->source(), e.key + " must be an integer, not " +
                                         type_name(e.node->type()));
    int64_t x = v->get();
    if (x < lo || x > hi)
      return error(e.node->source(), e.key + " must be " + std::to_string(lo) +
                                         ".." + std::to_string(hi) + ", not " +
                                         std::to_string(x));
    return x;
  }

  [[nodiscard]] Result<bool> boolean(const Entry &e) const {
    const auto *v = e.node->as_boolean();
    if (v == nullptr)
      return error(e.node->source(), e.key + " must be true or false, not " +
                                         type_name(e.node->type()));
    return v->get();
  }

  [[nodiscard]] Result<std::string> string(const Entry &e) const {
    const auto *v = e.node->as_string();
    if (v == nullptr)
      return error(e.node->source(), e.key + " must be a string, not " +
                                         type_name(e.node->type()));
    return v->get();
  }

  [[nodiscard]] Result<const toml::table *> table(const Entry &e) const {
    const toml::table *t = e.node->as_table();
    if (t == nullptr)
      return error(e.node->source(), e.key + " must be a table, not " +
                                         type_name(e.node->type()));
    return t;
  }

  // A string or a non-empty list of strings, each checked by check
  // (which returns the normalised form or nullopt).
  template <typename Check>
  [[nodiscard]] Result<std::vector<std::string>> strings(
      const Entry &e, const std::string &what, Check check) const {
    std::vector<std::string> out;
    auto one = [&](const toml::node &n) -> Result<void> {
      const auto *s = n.as_string();
      if (s == nullptr)
        return error(n.source(), e.key +
                                     " must be a string or a list of "
                                     "strings, not " +
                                     type_name(n.type()));
      std::optional<std::string> v = check(s->get());
      if (!v) return error(n.source(), "'" + s->get() + "' is not " + what);
      out.push_back(std::move(*v));
      return {};
    };
    if (const toml::array *list = e.node->as_array()) {
      if (list->empty())
        return error(e.node->source(), e.key + " is an empty list");
      for (const toml::node &n : *list)
        if (auto r = one(n); !r) return r.error();
    } else if (auto r = one(*e.node); !r) {
      return r.error();
    }
    return out;
  }

  Result<Parsed> profile(const toml::table &t) const {
    Parsed out;
    Profile &p = out.profile;
    p.source = source_ + ":" + std::to_string(t.source().begin.line);
    bool has_match = false;
    for (const Entry &e : entries(t)) {
      Result<void> r;
      if (e.key == "name") {
        auto s = string(e);
        if (!s) return s.error();
        if (s->empty()) return error(e.node->source(), "name is empty");
        p.name = *s;
        out.name_at = place(e.node->source());
      } else if (e.key == "correct_drift") {
        auto b = boolean(e);
        if (!b) return b.error();
        p.correct_drift = *b;
      } else if (e.key == "match") {
        has_match = true;
        r = match(e, p);
      } else if (e.key == "link") {
        r = link(e, p);
      } else if (e.key == "features") {
        r = features(e, p);
      } else if (e.key == "rings") {
        r = rings(e, p);
      } else if (e.key == "channels") {
        r = channels(e, p);
      } else if (e.key == "coalesce") {
        r = coalesce(e, p);
      } else if (e.key == "rss") {
        r = rss(e, p);
      } else if (e.key == "priv-flags") {
        r = priv_flags(e, p);
      } else {
        return unknown(e, "[profile]",
                       "name, correct_drift, match, link, features, rings, "
                       "channels, coalesce, rss, priv-flags");
      }
      if (!r) return r.error();
    }
    if (p.name.empty()) return error(t.source(), "profile has no name");
    if (!has_match)
      return error(t.source(), "profile '" + p.name +
                                   "' has no [profile.match]; it would match "
                                   "every interface");
    return out;
  }

  Result<void> match(const Entry &m, Profile &p) const {
    auto t = table(m);
    if (!t) return t.error();
    auto any = [](std::string_view s) -> std::optional<std::string> {
      if (s.empty()) return std::nullopt;
      return std::string(s);
    };
    for (const Entry &e : entries(**t)) {
      Result<std::vector<std::string>> v = std::vector<std::string>{};
      if (e.key == "name")
        v = strings(e, "an interface name glob", any);
      else if (e.key == "driver")
        v = strings(e, "a driver name", any);
      else if (e.key == "pci")
        v = strings(e, "a PCI address (\"0000:01:00.0\")", parse_pci);
      else if (e.key == "mac")
        v = strings(e, "a MAC address (\"52:54:00:12:34:56\")", parse_mac);
      else
        return unknown(e, "profile.match", "name, driver, pci, mac");
      if (!v) return v.error();
      if (e.key == "name") p.match.names = std::move(*v);
      if (e.key == "driver") p.match.drivers = std::move(*v);
      if (e.key == "pci") p.match.pci = std::move(*v);
      if (e.key == "mac") p.match.macs = std::move(*v);
    }
    if (p.match.empty())
      return error(m.node->source(),
                   "[profile.match] matches on nothing; give name, driver, "
                   "pci or mac");
    return {};
  }

  Result<void> link(const Entry &l, Profile &p) const {
    auto t = table(l);
    if (!t) return t.error();
    for (const Entry &e : entries(**t)) {
      if (e.key == "mtu") {
        auto v = integer(e, kMtuMin, kMtuMax);
        if (!v) return v.error();
        p.mtu = static_cast<unsigned int>(*v);
      } else if (e.key == "up") {
        auto v = boolean(e);
        if (!v) return v.error();
        p.admin_up = *v;
      } else {
        return unknown(e, "profile.link", "mtu, up");
      }
    }
    return {};
  }

  Result<void> features(const Entry &f, Profile &p) const {
    auto t = table(f);
    if (!t) return t.error();
    std::map<std::string, std::string> given;  // kernel string -> place
    for (const Entry &e : entries(**t)) {
      auto v = boolean(e);
      if (!v) return v.error();
      std::vector<std::string> names;
      const auto *alias = feature_alias(e.key);
      if (alias != nullptr)
        names.assign(alias->begin(), alias->end());
      else if (valid_feature_name(e.key))
        names.push_back(e.key);
      else
        return error(e.key_at, "'" + e.key +
                                   "' is not a feature name (kernel feature "
                                   "strings are lower case: \"rx-checksum\")");
      for (const std::string &n : names) {
        if (auto it = given.find(n); it != given.end())
          return error(e.key_at, "feature " + n + " (from '" + e.key +
                                     "') is already set at " + it->second);
        given[n] = place(e.key_at);
        p.features[n] = *v;
        if (alias != nullptr && alias->size() > 1)
          p.optional_features.insert(n);
      }
    }
    return {};
  }

  Result<void> rings(const Entry &r, Profile &p) const {
    auto t = table(r);
    if (!t) return t.error();
    for (const Entry &e : entries(**t)) {
      std::optional<uint32_t> *slot = nullptr;
      if (e.key == "rx")
        slot = &p.rings.rx;
      else if (e.key == "tx")
        slot = &p.rings.tx;
      else
        return unknown(e, "profile.rings", "rx, tx");
      auto v = integer(e, 1, kRingMax);
      if (!v) return v.error();
      *slot = static_cast<uint32_t>(*v);
    }
    return {};
  }

  Result<void> channels(const Entry &c, Profile &p) const {
    auto t = table(c);
    if (!t) return t.error();
    for (const Entry &e : entries(**t)) {
      std::optional<uint32_t> *slot = nullptr;
      if (e.key == "rx")
        slot = &p.channels.rx;
      else if (e.key == "tx")
        slot = &p.channels.tx;
      else if (e.key == "other")
        slot = &p.channels.other;
      else if (e.key == "combined")
        slot = &p.channels.combined;
      else
        return unknown(e, "profile.channels", "rx, tx, other, combined");
      auto v = integer(e, 0, kChannelMax);
      if (!v) return v.error();
      *slot = static_cast<uint32_t>(*v);
    }
    return {};
  }

  Result<void> coalesce(const Entry &c, Profile &p) const {
    auto t = table(c);
    if (!t) return t.error();
    for (const Entry &e : entries(**t)) {
      const CoalesceParam *param = coalesce_param(e.key);
      if (param == nullptr)
        return unknown(e, "profile.coalesce",
                       "ethtool coalescing names such as rx-usecs, "
                       "tx-max-frames, use-adaptive-rx");
      if (param->boolean) {
        auto v = boolean(e);
        if (!v) return v.error();
        p.coalesce[e.key] = *v ? 1 : 0;
      } else {
        auto v = integer(e, 0, std::numeric_limits<uint32_t>::max());
        if (!v) return v.error();
        p.coalesce[e.key] = static_cast<uint32_t>(*v);
      }
    }
    return {};
  }

  Result<void> rss(const Entry &r, Profile &p) const {
    auto t = table(r);
    if (!t) return t.error();
    for (const Entry &e : entries(**t)) {
      if (e.key == "key") {
        auto s = string(e);
        if (!s) return s.error();
        auto bytes = parse_hex_bytes(*s);
        if (!bytes || bytes->size() > kRssKeyMax)
          return error(e.node->source(),
                       "rss key must be 1.." + std::to_string(kRssKeyMax) +
                           " hex bytes separated by ':' (\"6d:5a:56:da\")");
        p.rss_key = std::move(*bytes);
      } else if (e.key == "equal" || e.key == "indir") {
        if (p.rss_equal || p.rss_indir)
          return error(e.key_at, "rss: give equal or indir, not both");
        if (e.key == "equal") {
          auto v = integer(e, 1, kQueueMax);
          if (!v) return v.error();
          p.rss_equal = static_cast<uint32_t>(*v);
          continue;
        }
        const toml::array *list = e.node->as_array();
        if (list == nullptr)
          return error(e.node->source(),
                       "indir must be a list of queue numbers, not " +
                           type_name(e.node->type()));
        if (list->empty() || list->size() > static_cast<size_t>(kIndirMax))
          return error(
              e.node->source(),
              "indir must have 1.." + std::to_string(kIndirMax) + " entries");
        std::vector<uint32_t> table;
        for (const toml::node &n : *list) {
          auto v =
              integer(Entry{"an indir entry", e.key_at, &n}, 0, kQueueMax - 1);
          if (!v) return v.error();
          table.push_back(static_cast<uint32_t>(*v));
        }
        p.rss_indir = std::move(table);
      } else {
        return unknown(e, "profile.rss", "key, equal, indir");
      }
    }
    return {};
  }

  Result<void> priv_flags(const Entry &f, Profile &p) const {
    auto t = table(f);
    if (!t) return t.error();
    for (const Entry &e : entries(**t)) {
      if (e.key.empty()) return error(e.key_at, "empty private flag name");
      auto v = boolean(e);
      if (!v) return v.error();
      p.priv_flags[e.key] = *v;
    }
    return {};
  }

  std::string source_;
};

// toml++ 3.3 (Debian 12's) classifies some code points as whitespace or
// not by reaching __builtin_unreachable(): undefined behaviour for U+00A1
// to U+0499, U+2D6E to U+3167 (but U+3000) and U+FAF6 to U+FEFE where
// whitespace may stand (marzer/tomlplusplus issues 190 and 295, fixed
// upstream by its pull request 305).
// profile_fuzz found it; a client could send such a text with apply or
// diff. Until a fixed toml++, those code points are refused anywhere in
// a profile, with their place. Only well-formed UTF-8 is decoded here;
// toml++ refuses the rest itself.
std::optional<Error> unsafe_code_point(std::string_view text,
                                       const std::string &source) {
  size_t line = 1;
  size_t column = 1;
  for (size_t i = 0; i < text.size(); ++i) {
    const auto b = static_cast<uint8_t>(text[i]);
    if (b == '\n') {
      ++line;
      column = 1;
      continue;
    }
    if ((b & 0xC0) == 0x80) continue;  // a continuation byte
    uint32_t cp = b;
    auto cont = [&](size_t k) {
      return i + k < text.size() &&
             (static_cast<uint8_t>(text[i + k]) & 0xC0) == 0x80;
    };
    auto low6 = [&](size_t k) {
      return static_cast<uint32_t>(static_cast<uint8_t>(text[i + k]) & 0x3F);
    };
    if ((b & 0xE0) == 0xC0 && cont(1))
      cp = (uint32_t{b} & 0x1F) << 6 | low6(1);
    else if ((b & 0xF0) == 0xE0 && cont(1) && cont(2))
      cp = (uint32_t{b} & 0x0F) << 12 | low6(1) << 6 | low6(2);
    if ((cp >= 0xA1 && cp <= 0x499) ||
        (cp >= 0x2D6E && cp <= 0x3167 && cp != 0x3000) ||
        (cp >= 0xFAF6 && cp <= 0xFEFE)) {
      std::array<char, 16> hex{};
      std::snprintf(hex.data(), hex.size(), "U+%04X", cp);
      return Error(EINVAL, source + ":" + std::to_string(line) + ":" +
                               std::to_string(column) + ": character " +
                               hex.data() +
                               " is not supported in profiles (toml++ 3.3 "
                               "cannot parse it safely)");
    }
    ++column;
  }
  return std::nullopt;
}

Result<std::vector<Parsed>> parse_internal(std::string_view text,
                                           const std::string &source) {
  if (auto bad = unsafe_code_point(text, source)) return *bad;
  const std::string_view path = source;
  toml::parse_result res = toml::parse(text, path);
  if (!res) {
    const toml::parse_error &err = res.error();
    return Error(EINVAL, source + ":" +
                             std::to_string(err.source().begin.line) + ":" +
                             std::to_string(err.source().begin.column) + ": " +
                             std::string(err.description()));
  }
  return Parser(source).document(res.table());
}

std::vector<Profile> strip(std::vector<Parsed> &&parsed) {
  std::vector<Profile> out;
  out.reserve(parsed.size());
  for (Parsed &p : parsed) out.push_back(std::move(p.profile));
  return out;
}

Result<std::vector<Parsed>> load_file_internal(const std::string &path) {
  auto text = read_regular_file(path, kMaxProfileFile);
  if (!text) return text.error();
  return parse_internal(*text, path);
}

}  // namespace

Result<std::vector<Profile>> parse_profiles(std::string_view text,
                                            const std::string &source) {
  auto parsed = parse_internal(text, source);
  if (!parsed) return parsed.error();
  return strip(std::move(*parsed));
}

Result<std::vector<Profile>> load_profile_file(const std::string &path) {
  auto parsed = load_file_internal(path);
  if (!parsed) return parsed.error();
  return strip(std::move(*parsed));
}

Result<std::vector<Profile>> parse_profile_sources(
    const std::vector<ProfileSource> &sources) {
  std::vector<Parsed> all;
  for (const ProfileSource &source : sources) {
    auto parsed = parse_internal(source.text, source.name);
    if (!parsed) return parsed.error();
    for (Parsed &p : *parsed) {
      for (const Parsed &prev : all)
        if (prev.profile.name == p.profile.name)
          return Error(EINVAL, p.name_at + ": profile '" + p.profile.name +
                                   "' is already defined at " + prev.name_at);
      all.push_back(std::move(p));
    }
  }
  return strip(std::move(all));
}

Result<std::vector<Profile>> load_profile_dir(const std::string &dir) {
  auto sources = read_profile_dir(dir, kMaxProfileFile);
  if (!sources) return sources.error();
  return parse_profile_sources(*sources);
}

bool matches(const Profile &profile, const LinkInfo &link) {
  const Match &m = profile.match;
  if (m.empty()) return false;
  auto any = [](const std::vector<std::string> &list, auto pred) {
    return list.empty() || std::any_of(list.begin(), list.end(), pred);
  };
  return any(m.names,
             [&](const std::string &glob) {
               return fnmatch(glob.c_str(), link.name.c_str(), 0) == 0;
             }) &&
         any(m.drivers,
             [&](const std::string &d) { return d == link.driver; }) &&
         any(m.pci,
             [&](const std::string &a) { return a == lower(link.bus_info); }) &&
         any(m.macs,
             [&](const std::string &a) { return a == lower(link.mac); });
}

const Profile *first_match(const std::vector<Profile> &profiles,
                           const LinkInfo &link) {
  for (const Profile &p : profiles)
    if (matches(p, link)) return &p;
  return nullptr;
}

std::vector<uint32_t> equal_indir(uint32_t n, size_t size) {
  std::vector<uint32_t> out(size, 0);
  if (n == 0) return out;
  for (size_t i = 0; i < size; ++i) out[i] = static_cast<uint32_t>(i % n);
  return out;
}

}  // namespace keel
