#pragma once
// oneDNN's C API (Debian libdnnl-dev 2.6: headers in /usr/include/oneapi/dnnl, no pkg-config file).
#include <oneapi/dnnl/dnnl.h>

// Debian builds oneDNN with the OpenMP runtime (DNNL_CPU_RUNTIME = OMP, libgomp) and oneDNN 2.6 has no call that sets
// its thread count: OpenMP's own does, per calling thread. Declared here rather than by including <omp.h>, which
// lives in GCC's private include directory, not on clang's path.
void omp_set_num_threads(int count);
int omp_get_max_threads(void);
