// A network's state: settings, parameters, optimizer state and the epoch
// counter. Plain data shared by every instruction-set build of the engine.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "common.hpp"
#include "fit_options.hpp"
#include "random.hpp"

namespace fastmlp {

// The kept weights of a pruned layer in compressed sparse row order, without
// values: row o keeps the columns columns[row_start[o]] .. columns[row_start[o
// + 1] - 1], ascending. Kernels read the values from W, so they never go stale.
struct KeptWeights {
  std::vector<Index> row_start;        // (n_out + 1)
  std::vector<std::uint32_t> columns;  // (number of kept weights)
};

// Layer l maps sizes[l] inputs to sizes[l + 1] outputs: Z = A W^T + b.
template <typename T>
struct Layer {
  Index n_in = 0;
  Index n_out = 0;
  Buffer<T> W;   // (n_out, n_in), row-major: one row per unit
  Buffer<T> b;   // (n_out)
  Buffer<T> vW;  // SGD momentum velocity of W
  Buffer<T> vb;  // SGD momentum velocity of b
  // Adam's first (m) and second (v) moments and RMSprop's mean square (s), each
  // shaped like W or b. They stay empty, meaning all zero, until the optimizer
  // first runs, so a model trained by SGD allocates no memory for them.
  Buffer<T> adam_mW, adam_mb, adam_vW, adam_vb;
  Buffer<T> rmsprop_sW, rmsprop_sb;
  // Pruning: keep (n_out, n_in) is 1 for a kept weight and 0 for a removed one.
  // Empty when the layer has no removed weight.
  std::vector<std::uint8_t> keep;
  // Positions of the kept weights while keep is not empty, else null. Replaced
  // whole with std::atomic_store and read with std::atomic_load, never changed
  // in place, so a prediction in another thread keeps the lists it loaded.
  std::shared_ptr<const KeptWeights> kept;
};

// A copy of every parameter and all optimizer state, to restore a model after a
// failed epoch: each layer's buffers end to end, in for_each_buffer order.
// Pruning masks are not copied, because fit changes them only between epochs.
template <typename T>
struct ParameterSnapshot {
  Buffer<T> values;
  std::uint64_t adam_step = 0;
};

// Calls visit(buffer) on the parameters and optimizer state of layer.
template <typename LayerT, typename Visit>
void for_each_buffer(LayerT& layer, const Visit& visit) {
  for (auto* buffer : {&layer.W, &layer.b, &layer.vW, &layer.vb, &layer.adam_mW,
                       &layer.adam_mb, &layer.adam_vW, &layer.adam_vb, &layer.rmsprop_sW,
                       &layer.rmsprop_sb}) {
    visit(*buffer);
  }
}

template <typename T>
class Model {
 public:
  Model(std::vector<Index> sizes, Activation activation, Output output, std::uint64_t seed)
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
  // Adam's step count t, the exponent of its bias corrections.
  std::uint64_t adam_step() const { return adam_step_; }
  void set_adam_step(std::uint64_t step) { adam_step_ = step; }
  Layer<T>& layer(Index l) { return layers_[l]; }
  // Weights and biases of every layer: the length of a flat parameter vector.
  Index n_parameters() const {
    Index count = 0;
    for (const Layer<T>& layer : layers_) count += layer.n_out * layer.n_in + layer.n_out;
    return count;
  }
  const Layer<T>& layer(Index l) const { return layers_[l]; }

  // Copies the parameters and optimizer state into snapshot, reusing its buffers.
  void save(ParameterSnapshot<T>& snapshot) const {
    std::size_t size = 0;
    for (const Layer<T>& layer : layers_) {
      for_each_buffer(layer, [&](const Buffer<T>& buffer) { size += buffer.size(); });
    }
    snapshot.values.resize(size);
    T* out = snapshot.values.data();
    for (const Layer<T>& layer : layers_) {
      for_each_buffer(layer, [&](const Buffer<T>& buffer) {
        out = std::copy(buffer.begin(), buffer.end(), out);
      });
    }
    snapshot.adam_step = adam_step_;
  }

  // Puts back the parameters and optimizer state of a snapshot of this model.
  // The buffers must have the sizes they had when the snapshot was taken.
  void restore(const ParameterSnapshot<T>& snapshot) {
    const T* in = snapshot.values.data();
    for (Layer<T>& layer : layers_) {
      for_each_buffer(layer, [&](Buffer<T>& buffer) {
        std::copy(in, in + buffer.size(), buffer.begin());
        in += buffer.size();
      });
    }
    adam_step_ = snapshot.adam_step;
  }

  // Allocates the zero state of an optimizer that has not run yet. Buffers that
  // already exist keep their values.
  void allocate_state(Optimizer optimizer) {
    const auto zeros = [](Buffer<T>& buffer, Index size) {
      if (buffer.empty()) buffer.assign(size, T(0));
    };
    for (Layer<T>& layer : layers_) {
      const Index count = layer.n_out * layer.n_in;
      if (optimizer == Optimizer::kAdam) {
        zeros(layer.adam_mW, count);
        zeros(layer.adam_mb, layer.n_out);
        zeros(layer.adam_vW, count);
        zeros(layer.adam_vb, layer.n_out);
      } else if (optimizer == Optimizer::kRmsprop) {
        zeros(layer.rmsprop_sW, count);
        zeros(layer.rmsprop_sb, layer.n_out);
      }
    }
  }

  // Whether the state of an optimizer has been allocated (SGD's always is).
  bool has_state(Optimizer optimizer) const {
    for (const Layer<T>& layer : layers_) {
      switch (optimizer) {
        case Optimizer::kSgd:
          return true;
        case Optimizer::kAdam:
          if (!layer.adam_mW.empty() || !layer.adam_mb.empty() || !layer.adam_vW.empty() ||
              !layer.adam_vb.empty()) {
            return true;
          }
          break;
        case Optimizer::kRmsprop:
          if (!layer.rmsprop_sW.empty() || !layer.rmsprop_sb.empty()) return true;
          break;
      }
    }
    return false;
  }

  // Sets the keep-mask of layer l from keep (n_out, n_in), nonzero for a kept
  // weight, zeroes W and vW where it removes weights and lists the kept ones. A
  // mask that keeps every weight clears the layer's mask.
  void set_keep_mask(Index l, const std::uint8_t* keep) {
    Layer<T>& layer = layers_[l];
    const Index count = layer.n_out * layer.n_in;
    if (std::all_of(keep, keep + count, [](std::uint8_t k) { return k != 0; })) {
      layer.keep.clear();
      std::atomic_store(&layer.kept, std::shared_ptr<const KeptWeights>());
      return;
    }
    // KeptWeights stores columns as 32-bit numbers to halve the index traffic.
    if (layer.n_in > Index(std::numeric_limits<std::uint32_t>::max())) {
      throw std::invalid_argument("cannot prune layer " + std::to_string(l) +
                                  ": it has " + std::to_string(layer.n_in) +
                                  " inputs, more than 2**32 - 1");
    }
    layer.keep.resize(count);
    for (Index e = 0; e < count; ++e) layer.keep[e] = keep[e] != 0;
    auto kept = std::make_shared<KeptWeights>();
    kept->row_start.assign(layer.n_out + 1, 0);
    for (Index o = 0; o < layer.n_out; ++o) {
      for (Index j = 0; j < layer.n_in; ++j) {
        if (layer.keep[o * layer.n_in + j]) kept->columns.push_back(std::uint32_t(j));
      }
      kept->row_start[o + 1] = static_cast<Index>(kept->columns.size());
    }
    std::atomic_store(&layer.kept, std::shared_ptr<const KeptWeights>(std::move(kept)));
    apply_keep_mask(l);
  }

  // Zeroes W and vW of layer l wherever its mask removes a weight, so that the
  // weight stays exactly 0 and carries no momentum. Does nothing for a layer
  // without removed weights. Training calls it after each update of the layer.
  void apply_keep_mask(Index l) {
    Layer<T>& layer = layers_[l];
    const std::uint8_t* keep = layer.keep.data();
    T* W = layer.W.data();
    T* vW = layer.vW.data();
    const Index count = static_cast<Index>(layer.keep.size());
    for (Index e = 0; e < count; ++e) {
      W[e] = keep[e] ? W[e] : T(0);
      vW[e] = keep[e] ? vW[e] : T(0);
    }
  }

  // Whether every weight and bias is finite.
  bool parameters_finite() const {
    for (const Layer<T>& layer : layers_) {
      for (T w : layer.W) {
        if (!std::isfinite(w)) return false;
      }
      for (T b : layer.b) {
        if (!std::isfinite(b)) return false;
      }
    }
    return true;
  }

 private:
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
  std::uint64_t adam_step_ = 0;
  std::vector<Layer<T>> layers_;
};

}  // namespace fastmlp
