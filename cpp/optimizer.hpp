// Minibatch SGD with momentum or Nesterov momentum and L1/L2 penalties on weights.
#pragma once

#include <cmath>

#include "common.hpp"

namespace fastmlp {

// Hyperparameters of one step; l1 and l2 are already scaled as the caller wants
// (scikit-learn's estimators divide them by the batch's row count).
struct SgdStep {
  double learning_rate = 0.1;
  double momentum = 0.0;
  bool nesterov = false;
  double l1 = 0.0;
  double l2 = 0.0;
};

template <typename T>
T sign(T w) {
  return w > 0 ? T(1) : (w < 0 ? T(-1) : T(0));  // sign(0) = 0: no L1 pull at zero
}

// One update of `count` parameters from their gradient g (penalties excluded):
// g' = g + l2 w + l1 sign(w); plain: w -= eta g'; momentum: v = mu v - eta g',
// w += v; Nesterov: v = mu v - eta g', w += mu v - eta g'. With momentum 0 the
// velocity is left untouched. Penalties are skipped for biases (penalize = false).
// Returns sum(w^2) and sum(|w|) of the weights before the update in sums[0..1],
// summed in index order.
template <typename T>
void sgd_update(const T* g, T* w, T* v, Index count, const SgdStep& step, bool penalize,
                double* sums) {
  const T eta = T(step.learning_rate), mu = T(step.momentum);
  const T l1 = penalize ? T(step.l1) : T(0), l2 = penalize ? T(step.l2) : T(0);
  double squares = 0, absolutes = 0;
  for (Index e = 0; e < count; ++e) {
    const T w_e = w[e];
    squares += double(w_e) * double(w_e);
    absolutes += std::abs(double(w_e));
    const T g_e = g[e] + l2 * w_e + l1 * sign(w_e);
    if (step.momentum == 0.0) {
      w[e] = w_e - eta * g_e;
    } else {
      v[e] = mu * v[e] - eta * g_e;
      w[e] = step.nesterov ? w_e + (mu * v[e] - eta * g_e) : w_e + v[e];
    }
  }
  sums[0] = squares;
  sums[1] = absolutes;
}

// sgd_update over the rows of a (rows, cols) weight matrix, threads owning whole
// rows; per-row sums land in row_sums (2 * rows) and are added in row order, so
// the result does not depend on the thread count. Returns {sum w^2, sum |w|}.
template <typename T>
void sgd_update_matrix(const T* dW, T* W, T* vW, Index rows, Index cols,
                       const SgdStep& step, double* row_sums, double* sums,
                       int n_threads) {
  const bool parallel = rows * cols >= kMinParallelElements;
#pragma omp parallel for schedule(static) num_threads(n_threads) if (parallel)
  for (Index r = 0; r < rows; ++r) {
    sgd_update(dW + r * cols, W + r * cols, vW + r * cols, cols, step, true,
               row_sums + 2 * r);
  }
  sums[0] = sums[1] = 0;
  for (Index r = 0; r < rows; ++r) {
    sums[0] += row_sums[2 * r];
    sums[1] += row_sums[2 * r + 1];
  }
}

}  // namespace fastmlp
