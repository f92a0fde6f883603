// SPDX-License-Identifier: GPL-2.0
//
// keel::FakeNic: an in-memory NicControl for unit tests, header-only.
//
// It keeps a LinkInfo and a NicSettings per ifindex and changes them the
// way the kernel and a driver would, refusing what they refuse with the
// same errno and an extack-like text ("set rings on eth0: requested ring
// size exceeds maximum"):
//   - set_mtu: outside 68..max_mtu (per interface, default 9702) is EINVAL;
//     keeps LinkInfo::mtu and NicSettings::mtu equal (so do set_admin_up
//     for admin_up).
//   - a group the interface lacks (nullopt in its NicSettings) is
//     EOPNOTSUPP for its setter.
//   - set_features: an unknown name is EINVAL; a feature marked fixed
//     keeps its value (the kernel clamps, the call succeeds); a dependency
//     added with depend(child, parent) turns child off while parent is off.
//   - set_rings: above rx_max/tx_max or 0 is EINVAL; with round_rings(n)
//     the driver rounds sizes up to a multiple of n (reads back different).
//   - set_channels: above a maximum is EINVAL, no rx queue left
//     (combined + rx == 0) is EINVAL, and, like the kernel, a user-set RSS
//     table pointing at a queue beyond the new rx count is EINVAL
//     ("requested channel counts are too low for existing indirection
//     table settings"). A table not set by the user is reset to spread
//     over the new count, as drivers do.
//   - set_coalesce: a name the device does not report is EOPNOTSUPP.
//   - set_rss: a key or table of another size is EINVAL, a table entry
//     beyond the rx queues is EINVAL; a new table marks user_configured.
//   - set_priv_flags: an unknown flag is EINVAL.
// A setter that fails changes nothing.
//
// Failure injection: fail(op, errnum, extack, times) makes the next
// `times` calls of op (kForever: all) fail with Error(errnum, "<what> on
// <ifname>: <extack>") before touching anything; fail_if() does the same
// only for requests a predicate picks. calls(op) counts every call,
// failed or not; history() lists the setters in call order.
//
// Drift: change the state behind the caller's back with update().
//
// Ownership: owns all its state. Threading: like NicControl, one thread
// at a time (the test's); no locking.
#pragma once

#include <algorithm>
#include <cerrno>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "keel/nic.h"

namespace keel {

class FakeNic final : public NicControl {
 public:
  enum class Op {
    kLinks,
    kSettings,
    kMtu,
    kAdminUp,
    kFeatures,
    kRings,
    kChannels,
    kCoalesce,
    kRss,
    kPrivFlags,
    kCounters,
  };
  static constexpr int kForever = -1;

  struct Iface {
    LinkInfo link;
    NicSettings settings;
    unsigned int max_mtu = 9702;
    uint32_t ring_multiple = 1;
    std::vector<Counter> counters;
  };

  // Adds (or replaces) an interface; settings.mtu and admin_up are taken
  // from link.
  void add(const LinkInfo &link, NicSettings settings) {
    settings.mtu = link.mtu;
    settings.admin_up = link.admin_up;
    ifaces_[link.ifindex] = Iface{link, std::move(settings), 9702, 1, {}};
  }
  void remove(int ifindex) { ifaces_.erase(ifindex); }
  [[nodiscard]] bool has(int ifindex) const {
    return ifaces_.count(ifindex) != 0;
  }

  // The state of one interface (it must exist).
  [[nodiscard]] const Iface &iface(int ifindex) const {
    return ifaces_.at(ifindex);
  }
  [[nodiscard]] const NicSettings &state(int ifindex) const {
    return ifaces_.at(ifindex).settings;
  }
  // Change an interface behind the caller's back (another tool, drift).
  void update(int ifindex, const std::function<void(Iface &)> &change) {
    Iface &i = ifaces_.at(ifindex);
    change(i);
    i.link.mtu = i.settings.mtu;
    i.link.admin_up = i.settings.admin_up;
  }
  void set_max_mtu(int ifindex, unsigned int max) {
    ifaces_.at(ifindex).max_mtu = max;
  }
  void round_rings(int ifindex, uint32_t multiple) {
    ifaces_.at(ifindex).ring_multiple = multiple;
  }
  // child reads as off whenever parent is off (tso needs sg).
  void depend(std::string child, std::string parent) {
    deps_.emplace_back(std::move(child), std::move(parent));
  }
  void set_counters(int ifindex, std::vector<Counter> counters) {
    ifaces_.at(ifindex).counters = std::move(counters);
  }

  void fail(Op op, int errnum, std::string extack, int times = kForever) {
    fail_if(
        op, [](const void *) { return true; }, errnum, std::move(extack),
        times);
  }
  // Only requests for which pick(request) is true fail. The request is
  // passed as a pointer to the setter's argument: const RingsRequest *,
  // const std::map<std::string, bool> * (features), const Coalesce *,
  // const ChannelsRequest *, const RssRequest *, const PrivFlags *,
  // const unsigned int * (mtu), const bool * (admin up), nullptr else.
  void fail_if(Op op, std::function<bool(const void *)> pick, int errnum,
               std::string extack, int times = kForever) {
    failures_.push_back(
        Failure{op, std::move(pick), errnum, std::move(extack), times});
  }
  void clear_failures() { failures_.clear(); }

  [[nodiscard]] int calls(Op op) const {
    auto it = calls_.find(op);
    return it == calls_.end() ? 0 : it->second;
  }
  [[nodiscard]] int setter_calls() const {
    int n = 0;
    for (const auto &[op, count] : calls_)
      if (op != Op::kLinks && op != Op::kSettings && op != Op::kCounters)
        n += count;
    return n;
  }
  [[nodiscard]] const std::vector<Op> &history() const { return history_; }
  void reset_counts() {
    calls_.clear();
    history_.clear();
  }

  // NicControl.
  Result<std::vector<LinkInfo>> links() override {
    if (auto e = injected(Op::kLinks, nullptr, "list links", "")) return *e;
    std::vector<LinkInfo> out;
    for (const auto &[ifindex, i] : ifaces_) out.push_back(i.link);
    return out;
  }

  Result<NicSettings> settings(int ifindex) override {
    auto i = find(Op::kSettings, ifindex, nullptr, "get settings");
    if (!i) return i.error();
    return (*i)->settings;
  }

  Result<void> set_mtu(int ifindex, unsigned int mtu) override {
    auto i = find(Op::kMtu, ifindex, &mtu, "set mtu");
    if (!i) return i.error();
    Iface &f = **i;
    if (mtu < 68)
      return refuse(EINVAL, "set mtu", f, "mtu less than device minimum");
    if (mtu > f.max_mtu)
      return refuse(EINVAL, "set mtu", f, "mtu greater than device maximum");
    f.settings.mtu = f.link.mtu = mtu;
    return {};
  }

  Result<void> set_admin_up(int ifindex, bool up) override {
    auto i = find(Op::kAdminUp, ifindex, &up, "set admin state");
    if (!i) return i.error();
    Iface &f = **i;
    f.settings.admin_up = f.link.admin_up = up;
    f.link.oper_state = up ? "up" : "down";
    return {};
  }

  Result<void> set_features(int ifindex,
                            const std::map<std::string, bool> &req) override {
    auto i = find(Op::kFeatures, ifindex, &req, "set features");
    if (!i) return i.error();
    Iface &f = **i;
    if (!f.settings.features)
      return refuse(EOPNOTSUPP, "set features", f, "no features");
    Features &feats = *f.settings.features;
    for (const auto &[name, on] : req)
      if (feats.count(name) == 0)
        return refuse(EINVAL, "set features", f, "unknown feature " + name);
    for (const auto &[name, on] : req) {
      Feature &feat = feats[name];
      if (!feat.fixed) feat.active = on;
    }
    for (const auto &[child, parent] : deps_) {
      auto c = feats.find(child);
      auto p = feats.find(parent);
      if (c != feats.end() && p != feats.end() && !p->second.active &&
          !c->second.fixed)
        c->second.active = false;
    }
    return {};
  }

  Result<void> set_rings(int ifindex, const RingsRequest &req) override {
    auto i = find(Op::kRings, ifindex, &req, "set rings");
    if (!i) return i.error();
    Iface &f = **i;
    if (!f.settings.rings)
      return refuse(EOPNOTSUPP, "set rings", f, "no ring parameters");
    Rings r = *f.settings.rings;
    if ((req.rx && *req.rx > r.rx_max) || (req.tx && *req.tx > r.tx_max))
      return refuse(EINVAL, "set rings", f,
                    "requested ring size exceeds maximum");
    if ((req.rx && *req.rx == 0) || (req.tx && *req.tx == 0))
      return refuse(EINVAL, "set rings", f, "ring size must not be 0");
    auto round = [&](uint32_t v) {
      uint32_t m = f.ring_multiple;
      return (v + m - 1) / m * m;
    };
    if (req.rx) r.rx = std::min(round(*req.rx), r.rx_max);
    if (req.tx) r.tx = std::min(round(*req.tx), r.tx_max);
    f.settings.rings = r;
    return {};
  }

  Result<void> set_channels(int ifindex, const ChannelsRequest &req) override {
    auto i = find(Op::kChannels, ifindex, &req, "set channels");
    if (!i) return i.error();
    Iface &f = **i;
    if (!f.settings.channels)
      return refuse(EOPNOTSUPP, "set channels", f, "no channel parameters");
    Channels c = *f.settings.channels;
    if ((req.rx && *req.rx > c.rx_max) || (req.tx && *req.tx > c.tx_max) ||
        (req.other && *req.other > c.other_max) ||
        (req.combined && *req.combined > c.combined_max))
      return refuse(EINVAL, "set channels", f,
                    "requested channel count exceeds maximum");
    c.rx = req.rx.value_or(c.rx);
    c.tx = req.tx.value_or(c.tx);
    c.other = req.other.value_or(c.other);
    c.combined = req.combined.value_or(c.combined);
    uint32_t rx_queues = c.rx + c.combined;
    if (rx_queues == 0 || c.tx + c.combined == 0)
      return refuse(EINVAL, "set channels", f,
                    "requested channel counts are too low");
    if (f.settings.rss && !f.settings.rss->indir.empty()) {
      Rss &rss = *f.settings.rss;
      uint32_t top = *std::max_element(rss.indir.begin(), rss.indir.end());
      if (rss.user_configured && top >= rx_queues)
        return refuse(EINVAL, "set channels", f,
                      "requested channel counts are too low for existing "
                      "indirection table settings");
      if (!rss.user_configured)
        for (size_t k = 0; k < rss.indir.size(); ++k)
          rss.indir[k] = static_cast<uint32_t>(k % rx_queues);
    }
    f.settings.channels = c;
    return {};
  }

  Result<void> set_coalesce(int ifindex, const Coalesce &req) override {
    auto i = find(Op::kCoalesce, ifindex, &req, "set coalesce");
    if (!i) return i.error();
    Iface &f = **i;
    if (!f.settings.coalesce)
      return refuse(EOPNOTSUPP, "set coalesce", f, "no coalescing parameters");
    for (const auto &[name, v] : req)
      if (f.settings.coalesce->count(name) == 0)
        return refuse(EOPNOTSUPP, "set coalesce", f,
                      "unsupported parameter " + name);
    for (const auto &[name, v] : req) (*f.settings.coalesce)[name] = v;
    return {};
  }

  Result<void> set_rss(int ifindex, const RssRequest &req) override {
    auto i = find(Op::kRss, ifindex, &req, "set rss");
    if (!i) return i.error();
    Iface &f = **i;
    if (!f.settings.rss) return refuse(EOPNOTSUPP, "set rss", f, "no RSS");
    Rss &rss = *f.settings.rss;
    if (req.key && req.key->size() != rss.key.size())
      return refuse(EINVAL, "set rss", f, "hash key size mismatch");
    if (req.indir) {
      if (req.indir->size() != rss.indir.size())
        return refuse(EINVAL, "set rss", f, "indirection table size mismatch");
      uint32_t rx_queues = 0;
      if (f.settings.channels)
        rx_queues = f.settings.channels->rx + f.settings.channels->combined;
      for (uint32_t q : *req.indir)
        if (f.settings.channels && q >= rx_queues)
          return refuse(EINVAL, "set rss", f,
                        "indirection table entry beyond the rx queues");
    }
    if (req.key) rss.key = *req.key;
    if (req.indir) {
      rss.indir = *req.indir;
      rss.user_configured = true;
    }
    return {};
  }

  Result<void> set_priv_flags(int ifindex, const PrivFlags &req) override {
    auto i = find(Op::kPrivFlags, ifindex, &req, "set private flags");
    if (!i) return i.error();
    Iface &f = **i;
    if (!f.settings.priv_flags)
      return refuse(EOPNOTSUPP, "set private flags", f, "no private flags");
    for (const auto &[name, on] : req)
      if (f.settings.priv_flags->count(name) == 0)
        return refuse(EINVAL, "set private flags", f,
                      "unknown private flag " + name);
    for (const auto &[name, on] : req) (*f.settings.priv_flags)[name] = on;
    return {};
  }

  Result<std::vector<IfaceCounters>> counters() override {
    if (auto e = injected(Op::kCounters, nullptr, "read counters", ""))
      return *e;
    std::vector<IfaceCounters> out;
    for (const auto &[ifindex, i] : ifaces_)
      out.push_back(IfaceCounters{i.link, i.counters});
    return out;
  }

 private:
  struct Failure {
    Op op;
    std::function<bool(const void *)> pick;
    int errnum;
    std::string extack;
    int times;
  };

  // Counts the call and returns the injected error, if any.
  std::optional<Error> injected(Op op, const void *req, const std::string &what,
                                const std::string &ifname) {
    ++calls_[op];
    if (op != Op::kLinks && op != Op::kSettings && op != Op::kCounters)
      history_.push_back(op);
    for (Failure &f : failures_) {
      if (f.op != op || f.times == 0 || !f.pick(req)) continue;
      if (f.times > 0) --f.times;
      std::string where = ifname.empty() ? what : what + " on " + ifname;
      return Error(f.errnum, where + ": " + f.extack);
    }
    return std::nullopt;
  }

  Result<Iface *> find(Op op, int ifindex, const void *req,
                       const std::string &what) {
    auto it = ifaces_.find(ifindex);
    std::string name = it == ifaces_.end()
                           ? "ifindex " + std::to_string(ifindex)
                           : it->second.link.name;
    if (auto e = injected(op, req, what, name)) return *e;
    if (it == ifaces_.end())
      return Error(ENODEV, what + " on " + name + ": no such device");
    return &it->second;
  }

  static Error refuse(int errnum, const std::string &what, const Iface &f,
                      const std::string &extack) {
    return Error(errnum, what + " on " + f.link.name + ": " + extack);
  }

  std::map<int, Iface> ifaces_;
  std::vector<std::pair<std::string, std::string>> deps_;
  std::vector<Failure> failures_;
  std::map<Op, int> calls_;
  std::vector<Op> history_;
};

}  // namespace keel
