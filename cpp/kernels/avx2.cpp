// AVX2 micro-kernels with FMA: 6 x 16 floats and 6 x 8 doubles. The file is
// compiled for the baseline instruction set; only the code between push_options
// and pop_options targets AVX2 and FMA, and dispatch calls it only on CPUs that
// have both.
#include <immintrin.h>

#include "microkernel.hpp"

#pragma GCC push_options
#pragma GCC target("avx2,fma")

#include "register_tile.hpp"

namespace fastmlp {
namespace {

struct Avx2Float {
  using T = float;
  using Vec = __m256;
  static constexpr Index kLanes = 8;
  static Vec zero() { return _mm256_setzero_ps(); }
  static Vec load(const T* p) { return _mm256_load_ps(p); }
  static Vec loadu(const T* p) { return _mm256_loadu_ps(p); }
  static void storeu(T* p, Vec v) { _mm256_storeu_ps(p, v); }
  static Vec set1(T x) { return _mm256_set1_ps(x); }
  static Vec fmadd(Vec a, Vec b, Vec c) { return _mm256_fmadd_ps(a, b, c); }
  static Vec add(Vec a, Vec b) { return _mm256_add_ps(a, b); }
};

struct Avx2Double {
  using T = double;
  using Vec = __m256d;
  static constexpr Index kLanes = 4;
  static Vec zero() { return _mm256_setzero_pd(); }
  static Vec load(const T* p) { return _mm256_load_pd(p); }
  static Vec loadu(const T* p) { return _mm256_loadu_pd(p); }
  static void storeu(T* p, Vec v) { _mm256_storeu_pd(p, v); }
  static Vec set1(T x) { return _mm256_set1_pd(x); }
  static Vec fmadd(Vec a, Vec b, Vec c) { return _mm256_fmadd_pd(a, b, c); }
  static Vec add(Vec a, Vec b) { return _mm256_add_pd(a, b); }
};

}  // namespace

void sgemm_micro_avx2(Index kc, const float* A_panel, const float* B_panel, float* C_tile,
                      Index ldc, Index m_valid, Index n_valid, bool accumulate) {
  register_tile_kernel<Avx2Float, kAvx2MR>(kc, A_panel, B_panel, C_tile, ldc, m_valid,
                                           n_valid, accumulate);
}

void dgemm_micro_avx2(Index kc, const double* A_panel, const double* B_panel,
                      double* C_tile, Index ldc, Index m_valid, Index n_valid,
                      bool accumulate) {
  register_tile_kernel<Avx2Double, kAvx2MR>(kc, A_panel, B_panel, C_tile, ldc, m_valid,
                                            n_valid, accumulate);
}

}  // namespace fastmlp

#pragma GCC pop_options
