// Settings of a training run and what it reports back.
#pragma once

#include <cmath>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include "common.hpp"

namespace fastmlp {

// The update rule of a training run. Each keeps its own state in the model.
enum class Optimizer { kSgd, kRmsprop, kAdam };

inline const char* optimizer_name(Optimizer optimizer) {
  switch (optimizer) {
    case Optimizer::kSgd:
      return "sgd";
    case Optimizer::kRmsprop:
      return "rmsprop";
    case Optimizer::kAdam:
      return "adam";
  }
  return "unknown";
}

// Hyperparameters of one update step. l1 and l2 are already scaled as the caller
// wants (scikit-learn's estimators divide them by the batch's row count).
struct StepOptions {
  Optimizer optimizer = Optimizer::kSgd;
  double learning_rate = 0.1;
  double momentum = 0.0;  // SGD only
  bool nesterov = false;  // SGD only
  double beta_1 = 0.9;    // Adam: decay of the first moment
  double beta_2 = 0.999;  // Adam: decay of the second moment
  double rho = 0.99;      // RMSprop: decay of the mean square (PyTorch's alpha)
  double epsilon = 1e-8;  // Adam and RMSprop: added to the root of the second moment
  double l1 = 0.0;
  double l2 = 0.0;
};

struct FitOptions {
  Index epochs = 10;
  Index batch_size = 32;
  // step.learning_rate is ignored when FitHooks::learning_rate is set.
  StepOptions step;
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
  // When set, called before each epoch with its number (from 1) and returns the
  // learning rate of that epoch, in place of options.step.learning_rate.
  std::function<double(Index)> learning_rate;
};

struct FitResult {
  std::vector<double> history;    // per completed epoch: mean loss plus penalties
  std::vector<double> penalties;  // per completed epoch: the penalty part of history
  bool stopped_early = false;   // stop_requested returned true
};

// Whether a learning rate is usable: positive and finite.
inline bool valid_learning_rate(double learning_rate) {
  return learning_rate > 0 && std::isfinite(learning_rate);
}

// Throws std::invalid_argument unless the options suit a network of n_layers
// weight layers. With check_learning_rate false, step.learning_rate is not
// checked, because a FitHooks::learning_rate schedule supplies the rates.
inline void check_fit_options(const FitOptions& options, Index n_layers,
                              bool check_learning_rate = true) {
  const auto fail = [](const std::string& message) { throw std::invalid_argument(message); };
  if (options.epochs < 1) fail("epochs must be >= 1, got " + std::to_string(options.epochs));
  if (options.batch_size < 1) {
    fail("batch_size must be a positive integer, got " + std::to_string(options.batch_size));
  }
  const StepOptions& s = options.step;
  if (check_learning_rate && !valid_learning_rate(s.learning_rate)) {
    fail("learning_rate must be a positive finite number, got " +
         std::to_string(s.learning_rate));
  }
  if (!(s.momentum >= 0 && s.momentum < 1)) {
    fail("momentum must be in [0, 1), got " + std::to_string(s.momentum));
  }
  if (s.momentum != 0 && s.optimizer != Optimizer::kSgd) {
    fail("momentum applies to the 'sgd' optimizer only, got momentum=" +
         std::to_string(s.momentum) + " with optimizer='" + optimizer_name(s.optimizer) +
         "'; set momentum to 0");
  }
  if (!(s.beta_1 >= 0 && s.beta_1 < 1)) {
    fail("beta_1 must be in [0, 1), got " + std::to_string(s.beta_1));
  }
  if (!(s.beta_2 >= 0 && s.beta_2 < 1)) {
    fail("beta_2 must be in [0, 1), got " + std::to_string(s.beta_2));
  }
  if (!(s.rho >= 0 && s.rho < 1)) fail("rho must be in [0, 1), got " + std::to_string(s.rho));
  if (!(s.epsilon > 0) || !std::isfinite(s.epsilon)) {
    fail("epsilon must be a positive finite number, got " + std::to_string(s.epsilon));
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
