// The AVX-512 build of the engine. Its micro-kernel keeps a 12 x 32 float
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
#pragma GCC target("avx512f,avx512dq,avx512bw,avx512vl,avx2,fma")

#define FASTMLP_ISA avx512
#define FASTMLP_ISA_LEVEL kAvx512
#include "register_tile.hpp"
#include "transpose_pack.hpp"

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

// Transposes 16 rows of 16 floats in registers: t[j] lane i = r[i] lane j. Three
// rounds of shuffles: 32-bit pairs within 128-bit lanes, 64-bit pairs, then
// 128-bit lanes across registers.
inline void transpose_16x16(const __m512 (&r)[16], __m512 (&t)[16]) {
  __m512 a[16], b[16];
  for (int i = 0; i < 8; ++i) {
    a[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
    a[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
  }
  // b[4g + m] holds, in 128-bit lane k, column 4k + m of rows 4g to 4g + 3.
  for (int g = 0; g < 4; ++g) {
    const __m512d lo = _mm512_castps_pd(a[4 * g]), lo2 = _mm512_castps_pd(a[4 * g + 2]);
    const __m512d hi = _mm512_castps_pd(a[4 * g + 1]), hi2 = _mm512_castps_pd(a[4 * g + 3]);
    b[4 * g] = _mm512_castpd_ps(_mm512_unpacklo_pd(lo, lo2));
    b[4 * g + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(lo, lo2));
    b[4 * g + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(hi, hi2));
    b[4 * g + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(hi, hi2));
  }
  // Gather lane k of b[m], b[4 + m], b[8 + m], b[12 + m] into column 4k + m.
  for (int m = 0; m < 4; ++m) {
    const __m512 c_even = _mm512_shuffle_f32x4(b[m], b[4 + m], 0x88);
    const __m512 c_odd = _mm512_shuffle_f32x4(b[m], b[4 + m], 0xDD);
    const __m512 d_even = _mm512_shuffle_f32x4(b[8 + m], b[12 + m], 0x88);
    const __m512 d_odd = _mm512_shuffle_f32x4(b[8 + m], b[12 + m], 0xDD);
    t[m] = _mm512_shuffle_f32x4(c_even, d_even, 0x88);
    t[8 + m] = _mm512_shuffle_f32x4(c_even, d_even, 0xDD);
    t[4 + m] = _mm512_shuffle_f32x4(c_odd, d_odd, 0x88);
    t[12 + m] = _mm512_shuffle_f32x4(c_odd, d_odd, 0xDD);
  }
}

// Float panels are packed 16 x 16 blocks at a time, because the scalar
// transpose took about a fifth of the GEMM time in the training benchmark.
template <>
struct TransposePacker<float> {
  static Index pack(const float* base, Index stride, Index kc, Index valid, Index width,
                    float* panel) {
    const Index p_blocks = kc / 16 * 16;
    for (Index q0 = 0; q0 < width; q0 += 16) {
      const Index lanes = std::min<Index>(16, width - q0);
      const __mmask16 store_mask = static_cast<__mmask16>((1u << lanes) - 1);
      for (Index p = 0; p < p_blocks; p += 16) {
        __m512 rows[16], columns[16];
        for (Index i = 0; i < 16; ++i) {
          const Index q = q0 + i;
          rows[i] = q < valid ? _mm512_loadu_ps(base + q * stride + p) : _mm512_setzero_ps();
        }
        transpose_16x16(rows, columns);
        for (Index j = 0; j < 16; ++j) {
          _mm512_mask_storeu_ps(panel + (p + j) * width + q0, store_mask, columns[j]);
        }
      }
    }
    return p_blocks;
  }
};

FASTMLP_ENGINE_END

#include "engine_impl.hpp"

#pragma GCC pop_options
