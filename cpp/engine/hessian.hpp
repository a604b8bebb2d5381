// The diagonal of the Hessian of the mean loss with respect to every weight, by a
// second backward pass, as in Optimal Brain Damage (LeCun, Denker and Solla,
// NIPS 1990). It drops the off-diagonal terms and, like that paper's
// Levenberg-Marquardt approximation, the phi'' term, so every second derivative
// is non-negative (Gauss-Newton form).
//
// With E the loss of one sample and S_l (n, n_out) = d2E/dZ_l^2 of layer l:
//   output  S_{L-1} = y_hat (1 - y_hat)  softmax + cross-entropy (diagonal only)
//                                        and logistic + binary cross-entropy,
//           S_{L-1} = 1                  identity + squared error;
//   back    S_{l-1}[i, j] = phi'(Z_{l-1}[i, j])^2 sum_o W_l[o, j]^2 S_l[i, o];
//   weights H_l[o, j] = 1/n sum_i S_l[i, o] A_l[i, j]^2,
// where A_l is layer l's input (A_0 = X). The targets do not appear: for all
// three pairs d2E/dz^2 depends on the output alone. No dropout is applied.
// Biases are never pruned, so their second derivatives are not computed.
#pragma once

#include <algorithm>
#include <stdexcept>
#include <vector>

#include "../common.hpp"
#include "../model.hpp"
#include "activations.hpp"
#include "gemm.hpp"
#include "isa.hpp"
#include "parallel.hpp"
#include "passes.hpp"

FASTMLP_ENGINE_BEGIN

// Rows per chunk of the Hessian pass: bounds the workspace, as in predict.
constexpr Index kHessianChunkRows = 2048;

// S (count) = scale * d2E/dz^2 of each output from Y_hat (count): y_hat (1 -
// y_hat) for softmax and logistic outputs, 1 for identity.
template <typename T>
void output_second_derivative(Output output, const T* Y_hat, T* S, Index count, T scale,
                              int n_threads) {
  for_each_chunk(count, threads_for(count, n_threads), [&](Index begin, Index end) {
    if (output == Output::kIdentity) {
      std::fill(S + begin, S + end, scale);
      return;
    }
#pragma omp simd
    for (Index e = begin; e < end; ++e) S[e] = scale * Y_hat[e] * (T(1) - Y_hat[e]);
  });
}

// S (count) *= phi'(Z)^2, elementwise.
template <Activation kind, typename T>
void scale_by_squared_derivative(const T* Z, T* S, Index count, int n_threads) {
  for_each_chunk(count, threads_for(count, n_threads), [&](Index begin, Index end) {
#pragma omp simd
    for (Index e = begin; e < end; ++e) {
      const T d = activation_derivative<kind>(Z[e]);
      S[e] *= d * d;
    }
  });
}

template <typename T>
void squared_derivative_backward(Activation activation, const T* Z, T* S, Index count,
                                 int n_threads) {
  switch (activation) {
    case Activation::kIdentity:
      return;  // phi' = 1
    case Activation::kLogistic:
      return scale_by_squared_derivative<Activation::kLogistic>(Z, S, count, n_threads);
    case Activation::kTanh:
      return scale_by_squared_derivative<Activation::kTanh>(Z, S, count, n_threads);
    case Activation::kRelu:
      return scale_by_squared_derivative<Activation::kRelu>(Z, S, count, n_threads);
  }
}

// out (count) = in^2, elementwise.
template <typename T>
void square_elements(const T* in, T* out, Index count, int n_threads) {
  for_each_chunk(count, threads_for(count, n_threads), [&](Index begin, Index end) {
#pragma omp simd
    for (Index e = begin; e < end; ++e) out[e] = in[e] * in[e];
  });
}

// H[l] (n_out, n_in of layer l) = the diagonal above for X (n, n_in), overwritten.
// Rows run in chunks of kHessianChunkRows whose sums add up in chunk order, and
// every product is a GEMM, so the result does not depend on the thread count.
template <typename T>
void hessian_diagonal(const Model<T>& model, const T* X, Index n,
                      const std::vector<T*>& H, int n_threads) {
  if (n < 1) {
    throw std::invalid_argument("hessian_diagonal needs at least one sample, got 0");
  }
  const Index L = model.n_layers();

  // W_l^2 once per call, because every chunk's backward product reads it.
  std::vector<Buffer<T>> W_squared(L);
  Index widest_input = 0;
  for (Index l = 0; l < L; ++l) {
    const Layer<T>& layer = model.layer(l);
    W_squared[l].resize(layer.W.size());
    const Index count = static_cast<Index>(layer.W.size());
    square_elements(layer.W.data(), W_squared[l].data(), count, n_threads);
    widest_input = std::max(widest_input, layer.n_in);
  }

  const Index chunk_rows = std::min(n, kHessianChunkRows);
  Workspace<T> ws;
  reserve(model, ws, chunk_rows);
  Buffer<T> A_squared(chunk_rows * widest_input);
  const std::vector<const T*> no_dropout(L, nullptr);
  const T* no_targets = nullptr;
  const T mean_scale = T(1) / T(n);  // folds the mean over all n rows into S

  for (Index start = 0; start < n; start += chunk_rows) {
    const Index rows = std::min(chunk_rows, n - start);
    const bool accumulate = start > 0;
    const T* X_chunk = X + start * model.n_in();
    forward(model, ws, X_chunk, no_targets, no_dropout, rows, n_threads);
    output_second_derivative(model.output(), ws.Y_hat.data(), ws.dZ[L - 1].data(),
                             rows * model.n_out(), mean_scale, n_threads);

    // ws.dZ[l] contains S_l, from the output layer down.
    for (Index l = L - 1; l >= 0; --l) {
      const Layer<T>& layer = model.layer(l);
      const T* S = ws.dZ[l].data();
      square_elements(ws.inputs[l], A_squared.data(), rows * layer.n_in, n_threads);
      gemm(row_major(S, layer.n_out).transposed(),
           row_major(A_squared.data(), layer.n_in), H[l], layer.n_in, layer.n_out,
           layer.n_in, rows, accumulate, n_threads);
      if (l == 0) break;

      T* S_prev = ws.dZ[l - 1].data();
      gemm(row_major(S, layer.n_out), row_major(W_squared[l].data(), layer.n_in),
           S_prev, layer.n_in, rows, layer.n_in, layer.n_out, false, n_threads);
      squared_derivative_backward(model.activation(), ws.Z[l - 1].data(), S_prev,
                                  rows * layer.n_in, n_threads);
    }
  }
}

FASTMLP_ENGINE_END
