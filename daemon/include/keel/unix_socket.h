// SPDX-License-Identifier: GPL-2.0
//
// Unix stream sockets as keeld serves them (control socket, metrics):
// one place that binds a listening socket safely and connects to one.
//
// unix_listen(): a socket file left by a server that died is replaced;
// one that still answers belongs to a live server (EADDRINUSE); anything
// else at the path is EEXIST. The file gets mode 0660 (and the group, if
// given) before listen(), so nobody can connect earlier; on failure the
// file is removed again. The caller removes it when it stops serving.
//
// Threading: plain functions; the descriptors they return are the
// caller's.
#pragma once

#include <sys/types.h>
#include <sys/un.h>

#include <optional>
#include <string>
#include <string_view>

#include "keel/fd.h"
#include "keel/result.h"

namespace keel {

// The address of path; ENAMETOOLONG if it does not fit (what names the
// socket in the message: "control socket").
Result<sockaddr_un> unix_address(const std::string &path,
                                 std::string_view what);

// A non-blocking, listening socket bound at path.
Result<Fd> unix_listen(const std::string &path, std::optional<gid_t> group,
                       std::string_view what);

// A blocking socket connected to path ("connect to WHAT at PATH" on
// failure).
Result<Fd> unix_connect(const std::string &path, std::string_view what);

}  // namespace keel
