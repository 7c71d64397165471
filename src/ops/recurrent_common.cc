// The shared part of LSTM, GRU and RNN (recurrent_common.h): attributes, activations, the
// shape rule, input checks and the direction / time loop. Per direction, X·Wᵀ for every time
// step is one SGEMM into a scratch buffer (with Wb + Rb added); each time step then runs the
// op's own step (its h·Rᵀ SGEMM and the gate arithmetic). Scratch buffers are allocated once
// per call.
#include "ops/recurrent_common.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstring>

#include "common/kernel_options.h"
#include "common/limits.h"
#include "kernels/gemm.h"
#include "kernels/vmath.h"
#include "ops/op_util.h"

namespace dopt {
namespace recurrent {
namespace {

using Fn = Activation::Fn;

struct ActInfo {
  const char* name;  // lower case
  Fn fn;
  int num_alpha, num_beta;
  float alpha, beta;  // the ONNX op's defaults
};
constexpr ActInfo kActs[] = {
    {"relu", Fn::kRelu, 0, 0, 0.f, 0.f},
    {"tanh", Fn::kTanh, 0, 0, 0.f, 0.f},
    {"sigmoid", Fn::kSigmoid, 0, 0, 0.f, 0.f},
    {"affine", Fn::kAffine, 1, 1, 1.f, 0.f},
    {"leakyrelu", Fn::kLeakyRelu, 1, 0, 0.01f, 0.f},
    {"thresholdedrelu", Fn::kThresholdedRelu, 1, 0, 1.f, 0.f},
    {"scaledtanh", Fn::kScaledTanh, 1, 1, 1.f, 1.f},
    {"hardsigmoid", Fn::kHardSigmoid, 1, 1, 0.2f, 0.5f},
    {"elu", Fn::kElu, 1, 0, 1.f, 0.f},
    {"softsign", Fn::kSoftsign, 0, 0, 0.f, 0.f},
    {"softplus", Fn::kSoftplus, 0, 0, 0.f, 0.f},
};

const char* KindName(Kind k) { return k == Kind::kLstm ? "LSTM" : k == Kind::kGru ? "GRU" : "RNN"; }

StatusOr<std::vector<Activation>> ReadActivations(const Node& node, Kind kind, int per_dir, int num_dirs) {
  std::vector<std::string> names;
  if (const Attribute* at = node.FindAttr("activations")) {
    if (at->kind != Attribute::Kind::kStrings && !(at->kind == Attribute::Kind::kString)) {
      return InvalidArgument(node.Describe() + ": attribute 'activations' must be a list of strings, is " +
                             AttributeKindName(at->kind));
    }
    names = at->kind == Attribute::Kind::kStrings ? at->strings : std::vector<std::string>{at->s};
  } else {
    const std::vector<std::string> def = kind == Kind::kLstm ? std::vector<std::string>{"Sigmoid", "Tanh", "Tanh"}
                                         : kind == Kind::kGru ? std::vector<std::string>{"Sigmoid", "Tanh"}
                                                              : std::vector<std::string>{"Tanh"};
    for (int d = 0; d < num_dirs; ++d) names.insert(names.end(), def.begin(), def.end());
  }
  DOPT_ASSIGN_OR_RETURN(std::vector<float> alphas, node.GetFloats("activation_alpha"));
  DOPT_ASSIGN_OR_RETURN(std::vector<float> betas, node.GetFloats("activation_beta"));
  size_t ai = 0, bi = 0;
  std::vector<Activation> acts;
  for (const std::string& n : names) {
    std::string low = n;
    for (char& ch : low) ch = (char)std::tolower((unsigned char)ch);
    const ActInfo* info = nullptr;
    for (const ActInfo& a : kActs)
      if (low == a.name) info = &a;
    if (!info) {
      return InvalidArgument(node.Describe() + ": unknown activation '" + n +
                             "' (one of Relu, Tanh, Sigmoid, Affine, LeakyRelu, ThresholdedRelu, ScaledTanh, "
                             "HardSigmoid, Elu, Softsign, Softplus)");
    }
    Activation act{.fn = info->fn, .alpha = info->alpha, .beta = info->beta};
    if (info->num_alpha && ai < alphas.size()) act.alpha = alphas[ai++];
    if (info->num_beta && bi < betas.size()) act.beta = betas[bi++];
    acts.push_back(act);
  }
  const size_t want = (size_t)per_dir * num_dirs;
  if (acts.size() == want) return acts;
  if (num_dirs == 2 && acts.size() == (size_t)per_dir) {
    acts.insert(acts.end(), acts.begin(), acts.end());
    return acts;
  }
  if (kind == Kind::kRnn && num_dirs == 1 && acts.size() == 2) {  // the RNN schema's default ["Tanh", "Tanh"]
    acts.resize(1);
    return acts;
  }
  return InvalidArgument(node.Describe() + ": " + std::to_string(names.size()) + " activations given, " +
                         KindName(kind) + " with " + std::to_string(num_dirs) + " direction(s) takes " +
                         std::to_string(want));
}

// Dims found from the inputs' shapes (-1: unknown).
struct Dims {
  int64_t seq = -1, batch = -1, input = -1, hidden = -1;
};

// Checks the inputs' shapes against each other and the attributes; shapes are null where absent
// or of unknown rank; unknown dims (-1) match anything.
StatusOr<Dims> CheckShapes(const Node& node, const Attrs& a, const Shape* x, const Shape* w, const Shape* r,
                           const Shape* b, const Shape* lens, const Shape* h0, const Shape* c0, const Shape* p) {
  const int64_t D = a.num_directions, G = a.gates;
  Dims dm;
  auto rank_is = [&](const char* what, const Shape* s, size_t rank) -> Status {
    if (s && s->size() != rank) {
      return InvalidArgument(node.Describe() + ": " + what + " must have rank " + std::to_string(rank) + ", has shape " +
                             ShapeToString(*s));
    }
    return Status::Ok();
  };
  DOPT_RETURN_IF_ERROR(rank_is("X", x, 3));
  DOPT_RETURN_IF_ERROR(rank_is("W", w, 3));
  DOPT_RETURN_IF_ERROR(rank_is("R", r, 3));
  DOPT_RETURN_IF_ERROR(rank_is("B", b, 2));
  DOPT_RETURN_IF_ERROR(rank_is("sequence_lens", lens, 1));
  DOPT_RETURN_IF_ERROR(rank_is("initial_h", h0, 3));
  DOPT_RETURN_IF_ERROR(rank_is("initial_c", c0, 3));
  DOPT_RETURN_IF_ERROR(rank_is("P", p, 2));
  if (x) {
    dm.seq = (*x)[a.layout ? 1 : 0];
    dm.batch = (*x)[a.layout ? 0 : 1];
    dm.input = (*x)[2];
  }
  // hidden_size: the attribute, else R's last dim, else W's rows / gates.
  dm.hidden = a.hidden_size;
  if (dm.hidden < 0 && r) dm.hidden = (*r)[2];
  if (dm.hidden < 0 && w && (*w)[1] >= 0) {
    if ((*w)[1] % G != 0) {
      return InvalidArgument(node.Describe() + ": W has shape " + ShapeToString(*w) + ": its dim 1 is not " +
                             std::to_string(G) + " * hidden_size");
    }
    dm.hidden = (*w)[1] / G;
  }
  // The expected dims (-1: unknown); known dims of each shape must equal them, and an unknown
  // expected dim takes the shape's (batch from sequence_lens or initial_h when X's is unknown).
  int64_t d = D, gh = dm.hidden >= 0 ? G * dm.hidden : -1, gh2 = gh >= 0 ? 2 * gh : -1,
          h3 = dm.hidden >= 0 ? 3 * dm.hidden : -1;
  auto match = [&](const char* what, const Shape& s, std::initializer_list<int64_t*> want,
                   const std::string& layout) -> Status {
    size_t i = 0;
    for (int64_t* e : want) {
      const int64_t got = s[i++];
      if (got >= 0 && *e >= 0 && got != *e) {
        return InvalidArgument(node.Describe() + ": " + what + " has shape " + ShapeToString(s) + ", expected " + layout);
      }
      if (*e < 0) *e = got;
    }
    return Status::Ok();
  };
  auto n = [](const char* name, int64_t v) { return std::string(name) + "=" + (v >= 0 ? std::to_string(v) : "?"); };
  const std::string gates = std::to_string(G) + "*hidden_size";
  // R first: its last dim is hidden_size, the clearest place to report a wrong hidden_size.
  if (r) {
    DOPT_RETURN_IF_ERROR(match("R", *r, {&d, &gh, &dm.hidden},
                               "[" + n("num_directions", D) + ", " + n(gates.c_str(), gh) + ", " +
                                   n("hidden_size", dm.hidden) + "]"));
  }
  if (w) {
    DOPT_RETURN_IF_ERROR(match("W", *w, {&d, &gh, &dm.input},
                               "[" + n("num_directions", D) + ", " + n(gates.c_str(), gh) + ", " +
                                   n("input_size", dm.input) + "]"));
  }
  if (b) {
    DOPT_RETURN_IF_ERROR(match("B", *b, {&d, &gh2}, "[" + n("num_directions", D) + ", " + n(("2*" + gates).c_str(), gh2) + "]"));
  }
  if (lens) DOPT_RETURN_IF_ERROR(match("sequence_lens", *lens, {&dm.batch}, "[" + n("batch_size", dm.batch) + "]"));
  for (auto [what, st] : {std::pair<const char*, const Shape*>{"initial_h", h0}, {"initial_c", c0}}) {
    if (!st) continue;
    const std::string nd = n("num_directions", D), nb = n("batch_size", dm.batch), nh = n("hidden_size", dm.hidden);
    if (a.layout) DOPT_RETURN_IF_ERROR(match(what, *st, {&dm.batch, &d, &dm.hidden}, "[" + nb + ", " + nd + ", " + nh + "]"));
    else DOPT_RETURN_IF_ERROR(match(what, *st, {&d, &dm.batch, &dm.hidden}, "[" + nd + ", " + nb + ", " + nh + "]"));
  }
  if (p) {
    DOPT_RETURN_IF_ERROR(match("P", *p, {&d, &h3}, "[" + n("num_directions", D) + ", " + n("3*hidden_size", h3) + "]"));
  }
  return dm;
}

// Every length within [0, seq_length] (seq < 0: unknown, only negatives are caught).
Status CheckLens(const Node& node, const std::vector<int64_t>& lens, int64_t seq) {
  for (size_t b = 0; b < lens.size(); ++b) {
    if (lens[b] < 0 || (seq >= 0 && lens[b] > seq)) {
      return InvalidArgument(node.Describe() + ": sequence_lens[" + std::to_string(b) + "] = " +
                             std::to_string(lens[b]) + " is outside [0, seq_length=" + std::to_string(seq) + "]");
    }
  }
  return Status::Ok();
}

#define FLOAT_TYPES {DType::kFloat32, DType::kFloat16, DType::kBFloat16}

int MaxInputs(Kind kind) { return kind == Kind::kLstm ? 8 : 6; }

}  // namespace

void Activation::Apply(float* x, int64_t n, float clip) const {
  if (clip > 0.f) {
    for (int64_t i = 0; i < n; ++i) x[i] = std::min(std::max(x[i], -clip), clip);
  }
  const float a = alpha, b = beta;
  switch (fn) {
    case Fn::kRelu:
      for (int64_t i = 0; i < n; ++i) x[i] = x[i] > 0.f ? x[i] : 0.f;
      break;
    case Fn::kTanh:  // the vectorised kernels/vmath.h kernel unless the reference is forced
      if (!ReferenceKernelsForced()) {
        kernels::TanhArray(x, x, n);
        break;
      }
      for (int64_t i = 0; i < n; ++i) x[i] = std::tanh(x[i]);
      break;
    case Fn::kSigmoid:
      if (!ReferenceKernelsForced()) {
        kernels::SigmoidArray(x, x, n);
        break;
      }
      for (int64_t i = 0; i < n; ++i) x[i] = 1.f / (1.f + std::exp(-x[i]));
      break;
    case Fn::kAffine:
      for (int64_t i = 0; i < n; ++i) x[i] = a * x[i] + b;
      break;
    case Fn::kLeakyRelu:
      for (int64_t i = 0; i < n; ++i) x[i] = x[i] >= 0.f ? x[i] : a * x[i];
      break;
    case Fn::kThresholdedRelu:
      for (int64_t i = 0; i < n; ++i) x[i] = x[i] >= a ? x[i] : 0.f;
      break;
    case Fn::kScaledTanh:
      for (int64_t i = 0; i < n; ++i) x[i] = a * std::tanh(b * x[i]);
      break;
    case Fn::kHardSigmoid:
      for (int64_t i = 0; i < n; ++i) x[i] = std::min(std::max(a * x[i] + b, 0.f), 1.f);
      break;
    case Fn::kElu:
      for (int64_t i = 0; i < n; ++i) x[i] = x[i] >= 0.f ? x[i] : a * (std::exp(x[i]) - 1.f);
      break;
    case Fn::kSoftsign:
      for (int64_t i = 0; i < n; ++i) x[i] = x[i] / (1.f + std::fabs(x[i]));
      break;
    case Fn::kSoftplus:  // log(1 + e^x) without overflow
      for (int64_t i = 0; i < n; ++i) x[i] = std::max(x[i], 0.f) + std::log1p(std::exp(-std::fabs(x[i])));
      break;
  }
}

StatusOr<Attrs> ReadAttrs(const Node& node, Kind kind) {
  Attrs a;
  a.kind = kind;
  a.gates = kind == Kind::kLstm ? 4 : kind == Kind::kGru ? 3 : 1;
  a.acts_per_direction = kind == Kind::kLstm ? 3 : kind == Kind::kGru ? 2 : 1;
  DOPT_ASSIGN_OR_RETURN(std::string dir, node.GetString("direction", "forward"));
  if (dir == "bidirectional") a.num_directions = 2;
  else if (dir == "reverse") a.reverse = true;
  else if (dir != "forward") {
    return InvalidArgument(node.Describe() + ": direction '" + dir + "' is not forward, reverse or bidirectional");
  }
  if (node.HasAttr("hidden_size")) {
    DOPT_ASSIGN_OR_RETURN(a.hidden_size, node.GetInt("hidden_size", 0));
    if (a.hidden_size <= 0) {
      return InvalidArgument(node.Describe() + ": hidden_size = " + std::to_string(a.hidden_size) + " is not positive");
    }
  }
  DOPT_ASSIGN_OR_RETURN(a.layout, node.GetInt("layout", 0));
  if (a.layout != 0 && a.layout != 1) {
    return InvalidArgument(node.Describe() + ": layout = " + std::to_string(a.layout) + " (must be 0 or 1)");
  }
  if (node.HasAttr("clip")) {
    DOPT_ASSIGN_OR_RETURN(a.clip, node.GetFloat("clip", 0.f));
    if (!(a.clip > 0.f)) return InvalidArgument(node.Describe() + ": clip = " + std::to_string(a.clip) + " is not positive");
    if (std::isinf(a.clip)) a.clip = 0.f;
  }
  if (kind == Kind::kLstm) {
    DOPT_ASSIGN_OR_RETURN(int64_t v, node.GetInt("input_forget", 0));
    a.input_forget = v != 0;
  }
  if (kind == Kind::kGru) {
    DOPT_ASSIGN_OR_RETURN(int64_t v, node.GetInt("linear_before_reset", 0));
    a.linear_before_reset = v != 0;
  }
  DOPT_ASSIGN_OR_RETURN(a.acts, ReadActivations(node, kind, a.acts_per_direction, a.num_directions));
  return a;
}

int FoldedRbGates(const Attrs& a) { return a.kind == Kind::kGru && a.linear_before_reset ? 2 : a.gates; }

Status Infer(InferContext& ctx, Kind kind) {
  const Node& node = ctx.node();
  DOPT_ASSIGN_OR_RETURN(Attrs a, ReadAttrs(node, kind));
  for (int i : {0, 1, 2, 3, 5, 6, 7}) {
    if (i < MaxInputs(kind) && ctx.has_input(i)) DOPT_RETURN_IF_ERROR(CheckInputDType(ctx, i, FLOAT_TYPES));
  }
  if (ctx.has_input(4)) DOPT_RETURN_IF_ERROR(CheckInputDType(ctx, 4, {DType::kInt32, DType::kInt64}));
  auto shape = [&](int i) -> const Shape* {
    return i < MaxInputs(kind) && ctx.has_input(i) && ctx.input(i).rank_known ? &ctx.input(i).shape : nullptr;
  };
  DOPT_ASSIGN_OR_RETURN(Dims dm, CheckShapes(node, a, shape(0), shape(1), shape(2), shape(3), shape(4), shape(5),
                                             shape(6), shape(7)));
  if (ctx.has_input(4) && ctx.input(4).value) {
    DOPT_RETURN_IF_ERROR(CheckLens(node, ctx.input(4).value->ToInt64Vector(), dm.seq));
  }
  const DType dt = ctx.input(0).dtype;
  const int64_t D = a.num_directions;
  if (ctx.num_outputs() > 0) {
    ctx.SetOutput(0, dt, a.layout ? Shape{dm.batch, dm.seq, D, dm.hidden} : Shape{dm.seq, D, dm.batch, dm.hidden});
  }
  for (int o = 1; o < ctx.num_outputs(); ++o) {
    ctx.SetOutput(o, dt, a.layout ? Shape{dm.batch, D, dm.hidden} : Shape{D, dm.batch, dm.hidden});
  }
  return Status::Ok();
}

int64_t Step::RowGrain() const { return std::max<int64_t>(1, 16384 / std::max<int64_t>(1, attrs->gates * hidden)); }

StatusOr<int> QuantWeightAxis(const Node&, int, int) { return 1; }

Status Run(KernelContext& ctx, Kind kind, const std::function<void(const Step&)>& step) {
  const Node& node = ctx.node();
  DOPT_ASSIGN_OR_RETURN(Attrs a, ReadAttrs(node, kind));
  auto in = [&](int i) -> const Tensor* { return i < MaxInputs(kind) && ctx.has_input(i) ? &ctx.input(i) : nullptr; };
  for (int i : {0, 1, 2, 3, 5, 6, 7}) {
    if (in(i) && in(i)->dtype() != DType::kFloat32) {
      return InvalidArgument(node.Describe() + ": input " + std::to_string(i) + " must be float, is " +
                             DTypeName(in(i)->dtype()));
    }
  }
  if (in(4) && in(4)->dtype() != DType::kInt32 && in(4)->dtype() != DType::kInt64) {
    return InvalidArgument(node.Describe() + ": sequence_lens must be int32, is " + DTypeName(in(4)->dtype()));
  }
  auto shape = [&](int i) -> const Shape* { return in(i) ? &in(i)->shape() : nullptr; };
  DOPT_ASSIGN_OR_RETURN(Dims dm, CheckShapes(node, a, shape(0), shape(1), shape(2), shape(3), shape(4), shape(5),
                                             shape(6), shape(7)));
  const int64_t S = dm.seq, B = dm.batch, I = dm.input, H = dm.hidden, D = a.num_directions, G = a.gates, GH = G * H;
  // X of input size 0 (or W, R of hidden size 0) can declare any sequence and batch length:
  // bound what they make us allocate.
  const double scratch = (double)S * B * std::max<int64_t>(GH, D * H);
  if (scratch > (double)kMaxTensorElements) {
    return InvalidArgument(node.Describe() + ": seq_length " + std::to_string(S) + " x batch " + std::to_string(B) +
                           " x " + std::to_string(std::max<int64_t>(GH, D * H)) + " elements exceed the limit of " +
                           std::to_string(kMaxTensorElements));
  }
  std::vector<int64_t> lens(B, S);
  if (in(4)) {
    lens = in(4)->ToInt64Vector();
    DOPT_RETURN_IF_ERROR(CheckLens(node, lens, S));
  }
  const bool lstm = kind == Kind::kLstm;
  auto want = [&](int o) { return o < ctx.num_outputs() && node.outputs[o] >= 0; };
  float* y = nullptr;
  float* yh = nullptr;
  float* yc = nullptr;
  if (want(0)) y = ctx.Output(0, DType::kFloat32, a.layout ? Shape{B, S, D, H} : Shape{S, D, B, H}).data<float>();
  const Shape state_shape = a.layout ? Shape{B, D, H} : Shape{D, B, H};
  if (want(1)) yh = ctx.OutputUninitialized(1, DType::kFloat32, state_shape).data<float>();
  if (lstm && want(2)) yc = ctx.OutputUninitialized(2, DType::kFloat32, state_shape).data<float>();

  const float* x = in(0)->data<float>();
  const float* w = in(1)->data<float>();
  const float* r = in(2)->data<float>();
  const float* bias = in(3) ? in(3)->data<float>() : nullptr;
  const float* h0 = in(5) ? in(5)->data<float>() : nullptr;
  const float* c0 = lstm && in(6) ? in(6)->data<float>() : nullptr;
  const float* peep = lstm && in(7) ? in(7)->data<float>() : nullptr;
  ThreadPool* pool = ctx.pool();

  std::vector<float> xw((size_t)(S * B * GH)), h((size_t)(B * H)), c(lstm ? (size_t)(B * H) : 0),
      gates((size_t)(B * GH)), extra((size_t)(B * H)), bias_row(bias ? (size_t)GH : 0);
  std::vector<const float*> xw_rows((size_t)B);
  std::vector<float*> y_rows((size_t)B);
  const int64_t folded = (int64_t)FoldedRbGates(a) * H;
  // Offset of the [hidden] row of (direction d, batch b) in initial_h / Y_h.
  auto state_off = [&](int64_t d, int64_t b) { return (a.layout ? b * D + d : d * B + b) * H; };
  for (int64_t d = 0; d < D; ++d) {
    const bool rev = a.reverse || d == 1;
    const float* bd = bias ? bias + d * 2 * GH : nullptr;
    // X·Wᵀ for every (time, batch) row, in X's own row order, plus Wb + the folded part of Rb.
    if (S * B > 0 && GH > 0) {
      if (I > 0) {
        kernels::Sgemm(pool, false, true, S * B, GH, I, 1.f, x, I, w + d * GH * I, I, 0.f, xw.data(), GH);
      } else {
        std::fill(xw.begin(), xw.end(), 0.f);
      }
      if (bd) {
        for (int64_t j = 0; j < GH; ++j) bias_row[j] = bd[j] + (j < folded ? bd[GH + j] : 0.f);
        ParallelForOrInline(pool, S * B, std::max<int64_t>(1, 16384 / GH), [&](int64_t r0, int64_t r1) {
          for (int64_t row = r0; row < r1; ++row) {
            float* p = xw.data() + row * GH;
            for (int64_t j = 0; j < GH; ++j) p[j] += bias_row[j];
          }
        });
      }
    }
    for (int64_t b = 0; b < B; ++b) {
      if (h0) std::memcpy(h.data() + b * H, h0 + state_off(d, b), sizeof(float) * H);
      else std::fill_n(h.data() + b * H, H, 0.f);
      if (lstm) {
        if (c0) std::memcpy(c.data() + b * H, c0 + state_off(d, b), sizeof(float) * H);
        else std::fill_n(c.data() + b * H, H, 0.f);
      }
    }
    const Step st{.attrs = &a,
                  .d = (int)d,
                  .batch = B,
                  .hidden = H,
                  .xw = xw_rows.data(),
                  .y = y_rows.data(),
                  .h = h.data(),
                  .c = lstm ? c.data() : nullptr,
                  .gates = gates.data(),
                  .extra = extra.data(),
                  .r = r + d * GH * H,
                  .rb = bd ? bd + GH : nullptr,
                  .p = peep ? peep + d * 3 * H : nullptr,
                  .pool = pool};
    for (int64_t k = 0; k < S && H > 0; ++k) {
      bool any = false;
      for (int64_t b = 0; b < B; ++b) {
        if (k >= lens[b]) {
          xw_rows[b] = nullptr;
          y_rows[b] = nullptr;
          continue;
        }
        const int64_t t = rev ? lens[b] - 1 - k : k;
        xw_rows[b] = xw.data() + (a.layout ? b * S + t : t * B + b) * GH;
        y_rows[b] = y ? y + (a.layout ? (b * S + t) * D + d : (t * D + d) * B + b) * H : nullptr;
        any = true;
      }
      if (!any) break;
      step(st);
    }
    for (int64_t b = 0; b < B; ++b) {
      const bool none = lens[b] == 0;  // no step: zero, as ONNX Runtime
      if (yh) {
        if (none) std::fill_n(yh + state_off(d, b), H, 0.f);
        else std::memcpy(yh + state_off(d, b), h.data() + b * H, sizeof(float) * H);
      }
      if (yc) {
        if (none) std::fill_n(yc + state_off(d, b), H, 0.f);
        else std::memcpy(yc + state_off(d, b), c.data() + b * H, sizeof(float) * H);
      }
    }
  }
  return Status::Ok();
}

}  // namespace recurrent
}  // namespace dopt
