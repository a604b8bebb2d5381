// Gradients of a batch and the training loop: epochs of minibatch SGD over the
// whole data set in one call, so Python never loops over batches.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
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

// Mean data loss of X (n, n_in) against Y (n, n_out) and its gradients, written to
// dW[l] (n_out, n_in) and db[l] (n_out). masks[l] (null: layer input kept whole) is
// a (n, sizes[l]) keep-mask; kept units are scaled by 1 / (1 - p[l]).
template <typename T>
double gradients(const Model<T>& model, const T* X, const T* Y, Index n,
                 const std::vector<const std::uint8_t*>& masks, const std::vector<double>& p,
                 const std::vector<T*>& dW, const std::vector<T*>& db, int n_threads) {
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

  const double loss = forward(model, ws, input, Y, D, n, n_threads);
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
};

// One SGD step on the batch whose rows are X (rows, n_in) and Y (rows, n_out),
// already gathered; X may be ws.A[0]. Dropout masks are keyed by (epoch, batch).
template <typename T>
BatchLoss train_batch(Model<T>& model, Workspace<T>& ws, const T* X, const T* Y, Index rows,
                   const FitOptions& options, std::uint64_t epoch, std::uint64_t batch,
                   std::vector<const T*>& D, int n_threads) {
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

  const double loss = forward(model, ws, X, Y, D, rows, n_threads);
  if (!std::isfinite(loss)) return {loss, 0.0, false};

  SgdStep step = options.step;
  if (options.scale_penalty_by_batch) {
    step.l1 /= double(rows);
    step.l2 /= double(rows);
  }
  double penalty = 0;
  const bool fused = rows <= kMaxFusedUpdateRows;
  for (Index l = model.n_layers() - 1; l >= 0; --l) {
    // Layer l's update must wait for its backward step, which reads W_l.
    backward_layer(model, ws, D, l, rows, n_threads, !fused);
    Layer<T>& layer = model.layer(l);
    double sums[2];
    if (fused) {
      sgd_update_outer(ws.dZ[l].data(), ws.inputs[l], layer.W.data(), layer.vW.data(),
                       layer.n_out, layer.n_in, rows, step, ws.row_sums.data(), sums,
                       n_threads);
    } else {
      sgd_update_matrix(ws.dW[l].data(), layer.W.data(), layer.vW.data(), layer.n_out,
                        layer.n_in, step, ws.row_sums.data(), sums, n_threads);
    }
    penalty += 0.5 * step.l2 * sums[0] + step.l1 * sums[1];
    sgd_update(ws.db[l].data(), layer.b.data(), layer.vb.data(), layer.n_out, step, T(0),
               T(0));
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

// The error of a diverged epoch; the caller has already restored the model.
inline std::runtime_error divergence_error(std::uint64_t epoch, std::uint64_t batch,
                                           double loss = 0) {
  const std::string where = batch == kNoBatch ? "at the end of epoch " + std::to_string(epoch + 1)
                                              : "in batch " + std::to_string(batch) +
                                                    " of epoch " + std::to_string(epoch + 1);
  const std::string what = batch == kNoBatch ? std::string("a weight became NaN or infinite")
                                             : "the loss became " + std::to_string(loss);
  return std::runtime_error("training diverged " + where + ": " + what +
                            "; the model was restored to its state at the start of that "
                            "epoch. Lower the learning rate, or scale the inputs and targets");
}

// Trains on X (n, n_in) and Y (n, n_out) for options.epochs epochs. Batches are
// consecutive slices of each epoch's order; the last, partial batch is kept. The
// epoch counter of the network keys shuffling and dropout and persists, so
// fit(a) then fit(b) equals fit(a + b). When stop_requested returns true the
// current batch finishes and fit returns, leaving a consistent model. A NaN or
// infinite batch loss, or weight at the end of an epoch, restores the model to
// the start of that epoch (parameters, velocities and epoch counter). Then fit
// throws std::runtime_error.
template <typename T>
FitResult fit(Model<T>& model, const T* X, const T* Y, Index n, const FitOptions& options,
              const FitHooks& hooks, int n_threads) {
  check_fit_options(options, model.n_layers());
  if (n < 1) throw std::invalid_argument("fit needs at least one sample, got 0");
  const Index batch_size = std::min(options.batch_size, n);
  Workspace<T> ws;
  reserve(model, ws, batch_size);
  std::vector<Index> order(n);
  std::vector<const T*> D(model.n_layers(), nullptr);
  ParameterSnapshot<T> epoch_start;
  FitResult result;

  for (Index e = 0; e < options.epochs; ++e) {
    const std::uint64_t epoch = model.epoch();
    model.save(epoch_start);
    if (options.shuffle) {
      shuffle_order(model.seed(), epoch, order.data(), n);
    } else {
      std::iota(order.begin(), order.end(), Index(0));
    }

    double weighted_loss = 0, weighted_penalty = 0;
    std::uint64_t batch = 0;
    for (Index start = 0; start < n; start += batch_size, ++batch) {
      const Index rows = std::min(batch_size, n - start);
      const T* X_batch = X + start * model.n_in();
      const T* Y_batch = Y + start * model.n_out();
      if (options.shuffle) {
        // Gather so the GEMMs read contiguous rows.
        gather_rows(X, order.data() + start, ws.A[0].data(), rows, model.n_in(), n_threads);
        gather_rows(Y, order.data() + start, ws.Y.data(), rows, model.n_out(), n_threads);
        X_batch = ws.A[0].data();
        Y_batch = ws.Y.data();
      }
      const BatchLoss batch_loss =
          train_batch(model, ws, X_batch, Y_batch, rows, options, epoch, batch, D, n_threads);
      if (!batch_loss.finite) {
        model.restore(epoch_start);
        throw divergence_error(epoch, batch, batch_loss.data);
      }
      weighted_loss += double(rows) * (batch_loss.data + batch_loss.penalty);
      weighted_penalty += double(rows) * batch_loss.penalty;
      const bool last_batch = start + batch_size >= n;
      if (!last_batch && hooks.stop_requested && hooks.stop_requested()) {
        result.stopped_early = true;
        return result;
      }
    }

    // The last batch's update is seen by no loss of this epoch: check it here.
    if (!model.parameters_finite()) {
      model.restore(epoch_start);
      throw divergence_error(epoch, kNoBatch);
    }
    model.set_epoch(epoch + 1);
    const double loss = weighted_loss / double(n);
    const double penalty = weighted_penalty / double(n);
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
