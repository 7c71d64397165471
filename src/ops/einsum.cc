// Einsum: a general Einstein summation. The equation's terms name each input's dims with
// letters; "..." stands for broadcast dims (numpy-style, right-aligned); a letter repeated in a
// term takes a diagonal; letters missing from the output are summed. Explicit output ("->")
// or implicit (the "..." dims, then the letters appearing once, in ASCII order, as numpy).
// The kernel walks the summed index space for each output element (in parallel over output
// elements; each sum runs in a fixed order, so any thread count gives the same result); float
// sums accumulate in double, integer ones wrap modulo 2^64 before the cast to the type.
#include <algorithm>
#include <map>
#include <string>

#include "ops/op_util.h"

namespace dopt {
namespace {

constexpr int kEllipsisBase = 128;  // labels: ASCII letters; ellipsis dim e is kEllipsisBase + e

struct Term {
  std::vector<int> labels;  // letters; -1 marks "..."
  bool has_ellipsis = false;
};

StatusOr<Term> ParseTerm(const Node& node, const std::string& s) {
  Term t;
  for (size_t i = 0; i < s.size(); ++i) {
    const char ch = s[i];
    if (ch == '.') {
      if (s.compare(i, 3, "...") != 0 || t.has_ellipsis) {
        return InvalidArgument(node.Describe() + ": bad ellipsis in equation term '" + s + "'");
      }
      t.has_ellipsis = true;
      t.labels.push_back(-1);
      i += 2;
    } else if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z')) {
      t.labels.push_back((int)ch);
    } else {
      return InvalidArgument(node.Describe() + ": bad character '" + std::string(1, ch) + "' in equation");
    }
  }
  return t;
}

struct Equation {
  std::vector<Term> inputs;
  bool explicit_output = false;
  Term output;
};

StatusOr<Equation> ParseEquation(const Node& node, int num_inputs) {
  if (!node.HasAttr("equation")) return InvalidArgument(node.Describe() + ": missing attribute equation");
  DOPT_ASSIGN_OR_RETURN(std::string eq_raw, node.GetString("equation", ""));
  std::string eq;
  for (char c : eq_raw)
    if (c != ' ' && c != '\t') eq.push_back(c);
  Equation e;
  std::string lhs = eq;
  const size_t arrow = eq.find("->");
  if (arrow != std::string::npos) {
    lhs = eq.substr(0, arrow);
    e.explicit_output = true;
    DOPT_ASSIGN_OR_RETURN(e.output, ParseTerm(node, eq.substr(arrow + 2)));
  }
  size_t start = 0;
  while (true) {
    const size_t comma = lhs.find(',', start);
    DOPT_ASSIGN_OR_RETURN(Term t, ParseTerm(node, lhs.substr(start, comma == std::string::npos ? std::string::npos : comma - start)));
    e.inputs.push_back(std::move(t));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  if ((int)e.inputs.size() != num_inputs) {
    return InvalidArgument(node.Describe() + ": equation '" + eq_raw + "' has " + std::to_string(e.inputs.size()) +
                           " input terms for " + std::to_string(num_inputs) + " inputs");
  }
  return e;
}

// The equation resolved against input shapes (unknown dims -1).
struct Plan {
  std::vector<int> out_labels;                  // label per output dim
  std::vector<int> sum_labels;                  // labels summed over
  std::map<int, int64_t> dim;                   // label -> size (-1 unknown)
  std::vector<std::vector<int>> input_labels;   // per input, label per dim
  Shape out_shape;
};

StatusOr<Plan> MakePlan(const Node& node, const std::vector<Shape>& shapes) {
  DOPT_ASSIGN_OR_RETURN(Equation eq, ParseEquation(node, (int)shapes.size()));
  Plan p;
  int ell = 0;  // broadcast rank of "..."
  for (size_t i = 0; i < shapes.size(); ++i) {
    const Term& t = eq.inputs[i];
    const int letters = (int)t.labels.size() - (t.has_ellipsis ? 1 : 0);
    const int rank = (int)shapes[i].size();
    if (t.has_ellipsis ? rank < letters : rank != letters) {
      return InvalidArgument(node.Describe() + ": input " + std::to_string(i) + " of shape " + ShapeToString(shapes[i]) +
                             " does not match its equation term");
    }
    if (t.has_ellipsis) ell = std::max(ell, rank - letters);
  }
  std::map<int, int> count;  // occurrences of each letter over all inputs
  for (size_t i = 0; i < shapes.size(); ++i) {
    const Term& t = eq.inputs[i];
    const int rank = (int)shapes[i].size();
    const int er = t.has_ellipsis ? rank - ((int)t.labels.size() - 1) : 0;
    std::vector<int> labels;
    for (int l : t.labels) {
      if (l < 0) {
        for (int k = 0; k < er; ++k) labels.push_back(kEllipsisBase + ell - er + k);
      } else {
        labels.push_back(l);
        ++count[l];
      }
    }
    std::map<int, int64_t> own;  // repeated letters within the term must agree exactly
    for (int d = 0; d < rank; ++d) {
      const int l = labels[d];
      const int64_t s = shapes[i][d];
      if (l < kEllipsisBase) {
        auto it = own.find(l);
        if (it != own.end() && it->second >= 0 && s >= 0 && it->second != s) {
          return InvalidArgument(node.Describe() + ": repeated label '" + std::string(1, (char)l) + "' of input " +
                                 std::to_string(i) + " has sizes " + std::to_string(it->second) + " and " + std::to_string(s));
        }
        own[l] = s;
      }
      auto it = p.dim.find(l);
      if (it == p.dim.end() || it->second == 1) {
        if (it == p.dim.end() || s != 1) p.dim[l] = s;
      } else if (s >= 0 && s != 1 && it->second >= 0 && it->second != s) {
        return InvalidArgument(node.Describe() + ": label size mismatch: " + std::to_string(it->second) + " vs " +
                               std::to_string(s) + " (input " + std::to_string(i) + ")");
      } else if (it->second < 0 && s > 1) {
        it->second = s;
      }
    }
    p.input_labels.push_back(std::move(labels));
  }
  // Output labels.
  if (eq.explicit_output) {
    std::map<int, bool> seen;
    for (int l : eq.output.labels) {
      if (l < 0) {
        for (int k = 0; k < ell; ++k) p.out_labels.push_back(kEllipsisBase + k);
        continue;
      }
      if (!count.count(l)) {
        return InvalidArgument(node.Describe() + ": output label '" + std::string(1, (char)l) + "' is in no input");
      }
      if (seen[l]) return InvalidArgument(node.Describe() + ": output label '" + std::string(1, (char)l) + "' repeats");
      seen[l] = true;
      p.out_labels.push_back(l);
    }
  } else {
    for (int k = 0; k < ell; ++k) p.out_labels.push_back(kEllipsisBase + k);
    for (const auto& [l, c] : count)  // std::map: ASCII order
      if (c == 1) p.out_labels.push_back(l);
  }
  for (const auto& [l, s] : p.dim) {
    (void)s;
    if (std::find(p.out_labels.begin(), p.out_labels.end(), l) == p.out_labels.end()) p.sum_labels.push_back(l);
  }
  for (int l : p.out_labels) p.out_shape.push_back(p.dim[l]);
  return p;
}

Status Infer(InferContext& ctx) {
  std::vector<Shape> shapes;
  const DType dt = ctx.input(0).dtype;
  for (int i = 0; i < ctx.num_inputs(); ++i) {
    const ValueInfo& in = ctx.input(i);
    if (in.dtype != DType::kUndefined && dt != DType::kUndefined && in.dtype != dt) {
      return InvalidArgument(ctx.node().Describe() + ": inputs have different types " + DTypeName(dt) + " and " +
                             DTypeName(in.dtype));
    }
    if (!in.rank_known) {
      DOPT_RETURN_IF_ERROR(ParseEquation(ctx.node(), ctx.num_inputs()).status());
      ctx.SetOutputUnknownRank(0, dt);
      return Status::Ok();
    }
    shapes.push_back(in.shape);
  }
  if (dt != DType::kUndefined && !IsFloat(dt) && !IsInteger(dt)) {
    return InvalidArgument(ctx.node().Describe() + ": unsupported type " + DTypeName(dt));
  }
  DOPT_ASSIGN_OR_RETURN(Plan p, MakePlan(ctx.node(), shapes));
  ctx.SetOutput(0, dt, p.out_shape);
  return Status::Ok();
}

Status Run(KernelContext& ctx) {
  std::vector<Shape> shapes;
  const int n_in = ctx.num_inputs();
  for (int i = 0; i < n_in; ++i) {
    if (!ctx.has_input(i)) return InvalidArgument(ctx.node().Describe() + ": input " + std::to_string(i) + " is missing");
    if (ctx.input(i).dtype() != ctx.input(0).dtype()) {
      return InvalidArgument(ctx.node().Describe() + ": inputs have different types");
    }
    shapes.push_back(ctx.input(i).shape());
  }
  DOPT_ASSIGN_OR_RETURN(Plan p, MakePlan(ctx.node(), shapes));
  const int no = (int)p.out_labels.size(), ns = (int)p.sum_labels.size();
  // Strides of every input along each output label and each summed label (0: absent or broadcast).
  std::vector<std::vector<int64_t>> ostr(n_in, std::vector<int64_t>(no, 0)), sstr(n_in, std::vector<int64_t>(ns, 0));
  for (int i = 0; i < n_in; ++i) {
    const Shape& s = shapes[i];
    int64_t st = 1;
    for (int d = (int)s.size() - 1; d >= 0; --d) {
      const int l = p.input_labels[i][d];
      if (s[d] != 1) {
        auto oi = std::find(p.out_labels.begin(), p.out_labels.end(), l);
        if (oi != p.out_labels.end()) ostr[i][oi - p.out_labels.begin()] += st;
        else sstr[i][std::find(p.sum_labels.begin(), p.sum_labels.end(), l) - p.sum_labels.begin()] += st;
      }
      st *= s[d];
    }
  }
  Shape sum_shape;
  for (int l : p.sum_labels) sum_shape.push_back(p.dim[l]);
  const int64_t n_sum = NumElements(sum_shape);
  const Shape out_shape = p.out_shape;
  const int64_t n_out = NumElements(out_shape);
  Tensor& y = ctx.OutputUninitialized(0, ctx.input(0).dtype(), out_shape);
  return VisitNumericDType(ctx.input(0).dtype(), [&](auto tag) -> Status {
    using T = decltype(tag);
    // Integer sums and products wrap (computed unsigned, so overflow is defined), as numpy's.
    using Acc = std::conditional_t<std::is_floating_point_v<T>, double, uint64_t>;
    std::vector<const T*> in(n_in);
    for (int i = 0; i < n_in; ++i) in[i] = ctx.input(i).template data<T>();
    T* yp = y.data<T>();
    const int64_t grain = std::max<int64_t>(1, (1 << 14) / std::max<int64_t>(1, n_sum * n_in));
    ParallelForOrInline(ctx.pool(), n_out, grain, [&](int64_t b, int64_t e) {
      std::vector<int64_t> base(n_in), off(n_in), sidx(ns);
      for (int64_t o = b; o < e; ++o) {
        std::fill(base.begin(), base.end(), 0);
        int64_t r = o;
        for (int d = no - 1; d >= 0; --d) {
          const int64_t id = r % out_shape[d];
          r /= out_shape[d];
          for (int i = 0; i < n_in; ++i) base[i] += id * ostr[i][d];
        }
        Acc acc = 0;
        off = base;
        std::fill(sidx.begin(), sidx.end(), 0);
        for (int64_t s = 0; s < n_sum; ++s) {
          Acc prod = 1;
          for (int i = 0; i < n_in; ++i) prod *= (Acc)in[i][off[i]];
          acc += prod;
          for (int d = ns - 1; d >= 0; --d) {
            for (int i = 0; i < n_in; ++i) off[i] += sstr[i][d];
            if (++sidx[d] < sum_shape[d]) break;
            for (int i = 0; i < n_in; ++i) off[i] -= sidx[d] * sstr[i][d];
            sidx[d] = 0;
          }
        }
        yp[o] = (T)acc;
      }
    });
    return Status::Ok();
  });
}

}  // namespace

const OpDef& OpDef_Einsum() {
  static const OpDef def{
      .name = "Einsum",
      .min_inputs = 1,
      .max_inputs = 1 << 20,
      .min_outputs = 1,
      .max_outputs = 1,
      .infer = Infer,
      .run = Run,
      .upgrade = NoUpgradeNeeded("introduced in 12; unchanged to 21"),
      .quant = NoQuantRole(),  // a general contraction: no weight input dopt quantizes
  };
  return def;
}

}  // namespace dopt
