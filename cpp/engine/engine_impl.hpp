// Fills the Engine table of the build being compiled. Included last by each
// build file, after MicroKernel<T> is defined.
#pragma once

#include "../engine.hpp"
#include "gemm.hpp"
#include "hessian.hpp"
#include "inference.hpp"
#include "isa.hpp"
#include "objective.hpp"
#include "train.hpp"

FASTMLP_ENGINE_BEGIN

template <typename T>
void gemm_overwrite(MatrixView<T> A, MatrixView<T> B, T* C, Index m, Index n, Index k,
                    int n_threads) {
  gemm(A, B, C, n, m, n, k, false, n_threads);
}

template <typename T>
const Engine<T>& engine() {
  static const Engine<T> table{
      isa_name(Isa::FASTMLP_ISA_LEVEL), MicroKernel<T>::kMR, MicroKernel<T>::kNR,
      kMaxKC, kMaxMC, kMaxNC, &predict<T>, &gradients<T>, &fit<T>, &objective<T>,
      &gemm_overwrite<T>, &predict_with_path<T>, kSparseMaxDensity,
      kSparseMaxDensitySmallBatch, kSparseBlockRows, &hessian_diagonal<T>,
  };
  return table;
}

template const Engine<float>& engine<float>();
template const Engine<double>& engine<double>();

FASTMLP_ENGINE_END
