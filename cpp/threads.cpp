// Detection of a forked child process; see in_forked_child in common.hpp.
#include <pthread.h>

#include <atomic>

#include "common.hpp"

namespace fastmlp {
namespace {

std::atomic<bool> forked_child{false};

void mark_forked_child() { forked_child.store(true, std::memory_order_relaxed); }

// Registered when the module is loaded; runs in the child after every fork().
const int fork_handler_registered = pthread_atfork(nullptr, nullptr, mark_forked_child);

}  // namespace

bool in_forked_child() {
  (void)fork_handler_registered;
  return forked_child.load(std::memory_order_relaxed);
}

}  // namespace fastmlp
