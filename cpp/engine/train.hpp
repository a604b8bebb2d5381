// Gradients of a batch and the training loop: epochs of minibatch updates (SGD,
// RMSprop or Adam) over the whole data set in one call, so Python never loops
// over batches.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <numeric>
#include <stdexcept>
#include <string>
#include <vector>

#include "../common.hpp"
#include "../fit_options.hpp"
#include "../model.hpp"
#include "../random.hpp"
#include "dropout.hpp"
#include "isa.hpp"
#include "optimizer.hpp"
#include "parallel.hpp"
#include "passes.hpp"

FASTMLP_ENGINE_BEGIN

// Throws std::invalid_argument unless the n sample weights (null: none) are
// finite, non-negative and not all zero.
template <typename T>
void check_sample_weight(const T* weights, Index n) {
  if (weights == nullptr) return;
  for (Index i = 0; i < n; ++i) {
    if (!(weights[i] >= 0) || !std::isfinite(weights[i])) {
      throw std::invalid_argument("sample_weight must be finite and >= 0, got " +
                                  std::to_string(weights[i]) + " at index " +
                                  std::to_string(i));
    }
  }
  if (sum_of_weights(weights, n) == 0) {
    throw std::invalid_argument("sample_weight must contain a positive weight, got all zeros");
  }
}

// Mean data loss of X (n, n_in) against Y (n, n_out) and its gradients, written to
// dW[l] (n_out, n_in) and db[l] (n_out). masks[l] (null: layer input kept whole) is
// a (n, sizes[l]) keep-mask; kept units are scaled by 1 / (1 - p[l]). With sample
// weights s (n), the loss is sum_i s_i l_i / sum_i s_i and dW, db are its
// gradients.
template <typename T>
double gradients(const Model<T>& model, const T* X, const T* Y, const T* sample_weight,
                 Index n, const std::vector<const std::uint8_t*>& masks,
                 const std::vector<double>& p, const std::vector<T*>& dW,
                 const std::vector<T*>& db, int n_threads) {
  check_sample_weight(sample_weight, n);
  Workspace<T> ws;
  reserve(model, ws, n);
  std::vector<const T*> D(model.n_layers(), nullptr);
  for (Index l = 0; l < model.n_layers(); ++l) {
    if (masks[l] == nullptr) continue;
    dropout_scales_from_mask(masks[l], p[l], ws.D[l].data(), n, model.sizes()[l]);
    D[l] = ws.D[l].data();
  }
  const T* input = X;
  if (D[0] != nullptr) {
    apply_dropout(X, D[0], ws.A[0].data(), n, model.n_in(), n_threads);
    input = ws.A[0].data();
  }

  const double total_weight =
      sample_weight == nullptr ? 0.0 : sum_of_weights(sample_weight, n);
  const double loss =
      forward(model, ws, input, Y, D, n, n_threads, sample_weight, total_weight);
  for (Index l = model.n_layers() - 1; l >= 0; --l) {
    backward_layer(model, ws, D, l, n, n_threads);
    std::copy(ws.dW[l].begin(), ws.dW[l].end(), dW[l]);
    std::copy(ws.db[l].begin(), ws.db[l].end(), db[l]);
  }
  return loss;
}

// Stands for "no batch" in divergence_error: the check at the end of an epoch.
constexpr std::uint64_t kNoBatch = ~std::uint64_t(0);

// The loss of one batch: data loss and penalty terms, both at the weights before
// the batch's update.
struct BatchLoss {
  double data = 0;
  double penalty = 0;
  bool finite = true;  // false: the loss was NaN or infinite and nothing was updated
  bool skipped = false;  // true: the batch's sample weights sum to 0, so no update
};

// The optimizer state of a layer's weights, and of its biases.
template <typename T>
State<T> weight_state(Layer<T>& layer) {
  return {layer.vW.data(), layer.adam_mW.data(), layer.adam_vW.data(),
          layer.rmsprop_sW.data()};
}
template <typename T>
State<T> bias_state(Layer<T>& layer) {
  return {layer.vb.data(), layer.adam_mb.data(), layer.adam_vb.data(),
          layer.rmsprop_sb.data()};
}

// The first layer's product of the next one-sample step, computed ahead by
// train_batch while the layer's updated weights are in cache.
template <typename T>
struct LookAhead {
  const T* next_input = nullptr;  // the next batch's row; null: compute nothing
  std::uint64_t ready_for = ~std::uint64_t(0);  // batch whose product is in ws.Z[0]
};

// One update step on the batch whose rows are X (rows, n_in) and Y (rows,
// n_out), already gathered; X may be ws.A[0]. weights (null: none) are the rows'
// sample weights, and a batch whose weights sum to 0 is skipped: no forward
// pass, no update. Dropout masks are keyed by (epoch, batch). Adam's step count
// advances only when the batch is updated. A one-row batch with
// look_ahead.next_input set leaves the next row's first-layer product in ws.Z[0]
// and look_ahead.ready_for = batch + 1, and a batch numbered ready_for starts
// from it.
template <typename T>
BatchLoss train_batch(Model<T>& model, Workspace<T>& ws, const T* X, const T* Y,
                      const T* weights, Index rows, const FitOptions& options,
                      std::uint64_t epoch, std::uint64_t batch, std::vector<const T*>& D,
                      int n_threads, LookAhead<T>& look_ahead) {
  const bool first_product_ready = look_ahead.ready_for == batch;
  look_ahead.ready_for = ~std::uint64_t(0);
  const double total_weight = weights == nullptr ? 0.0 : sum_of_weights(weights, rows);
  if (weights != nullptr && total_weight == 0) return {0.0, 0.0, true, true};
  for (Index l = 0; l < model.n_layers(); ++l) {
    const double p = options.dropout[l];
    D[l] = nullptr;
    if (p == 0) continue;
    dropout_scales(dropout_key(model.seed(), epoch, batch, l), p, ws.D[l].data(), rows,
                   model.sizes()[l], n_threads);
    D[l] = ws.D[l].data();
  }
  if (D[0] != nullptr) {
    apply_dropout(X, D[0], ws.A[0].data(), rows, model.n_in(), n_threads);
    X = ws.A[0].data();
  }

  const double loss = forward(model, ws, X, Y, D, rows, n_threads, weights, total_weight,
                              first_product_ready);
  if (!std::isfinite(loss)) return {loss, 0.0, false};

  StepOptions step_options = options.step;
  if (options.scale_penalty_by_batch) {
    // scikit-learn divides by the batch's sum of sample weights when it has them.
    const double scale = weights == nullptr ? double(rows) : total_weight;
    step_options.l1 /= scale;
    step_options.l2 /= scale;
  }
  if (step_options.optimizer == Optimizer::kAdam) model.set_adam_step(model.adam_step() + 1);
  const Step<T> step = make_step<T>(step_options, model.adam_step());
  double penalty = 0;
  const bool fused = rows <= kMaxFusedUpdateRows;
  for (Index l = model.n_layers() - 1; l >= 0; --l) {
    // Layer l's update must wait for its backward step, which reads W_l.
    backward_layer(model, ws, D, l, rows, n_threads, !fused);
    Layer<T>& layer = model.layer(l);
    double sums[2];
    if (fused) {
      // Z[0] of this batch is no longer read once layer 0's backward step is done.
      const T* next_input = l == 0 ? look_ahead.next_input : nullptr;
      update_outer(ws.dZ[l].data(), ws.inputs[l], layer.W.data(), weight_state(layer),
                   layer.n_out, layer.n_in, rows, step, ws.block_sums.data(), sums, n_threads,
                   next_input, ws.Z[0].data());
      if (next_input != nullptr) look_ahead.ready_for = batch + 1;
    } else {
      update_matrix(ws.dW[l].data(), layer.W.data(), weight_state(layer), layer.n_out,
                    layer.n_in, step, ws.block_sums.data(), sums, n_threads);
    }
    penalty += 0.5 * step_options.l2 * sums[0] + step_options.l1 * sums[1];
    update(ws.db[l].data(), layer.b.data(), bias_state(layer), layer.n_out, step, T(0), T(0));
    model.apply_keep_mask(l);  // pruned weights stay exactly 0
  }
  return {loss, penalty};
}

// Copies rows order[0, rows) of X (., width) into out (rows, width); threads
// copy disjoint rows.
template <typename T>
void gather_rows(const T* X, const Index* order, T* out, Index rows, Index width,
                 int n_threads) {
  for_each_chunk(rows, threads_for(rows * width, n_threads), [&](Index begin, Index end) {
    for (Index r = begin; r < end; ++r) {
      const T* x = X + order[r] * width;
      std::copy(x, x + width, out + r * width);
    }
  });
}

// Sum of |x| over the n values of X, in double.
template <typename T>
double abs_sum(const T* X, Index n) {
  double sum = 0;
  for (Index e = 0; e < n; ++e) sum += std::abs(double(X[e]));
  return sum;
}

// Largest |x| over the n values of X.
template <typename T>
double max_abs(const T* X, Index n) {
  double largest = 0;
  for (Index e = 0; e < n; ++e) largest = std::max(largest, double(std::abs(X[e])));
  return largest;
}

// Whether some output z of the model for X (rows, n_in) could overflow T, by a
// bound that costs one pass over the parameters: |z_o| <= sum_j |w_oj| |a_j| +
// |b_o|, with |a| <= 1 after tanh and logistic. False proves every z finite;
// true only means the caller must run the forward pass to know.
template <typename T>
bool outputs_may_overflow(const Model<T>& model, const T* X, Index rows) {
  // A quarter of the largest value leaves room for the rounding of the sums.
  const double limit = double(std::numeric_limits<T>::max()) / 4;
  double a_max = max_abs(X, rows * model.n_in());
  for (Index l = 0; l < model.n_layers(); ++l) {
    const Layer<T>& layer = model.layer(l);
    double z_max = 0;
    for (Index o = 0; o < layer.n_out; ++o) {
      const double row_sum = abs_sum(layer.W.data() + o * layer.n_in, layer.n_in);
      z_max = std::max(z_max, row_sum * a_max + double(std::abs(layer.b[o])));
    }
    if (!(z_max < limit)) return true;
    const bool bounded = model.activation() == Activation::kTanh ||
                         model.activation() == Activation::kLogistic;
    a_max = bounded && l + 1 < model.n_layers() ? 1.0 : z_max;
  }
  return false;
}

// Whether the model maps X (rows, n_in) to finite output pre-activations; runs
// the forward pass only when outputs_may_overflow cannot rule overflow out.
template <typename T>
bool outputs_finite(const Model<T>& model, Workspace<T>& ws, const T* X, Index rows,
                    int n_threads) {
  if (!outputs_may_overflow(model, X, rows)) return true;
  const std::vector<const T*> no_dropout(model.n_layers(), nullptr);
  forward(model, ws, X, static_cast<const T*>(nullptr), no_dropout, rows, n_threads);
  const Index L = model.n_layers();
  const T* Z = ws.Z[L - 1].data();
  for (Index e = 0; e < rows * model.n_out(); ++e) {
    if (!std::isfinite(Z[e])) return false;
  }
  return true;
}

// A loss for a message: "NaN", "inf" or "-inf" for non-finite values, whatever
// the C library prints for them (glibc prints "-nan" for some NaNs).
inline std::string describe_value(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "inf" : "-inf";
  return std::to_string(value);
}

// The error of a diverged epoch; the caller has already restored the model.
inline std::runtime_error divergence_error(std::uint64_t epoch, std::uint64_t batch,
                                           double loss = 0) {
  const std::string where = batch == kNoBatch ? "at the end of epoch " + std::to_string(epoch + 1)
                                              : "in batch " + std::to_string(batch) +
                                                    " of epoch " + std::to_string(epoch + 1);
  const std::string what = batch == kNoBatch
                               ? std::string("a weight, or an output of the last batch, "
                                             "became NaN or infinite")
                                             : "the loss became " + describe_value(loss);
  return std::runtime_error("training diverged " + where + ": " + what +
                            "; the model was restored to its state at the start of that "
                            "epoch. Lower the learning rate, or scale the inputs and targets");
}

// Trains on X (n, n_in) and Y (n, n_out), with sample weights (n) unless
// sample_weight is null, for options.epochs epochs. Batches are consecutive
// slices of each epoch's order; the last, partial batch is kept. A batch whose
// weights sum to 0 is skipped and left out of the epoch's mean loss. The
// epoch counter of the network keys shuffling and dropout and persists, as does
// the optimizer state, so fit(a) then fit(b) equals fit(a + b). When
// hooks.learning_rate is set it supplies each epoch's rate before the epoch
// starts. A rate that is not positive and finite throws std::invalid_argument
// and leaves the model at the end of the previous epoch. When stop_requested
// returns true the current batch finishes and fit returns, leaving a consistent
// model. A NaN or infinite batch loss, or weight at the end of an epoch,
// restores the model to the start of that epoch (parameters, optimizer state and
// epoch counter). Then fit throws std::runtime_error.
template <typename T>
FitResult fit(Model<T>& model, const T* X, const T* Y, const T* sample_weight, Index n,
              const FitOptions& options, const FitHooks& hooks, int n_threads) {
  const bool scheduled = static_cast<bool>(hooks.learning_rate);
  check_fit_options(options, model.n_layers(), !scheduled);
  if (n < 1) throw std::invalid_argument("fit needs at least one sample, got 0");
  check_sample_weight(sample_weight, n);
  const Index batch_size = std::min(options.batch_size, n);
  Workspace<T> ws;
  reserve(model, ws, batch_size);
  std::vector<Index> order(n);
  std::vector<const T*> D(model.n_layers(), nullptr);
  ParameterSnapshot<T> epoch_start;
  FitResult result;
  FitOptions epoch_options = options;
  model.allocate_state(options.step.optimizer);
  // One-sample steps compute the next row's first-layer product during their
  // update (see update_outer), unless the first layer's input is dropped out or
  // its weights are pruned: both change that product after the update. A
  // callback may prune between epochs, so the mask is checked at every batch.
  const bool look_ahead_possible = batch_size == 1 && options.dropout[0] == 0;
  LookAhead<T> look_ahead;

  for (Index e = 0; e < options.epochs; ++e) {
    if (scheduled) {
      const double learning_rate = hooks.learning_rate(e + 1);
      if (!valid_learning_rate(learning_rate)) {
        throw std::invalid_argument("the learning_rate schedule returned " +
                                    std::to_string(learning_rate) + " for epoch " +
                                    std::to_string(e + 1) +
                                    "; it must return a positive finite number");
      }
      epoch_options.step.learning_rate = learning_rate;
    }
    const std::uint64_t epoch = model.epoch();
    model.save(epoch_start);
    if (options.shuffle) {
      shuffle_order(model.seed(), epoch, order.data(), n);
    } else {
      std::iota(order.begin(), order.end(), Index(0));
    }

    // Row-count weighted sums over the batches that were updated, as scikit-learn
    // averages its epoch loss.
    double weighted_loss = 0, weighted_penalty = 0, counted_rows = 0;
    const T* last_X = X;  // the rows of the last batch, for the end-of-epoch check
    Index last_rows = 0;
    std::uint64_t batch = 0;
    for (Index start = 0; start < n; start += batch_size, ++batch) {
      const Index rows = std::min(batch_size, n - start);
      const T* X_batch = X + start * model.n_in();
      const T* Y_batch = Y + start * model.n_out();
      const T* weights_batch = sample_weight == nullptr ? nullptr : sample_weight + start;
      if (options.shuffle && rows == 1) {
        // A single row is contiguous where it is.
        X_batch = X + order[start] * model.n_in();
        Y_batch = Y + order[start] * model.n_out();
        if (sample_weight != nullptr) weights_batch = sample_weight + order[start];
      } else if (options.shuffle) {
        // Gather so the GEMMs read contiguous rows.
        gather_rows(X, order.data() + start, ws.A[0].data(), rows, model.n_in(), n_threads);
        gather_rows(Y, order.data() + start, ws.Y.data(), rows, model.n_out(), n_threads);
        X_batch = ws.A[0].data();
        Y_batch = ws.Y.data();
        if (sample_weight != nullptr) {
          gather_rows(sample_weight, order.data() + start, ws.sample_weight.data(), rows, 1,
                      n_threads);
          weights_batch = ws.sample_weight.data();
        }
      }
      last_X = X_batch;
      last_rows = rows;
      look_ahead.next_input = nullptr;
      if (look_ahead_possible && start + 1 < n && model.layer(0).keep.empty()) {
        const Index next = options.shuffle ? order[start + 1] : start + 1;
        look_ahead.next_input = X + next * model.n_in();
      }
      const BatchLoss batch_loss =
          train_batch(model, ws, X_batch, Y_batch, weights_batch, rows, epoch_options, epoch,
                      batch, D, n_threads, look_ahead);
      if (!batch_loss.finite) {
        model.restore(epoch_start);
        throw divergence_error(epoch, batch, batch_loss.data);
      }
      if (!batch_loss.skipped) {
        weighted_loss += double(rows) * (batch_loss.data + batch_loss.penalty);
        weighted_penalty += double(rows) * batch_loss.penalty;
        counted_rows += double(rows);
      }
      const bool last_batch = start + batch_size >= n;
      if (!last_batch && hooks.stop_requested && hooks.stop_requested()) {
        result.stopped_early = true;
        return result;
      }
    }

    // The last batch's update is seen by no loss of this epoch: check it here,
    // and that it does not send that batch's outputs to infinity.
    if (!model.parameters_finite() || !outputs_finite(model, ws, last_X, last_rows, n_threads)) {
      model.restore(epoch_start);
      throw divergence_error(epoch, kNoBatch);
    }
    model.set_epoch(epoch + 1);
    // Weights that are not all zero leave at least one batch counted.
    const double loss = weighted_loss / counted_rows;
    const double penalty = weighted_penalty / counted_rows;
    result.history.push_back(loss);
    result.penalties.push_back(penalty);
    if (hooks.stop_requested && hooks.stop_requested()) {
      result.stopped_early = true;
      return result;
    }
    if (hooks.epoch_end && hooks.epoch_end(e + 1, loss, penalty)) break;
  }
  return result;
}

FASTMLP_ENGINE_END
