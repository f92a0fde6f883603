// SPDX-License-Identifier: GPL-2.0
//
// counters_bench: how long one CounterReader sweep over every interface
// takes. Not a test; `make bench` runs it.
//   counters_bench [sweeps]   (default 1000)
//   counters_bench --dump     (one sweep, every counter)
// Prints the links, the counters per sweep and microseconds per sweep.
// Run as root to include page-pool stats. Single-threaded.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <vector>

#include "keel/counters.h"
#include "keel/links.h"

namespace {

int run(int argc, char **argv) {
  const std::vector<std::string> args(argv + 1, argv + argc);
  long sweeps = 1000;
  const bool dump = !args.empty() && args[0] == "--dump";
  if (dump)
    sweeps = 1;
  else if (!args.empty())
    sweeps = std::strtol(args[0].c_str(), nullptr, 10);
  if (args.size() > 1 || sweeps <= 0) {
    std::fprintf(stderr, "usage: counters_bench [sweeps]\n");
    return 2;
  }

  auto links = keel::list_links();
  if (!links) {
    std::fprintf(stderr, "counters_bench: %s\n", links.error().str().c_str());
    return 1;
  }
  std::vector<keel::LinkInfo> infos;
  for (const auto &l : *links) {
    keel::LinkInfo info;
    info.ifindex = l.ifindex;
    info.name = l.name;
    infos.push_back(info);
  }
  auto reader = keel::CounterReader::open();
  if (!reader) {
    std::fprintf(stderr, "counters_bench: %s\n", reader.error().str().c_str());
    return 1;
  }

  size_t counters = 0;
  const auto start = std::chrono::steady_clock::now();
  for (long i = 0; i < sweeps; ++i) {
    counters = 0;
    auto got = (*reader)->read_all(infos);
    if (!got) {
      std::fprintf(stderr, "counters_bench: %s\n", got.error().str().c_str());
      return 1;
    }
    for (const auto &info : infos) {
      auto it = got->find(info.ifindex);
      if (it == got->end()) continue;
      counters += it->second.size();
      if (!dump) continue;
      for (const auto &c : it->second) {
        std::printf("%s %s%s%s.%s %llu\n", info.name.c_str(), c.group.c_str(),
                    c.queue.empty() ? "" : ".", c.queue.c_str(), c.name.c_str(),
                    static_cast<unsigned long long>(c.value));
      }
    }
  }
  const std::chrono::duration<double, std::micro> took =
      std::chrono::steady_clock::now() - start;
  std::printf("links %zu counters/sweep %zu sweeps %ld us/sweep %.1f\n",
              infos.size(), counters, sweeps,
              took.count() / static_cast<double>(sweeps));
  return 0;
}

}  // namespace

// The only exception expected here is std::bad_alloc.
int main(int argc, char **argv) {
  try {
    return run(argc, argv);
  } catch (const std::exception &e) {
    std::fprintf(stderr, "counters_bench: fatal: %s\n", e.what());
    return 1;
  }
}
