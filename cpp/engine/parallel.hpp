// Splitting elementwise loops over threads.
#pragma once

#include <omp.h>

#include "../common.hpp"
#include "isa.hpp"

FASTMLP_ENGINE_BEGIN

// Threads for an elementwise loop over `elements` values: 1 below
// kMinParallelElements, where starting a team costs more than it saves.
inline int threads_for(Index elements, int n_threads) {
  return elements >= kMinParallelElements ? n_threads : 1;
}

// Calls body(begin, end) on contiguous chunks that cover [0, count): one chunk
// on the calling thread when one thread is asked for (no OpenMP team is started
// at all), else one chunk per thread. Only for loops whose items are
// independent, so the split cannot change a result.
template <typename Body>
void for_each_chunk(Index count, int n_threads, const Body& body) {
  if (n_threads <= 1 || count < 2) {
    body(Index(0), count);
    return;
  }
#pragma omp parallel num_threads(n_threads)
  {
    const Index t = omp_get_thread_num(), teams = omp_get_num_threads();
    body(count * t / teams, count * (t + 1) / teams);
  }
}

FASTMLP_ENGINE_END
