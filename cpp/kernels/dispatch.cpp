#include "dispatch.hpp"

#include <atomic>
#include <stdexcept>

namespace fastmlp {
namespace {

std::atomic<int>& active_level() {
  static std::atomic<int> level{static_cast<int>(best_supported_isa())};
  return level;
}

}  // namespace

Isa best_supported_isa() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f")) return Isa::kAvx512;
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return Isa::kAvx2;
#endif
  return Isa::kPortable;
}

Isa active_isa() { return static_cast<Isa>(active_level().load(std::memory_order_relaxed)); }

void set_active_isa(Isa isa) {
  if (static_cast<int>(isa) > static_cast<int>(best_supported_isa())) {
    throw std::invalid_argument(std::string("this CPU does not support the '") +
                                isa_name(isa) + "' kernels; the best it supports is '" +
                                isa_name(best_supported_isa()) + "'");
  }
  active_level().store(static_cast<int>(isa), std::memory_order_relaxed);
}

const char* isa_name(Isa isa) {
  switch (isa) {
    case Isa::kPortable:
      return "portable";
    case Isa::kAvx2:
      return "avx2";
    case Isa::kAvx512:
      return "avx512";
  }
  return "unknown";
}

Isa parse_isa(const std::string& name) {
  if (name == "portable") return Isa::kPortable;
  if (name == "avx2") return Isa::kAvx2;
  if (name == "avx512") return Isa::kAvx512;
  throw std::invalid_argument("instruction set must be one of 'portable', 'avx2', "
                              "'avx512', got '" + name + "'");
}

template <>
MicroKernel<float> active_micro_kernel<float>() {
  switch (active_isa()) {
    case Isa::kAvx512:
      return {kAvx512MR, kAvx512NRFloat, sgemm_micro_avx512};
    case Isa::kAvx2:
      return {kAvx2MR, kAvx2NRFloat, sgemm_micro_avx2};
    case Isa::kPortable:
      break;
  }
  return {kPortableMR, kPortableNRFloat, sgemm_micro_portable};
}

template <>
MicroKernel<double> active_micro_kernel<double>() {
  switch (active_isa()) {
    case Isa::kAvx512:
      return {kAvx512MR, kAvx512NRDouble, dgemm_micro_avx512};
    case Isa::kAvx2:
      return {kAvx2MR, kAvx2NRDouble, dgemm_micro_avx2};
    case Isa::kPortable:
      break;
  }
  return {kPortableMR, kPortableNRDouble, dgemm_micro_portable};
}

}  // namespace fastmlp
