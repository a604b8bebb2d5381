// Gradients of a batch and the training loop: epochs of minibatch SGD over the
// whole data set in one call, so Python never loops over batches.
#pragma once

#include <cmath>
#include <cstdint>
#include <functional>
#include <numeric>
#include <stdexcept>
#include <string>
#include <vector>

#include "common.hpp"
#include "dropout.hpp"
#include "network.hpp"
#include "optimizer.hpp"
#include "random.hpp"

namespace fastmlp {

// Mean data loss of X (n, n_in) against Y (n, n_out) and its gradients, written to
// dW[l] (n_out, n_in) and db[l] (n_out). masks[l] (null: layer input kept whole) is
// a (n, sizes[l]) keep-mask; kept units are scaled by 1 / (1 - p[l]).
template <typename T>
double gradients(const Network<T>& net, const T* X, const T* Y, Index n,
                 const std::vector<const std::uint8_t*>& masks, const std::vector<double>& p,
                 const std::vector<T*>& dW, const std::vector<T*>& db, int n_threads) {
  Workspace<T> ws;
  net.reserve(ws, n);
  std::vector<const T*> D(net.n_layers(), nullptr);
  for (Index l = 0; l < net.n_layers(); ++l) {
    if (masks[l] == nullptr) continue;
    dropout_scales_from_mask(masks[l], p[l], ws.D[l].data(), n, net.sizes()[l]);
    D[l] = ws.D[l].data();
  }
  const T* input = X;
  if (D[0] != nullptr) {
    apply_dropout(X, D[0], ws.A[0].data(), n, net.n_in(), n_threads);
    input = ws.A[0].data();
  }

  const double loss = net.forward(ws, input, Y, D, n, n_threads);
  for (Index l = net.n_layers() - 1; l >= 0; --l) {
    net.backward_layer(ws, D, l, n, n_threads);
    std::copy(ws.dW[l].begin(), ws.dW[l].end(), dW[l]);
    std::copy(ws.db[l].begin(), ws.db[l].end(), db[l]);
  }
  return loss;
}

// The sample order of one epoch: a Fisher-Yates shuffle keyed by (seed, epoch).
inline void shuffle_order(std::uint64_t seed, std::uint64_t epoch, Index* order, Index n) {
  std::iota(order, order + n, Index(0));
  const std::uint64_t key = stream_key(seed, Stream::kShuffle, epoch);
  for (Index i = n - 1; i > 0; --i) {
    const Index j = static_cast<Index>(random_below(key, i, static_cast<std::uint64_t>(i) + 1));
    std::swap(order[i], order[j]);
  }
}

struct FitOptions {
  Index epochs = 10;
  Index batch_size = 32;
  SgdStep step;
  // Divide l1 and l2 by the batch's row count, as scikit-learn scales alpha.
  bool scale_penalty_by_batch = false;
  std::vector<double> dropout;  // one drop probability per layer input (sizes - 1)
  bool shuffle = true;
};

struct FitHooks {
  // Polled between batches; returning true stops training after that batch.
  std::function<bool()> stop_requested;
  // Called after each epoch with its number (from 1) and loss; true stops training.
  std::function<bool(Index, double)> epoch_end;
};

struct FitResult {
  std::vector<double> history;  // per completed epoch: mean loss plus penalties
  bool stopped_early = false;   // stop_requested returned true
};

// Throws std::invalid_argument unless the options suit the network.
template <typename T>
void check_fit_options(const Network<T>& net, const FitOptions& options) {
  const auto fail = [](const std::string& message) { throw std::invalid_argument(message); };
  if (options.epochs < 0) fail("epochs must be >= 0, got " + std::to_string(options.epochs));
  if (options.batch_size < 1) {
    fail("batch_size must be a positive integer, got " + std::to_string(options.batch_size));
  }
  const SgdStep& s = options.step;
  if (!(s.learning_rate > 0) || !std::isfinite(s.learning_rate)) {
    fail("learning_rate must be a positive finite number, got " +
         std::to_string(s.learning_rate));
  }
  if (!(s.momentum >= 0 && s.momentum < 1)) {
    fail("momentum must be in [0, 1), got " + std::to_string(s.momentum));
  }
  if (!(s.l1 >= 0) || !std::isfinite(s.l1)) fail("l1 must be >= 0, got " + std::to_string(s.l1));
  if (!(s.l2 >= 0) || !std::isfinite(s.l2)) fail("l2 must be >= 0, got " + std::to_string(s.l2));
  if (static_cast<Index>(options.dropout.size()) != net.n_layers()) {
    fail("dropout must hold " + std::to_string(net.n_layers()) + " probabilities, got " +
         std::to_string(options.dropout.size()));
  }
  for (double p : options.dropout) {
    if (!(p >= 0 && p < 1)) fail("dropout probabilities must be in [0, 1), got " + std::to_string(p));
  }
}

// One SGD step on the batch whose rows are X (rows, n_in) and Y (rows, n_out),
// already gathered; X may be ws.A[0]. Dropout masks are keyed by (epoch, batch).
// Returns the batch's data loss plus the penalty terms at the weights before the
// update.
template <typename T>
double train_batch(Network<T>& net, Workspace<T>& ws, const T* X, const T* Y, Index rows,
                   const FitOptions& options, std::uint64_t epoch, std::uint64_t batch,
                   std::vector<const T*>& D, int n_threads) {
  for (Index l = 0; l < net.n_layers(); ++l) {
    const double p = options.dropout[l];
    D[l] = nullptr;
    if (p == 0) continue;
    dropout_scales(dropout_key(net.seed(), epoch, batch, l), p, ws.D[l].data(), rows,
                   net.sizes()[l], n_threads);
    D[l] = ws.D[l].data();
  }
  if (D[0] != nullptr) {
    apply_dropout(X, D[0], ws.A[0].data(), rows, net.n_in(), n_threads);
    X = ws.A[0].data();
  }

  const double loss = net.forward(ws, X, Y, D, rows, n_threads);
  if (!std::isfinite(loss)) {
    throw std::runtime_error("training diverged: the loss of batch " + std::to_string(batch) +
                             " in epoch " + std::to_string(epoch + 1) + " is " +
                             std::to_string(loss) + "; lower learning_rate");
  }

  SgdStep step = options.step;
  if (options.scale_penalty_by_batch) {
    step.l1 /= double(rows);
    step.l2 /= double(rows);
  }
  double penalty = 0;
  for (Index l = net.n_layers() - 1; l >= 0; --l) {
    // Layer l's update must wait for its backward step, which reads W_l.
    net.backward_layer(ws, D, l, rows, n_threads);
    Layer<T>& layer = net.layer(l);
    double sums[2];
    sgd_update_matrix(ws.dW[l].data(), layer.W.data(), layer.vW.data(), layer.n_out,
                      layer.n_in, step, ws.row_sums.data(), sums, n_threads);
    penalty += 0.5 * step.l2 * sums[0] + step.l1 * sums[1];
    double unused[2];
    sgd_update(ws.db[l].data(), layer.b.data(), layer.vb.data(), layer.n_out, step, false,
               unused);
  }
  return loss + penalty;
}

// Copies rows order[0, rows) of X (., width) into out (rows, width).
template <typename T>
void gather_rows(const T* X, const Index* order, T* out, Index rows, Index width) {
  for (Index r = 0; r < rows; ++r) {
    const T* x = X + order[r] * width;
    std::copy(x, x + width, out + r * width);
  }
}

// Trains on X (n, n_in) and Y (n, n_out) for options.epochs epochs. Batches are
// consecutive slices of each epoch's order; the last, partial batch is kept. The
// epoch counter of the network keys shuffling and dropout and persists, so
// fit(a) then fit(b) equals fit(a + b). When stop_requested returns true the
// current batch finishes and fit returns, leaving a consistent model.
template <typename T>
FitResult fit(Network<T>& net, const T* X, const T* Y, Index n, const FitOptions& options,
              const FitHooks& hooks, int n_threads) {
  check_fit_options(net, options);
  if (n < 1) throw std::invalid_argument("fit needs at least one sample, got 0");
  const Index batch_size = std::min(options.batch_size, n);
  Workspace<T> ws;
  net.reserve(ws, batch_size);
  std::vector<Index> order(n);
  std::vector<const T*> D(net.n_layers(), nullptr);
  FitResult result;

  for (Index e = 0; e < options.epochs; ++e) {
    const std::uint64_t epoch = net.epoch();
    if (options.shuffle) {
      shuffle_order(net.seed(), epoch, order.data(), n);
    } else {
      std::iota(order.begin(), order.end(), Index(0));
    }

    double weighted_loss = 0;
    std::uint64_t batch = 0;
    for (Index start = 0; start < n; start += batch_size, ++batch) {
      const Index rows = std::min(batch_size, n - start);
      const T* X_batch = X + start * net.n_in();
      const T* Y_batch = Y + start * net.n_out();
      if (options.shuffle) {
        // Gather so the GEMMs read contiguous rows.
        gather_rows(X, order.data() + start, ws.A[0].data(), rows, net.n_in());
        gather_rows(Y, order.data() + start, ws.Y.data(), rows, net.n_out());
        X_batch = ws.A[0].data();
        Y_batch = ws.Y.data();
      }
      weighted_loss += double(rows) * train_batch(net, ws, X_batch, Y_batch, rows, options,
                                                  epoch, batch, D, n_threads);
      const bool last_batch = start + batch_size >= n;
      if (!last_batch && hooks.stop_requested && hooks.stop_requested()) {
        result.stopped_early = true;
        return result;
      }
    }

    net.set_epoch(epoch + 1);
    const double loss = weighted_loss / double(n);
    result.history.push_back(loss);
    if (hooks.stop_requested && hooks.stop_requested()) {
      result.stopped_early = true;
      return result;
    }
    if (hooks.epoch_end && hooks.epoch_end(e + 1, loss)) break;
  }
  return result;
}

}  // namespace fastmlp
