// What the x86-64 CPU offers, read with CPUID and XGETBV (the OS must save the wider registers for a feature to count).
// Swift cannot issue CPUID itself; this is the one C file that does. On other architectures every flag is 0.
#ifndef VOXENC_CPU_H
#define VOXENC_CPU_H

typedef struct voxenc_cpu {
    char vendor[13];          // "GenuineIntel", "AuthenticAMD", …
    char brand[49];           // "Intel(R) Xeon(R) Platinum 8581C CPU @ 2.10GHz", "AMD EPYC 9B14", …
    int family, model;        // display family and model (extended fields folded in)
    int sse3, avx, fma, avx2;
    int avx512f, avx512bw, avx512dq, avx512vl, avx512_vnni, avx512_bf16, avx_vnni;
    int amx_tile, amx_bf16, amx_int8;
} voxenc_cpu;

/// Fills `out` (never fails; unknown fields stay 0).
void voxenc_cpu_detect(voxenc_cpu *out);

/// The calling thread's thread budget (Parallel.withThreads): a plain thread-local, so that binding it allocates
/// nothing (the encoder's layer loop enters parallel loops hundreds of times). 0 on a thread that never set it.
int voxenc_thread_budget(void);
void voxenc_set_thread_budget(int threads);

#endif
