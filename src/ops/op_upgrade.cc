#include "ops/op_upgrade.h"

#include "ir/graph_edit.h"

namespace dopt {

Status NeedUpgradeInputs(const Node& n, size_t count) {
  if (n.inputs.size() < count || n.inputs[0] < 0)
    return InvalidArgument(n.Describe() + ": cannot upgrade: expected " + std::to_string(count) + " input(s), has " +
                           std::to_string(n.inputs.size()));
  return Status::Ok();
}

void TrimTrailingOmitted(std::vector<int>& ids) {
  while (!ids.empty() && ids.back() < 0) ids.pop_back();
}

void SetUpgradeInput(Node& n, size_t i, int id) {
  if (n.inputs.size() <= i) n.inputs.resize(i + 1, -1);
  n.inputs[i] = id;
  TrimTrailingOmitted(n.inputs);
}

StatusOr<int> AddFloatScalarInitializer(Graph& g, const Node& n, const std::string& base, float v, DType dtype) {
  if (!IsFloat(dtype)) {
    return InvalidArgument(n.Describe() + ": cannot upgrade: input '" + g.value(n.inputs[0]).name + "' has " +
                           (dtype == DType::kUndefined ? std::string("an unknown element type")
                                                       : std::string("element type ") + DTypeName(dtype)) +
                           ", a float type is needed to turn attributes into inputs");
  }
  Tensor t = Tensor::Scalar(v);
  if (dtype != DType::kFloat32) t = t.CastTo(dtype);
  return AddInitializerLike(g, base, std::move(t), n.inputs.empty() ? -1 : n.inputs[0]);  // input 0's type
}

Status UpgradeAxesAttrToInput(Graph& g, int ni, int from, int to, int version, AxesWhenAbsent absent) {
  if (!OpsetCrosses(from, to, version)) return Status::Ok();
  Node& n = g.nodes[ni];
  DOPT_RETURN_IF_ERROR(NeedUpgradeInputs(n, 1));
  if (!n.HasAttr("axes")) {
    if (absent == AxesWhenAbsent::kRequired) return InvalidArgument(n.Describe() + ": cannot upgrade: no 'axes' attribute");
    return Status::Ok();
  }
  n.dirty = true;
  DOPT_ASSIGN_OR_RETURN(std::vector<int64_t> axes, n.GetInts("axes"));
  if (axes.empty() && absent == AxesWhenAbsent::kReduceAll) {
    RemoveAttr(n, "axes");  // an empty list: every axis, like no attribute
    return Status::Ok();
  }
  int id = AddInt64Initializer(g, n.name + "_axes", axes);
  Node& m = g.nodes[ni];
  RemoveAttr(m, "axes");
  m.inputs.resize(1);
  SetUpgradeInput(m, 1, id);
  return Status::Ok();
}

}  // namespace dopt
