// A network's state: settings, parameters, momentum velocities and the epoch
// counter. Plain data shared by every instruction-set build of the engine.
#pragma once

#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "common.hpp"
#include "random.hpp"

namespace fastmlp {

// Layer l maps sizes[l] inputs to sizes[l + 1] outputs: Z = A W^T + b.
template <typename T>
struct Layer {
  Index n_in = 0;
  Index n_out = 0;
  Buffer<T> W;   // (n_out, n_in), row-major: one row per unit
  Buffer<T> b;   // (n_out)
  Buffer<T> vW;  // momentum velocity of W
  Buffer<T> vb;  // momentum velocity of b
};

// A copy of every parameter and velocity, to restore a model after a failed epoch.
template <typename T>
struct ParameterSnapshot {
  std::vector<Buffer<T>> W, b, vW, vb;
};

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
  Layer<T>& layer(Index l) { return layers_[l]; }
  // Weights and biases of every layer: the length of a flat parameter vector.
  Index n_parameters() const {
    Index count = 0;
    for (const Layer<T>& layer : layers_) count += layer.n_out * layer.n_in + layer.n_out;
    return count;
  }
  const Layer<T>& layer(Index l) const { return layers_[l]; }

  // Copies the parameters and velocities into snapshot, reusing its buffers.
  void save(ParameterSnapshot<T>& snapshot) const {
    const std::size_t L = layers_.size();
    snapshot.W.resize(L);
    snapshot.b.resize(L);
    snapshot.vW.resize(L);
    snapshot.vb.resize(L);
    for (std::size_t l = 0; l < L; ++l) {
      snapshot.W[l] = layers_[l].W;
      snapshot.b[l] = layers_[l].b;
      snapshot.vW[l] = layers_[l].vW;
      snapshot.vb[l] = layers_[l].vb;
    }
  }

  // Puts back the parameters and velocities of a snapshot taken from this model.
  void restore(const ParameterSnapshot<T>& snapshot) {
    for (std::size_t l = 0; l < layers_.size(); ++l) {
      layers_[l].W = snapshot.W[l];
      layers_[l].b = snapshot.b[l];
      layers_[l].vW = snapshot.vW[l];
      layers_[l].vb = snapshot.vb[l];
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
  std::vector<Layer<T>> layers_;
};

}  // namespace fastmlp
