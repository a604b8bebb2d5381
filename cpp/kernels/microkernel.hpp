// The GEMM micro-kernel interface and its portable implementation.
//
// A micro-kernel computes one MR x NR tile of C from a packed A panel (kc steps of
// MR values: panel[p * MR + r]) and a packed B panel (kc steps of NR values:
// panel[p * NR + c]). Each C element is summed over p in order, so every kernel
// for a given (MR, NR) gives a fixed result whatever the thread layout.
#pragma once

#include <cstddef>

namespace fastmlp {

using Index = std::ptrdiff_t;

// C_tile (rows < m_valid, columns < n_valid; row stride ldc) = or += the product
// of the two panels. Panels are 64-byte aligned and zero-padded to MR and NR.
template <typename T>
using MicroKernelFn = void (*)(Index kc, const T* A_panel, const T* B_panel, T* C_tile,
                               Index ldc, Index m_valid, Index n_valid, bool accumulate);

template <typename T>
struct MicroKernel {
  Index mr;
  Index nr;
  MicroKernelFn<T> run;
};

// Portable kernels: plain loops the compiler vectorises for the baseline
// instruction set. 4 x 8 floats (4 x 4 doubles) are 8 SSE registers of
// accumulators, half of the 16 the baseline x86-64 has.
void sgemm_micro_portable(Index kc, const float* A_panel, const float* B_panel,
                          float* C_tile, Index ldc, Index m_valid, Index n_valid,
                          bool accumulate);
void dgemm_micro_portable(Index kc, const double* A_panel, const double* B_panel,
                          double* C_tile, Index ldc, Index m_valid, Index n_valid,
                          bool accumulate);
constexpr Index kPortableMR = 4;
constexpr Index kPortableNRFloat = 8;
constexpr Index kPortableNRDouble = 4;

// AVX2 + FMA kernels: 6 x 16 floats (6 x 8 doubles) are 12 ymm accumulators, two
// B vectors and one broadcast: 15 of the 16 ymm registers.
void sgemm_micro_avx2(Index kc, const float* A_panel, const float* B_panel, float* C_tile,
                      Index ldc, Index m_valid, Index n_valid, bool accumulate);
void dgemm_micro_avx2(Index kc, const double* A_panel, const double* B_panel,
                      double* C_tile, Index ldc, Index m_valid, Index n_valid,
                      bool accumulate);
constexpr Index kAvx2MR = 6;
constexpr Index kAvx2NRFloat = 16;
constexpr Index kAvx2NRDouble = 8;

// AVX-512 kernels: 12 x 32 floats (12 x 16 doubles) are 24 zmm accumulators, two
// B vectors and broadcasts folded into the FMAs: 26 of the 32 zmm registers. 24
// independent FMA chains cover two FMA pipes of latency 4 three times over.
void sgemm_micro_avx512(Index kc, const float* A_panel, const float* B_panel,
                        float* C_tile, Index ldc, Index m_valid, Index n_valid,
                        bool accumulate);
void dgemm_micro_avx512(Index kc, const double* A_panel, const double* B_panel,
                        double* C_tile, Index ldc, Index m_valid, Index n_valid,
                        bool accumulate);
constexpr Index kAvx512MR = 12;
constexpr Index kAvx512NRFloat = 32;
constexpr Index kAvx512NRDouble = 16;

}  // namespace fastmlp
