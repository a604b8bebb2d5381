// The engine: every numerical routine of the core, compiled once per instruction
// set (portable, AVX2 with FMA, AVX-512) and chosen at run time by CPUID.
//
// Each build lives in its own namespace (fastmlp::portable, fastmlp::avx2,
// fastmlp::avx512) and reaches the rest of the program only through the
// function tables below, so code compiled for a newer CPU never runs on an
// older one.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common.hpp"
#include "fit_options.hpp"
#include "model.hpp"

namespace fastmlp {

enum class Isa { kPortable = 0, kAvx2 = 1, kAvx512 = 2 };

// The best level this CPU and operating system support (CPUID and XGETBV, as
// reported by the compiler's runtime).
Isa best_supported_isa();

// The level in use; starts at best_supported_isa().
Isa active_isa();

// Selects a level for every later call; throws std::invalid_argument if this CPU
// does not support it. Levels differ in the rounding of fused multiply-adds and
// in how vector loops group their sums, so their results differ in the last bits.
void set_active_isa(Isa isa);

const char* isa_name(Isa isa);

// Throws std::invalid_argument for a name other than "portable", "avx2", "avx512".
Isa parse_isa(const std::string& name);

// A strided read-only matrix: element (i, j) is at data[i * row_stride + j * col_stride].
template <typename T>
struct MatrixView {
  const T* data;
  Index row_stride;
  Index col_stride;

  T operator()(Index i, Index j) const { return data[i * row_stride + j * col_stride]; }
  MatrixView transposed() const { return {data, col_stride, row_stride}; }
};

template <typename T>
MatrixView<T> row_major(const T* data, Index n_cols) {
  return {data, n_cols, 1};
}

// The matrix product a prediction uses for pruned layers: kAuto picks the sparse
// product for layers that keep at most sparse_max_density (for batches of
// sparse_block_rows rows or more) or sparse_max_density_small_batch of their
// weights, kDense and kSparse force one product. Layers without removed weights
// always use the dense one.
enum class ForwardPath { kAuto, kDense, kSparse };

// The routines of one engine build for one dtype.
template <typename T>
struct Engine {
  const char* isa;
  Index gemm_mr;  // rows of the micro-kernel's register tile
  Index gemm_nr;  // columns of the micro-kernel's register tile
  Index gemm_max_kc, gemm_max_mc, gemm_max_nc;  // upper limits of the GEMM blocks

  // Y_hat (n, n_out) = output activations for X (n, n_in), without dropout.
  void (*predict)(const Model<T>& model, const T* X, T* Y_hat, Index n, int n_threads);

  // Mean data loss of (X, Y) and its gradients dW[l], db[l]; masks[l] (null:
  // kept whole) is a (n, sizes[l]) keep-mask whose kept units scale by
  // 1 / (1 - p[l]). sample_weight (null: none) weights the mean.
  double (*gradients)(const Model<T>& model, const T* X, const T* Y, const T* sample_weight,
                      Index n, const std::vector<const std::uint8_t*>& masks,
                      const std::vector<double>& p, const std::vector<T*>& dW,
                      const std::vector<T*>& db, int n_threads);

  // Epochs of minibatch updates on (X, Y) with optional sample weights; see
  // train.hpp.
  FitResult (*fit)(Model<T>& model, const T* X, const T* Y, const T* sample_weight, Index n,
                   const FitOptions& options, const FitHooks& hooks, int n_threads);

  // Mean data loss of (X, Y) plus l2/2 ||W||^2 + l1 ||W||_1 at the flat parameters
  // theta, and its gradient written to grad; see objective.hpp for the layout.
  // sample_weight (null: none) weights the mean.
  double (*objective)(Model<T>& model, const double* theta, const T* X, const T* Y,
                      const T* sample_weight, Index n, double l1, double l2, double* grad,
                      int n_threads);

  // C (m, n) = A (m, k) B (k, n), row-major C.
  void (*gemm)(MatrixView<T> A, MatrixView<T> B, T* C, Index m, Index n, Index k,
               int n_threads);

  // predict with the product of pruned layers chosen by path; see sparse.hpp.
  void (*predict_with_path)(const Model<T>& model, const T* X, T* Y_hat, Index n,
                            ForwardPath path, int n_threads);
  // kAuto's switch-over densities and the batch size between them; see sparse.hpp.
  double sparse_max_density;
  double sparse_max_density_small_batch;
  Index sparse_block_rows;

  // H[l] (n_out, n_in) = diagonal of the Hessian of the mean loss over X (n, n_in)
  // with respect to W_l, in Optimal Brain Damage's approximation; see hessian.hpp.
  void (*hessian_diagonal)(const Model<T>& model, const T* X, Index n,
                           const std::vector<T*>& H, int n_threads);
};

// The engine of the active level.
template <typename T>
const Engine<T>& active_engine();

// The tables each build defines.
namespace portable {
template <typename T>
const Engine<T>& engine();
}
namespace avx2 {
template <typename T>
const Engine<T>& engine();
}
namespace avx512 {
template <typename T>
const Engine<T>& engine();
}

}  // namespace fastmlp
