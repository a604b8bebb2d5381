// Settings of a training run and what it reports back.
#pragma once

#include <cmath>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include "common.hpp"

namespace fastmlp {

// Hyperparameters of one SGD step; l1 and l2 are already scaled as the caller
// wants (scikit-learn's estimators divide them by the batch's row count).
struct SgdStep {
  double learning_rate = 0.1;
  double momentum = 0.0;
  bool nesterov = false;
  double l1 = 0.0;
  double l2 = 0.0;
};

struct FitOptions {
  Index epochs = 10;
  Index batch_size = 32;
  SgdStep step;
  // Divide l1 and l2 by the batch's row count, as scikit-learn scales alpha.
  bool scale_penalty_by_batch = false;
  std::vector<double> dropout;  // one drop probability per layer input (sizes - 1)
  bool shuffle = true;
};

struct FitHooks {
  // Polled between batches; returning true stops training after that batch.
  std::function<bool()> stop_requested;
  // Called after each epoch with its number (from 1), its loss (data loss plus
  // penalties) and the penalty part of that loss; true stops training.
  std::function<bool(Index, double, double)> epoch_end;
};

struct FitResult {
  std::vector<double> history;    // per completed epoch: mean loss plus penalties
  std::vector<double> penalties;  // per completed epoch: the penalty part of history
  bool stopped_early = false;   // stop_requested returned true
};

// Throws std::invalid_argument unless the options suit a network of n_layers
// weight layers.
inline void check_fit_options(const FitOptions& options, Index n_layers) {
  const auto fail = [](const std::string& message) { throw std::invalid_argument(message); };
  if (options.epochs < 1) fail("epochs must be >= 1, got " + std::to_string(options.epochs));
  if (options.batch_size < 1) {
    fail("batch_size must be a positive integer, got " + std::to_string(options.batch_size));
  }
  const SgdStep& s = options.step;
  if (!(s.learning_rate > 0) || !std::isfinite(s.learning_rate)) {
    fail("learning_rate must be a positive finite number, got " +
         std::to_string(s.learning_rate));
  }
  if (!(s.momentum >= 0 && s.momentum < 1)) {
    fail("momentum must be in [0, 1), got " + std::to_string(s.momentum));
  }
  if (!(s.l1 >= 0) || !std::isfinite(s.l1)) fail("l1 must be >= 0, got " + std::to_string(s.l1));
  if (!(s.l2 >= 0) || !std::isfinite(s.l2)) fail("l2 must be >= 0, got " + std::to_string(s.l2));
  if (static_cast<Index>(options.dropout.size()) != n_layers) {
    fail("dropout must hold " + std::to_string(n_layers) + " probabilities, got " +
         std::to_string(options.dropout.size()));
  }
  for (double p : options.dropout) {
    if (!(p >= 0 && p < 1)) {
      fail("dropout probabilities must be in [0, 1), got " + std::to_string(p));
    }
  }
}

}  // namespace fastmlp
