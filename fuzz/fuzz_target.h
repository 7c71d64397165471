// DOPT_FUZZ_TARGET(name) { body }: one fuzz target. Built into a libFuzzer binary it is
// LLVMFuzzerTestOneInput; with DOPT_FUZZ_REPLAY defined (tests/unit/fuzz_regressions_test.cc)
// it is only the function DoptFuzz_<name>, which the test calls on every committed
// reproducer in tests/data/fuzz_regressions/<name>/.
#pragma once

#include <cstddef>
#include <cstdint>

#ifdef DOPT_FUZZ_REPLAY
#define DOPT_FUZZ_ENTRY(name)
#else
#define DOPT_FUZZ_ENTRY(name) \
  extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) { return DoptFuzz_##name(data, size); }
#endif

#define DOPT_FUZZ_TARGET(name)                             \
  int DoptFuzz_##name(const uint8_t* data, size_t size);  \
  DOPT_FUZZ_ENTRY(name)                                    \
  int DoptFuzz_##name(const uint8_t* data, size_t size)

// A broken invariant: abort, so libFuzzer keeps the input and the replay test fails.
#define DOPT_FUZZ_CHECK(cond) \
  do {                        \
    if (!(cond)) __builtin_trap(); \
  } while (0)
