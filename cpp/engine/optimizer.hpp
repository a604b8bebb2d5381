// Parameter updates of one minibatch step: SGD with momentum or Nesterov
// momentum, RMSprop and Adam, each with L1/L2 penalties on weights.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "../common.hpp"
#include "../fit_options.hpp"
#include "gemm.hpp"
#include "isa.hpp"
#include "parallel.hpp"

FASTMLP_ENGINE_BEGIN

template <typename T>
T sign(T w) {
  return w > 0 ? T(1) : (w < 0 ? T(-1) : T(0));  // sign(0) = 0: no L1 pull at zero
}

enum class Momentum { kNone, kClassic, kNesterov };

// The scalars of one update step, in the parameters' dtype. l1 and l2 are the
// weights' penalties; biases are updated with 0 in their place.
template <typename T>
struct Step {
  Optimizer optimizer = Optimizer::kSgd;
  Momentum momentum = Momentum::kNone;
  // The learning rate; for Adam, the bias-corrected rate lr_t of this step.
  T eta = 0;
  T mu = 0;
  T beta_1 = 0, one_minus_beta_1 = 0, beta_2 = 0, one_minus_beta_2 = 0;
  T rho = 0, one_minus_rho = 0;
  T epsilon = 0;
  T l1 = 0, l2 = 0;
  // Whether l2 and l1 are nonzero, decided in double so that a penalty too
  // small for float still reaches the history.
  bool with_l2 = false, with_l1 = false;
};

// The step for options whose l1 and l2 are already scaled for the batch.
// adam_step is Adam's t for this step, counted from 1. Adam's bias correction
// lr_t = learning_rate sqrt(1 - beta_2^t) / (1 - beta_1^t) is computed in
// double, in scikit-learn's order and with t converted to double as Python
// converts scikit-learn's integer t, and then rounded to T.
// NOTE: float32 models compute the whole update in float32. scikit-learn 1.9.1
// computes lr_t m / (sqrt(v) + epsilon) in float64 from float32 moments and
// rounds when adding, so its float32 results differ in the last bits.
template <typename T>
Step<T> make_step(const StepOptions& options, std::uint64_t adam_step) {
  Step<T> step;
  step.optimizer = options.optimizer;
  double eta = options.learning_rate;
  if (options.optimizer == Optimizer::kAdam) {
    const double t = double(adam_step);
    eta = options.learning_rate * std::sqrt(1.0 - std::pow(options.beta_2, t)) /
          (1.0 - std::pow(options.beta_1, t));
  }
  step.eta = T(eta);
  if (options.optimizer == Optimizer::kSgd && options.momentum != 0) {
    step.momentum = options.nesterov ? Momentum::kNesterov : Momentum::kClassic;
  }
  step.mu = T(options.momentum);
  step.beta_1 = T(options.beta_1);
  step.one_minus_beta_1 = T(1.0 - options.beta_1);
  step.beta_2 = T(options.beta_2);
  step.one_minus_beta_2 = T(1.0 - options.beta_2);
  step.rho = T(options.rho);
  step.one_minus_rho = T(1.0 - options.rho);
  step.epsilon = T(options.epsilon);
  step.l1 = T(options.l1);
  step.l2 = T(options.l2);
  step.with_l2 = options.l2 != 0;
  step.with_l1 = options.l1 != 0;
  return step;
}

// Optimizer state of a run of parameters, each array shaped like them. Only the
// arrays of the optimizer in use are read; the others may be null.
template <typename T>
struct State {
  T* velocity = nullptr;  // SGD momentum
  T* adam_m = nullptr;
  T* adam_v = nullptr;
  T* rmsprop_s = nullptr;

  // The state of the parameters from `offset` on.
  State at(Index offset) const {
    const auto shift = [offset](T* p) { return p == nullptr ? p : p + offset; };
    return {shift(velocity), shift(adam_m), shift(adam_v), shift(rmsprop_s)};
  }
};

// Sums of w^2 and |w| over the weights of a few rows, for the penalty terms of
// the history. Each of kPenaltyLanes lanes sums every kPenaltyLanes-th value in
// T, and the lanes are added in double at the end. Independent lanes let the
// loop run at the speed of the loads: a single double accumulator made the sums
// cost more than the update itself. One final reduction per block of rows keeps
// narrow rows cheap. A lane of a block of 16 rows of 1,000 floats adds 250
// values, so the float rounding stays near 1e-6 of the sum (an estimate).
constexpr Index kPenaltyLanes = 64;

template <typename T>
struct PenaltyLanes {
  // Left uninitialised until reset: zeroing 512 bytes per block of rows cost a
  // one-sample step of a tiny network about a tenth of its time.
  T squares[kPenaltyLanes], absolutes[kPenaltyLanes];

  void reset() {
    std::fill(squares, squares + kPenaltyLanes, T(0));
    std::fill(absolutes, absolutes + kPenaltyLanes, T(0));
  }

  // Adds w[0, count) to sum(w^2) when with_squares and to sum(|w|) when
  // with_absolutes.
  template <bool with_squares, bool with_absolutes>
  void add(const T* w, Index count) {
    Index e = 0;
    // Whole blocks in a loop of fixed width, which keeps the lanes in registers.
    for (; e + kPenaltyLanes <= count; e += kPenaltyLanes) {
#pragma omp simd
      for (Index j = 0; j < kPenaltyLanes; ++j) {
        if constexpr (with_squares) squares[j] += w[e + j] * w[e + j];
        if constexpr (with_absolutes) absolutes[j] += std::abs(w[e + j]);
      }
    }
    for (Index j = 0; e + j < count; ++j) {
      if constexpr (with_squares) squares[j] += w[e + j] * w[e + j];
      if constexpr (with_absolutes) absolutes[j] += std::abs(w[e + j]);
    }
  }

  void add(const T* w, Index count, bool with_squares, bool with_absolutes) {
    if (with_squares && with_absolutes) {
      add<true, true>(w, count);
    } else if (with_squares) {
      add<true, false>(w, count);
    } else if (with_absolutes) {
      add<false, true>(w, count);
    }
  }

  // sums[0..1] = sum(w^2) and sum(|w|) over every weight added.
  void total(double* sums) const {
    double total_squares = 0, total_absolutes = 0;
#pragma omp simd reduction(+ : total_squares, total_absolutes)
    for (Index j = 0; j < kPenaltyLanes; ++j) {
      total_squares += double(squares[j]);
      total_absolutes += double(absolutes[j]);
    }
    sums[0] = total_squares;
    sums[1] = total_absolutes;
  }
};

// Sources of the data-loss gradient g(e) of parameter e of a run of `count`
// parameters, read by the update loops below.

// A gradient already stored: g(e) = g[e].
template <typename T>
struct StoredGradient {
  const T* g;
  T operator()(Index e) const { return g[e]; }
};

// Row r of dW = dZ^T a for a batch of one row a: g(e) = dz a[e]. One-sample
// steps use it so that dW is never written and read back.
template <typename T>
struct RankOneGradient {
  T dz;
  const T* a;
  T operator()(Index e) const { return dz * a[e]; }
};

// The penalised gradient g' of a weight from its data-loss gradient g and its
// value w. Steps without L1 take loops without it, because sign(w) costs more
// vector operations per weight than the rest of an SGD step.
template <typename T>
struct L2Penalty {
  T l2;
  T operator()(T g, T w) const { return g + l2 * w; }
};
template <typename T>
struct L1L2Penalty {
  T l1, l2;
  T operator()(T g, T w) const { return g + l2 * w + l1 * sign(w); }
};

// Each loop below is one update rule over `count` parameters. Each rule is its
// own loop: branches inside a vector loop would run every path for every
// element. The scalars are copied into locals, and the gradient source and the
// penalty are passed by value, so that the stores to w cannot look as if they
// changed them. With kSums a loop also returns the penalty sums (see rule_loop).

// Runs step(e) for e in [0, count) as one vector loop. step(e) updates parameter
// e and returns its value from before the update. With kSums, sums[0..1]
// receive the sums of those values squared and of their absolute values.
// Without kSums the loop has no reduction, whose set-up slows tiny rows.
template <bool kSums, typename T, typename StepElement>
void rule_loop(Index count, T* sums, StepElement step) {
  if constexpr (kSums) {
    T squares = 0, absolutes = 0;
#pragma omp simd reduction(+ : squares, absolutes)
    for (Index e = 0; e < count; ++e) {
      const T w_e = step(e);
      squares += w_e * w_e;
      absolutes += std::abs(w_e);
    }
    sums[0] = squares;
    sums[1] = absolutes;
  } else {
#pragma omp simd
    for (Index e = 0; e < count; ++e) step(e);
  }
}

template <Momentum kind, bool kSums, typename T, typename Gradient, typename Penalty>
void sgd_loop(Gradient g, Penalty penalty, T* w, T* v, Index count, const Step<T>& step,
              T* sums) {
  const T eta = step.eta, mu = step.mu;
  rule_loop<kSums>(count, sums, [=](Index e) {
    const T w_e = w[e];
    const T g_e = penalty(g(e), w_e);
    if constexpr (kind == Momentum::kNone) {
      w[e] = w_e - eta * g_e;
    } else {
      const T v_e = mu * v[e] - eta * g_e;
      v[e] = v_e;
      if constexpr (kind == Momentum::kNesterov) {
        w[e] = w_e + (mu * v_e - eta * g_e);
      } else {
        w[e] = w_e + v_e;
      }
    }
    return w_e;
  });
}

template <bool kSums, typename T, typename Gradient, typename Penalty>
void rmsprop_loop(Gradient g, Penalty penalty, T* w, T* s, Index count, const Step<T>& step,
                  T* sums) {
  const T eta = step.eta, rho = step.rho, one_minus_rho = step.one_minus_rho;
  const T epsilon = step.epsilon;
  rule_loop<kSums>(count, sums, [=](Index e) {
    const T w_e = w[e];
    const T g_e = penalty(g(e), w_e);
    const T s_e = rho * s[e] + one_minus_rho * (g_e * g_e);
    s[e] = s_e;
    w[e] = w_e - eta * g_e / (std::sqrt(s_e) + epsilon);
    return w_e;
  });
}

template <bool kSums, typename T, typename Gradient, typename Penalty>
void adam_loop(Gradient g, Penalty penalty, T* w, T* m, T* v, Index count,
               const Step<T>& step, T* sums) {
  const T eta = step.eta, epsilon = step.epsilon;
  const T beta_1 = step.beta_1, one_minus_beta_1 = step.one_minus_beta_1;
  const T beta_2 = step.beta_2, one_minus_beta_2 = step.one_minus_beta_2;
  rule_loop<kSums>(count, sums, [=](Index e) {
    const T w_e = w[e];
    const T g_e = penalty(g(e), w_e);
    const T m_e = beta_1 * m[e] + one_minus_beta_1 * g_e;
    const T v_e = beta_2 * v[e] + one_minus_beta_2 * (g_e * g_e);
    m[e] = m_e;
    v[e] = v_e;
    w[e] = w_e - eta * m_e / (std::sqrt(v_e) + epsilon);
    return w_e;
  });
}

// Runs the loop of the step's rule.
template <bool kSums, typename T, typename Gradient, typename Penalty>
void run_rule(Gradient g, Penalty penalty, T* w, const State<T>& state, Index count,
              const Step<T>& step, T* sums) {
  switch (step.optimizer) {
    case Optimizer::kSgd:
      switch (step.momentum) {
        case Momentum::kNone:
          sgd_loop<Momentum::kNone, kSums>(g, penalty, w, state.velocity, count, step, sums);
          return;
        case Momentum::kClassic:
          sgd_loop<Momentum::kClassic, kSums>(g, penalty, w, state.velocity, count, step,
                                              sums);
          return;
        case Momentum::kNesterov:
          sgd_loop<Momentum::kNesterov, kSums>(g, penalty, w, state.velocity, count, step,
                                               sums);
          return;
      }
      return;
    case Optimizer::kRmsprop:
      rmsprop_loop<kSums>(g, penalty, w, state.rmsprop_s, count, step, sums);
      return;
    case Optimizer::kAdam:
      adam_loop<kSums>(g, penalty, w, state.adam_m, state.adam_v, count, step, sums);
      return;
  }
}

// One update of `count` parameters w from their data-loss gradient g (a
// gradient source above). Every rule first adds the penalties,
// g' = g + l2 w + l1 sign(w), and then steps:
//   SGD:      w -= eta g'. With momentum v = mu v - eta g' and w += v, or with
//             Nesterov momentum w += mu v - eta g'. Momentum 0 leaves v alone.
//   RMSprop:  s = rho s + (1 - rho) g'^2 and w -= eta g' / (sqrt(s) + epsilon).
//   Adam:     m = beta_1 m + (1 - beta_1) g', v = beta_2 v + (1 - beta_2) g'^2
//             and w -= lr_t m / (sqrt(v) + epsilon), with lr_t from make_step.
// Pass l1 = l2 = 0 for biases. With kSums, sums[0..1] receive sum(w^2) and
// sum(|w|) of w before the update.
template <bool kSums = false, typename T, typename Gradient>
void update_from(Gradient g, T* w, const State<T>& state, Index count, const Step<T>& step,
                 T l1, T l2, T* sums = nullptr) {
  if (l1 != 0) {
    run_rule<kSums>(g, L1L2Penalty<T>{l1, l2}, w, state, count, step, sums);
  } else {
    run_rule<kSums>(g, L2Penalty<T>{l2}, w, state, count, step, sums);
  }
}

// update_from with the gradient stored in g[0, count).
template <typename T>
void update(const T* g, T* w, const State<T>& state, Index count, const Step<T>& step, T l1,
            T l2) {
  update_from(StoredGradient<T>{g}, w, state, count, step, l1, l2);
}

// Weight rows are updated in blocks of this many rows: threads own whole
// blocks, and each block's penalty sums are one entry of block_sums.
constexpr Index kPenaltyBlockRows = 16;
static_assert(kPenaltyBlockRows % kDotBlock == 0,
              "update_outer computes look-ahead products by whole dot blocks of a thread");

// The penalty sums of one block of weight rows while update_rows runs.
template <typename T>
struct BlockSums {
  bool active;  // false: no penalty, so nothing is summed
  bool with_l2, with_l1;
  PenaltyLanes<T> lanes;  // reset only when active: zeroing costs tiny networks time
  double squares = 0, absolutes = 0;

  explicit BlockSums(const Step<T>& step)
      : active(step.with_l2 || step.with_l1), with_l2(step.with_l2), with_l1(step.with_l1) {
    if (active) lanes.reset();
  }

  // Adds the values of a row before they are updated.
  void add_row(const T* w, Index count) {
    if (active) lanes.add(w, count, with_l2, with_l1);
  }
  // Adds a row's sums that its update loop returned (see update_from).
  void add_totals(const T* sums) {
    squares += double(sums[0]);
    absolutes += double(sums[1]);
  }
};

// Calls update_row(r, block_sums) for each of the `rows` rows of a weight
// matrix, threads owning whole blocks of rows. update_row adds row r to block_sums
// before updating it, unless block_sums.active is false. Returns in sums[0..1]
// sum(w^2) and sum(|w|) of W before the update, each 0 when its penalty (l2, l1)
// is 0: the sums enter the history only through the penalties. Each block's
// sums land in block_sums (2 per block) and are added in block order, so the
// result does not depend on the thread count.
template <typename T, typename UpdateRow>
void update_rows(Index rows, const Step<T>& step, double* block_sums, double* sums,
                 int threads, const UpdateRow& update_row) {
  const bool with_sums = step.with_l2 || step.with_l1;
  const Index blocks = (rows + kPenaltyBlockRows - 1) / kPenaltyBlockRows;
  for_each_chunk(blocks, threads, [&](Index begin, Index end) {
    for (Index block = begin; block < end; ++block) {
      BlockSums<T> row_sums(step);
      const Index first = block * kPenaltyBlockRows;
      const Index last = std::min(rows, first + kPenaltyBlockRows);
      for (Index r = first; r < last; ++r) update_row(r, row_sums);
      if (!with_sums) continue;
      double lane_sums[2];
      row_sums.lanes.total(lane_sums);
      block_sums[2 * block] = lane_sums[0] + row_sums.squares;
      block_sums[2 * block + 1] = lane_sums[1] + row_sums.absolutes;
    }
  });
  sums[0] = sums[1] = 0;
  if (!with_sums) return;
  for (Index block = 0; block < blocks; ++block) {
    sums[0] += step.with_l2 ? block_sums[2 * block] : 0.0;
    sums[1] += step.with_l1 ? block_sums[2 * block + 1] : 0.0;
  }
}

// update over the rows of a (rows, cols) weight matrix W from its gradient dW,
// with the penalty sums of update_rows.
template <typename T>
void update_matrix(const T* dW, T* W, const State<T>& state, Index rows, Index cols,
                   const Step<T>& step, double* block_sums, double* sums, int n_threads) {
  update_rows(rows, step, block_sums, sums, threads_for(rows * cols, n_threads),
              [&](Index r, BlockSums<T>& block) {
                const Index offset = r * cols;
                block.add_row(W + offset, cols);
                update(dW + offset, W + offset, state.at(offset), cols, step, step.l1,
                       step.l2);
              });
}

// Batches of at most this many rows update W straight from dZ and A without
// forming dW. For one row the update is a rank-1 axpy per unit, and skipping the
// dW buffer saves a write and a read of every weight.
constexpr Index kMaxFusedUpdateRows = 8;

// update_matrix for the gradient dW = dZ^T A of a small batch, one row of dW
// at a time: dZ (n, rows), A (n, cols), W (rows, cols). A one-row batch computes
// each gradient element where the update uses it. With next_input (1, cols), a
// one-row batch also computes next_Z (rows) = next_input W^T from each updated
// row while it is still in L1, with the bits of the forward product: the next
// one-sample step then skips that product, which would read W from L2 again.
template <typename T>
void update_outer(const T* dZ, const T* A, T* W, const State<T>& state, Index rows,
                  Index cols, Index n, const Step<T>& step, double* block_sums, double* sums,
                  int n_threads, const T* next_input = nullptr, T* next_Z = nullptr) {
  // Threads own about the same rows as in the forward product X W^T of a
  // one-sample step (the halves of a 256-row W exactly), so each keeps its part
  // of W in its own cache between the two.
  const int threads = rows * cols * n >= kMinParallelElements ? n_threads : 1;
  update_rows(rows, step, block_sums, sums, threads, [&](Index r, BlockSums<T>& block) {
    const Index offset = r * cols;
    if (n == 1) {
      // The update loop sums the row's penalty terms as it reads the weights.
      const RankOneGradient<T> gradient{dZ[r], A};
      if (block.active) {
        T row_sums[2];
        update_from<true>(gradient, W + offset, state.at(offset), cols, step, step.l1, step.l2,
                          row_sums);
        block.add_totals(row_sums);
      } else {
        update_from(gradient, W + offset, state.at(offset), cols, step, step.l1, step.l2);
      }
      // Whole dot blocks of rows at once, because a single dot product waits on
      // the latency of its one sum. Threads own whole blocks of 16 rows, so each
      // group of kDotBlock rows has been updated by this thread.
      if (next_input != nullptr && ((r + 1) % kDotBlock == 0 || r + 1 == rows)) {
        gemm_row_columns(row_major(next_input, cols), row_major(W, cols).transposed(), next_Z,
                         rows, cols, r - r % kDotBlock, r + 1);
      }
      return;
    }
    // Row r of dW, summed over the batch rows in order, in a scratch row that
    // stays in L1.
    thread_local Buffer<T> gradient_row;
    if (static_cast<Index>(gradient_row.size()) < cols) gradient_row.resize(cols);
    T* g = gradient_row.data();
    std::fill(g, g + cols, T(0));
    for (Index i = 0; i < n; ++i) {
      const T dz = dZ[i * rows + r];
      const T* a_i = A + i * cols;
#pragma omp simd
      for (Index j = 0; j < cols; ++j) g[j] += dz * a_i[j];
    }
    block.add_row(W + offset, cols);
    update(g, W + offset, state.at(offset), cols, step, step.l1, step.l2);
  });
}

FASTMLP_ENGINE_END
