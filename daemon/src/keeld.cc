// SPDX-License-Identifier: GPL-2.0
//
// keeld: the Keel daemon. For now it only lists links and reports its
// version; the daemon proper comes later.
#include <cstdio>
#include <exception>
#include <string_view>

#include "keel/links.h"
#include "keel/version.h"

namespace {

constexpr std::string_view kUsage =
    "usage: keeld [--list-links | --version | --help]\n"
    "  --list-links  print every network interface: name, ifindex, mtu,\n"
    "                operational state\n"
    "  --version     print the version\n";

int list_links() {
  auto links = keel::list_links();
  if (!links) {
    std::fprintf(stderr, "keeld: %s\n", links.error().str().c_str());
    return 1;
  }
  std::printf("%-16s %7s %6s %s\n", "NAME", "IFINDEX", "MTU", "STATE");
  for (const keel::Link &link : *links)
    std::printf("%-16s %7d %6u %s\n", link.name.c_str(), link.ifindex, link.mtu,
                link.oper_state.c_str());
  return 0;
}

int run(int argc, char **argv) {
  if (argc != 2) {
    std::fputs(kUsage.data(), stderr);
    return 2;
  }
  const std::string_view arg = argv[1];
  if (arg == "--list-links") return list_links();
  if (arg == "--version") {
    std::printf("keeld %s\n", keel::kVersion);
    return 0;
  }
  if (arg == "--help" || arg == "-h") {
    std::fputs(kUsage.data(), stdout);
    return 0;
  }
  std::fprintf(stderr, "keeld: unknown option '%s'\n%s", argv[1],
               kUsage.data());
  return 2;
}

}  // namespace

// Recoverable errors travel as keel::Result; the only exception that can
// reach here is std::bad_alloc, which ends the daemon with a message.
int main(int argc, char **argv) {
  try {
    return run(argc, argv);
  } catch (const std::exception &e) {
    std::fprintf(stderr, "keeld: fatal: %s\n", e.what());
    return 1;
  }
}
