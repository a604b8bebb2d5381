// The sparse product of a pruned layer for prediction: Z = X W^T summed over the
// kept weights only, which the layer lists in compressed sparse row order
// (KeptWeights in model.hpp). The weight values are read from W itself.
// Callers load the layer's KeptWeights once with std::atomic_load and pass it
// in, so a mask set meanwhile in another thread cannot free it under them.
//
// Each element of Z sums its unit's kept weights in ascending column order, and
// threads own whole blocks of rows (or, for a few rows, whole units), so the
// result does not depend on the thread count. It equals the dense product up to
// the rounding of a different summation order.
#pragma once

#include <algorithm>
#include <cstdint>
#include <memory>

#include "../common.hpp"
#include "../engine.hpp"
#include "../model.hpp"
#include "gemm.hpp"
#include "isa.hpp"
#include "parallel.hpp"
#include "transpose_pack.hpp"

FASTMLP_ENGINE_BEGIN

// Rows of X per block of the blocked product. A unit's 32 sums fill two AVX-512
// or four AVX2 registers, and a block's transposed inputs (n_in x 32) take 98 KiB
// for 784 float inputs, which stays in L2.
constexpr Index kSparseBlockRows = 32;

// Pruned layers that keep at most this share of their weights use the sparse
// product when predicting (ForwardPath::kAuto): kSparseMaxDensitySmallBatch for
// fewer than kSparseBlockRows rows (the gathering dot products), else
// kSparseMaxDensity (the blocked path). Measured with `python bench/sparse.py
// --full` on a 784-256-128-10 float32 network, AVX-512 build, 2 threads, on a
// 2-core AMD EPYC machine shared with other jobs (load average 2 to 6), so the
// figures are rough. The sparse product broke even near density 0.06 at batch 1
// and between 0.2 and 0.3 at batch 10,000. At batch 32 a fastest-of-30 timing
// put it near 0.4, so the blocked path's value is on the safe side.
constexpr double kSparseMaxDensitySmallBatch = 0.05;
constexpr double kSparseMaxDensity = 0.2;

// The density up to which predict uses the sparse product for `rows` rows.
inline double sparse_max_density(Index rows) {
  return rows < kSparseBlockRows ? kSparseMaxDensitySmallBatch : kSparseMaxDensity;
}

// Whether predict multiplies `rows` rows by a layer with sparse_product, given
// the layer's kept weights (null for a layer without removed weights).
template <typename T>
bool uses_sparse_product(const Layer<T>& layer, const KeptWeights* kept,
                         ForwardPath path, Index rows) {
  if (kept == nullptr || path == ForwardPath::kDense) return false;
  const double weights = double(layer.n_out * layer.n_in);
  const double density = double(kept->columns.size()) / weights;
  return path == ForwardPath::kSparse || density <= sparse_max_density(rows);
}

// XT (n_in, kSparseBlockRows) = the transpose of X_block (kSparseBlockRows, n_in),
// by the build's vector transpose where it has one.
template <typename T>
void transpose_block(const T* X_block, T* XT, Index n_in) {
  constexpr Index kRows = kSparseBlockRows;
  const Index done = TransposePacker<T>::pack(X_block, n_in, n_in, kRows, kRows, XT);
  for (Index r = 0; r < kRows; ++r) {
    const T* x_r = X_block + r * n_in;
    for (Index j = done; j < n_in; ++j) XT[j * kRows + r] = x_r[j];
  }
}

// Bytes of one vector register of this build: SSE2, AVX2 or AVX-512.
constexpr Index kVectorBytes = Isa::FASTMLP_ISA_LEVEL == Isa::kAvx512 ? 64
                               : Isa::FASTMLP_ISA_LEVEL == Isa::kAvx2 ? 32
                                                                      : 16;

// Z_block (kSparseBlockRows, n_out) for the rows X_block (kSparseBlockRows, n_in).
// The block is first transposed into XT (n_in, kSparseBlockRows), so each kept
// weight w_oj adds w_oj times the contiguous row j of XT to the unit's sums.
template <typename T>
void sparse_block(const Layer<T>& layer, const KeptWeights& kept, const T* X_block,
                  T* XT, T* Z_block) {
  constexpr Index kRows = kSparseBlockRows;
  // A unit's sums as GCC vectors of one register each. With an array and `omp
  // simd` instead, GCC 12 unrolled and jammed the loop over weights and left its
  // main part scalar, and a single vector wider than a register lived in memory.
  typedef T Vector __attribute__((vector_size(kVectorBytes)));
  constexpr Index kLanes = kVectorBytes / Index(sizeof(T));
  constexpr Index kVectors = kRows / kLanes;
  const Index n_in = layer.n_in, n_out = layer.n_out;
  transpose_block(X_block, XT, n_in);

  const Index* row_start = kept.row_start.data();
  const std::uint32_t* columns = kept.columns.data();
  for (Index o = 0; o < n_out; ++o) {
    const T* w_o = layer.W.data() + o * n_in;
    Vector sums[kVectors] = {};
    for (Index k = row_start[o]; k < row_start[o + 1]; ++k) {
      const Index j = columns[k];
      const T w = w_o[j];
      const T* xt_j = XT + j * kRows;
#pragma GCC unroll 16
      for (Index v = 0; v < kVectors; ++v) {
        Vector x;
        __builtin_memcpy(&x, xt_j + v * kLanes, sizeof x);
        sums[v] += w * x;
      }
    }
    alignas(kAlignment) T lanes[kRows];
    __builtin_memcpy(lanes, sums, sizeof lanes);
    for (Index r = 0; r < kRows; ++r) Z_block[r * n_out + o] = lanes[r];
  }
}

// Dot product of w_o and x_i over the columns [begin, end) of a unit's kept
// weights, in four interleaved partial sums so that the multiply-adds do not
// wait for each other.
template <typename T>
T gathered_dot(const T* w_o, const T* x_i, const std::uint32_t* columns, Index begin,
               Index end) {
  T s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  Index k = begin;
  for (; k + 4 <= end; k += 4) {
    s0 += w_o[columns[k]] * x_i[columns[k]];
    s1 += w_o[columns[k + 1]] * x_i[columns[k + 1]];
    s2 += w_o[columns[k + 2]] * x_i[columns[k + 2]];
    s3 += w_o[columns[k + 3]] * x_i[columns[k + 3]];
  }
  for (; k < end; ++k) s0 += w_o[columns[k]] * x_i[columns[k]];
  return (s0 + s1) + (s2 + s3);
}

// Z (rows, n_out) for a few rows of X (rows, n_in): per unit, one dot product
// that gathers the inputs of its kept columns. Threads own whole units.
template <typename T>
void sparse_rows(const Layer<T>& layer, const KeptWeights& kept, const T* X, T* Z,
                 Index rows, int n_threads) {
  const Index n_in = layer.n_in, n_out = layer.n_out;
  const Index* row_start = kept.row_start.data();
  const std::uint32_t* columns = kept.columns.data();
  for_each_chunk(n_out, n_threads, [&](Index begin, Index end) {
    for (Index i = 0; i < rows; ++i) {
      const T* x_i = X + i * n_in;
      for (Index o = begin; o < end; ++o) {
        Z[i * n_out + o] = gathered_dot(layer.W.data() + o * n_in, x_i, columns,
                                        row_start[o], row_start[o + 1]);
      }
    }
  });
}

// Z (n, n_out) = X (n, n_in) W^T of a pruned layer, over its kept weights (no
// bias). Full blocks of kSparseBlockRows rows take the blocked path, the
// remaining rows (all of them for a batch of one) the gathering dot products.
template <typename T>
void sparse_product(const Layer<T>& layer, const KeptWeights& kept, const T* X, T* Z,
                    Index n, int n_threads) {
  constexpr Index kRows = kSparseBlockRows;
  const Index n_in = layer.n_in, n_out = layer.n_out;
  const Index kept_count = static_cast<Index>(kept.columns.size());
  const Index n_blocks = n / kRows;
  // A thread team starts at the GEMM's threshold of multiply-adds. A batch of
  // one row with 140,000 kept weights ran 90 times slower on two threads than on
  // one on a busy machine, waiting for the second thread.
  const auto threads = [n_threads](Index multiply_adds) {
    return multiply_adds >= kMinParallelFlops ? n_threads : 1;
  };
  const auto blocks = [&](Index begin, Index end) {
    thread_local Buffer<T> XT;
    if (static_cast<Index>(XT.size()) < n_in * kRows) XT.resize(n_in * kRows);
    for (Index block = begin; block < end; ++block) {
      const Index i0 = block * kRows;
      sparse_block(layer, kept, X + i0 * n_in, XT.data(), Z + i0 * n_out);
    }
  };
  for_each_chunk(n_blocks, threads(n_blocks * kRows * kept_count), blocks);

  const Index done = n_blocks * kRows;
  if (done == n) return;
  sparse_rows(layer, kept, X + done * n_in, Z + done * n_out, n - done,
              threads((n - done) * kept_count));
}

FASTMLP_ENGINE_END
