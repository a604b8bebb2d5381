// Output layers, each fused with its loss: softmax with categorical cross-entropy,
// logistic with binary cross-entropy, identity with squared error 1/2 (y - y_hat)^2.
// For all three pairs the gradient of a sample's loss at z is y_hat - y, so the
// delta never forms dL/dy_hat and stays finite for saturated outputs.
#pragma once

#include <algorithm>
#include <cmath>

#include "../common.hpp"
#include "activations.hpp"
#include "isa.hpp"
#include "parallel.hpp"

FASTMLP_ENGINE_BEGIN

// y_hat (width) = the output activation of one row z (width). Softmax subtracts
// the row maximum before exp so that no exp overflows.
template <typename T>
void output_activation_row(Output output, const T* z, T* y_hat, Index width) {
  switch (output) {
    case Output::kSoftmax: {
      const T z_max = *std::max_element(z, z + width);
      T sum = 0;
      for (Index j = 0; j < width; ++j) {
        y_hat[j] = std::exp(z[j] - z_max);
        sum += y_hat[j];
      }
      for (Index j = 0; j < width; ++j) y_hat[j] /= sum;
      return;
    }
    case Output::kLogistic:
      for (Index j = 0; j < width; ++j) y_hat[j] = logistic(z[j]);
      return;
    case Output::kIdentity:
      std::copy(z, z + width, y_hat);
      return;
  }
}

// The loss of one row, computed from z without clipping, in double:
// cross-entropy as logsumexp(z) - sum(y z), binary cross-entropy as
// sum(max(z, 0) - y z + log1p(exp(-|z|))), squared error as 1/2 sum (y - z)^2.
template <typename T>
double output_loss_row(Output output, const T* z, const T* y, Index width) {
  double loss = 0;
  switch (output) {
    case Output::kSoftmax: {
      const double z_max = *std::max_element(z, z + width);
      double sum_exp = 0, y_dot_z = 0;
      for (Index j = 0; j < width; ++j) {
        sum_exp += std::exp(double(z[j]) - z_max);
        y_dot_z += double(y[j]) * double(z[j]);
      }
      return z_max + std::log(sum_exp) - y_dot_z;
    }
    case Output::kLogistic:
      for (Index j = 0; j < width; ++j) {
        const double zj = z[j];
        loss += std::max(zj, 0.0) - double(y[j]) * zj + std::log1p(std::exp(-std::abs(zj)));
      }
      return loss;
    case Output::kIdentity:
      for (Index j = 0; j < width; ++j) {
        const double r = double(y[j]) - double(z[j]);
        loss += 0.5 * r * r;
      }
      return loss;
  }
  return loss;
}

// For a batch of n rows: Z (n, width) += b, Y_hat = output activation, row_loss[i]
// = loss of row i, dZ = (Y_hat - Y) * scale with scale = 1 / n for the batch mean.
// With sample weights s (null: none), row i is scaled by s_i / weight_sum in
// place of scale, and a row of weight 0 gets a zero delta even when its loss is
// not finite. Any of Y, dZ may be null to skip the loss and the delta. Rows are
// independent.
template <typename T>
void output_forward(Output output, const T* b, const T* Y, T* Z, T* Y_hat, T* dZ,
                    double* row_loss, Index n, Index width, T scale, int n_threads,
                    const T* weights = nullptr, double weight_sum = 0) {
  // Rows cost tens of nanoseconds each (exp and log), so fewer of them pay for a
  // second thread than in the plain elementwise loops.
  for_each_chunk(n, threads_for(4 * n * width, n_threads), [&](Index begin, Index end) {
    for (Index i = begin; i < end; ++i) {
      T* z_i = Z + i * width;
      T* y_hat_i = Y_hat + i * width;
      for (Index j = 0; j < width; ++j) z_i[j] += b[j];
      output_activation_row(output, z_i, y_hat_i, width);
      if (Y == nullptr) continue;
      const T* y_i = Y + i * width;
      row_loss[i] = output_loss_row(output, z_i, y_i, width);
      if (dZ == nullptr) continue;
      T* dz_i = dZ + i * width;
      // The factor is rounded once from double, as 1 / n is, so weights of 1
      // give the bits of no weights.
      const T row_scale = weights == nullptr ? scale : T(double(weights[i]) / weight_sum);
      if (row_scale == T(0)) {
        std::fill(dz_i, dz_i + width, T(0));
        continue;
      }
      for (Index j = 0; j < width; ++j) dz_i[j] = (y_hat_i[j] - y_i[j]) * row_scale;
    }
  });
}

// Mean of row_loss[0, n) summed in index order, so the result does not depend on
// the thread count.
inline double mean_row_loss(const double* row_loss, Index n) {
  double sum = 0;
  for (Index i = 0; i < n; ++i) sum += row_loss[i];
  return n > 0 ? sum / double(n) : 0.0;
}

// sum_i s_i row_loss[i] / weight_sum, summed in index order. Rows of weight 0
// are left out, so a non-finite loss of such a row does not reach the mean.
template <typename T>
double weighted_mean_row_loss(const double* row_loss, const T* weights, double weight_sum,
                              Index n) {
  double sum = 0;
  for (Index i = 0; i < n; ++i) {
    if (weights[i] != T(0)) sum += double(weights[i]) * row_loss[i];
  }
  return sum / weight_sum;
}

// The sum of n sample weights in double, added in index order.
template <typename T>
double sum_of_weights(const T* weights, Index n) {
  double sum = 0;
  for (Index i = 0; i < n; ++i) sum += double(weights[i]);
  return sum;
}

FASTMLP_ENGINE_END
