// The register-tiled micro-kernel, generic over a SIMD vector type. Each
// instruction-set file includes it after `#pragma GCC target(...)`, so the template
// compiles for that instruction set; the anonymous namespace gives every file its
// own copy, and no other file ever links to one compiled for a newer CPU.
#pragma once

#include "microkernel.hpp"

namespace fastmlp {
namespace {

// An MR x (2 vectors) tile: MR rows of C, each held in two SIMD registers.
// V provides T, Vec, kLanes and zero/load/loadu/storeu/set1/fmadd/add.
template <typename V, Index MR>
void register_tile_kernel(Index kc, const typename V::T* A_panel,
                          const typename V::T* B_panel, typename V::T* C_tile, Index ldc,
                          Index m_valid, Index n_valid, bool accumulate) {
  using T = typename V::T;
  using Vec = typename V::Vec;
  constexpr Index kLanes = V::kLanes;
  constexpr Index kNR = 2 * kLanes;

  Vec acc[MR][2];
#pragma GCC unroll 16
  for (Index r = 0; r < MR; ++r) acc[r][0] = acc[r][1] = V::zero();

  // One rank-1 update per step: two B vectors, MR broadcasts, 2 MR FMAs.
  for (Index p = 0; p < kc; ++p) {
    const Vec b0 = V::load(B_panel + p * kNR);
    const Vec b1 = V::load(B_panel + p * kNR + kLanes);
    const T* a_p = A_panel + p * MR;
#pragma GCC unroll 16
    for (Index r = 0; r < MR; ++r) {
      const Vec a = V::set1(a_p[r]);
      acc[r][0] = V::fmadd(a, b0, acc[r][0]);
      acc[r][1] = V::fmadd(a, b1, acc[r][1]);
    }
  }

  if (m_valid == MR && n_valid == kNR) {
#pragma GCC unroll 16
    for (Index r = 0; r < MR; ++r) {
      T* c_r = C_tile + r * ldc;
      Vec lo = acc[r][0], hi = acc[r][1];
      if (accumulate) {
        lo = V::add(lo, V::loadu(c_r));
        hi = V::add(hi, V::loadu(c_r + kLanes));
      }
      V::storeu(c_r, lo);
      V::storeu(c_r + kLanes, hi);
    }
    return;
  }

  // Edge tile: spill to an aligned scratch tile and copy the valid corner.
  alignas(64) T tile[MR * kNR];
#pragma GCC unroll 16
  for (Index r = 0; r < MR; ++r) {
    V::storeu(tile + r * kNR, acc[r][0]);
    V::storeu(tile + r * kNR + kLanes, acc[r][1]);
  }
  for (Index r = 0; r < m_valid; ++r) {
    T* c_r = C_tile + r * ldc;
    for (Index c = 0; c < n_valid; ++c) {
      c_r[c] = accumulate ? c_r[c] + tile[r * kNR + c] : tile[r * kNR + c];
    }
  }
}

}  // namespace
}  // namespace fastmlp
