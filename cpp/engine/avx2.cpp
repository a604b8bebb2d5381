// The AVX2 build of the engine, with FMA. Its micro-kernel keeps a 6 x 16 float
// (6 x 8 double) tile in 12 ymm accumulators: with two B vectors and a broadcast
// that is 15 of the 16 registers.
// Every standard header the engine uses comes first, compiled for the baseline
// instruction set, so that no library code is built for the newer one.
#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <limits>
#include <new>
#include <numeric>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "../common.hpp"
#include "../engine.hpp"
#include "../fit_options.hpp"
#include "../model.hpp"
#include "../random.hpp"

#include <immintrin.h>

#pragma GCC push_options
#pragma GCC target("avx2,fma")

#define FASTMLP_ISA avx2
#define FASTMLP_ISA_LEVEL kAvx2
#include "register_tile.hpp"

FASTMLP_ENGINE_BEGIN

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

template <typename T>
struct MicroKernel;

template <>
struct MicroKernel<float> {
  static constexpr Index kMR = 6;
  static constexpr Index kNR = 2 * Avx2Float::kLanes;
  static void run(Index kc, const float* A, const float* B, float* C, Index ldc,
                  Index m_valid, Index n_valid, bool accumulate) {
    register_tile_kernel<Avx2Float, kMR>(kc, A, B, C, ldc, m_valid, n_valid, accumulate);
  }
};

template <>
struct MicroKernel<double> {
  static constexpr Index kMR = 6;
  static constexpr Index kNR = 2 * Avx2Double::kLanes;
  static void run(Index kc, const double* A, const double* B, double* C, Index ldc,
                  Index m_valid, Index n_valid, bool accumulate) {
    register_tile_kernel<Avx2Double, kMR>(kc, A, B, C, ldc, m_valid, n_valid, accumulate);
  }
};

FASTMLP_ENGINE_END

#include "engine_impl.hpp"

#pragma GCC pop_options
