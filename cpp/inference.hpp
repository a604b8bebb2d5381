// Prediction: the forward pass over any number of rows, without dropout.
#pragma once

#include <algorithm>
#include <vector>

#include "common.hpp"
#include "network.hpp"

namespace fastmlp {

// Rows per forward chunk: bounds the workspace (a 2048 x 1024 float layer is 8 MiB)
// whatever the input size. Each row's result does not depend on the chunking.
constexpr Index kPredictChunkRows = 2048;

// Y_hat (n, n_out) = output activations of the network for X (n, n_in).
template <typename T>
void predict(const Network<T>& net, const T* X, T* Y_hat, Index n, int n_threads) {
  Workspace<T> ws;
  net.reserve(ws, std::min(n, kPredictChunkRows));
  const std::vector<const T*> no_dropout(net.n_layers(), nullptr);
  for (Index start = 0; start < n; start += kPredictChunkRows) {
    const Index rows = std::min(kPredictChunkRows, n - start);
    net.forward(ws, X + start * net.n_in(), nullptr, no_dropout, rows, n_threads);
    std::copy(ws.Y_hat.begin(), ws.Y_hat.begin() + rows * net.n_out(),
              Y_hat + start * net.n_out());
  }
}

}  // namespace fastmlp
