// Placeholder for the kernel switch that the kernels branch adds (reference vs optimised
// kernels, DOPT_REFERENCE_KERNELS=1). Only the two functions the op-test harness needs
// (tests/ops/check_op.h); nothing in src/ reads them yet. The kernels branch replaces this file
// and kernel_options.cc at merge: keep it this small.
#pragma once

namespace dopt {

// True when the reference kernels are forced (DOPT_REFERENCE_KERNELS set and not "0", unless
// SetReferenceKernelsForced overrode it).
bool ReferenceKernelsForced();
// Overrides the environment (tests).
void SetReferenceKernelsForced(bool forced);

}  // namespace dopt
