// SPDX-License-Identifier: GPL-2.0
//
// JSON forms of keeld's value types, for the control socket and keelctl.
// Keys follow the names of nic.h; a group a device does not support is
// null. Counters are {"key": "group[.queue].name", "value": N}.
//
// Threading: pure functions.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "keel/nic.h"

namespace keel {

nlohmann::json to_json(const LinkInfo &link);
nlohmann::json to_json(const NicSettings &settings);
// {"queues": [{"id", "type", "napi_id"}], "napis": [{"id", "irq", "pid"}],
//  "page_pools": [{"id", "napi_id", "inflight", "inflight_mem"}]};
// an absent value is null.
nlohmann::json to_json(const NetdevObjects &objs);
// "group.name" or "group.queue.name"
std::string counter_name(const Counter &c);
nlohmann::json counters_json(const IfaceCounters &ic, int64_t ts_ms);

}  // namespace keel
