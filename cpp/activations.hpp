// Hidden-layer activations phi and their derivatives, applied elementwise.
#pragma once

#include <cmath>

#include "common.hpp"

namespace fastmlp {

enum class Activation { kIdentity, kLogistic, kTanh, kRelu };

// Logistic function without overflow: exp is only taken of -|z|.
template <typename T>
T logistic(T z) {
  if (z >= 0) return T(1) / (T(1) + std::exp(-z));
  const T e = std::exp(z);
  return e / (T(1) + e);
}

template <typename T>
T activate(Activation activation, T z) {
  switch (activation) {
    case Activation::kIdentity:
      return z;
    case Activation::kLogistic:
      return logistic(z);
    case Activation::kTanh:
      return std::tanh(z);
    case Activation::kRelu:
      return z > 0 ? z : T(0);
  }
  return z;
}

// phi'(z), computed from z so that it does not depend on a dropped-out activation.
// relu'(0) = 0.
template <typename T>
T activation_derivative(Activation activation, T z) {
  switch (activation) {
    case Activation::kIdentity:
      return T(1);
    case Activation::kLogistic: {
      const T s = logistic(z);
      return s * (T(1) - s);
    }
    case Activation::kTanh: {
      const T t = std::tanh(z);
      return T(1) - t * t;
    }
    case Activation::kRelu:
      return z > 0 ? T(1) : T(0);
  }
  return T(1);
}

// Z (n, width) += b, then A = phi(Z) * D, where D (n, width) holds each unit's
// dropout scale (0 or 1 / (1 - p)) or is null when nothing is dropped. Rows are
// independent, so threads split them.
template <typename T>
void bias_activation_forward(Activation activation, const T* b, const T* D, T* Z, T* A,
                             Index n, Index width, int n_threads) {
  const bool parallel = n * width >= kMinParallelElements;
#pragma omp parallel for schedule(static) num_threads(n_threads) if (parallel)
  for (Index i = 0; i < n; ++i) {
    T* z_i = Z + i * width;
    T* a_i = A + i * width;
    for (Index j = 0; j < width; ++j) {
      z_i[j] += b[j];
      a_i[j] = activate(activation, z_i[j]);
    }
    if (D != nullptr) {
      const T* d_i = D + i * width;
#pragma omp simd
      for (Index j = 0; j < width; ++j) a_i[j] *= d_i[j];
    }
  }
}

// dZ = dA * D * phi'(Z), in place on a buffer that holds dA on entry; D as in
// bias_activation_forward. Overwrites.
template <typename T>
void activation_backward(Activation activation, const T* Z, const T* D, T* dZ, Index n,
                         Index width, int n_threads) {
  const Index count = n * width;
  const bool parallel = count >= kMinParallelElements;
#pragma omp parallel for schedule(static) num_threads(n_threads) if (parallel)
  for (Index e = 0; e < count; ++e) {
    const T scale = D != nullptr ? D[e] : T(1);
    dZ[e] *= scale * activation_derivative(activation, Z[e]);
  }
}

}  // namespace fastmlp
