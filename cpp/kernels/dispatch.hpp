// Run-time choice of the instruction set for the GEMM micro-kernels.
#pragma once

#include <string>

#include "microkernel.hpp"

namespace fastmlp {

enum class Isa { kPortable = 0, kAvx2 = 1, kAvx512 = 2 };

// The best level this CPU and operating system support (CPUID and XGETBV, as
// reported by the compiler's runtime).
Isa best_supported_isa();

// The level in use; starts at best_supported_isa().
Isa active_isa();

// Selects a level for every later call; throws std::invalid_argument if this CPU
// does not support it. Results differ between levels only by FMA rounding.
void set_active_isa(Isa isa);

const char* isa_name(Isa isa);

// Throws std::invalid_argument for a name other than "portable", "avx2", "avx512".
Isa parse_isa(const std::string& name);

// The micro-kernel and its tile shape for the active level.
template <typename T>
MicroKernel<T> active_micro_kernel();

}  // namespace fastmlp
