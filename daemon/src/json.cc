// SPDX-License-Identifier: GPL-2.0
#include "keel/json.h"

#include <array>
#include <cstdio>

namespace keel {

using nlohmann::json;

json to_json(const LinkInfo &link) {
  return json{{"ifindex", link.ifindex},   {"name", link.name},
              {"driver", link.driver},     {"bus_info", link.bus_info},
              {"mac", link.mac},           {"mtu", link.mtu},
              {"admin_up", link.admin_up}, {"oper_state", link.oper_state}};
}

namespace {

std::string hex_key(const std::vector<uint8_t> &key) {
  std::string out;
  for (uint8_t b : key) {
    std::array<char, 4> buf{};
    std::snprintf(buf.data(), buf.size(), "%s%02x", out.empty() ? "" : ":", b);
    out += buf.data();
  }
  return out;
}

}  // namespace

json to_json(const NicSettings &s) {
  json j{{"mtu", s.mtu}, {"admin_up", s.admin_up}};
  j["features"] = nullptr;
  if (s.features) {
    json f = json::object();
    for (const auto &[name, feat] : *s.features)
      f[name] = {{"active", feat.active}, {"fixed", feat.fixed}};
    j["features"] = f;
  }
  j["rings"] = nullptr;
  if (s.rings)
    j["rings"] = {{"rx", s.rings->rx},
                  {"tx", s.rings->tx},
                  {"rx_max", s.rings->rx_max},
                  {"tx_max", s.rings->tx_max}};
  j["channels"] = nullptr;
  if (s.channels) {
    const Channels &c = *s.channels;
    j["channels"] = {{"rx", c.rx},
                     {"tx", c.tx},
                     {"other", c.other},
                     {"combined", c.combined},
                     {"rx_max", c.rx_max},
                     {"tx_max", c.tx_max},
                     {"other_max", c.other_max},
                     {"combined_max", c.combined_max}};
  }
  j["coalesce"] = nullptr;
  if (s.coalesce) j["coalesce"] = *s.coalesce;
  j["rss"] = nullptr;
  if (s.rss)
    j["rss"] = {{"hfunc", s.rss->hfunc},
                {"key", hex_key(s.rss->key)},
                {"indir", s.rss->indir}};
  j["private_flags"] = nullptr;
  if (s.priv_flags) j["private_flags"] = *s.priv_flags;
  return j;
}

namespace {

template <typename T>
json opt(const std::optional<T> &v) {
  return v ? json(*v) : json(nullptr);
}

}  // namespace

json to_json(const NetdevObjects &objs) {
  json queues = json::array();
  for (const QueueInfo &q : objs.queues)
    queues.push_back(
        {{"id", q.id}, {"type", q.type}, {"napi_id", opt(q.napi_id)}});
  json napis = json::array();
  for (const NapiInfo &n : objs.napis)
    napis.push_back({{"id", n.id}, {"irq", opt(n.irq)}, {"pid", opt(n.pid)}});
  json pools = json::array();
  for (const PagePoolInfo &p : objs.page_pools)
    pools.push_back({{"id", p.id},
                     {"napi_id", opt(p.napi_id)},
                     {"inflight", opt(p.inflight)},
                     {"inflight_mem", opt(p.inflight_mem)}});
  return json{{"queues", queues}, {"napis", napis}, {"page_pools", pools}};
}

std::string counter_name(const Counter &c) {
  if (c.queue.empty()) return c.group + "." + c.name;
  return c.group + "." + c.queue + "." + c.name;
}

json counters_json(const IfaceCounters &ic, int64_t ts_ms) {
  json list = json::array();
  for (const Counter &c : ic.counters)
    list.push_back({{"key", counter_name(c)}, {"value", c.value}});
  return json{{"ifname", ic.link.name}, {"ts_ms", ts_ms}, {"counters", list}};
}

}  // namespace keel
