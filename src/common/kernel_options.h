// Which kernels run: the optimised ones (oneDNN convolution, OpenBLAS sgemm) or the plain
// reference loops. DOPT_REFERENCE_KERNELS=1 in the environment forces the reference kernels
// everywhere an optimised one would be picked, so that the test suite can be run against both
// and an optimised kernel can never hide a bug in the reference (or the other way round).
#pragma once

namespace dopt {

// True when the reference kernels are forced: DOPT_REFERENCE_KERNELS is set to anything but
// "" or "0" (read once, at the first call), unless SetReferenceKernelsForced overrode it.
bool ReferenceKernelsForced();

// Overrides the environment (tests). Not meant to be flipped while kernels run on other threads.
void SetReferenceKernelsForced(bool forced);

}  // namespace dopt
