// Prediction: the forward pass over any number of rows, without dropout.
#pragma once

#include <algorithm>
#include <vector>

#include "../common.hpp"
#include "../model.hpp"
#include "isa.hpp"
#include "passes.hpp"

FASTMLP_ENGINE_BEGIN

// Rows per forward chunk: bounds the workspace (a 2048 x 1024 float layer is 8 MiB)
// whatever the input size.
constexpr Index kPredictChunkRows = 2048;

// Y_hat (n, n_out) = output activations of the model for X (n, n_in).
template <typename T>
void predict(const Model<T>& model, const T* X, T* Y_hat, Index n, int n_threads) {
  // One workspace per calling thread, kept between calls: a one-row prediction
  // then allocates nothing, and concurrent callers never share buffers.
  thread_local Workspace<T> ws;
  reserve(model, ws, std::min(n, kPredictChunkRows), false);
  const std::vector<const T*> no_dropout(model.n_layers(), nullptr);
  for (Index start = 0; start < n; start += kPredictChunkRows) {
    const Index rows = std::min(kPredictChunkRows, n - start);
    const T* no_targets = nullptr;
    forward(model, ws, X + start * model.n_in(), no_targets, no_dropout, rows, n_threads);
    std::copy(ws.Y_hat.begin(), ws.Y_hat.begin() + rows * model.n_out(),
              Y_hat + start * model.n_out());
  }
}

FASTMLP_ENGINE_END
