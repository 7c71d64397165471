#include "ir/tensor_cast.h"

#include <sstream>
#include <vector>

namespace dopt {

StatusOr<Tensor> CastExactly(const Tensor& t, DType to, int64_t* bad_index) {
  if (bad_index) *bad_index = -1;
  Tensor c = t.CastTo(to);
  const std::vector<double> from = t.ToDoubleVector(), back = c.ToDoubleVector();
  for (size_t i = 0; i < from.size(); ++i) {
    if (from[i] != back[i]) {
      if (bad_index) *bad_index = (int64_t)i;
      std::ostringstream os;
      os << "value " << from[i] << " (element " << i << ") cannot be held exactly in " << DTypeName(to);
      return InvalidArgument(os.str());
    }
  }
  return c;
}

}  // namespace dopt
