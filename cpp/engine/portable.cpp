// The portable build of the engine, for the baseline instruction set. Its
// micro-kernel is plain loops over a 4 x 8 float (4 x 4 double) tile: 8 SSE
// registers of accumulators, half of the 16 the baseline x86-64 has.
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

#define FASTMLP_ISA portable
#define FASTMLP_ISA_LEVEL kPortable
#include "register_tile.hpp"

FASTMLP_ENGINE_BEGIN

template <typename T>
struct MicroKernel;

template <>
struct MicroKernel<float> {
  static constexpr Index kMR = 4;
  static constexpr Index kNR = 8;
  static void run(Index kc, const float* A, const float* B, float* C, Index ldc,
                  Index m_valid, Index n_valid, bool accumulate) {
    loop_tile_kernel<float, kMR, kNR>(kc, A, B, C, ldc, m_valid, n_valid, accumulate);
  }
};

template <>
struct MicroKernel<double> {
  static constexpr Index kMR = 4;
  static constexpr Index kNR = 4;
  static void run(Index kc, const double* A, const double* B, double* C, Index ldc,
                  Index m_valid, Index n_valid, bool accumulate) {
    loop_tile_kernel<double, kMR, kNR>(kc, A, B, C, ldc, m_valid, n_valid, accumulate);
  }
};

FASTMLP_ENGINE_END

#include "engine_impl.hpp"
