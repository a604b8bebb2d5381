// Hidden-layer activations phi and their derivatives, applied elementwise. Each
// loop is instantiated per activation, so the branch on the activation sits
// outside the loop and identity and relu vectorise.
#pragma once

#include <cmath>

#include "../common.hpp"
#include "isa.hpp"
#include "parallel.hpp"

FASTMLP_ENGINE_BEGIN

// Logistic function without overflow: exp is only taken of -|z|.
template <typename T>
T logistic(T z) {
  const T e = std::exp(-std::abs(z));
  return z >= 0 ? T(1) / (T(1) + e) : e / (T(1) + e);
}

template <Activation kind, typename T>
T activate(T z) {
  if constexpr (kind == Activation::kIdentity) return z;
  if constexpr (kind == Activation::kLogistic) return logistic(z);
  if constexpr (kind == Activation::kTanh) return std::tanh(z);
  if constexpr (kind == Activation::kRelu) return z > 0 ? z : T(0);
}

// phi'(z), computed from z so that it does not depend on a dropped-out activation.
// relu'(0) = 0.
template <Activation kind, typename T>
T activation_derivative(T z) {
  if constexpr (kind == Activation::kIdentity) return T(1);
  if constexpr (kind == Activation::kLogistic) {
    const T s = logistic(z);
    return s * (T(1) - s);
  }
  if constexpr (kind == Activation::kTanh) {
    const T t = std::tanh(z);
    return T(1) - t * t;
  }
  if constexpr (kind == Activation::kRelu) return z > 0 ? T(1) : T(0);
}

// Z (n, width) += b, then A = phi(Z) * D, where D (n, width) contains each unit's
// dropout scale (0 or 1 / (1 - p)) or is null when nothing is dropped. Rows are
// independent, so threads split them.
template <Activation kind, typename T>
void bias_activation_rows(const T* b, const T* D, T* Z, T* A, Index n, Index width,
                          int n_threads) {
  for_each_chunk(n, threads_for(n * width, n_threads), [&](Index begin, Index end) {
    for (Index i = begin; i < end; ++i) {
      T* z_i = Z + i * width;
      T* a_i = A + i * width;
#pragma omp simd
      for (Index j = 0; j < width; ++j) {
        const T z = z_i[j] + b[j];
        z_i[j] = z;
        a_i[j] = activate<kind>(z);
      }
      if (D == nullptr) continue;
      const T* d_i = D + i * width;
#pragma omp simd
      for (Index j = 0; j < width; ++j) a_i[j] *= d_i[j];
    }
  });
}

template <typename T>
void bias_activation_forward(Activation activation, const T* b, const T* D, T* Z, T* A,
                             Index n, Index width, int n_threads) {
  switch (activation) {
    case Activation::kIdentity:
      return bias_activation_rows<Activation::kIdentity>(b, D, Z, A, n, width, n_threads);
    case Activation::kLogistic:
      return bias_activation_rows<Activation::kLogistic>(b, D, Z, A, n, width, n_threads);
    case Activation::kTanh:
      return bias_activation_rows<Activation::kTanh>(b, D, Z, A, n, width, n_threads);
    case Activation::kRelu:
      return bias_activation_rows<Activation::kRelu>(b, D, Z, A, n, width, n_threads);
  }
}

// dZ = dA * D * phi'(Z), in place on a buffer that contains dA on entry; D as in
// bias_activation_forward. Overwrites.
template <Activation kind, typename T>
void activation_backward_elements(const T* Z, const T* D, T* dZ, Index count,
                                  int n_threads) {
  for_each_chunk(count, threads_for(count, n_threads), [&](Index begin, Index end) {
    if (D != nullptr) {
#pragma omp simd
      for (Index e = begin; e < end; ++e) {
        dZ[e] = dZ[e] * D[e] * activation_derivative<kind>(Z[e]);
      }
    } else {
#pragma omp simd
      for (Index e = begin; e < end; ++e) dZ[e] = dZ[e] * activation_derivative<kind>(Z[e]);
    }
  });
}

template <typename T>
void activation_backward(Activation activation, const T* Z, const T* D, T* dZ, Index n,
                         Index width, int n_threads) {
  const Index count = n * width;
  switch (activation) {
    case Activation::kIdentity:
      if (D == nullptr) return;  // phi' = 1 and nothing dropped: dZ = dA
      return activation_backward_elements<Activation::kIdentity>(Z, D, dZ, count, n_threads);
    case Activation::kLogistic:
      return activation_backward_elements<Activation::kLogistic>(Z, D, dZ, count, n_threads);
    case Activation::kTanh:
      return activation_backward_elements<Activation::kTanh>(Z, D, dZ, count, n_threads);
    case Activation::kRelu:
      return activation_backward_elements<Activation::kRelu>(Z, D, dZ, count, n_threads);
  }
}

FASTMLP_ENGINE_END
