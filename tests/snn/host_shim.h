// Compiles eventpipe/snn/cuda/neuron.cu as plain host C++ so its kernels can be run on the CPU and compared
// with the torch backend where no GPU is present.
//
// Launches: host_launch(blocks, threads, kernel) runs the blocks one after another and the threads of a block
// as std::threads, so __syncthreads, __shared__ memory, warp shuffles and atomicAdd behave as on a GPU (one
// block at a time, which is all the kernels assume). With one thread per block no thread is started.
//
// 16-bit floats: the two PTX conversions of neuron.cu (cvt.f32.f16 and cvt.rn.f16.f32) are emulated in
// host_half_to_float / host_float_to_half (round to nearest, ties to even; subnormals; overflow to inf;
// NaN stays NaN). bfloat16 needs no emulation: neuron.cu converts it in plain C++.
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#define __global__
#define __device__
#define __forceinline__ inline
#define __restrict__
#define __shared__ static

struct HostIndex {
    long long x;
};
static thread_local HostIndex blockIdx, threadIdx;
static HostIndex blockDim;

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

// ---------------------------------------------------------------------------------------------------------
// IEEE binary16 <-> float32.

static inline unsigned short host_float_to_half(float f) {
    const unsigned int u = __float_as_uint(f);
    const unsigned short sign = (unsigned short)((u >> 16) & 0x8000u);
    const unsigned int a = u & 0x7fffffffu;
    if (a > 0x7f800000u) {  // NaN: quiet, top payload bits kept
        return (unsigned short)(sign | 0x7e00u | ((a >> 13) & 0x3ffu));
    }
    if (a >= 0x477ff000u) {  // >= 65520 (halfway above the largest half, 65504): inf
        return (unsigned short)(sign | 0x7c00u);
    }
    if (a < 0x38800000u) {  // below 2^-14: a multiple of 2^-24 (scaling by 2^24 is exact; rintf ties to even)
        return (unsigned short)(sign | (unsigned int)rintf(__uint_as_float(a) * 16777216.0f));
    }
    const unsigned int rounded = a + 0xfffu + ((a >> 13) & 1u);  // ties to even on the 13 dropped bits
    return (unsigned short)(sign | ((rounded - 0x38000000u) >> 13));  // exponent bias 127 -> 15
}

static inline float host_half_to_float(unsigned short h) {
    const unsigned int sign = ((unsigned int)h & 0x8000u) << 16;
    const unsigned int exponent = ((unsigned int)h >> 10) & 0x1fu;
    const unsigned int mantissa = (unsigned int)h & 0x3ffu;
    if (exponent == 0) {  // zero or subnormal: mantissa * 2^-24, exact in float32
        return __uint_as_float(sign | __float_as_uint((float)mantissa * 5.9604644775390625e-8f));
    }
    if (exponent == 31) {  // inf or NaN
        return __uint_as_float(sign | 0x7f800000u | (mantissa << 13));
    }
    return __uint_as_float(sign | ((exponent + 112u) << 23) | (mantissa << 13));
}

// neuron.cu writes `asm("cvt..." : "=f"(f) : "h"(v.bits))` in to_float(f16 v) and
// `asm("cvt.rn..." : "=h"(r.bits) : "f"(f))` in from_float<f16>(float f). The macro hands f, v and r to
// host_ptx; where one of v / r is not a local of the function it names the dummy below, and overload
// resolution picks the direction. Any other inline PTX aborts.
struct HostNoOperand {};
static HostNoOperand v, r;

static inline void host_check_ptx(const char* text, const char* expected) {
    if (strstr(text, expected) == nullptr) {
        abort();
    }
}
template <typename Half>
static inline void host_ptx(const char* text, float& f, const Half& v, HostNoOperand&) {
    host_check_ptx(text, "\"cvt.f32.f16 %0, %1;\"");
    f = host_half_to_float(v.bits);
}
template <typename Half>
static inline void host_ptx(const char* text, const float& f, HostNoOperand&, Half& r) {
    host_check_ptx(text, "\"cvt.rn.f16.f32 %0, %1;\"");
    r.bits = host_float_to_half(f);
}
#define asm(...) host_ptx(#__VA_ARGS__, f, v, r)

// ---------------------------------------------------------------------------------------------------------
// Barriers, warp shuffles and atomics for the threads of one block.

class HostBarrier {
  public:
    void reset(int count) { count_ = count; waiting_ = 0; generation_ = 0; }
    void wait() {
        std::unique_lock<std::mutex> lock(mutex_);
        const unsigned long long generation = generation_;
        if (++waiting_ == count_) {
            waiting_ = 0;
            ++generation_;
            cv_.notify_all();
        } else {
            cv_.wait(lock, [&] { return generation_ != generation; });
        }
    }

  private:
    std::mutex mutex_;
    std::condition_variable cv_;
    int count_ = 0, waiting_ = 0;
    unsigned long long generation_ = 0;
};

static HostBarrier host_block_barrier;
static HostBarrier host_warp_barriers[32];  // up to 1024 threads
static float host_shuffle_slots[1024];
static std::mutex host_atomic_mutex;

static inline void __syncthreads() {
    if (blockDim.x > 1) {
        host_block_barrier.wait();
    }
}

// Lanes past the end of the warp return the caller's value (as on a GPU); lanes past blockDim.x, which only
// a block smaller than a warp has, read as 0.
static inline float __shfl_down_sync(unsigned int, float value, int offset) {
    const int thread = (int)threadIdx.x, lane = thread & 31, warp = thread >> 5;
    if (blockDim.x == 1) {
        return 0.0f;
    }
    host_shuffle_slots[thread] = value;
    host_warp_barriers[warp].wait();
    float out = value;
    if (lane + offset < 32) {
        out = thread + offset < blockDim.x ? host_shuffle_slots[thread + offset] : 0.0f;
    }
    host_warp_barriers[warp].wait();
    return out;
}

static inline float atomicAdd(float* address, float value) {
    std::lock_guard<std::mutex> lock(host_atomic_mutex);
    const float old = *address;
    *address = old + value;
    return old;
}

// Run `body(context)` as `blocks` blocks of `threads` threads (at most 1024). Not a template, so std::thread is
// compiled once however many kernel instances a build launches.
static void host_launch_blocks(long long blocks, int threads, void (*body)(void*), void* context) {
    blockDim.x = threads;
    host_block_barrier.reset(threads);
    for (int w = 0; w < (threads + 31) / 32; ++w) {
        host_warp_barriers[w].reset(threads - 32 * w < 32 ? threads - 32 * w : 32);
    }
    for (long long b = 0; b < blocks; ++b) {
        if (threads == 1) {
            blockIdx.x = b;
            threadIdx.x = 0;
            body(context);
            continue;
        }
        std::vector<std::thread> pool;
        for (int t = 0; t < threads; ++t) {
            pool.emplace_back([=] {
                blockIdx.x = b;
                threadIdx.x = t;
                body(context);
            });
        }
        for (std::thread& thread : pool) {
            thread.join();
        }
    }
}

// Run `kernel()` as `blocks` blocks of `threads` threads (at most 1024).
template <typename Kernel>
static void host_launch(long long blocks, int threads, Kernel kernel) {
    host_launch_blocks(blocks, threads, [](void* k) { (*static_cast<Kernel*>(k))(); }, &kernel);
}
