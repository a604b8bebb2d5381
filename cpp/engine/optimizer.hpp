// Minibatch SGD with momentum or Nesterov momentum and L1/L2 penalties on weights.
#pragma once

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

// sum(w^2) into sums[0] and sum(|w|) into sums[1], in double; a term whose
// penalty is off is skipped and left 0.
template <typename T>
void penalty_sums(const T* w, Index count, bool squares, bool absolutes, double* sums) {
  double sum_squares = 0, sum_absolutes = 0;
  if (squares) {
#pragma omp simd reduction(+ : sum_squares)
    for (Index e = 0; e < count; ++e) sum_squares += double(w[e]) * double(w[e]);
  }
  if (absolutes) {
#pragma omp simd reduction(+ : sum_absolutes)
    for (Index e = 0; e < count; ++e) sum_absolutes += std::abs(double(w[e]));
  }
  sums[0] = sum_squares;
  sums[1] = sum_absolutes;
}

// One update of `count` parameters from their gradient g (penalties excluded):
// g' = g + l2 w + l1 sign(w); plain: w -= eta g'; momentum: v = mu v - eta g',
// w += v; Nesterov: v = mu v - eta g', w += mu v - eta g'. With momentum 0 the
// velocity is left untouched. l1 = l2 = 0 for biases.
template <typename T>
void sgd_update(const T* g, T* w, T* v, Index count, const SgdStep& step, T l1, T l2) {
  const T eta = T(step.learning_rate), mu = T(step.momentum);
  if (step.momentum == 0.0) {
#pragma omp simd
    for (Index e = 0; e < count; ++e) {
      const T g_e = g[e] + l2 * w[e] + l1 * sign(w[e]);
      w[e] -= eta * g_e;
    }
  } else if (step.nesterov) {
#pragma omp simd
    for (Index e = 0; e < count; ++e) {
      const T g_e = g[e] + l2 * w[e] + l1 * sign(w[e]);
      const T v_e = mu * v[e] - eta * g_e;
      v[e] = v_e;
      w[e] += mu * v_e - eta * g_e;
    }
  } else {
#pragma omp simd
    for (Index e = 0; e < count; ++e) {
      const T g_e = g[e] + l2 * w[e] + l1 * sign(w[e]);
      const T v_e = mu * v[e] - eta * g_e;
      v[e] = v_e;
      w[e] += v_e;
    }
  }
}

// sgd_update over the rows of a (rows, cols) weight matrix, threads owning whole
// rows. Returns in sums the penalty sums of the weights before the update; the
// per-row sums land in row_sums (2 * rows) and are added in row order, so the
// result does not depend on the thread count.
template <typename T>
void sgd_update_matrix(const T* dW, T* W, T* vW, Index rows, Index cols,
                       const SgdStep& step, double* row_sums, double* sums,
                       int n_threads) {
  const bool squares = step.l2 != 0, absolutes = step.l1 != 0;
  for_each_chunk(rows, threads_for(rows * cols, n_threads), [&](Index begin, Index end) {
    for (Index r = begin; r < end; ++r) {
      const Index offset = r * cols;
      penalty_sums(W + offset, cols, squares, absolutes, row_sums + 2 * r);
      sgd_update(dW + offset, W + offset, vW + offset, cols, step, T(step.l1), T(step.l2));
    }
  });
  sums[0] = sums[1] = 0;
  for (Index r = 0; r < rows; ++r) {
    sums[0] += row_sums[2 * r];
    sums[1] += row_sums[2 * r + 1];
  }
}

FASTMLP_ENGINE_END
