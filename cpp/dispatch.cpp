// Run-time choice of the engine build.
#include <atomic>
#include <stdexcept>

#include "engine.hpp"

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
  // Every extension the AVX-512 build is compiled with must be present.
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
      __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl") &&
      __builtin_cpu_supports("fma")) {
    return Isa::kAvx512;
  }
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
  throw std::invalid_argument(
      "instruction set must be one of 'portable', 'avx2', 'avx512', got '" + name + "'");
}

template <typename T>
const Engine<T>& active_engine() {
  switch (active_isa()) {
    case Isa::kAvx512:
      return avx512::engine<T>();
    case Isa::kAvx2:
      return avx2::engine<T>();
    case Isa::kPortable:
      break;
  }
  return portable::engine<T>();
}

template const Engine<float>& active_engine<float>();
template const Engine<double>& active_engine<double>();

}  // namespace fastmlp
