// Matrix products for the dense layers: C = A B or C += A B, with A and B given as
// strided views so that the three products of training (X W^T, dZ^T X, dZ W) need
// no transposed copies.
//
// Two paths, chosen from the sizes alone (never from the thread count):
// - gemm_unpacked: plain loops for small products and for matrix-vector shapes;
// - gemm_packed: copies blocks of A and B into contiguous panels and runs a
//   register-blocked micro-kernel over them, with threads owning tiles of C.
// Every element of C is summed over k in the same order whichever thread computes
// it, so results are bit-identical for any thread count.
#pragma once

#include <algorithm>

#include "common.hpp"

namespace fastmlp {

// Read-only strided matrix: element (i, j) is at data[i * row_stride + j * col_stride].
template <typename T>
struct MatrixView {
  const T* data;
  Index row_stride;
  Index col_stride;

  T operator()(Index i, Index j) const { return data[i * row_stride + j * col_stride]; }
  MatrixView transposed() const { return {data, col_stride, row_stride}; }
};

template <typename T>
MatrixView<T> row_major(const T* data, Index n_cols) {
  return {data, n_cols, 1};
}

// Block sizes. MR x NR accumulators stay in registers: 4 x 8 floats are 8 SSE or
// 4 AVX registers, 4 x 4 doubles the same byte count. KC keeps one A panel
// (MR x KC) and one B panel (KC x NR) within a 32 KiB L1 cache; MC x KC of A and
// KC x NC of B stay in a 512 KiB L2 cache.
template <typename T>
struct GemmBlocking {
  static constexpr Index kMR = 4;
  static constexpr Index kNR = 32 / sizeof(T);
  static constexpr Index kKC = 256;
  static constexpr Index kMC = 64;
  static constexpr Index kNC = 128;
};

// Products with fewer multiply-adds than this skip packing: copying the panels
// would cost about as much as the arithmetic.
constexpr Index kMinPackedFlops = 32 * 32 * 32;
// Products with fewer multiply-adds than this run on one thread (about 20 us of
// work at 8 GFLOP/s, several times the cost of starting an OpenMP team).
constexpr Index kMinParallelFlops = 64 * 64 * 64;

// C (m x n, row-major, leading dimension ldc) = or += A (m x k) B (k x n), with
// plain loops. Threads split the columns of C, so each C element is one thread's
// sum over k in order.
template <typename T>
void gemm_unpacked(MatrixView<T> A, MatrixView<T> B, T* C, Index ldc, Index m, Index n,
                   Index k, bool accumulate, int n_threads) {
  const bool parallel = m * n * k >= kMinParallelFlops && n > 1;
  const bool dot_form = A.col_stride == 1 && B.row_stride == 1;
#pragma omp parallel for schedule(static) num_threads(n_threads) if (parallel)
  for (Index j = 0; j < n; ++j) {
    for (Index i = 0; i < m; ++i) {
      T sum = 0;
      if (dot_form) {
        // Both operands are unit-stride along k: a vectorised dot product.
        const T* a_i = A.data + i * A.row_stride;
        const T* b_j = B.data + j * B.col_stride;
#pragma omp simd reduction(+ : sum)
        for (Index p = 0; p < k; ++p) sum += a_i[p] * b_j[p];
      } else {
        for (Index p = 0; p < k; ++p) sum += A(i, p) * B(p, j);
      }
      T& c = C[i * ldc + j];
      c = accumulate ? c + sum : sum;
    }
  }
}

// Copies rows [i0, i0 + mc) x columns [p0, p0 + kc) of A into panels of kMR rows,
// each stored k-major (panel[p * kMR + r]); rows past mc are zero.
template <typename T>
void pack_A(MatrixView<T> A, Index i0, Index p0, Index mc, Index kc, T* packed) {
  constexpr Index MR = GemmBlocking<T>::kMR;
  for (Index ir = 0; ir < mc; ir += MR) {
    const Index rows = std::min(MR, mc - ir);
    for (Index p = 0; p < kc; ++p) {
      for (Index r = 0; r < MR; ++r) {
        packed[p * MR + r] = r < rows ? A(i0 + ir + r, p0 + p) : T(0);
      }
    }
    packed += MR * kc;
  }
}

// Copies rows [p0, p0 + kc) x columns [j0, j0 + nc) of B into panels of kNR
// columns, each stored k-major (panel[p * kNR + c]); columns past nc are zero.
template <typename T>
void pack_B(MatrixView<T> B, Index p0, Index j0, Index kc, Index nc, T* packed) {
  constexpr Index NR = GemmBlocking<T>::kNR;
  for (Index jr = 0; jr < nc; jr += NR) {
    const Index cols = std::min(NR, nc - jr);
    for (Index p = 0; p < kc; ++p) {
      for (Index c = 0; c < NR; ++c) {
        packed[p * NR + c] = c < cols ? B(p0 + p, j0 + jr + c) : T(0);
      }
    }
    packed += NR * kc;
  }
}

// The MR x NR block of C at C_tile (rows < m_valid, columns < n_valid are real)
// = or += the product of one packed A panel and one packed B panel of depth kc.
template <typename T>
void micro_kernel(const T* A_panel, const T* B_panel, T* C_tile, Index ldc, Index kc,
                  Index m_valid, Index n_valid, bool accumulate) {
  constexpr Index MR = GemmBlocking<T>::kMR;
  constexpr Index NR = GemmBlocking<T>::kNR;
  T acc[MR][NR] = {};
  for (Index p = 0; p < kc; ++p) {
    const T* b_p = B_panel + p * NR;
    for (Index r = 0; r < MR; ++r) {
      const T a = A_panel[p * MR + r];
#pragma omp simd
      for (Index c = 0; c < NR; ++c) acc[r][c] += a * b_p[c];
    }
  }

  // Store only the real part of an edge tile; padding rows and columns are zero.
  for (Index r = 0; r < m_valid; ++r) {
    T* c_r = C_tile + r * ldc;
    for (Index c = 0; c < n_valid; ++c) c_r[c] = accumulate ? c_r[c] + acc[r][c] : acc[r][c];
  }
}

// One MC x NC tile of C: loops over k blocks in order, packing both operands.
template <typename T>
void gemm_tile(MatrixView<T> A, MatrixView<T> B, T* C, Index ldc, Index i0, Index j0,
               Index mc, Index nc, Index k, bool accumulate, T* A_packed, T* B_packed) {
  constexpr Index MR = GemmBlocking<T>::kMR;
  constexpr Index NR = GemmBlocking<T>::kNR;
  constexpr Index KC = GemmBlocking<T>::kKC;
  for (Index p0 = 0; p0 < k; p0 += KC) {
    const Index kc = std::min(KC, k - p0);
    pack_A(A, i0, p0, mc, kc, A_packed);
    pack_B(B, p0, j0, kc, nc, B_packed);
    const bool add = accumulate || p0 > 0;
    for (Index jr = 0; jr < nc; jr += NR) {
      for (Index ir = 0; ir < mc; ir += MR) {
        micro_kernel(A_packed + ir * kc, B_packed + jr * kc,
                     C + (i0 + ir) * ldc + j0 + jr, ldc, kc, std::min(MR, mc - ir),
                     std::min(NR, nc - jr), add);
      }
    }
  }
}

// C = or += A B through packed panels; threads own whole MC x NC tiles of C.
template <typename T>
void gemm_packed(MatrixView<T> A, MatrixView<T> B, T* C, Index ldc, Index m, Index n,
                 Index k, bool accumulate, int n_threads) {
  using Blocking = GemmBlocking<T>;
  const Index tiles_m = (m + Blocking::kMC - 1) / Blocking::kMC;
  const Index tiles_n = (n + Blocking::kNC - 1) / Blocking::kNC;
  const bool parallel = m * n * k >= kMinParallelFlops && tiles_m * tiles_n > 1;
  const Index kc = std::min(Blocking::kKC, k);
  const Index a_size = (Blocking::kMC + Blocking::kMR) * kc;
  const Index b_size = (Blocking::kNC + Blocking::kNR) * kc;

#pragma omp parallel num_threads(n_threads) if (parallel)
  {
    // Grow-only per-thread panels: no allocation once the largest shape has run.
    thread_local Buffer<T> A_packed, B_packed;
    if (static_cast<Index>(A_packed.size()) < a_size) A_packed.resize(a_size);
    if (static_cast<Index>(B_packed.size()) < b_size) B_packed.resize(b_size);

#pragma omp for schedule(static)
    for (Index tile = 0; tile < tiles_m * tiles_n; ++tile) {
      const Index i0 = (tile / tiles_n) * Blocking::kMC;
      const Index j0 = (tile % tiles_n) * Blocking::kNC;
      gemm_tile(A, B, C, ldc, i0, j0, std::min(Blocking::kMC, m - i0),
                std::min(Blocking::kNC, n - j0), k, accumulate, A_packed.data(),
                B_packed.data());
    }
  }
}

// C (m x n, row-major, leading dimension ldc) = A B, or C += A B when accumulate.
template <typename T>
void gemm(MatrixView<T> A, MatrixView<T> B, T* C, Index ldc, Index m, Index n, Index k,
          bool accumulate, int n_threads) {
  if (m == 0 || n == 0) return;
  if (k == 0) {
    if (!accumulate) {
      for (Index i = 0; i < m; ++i) std::fill(C + i * ldc, C + i * ldc + n, T(0));
    }
    return;
  }
  const bool thin = m < GemmBlocking<T>::kMR || n < GemmBlocking<T>::kNR;
  if (thin || m * n * k < kMinPackedFlops) {
    gemm_unpacked(A, B, C, ldc, m, n, k, accumulate, n_threads);
  } else {
    gemm_packed(A, B, C, ldc, m, n, k, accumulate, n_threads);
  }
}

}  // namespace fastmlp
