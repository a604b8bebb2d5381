// Basic types shared by the whole core: the index type, aligned buffers, the
// layer kinds and the thread-count setting every parallel region takes. Compiled
// for the baseline instruction set in every file that includes it.
#pragma once

#include <omp.h>

#include <cstddef>
#include <cstdlib>
#include <new>
#include <vector>

namespace fastmlp {

// Signed, as OpenMP loops want; n * n_in cannot wrap for any array that fits in memory.
using Index = std::ptrdiff_t;

// 64-byte alignment: one cache line, and the width of an AVX-512 register.
constexpr std::size_t kAlignment = 64;

template <typename T>
struct AlignedAllocator {
  using value_type = T;
  AlignedAllocator() = default;
  template <typename U>
  AlignedAllocator(const AlignedAllocator<U>&) {}

  T* allocate(std::size_t count) {
    const std::size_t bytes = (count * sizeof(T) + kAlignment - 1) / kAlignment * kAlignment;
    void* p = std::aligned_alloc(kAlignment, bytes == 0 ? kAlignment : bytes);
    if (p == nullptr) throw std::bad_alloc();
    return static_cast<T*>(p);
  }
  void deallocate(T* p, std::size_t) { std::free(p); }

  template <typename U>
  bool operator==(const AlignedAllocator<U>&) const { return true; }
  template <typename U>
  bool operator!=(const AlignedAllocator<U>&) const { return false; }
};

template <typename T>
using Buffer = std::vector<T, AlignedAllocator<T>>;

// Whether this process is a child created by fork() after the module was
// loaded. GNU OpenMP's thread pool does not survive fork(): a child that starts
// a parallel region can wait forever for the parent's threads. Children
// therefore run every loop on their calling thread. Defined in threads.cpp.
bool in_forked_child();

// Thread count for one parallel region. n_threads <= 0 means "OpenMP's current
// maximum", read at each call so OMP_NUM_THREADS and threadpoolctl limits apply.
// Always 1 in a forked child.
inline int resolve_threads(int n_threads) {
  if (in_forked_child()) return 1;
  return n_threads > 0 ? n_threads : omp_get_max_threads();
}

// Elementwise loops shorter than this run on one thread. Starting a team and
// joining it costs an estimated microsecond while the workers spin between
// regions, and far more when another process uses a core. On a 2-core AVX-512 machine,
// lowering this from 2^17 to 2^15 made batch-128 training on two threads 7%
// faster (the gathered batch, dropout, bias and activation passes split too).
constexpr Index kMinParallelElements = 1 << 15;

enum class Activation { kIdentity, kLogistic, kTanh, kRelu };

// Output layers, each fused with its loss: softmax with categorical cross-entropy,
// logistic with binary cross-entropy, identity with squared error.
enum class Output { kSoftmax, kLogistic, kIdentity };

// Whether none of the n values of x is NaN or infinite: x * 0 is 0 for every
// finite x and NaN otherwise, and a sum with lanes in any order keeps the NaN.
// The vectorised pass runs at the speed of one read of x.
template <typename T>
bool all_finite(const T* x, std::ptrdiff_t n) {
  T sum = 0;
#pragma omp simd reduction(+ : sum)
  for (std::ptrdiff_t e = 0; e < n; ++e) sum += x[e] * T(0);
  return sum == 0;
}

}  // namespace fastmlp
