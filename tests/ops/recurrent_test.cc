// LSTM, GRU and RNN: a sweep of directions x layouts x optional inputs (sequence_lens, initial
// states, peepholes, biases) x sizes against a plain double-precision reference written here
// (one batch entry and one time step at a time, straight from the ONNX equations), the
// activations with their alpha/beta, clip, input_forget, linear_before_reset, the shape rule
// with unknown dims, and error cases.
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "check_op.h"

namespace dopt {
namespace {
using namespace optest;

struct Act {
  std::string name;
  double alpha = 0, beta = 0;
};

double ApplyAct(const Act& a, double x) {
  const std::string& n = a.name;
  if (n == "Relu") return std::max(x, 0.0);
  if (n == "Tanh") return std::tanh(x);
  if (n == "Sigmoid") return 1.0 / (1.0 + std::exp(-x));
  if (n == "Affine") return a.alpha * x + a.beta;
  if (n == "LeakyRelu") return x >= 0 ? x : a.alpha * x;
  if (n == "ThresholdedRelu") return x >= a.alpha ? x : 0.0;
  if (n == "ScaledTanh") return a.alpha * std::tanh(a.beta * x);
  if (n == "HardSigmoid") return std::min(std::max(a.alpha * x + a.beta, 0.0), 1.0);
  if (n == "Elu") return x >= 0 ? x : a.alpha * (std::exp(x) - 1.0);
  if (n == "Softsign") return x / (1.0 + std::fabs(x));
  if (n == "Softplus") return std::log(1.0 + std::exp(x));
  ADD_FAILURE() << "test reference: unknown activation " << n;
  return 0;
}

struct Config {
  std::string op = "LSTM";  // LSTM, GRU, RNN
  std::string direction = "forward";
  int layout = 0;
  double clip = 0;  // 0: none
  bool input_forget = false;
  bool linear_before_reset = false;
  std::vector<Act> acts;  // per direction, in order (f, g, h); empty: the defaults
  int gates() const { return op == "LSTM" ? 4 : op == "GRU" ? 3 : 1; }
  int dirs() const { return direction == "bidirectional" ? 2 : 1; }
  std::vector<Act> ActsOf(int d) const {
    const size_t per = op == "LSTM" ? 3 : op == "GRU" ? 2 : 1;
    if (acts.empty()) {
      if (op == "LSTM") return {{"Sigmoid"}, {"Tanh"}, {"Tanh"}};
      if (op == "GRU") return {{"Sigmoid"}, {"Tanh"}};
      return {{"Tanh"}};
    }
    return std::vector<Act>(acts.begin() + d * per, acts.begin() + (d + 1) * per);
  }
};

Config Cfg(std::string op, std::string direction = "forward") {
  Config c;
  c.op = std::move(op);
  c.direction = std::move(direction);
  return c;
}

// The straightforward reference: inputs X, W, R, [B, sequence_lens, initial_h, initial_c, P]
// (empty tensors where omitted) -> Y, Y_h (, Y_c).
std::vector<Tensor> Reference(const Config& cfg, const std::vector<Tensor>& in) {
  auto opt = [&](size_t i) -> const Tensor* { return i < in.size() && !in[i].empty() ? &in[i] : nullptr; };
  const Tensor& X = in[0];
  const Tensor& W = in[1];
  const Tensor& R = in[2];
  const int64_t G = cfg.gates(), D = cfg.dirs(), H = R.dim(2), I = X.dim(2);
  const int64_t S = cfg.layout ? X.dim(1) : X.dim(0), Bn = cfg.layout ? X.dim(0) : X.dim(1);
  const bool lstm = cfg.op == "LSTM";
  const Tensor* Bt = opt(3);
  const Tensor* L = opt(4);
  const Tensor* H0 = opt(5);
  const Tensor* C0 = lstm ? opt(6) : nullptr;
  const Tensor* P = lstm ? opt(7) : nullptr;
  auto xat = [&](int64_t t, int64_t b, int64_t i) -> double {
    return X.data<float>()[(cfg.layout ? b * S + t : t * Bn + b) * I + i];
  };
  auto state_idx = [&](int64_t d, int64_t b) { return cfg.layout ? b * D + d : d * Bn + b; };
  auto clip = [&](double v) { return cfg.clip > 0 ? std::min(std::max(v, -cfg.clip), cfg.clip) : v; };
  Tensor Y = Tensor::FromFloats(cfg.layout ? Shape{Bn, S, D, H} : Shape{S, D, Bn, H},
                                std::vector<float>((size_t)(S * D * Bn * H), 0.f));
  Tensor Yh = Tensor::FromFloats(cfg.layout ? Shape{Bn, D, H} : Shape{D, Bn, H}, std::vector<float>((size_t)(D * Bn * H), 0.f));
  Tensor Yc = Tensor::FromFloats(Yh.shape(), std::vector<float>((size_t)Yh.numel(), 0.f));
  for (int64_t d = 0; d < D; ++d) {
    const bool rev = cfg.direction == "reverse" || d == 1;
    const std::vector<Act> acts = cfg.ActsOf((int)d);
    auto w = [&](int64_t row, int64_t i) -> double { return W.data<float>()[(d * G * H + row) * I + i]; };
    auto r = [&](int64_t row, int64_t m) -> double { return R.data<float>()[(d * G * H + row) * H + m]; };
    auto wb = [&](int64_t row) -> double { return Bt ? Bt->data<float>()[d * 2 * G * H + row] : 0.0; };
    auto rb = [&](int64_t row) -> double { return Bt ? Bt->data<float>()[d * 2 * G * H + G * H + row] : 0.0; };
    auto p = [&](int64_t k, int64_t j) -> double { return P ? P->data<float>()[d * 3 * H + k * H + j] : 0.0; };
    for (int64_t b = 0; b < Bn; ++b) {
      const int64_t len = L ? L->ToInt64Vector()[b] : S;
      std::vector<double> h(H, 0.0), c(H, 0.0);
      for (int64_t j = 0; j < H; ++j) {
        if (H0) h[j] = H0->data<float>()[state_idx(d, b) * H + j];
        if (C0) c[j] = C0->data<float>()[state_idx(d, b) * H + j];
      }
      for (int64_t k = 0; k < len; ++k) {
        const int64_t t = rev ? len - 1 - k : k;
        // xw(g, j) = X_t · W_g[j] ; hr(g, j, v) = v · R_g[j]
        auto xw = [&](int64_t g, int64_t j) {
          double s = 0;
          for (int64_t i = 0; i < I; ++i) s += xat(t, b, i) * w(g * H + j, i);
          return s;
        };
        auto hr = [&](int64_t g, int64_t j, const std::vector<double>& v) {
          double s = 0;
          for (int64_t m = 0; m < H; ++m) s += v[m] * r(g * H + j, m);
          return s;
        };
        std::vector<double> nh(H), nc(H);
        if (cfg.op == "RNN") {
          for (int64_t j = 0; j < H; ++j) nh[j] = ApplyAct(acts[0], clip(xw(0, j) + hr(0, j, h) + wb(j) + rb(j)));
        } else if (cfg.op == "GRU") {
          std::vector<double> z(H), rr(H), rh(H);
          for (int64_t j = 0; j < H; ++j) {
            z[j] = ApplyAct(acts[0], clip(xw(0, j) + hr(0, j, h) + wb(j) + rb(j)));
            rr[j] = ApplyAct(acts[0], clip(xw(1, j) + hr(1, j, h) + wb(H + j) + rb(H + j)));
            rh[j] = rr[j] * h[j];
          }
          for (int64_t j = 0; j < H; ++j) {
            const double pre = cfg.linear_before_reset
                                   ? xw(2, j) + rr[j] * (hr(2, j, h) + rb(2 * H + j)) + wb(2 * H + j)
                                   : xw(2, j) + hr(2, j, rh) + rb(2 * H + j) + wb(2 * H + j);
            const double hh = ApplyAct(acts[1], clip(pre));
            nh[j] = (1 - z[j]) * hh + z[j] * h[j];
          }
        } else {  // LSTM, gates i o f c
          for (int64_t j = 0; j < H; ++j) {
            auto pre = [&](int g) { return xw(g, j) + hr(g, j, h) + wb(g * H + j) + rb(g * H + j); };
            const double i = ApplyAct(acts[0], clip(pre(0) + p(0, j) * c[j]));
            const double f = cfg.input_forget ? 1 - i : ApplyAct(acts[0], clip(pre(2) + p(2, j) * c[j]));
            const double cc = ApplyAct(acts[1], clip(pre(3)));
            nc[j] = f * c[j] + i * cc;
            const double o = ApplyAct(acts[0], clip(pre(1) + p(1, j) * nc[j]));
            nh[j] = o * ApplyAct(acts[2], nc[j]);  // the cell state is not clipped
          }
        }
        h = nh;
        c = nc;
        for (int64_t j = 0; j < H; ++j)
          Y.data<float>()[((cfg.layout ? (b * S + t) * D + d : (t * D + d) * Bn + b)) * H + j] = (float)h[j];
      }
      for (int64_t j = 0; j < H; ++j) {
        Yh.data<float>()[state_idx(d, b) * H + j] = len ? (float)h[j] : 0.f;
        Yc.data<float>()[state_idx(d, b) * H + j] = len ? (float)c[j] : 0.f;
      }
    }
  }
  if (lstm) return {Y, Yh, Yc};
  return {Y, Yh};
}

struct Sizes {
  int64_t seq, batch, input, hidden;
};

// The attributes of `cfg` on a case, with activation_alpha / activation_beta in consumption order.
OpCase MakeCase(const Config& cfg, int64_t hidden) {
  OpCase c(cfg.op);
  c.Attr("hidden_size", IntAttr(hidden)).Attr("direction", StringAttr(cfg.direction));
  if (cfg.layout) c.Attr("layout", IntAttr(cfg.layout));
  if (cfg.clip > 0) c.Attr("clip", FloatAttr((float)cfg.clip));
  if (cfg.input_forget) c.Attr("input_forget", IntAttr(1));
  if (cfg.linear_before_reset) c.Attr("linear_before_reset", IntAttr(1));
  if (!cfg.acts.empty()) {
    std::vector<std::string> names;
    std::vector<float> alphas, betas;
    for (const Act& a : cfg.acts) {
      names.push_back(a.name);
      const std::string& n = a.name;
      if (n == "Affine" || n == "LeakyRelu" || n == "ThresholdedRelu" || n == "ScaledTanh" || n == "HardSigmoid" ||
          n == "Elu")
        alphas.push_back((float)a.alpha);
      if (n == "Affine" || n == "ScaledTanh" || n == "HardSigmoid") betas.push_back((float)a.beta);
    }
    c.Attr("activations", StringsAttr(names));
    if (!alphas.empty()) c.Attr("activation_alpha", FloatsAttr(alphas));
    if (!betas.empty()) c.Attr("activation_beta", FloatsAttr(betas));
  }
  return c;
}

// Inputs for `cfg`: `opts` bit 0 sequence_lens, bit 1 initial_h (and initial_c), bit 2 B (and P).
std::vector<Tensor> MakeInputs(const Config& cfg, const Sizes& s, int opts, uint32_t seed) {
  const int64_t G = cfg.gates(), D = cfg.dirs(), H = s.hidden;
  const bool lstm = cfg.op == "LSTM";
  std::vector<Tensor> in;
  in.push_back(Random(cfg.layout ? Shape{s.batch, s.seq, s.input} : Shape{s.seq, s.batch, s.input}, seed));
  in.push_back(Random({D, G * H, s.input}, seed + 1, -0.6f, 0.6f));
  in.push_back(Random({D, G * H, H}, seed + 2, -0.6f, 0.6f));
  in.push_back(opts & 4 ? Random({D, 2 * G * H}, seed + 3, -0.5f, 0.5f) : Tensor());
  if (opts & 1) {
    std::vector<int32_t> lens;
    for (int64_t b = 0; b < s.batch; ++b) lens.push_back((int32_t)((seed * 7 + b * 5) % (s.seq + 1)));
    if (s.batch > 1) lens[0] = (int32_t)s.seq;  // one full-length entry
    in.push_back(Make<int32_t>(DType::kInt32, {s.batch}, lens));
  } else {
    in.push_back(Tensor());
  }
  const Shape state = cfg.layout ? Shape{s.batch, D, H} : Shape{D, s.batch, H};
  in.push_back(opts & 2 ? Random(state, seed + 4) : Tensor());
  if (lstm) {
    in.push_back(opts & 2 ? Random(state, seed + 5) : Tensor());
    in.push_back(opts & 4 ? Random({D, 3 * H}, seed + 6, -0.5f, 0.5f) : Tensor());
  }
  // Trailing omitted inputs are simply left out.
  while (!in.empty() && in.back().empty()) in.pop_back();
  return in;
}

::testing::AssertionResult CheckCase(const Config& cfg, const Sizes& s, int opts, uint32_t seed,
                                     const std::string& label) {
  OpCase c = MakeCase(cfg, s.hidden);
  for (Tensor& t : MakeInputs(cfg, s, opts, seed)) {
    if (t.empty()) c.Omitted();
    else c.Input(std::move(t));
  }
  c.Outputs(cfg.op == "LSTM" ? 3 : 2).Label(label);
  c.Reference([cfg](const std::vector<Tensor>& in) { return Reference(cfg, in); }, Tol{2e-5, 2e-5});
  return CheckOp(c);
}

TEST(RecurrentOps, SweepMatchesDoubleReference) {
  const Sizes sizes[] = {{1, 1, 1, 1}, {5, 3, 4, 7}, {4, 2, 9, 16}, {3, 5, 17, 8}};
  uint32_t seed = 1;
  for (const char* op : {"RNN", "GRU", "GRU-lbr", "LSTM"})
    for (const char* dir : {"forward", "reverse", "bidirectional"})
      for (int layout = 0; layout < 2; ++layout)
        for (int opts = 0; opts < 8; ++opts)
          for (const Sizes& s : sizes) {
            Config cfg;
            cfg.op = std::string(op) == "GRU-lbr" ? "GRU" : op;
            cfg.linear_before_reset = std::string(op) == "GRU-lbr";
            cfg.direction = dir;
            cfg.layout = layout;
            const std::string label = std::string(op) + " " + dir + " layout=" + std::to_string(layout) +
                                      " opts=" + std::to_string(opts) + " S,B,I,H=" + std::to_string(s.seq) + "," +
                                      std::to_string(s.batch) + "," + std::to_string(s.input) + "," +
                                      std::to_string(s.hidden);
            EXPECT_TRUE(CheckCase(cfg, s, opts, seed++, label));
          }
}

TEST(RecurrentOps, EmptyDims) {
  // Input size 0 (X·Wᵀ is zero), batch 0 and sequence length 0 (Y empty, Y_h zero).
  const Sizes sizes[] = {{3, 2, 0, 4}, {3, 0, 3, 4}, {0, 2, 3, 4}};
  uint32_t seed = 500;
  for (const char* op : {"RNN", "GRU", "LSTM"})
    for (const Sizes& s : sizes)
      for (int opts : {0, 7}) {
        Config cfg = Cfg(op, "bidirectional");
        EXPECT_TRUE(CheckCase(cfg, s, opts, seed++, std::string(op) + " S,B,I=" + std::to_string(s.seq) + "," +
                                                        std::to_string(s.batch) + "," + std::to_string(s.input)));
      }
}

TEST(RecurrentOps, ActivationsAlphaBetaAndClip) {
  const Sizes s{4, 3, 5, 6};
  // Every activation through RNN (bidirectional: two per node), with non-default parameters.
  const std::vector<std::pair<Act, Act>> pairs = {
      {{"Relu"}, {"Sigmoid"}},
      {{"Affine", 0.7, -0.2}, {"LeakyRelu", 0.3}},
      {{"ThresholdedRelu", 0.1}, {"ScaledTanh", 1.5, 0.8}},
      {{"HardSigmoid", 0.3, 0.4}, {"Elu", 0.6}},
      {{"Softsign"}, {"Softplus"}},
      {{"Tanh"}, {"Relu"}},
  };
  uint32_t seed = 100;
  for (const auto& [a, b] : pairs)
    for (double clip : {0.0, 0.5}) {
      Config cfg;
      cfg.op = "RNN";
      cfg.direction = "bidirectional";
      cfg.clip = clip;
      cfg.acts = {a, b};
      EXPECT_TRUE(CheckCase(cfg, s, 7, seed++, "RNN " + a.name + "/" + b.name + " clip=" + std::to_string(clip)));
    }
  // LSTM and GRU with other activations, clip, input_forget.
  for (double clip : {0.0, 0.3}) {
    Config lstm;
    lstm.op = "LSTM";
    lstm.direction = "bidirectional";
    lstm.clip = clip;
    lstm.acts = {{"HardSigmoid", 0.25, 0.45}, {"LeakyRelu", 0.2}, {"Softsign"},
                 {"Sigmoid"}, {"ScaledTanh", 0.9, 1.1}, {"Elu", 0.5}};
    EXPECT_TRUE(CheckCase(lstm, s, 7, seed++, "LSTM mixed activations clip=" + std::to_string(clip)));
    lstm.acts.clear();
    lstm.input_forget = true;
    EXPECT_TRUE(CheckCase(lstm, s, 7, seed++, "LSTM input_forget clip=" + std::to_string(clip)));
    for (bool lbr : {false, true}) {
      Config gru;
      gru.op = "GRU";
      gru.direction = "reverse";
      gru.layout = 1;
      gru.clip = clip;
      gru.linear_before_reset = lbr;
      gru.acts = {{"HardSigmoid", 0.15, 0.55}, {"Affine", 0.8, 0.1}};
      EXPECT_TRUE(CheckCase(gru, s, 7, seed++, "GRU HardSigmoid/Affine lbr=" + std::to_string(lbr)));
    }
  }
}

TEST(RecurrentOps, ActivationDefaultsAndSharing) {
  const Sizes s{3, 2, 4, 5};
  std::vector<Tensor> in = MakeInputs(Cfg("LSTM", "bidirectional"), s, 6, 7);
  // Names are case-insensitive; parameters missing from the lists take the ONNX defaults
  // (LeakyRelu 0.01, HardSigmoid 0.2 / 0.5); one direction's list serves both directions.
  Config cfg = Cfg("LSTM", "bidirectional");
  cfg.acts = {{"HardSigmoid", 0.2, 0.5}, {"LeakyRelu", 0.01}, {"Tanh"},
              {"HardSigmoid", 0.2, 0.5}, {"LeakyRelu", 0.01}, {"Tanh"}};
  EXPECT_TRUE(CheckOp(OpCase("LSTM").Attr("hidden_size", IntAttr(5)).Attr("direction", StringAttr("bidirectional"))
                          .Attr("activations", StringsAttr({"hardsigmoid", "LEAKYRELU", "tanh"}))
                          .Inputs(in).Outputs(3)
                          .Reference([cfg](const std::vector<Tensor>& i) { return Reference(cfg, i); }, Tol{2e-5, 2e-5})));
  // The alpha list is consumed only by activations that take one: [Sigmoid, LeakyRelu, Tanh] with
  // alpha [0.3] gives LeakyRelu 0.3.
  Config one = Cfg("LSTM");
  one.acts = {{"Sigmoid"}, {"LeakyRelu", 0.3}, {"Tanh"}};
  std::vector<Tensor> in1 = MakeInputs(one, s, 6, 8);
  EXPECT_TRUE(CheckOp(OpCase("LSTM").Attr("activations", StringsAttr({"Sigmoid", "LeakyRelu", "Tanh"}))
                          .Attr("activation_alpha", FloatsAttr({0.3f})).Inputs(in1).Outputs(3)
                          .Reference([one](const std::vector<Tensor>& i) { return Reference(one, i); }, Tol{2e-5, 2e-5})));
  // RNN forward with the schema's default list ["Tanh", "Tanh"] uses the first; no hidden_size.
  Config rnn = Cfg("RNN");
  std::vector<Tensor> in2 = MakeInputs(rnn, s, 0, 9);
  EXPECT_TRUE(CheckOp(OpCase("RNN").Attr("activations", StringsAttr({"Tanh", "Tanh"})).Inputs(in2).Outputs(2)
                          .Reference([rnn](const std::vector<Tensor>& i) { return Reference(rnn, i); }, Tol{2e-5, 2e-5})));
}

TEST(RecurrentOps, OldOpsetsAndOneOutput) {
  const Sizes s{4, 2, 3, 5};
  for (const char* op : {"RNN", "GRU", "LSTM"}) {
    Config cfg = Cfg(op, "bidirectional");
    std::vector<Tensor> in = MakeInputs(cfg, s, 7, 21);
    auto ref = [cfg](const std::vector<Tensor>& i) { return std::vector<Tensor>{Reference(cfg, i)[0]}; };
    EXPECT_TRUE(CheckOp(OpCase(op, 7).Attr("hidden_size", IntAttr(5)).Attr("direction", StringAttr("bidirectional"))
                            .Inputs(in).Outputs(1).Reference(ref, Tol{2e-5, 2e-5}).Label("opset 7, Y only")));
  }
}

TEST(RecurrentOps, Float16RunsAsFloat32) {
  const Sizes s{4, 2, 3, 5};
  for (const char* op : {"RNN", "GRU", "LSTM"}) {
    Config cfg = Cfg(op, "bidirectional");
    OpCase c = MakeCase(cfg, s.hidden);
    for (Tensor& t : MakeInputs(cfg, s, 7, 31)) {
      if (t.empty()) c.Omitted();
      else c.Input(t.dtype() == DType::kFloat32 ? t.CastTo(DType::kFloat16) : t);
    }
    c.Outputs(cfg.op == "LSTM" ? 3 : 2).Label("float16");
    c.Reference(
        [cfg](const std::vector<Tensor>& in) {
          std::vector<Tensor> f;
          for (const Tensor& t : in) f.push_back(!t.empty() && t.dtype() == DType::kFloat16 ? t.CastTo(DType::kFloat32) : t);
          return Reference(cfg, f);
        },
        Tol{2e-5, 2e-5});
    EXPECT_TRUE(CheckOp(c));
  }
}

TEST(RecurrentOps, ShapeRuleWithUnknownDims) {
  // X [seq?, batch 3, input 4], W known: Y [seq?, 2, 3, H], Y_h [2, 3, H] with H from W.
  auto inf = InferOp(OpCase("LSTM").Attr("direction", StringAttr("bidirectional")).Outputs(3),
                     {Info(DType::kFloat16, {-1, 3, 4}), Info(DType::kFloat16, {2, 20, 4}), Info(DType::kFloat16, {2, 20, -1})});
  ASSERT_TRUE(inf.ok()) << inf.status().message();
  EXPECT_EQ((*inf)[0].shape, (Shape{-1, 2, 3, 5}));
  EXPECT_EQ((*inf)[0].dtype, DType::kFloat16);
  EXPECT_EQ((*inf)[1].shape, (Shape{2, 3, 5}));
  EXPECT_EQ((*inf)[2].shape, (Shape{2, 3, 5}));
  // layout 1, batch from initial_h when X's is unknown, hidden from the attribute.
  auto inf2 = InferOp(OpCase("GRU").Attr("layout", IntAttr(1)).Attr("hidden_size", IntAttr(6)).Outputs(2),
                      {Info(DType::kFloat32, {-1, 7, -1}), UnknownRank(DType::kFloat32), UnknownRank(DType::kFloat32),
                       Absent(), Absent(), Info(DType::kFloat32, {4, 1, 6})});
  ASSERT_TRUE(inf2.ok()) << inf2.status().message();
  EXPECT_EQ((*inf2)[0].shape, (Shape{4, 7, 1, 6}));
  EXPECT_EQ((*inf2)[1].shape, (Shape{4, 1, 6}));
  // Nothing known but the rank of X.
  auto inf3 = InferOp(OpCase("RNN"), {Info(DType::kFloat32, {-1, -1, -1}), UnknownRank(DType::kFloat32),
                                      UnknownRank(DType::kFloat32)});
  ASSERT_TRUE(inf3.ok()) << inf3.status().message();
  EXPECT_EQ((*inf3)[0].shape, (Shape{-1, 1, -1, -1}));
  // sequence_lens values are checked when known at load time.
  const Tensor lens = Make<int32_t>(DType::kInt32, {2}, {2, 9});
  auto bad = InferOp(OpCase("RNN"), {Info(DType::kFloat32, {4, 2, 3}), Info(DType::kFloat32, {1, 5, 3}),
                                     Info(DType::kFloat32, {1, 5, 5}), Absent(), Info(DType::kInt32, {2}, &lens)});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("sequence_lens[1] = 9 is outside [0, seq_length=4]"), std::string::npos)
      << bad.status().message();
  // Shape errors are found without values.
  EXPECT_FALSE(InferOp(OpCase("RNN").Attr("hidden_size", IntAttr(3)),
                       {Info(DType::kFloat32, {2, 1, 4}), Info(DType::kFloat32, {1, 5, 4}), Info(DType::kFloat32, {1, 5, 5})})
                   .ok());
  EXPECT_FALSE(InferOp(OpCase("RNN"), {Info(DType::kInt32, {2, 1, 4}), Info(DType::kFloat32, {1, 5, 4}),
                                       Info(DType::kFloat32, {1, 5, 5})})
                   .ok());
}

// The error of one kernel call must name the node and contain `cause`.
void ExpectError(const OpCase& c, const std::string& cause) {
  auto r = RunOp(c);
  ASSERT_FALSE(r.ok()) << c.Describe() << ": expected an error about " << cause;
  const std::string msg = r.status().message();
  EXPECT_NE(msg.find("(" + c.type() + ")"), std::string::npos) << msg;
  EXPECT_NE(msg.find(cause), std::string::npos) << msg;
}

TEST(RecurrentOps, Errors) {
  const Sizes s{3, 2, 4, 5};
  Config cfg = Cfg("LSTM");
  std::vector<Tensor> in = MakeInputs(cfg, s, 0, 3);  // X, W, R
  auto lstm = [&]() { return OpCase("LSTM").Inputs(in).Outputs(3); };
  ExpectError(lstm().Attr("hidden_size", IntAttr(4)), "4*hidden_size=16");
  ExpectError(lstm().Attr("hidden_size", IntAttr(0)), "hidden_size = 0");
  ExpectError(lstm().Attr("direction", StringAttr("sideways")), "direction 'sideways'");
  ExpectError(lstm().Attr("direction", StringAttr("bidirectional")), "num_directions=2");
  ExpectError(lstm().Attr("layout", IntAttr(2)), "layout = 2");
  ExpectError(lstm().Attr("clip", FloatAttr(0.f)), "clip");
  ExpectError(lstm().Attr("activations", StringsAttr({"Sigmoid", "Tanh", "Swish"})), "unknown activation 'Swish'");
  ExpectError(lstm().Attr("activations", StringsAttr({"Sigmoid", "Tanh"})), "2 activations given");
  // W of the wrong shape: rows not 4 * hidden_size, input size not X's.
  ExpectError(OpCase("LSTM").Inputs({in[0], Random({1, 16, 4}, 1), in[2]}), "has shape");
  ExpectError(OpCase("LSTM").Inputs({in[0], Random({1, 20, 3}, 1), in[2]}), "W has shape");
  ExpectError(OpCase("LSTM").Inputs({Random({3, 4}, 1), in[1], in[2]}), "X must have rank 3");
  ExpectError(OpCase("LSTM").Inputs({in[0], in[1], in[2], Random({1, 20}, 1)}), "B has shape");
  ExpectError(OpCase("LSTM").Inputs({in[0], in[1], in[2]}).Omitted().Omitted().Omitted().Omitted()
                  .Input(Random({1, 10}, 1)),
              "P has shape");
  ExpectError(OpCase("LSTM").Inputs({in[0], in[1], in[2]}).Omitted().Omitted().Input(Random({1, 3, 5}, 1)),
              "initial_h has shape");
  // sequence_lens outside [0, seq_length] or of the wrong size.
  ExpectError(OpCase("LSTM").Inputs({in[0], in[1], in[2]}).Omitted().Input(Make<int32_t>(DType::kInt32, {2}, {1, 4})),
              "sequence_lens[1] = 4");
  ExpectError(OpCase("LSTM").Inputs({in[0], in[1], in[2]}).Omitted().Input(Make<int32_t>(DType::kInt32, {2}, {-1, 2})),
              "sequence_lens[0] = -1");
  ExpectError(OpCase("LSTM").Inputs({in[0], in[1], in[2]}).Omitted().Input(Make<int32_t>(DType::kInt32, {3}, {1, 1, 1})),
              "sequence_lens has shape");
  // An empty X may declare any lengths: what they would allocate is bounded.
  ExpectError(OpCase("RNN").Inputs({Tensor(DType::kFloat32, {1 << 20, 1 << 20, 0}), Tensor(DType::kFloat32, {1, 64, 0}),
                                    Random({1, 64, 64}, 2)}),
              "exceed the limit");
  // GRU and RNN share the checks; their W rows are 3 and 1 times hidden_size.
  ExpectError(OpCase("GRU").Inputs({in[0], Random({1, 20, 4}, 1), Random({1, 20, 5}, 2)}), "3*hidden_size=15");
  ExpectError(OpCase("RNN").Attr("activations", StringsAttr({"Gelu"}))
                  .Inputs({in[0], Random({1, 5, 4}, 1), Random({1, 5, 5}, 2)}),
              "unknown activation 'Gelu'");
}

}  // namespace
}  // namespace dopt
