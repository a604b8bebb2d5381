// Opens and closes the namespace of the engine build being compiled. Each build
// file (portable.cpp, avx2.cpp, avx512.cpp) defines FASTMLP_ISA, includes every
// standard header first, then switches the instruction set with
// `#pragma GCC target` and includes the engine headers, so only fastmlp's own code
// is compiled for that instruction set.
#pragma once

#ifndef FASTMLP_ISA
#error "define FASTMLP_ISA (portable, avx2 or avx512) before including engine headers"
#endif

#define FASTMLP_ENGINE_BEGIN \
  namespace fastmlp {        \
  namespace FASTMLP_ISA {
#define FASTMLP_ENGINE_END \
  }                        \
  }
