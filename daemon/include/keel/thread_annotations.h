// SPDX-License-Identifier: GPL-2.0
//
// Clang's thread-safety analysis (-Wthread-safety) for keeld's shared
// state: a keel::Mutex is a capability, members it guards are marked
// KEEL_GUARDED_BY(mu_), and functions say what they need with
// KEEL_REQUIRES / KEEL_EXCLUDES. Under GCC the macros expand to nothing
// and the code is the same.
//
// libstdc++'s std::mutex carries no capability attribute, hence this
// thin wrapper; wait on it with std::condition_variable_any.
#pragma once

#include <mutex>

#if defined(__clang__)
#define KEEL_THREAD_ATTR(x) __attribute__((x))
#else
#define KEEL_THREAD_ATTR(x)
#endif

#define KEEL_CAPABILITY(x) KEEL_THREAD_ATTR(capability(x))
#define KEEL_SCOPED_CAPABILITY KEEL_THREAD_ATTR(scoped_lockable)
#define KEEL_GUARDED_BY(x) KEEL_THREAD_ATTR(guarded_by(x))
#define KEEL_REQUIRES(...) KEEL_THREAD_ATTR(requires_capability(__VA_ARGS__))
#define KEEL_ACQUIRE(...) KEEL_THREAD_ATTR(acquire_capability(__VA_ARGS__))
#define KEEL_RELEASE(...) KEEL_THREAD_ATTR(release_capability(__VA_ARGS__))
#define KEEL_EXCLUDES(...) KEEL_THREAD_ATTR(locks_excluded(__VA_ARGS__))

namespace keel {

class KEEL_CAPABILITY("mutex") Mutex {
 public:
  void lock() KEEL_ACQUIRE() { mu_.lock(); }
  void unlock() KEEL_RELEASE() { mu_.unlock(); }

 private:
  std::mutex mu_;
};

// Holds a Mutex for its scope.
class KEEL_SCOPED_CAPABILITY MutexLock {
 public:
  explicit MutexLock(Mutex &mu) KEEL_ACQUIRE(mu) : mu_(mu) { mu_.lock(); }
  ~MutexLock() KEEL_RELEASE() { mu_.unlock(); }
  MutexLock(const MutexLock &) = delete;
  MutexLock &operator=(const MutexLock &) = delete;
  MutexLock(MutexLock &&) = delete;
  MutexLock &operator=(MutexLock &&) = delete;

 private:
  Mutex &mu_;
};

}  // namespace keel
