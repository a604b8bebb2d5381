// The penalised loss of a whole data set and its gradient as one flat vector,
// for full-batch optimizers such as L-BFGS.
//
// theta and grad list every layer in order, each as W_l (n_out, n_in) row-major
// followed by b_l (n_out); model.n_parameters() values in all.
#pragma once

#include <algorithm>
#include <cmath>
#include <vector>

#include "../common.hpp"
#include "../model.hpp"
#include "isa.hpp"
#include "optimizer.hpp"
#include "parallel.hpp"
#include "passes.hpp"
#include "train.hpp"

FASTMLP_ENGINE_BEGIN

// Rows per chunk of the full-batch pass: bounds the workspace (a 4096 x 1024
// float layer is 16 MiB) whatever the data size, as predict does.
constexpr Index kObjectiveChunkRows = 4096;

// Copies theta (double) into the weights and biases of the model; weights
// removed by pruning stay 0.
template <typename T>
void set_flat_parameters(Model<T>& model, const double* theta) {
  for (Index l = 0; l < model.n_layers(); ++l) {
    Layer<T>& layer = model.layer(l);
    for (T& w : layer.W) w = T(*theta++);
    for (T& b : layer.b) b = T(*theta++);
    model.apply_keep_mask(l);
  }
}

// Zeroes the gradient of weights removed by pruning: the loss does not depend
// on them, and a zero gradient keeps an optimizer from moving them.
template <typename T>
void zero_removed_gradients(const Model<T>& model, double* grad) {
  for (Index l = 0; l < model.n_layers(); ++l) {
    const Layer<T>& layer = model.layer(l);
    const Index count = static_cast<Index>(layer.keep.size());
    for (Index e = 0; e < count; ++e) {
      if (!layer.keep[e]) grad[e] = 0;
    }
    grad += layer.n_out * layer.n_in + layer.n_out;
  }
}

// grad[0, count) += weight * g[0, count), in double.
template <typename T>
void add_scaled(const T* g, double weight, double* grad, Index count) {
#pragma omp simd
  for (Index e = 0; e < count; ++e) grad[e] += weight * double(g[e]);
}

// Adds l2/2 ||W||^2 + l1 ||W||_1 of every layer to the returned value and
// l2 W + l1 sign(W) to the weight part of grad; biases carry no penalty.
template <typename T>
double add_penalties(const Model<T>& model, double l1, double l2, double* grad) {
  double penalty = 0;
  for (Index l = 0; l < model.n_layers(); ++l) {
    const Layer<T>& layer = model.layer(l);
    const Index count = layer.n_out * layer.n_in;
    double squares = 0, absolutes = 0;
    for (Index e = 0; e < count; ++e) {
      const double w = double(layer.W[e]);
      squares += w * w;
      absolutes += std::abs(w);
      grad[e] += l2 * w + l1 * double(sign(layer.W[e]));
    }
    penalty += 0.5 * l2 * squares + l1 * absolutes;
    grad += count + layer.n_out;
  }
  return penalty;
}

// E(theta) = mean data loss of X (n, n_in) against Y (n, n_out) plus
// l2/2 ||W||^2 + l1 ||W||_1; returns E and overwrites grad with dE/dtheta. Sets
// the model's parameters to theta. With sample weights s (n; null: none) the
// mean is s-weighted, as in gradients. Rows are taken in chunks of at most
// kObjectiveChunkRows. Each chunk's mean gradient enters grad with the weight
// rows / n (its share of sum(s) when weighted), in chunk order, so the result
// does not depend on the thread count.
template <typename T>
double objective(Model<T>& model, const double* theta, const T* X, const T* Y,
                 const T* sample_weight, Index n, double l1, double l2, double* grad,
                 int n_threads) {
  check_sample_weight(sample_weight, n);
  set_flat_parameters(model, theta);
  std::fill(grad, grad + model.n_parameters(), 0.0);

  // One workspace per calling thread, kept between calls: an optimizer calls
  // this thousands of times on the same shapes.
  thread_local Workspace<T> ws;
  const Index chunk_rows = std::min(n, kObjectiveChunkRows);
  reserve(model, ws, chunk_rows);
  const std::vector<const T*> no_dropout(model.n_layers(), nullptr);
  const double total_weight =
      sample_weight == nullptr ? 0.0 : sum_of_weights(sample_weight, n);
  double loss = 0;
  for (Index start = 0; start < n; start += chunk_rows) {
    const Index rows = std::min(chunk_rows, n - start);
    const T* chunk_weights = sample_weight == nullptr ? nullptr : sample_weight + start;
    const double chunk_weight_sum =
        chunk_weights == nullptr ? 0.0 : sum_of_weights(chunk_weights, rows);
    // A chunk of zero-weight rows adds nothing (and its mean is undefined).
    if (chunk_weights != nullptr && chunk_weight_sum == 0) continue;
    const double weight = chunk_weights == nullptr ? double(rows) / double(n)
                                                   : chunk_weight_sum / total_weight;
    loss += weight * forward(model, ws, X + start * model.n_in(), Y + start * model.n_out(),
                             no_dropout, rows, n_threads, chunk_weights, chunk_weight_sum);
    // Gradients are written from the last layer down, so find where it starts.
    double* layer_grad = grad + model.n_parameters();
    for (Index l = model.n_layers() - 1; l >= 0; --l) {
      const Layer<T>& layer = model.layer(l);
      layer_grad -= layer.n_out * layer.n_in + layer.n_out;
      backward_layer(model, ws, no_dropout, l, rows, n_threads);
      add_scaled(ws.dW[l].data(), weight, layer_grad, layer.n_out * layer.n_in);
      add_scaled(ws.db[l].data(), weight, layer_grad + layer.n_out * layer.n_in,
                 layer.n_out);
    }
  }
  const double penalty = add_penalties(model, l1, l2, grad);
  zero_removed_gradients(model, grad);
  return loss + penalty;
}

FASTMLP_ENGINE_END
