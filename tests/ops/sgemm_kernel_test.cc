// kernels::SgemmReference (the plain loops DOPT_REFERENCE_KERNELS=1 selects) and
// kernels::SgemmSerial / Sgemm (OpenBLAS unless the reference kernels are forced) against a
// double-precision loop: transposes, leading dimensions larger than the rows, alpha and beta
// (beta = 0 must not read C), sizes around the reference's 4 x 256 tiles, K = 0. Sgemm must be
// bit-identical for 1, 2 and 3 threads, and with the reference kernels forced it must equal
// SgemmReference exactly.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "check_op.h"
#include "common/kernel_options.h"
#include "kernels/gemm.h"

namespace dopt {
namespace {

std::vector<float> Random(size_t n, unsigned seed) { return optest::RandomFloats(n, seed); }

struct Case {
  bool ta, tb;
  int64_t M, N, K;
  float alpha, beta;
};

struct Operands {
  int64_t lda, ldb, ldc;
  std::vector<float> A, B, C0;
};

Operands Make(const Case& c, unsigned seed) {
  Operands o;
  // Leading dimensions a little larger than needed, so rows are not contiguous with each other.
  o.lda = (c.ta ? c.M : c.K) + 3;
  o.ldb = (c.tb ? c.K : c.N) + 5;
  o.ldc = c.N + 2;
  o.A = Random((size_t)((c.ta ? c.K : c.M) * o.lda), seed);
  o.B = Random((size_t)((c.tb ? c.N : c.K) * o.ldb), seed + 1);
  o.C0 = Random((size_t)(c.M * o.ldc), seed + 2);
  if (c.beta == 0.f) {
    for (float& v : o.C0) v = NAN;  // must not be read
  }
  return o;
}

// Double-precision result and, per element, the magnitude of its terms.
void Expected(const Case& c, const Operands& o, std::vector<double>* y, std::vector<double>* mag) {
  y->assign((size_t)(c.M * c.N), 0.0);
  mag->assign((size_t)(c.M * c.N), 0.0);
  for (int64_t i = 0; i < c.M; ++i)
    for (int64_t j = 0; j < c.N; ++j) {
      double s = 0, m = 0;
      for (int64_t p = 0; p < c.K; ++p) {
        const double a = c.ta ? o.A[(size_t)(p * o.lda + i)] : o.A[(size_t)(i * o.lda + p)];
        const double b = c.tb ? o.B[(size_t)(j * o.ldb + p)] : o.B[(size_t)(p * o.ldb + j)];
        s += a * b;
        m += std::fabs(a * b);
      }
      double r = c.alpha * s, rm = std::fabs(c.alpha) * m;
      if (c.beta != 0.f) {
        r += c.beta * (double)o.C0[(size_t)(i * o.ldc + j)];
        rm += std::fabs(c.beta * (double)o.C0[(size_t)(i * o.ldc + j)]);
      }
      (*y)[(size_t)(i * c.N + j)] = r;
      (*mag)[(size_t)(i * c.N + j)] = rm;
    }
}

std::string Name(const Case& c) {
  return std::string(c.ta ? "T" : "N") + (c.tb ? "T" : "N") + " M=" + std::to_string(c.M) +
         " N=" + std::to_string(c.N) + " K=" + std::to_string(c.K) + " alpha=" + std::to_string(c.alpha) +
         " beta=" + std::to_string(c.beta);
}

std::vector<Case> Cases() {
  std::vector<Case> cases;
  for (bool ta : {false, true})
    for (bool tb : {false, true})
      for (int64_t M : {1, 3, 4, 5, 37})
        for (int64_t N : {1, 7, 256, 259})
          for (int64_t K : {0, 1, 9, 130}) cases.push_back({ta, tb, M, N, K, 1.f, (M + N) % 2 ? 0.f : 1.f});
  cases.push_back({false, false, 64, 600, 576, 1.f, 1.f});  // a Conv tile
  cases.push_back({false, true, 70, 90, 300, -0.5f, 0.25f});
  cases.push_back({true, false, 129, 33, 65, 2.f, 0.f});
  return cases;
}

void CheckAll(void (*gemm)(const Case&, Operands*), const char* what) {
  unsigned seed = 1;
  for (const Case& c : Cases()) {
    Operands o = Make(c, seed++);
    std::vector<double> y, mag;
    Expected(c, o, &y, &mag);
    gemm(c, &o);
    for (int64_t i = 0; i < c.M; ++i) {
      for (int64_t j = 0; j < c.N; ++j) {
        const float got = o.C0[(size_t)(i * o.ldc + j)];
        const size_t k = (size_t)(i * c.N + j);
        // Float sums of K terms: within 2 K eps of the terms' magnitude (plus C's rounding).
        ASSERT_NEAR(got, y[k], 2.4e-7 * (double)(c.K + 2) * (mag[k] + 1e-30)) << what << " " << Name(c);
      }
      for (int64_t j = c.N; j < o.ldc; ++j) {  // the padding of C's rows stays as it was
        const float v = o.C0[(size_t)(i * o.ldc + j)];
        ASSERT_TRUE(c.beta == 0.f ? std::isnan(v) : !std::isnan(v)) << what << " " << Name(c);
      }
    }
  }
}

TEST(SgemmKernel, ReferenceMatchesDoubleLoop) {
  CheckAll(
      [](const Case& c, Operands* o) {
        kernels::SgemmReference(c.ta, c.tb, c.M, c.N, c.K, c.alpha, o->A.data(), o->lda, o->B.data(), o->ldb,
                                c.beta, o->C0.data(), o->ldc);
      },
      "SgemmReference");
}

TEST(SgemmKernel, SerialMatchesDoubleLoop) {
  CheckAll(
      [](const Case& c, Operands* o) {
        kernels::SgemmSerial(c.ta, c.tb, c.M, c.N, c.K, c.alpha, o->A.data(), o->lda, o->B.data(), o->ldb, c.beta,
                             o->C0.data(), o->ldc);
      },
      "SgemmSerial");
}

TEST(SgemmKernel, ParallelMatchesDoubleLoopAndIgnoresThreadCount) {
  CheckAll(
      [](const Case& c, Operands* o) {
        static ThreadPool p2(2), p3(3);
        std::vector<float> c1 = o->C0, c2 = o->C0, c3 = o->C0;
        kernels::Sgemm(nullptr, c.ta, c.tb, c.M, c.N, c.K, c.alpha, o->A.data(), o->lda, o->B.data(), o->ldb, c.beta,
                       c1.data(), o->ldc);
        kernels::Sgemm(&p2, c.ta, c.tb, c.M, c.N, c.K, c.alpha, o->A.data(), o->lda, o->B.data(), o->ldb, c.beta,
                       c2.data(), o->ldc);
        kernels::Sgemm(&p3, c.ta, c.tb, c.M, c.N, c.K, c.alpha, o->A.data(), o->lda, o->B.data(), o->ldb, c.beta,
                       c3.data(), o->ldc);
        for (size_t i = 0; i < c1.size(); ++i) {
          if (std::isnan(c1[i])) continue;  // untouched padding (beta = 0 cases)
          ASSERT_EQ(c1[i], c2[i]) << Name(c) << " i=" << i;
          ASSERT_EQ(c1[i], c3[i]) << Name(c) << " i=" << i;
        }
        o->C0 = c1;
      },
      "Sgemm");
}

TEST(SgemmKernel, ForcedReferenceKernelsRunTheReference) {
  const bool was = ReferenceKernelsForced();
  SetReferenceKernelsForced(true);
  EXPECT_TRUE(ReferenceKernelsForced());
  ThreadPool p2(2);
  for (const Case& c : {Case{false, false, 64, 600, 576, 1.f, 1.f}, Case{true, true, 70, 90, 300, -0.5f, 0.25f}}) {
    Operands o = Make(c, 11);
    std::vector<float> ref = o.C0, got = o.C0;
    kernels::SgemmReference(c.ta, c.tb, c.M, c.N, c.K, c.alpha, o.A.data(), o.lda, o.B.data(), o.ldb, c.beta,
                            ref.data(), o.ldc);
    kernels::Sgemm(&p2, c.ta, c.tb, c.M, c.N, c.K, c.alpha, o.A.data(), o.lda, o.B.data(), o.ldb, c.beta, got.data(),
                   o.ldc);
    for (size_t i = 0; i < ref.size(); ++i) ASSERT_EQ(got[i], ref[i]) << Name(c) << " i=" << i;
  }
  SetReferenceKernelsForced(was);
  EXPECT_EQ(ReferenceKernelsForced(), was);
}

}  // namespace
}  // namespace dopt
