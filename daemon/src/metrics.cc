// SPDX-License-Identifier: GPL-2.0
#include "keel/metrics.h"

#include <array>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <map>

namespace keel {

namespace {

bool is_alpha(char c) { return std::isalpha(static_cast<unsigned char>(c)); }
bool is_digit(char c) { return std::isdigit(static_cast<unsigned char>(c)); }
bool is_upper(char c) { return std::isupper(static_cast<unsigned char>(c)); }
bool is_lower(char c) { return std::islower(static_cast<unsigned char>(c)); }
char lower(char c) {
  return static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
}

// Bytes that are not UTF-8 become U+FFFD.
std::string clean_utf8(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  size_t i = 0;
  auto byte = [&s](size_t k) { return static_cast<unsigned char>(s[k]); };
  while (i < s.size()) {
    const unsigned char c = byte(i);
    size_t len = 0;
    uint32_t cp = 0;
    if (c < 0x80) {
      len = 1;
      cp = c;
    } else if ((c & 0xe0) == 0xc0) {
      len = 2;
      cp = c & 0x1fU;
    } else if ((c & 0xf0) == 0xe0) {
      len = 3;
      cp = c & 0x0fU;
    } else if ((c & 0xf8) == 0xf0) {
      len = 4;
      cp = c & 0x07U;
    }
    bool ok = len != 0 && i + len <= s.size();
    for (size_t k = 1; ok && k < len; k++) {
      ok = (byte(i + k) & 0xc0) == 0x80;
      cp = (cp << 6) | (byte(i + k) & 0x3fU);
    }
    if (ok) {
      static constexpr std::array<uint32_t, 5> kMin{0, 0, 0x80, 0x800, 0x10000};
      ok = cp >= kMin.at(len) && cp <= 0x10ffff && (cp < 0xd800 || cp > 0xdfff);
    }
    if (ok) {
      out.append(s.substr(i, len));
      i += len;
    } else {
      out += "\xef\xbf\xbd";
      i++;
    }
  }
  return out;
}

std::string type_name(MetricType t) {
  switch (t) {
    case MetricType::kCounter:
      return "counter";
    case MetricType::kGauge:
      return "gauge";
    case MetricType::kUntyped:
      break;
  }
  return "untyped";
}

std::string format_value(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  std::array<char, 32> buf{};
  if (std::fabs(v) < 9007199254740992.0 && v == std::trunc(v))
    std::snprintf(buf.data(), buf.size(), "%.0f", v);
  else
    std::snprintf(buf.data(), buf.size(), "%.17g", v);
  return buf.data();
}

// rtnl_link_stats64 field -> node_network_<name>_total.
const std::map<std::string_view, std::string_view> &link_names() {
  static const std::map<std::string_view, std::string_view> names{
      {"rx_packets", "receive_packets"},
      {"tx_packets", "transmit_packets"},
      {"rx_bytes", "receive_bytes"},
      {"tx_bytes", "transmit_bytes"},
      {"rx_errors", "receive_errs"},
      {"tx_errors", "transmit_errs"},
      {"rx_dropped", "receive_drop"},
      {"tx_dropped", "transmit_drop"},
      {"multicast", "receive_multicast"},
      {"collisions", "transmit_colls"},
      {"rx_length_errors", "receive_length_errors"},
      {"rx_over_errors", "receive_over_errors"},
      {"rx_crc_errors", "receive_crc_errors"},
      {"rx_frame_errors", "receive_frame_errors"},
      {"rx_fifo_errors", "receive_fifo"},
      {"rx_missed_errors", "receive_missed_errors"},
      {"tx_aborted_errors", "transmit_aborted_errors"},
      {"tx_carrier_errors", "transmit_carrier_errors"},
      {"tx_fifo_errors", "transmit_fifo"},
      {"tx_heartbeat_errors", "transmit_heartbeat_errors"},
      {"tx_window_errors", "transmit_window_errors"},
      {"rx_compressed", "receive_compressed"},
      {"tx_compressed", "transmit_compressed"},
      {"rx_nohandler", "receive_nohandler"},
      {"rx_otherhost_dropped", "receive_otherhost_dropped"},
  };
  return names;
}

// node_exporter's ethtool collector: lower case, sanitised, rx/tx words
// spelled out.
std::string driver_name(std::string_view name) {
  std::string s;
  for (char c : sanitize_metric_name(name)) {
    if (c == ':') c = '_';
    if (c == '_' && (s.empty() || s.back() == '_')) continue;
    s += lower(c);
  }
  while (!s.empty() && s.back() == '_') s.pop_back();
  const std::string_view words = s;
  std::string out;
  size_t start = 0;
  while (start <= words.size()) {
    size_t end = words.find('_', start);
    if (end == std::string_view::npos) end = words.size();
    const std::string_view word = words.substr(start, end - start);
    if (!out.empty()) out += '_';
    if (word == "rx")
      out += "received";
    else if (word == "tx")
      out += "transmitted";
    else
      out += word;
    start = end + 1;
  }
  return out;
}

using Labels = std::vector<std::pair<std::string, std::string>>;

struct Family {
  MetricType type = MetricType::kUntyped;
  std::string help;
  std::map<std::string, std::string> samples;  // label text -> value text
};

class Builder {
 public:
  void add(const std::string &raw_name, MetricType type,
           const std::string &help, const Labels &labels,
           const std::string &value) {
    const std::string name = sanitize_metric_name(raw_name);
    auto [it, fresh] = families_.try_emplace(name);
    Family &f = it->second;
    if (fresh) {
      f.type = type;
      f.help = help;
    } else if (f.type != type) {
      return;  // a clash of types: the first family stays valid
    }
    f.samples.try_emplace(label_text(labels), value);
  }

  [[nodiscard]] std::string str() const {
    std::string out;
    for (const auto &[name, f] : families_) {
      out.append("# HELP ").append(name).append(" ");
      out.append(escape_help(f.help)).append("\n");
      out.append("# TYPE ").append(name).append(" ");
      out.append(type_name(f.type)).append("\n");
      for (const auto &[labels, value] : f.samples)
        out.append(name).append(labels).append(" ").append(value).append("\n");
    }
    return out;
  }

 private:
  static std::string label_text(const Labels &labels) {
    if (labels.empty()) return {};
    std::string out = "{";
    for (const auto &[k, v] : labels) {
      if (out.size() > 1) out += ',';
      out += sanitize_label_name(k) + "=\"" + escape_label_value(v) + "\"";
    }
    out += '}';
    return out;
  }

  std::map<std::string, Family> families_;
};

void add_link_info(Builder &b, const LinkInfo &l) {
  const Labels device{{"device", l.name}};
  b.add("node_network_info", MetricType::kGauge,
        "Non-numeric data about the network device; value is always 1.",
        {{"device", l.name},
         {"driver", l.driver},
         {"bus_info", l.bus_info},
         {"address", l.mac},
         {"operstate", l.oper_state},
         {"adminstate", l.admin_up ? "up" : "down"}},
        "1");
  b.add("node_network_up", MetricType::kGauge,
        "Whether the operational state of the network device is up.", device,
        l.oper_state == "up" ? "1" : "0");
  b.add("node_network_mtu_bytes", MetricType::kGauge,
        "MTU of the network device in bytes.", device, std::to_string(l.mtu));
  b.add("node_network_iface_id", MetricType::kGauge,
        "Interface index of the network device.", device,
        std::to_string(l.ifindex));
}

}  // namespace

std::string snake_case(std::string_view s) {
  std::string out;
  auto separate = [&out] {
    if (!out.empty() && out.back() != '_') out += '_';
  };
  for (size_t i = 0; i < s.size(); i++) {
    const char c = s[i];
    if (!is_alpha(c) && !is_digit(c)) {
      separate();
      continue;
    }
    if (is_upper(c) && i > 0) {
      const char prev = s[i - 1];
      const bool next_lower = i + 1 < s.size() && is_lower(s[i + 1]);
      // "frameOK" -> frame_ok, "MACControl" -> mac_control, "64Octets"
      if (is_lower(prev) || is_digit(prev) || (is_upper(prev) && next_lower))
        separate();
    }
    out += lower(c);
  }
  while (!out.empty() && out.back() == '_') out.pop_back();
  return out;
}

std::string sanitize_metric_name(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 1);
  for (char c : s)
    out += (is_alpha(c) || is_digit(c) || c == '_' || c == ':') &&
                   static_cast<unsigned char>(c) < 0x80
               ? c
               : '_';
  if (out.empty() || is_digit(out.front())) out.insert(0, 1, '_');
  return out;
}

std::string sanitize_label_name(std::string_view s) {
  std::string out = sanitize_metric_name(s);
  for (char &c : out)
    if (c == ':') c = '_';
  return out;
}

std::string escape_label_value(std::string_view s) {
  std::string out;
  for (char c : clean_utf8(s)) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '"')
      out += "\\\"";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

std::string escape_help(std::string_view s) {
  std::string out;
  for (char c : clean_utf8(s)) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

MetricMapping map_counter(const Counter &c) {
  const std::string name = snake_case(c.name);
  if (c.group == "link") {
    const auto &names = link_names();
    auto it = names.find(c.name);
    const std::string stat = it != names.end() ? std::string(it->second) : name;
    return {"node_network_" + stat + "_total",
            MetricType::kCounter,
            "Network device statistic " + c.name + ".",
            {}};
  }
  if (c.group == "queue")
    return {"keel_queue_" + name + "_total",
            MetricType::kCounter,
            "Queue statistic " + c.name + " (netdev qstats).",
            {{"queue", c.queue}}};
  if (c.group == "page-pool")
    return {"keel_page_pool_" + name + "_total",
            MetricType::kCounter,
            "Page pool statistic " + c.name + " (netdev page-pool-stats).",
            {{"pool", c.queue}}};
  if (c.group == "driver")
    return {"node_ethtool_" + driver_name(c.name),
            MetricType::kUntyped,
            "Network interface " + c.name + " (driver statistic).",
            {}};
  return {"node_ethtool_" + snake_case(c.group) + "_" + name + "_total",
          MetricType::kCounter,
          "Network interface " + c.group + " statistic " + c.name + ".",
          {}};
}

std::string exposition(const std::vector<IfaceCounters> &ifaces,
                       const std::vector<SelfMetric> &daemon_metrics) {
  Builder b;
  for (const IfaceCounters &ic : ifaces) {
    add_link_info(b, ic.link);
    for (const Counter &c : ic.counters) {
      MetricMapping m = map_counter(c);
      m.labels.insert(m.labels.begin(), {"device", ic.link.name});
      b.add(m.family, m.type, m.help, m.labels, std::to_string(c.value));
    }
  }
  for (const SelfMetric &m : daemon_metrics)
    b.add(m.name, m.type, m.help, m.labels, format_value(m.value));
  return b.str();
}

}  // namespace keel
