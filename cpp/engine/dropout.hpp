// Inverted dropout: a kept unit is scaled by 1 / (1 - p), a dropped one is zero,
// and inference uses every unit unscaled.
#pragma once

#include <cstdint>

#include "../common.hpp"
#include "../random.hpp"
#include "isa.hpp"
#include "parallel.hpp"

FASTMLP_ENGINE_BEGIN

// D (n, width) = 1 / (1 - p) where the unit is kept, 0 where it is dropped; the
// draws of dropout_keeps(key, row * width + column, p).
template <typename T>
void dropout_scales(std::uint64_t key, double p, T* D, Index n, Index width,
                    int n_threads) {
  const T keep_scale = T(1.0 / (1.0 - p));
  // Captured by value: the stores to D must not look as if they could change
  // the loop's constants, or the loop does not vectorise.
  for_each_chunk(n * width, threads_for(n * width, n_threads), [=](Index begin, Index end) {
    const std::uint64_t k = key;
    const double drop = p;
    const T scale = keep_scale;
    T* out = D;
#pragma omp simd
    for (Index e = begin; e < end; ++e) {
      out[e] = dropout_keeps(k, static_cast<std::uint64_t>(e), drop) ? scale : T(0);
    }
  });
}

// D (n, width) from a caller's boolean keep-mask (nonzero = kept).
template <typename T>
void dropout_scales_from_mask(const std::uint8_t* keep, double p, T* D, Index n,
                              Index width) {
  const T keep_scale = T(1.0 / (1.0 - p));
  for (Index e = 0; e < n * width; ++e) D[e] = keep[e] ? keep_scale : T(0);
}

// A (n, width) = X * D elementwise: the dropped-out copy of a layer input.
template <typename T>
void apply_dropout(const T* X, const T* D, T* A, Index n, Index width, int n_threads) {
  for_each_chunk(n * width, threads_for(n * width, n_threads), [&](Index begin, Index end) {
#pragma omp simd
    for (Index e = begin; e < end; ++e) A[e] = X[e] * D[e];
  });
}

FASTMLP_ENGINE_END
