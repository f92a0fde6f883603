// SPDX-License-Identifier: GPL-2.0
#include "keel/nl.h"

#include <netlink/errno.h>
#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <netlink/netlink.h>

#include <cerrno>
#include <cstdlib>
#include <string>

namespace keel::nl {

int nl_to_errno(int nlerr) noexcept {
  switch (std::abs(nlerr)) {
    case NLE_SUCCESS:
      return 0;
    case NLE_INTR:
      return EINTR;
    case NLE_BAD_SOCK:
      return EBADF;
    case NLE_AGAIN:
      return EAGAIN;
    case NLE_NOMEM:
      return ENOMEM;
    case NLE_EXIST:
      return EEXIST;
    case NLE_INVAL:
    case NLE_MSGSIZE:
    case NLE_RANGE:
      return EINVAL;
    case NLE_NOACCESS:
      return EACCES;
    case NLE_PERM:
      return EPERM;
    case NLE_OPNOTSUPP:
    case NLE_AF_NOSUPPORT:
    case NLE_PROTO_MISMATCH:
      return EOPNOTSUPP;
    case NLE_OBJ_NOTFOUND:
    case NLE_NODEV:
      return ENOENT;
    case NLE_BUSY:
      return EBUSY;
    case NLE_NOADDR:
      return EADDRNOTAVAIL;
    case NLE_IMMUTABLE:
      return EROFS;
    default:
      return EIO;
  }
}

Error nl_error(int nlerr, std::string_view what) {
  return Error(nl_to_errno(nlerr),
               std::string(what) + ": " + nl_geterror(nlerr));
}

Result<Socket> Socket::connect(Protocol protocol) {
  SockPtr sock(nl_socket_alloc());
  if (!sock) return Error(ENOMEM, "nl_socket_alloc: out of memory");

  int err;
  if (protocol == Protocol::kGeneric)
    err = genl_connect(sock.get());
  else
    err = nl_connect(sock.get(), NETLINK_ROUTE);
  if (err < 0)
    return nl_error(err, protocol == Protocol::kGeneric
                             ? "connect NETLINK_GENERIC"
                             : "connect NETLINK_ROUTE");
  return Socket(std::move(sock), protocol);
}

Result<Msg> Msg::alloc() {
  MsgPtr msg(nlmsg_alloc());
  if (!msg) return Error(ENOMEM, "nlmsg_alloc: out of memory");
  return Msg(std::move(msg));
}

int Cache::size() const noexcept {
  return cache_ ? nl_cache_nitems(cache_.get()) : 0;
}

Result<int> resolve_genl_family(Socket &sock, std::string_view name) {
  const std::string what = "resolve genl family " + std::string(name);

  if (sock.protocol() != Protocol::kGeneric)
    return Error(EINVAL, what + ": not a NETLINK_GENERIC socket");
  const std::string family(name);
  const int id = genl_ctrl_resolve(sock.get(), family.c_str());
  if (id < 0) return nl_error(id, what);
  return id;
}

}  // namespace keel::nl
