// GEMM micro-kernels: each computes one MR x NR tile of C from a packed A panel
// (kc steps of MR values: panel[p * MR + r]) and a packed B panel (kc steps of
// NR values: panel[p * NR + c]), summing every element over p in order. Panels
// are 64-byte aligned and zero-padded to MR and NR; rows >= m_valid and columns
// >= n_valid of the tile are not stored. accumulate: C += product, else C = it.
#pragma once

#include "../common.hpp"
#include "isa.hpp"

FASTMLP_ENGINE_BEGIN

// Plain loops that the compiler vectorises for the build's instruction set.
template <typename T, Index MR, Index NR>
void loop_tile_kernel(Index kc, const T* A_panel, const T* B_panel, T* C_tile, Index ldc,
                      Index m_valid, Index n_valid, bool accumulate) {
  T acc[MR][NR] = {};
  for (Index p = 0; p < kc; ++p) {
    const T* b_p = B_panel + p * NR;
    for (Index r = 0; r < MR; ++r) {
      const T a = A_panel[p * MR + r];
#pragma omp simd
      for (Index c = 0; c < NR; ++c) acc[r][c] += a * b_p[c];
    }
  }
  for (Index r = 0; r < m_valid; ++r) {
    T* c_r = C_tile + r * ldc;
    for (Index c = 0; c < n_valid; ++c) c_r[c] = accumulate ? c_r[c] + acc[r][c] : acc[r][c];
  }
}

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

FASTMLP_ENGINE_END
