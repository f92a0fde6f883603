// SPDX-License-Identifier: GPL-2.0
//
// keelctl's --since/--until parser, reached for fuzzing (keelctl_time.cc).
#pragma once

#include <cstdint>
#include <string>

// "300", "5m", "2h", "1d": seconds ago as epoch ms; 13 digits or more:
// epoch ms already. False for anything else.
bool keelctl_parse_time(const std::string &text, int64_t &ms);
