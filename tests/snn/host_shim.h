// Compiles eventpipe/snn/cuda/neuron.cu as plain host C++ so its float32 kernels can be run on the CPU and
// compared with the torch backend where no GPU is present. A "block" is one thread: the test driver loops
// over blockIdx.x, so the block reduction sees a single value and warp shuffles contribute nothing.
// 16-bit conversions (inline PTX) are compiled out; only float32 instances are run on the host.
#include <math.h>
#include <string.h>

#define __global__
#define __device__
#define __forceinline__ inline
#define __restrict__
#define __shared__ static
#define asm(...) ((void)0)

struct HostIndex {
    long long x;
};
static HostIndex blockIdx, threadIdx, blockDim;

static inline float __uint_as_float(unsigned int u) {
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}
static inline unsigned int __float_as_uint(float f) {
    unsigned int u;
    memcpy(&u, &f, sizeof u);
    return u;
}
static inline float __shfl_down_sync(unsigned int, float, int) { return 0.0f; }
static inline void __syncthreads() {}
static inline float atomicAdd(float* address, float value) {
    const float old = *address;
    *address = old + value;
    return old;
}
