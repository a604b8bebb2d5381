// Portable micro-kernels, compiled for the baseline instruction set.
#include "microkernel.hpp"

namespace fastmlp {
namespace {

// Writes the MR x NR accumulator tile into C: all of it, or the valid corner of
// an edge tile.
template <typename T, Index MR, Index NR>
void store_tile(const T (&acc)[MR][NR], T* C_tile, Index ldc, Index m_valid,
                Index n_valid, bool accumulate) {
  for (Index r = 0; r < m_valid; ++r) {
    T* c_r = C_tile + r * ldc;
    for (Index c = 0; c < n_valid; ++c) {
      c_r[c] = accumulate ? c_r[c] + acc[r][c] : acc[r][c];
    }
  }
}

template <typename T, Index MR, Index NR>
void micro_portable(Index kc, const T* A_panel, const T* B_panel, T* C_tile, Index ldc,
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
  store_tile<T, MR, NR>(acc, C_tile, ldc, m_valid, n_valid, accumulate);
}

}  // namespace

void sgemm_micro_portable(Index kc, const float* A_panel, const float* B_panel,
                          float* C_tile, Index ldc, Index m_valid, Index n_valid,
                          bool accumulate) {
  micro_portable<float, kPortableMR, kPortableNRFloat>(kc, A_panel, B_panel, C_tile, ldc,
                                                       m_valid, n_valid, accumulate);
}

void dgemm_micro_portable(Index kc, const double* A_panel, const double* B_panel,
                          double* C_tile, Index ldc, Index m_valid, Index n_valid,
                          bool accumulate) {
  micro_portable<double, kPortableMR, kPortableNRDouble>(kc, A_panel, B_panel, C_tile, ldc,
                                                         m_valid, n_valid, accumulate);
}

}  // namespace fastmlp
