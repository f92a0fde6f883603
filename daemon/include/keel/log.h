// SPDX-License-Identifier: GPL-2.0
//
// keeld's log: one line per event, to standard error ("keeld: warning:
// ...") in the foreground, or to syslog (daemon facility) once detached.
//
// Threading: log() may be called from any thread; lines are written
// whole.
#pragma once

#include <string_view>

namespace keel {

enum class LogLevel { kError, kWarning, kInfo };

void log(LogLevel level, std::string_view message);
// Send further lines to syslog instead of standard error.
void log_to_syslog();

inline void log_error(std::string_view m) { log(LogLevel::kError, m); }
inline void log_warning(std::string_view m) { log(LogLevel::kWarning, m); }
inline void log_info(std::string_view m) { log(LogLevel::kInfo, m); }

}  // namespace keel
