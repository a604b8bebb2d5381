// Minibatch SGD with momentum or Nesterov momentum and L1/L2 penalties on weights.
#pragma once

#include <algorithm>
#include <cmath>

#include "../common.hpp"
#include "../fit_options.hpp"
#include "isa.hpp"
#include "parallel.hpp"

FASTMLP_ENGINE_BEGIN

template <typename T>
T sign(T w) {
  return w > 0 ? T(1) : (w < 0 ? T(-1) : T(0));  // sign(0) = 0: no L1 pull at zero
}

enum class Momentum { kNone, kClassic, kNesterov };

// The update loop for one momentum kind, with or without the penalty sums. Each
// combination is its own loop: branches inside a vector loop would run every
// path for every element.
template <Momentum kind, bool with_sums, typename T>
void sgd_update_loop(const T* g, T* w, T* v, Index count, T eta, T mu, T l1, T l2,
                     double* sums) {
  double squares = 0, absolutes = 0;
#pragma omp simd reduction(+ : squares, absolutes)
  for (Index e = 0; e < count; ++e) {
    const T w_e = w[e];
    if constexpr (with_sums) {
      squares += double(w_e) * double(w_e);
      absolutes += std::abs(double(w_e));
    }
    const T g_e = g[e] + l2 * w_e + l1 * sign(w_e);
    if constexpr (kind == Momentum::kNone) {
      w[e] = w_e - eta * g_e;
    } else {
      const T v_e = mu * v[e] - eta * g_e;
      v[e] = v_e;
      if constexpr (kind == Momentum::kNesterov) {
        w[e] = w_e + (mu * v_e - eta * g_e);
      } else {
        w[e] = w_e + v_e;
      }
    }
  }
  if constexpr (with_sums) {
    sums[0] = squares;
    sums[1] = absolutes;
  }
}

template <Momentum kind, typename T>
void sgd_update_kind(const T* g, T* w, T* v, Index count, T eta, T mu, T l1, T l2,
                     bool with_sums, double* sums) {
  if (with_sums) {
    sgd_update_loop<kind, true>(g, w, v, count, eta, mu, l1, l2, sums);
  } else {
    sgd_update_loop<kind, false>(g, w, v, count, eta, mu, l1, l2, sums);
  }
}

// One update of `count` parameters from their gradient g (penalties excluded):
// g' = g + l2 w + l1 sign(w); plain: w -= eta g'; momentum: v = mu v - eta g',
// w += v; Nesterov: v = mu v - eta g', w += mu v - eta g'. With momentum 0 the
// velocity is left untouched. l1 = l2 = 0 for biases. With with_sums, returns
// in sums[0..1] sum(w^2) and sum(|w|) of the weights before the update, in
// double, read in the same pass that updates w.
template <typename T>
void sgd_update(const T* g, T* w, T* v, Index count, const SgdStep& step, T l1, T l2,
                bool with_sums = false, double* sums = nullptr) {
  const T eta = T(step.learning_rate), mu = T(step.momentum);
  if (step.momentum == 0.0) {
    sgd_update_kind<Momentum::kNone>(g, w, v, count, eta, mu, l1, l2, with_sums, sums);
  } else if (step.nesterov) {
    sgd_update_kind<Momentum::kNesterov>(g, w, v, count, eta, mu, l1, l2, with_sums, sums);
  } else {
    sgd_update_kind<Momentum::kClassic>(g, w, v, count, eta, mu, l1, l2, with_sums, sums);
  }
}

// sums[0..1] = the per-row penalty sums in row_sums (2 per row), added in row
// order so that the result does not depend on the thread count; 0 without sums.
inline void add_row_sums(const double* row_sums, Index rows, bool with_sums,
                         double* sums) {
  sums[0] = sums[1] = 0;
  if (!with_sums) return;
  for (Index r = 0; r < rows; ++r) {
    sums[0] += row_sums[2 * r];
    sums[1] += row_sums[2 * r + 1];
  }
}

// sgd_update over the rows of a (rows, cols) weight matrix, threads owning whole
// rows. Returns in sums the penalty sums of the weights before the update. The
// per-row sums land in row_sums (2 * rows) and are added in row order, so the
// result does not depend on the thread count.
template <typename T>
void sgd_update_matrix(const T* dW, T* W, T* vW, Index rows, Index cols,
                       const SgdStep& step, double* row_sums, double* sums,
                       int n_threads) {
  // The sums only enter the history through l1 and l2, so skip them when both are 0.
  const bool with_sums = step.l1 != 0 || step.l2 != 0;
  for_each_chunk(rows, threads_for(rows * cols, n_threads), [&](Index begin, Index end) {
    for (Index r = begin; r < end; ++r) {
      const Index offset = r * cols;
      sgd_update(dW + offset, W + offset, vW + offset, cols, step, T(step.l1), T(step.l2),
                 with_sums, row_sums + 2 * r);
    }
  });
  add_row_sums(row_sums, rows, with_sums, sums);
}

// Batches of at most this many rows update W straight from dZ and A without
// forming dW. For one row the update is a rank-1 axpy per unit, and skipping the
// dW buffer saves a write and a read of every weight.
constexpr Index kMaxFusedUpdateRows = 8;

// sgd_update_matrix for the gradient dW = dZ^T A of a small batch, computed one
// row at a time into a scratch row: dZ (n, rows), A (n, cols), W (rows, cols).
// Each gradient row is summed over the batch rows in order.
template <typename T>
void sgd_update_outer(const T* dZ, const T* A, T* W, T* vW, Index rows, Index cols,
                      Index n, const SgdStep& step, double* row_sums, double* sums,
                      int n_threads) {
  const bool with_sums = step.l1 != 0 || step.l2 != 0;
  // One-sample steps come every few tens of microseconds. A team for each step
  // sped training up by a third in some runs and halved it in others, when the
  // waiting thread had gone to sleep, so small batches update on one thread.
  const int threads = rows * cols * n >= 8 * kMinParallelElements ? n_threads : 1;
  for_each_chunk(rows, threads, [&](Index begin, Index end) {
    thread_local Buffer<T> gradient_row;
    if (static_cast<Index>(gradient_row.size()) < cols) gradient_row.resize(cols);
    T* g = gradient_row.data();
    for (Index r = begin; r < end; ++r) {
      std::fill(g, g + cols, T(0));
      for (Index i = 0; i < n; ++i) {
        const T dz = dZ[i * rows + r];
        const T* a_i = A + i * cols;
#pragma omp simd
        for (Index j = 0; j < cols; ++j) g[j] += dz * a_i[j];
      }
      const Index offset = r * cols;
      sgd_update(g, W + offset, vW + offset, cols, step, T(step.l1), T(step.l2), with_sums,
                 row_sums + 2 * r);
    }
  });
  add_row_sums(row_sums, rows, with_sums, sums);
}

FASTMLP_ENGINE_END
