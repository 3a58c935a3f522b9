/*
 * hide_avx512.so: makes a process (and every library in it) see a CPU without AVX-512, so the bench can time ONNX
 * Runtime's, libtorch's and .NET's AVX2 code paths on an AVX-512 machine. Loaded with LD_PRELOAD; needs a CPU and
 * kernel with CPUID faulting ("cpuid_fault" in /proc/cpuinfo). Each CPUID instruction then traps; the handler runs the
 * real CPUID with faulting briefly off, clears the AVX-512 feature bits of leaf 7 and steps over the instruction.
 * Threads inherit the faulting flag. Runtimes install their own SIGSEGV handlers (.NET's does not pass this fault on),
 * so sigaction() is wrapped: a SIGSEGV handler installed later is kept as the one this handler passes every other fault
 * to, with the flags and mask it asked for.
 * Speeds only: the instructions stay available, so a program that uses AVX-512 without asking CPUID still can.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <asm/prctl.h>
#include <cpuid.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

typedef int (*sigaction_fn)(int, const struct sigaction *, struct sigaction *);
static sigaction_fn real_sigaction;
static struct sigaction next_action;             /* the handler the program installed (SIG_DFL until then) */

static int set_faulting(int on) { return (int)syscall(SYS_arch_prctl, ARCH_SET_CPUID, on ? 0 : 1); }

static void on_segv(int sig, siginfo_t *info, void *context)
{
    ucontext_t *uc = context;
    greg_t *r = uc->uc_mcontext.gregs;
    const unsigned char *ip = (const unsigned char *)r[REG_RIP];
    if (ip[0] != 0x0f || ip[1] != 0xa2) {            /* not CPUID: the program's own handler, or a crash */
        if (next_action.sa_flags & SA_SIGINFO) { next_action.sa_sigaction(sig, info, context); return; }
        if (next_action.sa_handler != SIG_DFL && next_action.sa_handler != SIG_IGN) { next_action.sa_handler(sig); return; }
        struct sigaction dfl;
        memset(&dfl, 0, sizeof dfl);
        dfl.sa_handler = SIG_DFL;
        real_sigaction(sig, &dfl, NULL);
        return;
    }
    unsigned leaf = (unsigned)r[REG_RAX], sub = (unsigned)r[REG_RCX], a, b, c, d;
    set_faulting(0);
    __cpuid_count(leaf, sub, a, b, c, d);
    set_faulting(1);
    if (leaf == 7 && sub == 0) {
        b &= ~((1u << 16) | (1u << 17) | (1u << 21) | (1u << 26) | (1u << 27) | (1u << 28) | (1u << 30) | (1u << 31));
        c &= ~((1u << 1) | (1u << 6) | (1u << 11) | (1u << 12) | (1u << 14));  /* VBMI, VBMI2, VNNI, BITALG, VPOPCNTDQ */
        d &= ~((1u << 2) | (1u << 3) | (1u << 8) | (1u << 23));                /* 4VNNIW, 4FMAPS, VP2INTERSECT, FP16 */
    }
    if (leaf == 7 && sub == 1) a &= ~(1u << 5);                                /* AVX512_BF16 */
    if (leaf == 0x24) a = b = c = d = 0;                                       /* AVX10 */
    r[REG_RAX] = a; r[REG_RBX] = b; r[REG_RCX] = c; r[REG_RDX] = d;
    r[REG_RIP] += 2;
}

/* SIGSEGV stays ours: a handler the program installs becomes the one faults other than CPUID go to. */
int sigaction(int sig, const struct sigaction *act, struct sigaction *old)
{
    if (!real_sigaction) real_sigaction = (sigaction_fn)dlsym(RTLD_NEXT, "sigaction");
    if (sig != SIGSEGV) return real_sigaction(sig, act, old);
    if (old) *old = next_action;
    if (act) {
        next_action = *act;
        struct sigaction ours = *act;                 /* its flags (alternate stack) and mask, our handler */
        ours.sa_flags |= SA_SIGINFO | SA_NODEFER;
        ours.sa_sigaction = on_segv;
        return real_sigaction(SIGSEGV, &ours, NULL);
    }
    return 0;
}

__attribute__((constructor)) static void hide_avx512(void)
{
    real_sigaction = (sigaction_fn)dlsym(RTLD_NEXT, "sigaction");
    next_action.sa_handler = SIG_DFL;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_segv;
    sa.sa_flags = SA_SIGINFO | SA_NODEFER;
    sigemptyset(&sa.sa_mask);
    if (real_sigaction(SIGSEGV, &sa, NULL) != 0 || set_faulting(1) != 0) {
        fprintf(stderr, "hide_avx512: CPUID faulting is not available here (no cpuid_fault in /proc/cpuinfo?)\n");
        exit(2);
    }
}
