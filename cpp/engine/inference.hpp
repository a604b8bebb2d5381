// Prediction: the forward pass over any number of rows, without dropout, with
// the sparse product for sparsely pruned layers.
#pragma once

#include <algorithm>
#include <memory>
#include <type_traits>
#include <vector>

#include "../common.hpp"
#include "../model.hpp"
#include "activations.hpp"
#include "gemm.hpp"
#include "isa.hpp"
#include "losses.hpp"
#include "passes.hpp"
#include "sparse.hpp"

FASTMLP_ENGINE_BEGIN

// Rows per forward chunk: bounds the workspace (a 2048 x 1024 float layer is 8 MiB)
// whatever the input size.
constexpr Index kPredictChunkRows = 2048;

// forward() of passes.hpp for n rows of X without targets or dropout, except
// that the layers `path` selects use sparse_product; Y_hat lands in ws.Y_hat.
template <typename T>
void prediction_forward(const Model<T>& model, Workspace<T>& ws, const T* X, Index n,
                        ForwardPath path, int n_threads) {
  const T* no_dropout = nullptr;
  const T* no_targets = nullptr;
  T* no_delta = nullptr;
  const T* input = X;
  const Index L = model.n_layers();
  for (Index l = 0; l < L; ++l) {
    const Layer<T>& layer = model.layer(l);
    T* Z = ws.Z[l].data();
    const std::shared_ptr<const KeptWeights> kept = std::atomic_load(&layer.kept);
    const bool sparse = uses_sparse_product(layer, kept.get(), path, n);
    // Z = input W^T, then finish on every element of Z.
    const auto product = [&](const auto& finish) {
      if (sparse) {
        sparse_product(layer, *kept, input, Z, n, n_threads);
        if constexpr (!std::is_same_v<std::decay_t<decltype(finish)>, NoEpilogue>) {
          for_each_chunk(n, threads_for(n * layer.n_out, n_threads),
                         [&](Index begin, Index end) { finish(begin, end, 0, layer.n_out); });
        }
      } else {
        gemm(row_major(input, layer.n_in), row_major(layer.W.data(), layer.n_in).transposed(),
             Z, layer.n_out, n, layer.n_out, layer.n_in, false, n_threads, finish);
      }
    };
    if (l + 1 < L) {
      T* A_next = ws.A[l + 1].data();
      product([&](Index i0, Index i1, Index j0, Index j1) {
        bias_activation_block(model.activation(), layer.b.data(), no_dropout, Z, A_next,
                              layer.n_out, i0, i1, j0, j1);
      });
      input = A_next;
    } else {
      product(NoEpilogue{});
      output_forward(model.output(), layer.b.data(), no_targets, Z, ws.Y_hat.data(),
                     no_delta, ws.row_loss.data(), n, layer.n_out, T(1), n_threads);
    }
  }
}

// Y_hat (n, n_out) = output activations of the model for X (n, n_in), with the
// product of pruned layers chosen by path.
template <typename T>
void predict_with_path(const Model<T>& model, const T* X, T* Y_hat, Index n,
                       ForwardPath path, int n_threads) {
  // One workspace per calling thread, kept between calls: a one-row prediction
  // then allocates nothing, and concurrent callers never share buffers.
  thread_local Workspace<T> ws;
  reserve(model, ws, std::min(n, kPredictChunkRows), false);
  for (Index start = 0; start < n; start += kPredictChunkRows) {
    const Index rows = std::min(kPredictChunkRows, n - start);
    prediction_forward(model, ws, X + start * model.n_in(), rows, path, n_threads);
    std::copy(ws.Y_hat.begin(), ws.Y_hat.begin() + rows * model.n_out(),
              Y_hat + start * model.n_out());
  }
}

// Y_hat (n, n_out) = output activations of the model for X (n, n_in).
template <typename T>
void predict(const Model<T>& model, const T* X, T* Y_hat, Index n, int n_threads) {
  predict_with_path(model, X, Y_hat, n, ForwardPath::kAuto, n_threads);
}

FASTMLP_ENGINE_END
