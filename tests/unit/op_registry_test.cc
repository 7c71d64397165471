// Every op of the op list (src/ops/ops.inc) has what the pipeline needs from its file: a shape
// rule and a kernel, an explicit opset upgrade declaration (a rewrite, or a note saying why none
// is needed) and explicit, consistent quantization traits. A new op file that forgets one of
// them fails here, not in a user's model.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "ops/op.h"

namespace dopt {
namespace {

using Role = QuantTraits::Role;

// An input index the op can have: [0, max_inputs).
bool ValidInput(const OpDef& d, int i) { return i >= 0 && i < d.max_inputs; }

Node SampleNode(const OpDef& d) {
  Node n;
  n.name = std::string("sample_") + d.name;
  n.op_type = d.name;
  n.opset_version = 21;
  return n;
}

TEST(OpRegistry, EveryOpHasAShapeRuleAndAKernel) {
  ASSERT_FALSE(AllOpDefs().empty());
  for (const OpDef* d : AllOpDefs()) {
    SCOPED_TRACE(d->name);
    ASSERT_NE(d->name, nullptr);
    EXPECT_EQ(FindOpDef("", d->name), d);
    EXPECT_NE(d->infer, nullptr);
    EXPECT_NE(d->run, nullptr);
    EXPECT_GE(d->min_inputs, 0);
    EXPECT_LE(d->min_inputs, d->max_inputs);
    EXPECT_GE(d->min_outputs, 1);
    EXPECT_LE(d->min_outputs, d->max_outputs);
  }
}

TEST(OpRegistry, EveryOpDeclaresItsOpsetUpgrade) {
  for (const OpDef* d : AllOpDefs()) {
    const bool rewrite = d->upgrade.rewrite != nullptr;
    const bool note = d->upgrade.unchanged != nullptr && std::strlen(d->upgrade.unchanged) > 0;
    EXPECT_TRUE(rewrite != note) << d->name
                                 << ": set .upgrade to exactly one of UpgradeBy(rule) and "
                                    "NoUpgradeNeeded(\"what changed from opset 7 to 21\")";
  }
}

TEST(OpRegistry, EveryOpDeclaresItsQuantizationTraits) {
  for (const OpDef* d : AllOpDefs()) {
    EXPECT_NE(d->quant.role, Role::kUndeclared)
        << d->name << ": set .quant (NoQuantRole(), SharesInputScale(...) or the weighted traits)";
  }
}

TEST(OpRegistry, QuantTraitsAreConsistent) {
  for (const OpDef* d : AllOpDefs()) {
    SCOPED_TRACE(d->name);
    const QuantTraits& t = d->quant;
    if (t.role != Role::kWeighted) {  // no weighted fields
      EXPECT_EQ(t.activation_input, -1);
      EXPECT_EQ(t.weight_input, -1);
      EXPECT_EQ(t.bias_input, -1);
      EXPECT_FALSE(t.operands_commute);
      EXPECT_EQ(t.weight_axis, nullptr);
      EXPECT_EQ(t.bias_int32, nullptr);
    }
    if (t.role != Role::kSharesInputScale) {
      EXPECT_EQ(t.scale_input, 0);
      EXPECT_EQ(t.shares_scale_if, nullptr);
    }
    if (t.role == Role::kSharesInputScale) {
      EXPECT_TRUE(t.scale_input == QuantTraits::kAllInputs || (t.scale_input >= 0 && t.scale_input < d->min_inputs))
          << "scale_input " << t.scale_input << " is not a required input";
    }
    if (t.role != Role::kWeighted) continue;

    // The activation and the weight are required inputs, the bias an input the op can have.
    EXPECT_TRUE(t.activation_input >= 0 && t.activation_input < d->min_inputs) << t.activation_input;
    EXPECT_TRUE(t.weight_input >= 0 && t.weight_input < d->min_inputs) << t.weight_input;
    EXPECT_NE(t.activation_input, t.weight_input);
    if (t.bias_input >= 0) {
      EXPECT_TRUE(ValidInput(*d, t.bias_input)) << t.bias_input;
      EXPECT_NE(t.bias_input, t.activation_input);
      EXPECT_NE(t.bias_input, t.weight_input);
    } else {
      EXPECT_EQ(t.bias_input, -1);
      EXPECT_EQ(t.bias_int32, nullptr) << "an int32 rule without a bias input";
      EXPECT_FALSE(t.bias_must_be_constant);
    }
    EXPECT_GE(t.weight_min_rank, 0);
    EXPECT_TRUE(t.weight_max_rank == -1 || t.weight_max_rank >= t.weight_min_rank);
    ASSERT_NE(t.weight_axis, nullptr) << "a weighted op needs the weight's channel axis";

    // The axis is -1 or a dim of the weight, for every rank the traits accept and every input
    // that can be the weight, on a node with default attributes.
    const Node n = SampleNode(*d);
    std::vector<int> weights = {t.weight_input};
    if (t.operands_commute) weights.push_back(t.activation_input);
    const int lo = std::max(t.weight_min_rank, 1);
    const int hi = t.weight_max_rank >= 0 ? t.weight_max_rank : lo + 3;
    for (int wi : weights) {
      for (int rank = lo; rank <= hi; ++rank) {
        StatusOr<int> axis = t.weight_axis(n, wi, rank);
        ASSERT_TRUE(axis.ok()) << axis.status().message();
        EXPECT_GE(*axis, -1) << "weight input " << wi << ", rank " << rank;
        EXPECT_LT(*axis, rank) << "weight input " << wi << ", rank " << rank;
        // A bias with one value per output channel can be int32 on a default node.
        if (t.bias_int32 && *axis >= 0) {
          Shape w(rank, 3);
          w[*axis] = 5;
          StatusOr<bool> ok = t.bias_int32(n, w, *axis, Shape{5});
          ASSERT_TRUE(ok.ok()) << ok.status().message();
          EXPECT_TRUE(*ok) << "weight input " << wi << ", rank " << rank;
        }
      }
    }
  }
}

// The condition of a scale-sharing op is asked about a node with default attributes and no
// constant inputs: it must answer (whatever it answers) without failing.
TEST(OpRegistry, ScaleSharingConditionsTakeADefaultNode) {
  for (const OpDef* d : AllOpDefs()) {
    if (!d->quant.shares_scale_if) continue;
    SCOPED_TRACE(d->name);
    Graph g;
    Node n = SampleNode(*d);
    for (int i = 0; i < d->min_inputs; ++i) {
      Value v;
      v.name = "in" + std::to_string(i);
      n.inputs.push_back(g.AddValue(std::move(v)));
    }
    (void)d->quant.shares_scale_if(g, n);
  }
}

TEST(OpRegistry, OpDefOfUsesTheResolvedOpElseTheType) {
  Node n;
  n.op_type = "Conv";
  EXPECT_EQ(OpDefOf(n), FindOpDef("", "Conv"));
  n.op = FindOpDef("", "Relu");
  EXPECT_EQ(OpDefOf(n), FindOpDef("", "Relu"));
  Node other;
  other.op_type = "NoSuchOp";
  EXPECT_EQ(OpDefOf(other), nullptr);
}

}  // namespace
}  // namespace dopt
