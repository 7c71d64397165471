#include "calib/batch_runner.h"

#include <cstring>

#include "ir/tensor_cast.h"
#include "ops/shape_inference.h"

namespace dopt {

StatusOr<Executor*> BatchRunner::ExecutorFor(int64_t batch) {
  auto it = runners_.find(batch);
  if (it != runners_.end()) return it->second.exec.get();
  Runner r;
  bool same = true;
  for (int id : graph_.inputs) {
    const Value& v = graph_.value(id);
    if (whole_.count(v.name)) continue;
    if (!v.rank_known || v.shape.empty() || v.shape[0] != batch) same = false;
  }
  const Graph* g = &graph_;
  if (!same) {
    r.copy = std::make_unique<Graph>(graph_);
    for (Value& v : r.copy->values) v.folded.reset();
    for (int id : r.copy->inputs) {
      Value& v = r.copy->value(id);
      if (v.rank_known && !v.shape.empty() && !whole_.count(v.name)) v.shape[0] = batch;
    }
    Status st = PrepareGraph(*r.copy);
    if (!st.ok()) return st.WithContext("preparing the graph for a batch of " + std::to_string(batch));
    g = r.copy.get();
  }
  DOPT_ASSIGN_OR_RETURN(r.exec, Executor::Create(*g, options_));
  Executor* e = r.exec.get();
  runners_.emplace(batch, std::move(r));
  return e;
}

Status BatchRunner::Run(int64_t batch, std::map<std::string, Tensor>* feeds, std::map<std::string, Tensor>* outputs,
                        Observer* observer) {
  DOPT_ASSIGN_OR_RETURN(Executor * e, ExecutorFor(batch));
  DOPT_RETURN_IF_ERROR(CastFeedsToInputTypes(graph_, feeds));
  return e->Run(*feeds, outputs, observer);
}

Tensor FirstSamples(const Tensor& t, int64_t n) {
  Shape s = t.shape();
  s[0] = n;
  Tensor out(DType::kFloat32, s);
  std::memcpy(out.raw(), t.raw(), out.nbytes());
  return out;
}

Status CastFeedsToInputTypes(const Graph& graph, std::map<std::string, Tensor>* feeds) {
  for (int id : graph.inputs) {
    const Value& v = graph.value(id);
    auto it = feeds->find(v.name);
    if (it == feeds->end() || it->second.dtype() != DType::kFloat32) continue;
    if (!IsInteger(v.dtype) && v.dtype != DType::kBool) continue;
    auto cast = CastExactly(it->second, v.dtype);
    if (!cast.ok()) {
      return InvalidArgument("calibration input '" + v.name + "' is " + DTypeName(v.dtype) +
                             " in the model, but its data holds a " + cast.status().message() +
                             " (integer inputs take whole numbers in their type's range)");
    }
    it->second = std::move(*cast);
  }
  return Status::Ok();
}

}  // namespace dopt
