// SPDX-License-Identifier: GPL-2.0
//
// The netdev generic netlink family's queues, NAPIs and page pools of one
// interface (what `ynl --spec netdev.yaml --dump queue-get` shows), read
// through keel::nl. Page pools need CAP_NET_ADMIN; without it, or on a
// kernel without the family, the lists are empty.
//
// Threading: uses the caller's socket; one thread at a time.
#pragma once

#include "keel/nic.h"
#include "keel/nl.h"
#include "keel/result.h"

namespace keel {

// sock: a Protocol::kGeneric socket.
Result<NetdevObjects> read_netdev_objects(nl::Socket &sock, int ifindex);

// The parsers, for tests: one reply message each; false when the message
// is not about ifindex (page-pool-get cannot be filtered by the kernel).
Result<bool> parse_queue(nl_msg *msg, int ifindex, QueueInfo &out);
Result<bool> parse_napi(nl_msg *msg, int ifindex, NapiInfo &out);
Result<bool> parse_page_pool(nl_msg *msg, int ifindex, PagePoolInfo &out);

}  // namespace keel
