// What LSTM, GRU and RNN share (one copy for the three op files): their attributes, gate
// activations, the shape rule, the input checks and the loop over directions and time steps.
//
// Conventions, as ONNX Runtime's CPU kernels (ONNX leaves them open):
//  * activation_alpha / activation_beta are consumed in the order of the activations, each
//    activation taking a value only if it has such a parameter (LeakyRelu takes an alpha,
//    Affine an alpha and a beta, Tanh neither); a missing value is the ONNX op's default
//    (LeakyRelu 0.01, ThresholdedRelu 1, Elu 1, HardSigmoid 0.2 / 0.5, Affine 1 / 0,
//    ScaledTanh 1 / 1). Names are case-insensitive. A bidirectional node given one direction's
//    activations uses them for both; an RNN of one direction given two (the schema's default
//    list is ["Tanh", "Tanh"]) uses the first.
//  * clip bounds the gates' pre-activations (after LSTM's peephole terms); LSTM's h(C_t) takes
//    the cell state unclipped.
//  * sequence_lens: steps at or past a batch entry's length are zero in Y; Y_h / Y_c hold the
//    state after its last valid step (zero for a length of 0); the reverse direction starts at
//    each entry's own last valid step.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "ops/op.h"
#include "ops/op_util.h"

namespace dopt {
namespace recurrent {

enum class Kind { kRnn, kGru, kLstm };

struct Activation {
  enum class Fn : uint8_t {
    kRelu, kTanh, kSigmoid, kAffine, kLeakyRelu, kThresholdedRelu, kScaledTanh, kHardSigmoid, kElu, kSoftsign,
    kSoftplus
  };
  Fn fn = Fn::kTanh;
  float alpha = 0.f, beta = 0.f;
  // x[i] = act(clip(x[i])) for i < n; clip <= 0: none.
  void Apply(float* x, int64_t n, float clip) const;
};

struct Attrs {
  Kind kind = Kind::kRnn;
  int gates = 1;               // 1 (RNN), 3 (GRU: z r h), 4 (LSTM: i o f c)
  int acts_per_direction = 1;  // 1 (RNN: f), 2 (GRU: f g), 3 (LSTM: f g h)
  int num_directions = 1;
  bool reverse = false;        // direction == "reverse"
  int64_t hidden_size = -1;    // -1: no attribute (taken from R)
  int64_t layout = 0;          // 0: [seq, batch, ...]; 1: [batch, seq, ...]
  float clip = 0.f;            // 0: no clip
  bool input_forget = false;   // LSTM: f = 1 - i
  bool linear_before_reset = false;  // GRU
  std::vector<Activation> acts;      // acts[d * acts_per_direction + k]
  const Activation& act(int d, int k) const { return acts[d * acts_per_direction + k]; }
};

// Reads and checks the node's attributes; errors name the node.
StatusOr<Attrs> ReadAttrs(const Node& node, Kind kind);

// The shape rule of all three ops.
Status Infer(InferContext& ctx, Kind kind);

// What one time step of one direction works on. Rows are batch entries; `xw[b]` is null for an
// entry past its length (its state must stay as it is).
struct Step {
  const Attrs* attrs;
  int d;               // direction index
  int64_t batch, hidden;
  const float* const* xw;  // [batch] rows of X_t·Wᵀ + Wb + Rb (gates * hidden each; see FoldedRbGates)
  float* const* y;         // [batch] where H_t goes in Y, or null (no Y, or inactive)
  float* h;                // [batch, hidden] H_{t-1}, updated in place to H_t for active rows
  float* c;                // [batch, hidden] LSTM cell state, likewise; null for GRU and RNN
  float* gates;            // scratch [batch, gates * hidden]
  float* extra;            // scratch [batch, hidden] (GRU: r (.) H_{t-1})
  const float* r;          // this direction's R [gates * hidden, hidden]
  const float* rb;         // this direction's Rb [gates * hidden], or null (no B)
  const float* p;          // this direction's P [3 * hidden] (LSTM), or null
  ThreadPool* pool;
  // Runs f(b) for every active row b, split over the pool (a template: no std::function, so no
  // allocation, per step).
  template <typename F>
  void ForActiveRows(const F& f) const {
    ParallelForOrInline(pool, batch, RowGrain(), [&](int64_t b0, int64_t b1) {
      for (int64_t b = b0; b < b1; ++b)
        if (xw[b]) f(b);
    });
  }
  int64_t RowGrain() const;
};

// How many leading gates of Rb are folded into xw (the rest, GRU's h gate with
// linear_before_reset, the step adds itself).
int FoldedRbGates(const Attrs& a);

// Checks the inputs, allocates the outputs and runs `step` for every direction and time step.
Status Run(KernelContext& ctx, Kind kind, const std::function<void(const Step&)>& step);

// Quantization traits shared by LSTM, GRU and RNN: X (input 0) is the activation, W (1) and R
// (2), both [num_directions, gates x hidden, in], int8 per row (axis 1: one scale per gate
// row); B and the recurrence stay float.
StatusOr<int> QuantWeightAxis(const Node& node, int weight_input, int rank);
constexpr QuantTraits kQuantTraits = {
    .role = QuantTraits::Role::kWeighted,
    .activation_input = 0,
    .weight_input = 1,
    .second_weight_input = 2,
    .weight_min_rank = 3,
    .weight_max_rank = 3,
    .weight_axis = QuantWeightAxis,
};

}  // namespace recurrent
}  // namespace dopt
