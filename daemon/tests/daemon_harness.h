// SPDX-License-Identifier: GPL-2.0
//
// Helpers for tests that run keeld's loop: a control call answered
// while the test's thread keeps stepping the daemon.
//
// Threading: call_stepping() runs the client on a thread of its own and
// the daemon on the caller's, as keeld does in production.
#pragma once

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>

#include "keel/control.h"
#include "keel/daemon.h"
#include "temp_dir.h"

namespace keel {

// Send one request to the daemon listening at socket and step it until
// the answer arrived.
inline Result<nlohmann::json> call_stepping(Daemon &daemon,
                                            const std::string &socket,
                                            const std::string &cmd,
                                            const nlohmann::json &args) {
  std::atomic<bool> done = false;
  Result<nlohmann::json> out = Error(EIO, "not called");
  std::thread t([&] {
    out = control_call(socket, cmd, args, 5000);
    done = true;
  });
  while (!done) daemon.step(20);
  t.join();
  return out;
}

}  // namespace keel
