// The network: layers with their parameters and optimizer state, the workspace of
// one batch, and the batched forward and backward passes.
//
// Layer l (0-based) maps sizes[l] inputs to sizes[l + 1] outputs:
// Z_l = A_l W_l^T + b_l, A_{l+1} = phi(Z_l) * D_{l+1}, where A_0 is the batch
// (times D_0 when the input is dropped out) and D holds dropout scales.
#pragma once

#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "activations.hpp"
#include "common.hpp"
#include "dropout.hpp"
#include "gemm.hpp"
#include "losses.hpp"
#include "random.hpp"

namespace fastmlp {

template <typename T>
struct Layer {
  Index n_in = 0;
  Index n_out = 0;
  Buffer<T> W;   // (n_out, n_in), row-major: one row per unit
  Buffer<T> b;   // (n_out)
  Buffer<T> vW;  // momentum velocity of W
  Buffer<T> vb;  // momentum velocity of b
};

// Buffers for one batch of up to `rows` rows; sized once and reused.
template <typename T>
struct Workspace {
  Index rows = 0;
  std::vector<Buffer<T>> A;   // A[l] (rows, sizes[l]); A[0] is the batch copy
  std::vector<Buffer<T>> Z;   // Z[l] (rows, sizes[l + 1])
  std::vector<Buffer<T>> D;   // D[l] (rows, sizes[l]): dropout scales of A[l]
  std::vector<Buffer<T>> dZ;  // dZ[l] (rows, sizes[l + 1]); also holds dA of layer l + 1
  std::vector<Buffer<T>> dW, db;
  std::vector<const T*> inputs;  // the A_l each layer read in the last forward pass
  Buffer<T> Y;                   // (rows, n_out): the batch's targets
  Buffer<T> Y_hat;               // (rows, n_out)
  Buffer<double> row_loss;       // (rows)
  Buffer<double> row_sums;       // 2 per weight row, for penalty sums
};

template <typename T>
class Network {
 public:
  Network(std::vector<Index> sizes, Activation activation, Output output,
          std::uint64_t seed)
      : sizes_(std::move(sizes)), activation_(activation), output_(output), seed_(seed) {
    if (sizes_.size() < 2) {
      throw std::invalid_argument(
          "sizes must list at least the input and output widths, got " +
          std::to_string(sizes_.size()) + " value(s)");
    }
    for (Index s : sizes_) {
      if (s < 1) {
        throw std::invalid_argument("every entry of sizes must be a positive integer, got " +
                                    std::to_string(s));
      }
    }
    initialise();
  }

  const std::vector<Index>& sizes() const { return sizes_; }
  Index n_layers() const { return static_cast<Index>(layers_.size()); }
  Index n_in() const { return sizes_.front(); }
  Index n_out() const { return sizes_.back(); }
  Activation activation() const { return activation_; }
  Output output() const { return output_; }
  std::uint64_t seed() const { return seed_; }
  std::uint64_t epoch() const { return epoch_; }
  void set_epoch(std::uint64_t epoch) { epoch_ = epoch; }
  Layer<T>& layer(Index l) { return layers_[l]; }
  const Layer<T>& layer(Index l) const { return layers_[l]; }

  // Sizes every buffer of `ws` for batches of up to `rows` rows; grows only.
  void reserve(Workspace<T>& ws, Index rows) const {
    if (ws.rows >= rows && ws.A.size() == layers_.size()) return;
    const std::size_t L = layers_.size();
    ws.rows = rows;
    ws.A.resize(L);
    ws.Z.resize(L);
    ws.D.resize(L);
    ws.dZ.resize(L);
    ws.dW.resize(L);
    ws.db.resize(L);
    ws.inputs.assign(L, nullptr);
    Index widest = 0;
    for (std::size_t l = 0; l < L; ++l) {
      const Layer<T>& layer = layers_[l];
      ws.A[l].resize(rows * layer.n_in);
      ws.D[l].resize(rows * layer.n_in);
      ws.Z[l].resize(rows * layer.n_out);
      ws.dZ[l].resize(rows * layer.n_out);
      ws.dW[l].resize(layer.n_out * layer.n_in);
      ws.db[l].resize(layer.n_out);
      widest = std::max(widest, layer.n_out);
    }
    ws.Y.resize(rows * n_out());
    ws.Y_hat.resize(rows * n_out());
    ws.row_loss.resize(rows);
    ws.row_sums.resize(2 * widest);
  }

  // Forward pass over n rows starting from the layer input X (n, n_in), which may
  // be ws.A[0] or the caller's data. D[l] (null: not dropped) scales A[l] for
  // l >= 1; the caller applies D[0] to X. With targets Y (n, n_out) it also fills
  // ws.row_loss and ws.dZ of the last layer with (Y_hat - Y) / n and returns the
  // mean loss; without, it returns 0. Y_hat lands in ws.Y_hat.
  double forward(Workspace<T>& ws, const T* X, const T* Y, const std::vector<const T*>& D,
                 Index n, int n_threads) const {
    const T* input = X;
    for (Index l = 0; l < n_layers(); ++l) {
      const Layer<T>& layer = layers_[l];
      ws.inputs[l] = input;
      T* Z = ws.Z[l].data();
      gemm(row_major(input, layer.n_in), row_major(layer.W.data(), layer.n_in).transposed(),
           Z, layer.n_out, n, layer.n_out, layer.n_in, false, n_threads);
      if (l + 1 < n_layers()) {
        T* A_next = ws.A[l + 1].data();
        bias_activation_forward(activation_, layer.b.data(), D[l + 1], Z, A_next, n,
                                layer.n_out, n_threads);
        input = A_next;
      } else {
        T* dZ = Y != nullptr ? ws.dZ[l].data() : nullptr;
        output_forward(output_, layer.b.data(), Y, Z, ws.Y_hat.data(), dZ,
                       ws.row_loss.data(), n, layer.n_out, T(1) / T(n), n_threads);
      }
    }
    return Y != nullptr ? mean_row_loss(ws.row_loss.data(), n) : 0.0;
  }

  // Backward step of layer l after forward: from ws.dZ[l] (n, n_out), overwrites
  // ws.dW[l] = dZ^T A_l and ws.db[l] = column sums of dZ, and for l > 0 turns
  // ws.dZ[l - 1] into dZ_{l-1} = (dZ W_l) * D[l] * phi'(Z_{l-1}). Reads W_l, so the
  // caller may update layer l only after this returns.
  void backward_layer(Workspace<T>& ws, const std::vector<const T*>& D, Index l, Index n,
                      int n_threads) const {
    const Layer<T>& layer = layers_[l];
    const T* dZ = ws.dZ[l].data();
    gemm(row_major(dZ, layer.n_out).transposed(), row_major(ws.inputs[l], layer.n_in),
         ws.dW[l].data(), layer.n_in, layer.n_out, layer.n_in, n, false, n_threads);
    column_sums(dZ, ws.db[l].data(), n, layer.n_out);
    if (l == 0) return;

    T* dZ_prev = ws.dZ[l - 1].data();
    gemm(row_major(dZ, layer.n_out), row_major(layer.W.data(), layer.n_in), dZ_prev,
         layer.n_in, n, layer.n_in, layer.n_out, false, n_threads);
    activation_backward(activation_, ws.Z[l - 1].data(), D[l], dZ_prev, n, layer.n_in,
                        n_threads);
  }

 private:
  // db (width) = sums over the n rows of dZ (n, width), added in row order.
  static void column_sums(const T* dZ, T* db, Index n, Index width) {
    std::fill(db, db + width, T(0));
    for (Index i = 0; i < n; ++i) {
      const T* dz_i = dZ + i * width;
#pragma omp simd
      for (Index j = 0; j < width; ++j) db[j] += dz_i[j];
    }
  }

  // He uniform (bound sqrt(6 / n_in)) for relu hidden layers, Glorot uniform
  // (bound sqrt(6 / (n_in + n_out))) for every other layer, biases 0. Drawn in
  // double and then rounded, so float32 and float64 models start from one draw.
  void initialise() {
    layers_.resize(sizes_.size() - 1);
    for (std::size_t l = 0; l < layers_.size(); ++l) {
      Layer<T>& layer = layers_[l];
      layer.n_in = sizes_[l];
      layer.n_out = sizes_[l + 1];
      const bool relu_hidden = activation_ == Activation::kRelu && l + 1 < layers_.size();
      const double fan = relu_hidden ? double(layer.n_in) : double(layer.n_in + layer.n_out);
      const double bound = std::sqrt(6.0 / fan);
      const std::uint64_t key = stream_key(seed_, Stream::kInit, l);
      const Index count = layer.n_out * layer.n_in;
      layer.W.resize(count);
      for (Index e = 0; e < count; ++e) {
        layer.W[e] = T((2.0 * random_uniform(key, e) - 1.0) * bound);
      }
      layer.b.assign(layer.n_out, T(0));
      layer.vW.assign(count, T(0));
      layer.vb.assign(layer.n_out, T(0));
    }
  }

  std::vector<Index> sizes_;
  Activation activation_;
  Output output_;
  std::uint64_t seed_;
  std::uint64_t epoch_ = 0;
  std::vector<Layer<T>> layers_;
};

}  // namespace fastmlp
