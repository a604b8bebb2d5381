// The batched forward and backward passes and the workspace they run in.
//
// Layer l (0-based) maps sizes[l] inputs to sizes[l + 1] outputs:
// Z_l = A_l W_l^T + b_l, A_{l+1} = phi(Z_l) * D_{l+1}, where A_0 is the batch
// (times D_0 when the input is dropped out) and D contains dropout scales.
#pragma once

#include <algorithm>
#include <vector>

#include "../common.hpp"
#include "../model.hpp"
#include "activations.hpp"
#include "gemm.hpp"
#include "isa.hpp"
#include "losses.hpp"

FASTMLP_ENGINE_BEGIN

// Buffers for one batch of up to `rows` rows; sized once and reused.
template <typename T>
struct Workspace {
  Index rows = 0;
  std::vector<Buffer<T>> A;   // A[l] (rows, sizes[l]); A[0] is the batch copy
  std::vector<Buffer<T>> Z;   // Z[l] (rows, sizes[l + 1])
  std::vector<Buffer<T>> D;   // D[l] (rows, sizes[l]): dropout scales of A[l]
  std::vector<Buffer<T>> dZ;  // dZ[l] (rows, sizes[l + 1]); also stores dA of layer l + 1
  std::vector<Buffer<T>> dW, db;
  std::vector<const T*> inputs;  // the A_l each layer read in the last forward pass
  Buffer<T> Y;                   // (rows, n_out): the batch's targets
  Buffer<T> sample_weight;       // (rows): the batch's sample weights, when gathered
  Buffer<T> Y_hat;               // (rows, n_out)
  Buffer<double> row_loss;       // (rows)
  Buffer<double> block_sums;     // 2 per block of weight rows, for penalty sums
};

// Sizes the buffers of ws for batches of up to `rows` rows of the model: those of
// the forward pass, and with `training` those of the backward pass and the loss.
// Buffers only grow, so a reused workspace allocates nothing.
template <typename T>
void reserve(const Model<T>& model, Workspace<T>& ws, Index rows, bool training = true) {
  const std::size_t L = model.n_layers();
  const auto grow = [](auto& buffer, Index size) {
    if (static_cast<Index>(buffer.size()) < size) buffer.resize(size);
  };
  ws.rows = std::max(ws.rows, rows);
  ws.A.resize(L);
  ws.Z.resize(L);
  ws.D.resize(L);
  ws.dZ.resize(L);
  ws.dW.resize(L);
  ws.db.resize(L);
  ws.inputs.assign(L, nullptr);
  Index widest = 0;
  for (std::size_t l = 0; l < L; ++l) {
    const Layer<T>& layer = model.layer(l);
    grow(ws.A[l], rows * layer.n_in);
    grow(ws.Z[l], rows * layer.n_out);
    widest = std::max(widest, layer.n_out);
    if (!training) continue;
    grow(ws.D[l], rows * layer.n_in);
    grow(ws.dZ[l], rows * layer.n_out);
    grow(ws.dW[l], layer.n_out * layer.n_in);
    grow(ws.db[l], layer.n_out);
  }
  grow(ws.Y_hat, rows * model.n_out());
  grow(ws.row_loss, rows);
  if (!training) return;
  grow(ws.Y, rows * model.n_out());
  grow(ws.sample_weight, rows);
  grow(ws.block_sums, 2 * widest);
}

// Forward pass over n rows starting from the layer input X (n, n_in), which may
// be ws.A[0] or the caller's data. D[l] (null: not dropped) scales A[l] for
// l >= 1; the caller applies D[0] to X. With targets Y (n, n_out) it also fills
// ws.row_loss and ws.dZ of the last layer with (Y_hat - Y) / n and returns the
// mean loss. Without targets it returns 0. Y_hat lands in ws.Y_hat. With sample
// weights s (n) whose sum weight_sum is above 0, row i of dZ is
// s_i (Y_hat - Y) / weight_sum and the loss is the s-weighted mean.
// With first_product_ready, ws.Z[0] already contains X W_0^T (see update_outer).
template <typename T>
double forward(const Model<T>& model, Workspace<T>& ws, const T* X, const T* Y,
               const std::vector<const T*>& D, Index n, int n_threads,
               const T* weights = nullptr, double weight_sum = 0,
               bool first_product_ready = false) {
  const T* input = X;
  const Index L = model.n_layers();
  for (Index l = 0; l < L; ++l) {
    const Layer<T>& layer = model.layer(l);
    ws.inputs[l] = input;
    T* Z = ws.Z[l].data();
    const MatrixView<T> X_l = row_major(input, layer.n_in);
    const MatrixView<T> W_t = row_major(layer.W.data(), layer.n_in).transposed();
    const bool product_ready = l == 0 && first_product_ready;
    if (l + 1 < L) {
      T* A_next = ws.A[l + 1].data();
      const T* D_next = D[l + 1];
      // Bias, activation and dropout on each finished tile of Z (a GEMM epilogue).
      const auto finish = [&](Index i0, Index i1, Index j0, Index j1) {
        bias_activation_block(model.activation(), layer.b.data(), D_next, Z, A_next,
                              layer.n_out, i0, i1, j0, j1);
      };
      if (product_ready) {
        finish(0, n, 0, layer.n_out);
      } else {
        gemm(X_l, W_t, Z, layer.n_out, n, layer.n_out, layer.n_in, false, n_threads, finish);
      }
      input = A_next;
    } else {
      if (!product_ready) {
        gemm(X_l, W_t, Z, layer.n_out, n, layer.n_out, layer.n_in, false, n_threads);
      }
      T* dZ = Y != nullptr ? ws.dZ[l].data() : nullptr;
      output_forward(model.output(), layer.b.data(), Y, Z, ws.Y_hat.data(), dZ,
                     ws.row_loss.data(), n, layer.n_out, T(1.0 / double(n)), n_threads,
                     weights, weight_sum);
    }
  }
  if (Y == nullptr) return 0.0;
  if (weights == nullptr) return mean_row_loss(ws.row_loss.data(), n);
  return weighted_mean_row_loss(ws.row_loss.data(), weights, weight_sum, n);
}

// db (width) = sums over the n rows of dZ (n, width), added in row order.
template <typename T>
void column_sums(const T* dZ, T* db, Index n, Index width) {
  std::fill(db, db + width, T(0));
  for (Index i = 0; i < n; ++i) {
    const T* dz_i = dZ + i * width;
#pragma omp simd
    for (Index j = 0; j < width; ++j) db[j] += dz_i[j];
  }
}

// Backward step of layer l after forward: from ws.dZ[l] (n, n_out), overwrites
// ws.dW[l] = dZ^T A_l (unless with_dW is false) and ws.db[l] = column sums of dZ,
// and for l > 0 turns ws.dZ[l - 1] into dZ_{l-1} = (dZ W_l) * D[l] *
// phi'(Z_{l-1}). Reads W_l, so the caller may update layer l only after this
// returns.
template <typename T>
void backward_layer(const Model<T>& model, Workspace<T>& ws,
                    const std::vector<const T*>& D, Index l, Index n, int n_threads,
                    bool with_dW = true) {
  const Layer<T>& layer = model.layer(l);
  const T* dZ = ws.dZ[l].data();
  if (with_dW) {
    gemm(row_major(dZ, layer.n_out).transposed(), row_major(ws.inputs[l], layer.n_in),
         ws.dW[l].data(), layer.n_in, layer.n_out, layer.n_in, n, false, n_threads);
  }
  column_sums(dZ, ws.db[l].data(), n, layer.n_out);
  if (l == 0) return;

  T* dZ_prev = ws.dZ[l - 1].data();
  // dA becomes dZ_{l-1} tile by tile as the product finishes it (a GEMM epilogue).
  const auto finish = [&](Index i0, Index i1, Index j0, Index j1) {
    activation_backward_block(model.activation(), ws.Z[l - 1].data(), ws.inputs[l], D[l],
                              dZ_prev, layer.n_in, i0, i1, j0, j1);
  };
  gemm(row_major(dZ, layer.n_out), row_major(layer.W.data(), layer.n_in), dZ_prev,
       layer.n_in, n, layer.n_in, layer.n_out, false, n_threads, finish);
}

FASTMLP_ENGINE_END
