// Counter-based random numbers: every draw is a pure function of (key, counter), so
// a value does not depend on which thread draws it or in which order.
#pragma once

#include <cstdint>
#include <numeric>
#include <utility>

#include "common.hpp"

namespace fastmlp {

// The SplitMix64 output function: a bijective mix of 64 bits with full avalanche.
inline std::uint64_t mix64(std::uint64_t x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return x;
}

// The purpose of a stream of draws. It is part of the key, so streams never overlap.
enum class Stream : std::uint64_t { kInit = 1, kShuffle = 2, kDropout = 3 };

// Derives the key of one stream from the seed and up to three coordinates
// (for dropout: epoch, batch, layer).
inline std::uint64_t stream_key(std::uint64_t seed, Stream stream, std::uint64_t a = 0,
                                std::uint64_t b = 0, std::uint64_t c = 0) {
  std::uint64_t h = mix64(seed + 0x9e3779b97f4a7c15ULL);
  h = mix64(h ^ static_cast<std::uint64_t>(stream));
  h = mix64(h ^ a);
  h = mix64(h ^ b);
  h = mix64(h ^ c);
  return h;
}

// Draw number `counter` of the stream `key`: SplitMix64 evaluated at any position.
inline std::uint64_t random_bits(std::uint64_t key, std::uint64_t counter) {
  return mix64(key + (counter + 1) * 0x9e3779b97f4a7c15ULL);
}

// Uniform double in [0, 1) from the top 53 bits.
inline double random_uniform(std::uint64_t key, std::uint64_t counter) {
  return static_cast<double>(random_bits(key, counter) >> 11) * 0x1.0p-53;
}

// Uniform integer in [0, bound) by multiply-shift; the bias is below bound / 2^64.
inline std::uint64_t random_below(std::uint64_t key, std::uint64_t counter,
                                  std::uint64_t bound) {
  const unsigned __int128 product =
      static_cast<unsigned __int128>(random_bits(key, counter)) * bound;
  return static_cast<std::uint64_t>(product >> 64);
}

// The sample order of one epoch: a Fisher-Yates shuffle keyed by (seed, epoch).
inline void shuffle_order(std::uint64_t seed, std::uint64_t epoch, Index* order, Index n) {
  std::iota(order, order + n, Index(0));
  const std::uint64_t key = stream_key(seed, Stream::kShuffle, epoch);
  for (Index i = n - 1; i > 0; --i) {
    const std::uint64_t j = random_below(key, i, static_cast<std::uint64_t>(i) + 1);
    std::swap(order[i], order[static_cast<Index>(j)]);
  }
}

// Dropout draws of one layer input of one batch are keyed by (seed, epoch, batch,
// layer), so masks do not depend on the thread count.
inline std::uint64_t dropout_key(std::uint64_t seed, std::uint64_t epoch,
                                 std::uint64_t batch, Index layer) {
  return stream_key(seed, Stream::kDropout, epoch, batch, static_cast<std::uint64_t>(layer));
}

// Whether element `element` (row * width + column) of a dropped layer input is
// kept. The comparison is in double, so float32 and float64 models see one mask.
inline bool dropout_keeps(std::uint64_t key, std::uint64_t element, double p) {
  return random_uniform(key, element) >= p;
}

}  // namespace fastmlp
