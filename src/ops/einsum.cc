// Einsum: a general Einstein summation. The equation's terms name each input's dims with
// letters; "..." stands for broadcast dims (numpy-style, right-aligned); a letter repeated in a
// term takes a diagonal; letters missing from the output are summed. Explicit output ("->")
// or implicit (the "..." dims, then the letters appearing once, in ASCII order, as numpy).
// Two float32 inputs whose labels each are batch (both inputs and the output), rows (first input
// and output), columns (second input and output) or contracted (both inputs only), with no
// diagonal or broadcast dim, run as batched SGEMMs (attention as `bhlk,bhtk->bhlt` in CvT and
// others: 3136 x 784 x 64 in 6 ms instead of 1 s), with MatMul's float accumulation; inputs are
// permuted into place only when neither they nor their transposes are. Otherwise the kernel walks the summed index space for
// each output element (in parallel over output elements; each sum runs in a fixed order, so any
// thread count gives the same result); float sums accumulate in double, integer ones wrap
// modulo 2^64 before the cast to the type.
#include <algorithm>
#include <map>
#include <string>

#include "common/kernel_options.h"
#include "kernels/gemm.h"
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

// dst (dims ordered as `to`) = src (dims ordered as `from`, shape `shape`): a permuted copy.
void PermuteCopy(const float* src, const Shape& shape, const std::vector<int>& from, const std::vector<int>& to,
                 float* dst) {
  const int r = (int)to.size();
  std::vector<int64_t> sstride(from.size(), 1);
  for (int d = (int)from.size() - 2; d >= 0; --d) sstride[d] = sstride[d + 1] * shape[d + 1];
  Shape dshape(r);
  std::vector<int64_t> str(r);
  for (int k = 0; k < r; ++k) {
    const int d = (int)(std::find(from.begin(), from.end(), to[k]) - from.begin());
    dshape[k] = shape[d];
    str[k] = sstride[d];
  }
  const int64_t n = NumElements(dshape);
  std::vector<int64_t> idx(r, 0);
  int64_t off = 0;
  for (int64_t i = 0; i < n; ++i) {
    dst[i] = src[off];
    for (int k = r - 1; k >= 0; --k) {
      off += str[k];
      if (++idx[k] < dshape[k]) break;
      off -= idx[k] * str[k];
      idx[k] = 0;
    }
  }
}

// The batched-GEMM form of a two-input float einsum (see the top of the file); false when the
// equation has another form (then the general kernel runs).
bool RunAsGemm(KernelContext& ctx, const Plan& p, const std::vector<Shape>& shapes, Tensor& y) {
  if (shapes.size() != 2 || ctx.input(0).dtype() != DType::kFloat32) return false;
  const std::vector<int>&la = p.input_labels[0], &lb = p.input_labels[1];
  auto has = [](const std::vector<int>& v, int l) { return std::find(v.begin(), v.end(), l) != v.end(); };
  for (int i = 0; i < 2; ++i) {
    const std::vector<int>& ls = p.input_labels[i];
    for (size_t d = 0; d < ls.size(); ++d) {
      if (std::count(ls.begin(), ls.end(), ls[d]) != 1) return false;  // a diagonal
      if (shapes[i][d] != p.dim.at(ls[d])) return false;                 // a broadcast dim
    }
  }
  std::vector<int> batch, rows, cols, red;
  for (int l : p.out_labels) {
    const bool a = has(la, l), b = has(lb, l);
    (a && b ? batch : a ? rows : cols).push_back(l);
  }
  for (int l : la)
    if (!has(p.out_labels, l)) {
      if (!has(lb, l)) return false;  // summed within one input alone
      red.push_back(l);
    }
  for (int l : lb)
    if (!has(p.out_labels, l) && !has(la, l)) return false;
  auto size_of = [&](const std::vector<int>& ls) {
    int64_t n = 1;
    for (int l : ls) n *= p.dim.at(l);
    return n;
  };
  const int64_t B = size_of(batch), M = size_of(rows), N = size_of(cols), K = size_of(red);
  // Products of one element each (row-wise dots `ij,ij->i`, element-wise `ij,ij->ij`) or tiny
  // ones are a call per element: the general kernel does those better.
  if (M * N <= 1 || M * N * K < 512) return false;
  auto cat = [](std::vector<int> a, const std::vector<int>& b, const std::vector<int>& c) {
    a.insert(a.end(), b.begin(), b.end());
    a.insert(a.end(), c.begin(), c.end());
    return a;
  };
  // Each input as it is, as its transpose, or a permuted copy.
  std::vector<float> a_copy, b_copy, y_copy;
  const float* ap = ctx.input(0).data<float>();
  const float* bp = ctx.input(1).data<float>();
  bool ta = false, tb = false;
  if (la == cat(batch, red, rows) && la != cat(batch, rows, red)) {
    ta = true;
  } else if (la != cat(batch, rows, red)) {
    a_copy.resize((size_t)(B * M * K));
    PermuteCopy(ap, shapes[0], la, cat(batch, rows, red), a_copy.data());
    ap = a_copy.data();
  }
  if (lb == cat(batch, cols, red) && lb != cat(batch, red, cols)) {
    tb = true;
  } else if (lb != cat(batch, red, cols)) {
    b_copy.resize((size_t)(B * K * N));
    PermuteCopy(bp, shapes[1], lb, cat(batch, red, cols), b_copy.data());
    bp = b_copy.data();
  }
  const std::vector<int> canon = cat(batch, rows, cols);
  float* yp = y.data<float>();
  if (p.out_labels != canon) {
    y_copy.resize((size_t)(B * M * N));
    yp = y_copy.data();
  }
  const int64_t lda = ta ? M : K, ldb = tb ? K : N;
  auto one = [&](int64_t bi, ThreadPool* pool) {
    kernels::Sgemm(pool, ta, tb, M, N, K, 1.f, ap + bi * M * K, lda, bp + bi * K * N, ldb, 0.f, yp + bi * M * N, N,
                   kernels::GemmEngine::kOneDnn);
  };
  if (B > 1 && kernels::SgemmIsOneCall(M, N, K)) {
    // Many small products (attention heads): one per task; each is one call either way.
    ParallelForOrInline(ctx.pool(), B, 1, [&](int64_t b0, int64_t b1) {
      for (int64_t bi = b0; bi < b1; ++bi) one(bi, nullptr);
    });
  } else {
    for (int64_t bi = 0; bi < B; ++bi) one(bi, ctx.pool());
  }
  if (p.out_labels != canon) {
    Shape cshape;
    for (int l : canon) cshape.push_back(p.dim.at(l));
    PermuteCopy(y_copy.data(), cshape, canon, p.out_labels, y.data<float>());
  }
  return true;
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
  if (n_out > 0 && !ReferenceKernelsForced() && RunAsGemm(ctx, p, shapes, y)) return Status::Ok();
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
