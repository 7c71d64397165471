// The op-test harness itself: each of its checks catches the fault it is there for, and its
// messages name the op, opset, case, output, element and values.
#include <cmath>

#include "check_op.h"
#include "common/kernel_options.h"

namespace dopt {
namespace {
using namespace optest;

// Deliberately broken ops (one fault each), run through OpCase::Def.
Status SameShapeInfer(InferContext& ctx) {
  ctx.SetOutput(0, ctx.input(0).dtype, ctx.input(0).shape);
  return Status::Ok();
}
Status WrongShapeInfer(InferContext& ctx) {
  Shape s = ctx.input(0).shape;
  s.push_back(1);
  ctx.SetOutput(0, ctx.input(0).dtype, s);
  return Status::Ok();
}
// Right with the input's value known, wrong (a fixed dim of 5) with its shape only.
Status WrongWithoutValueInfer(InferContext& ctx) {
  ctx.SetOutput(0, ctx.input(0).dtype, ctx.input(0).value ? ctx.input(0).shape : Shape{5});
  return Status::Ok();
}
Status WrongDTypeInfer(InferContext& ctx) {
  ctx.SetOutput(0, DType::kInt32, ctx.input(0).shape);
  return Status::Ok();
}
Status CopyRun(KernelContext& ctx) {
  ctx.SetOutput(0, ctx.input(0).Clone());
  return Status::Ok();
}
// Adds the thread count to element 0.
Status ThreadDependentRun(KernelContext& ctx) {
  Tensor y = ctx.input(0).Clone();
  y.data<float>()[0] += ctx.pool() ? (float)(ctx.pool()->num_threads() - 1) : 0.f;
  ctx.SetOutput(0, y);
  return Status::Ok();
}
Status MutatingRun(KernelContext& ctx) {
  const_cast<Tensor&>(ctx.input(0)).data<float>()[0] += 1.f;
  ctx.SetOutput(0, ctx.input(0).Clone());
  return Status::Ok();
}
// The optimised kernel is off by `g_opt_error` (relative) in element 1.
float g_opt_error = 0.f;
Status ReferenceDiffersRun(KernelContext& ctx) {
  Tensor y = ctx.input(0).Clone();
  if (!ReferenceKernelsForced()) y.data<float>()[1] *= 1.f + g_opt_error;
  ctx.SetOutput(0, y);
  return Status::Ok();
}

const OpDef kWrongShape{.name = "WrongShape", .min_inputs = 1, .max_inputs = 1, .min_outputs = 1, .max_outputs = 1,
                   .infer = WrongShapeInfer, .run = CopyRun, .upgrade = NoUpgradeNeeded("test op"), .quant = NoQuantRole()};
const OpDef kWrongWithoutValue{.name = "WrongWithoutValue", .min_inputs = 1, .max_inputs = 1, .min_outputs = 1, .max_outputs = 1,
                   .infer = WrongWithoutValueInfer, .run = CopyRun, .upgrade = NoUpgradeNeeded("test op"), .quant = NoQuantRole()};
const OpDef kWrongDType{.name = "WrongDType", .min_inputs = 1, .max_inputs = 1, .min_outputs = 1, .max_outputs = 1,
                   .infer = WrongDTypeInfer, .run = CopyRun, .upgrade = NoUpgradeNeeded("test op"), .quant = NoQuantRole()};
const OpDef kThreadDependent{.name = "ThreadDependent", .min_inputs = 1, .max_inputs = 1, .min_outputs = 1, .max_outputs = 1,
                   .infer = SameShapeInfer, .run = ThreadDependentRun, .upgrade = NoUpgradeNeeded("test op"), .quant = NoQuantRole()};
const OpDef kMutating{.name = "Mutating", .min_inputs = 1, .max_inputs = 1, .min_outputs = 1, .max_outputs = 1,
                   .infer = SameShapeInfer, .run = MutatingRun, .upgrade = NoUpgradeNeeded("test op"), .quant = NoQuantRole()};
const OpDef kReferenceDiffers{.name = "ReferenceDiffers", .min_inputs = 1, .max_inputs = 1, .min_outputs = 1, .max_outputs = 1,
                   .infer = SameShapeInfer, .run = ReferenceDiffersRun, .upgrade = NoUpgradeNeeded("test op"), .quant = NoQuantRole()};

Tensor X() { return Tensor::FromFloats({2, 3}, {1, 2, 3, 4, 5, 6}); }

// The message of a failed check must contain every one of `parts`.
void ExpectFailureMentions(const ::testing::AssertionResult& r, std::vector<std::string> parts) {
  ASSERT_FALSE(r) << "the check passed";
  for (const std::string& p : parts) EXPECT_NE(std::string(r.message()).find(p), std::string::npos) << r.message();
}

TEST(CheckOp, PassesAGoodOpAndReturnsItsOutputs) {
  std::vector<Tensor> y;
  ASSERT_TRUE(CheckOp(OpCase("Add").Inputs({X(), Tensor::Scalar(1.f)}).Expect(Tensor::FromFloats({2, 3}, {2, 3, 4, 5, 6, 7})),
                      &y));
  ASSERT_EQ(y.size(), 1u);
  EXPECT_EQ(Values<float>(y[0]), (std::vector<float>{2, 3, 4, 5, 6, 7}));
}

TEST(CheckOp, ExpectedMismatchNamesOpCaseElementAndValues) {
  auto r = CheckOp(OpCase("Add").Inputs({X(), Tensor::Scalar(1.f)}).Label("plus one")
                       .Expect(Tensor::FromFloats({2, 3}, {2, 3, 4, 5, 7, 7}), Tol::Abs(0.5)));
  ExpectFailureMentions(r, {"Add (opset 21) 'plus one'", "output 0 vs expected", "element 4 [1,1]", "is 6, want 7",
                            "budget 0.5"});
  ExpectFailureMentions(CheckOp(OpCase("Add").Inputs({X(), Tensor::Scalar(1.f)}).Expect(Tensor::FromFloats({3, 2}, {2, 3, 4, 5, 6, 7}))),
                        {"shape [2,3], want [3,2]"});
  ExpectFailureMentions(CheckOp(OpCase("Cast").Attr("to", IntAttr(7)).Input(X()).Expect(X())), {"dtype int64, want float32"});
}

TEST(CheckOp, ReferenceFunctionAndOlderOpset) {
  auto twice = [](const std::vector<Tensor>& in) {
    Tensor y = in[0].Clone();
    for (int64_t i = 0; i < y.numel(); ++i) y.data<float>()[i] *= 2;
    return std::vector<Tensor>{y};
  };
  EXPECT_TRUE(CheckOp(OpCase("Add", 7).Inputs({X(), X()}).Reference(twice, Tol::Exact())));
  ExpectFailureMentions(CheckOp(OpCase("Mul", 7).Inputs({X(), X()}).Reference(twice, Tol::Near(1e-6))),
                        {"Mul (opset 7)", "vs the test's reference", "element 0 [0,0] is 1, want 2"});
}

TEST(CheckOp, ToleranceTreatsNaNAndInfinityExactly) {
  Tensor a = Tensor::FromFloats({3}, {NAN, INFINITY, 1.f});
  EXPECT_TRUE(CheckOp(OpCase("Identity").Input(a).Expect(Tensor::FromFloats({3}, {NAN, INFINITY, 1.f}))));
  ExpectFailureMentions(CheckOp(OpCase("Identity").Input(a).Expect(Tensor::FromFloats({3}, {0.f, INFINITY, 1.f}), Tol::Abs(1e9))),
                        {"element 0", "is nan"});
  ExpectFailureMentions(CheckOp(OpCase("Identity").Input(a).Expect(Tensor::FromFloats({3}, {NAN, 1e30f, 1.f}), Tol::Rel(1))),
                        {"element 1", "is inf"});
  // Integers: exact unless a budget is given.
  Tensor q = Make<int8_t>(DType::kInt8, {2}, {5, -7});
  ExpectFailureMentions(CheckOp(OpCase("Identity").Input(q).Expect(Make<int8_t>(DType::kInt8, {2}, {5, -6}))),
                        {"element 1 [1] is -7, want -6"});
  EXPECT_TRUE(CheckOp(OpCase("Identity").Input(q).Expect(Make<int8_t>(DType::kInt8, {2}, {5, -6}), Tol::Abs(1))));
}

TEST(CheckOp, UnknownOpWrongArityAndKernelErrorsFail) {
  ExpectFailureMentions(CheckOp(OpCase("NoSuchOp").Input(X())), {"NoSuchOp", "no such op"});
  ExpectFailureMentions(CheckOp(OpCase("Relu").Inputs({X(), X()})), {"node 'n' (Relu): has 2 inputs"});
  ExpectFailureMentions(CheckOp(OpCase("Conv").Omitted().Input(X())), {"required input 0 is missing"});
  ExpectFailureMentions(CheckOp(OpCase("Transpose").Attr("perm", IntsAttr({0, 0})).Input(X())),
                        {"Transpose (opset 21)", "reference kernels, no pool"});
}

TEST(CheckOp, CatchesShapeRulesThatDisagreeWithTheKernel) {
  ExpectFailureMentions(CheckOp(OpCase("WrongShape").Def(&kWrongShape).Input(X())),
                        {"shape rule (input values known), output 0", "inferred shape [2,3,1], the kernel gives [2,3]"});
  ExpectFailureMentions(CheckOp(OpCase("WrongWithoutValue").Def(&kWrongWithoutValue).Input(X())),
                        {"shape rule (input shapes only)", "inferred shape [5]"});
  ExpectFailureMentions(CheckOp(OpCase("WrongDType").Def(&kWrongDType).Input(X())),
                        {"inferred dtype int32, the kernel gives float32"});
}

TEST(CheckOp, CatchesThreadDependenceAndInputWrites) {
  ExpectFailureMentions(CheckOp(OpCase("ThreadDependent").Def(&kThreadDependent).Input(X()).Threads({3})),
                        {"3 threads vs 1 thread", "element 0 [0,0] is 3, want 1"});
  EXPECT_TRUE(CheckOp(OpCase("ThreadDependent").Def(&kThreadDependent).Input(X()).Threads({1})));
  ExpectFailureMentions(CheckOp(OpCase("Mutating").Def(&kMutating).Input(X())), {"the kernel changed input 0"});
}

TEST(CheckOp, ComparesReferenceAndOptimisedKernelsWithinTheKernelTolerance) {
  const bool saved = ReferenceKernelsForced();
  g_opt_error = 1e-3f;
  ExpectFailureMentions(CheckOp(OpCase("ReferenceDiffers").Def(&kReferenceDiffers).Input(X())),
                        {"optimised vs reference kernels, output 0", "element 1 [0,1] is 2.002"});
  EXPECT_TRUE(CheckOp(OpCase("ReferenceDiffers").Def(&kReferenceDiffers).Input(X()).KernelTolerance(1e-3)));
  g_opt_error = 1e-7f;  // within the default 1e-5 of max|y| = 6
  EXPECT_TRUE(CheckOp(OpCase("ReferenceDiffers").Def(&kReferenceDiffers).Input(X())));
  g_opt_error = 0;
  EXPECT_EQ(ReferenceKernelsForced(), saved) << "CheckOp must restore the kernel switch";
}

TEST(CheckOp, RunOpAndInferOpCallTheOpOnce) {
  auto y = RunOp(OpCase("Relu").Input(Tensor::FromFloats({2}, {-1, 2})));
  ASSERT_TRUE(y.ok());
  EXPECT_EQ(Values<float>((*y)[0]), (std::vector<float>{0, 2}));
  auto inf = InferOp(OpCase("Relu"), {Info(DType::kFloat16, {-1, 4})});
  ASSERT_TRUE(inf.ok());
  EXPECT_EQ((*inf)[0].dtype, DType::kFloat16);
  EXPECT_EQ((*inf)[0].shape, (Shape{-1, 4}));
  // A float16 input runs as float32 (as the executor converts it); the shape rule sees float16.
  Tensor h = Tensor::FromFloats({2}, {-1, 2}).CastTo(DType::kFloat16);
  EXPECT_TRUE(CheckOp(OpCase("Relu").Input(h).Expect(Tensor::FromFloats({2}, {0, 2}))));
}

}  // namespace
}  // namespace dopt
