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

// Whether phi'(z) follows from a = phi(z) alone, with the bits of
// activation_derivative and without its exp or tanh.
template <Activation kind>
constexpr bool kDerivativeFromOutput = kind == Activation::kLogistic || kind == Activation::kTanh;

// phi'(z) from a = phi(z), for the activations of kDerivativeFromOutput.
template <Activation kind, typename T>
T activation_derivative_from_output(T a) {
  static_assert(kDerivativeFromOutput<kind>, "phi'(z) is computed from z");
  if constexpr (kind == Activation::kLogistic) return a * (T(1) - a);
  if constexpr (kind == Activation::kTanh) return T(1) - a * a;
}

// Adds b to rows [i0, i1) and columns [j0, j1) of Z (., width) and sets
// A = phi(Z) * D there. D (., width) contains each unit's dropout scale (0 or
// 1 / (1 - p)), or is null when nothing is dropped.
template <Activation kind, typename T>
void bias_activation_block(const T* b, const T* D, T* Z, T* A, Index width, Index i0,
                           Index i1, Index j0, Index j1) {
  for (Index i = i0; i < i1; ++i) {
    T* z_i = Z + i * width;
    T* a_i = A + i * width;
#pragma omp simd
    for (Index j = j0; j < j1; ++j) {
      const T z = z_i[j] + b[j];
      z_i[j] = z;
      a_i[j] = activate<kind>(z);
    }
    if (D == nullptr) continue;
    const T* d_i = D + i * width;
#pragma omp simd
    for (Index j = j0; j < j1; ++j) a_i[j] *= d_i[j];
  }
}

// bias_activation_block with the activation chosen at run time.
template <typename T>
void bias_activation_block(Activation activation, const T* b, const T* D, T* Z, T* A,
                           Index width, Index i0, Index i1, Index j0, Index j1) {
  switch (activation) {
    case Activation::kIdentity:
      return bias_activation_block<Activation::kIdentity>(b, D, Z, A, width, i0, i1, j0, j1);
    case Activation::kLogistic:
      return bias_activation_block<Activation::kLogistic>(b, D, Z, A, width, i0, i1, j0, j1);
    case Activation::kTanh:
      return bias_activation_block<Activation::kTanh>(b, D, Z, A, width, i0, i1, j0, j1);
    case Activation::kRelu:
      return bias_activation_block<Activation::kRelu>(b, D, Z, A, width, i0, i1, j0, j1);
  }
}

// Turns dA into dZ = dA * D * phi'(Z) in place on rows [i0, i1) and columns
// [j0, j1) of dZ (., width), with Z, A and D of the same shape and D as in
// bias_activation_block. Without dropout the layer output A is phi(Z) exactly,
// so logistic and tanh take phi' from it.
template <Activation kind, typename T>
void activation_backward_rows(const T* Z, const T* A, const T* D, T* dZ, Index width,
                              Index i0, Index i1, Index j0, Index j1) {
  for (Index i = i0; i < i1; ++i) {
    const Index row = i * width;
    if (D != nullptr) {
#pragma omp simd
      for (Index j = j0; j < j1; ++j) {
        dZ[row + j] = dZ[row + j] * D[row + j] * activation_derivative<kind>(Z[row + j]);
      }
    } else if constexpr (kDerivativeFromOutput<kind>) {
#pragma omp simd
      for (Index j = j0; j < j1; ++j) {
        dZ[row + j] = dZ[row + j] * activation_derivative_from_output<kind>(A[row + j]);
      }
    } else {
#pragma omp simd
      for (Index j = j0; j < j1; ++j) {
        dZ[row + j] = dZ[row + j] * activation_derivative<kind>(Z[row + j]);
      }
    }
  }
}

// activation_backward_rows with the activation chosen at run time. Identity
// without dropout leaves dZ = dA.
template <typename T>
void activation_backward_block(Activation activation, const T* Z, const T* A, const T* D,
                               T* dZ, Index width, Index i0, Index i1, Index j0, Index j1) {
  switch (activation) {
    case Activation::kIdentity:
      if (D == nullptr) return;
      return activation_backward_rows<Activation::kIdentity>(Z, A, D, dZ, width, i0, i1, j0,
                                                             j1);
    case Activation::kLogistic:
      return activation_backward_rows<Activation::kLogistic>(Z, A, D, dZ, width, i0, i1, j0,
                                                             j1);
    case Activation::kTanh:
      return activation_backward_rows<Activation::kTanh>(Z, A, D, dZ, width, i0, i1, j0, j1);
    case Activation::kRelu:
      return activation_backward_rows<Activation::kRelu>(Z, A, D, dZ, width, i0, i1, j0, j1);
  }
}

FASTMLP_ENGINE_END
