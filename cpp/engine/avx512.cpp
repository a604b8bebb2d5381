// The AVX-512 build of the engine. Its micro-kernel holds a 12 x 32 float
// (12 x 16 double) tile in 24 zmm accumulators: with two B vectors and a
// broadcast that is 27 of the 32 registers, and 24 independent FMA chains keep
// two FMA pipes of latency 4 busy.
// Every standard header the engine uses comes first, compiled for the baseline
// instruction set, so that no library code is built for the newer one.
#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <functional>
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
#pragma GCC target("avx512f,avx512dq,avx512bw,avx512vl,avx2,fma")

#define FASTMLP_ISA avx512
#define FASTMLP_ISA_LEVEL kAvx512
#include "register_tile.hpp"

FASTMLP_ENGINE_BEGIN

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

template <typename T>
struct MicroKernel;

template <>
struct MicroKernel<float> {
  static constexpr Index kMR = 12;
  static constexpr Index kNR = 2 * Avx512Float::kLanes;
  static void run(Index kc, const float* A, const float* B, float* C, Index ldc,
                  Index m_valid, Index n_valid, bool accumulate) {
    register_tile_kernel<Avx512Float, kMR>(kc, A, B, C, ldc, m_valid, n_valid, accumulate);
  }
};

template <>
struct MicroKernel<double> {
  static constexpr Index kMR = 12;
  static constexpr Index kNR = 2 * Avx512Double::kLanes;
  static void run(Index kc, const double* A, const double* B, double* C, Index ldc,
                  Index m_valid, Index n_valid, bool accumulate) {
    register_tile_kernel<Avx512Double, kMR>(kc, A, B, C, ldc, m_valid, n_valid, accumulate);
  }
};

FASTMLP_ENGINE_END

#include "engine_impl.hpp"

#pragma GCC pop_options
