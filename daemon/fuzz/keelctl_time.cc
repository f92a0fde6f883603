// SPDX-License-Identifier: GPL-2.0
//
// keelctl's --since/--until parser for options_fuzz. parse_time() is
// private to tools/keelctl.cc (an anonymous namespace), so this file
// compiles keelctl.cc itself, its main() renamed, and hands the parser
// out; keelctl_main() is never called.
#define main keelctl_main
#include "../../tools/keelctl.cc"  // NOLINT(bugprone-suspicious-include)
#undef main

#include "keelctl_time.h"

bool keelctl_parse_time(const std::string &text, int64_t &ms) {
  return parse_time(text, ms);
}
