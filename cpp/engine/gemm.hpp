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

#include "../common.hpp"
#include "../engine.hpp"
#include "isa.hpp"
#include "parallel.hpp"
#include "transpose_pack.hpp"

FASTMLP_ENGINE_BEGIN

// The build file defines MicroKernel<T> before including this header: its tile
// (kMR x kNR) and run(kc, A_panel, B_panel, C_tile, ldc, m_valid, n_valid,
// accumulate), which sets or adds one tile of C from two packed panels.
template <typename T>
struct MicroKernel;

// Block sizes of the packed path, as upper limits: each dimension is split into
// blocks of equal size no larger than these (784 = 4 x 196, not 3 x 256 + 16), so
// no block is a sliver. With 12 x 32 float tiles, one A panel (12 x 256 floats,
// 12 KiB) stays in a 32-48 KiB L1 cache while B panels stream from L2. The
// B block (256 x 1024 floats at most, 1 MiB) is read from L2 or L3 once per A
// panel.
constexpr Index kMaxKC = 256;
constexpr Index kMaxMC = 192;
constexpr Index kMaxNC = 1024;

// Products with fewer multiply-adds than this skip packing: copying the panels
// would cost about as much as the arithmetic.
constexpr Index kMinPackedFlops = 16 * 16 * 16;
// Products with fewer multiply-adds than this per k block run on one thread,
// because each k block of the packed path costs two barriers. 2^21
// multiply-adds take about 8 us on one core at 250 GFLOP/s. In training on a
// 2-core AVX-512 machine, smaller blocks ran slower on two threads: at batch 32
// the first layer's 784-deep forward product has 4 blocks of 1.6 M.
constexpr Index kMinParallelFlops = Index(1) << 21;

// Unpacked products (one to three rows, as in one-sample steps and inference)
// with fewer multiply-adds than this run on one thread. They have no barriers
// inside, so a team pays once per product. On a 2-core AVX-512 machine the
// 784 x 256 first layer (2^17.6 multiply-adds) of a one-sample step ran 1.5x
// faster on two threads, each keeping half of W in its own L2 cache.
constexpr Index kMinParallelUnpackedFlops = Index(1) << 17;

// Products whose n k is at most this run as scalar loops.
constexpr Index kMaxScalarProduct = 64;

// Outputs per block of the dot-product kernel: 8 independent sums keep two FMA
// pipes of latency 4 busy when there is a single row.
constexpr Index kDotBlock = 8;

// An epilogue finishes rows [i0, i1) and columns [j0, j1) of C once their sums
// over k are complete. The thread that computed them calls epilogue(i0, i1, j0,
// j1) while they are in its cache. It must treat each element on its own, so
// that results do not depend on the blocks or the thread count.
struct NoEpilogue {
  void operator()(Index, Index, Index, Index) const {}
};

// C[i, j0:j1] for rows i of A and columns j of B when both are unit-stride along
// k (C = A B^T with B stored row-major, as in the forward pass X W^T). Each C
// element is one vectorised dot product; 8 columns run at once.
template <typename T>
void dot_columns(MatrixView<T> A, MatrixView<T> B, T* C, Index ldc, Index m, Index k,
                 bool accumulate, Index j0, Index j1) {
  for (Index i = 0; i < m; ++i) {
    const T* a = A.data + i * A.row_stride;
    T* c_i = C + i * ldc;
    Index j = j0;
    for (; j + kDotBlock <= j1; j += kDotBlock) {
      const T* b = B.data + j * B.col_stride;
      const Index s = B.col_stride;
      T s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0, s5 = 0, s6 = 0, s7 = 0;
#pragma omp simd reduction(+ : s0, s1, s2, s3, s4, s5, s6, s7)
      for (Index p = 0; p < k; ++p) {
        const T x = a[p];
        s0 += x * b[p];
        s1 += x * b[s + p];
        s2 += x * b[2 * s + p];
        s3 += x * b[3 * s + p];
        s4 += x * b[4 * s + p];
        s5 += x * b[5 * s + p];
        s6 += x * b[6 * s + p];
        s7 += x * b[7 * s + p];
      }
      const T sums[kDotBlock] = {s0, s1, s2, s3, s4, s5, s6, s7};
      for (Index q = 0; q < kDotBlock; ++q) {
        c_i[j + q] = accumulate ? c_i[j + q] + sums[q] : sums[q];
      }
    }
    for (; j < j1; ++j) {
      const T* b = B.data + j * B.col_stride;
      T sum = 0;
#pragma omp simd reduction(+ : sum)
      for (Index p = 0; p < k; ++p) sum += a[p] * b[p];
      c_i[j] = accumulate ? c_i[j] + sum : sum;
    }
  }
}

// C[i, j0:j1] when B is unit-stride along j (B row-major): C_i += A(i, p) B_p,
// one vectorised axpy per (i, p), summed over p in order.
template <typename T>
void axpy_columns(MatrixView<T> A, MatrixView<T> B, T* C, Index ldc, Index m, Index k,
                  bool accumulate, Index j0, Index j1) {
  for (Index i = 0; i < m; ++i) {
    T* c_i = C + i * ldc;
    if (!accumulate) std::fill(c_i + j0, c_i + j1, T(0));
    for (Index p = 0; p < k; ++p) {
      const T a = A(i, p);
      const T* b_p = B.data + p * B.row_stride;
#pragma omp simd
      for (Index j = j0; j < j1; ++j) c_i[j] += a * b_p[j];
    }
  }
}

// Any strides: the plain triple loop.
template <typename T>
void strided_columns(MatrixView<T> A, MatrixView<T> B, T* C, Index ldc, Index m, Index k,
                     bool accumulate, Index j0, Index j1) {
  for (Index i = 0; i < m; ++i) {
    for (Index j = j0; j < j1; ++j) {
      T sum = 0;
      for (Index p = 0; p < k; ++p) sum += A(i, p) * B(p, j);
      T& c = C[i * ldc + j];
      c = accumulate ? c + sum : sum;
    }
  }
}

// C[i, j0:j1] by the loop that suits the strides of A and B.
template <typename T>
void unpacked_columns(MatrixView<T> A, MatrixView<T> B, T* C, Index ldc, Index m, Index k,
                      bool accumulate, Index j0, Index j1) {
  if (A.col_stride == 1 && B.row_stride == 1) {
    dot_columns(A, B, C, ldc, m, k, accumulate, j0, j1);
  } else if (B.col_stride == 1) {
    axpy_columns(A, B, C, ldc, m, k, accumulate, j0, j1);
  } else {
    strided_columns(A, B, C, ldc, m, k, accumulate, j0, j1);
  }
}

// C (m x n, row-major, leading dimension ldc) = or += A (m x k) B (k x n), without
// packing: for small products and matrix-vector shapes. Threads split the columns
// of C, so each C element is one thread's sum over k in order.
template <typename T, typename Epilogue>
void gemm_unpacked(MatrixView<T> A, MatrixView<T> B, T* C, Index ldc, Index m, Index n,
                   Index k, bool accumulate, int n_threads, const Epilogue& epilogue) {
  const int threads =
      m * n * k >= kMinParallelUnpackedFlops && n >= 2 * kDotBlock ? n_threads : 1;
  // Chunks of whole dot blocks, so the split never changes which kernel computes a
  // column.
  const Index blocks = (n + kDotBlock - 1) / kDotBlock;
  for_each_chunk(blocks, threads, [&](Index begin, Index end) {
    const Index j0 = begin * kDotBlock, j1 = std::min(n, end * kDotBlock);
    unpacked_columns(A, B, C, ldc, m, k, accumulate, j0, j1);
    epilogue(0, m, j0, j1);
  });
}

// panel[p * width + q] = M(p0 + p, q0 + q) for q < valid, 0 for valid <= q <
// width: a k-major panel of `width` rows of M^T (B panels: M = B; A panels:
// M = A^T). Unit strides take the loops that read memory in order.
template <typename T>
void pack_panel(MatrixView<T> M, Index p0, Index q0, Index kc, Index valid, Index width,
                T* panel) {
  const T* base = M.data + p0 * M.row_stride + q0 * M.col_stride;
  if (M.col_stride == 1) {
    for (Index p = 0; p < kc; ++p) {
      const T* src = base + p * M.row_stride;
      T* dst = panel + p * width;
      for (Index q = 0; q < valid; ++q) dst[q] = src[q];
      for (Index q = valid; q < width; ++q) dst[q] = T(0);
    }
    return;
  }
  // A transpose: rows of M^T are contiguous in p. The build's vector transpose
  // handles whole blocks of p when it has one; plain loops read each row once
  // and write with stride `width` for the rest.
  Index p_done = 0;
  if (M.row_stride == 1) {
    p_done = TransposePacker<T>::pack(base, M.col_stride, kc, valid, width, panel);
  }
  for (Index q = 0; q < valid; ++q) {
    const T* src = base + q * M.col_stride;
    for (Index p = p_done; p < kc; ++p) panel[p * width + q] = src[p * M.row_stride];
  }
  for (Index q = valid; q < width; ++q) {
    for (Index p = p_done; p < kc; ++p) panel[p * width + q] = T(0);
  }
}

// Size of blocks that split `total` into equal parts of at most `limit`, rounded
// up to a multiple of `multiple`.
inline Index even_block(Index total, Index limit, Index multiple) {
  const Index blocks = (total + limit - 1) / limit;
  const Index size = (total + blocks - 1) / blocks;
  return (size + multiple - 1) / multiple * multiple;
}

// Block sizes and buffers of one packed product, fixed before any thread starts.
template <typename T>
struct PackedGemm {
  Index kc, mc, nc;  // block sizes
  T* A_packed;       // mc x kc, as mc / mr panels
  T* B_packed;       // kc x nc, as nc / nr panels
};

// The loops of the packed product. Called by every thread of a team (or by one
// thread outside any team): worksharing splits the packing and the tiles, and
// the implicit barriers order packing before use and use before repacking.
template <typename T, typename Epilogue>
void gemm_packed_loops(const PackedGemm<T>& g, MatrixView<T> A, MatrixView<T> B, T* C,
                       Index ldc, Index m, Index n, Index k, bool accumulate,
                       const Epilogue& epilogue) {
  constexpr Index mr = MicroKernel<T>::kMR, nr = MicroKernel<T>::kNR;
  for (Index jc = 0; jc < n; jc += g.nc) {
    const Index nc = std::min(g.nc, n - jc);
    const Index b_panels = (nc + nr - 1) / nr;
    for (Index pc = 0; pc < k; pc += g.kc) {
      const Index kc = std::min(g.kc, k - pc);
      // Blocks after the first add to C: each element sums its k blocks in order.
      const bool add = accumulate || pc > 0;
      const bool last_k_block = pc + kc == k;
#pragma omp for schedule(static) nowait
      for (Index jp = 0; jp < b_panels; ++jp) {
        pack_panel(B, pc, jc + jp * nr, kc, std::min(nr, nc - jp * nr), nr,
                   g.B_packed + jp * nr * kc);
      }
      for (Index ic = 0; ic < m; ic += g.mc) {
        const Index mc = std::min(g.mc, m - ic);
        const Index a_panels = (mc + mr - 1) / mr;
#pragma omp for schedule(static)
        for (Index ip = 0; ip < a_panels; ++ip) {
          pack_panel(A.transposed(), pc, ic + ip * mr, kc, std::min(mr, mc - ip * mr), mr,
                     g.A_packed + ip * mr * kc);
        }
        // Threads own whole tiles of C; one A panel serves a run of B panels.
#pragma omp for schedule(static)
        for (Index t = 0; t < a_panels * b_panels; ++t) {
          const Index ip = t / b_panels, jp = t % b_panels;
          const Index i0 = ic + ip * mr, j0 = jc + jp * nr;
          const Index rows = std::min(mr, mc - ip * mr), cols = std::min(nr, nc - jp * nr);
          MicroKernel<T>::run(kc, g.A_packed + ip * mr * kc, g.B_packed + jp * nr * kc,
                              C + i0 * ldc + j0, ldc, rows, cols, add);
          if (last_k_block) epilogue(i0, i0 + rows, j0, j0 + cols);
        }
      }
    }
  }
}

// gemm_packed_loops for a team whose threads each own a fixed run of B panels
// in every column block, for products with at least two B panels per thread.
// Each thread packs its own B panels into its own buffer, so only the shared A
// panels need a barrier before use. A alternates between two buffers (A_packed
// and A_packed_next), and a thread packs a buffer again only after a barrier
// that every thread reaches after its last use of it. That is one barrier per
// block of A instead of two.
template <typename T, typename Epilogue>
void gemm_packed_owned_columns(const PackedGemm<T>& g, T* A_packed_next, MatrixView<T> A,
                               MatrixView<T> B, T* C, Index ldc, Index m, Index n, Index k,
                               bool accumulate, const Epilogue& epilogue) {
  constexpr Index mr = MicroKernel<T>::kMR, nr = MicroKernel<T>::kNR;
  thread_local Buffer<T> own_B_buffer;
  if (static_cast<Index>(own_B_buffer.size()) < g.kc * g.nc) own_B_buffer.resize(g.kc * g.nc);
  T* B_packed = own_B_buffer.data();
  T* A_buffers[2] = {g.A_packed, A_packed_next};
  int parity = 0;
  const Index thread = omp_get_thread_num(), threads = omp_get_num_threads();
  for (Index jc = 0; jc < n; jc += g.nc) {
    const Index nc = std::min(g.nc, n - jc);
    const Index b_panels = (nc + nr - 1) / nr;
    const Index jp_begin = b_panels * thread / threads;
    const Index jp_end = b_panels * (thread + 1) / threads;
    for (Index pc = 0; pc < k; pc += g.kc) {
      const Index kc = std::min(g.kc, k - pc);
      const bool add = accumulate || pc > 0;
      const bool last_k_block = pc + kc == k;
      for (Index jp = jp_begin; jp < jp_end; ++jp) {
        pack_panel(B, pc, jc + jp * nr, kc, std::min(nr, nc - jp * nr), nr,
                   B_packed + jp * nr * kc);
      }
      for (Index ic = 0; ic < m; ic += g.mc) {
        const Index mc = std::min(g.mc, m - ic);
        const Index a_panels = (mc + mr - 1) / mr;
        T* A_packed = A_buffers[parity];
        parity = 1 - parity;
#pragma omp for schedule(static)
        for (Index ip = 0; ip < a_panels; ++ip) {
          pack_panel(A.transposed(), pc, ic + ip * mr, kc, std::min(mr, mc - ip * mr), mr,
                     A_packed + ip * mr * kc);
        }
        for (Index jp = jp_begin; jp < jp_end; ++jp) {
          for (Index ip = 0; ip < a_panels; ++ip) {
            const Index i0 = ic + ip * mr, j0 = jc + jp * nr;
            const Index rows = std::min(mr, mc - ip * mr), cols = std::min(nr, nc - jp * nr);
            MicroKernel<T>::run(kc, A_packed + ip * mr * kc, B_packed + jp * nr * kc,
                                C + i0 * ldc + j0, ldc, rows, cols, add);
            if (last_k_block) epilogue(i0, i0 + rows, j0, j0 + cols);
          }
        }
      }
    }
  }
}

// C = or += A B through packed panels and the active micro-kernel.
template <typename T, typename Epilogue>
void gemm_packed(MatrixView<T> A, MatrixView<T> B, T* C, Index ldc, Index m, Index n,
                 Index k, bool accumulate, int n_threads, const Epilogue& epilogue) {
  PackedGemm<T> g;
  g.kc = even_block(k, kMaxKC, 1);
  g.mc = even_block(m, kMaxMC, MicroKernel<T>::kMR);
  g.nc = even_block(n, kMaxNC, MicroKernel<T>::kNR);

  // Grow-only buffers of the calling thread, shared with its team: no allocation
  // once the largest shape has run, and concurrent callers never share one.
  thread_local Buffer<T> A_buffer, B_buffer;
  const std::size_t a_size = g.mc * g.kc, b_size = g.kc * g.nc;
  if (A_buffer.size() < 2 * a_size) A_buffer.resize(2 * a_size);
  if (B_buffer.size() < b_size) B_buffer.resize(b_size);
  g.A_packed = A_buffer.data();
  g.B_packed = B_buffer.data();
  // Taken here: inside the parallel region A_buffer names each thread's own.
  T* const A_packed_next = A_buffer.data() + a_size;

  const Index k_blocks = (k + g.kc - 1) / g.kc;
  if (n_threads > 1 && m * n * k / k_blocks >= kMinParallelFlops) {
    // Threads own B panels when every thread gets at least two in each column
    // block; narrower products (a 10-output layer) share their tiles instead.
    const Index b_panels = (std::min(g.nc, n) + MicroKernel<T>::kNR - 1) / MicroKernel<T>::kNR;
    if (b_panels >= 2 * n_threads) {
#pragma omp parallel num_threads(n_threads)
      gemm_packed_owned_columns(g, A_packed_next, A, B, C, ldc, m, n, k, accumulate,
                                epilogue);
    } else {
#pragma omp parallel num_threads(n_threads)
      gemm_packed_loops(g, A, B, C, ldc, m, n, k, accumulate, epilogue);
    }
  } else {
    gemm_packed_loops(g, A, B, C, ldc, m, n, k, accumulate, epilogue);
  }
}

// Columns [j0, j1) of C = A B for a one-row A (1 x k), on the calling thread,
// with the bits gemm gives them: each column of a product gemm does not pack is
// one sum over k whose order depends only on n and k, whichever block or
// thread computes it.
template <typename T>
void gemm_row_columns(MatrixView<T> A, MatrixView<T> B, T* C, Index n, Index k, Index j0,
                      Index j1) {
  if (n * k <= kMaxScalarProduct) {
    strided_columns(A, B, C, n, 1, k, false, j0, j1);
  } else {
    unpacked_columns(A, B, C, n, 1, k, false, j0, j1);
  }
}

// C (m x n, row-major, leading dimension ldc) = A B, or C += A B when accumulate,
// then epilogue on every element of C (see NoEpilogue).
template <typename T, typename Epilogue = NoEpilogue>
void gemm(MatrixView<T> A, MatrixView<T> B, T* C, Index ldc, Index m, Index n, Index k,
          bool accumulate, int n_threads, const Epilogue& epilogue = {}) {
  if (m == 0 || n == 0) return;
  if (k == 0) {
    if (!accumulate) {
      for (Index i = 0; i < m; ++i) std::fill(C + i * ldc, C + i * ldc + n, T(0));
    }
    epilogue(0, m, 0, n);
    return;
  }
  // Products of a tiny layer (XOR's 2-4-1) have too few terms per row for any
  // vector loop: its masks and horizontal sums cost more than scalar code. The
  // test looks at n and k only, so that a layer's rows are computed by the same
  // code whatever the batch size.
  if (n * k <= kMaxScalarProduct) {
    strided_columns(A, B, C, ldc, m, k, accumulate, 0, n);
    epilogue(0, m, 0, n);
    return;
  }
  // Matrix-vector shapes and tiny products gain nothing from packing.
  const bool thin = m < 4 || n < 4;
  if (thin || m * n * k < kMinPackedFlops) {
    gemm_unpacked(A, B, C, ldc, m, n, k, accumulate, n_threads, epilogue);
  } else {
    gemm_packed(A, B, C, ldc, m, n, k, accumulate, n_threads, epilogue);
  }
}

FASTMLP_ENGINE_END
