// The vector-transpose hook of the GEMM's panel packing.
#pragma once

#include "../common.hpp"
#include "isa.hpp"

FASTMLP_ENGINE_BEGIN

// A build may specialise TransposePacker<T> with a vector transpose for
// pack_panel: pack(base, stride, kc, valid, width, panel) fills panel[p * width
// + q] = base[q * stride + p] (0 for valid <= q < width) for p below the count
// it returns, a multiple of its block size. This default transposes nothing.
template <typename T>
struct TransposePacker {
  static Index pack(const T*, Index, Index, Index, Index, T*) { return 0; }
};

FASTMLP_ENGINE_END
