// Inverted dropout: a kept unit is scaled by 1 / (1 - p), a dropped one is zero,
// and inference uses every unit unscaled.
#pragma once

#include <cstdint>

#include "../common.hpp"
#include "../random.hpp"
#include "isa.hpp"

FASTMLP_ENGINE_BEGIN

// D (n, width) = 1 / (1 - p) where the unit is kept, 0 where it is dropped; the
// draws of dropout_keeps(key, row * width + column, p).
template <typename T>
void dropout_scales(std::uint64_t key, double p, T* D, Index n, Index width,
                    int n_threads) {
  const T keep_scale = T(1.0 / (1.0 - p));
  const Index count = n * width;
  const bool parallel = n_threads > 1 && count >= kMinParallelElements;
#pragma omp parallel for simd schedule(static) num_threads(n_threads) if (parallel)
  for (Index e = 0; e < count; ++e) {
    D[e] = dropout_keeps(key, static_cast<std::uint64_t>(e), p) ? keep_scale : T(0);
  }
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
  const Index count = n * width;
  const bool parallel = n_threads > 1 && count >= kMinParallelElements;
#pragma omp parallel for simd schedule(static) num_threads(n_threads) if (parallel)
  for (Index e = 0; e < count; ++e) A[e] = X[e] * D[e];
}

FASTMLP_ENGINE_END
