// AVX-512 micro-kernels: 12 x 32 floats and 12 x 16 doubles. The file is compiled
// for the baseline instruction set; only the code between push_options and
// pop_options targets AVX-512F, and dispatch calls it only on CPUs that have it.
#include <immintrin.h>

#include "microkernel.hpp"

#pragma GCC push_options
#pragma GCC target("avx512f")

#include "register_tile.hpp"

namespace fastmlp {
namespace {

struct Avx512Float {
  using T = float;
  using Vec = __m512;
  static constexpr Index kLanes = 16;
  static Vec zero() { return _mm512_setzero_ps(); }
  static Vec load(const T* p) { return _mm512_load_ps(p); }
  static Vec loadu(const T* p) { return _mm512_loadu_ps(p); }
  static void storeu(T* p, Vec v) { _mm512_storeu_ps(p, v); }
  static Vec set1(T x) { return _mm512_set1_ps(x); }
  static Vec fmadd(Vec a, Vec b, Vec c) { return _mm512_fmadd_ps(a, b, c); }
  static Vec add(Vec a, Vec b) { return _mm512_add_ps(a, b); }
};

struct Avx512Double {
  using T = double;
  using Vec = __m512d;
  static constexpr Index kLanes = 8;
  static Vec zero() { return _mm512_setzero_pd(); }
  static Vec load(const T* p) { return _mm512_load_pd(p); }
  static Vec loadu(const T* p) { return _mm512_loadu_pd(p); }
  static void storeu(T* p, Vec v) { _mm512_storeu_pd(p, v); }
  static Vec set1(T x) { return _mm512_set1_pd(x); }
  static Vec fmadd(Vec a, Vec b, Vec c) { return _mm512_fmadd_pd(a, b, c); }
  static Vec add(Vec a, Vec b) { return _mm512_add_pd(a, b); }
};

}  // namespace

void sgemm_micro_avx512(Index kc, const float* A_panel, const float* B_panel,
                        float* C_tile, Index ldc, Index m_valid, Index n_valid,
                        bool accumulate) {
  register_tile_kernel<Avx512Float, kAvx512MR>(kc, A_panel, B_panel, C_tile, ldc, m_valid,
                                                n_valid, accumulate);
}

void dgemm_micro_avx512(Index kc, const double* A_panel, const double* B_panel,
                        double* C_tile, Index ldc, Index m_valid, Index n_valid,
                        bool accumulate) {
  register_tile_kernel<Avx512Double, kAvx512MR>(kc, A_panel, B_panel, C_tile, ldc,
                                                 m_valid, n_valid, accumulate);
}

}  // namespace fastmlp

#pragma GCC pop_options
