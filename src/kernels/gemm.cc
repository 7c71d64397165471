#include "kernels/gemm.h"

#include <cblas.h>
#include <dnnl.h>
#include <dnnl.hpp>
#include <omp.h>

#include <algorithm>
#include <functional>
#include <map>
#include <memory>
#include <tuple>
#include <mutex>
#include <vector>

#include "common/kernel_options.h"
#include "kernels/onednn_engine.h"

// OpenBLAS's pthreads build (Debian's default variant) starts one worker per core when it loads;
// each spins on sched_yield for about 0.1 s before it sleeps, taking a core from the first
// forwards of every dopt process. dopt calls OpenBLAS single-threaded only (threads are dopt's,
// one cblas call per block), so the workers are stopped at start-up. Weak: other OpenBLAS
// variants (serial) have no such function.
extern "C" int blas_thread_shutdown_(void) __attribute__((weak));

namespace dopt {
namespace kernels {

namespace {
void InitBlas() {
  static std::once_flag once;
  std::call_once(once, [] {
    openblas_set_num_threads(1);
    if (blas_thread_shutdown_) blas_thread_shutdown_();
  });
}
// At load, before any run: the workers otherwise spin until the first sgemm.
const bool kBlasReady = (InitBlas(), true);
}  // namespace

void SgemmReference(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float* A,
                    int64_t lda, const float* B, int64_t ldb, float beta, float* C, int64_t ldc) {
  if (M <= 0 || N <= 0) return;
  // Tiles of kRows rows x kCols columns of C, accumulated in a local array (16 KiB, in L1) so
  // that each loaded row segment of op(B) serves kRows rows of C. op(B) with trans_b is first
  // copied into a K x kCols panel so the inner loop reads it contiguously.
  constexpr int64_t kRows = 4, kCols = 256;
  float acc[kRows][kCols];
  std::vector<float> panel;
  for (int64_t j0 = 0; j0 < N; j0 += kCols) {
    const int64_t nj = std::min(kCols, N - j0);
    // Row p of the column block: bp + p * bstride (B may be null when K == 0: no row is read).
    const float* bp = K > 0 ? B + j0 : nullptr;
    int64_t bstride = ldb;
    if (trans_b) {
      panel.resize((size_t)(std::max<int64_t>(K, 0) * nj));
      for (int64_t j = 0; j < nj; ++j)
        for (int64_t p = 0; p < K; ++p) panel[(size_t)(p * nj + j)] = B[(j0 + j) * ldb + p];
      bp = panel.data();
      bstride = nj;
    }
    for (int64_t i0 = 0; i0 < M; i0 += kRows) {
      const int64_t ni = std::min(kRows, M - i0);
      for (int64_t r = 0; r < ni; ++r) std::fill(acc[r], acc[r] + nj, 0.f);
      for (int64_t p = 0; p < K; ++p) {
        const float* b = bp + p * bstride;
        for (int64_t r = 0; r < ni; ++r) {
          const float a = trans_a ? A[p * lda + i0 + r] : A[(i0 + r) * lda + p];
          float* ar = acc[r];
          for (int64_t j = 0; j < nj; ++j) ar[j] += a * b[j];
        }
      }
      for (int64_t r = 0; r < ni; ++r) {
        float* c = C + (i0 + r) * ldc + j0;
        const float* ar = acc[r];
        if (beta == 0.f) {
          for (int64_t j = 0; j < nj; ++j) c[j] = alpha * ar[j];
        } else {
          for (int64_t j = 0; j < nj; ++j) c[j] = alpha * ar[j] + beta * c[j];
        }
      }
    }
  }
}

void SgemmSerial(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float* A,
                 int64_t lda, const float* B, int64_t ldb, float beta, float* C, int64_t ldc, GemmEngine engine) {
  if (M <= 0 || N <= 0) return;
  if (K <= 0) {
    for (int64_t i = 0; i < M; ++i)
      for (int64_t j = 0; j < N; ++j) C[i * ldc + j] = beta == 0.f ? 0.f : beta * C[i * ldc + j];
    return;
  }
  if (ReferenceKernelsForced()) {
    SgemmReference(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
    return;
  }
  if (engine == GemmEngine::kOneDnn && OneDnnMatMulEnabled()) {
    omp_set_num_threads(1);  // this block on this thread alone (the pool splits the GEMM)
    if (dnnl_sgemm(trans_a ? 'T' : 'N', trans_b ? 'T' : 'N', M, N, K, alpha, A, lda, B, ldb, beta, C, ldc) ==
        dnnl_success) {
      return;
    }
  }
  InitBlas();
  cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans, (blasint)M,
              (blasint)N, (blasint)K, alpha, A, (blasint)lda, B, (blasint)ldb, beta, C, (blasint)ldc);
}

namespace {

// One dense matmul shape: its primitive, or none where oneDNN offers no brgemm kernel.
struct DenseMatmul {
  bool ok = false;
  dnnl::matmul::primitive_desc pd;
  dnnl::matmul prim;
  const uint64_t owner = NextOneDnnOwner();  // for ExecuteBound
};

std::shared_ptr<DenseMatmul> MakeDenseMatmul(int64_t M, int64_t N, int64_t K) {
  auto e = std::make_shared<DenseMatmul>();
  try {
    using dnnl::memory;
    const auto f32 = memory::data_type::f32;
    dnnl::primitive_attr attr;
    attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
    const memory::desc a({M, K}, f32, memory::format_tag::ab), b({K, N}, f32, memory::format_tag::ab),
        c({M, N}, f32, memory::format_tag::ab);
    e->pd = dnnl::matmul::primitive_desc(dnnl::matmul::desc(a, b, c), attr, OneDnnEngine());
    // Only the brgemm kernels: elsewhere (jit gemm, reference) OpenBLAS is as fast or faster.
    if (std::string(e->pd.impl_info_str()).rfind("brg", 0) != 0) return e;
    e->prim = dnnl::matmul(e->pd);
    e->ok = true;
  } catch (const dnnl::error&) {
  }
  return e;
}

}  // namespace

namespace {
std::shared_ptr<DenseMatmul> FindDenseMatmul(int64_t M, int64_t N, int64_t K) {
  if (M <= 0 || N <= 0 || K <= 0 || ReferenceKernelsForced() || !OneDnnMatMulEnabled()) return nullptr;
  static std::mutex mu;
  static auto* cache = new std::map<std::tuple<int64_t, int64_t, int64_t>, std::shared_ptr<DenseMatmul>>();
  std::lock_guard<std::mutex> lock(mu);
  // Shapes of models run long ago (inputs of varying sizes): entries in use stay alive.
  if (cache->size() >= 512) cache->clear();
  auto& slot = (*cache)[{M, N, K}];
  if (!slot) slot = MakeDenseMatmul(M, N, K);
  return slot->ok ? slot : nullptr;
}
}  // namespace

bool SgemmDenseOneDnnHandles(int64_t M, int64_t N, int64_t K) { return FindDenseMatmul(M, N, K) != nullptr; }

bool SgemmDenseOneDnn(int64_t M, int64_t N, int64_t K, const float* A, const float* B, float* C) {
  std::shared_ptr<DenseMatmul> e = FindDenseMatmul(M, N, K);
  if (!e) return false;
  omp_set_num_threads(1);  // this call on this thread alone
  thread_local dnnl::stream strm(OneDnnEngine());
  // Per call, not thread_local: a large shape must not leave its buffer behind on every thread.
  std::unique_ptr<uint8_t[]> scratch(new uint8_t[std::max<size_t>(e->pd.scratchpad_desc().get_size(), 1)]);
  ExecuteBound(e->prim, e->pd, e->owner, 0, strm,
               {{DNNL_ARG_SRC, A}, {DNNL_ARG_WEIGHTS, B}, {DNNL_ARG_DST, C}, {DNNL_ARG_SCRATCHPAD, scratch.get()}});
  return true;
}

bool SgemmIsOneCall(int64_t M, int64_t N, int64_t K) {
  const double flops = 2.0 * (double)M * (double)N * (double)K;
  return flops < 1e6 || (M < 32 && N < 64);
}

void Sgemm(ThreadPool* pool, bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha,
           const float* A, int64_t lda, const float* B, int64_t ldb, float beta, float* C, int64_t ldc,
           GemmEngine engine) {
  // The split depends only on the shape, never on the thread count, so that every element of
  // C comes from the same sgemm call (OpenBLAS edge kernels may round differently).
  if (SgemmIsOneCall(M, N, K)) {
    SgemmSerial(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, engine);
    return;
  }
  auto run = [&](int64_t nblk, const std::function<void(int64_t, int64_t)>& fn) {
    if (pool) pool->ParallelFor(nblk, 1, fn);
    else fn(0, nblk);
  };
  if (N >= M) {
    const int64_t nb = std::max<int64_t>(1, std::min<int64_t>(8, N / 64));
    const int64_t bs = ((N + nb - 1) / nb + 15) / 16 * 16;
    const int64_t nblk = (N + bs - 1) / bs;
    run(nblk, [&](int64_t b, int64_t e) {
      for (int64_t blk = b; blk < e; ++blk) {
        const int64_t j0 = blk * bs, j1 = std::min(N, j0 + bs);
        const float* Bp = trans_b ? B + j0 * ldb : B + j0;
        SgemmSerial(trans_a, trans_b, M, j1 - j0, K, alpha, A, lda, Bp, ldb, beta, C + j0, ldc, engine);
      }
    });
  } else {
    const int64_t nb = std::max<int64_t>(1, std::min<int64_t>(8, M / 32));
    const int64_t bs = ((M + nb - 1) / nb + 7) / 8 * 8;
    const int64_t nblk = (M + bs - 1) / bs;
    run(nblk, [&](int64_t b, int64_t e) {
      for (int64_t blk = b; blk < e; ++blk) {
        const int64_t i0 = blk * bs, i1 = std::min(M, i0 + bs);
        const float* Ap = trans_a ? A + i0 : A + i0 * lda;
        SgemmSerial(trans_a, trans_b, i1 - i0, N, K, alpha, Ap, lda, B, ldb, beta, C + i0 * ldc, ldc, engine);
      }
    });
  }
}

}  // namespace kernels
}  // namespace dopt
