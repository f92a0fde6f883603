// SPDX-License-Identifier: GPL-2.0
#include "keel/log.h"

#include <atomic>
#include <cstdio>
#include <string>
#include <syslog.h>

namespace keel {

namespace {

std::atomic<bool> use_syslog = false;

}  // namespace

void log_to_syslog() {
  ::openlog("keeld", LOG_PID, LOG_DAEMON);
  use_syslog = true;
}

void log(LogLevel level, std::string_view message) {
  const std::string text(message);
  if (use_syslog) {
    int prio = LOG_INFO;
    if (level == LogLevel::kError) prio = LOG_ERR;
    if (level == LogLevel::kWarning) prio = LOG_WARNING;
    ::syslog(prio, "%s", text.c_str());
    return;
  }
  const char *prefix = "";
  if (level == LogLevel::kError) prefix = "error: ";
  if (level == LogLevel::kWarning) prefix = "warning: ";
  // One fprintf: the line is written whole even with other writers.
  std::fprintf(stderr, "keeld: %s%s\n", prefix, text.c_str());
}

}  // namespace keel
