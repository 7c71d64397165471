/* avx2_only.so: run a program as if on an AVX2-only x86-64 CPU (Haswell / Zen 2 class).
 *
 *   LD_PRELOAD=/path/avx2_only.so GLIBC_TUNABLES=glibc.cpu.hwcaps=-AVX512F,... program
 *
 * Linux's CPUID faulting (arch_prctl(ARCH_SET_CPUID, 0); /proc/cpuinfo flag `cpuid_fault`) turns
 * every CPUID instruction of the process into a SIGSEGV. The handler runs the real CPUID with
 * faulting off for that moment, clears the AVX-512, AVX-VNNI and AMX feature bits, and steps
 * over the instruction, so oneDNN, OpenBLAS, MLAS (ONNX Runtime), numpy and dopt's own dispatch
 * all pick their AVX2 kernels. The setting is per thread, inherited by threads and forks, and
 * dropped by exec (a child started with the same LD_PRELOAD sets it again). glibc reads CPUID in
 * the dynamic loader, before this library runs: GLIBC_TUNABLES masks the same bits there.
 *
 * A SIGSEGV that is not a CPUID goes to the handler the program installed (sigaction and
 * signal are wrapped so that a program's own handler, e.g. Python's faulthandler, is chained
 * rather than put in front), or kills the process as usual. Benchmarks and tests only.
 */
#define _GNU_SOURCE
#include <asm/prctl.h>
#include <cpuid.h>
#include <dlfcn.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

typedef int (*sigaction_fn)(int, const struct sigaction*, struct sigaction*);
static sigaction_fn real_sigaction_ptr;
/* What the program asked for SIGSEGV (zero-initialised: SIG_DFL). Other libraries' constructors
 * may run before ours and install one: it is kept. */
static struct sigaction program_handler;

static sigaction_fn real_sigaction(void) {
  if (!real_sigaction_ptr) real_sigaction_ptr = (sigaction_fn)dlsym(RTLD_NEXT, "sigaction");
  return real_sigaction_ptr;
}

static void mask_features(unsigned leaf, unsigned sub, unsigned r[4]) {
  if (leaf == 7 && sub == 0) {
    /* EBX: AVX512 F, DQ, IFMA, PF, ER, CD, BW, VL */
    r[1] &= ~((1u << 16) | (1u << 17) | (1u << 21) | (1u << 26) | (1u << 27) | (1u << 28) | (1u << 30) |
              (1u << 31));
    /* ECX: AVX512 VBMI, VBMI2, VNNI, BITALG, VPOPCNTDQ; GFNI, VAES, VPCLMULQDQ (not on Haswell/Zen 2) */
    r[2] &= ~((1u << 1) | (1u << 6) | (1u << 8) | (1u << 9) | (1u << 10) | (1u << 11) | (1u << 12) | (1u << 14));
    /* EDX: AVX512 4VNNIW, 4FMAPS, VP2INTERSECT, FP16; AMX BF16, TILE, INT8 */
    r[3] &= ~((1u << 2) | (1u << 3) | (1u << 8) | (1u << 22) | (1u << 23) | (1u << 24) | (1u << 25));
  } else if (leaf == 7 && sub == 1) {
    r[0] &= ~((1u << 4) | (1u << 5) | (1u << 23)); /* AVX-VNNI, AVX512-BF16, AVX-IFMA */
    r[3] &= ~((1u << 4) | (1u << 5) | (1u << 10) | (1u << 19)); /* AVX-VNNI-INT8, AVX-NE-CONVERT, AVX-VNNI-INT16, AVX10 */
  } else if (leaf == 0xD && sub == 0) {
    r[0] &= ~((1u << 5) | (1u << 6) | (1u << 7) | (1u << 17) | (1u << 18)); /* opmask, ZMM, AMX state */
  }
}

static int set_cpuid_faulting(int on) { return (int)syscall(SYS_arch_prctl, ARCH_SET_CPUID, on ? 0 : 1); }

static void on_segv(int sig, siginfo_t* info, void* context) {
  ucontext_t* uc = (ucontext_t*)context;
  const unsigned char* ip = (const unsigned char*)uc->uc_mcontext.gregs[REG_RIP];
  if (info->si_code == SI_KERNEL && ip[0] == 0x0F && ip[1] == 0xA2) {
    unsigned leaf = (unsigned)uc->uc_mcontext.gregs[REG_RAX], sub = (unsigned)uc->uc_mcontext.gregs[REG_RCX];
    unsigned r[4];
    set_cpuid_faulting(0);
    __cpuid_count(leaf, sub, r[0], r[1], r[2], r[3]);
    set_cpuid_faulting(1);
    mask_features(leaf, sub, r);
    uc->uc_mcontext.gregs[REG_RAX] = r[0];
    uc->uc_mcontext.gregs[REG_RBX] = r[1];
    uc->uc_mcontext.gregs[REG_RCX] = r[2];
    uc->uc_mcontext.gregs[REG_RDX] = r[3];
    uc->uc_mcontext.gregs[REG_RIP] += 2;
    return;
  }
  if (program_handler.sa_handler == SIG_IGN || program_handler.sa_handler == SIG_DFL) {
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    real_sigaction()(SIGSEGV, &dfl, NULL); /* returning re-runs the instruction: it faults and kills */
    return;
  }
  if (program_handler.sa_flags & SA_SIGINFO)
    program_handler.sa_sigaction(sig, info, context);
  else
    program_handler.sa_handler(sig);
}

int sigaction(int sig, const struct sigaction* act, struct sigaction* old) {
  sigaction_fn real = real_sigaction();
  if (!real) return -1;
  if (sig != SIGSEGV) return real(sig, act, old);
  if (old) *old = program_handler;
  if (act) program_handler = *act;
  return 0;
}

sighandler_t signal(int sig, sighandler_t handler) {
  struct sigaction act, old;
  memset(&act, 0, sizeof act);
  act.sa_handler = handler;
  act.sa_flags = SA_RESTART;
  sigemptyset(&act.sa_mask);
  if (sigaction(sig, &act, &old) != 0) return SIG_ERR;
  return old.sa_handler;
}

__attribute__((constructor(101))) static void avx2_only_init(void) {
  sigaction_fn real = real_sigaction();
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_segv;
  /* On the alternate stack when the program set one (a stack overflow still reaches its handler);
   * every signal blocked meanwhile, so none runs while faulting is briefly off. */
  sa.sa_flags = SA_SIGINFO | SA_RESTART | SA_ONSTACK;
  sigfillset(&sa.sa_mask);
  if (!real || real(SIGSEGV, &sa, NULL) != 0 || set_cpuid_faulting(1) != 0) {
    static const char msg[] = "avx2_only.so: this kernel/CPU offers no CPUID faulting (arch_prctl ARCH_SET_CPUID)\n";
    (void)!write(2, msg, sizeof msg - 1);
    _exit(97);
  }
}

/* Loaded with LD_AUDIT as well, this library starts before any library of the program is
 * initialised (oneDNN reads CPUID in its static constructors, which LD_PRELOAD runs after). */
unsigned la_version(unsigned version) { return version; }
