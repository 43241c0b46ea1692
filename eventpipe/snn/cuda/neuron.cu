// Fused multi-step IF / LIF / parametric-LIF neurons: the forward pass over T and its backward pass
// through time (BPTT), for eventpipe.snn (compiled at run time with NVRTC through CuPy).
//
// Layout: every sequence buffer is [T, N] flattened, so element (t, i) is at t * numel + i. One thread owns
// neuron i and loops over the T steps; at each step the threads of a warp touch consecutive addresses.
//
// Numerics (identical to the torch backend in eventpipe/snn/fused.py, operation by operation, so float32
// spikes match bit for bit; compile with --fmad=false so no multiply-add is contracted):
//   charge   IF:                  H = V + X
//            LIF, decay_input:    H = V + (X - (V - Vr)) * k
//            LIF, no decay_input: H = (V - (V - Vr) * k) + X
//   fire     S = (H - Vth >= 0)
//   reset    hard: V = S ? Vr : H        soft: V = H - S * Vth      (Vr counts as 0 for a soft reset)
// with k = 1 / tau (LIF) or sigmoid(w) read from device memory (PLIF). Arithmetic is float32 for every storage
// type; H is rounded to the storage type once per step and the spike and reset use the rounded value, which
// is what h_seq keeps, so the backward pass recomputes exactly the forward spikes from h_seq alone.
//
// Backward, per neuron, from t = T-1 down to 0 (g = surrogate'(H - Vth)):
//   dL/dV[t] = dL/dv_seq[t] + dL/dH[t+1] * dH/dV           (dL/dv_last at t = T-1)
//   dL/dH[t] = dL/dS[t] * g + dL/dV[t] * dV/dH[t]
//       dV/dH  hard: (1 - S) + (Vr - H) * g     soft: 1 - Vth * g     (detach_reset drops the g terms)
//   dL/dX[t] = dL/dH[t] * dH/dX       dH/dX = k (LIF/PLIF with decay_input) else 1
//   dH/dV    = 1 - k (LIF/PLIF) or 1 (IF);   dL/dv_init = dL/dH[0] * dH/dV
//   PLIF:    dL/dk = sum over t and i of dL/dH[t] * dH/dk, reduced per block and added atomically, with
//            dH/dk = (H - V[t-1]) / k (decay_input) or Vr - V[t-1].

// ---------------------------------------------------------------------------------------------------------
// Storage types. 16-bit floats travel as raw bits and are converted with PTX, so no CUDA header is needed.

struct f16 {
    unsigned short bits;
};

struct bf16 {
    unsigned short bits;
};

__device__ __forceinline__ float to_float(float v) { return v; }

__device__ __forceinline__ float to_float(f16 v) {
    float f;
    asm("cvt.f32.f16 %0, %1;" : "=f"(f) : "h"(v.bits));
    return f;
}

__device__ __forceinline__ float to_float(bf16 v) {
    return __uint_as_float(((unsigned int)v.bits) << 16);
}

template <typename T>
__device__ __forceinline__ T from_float(float f);

template <>
__device__ __forceinline__ float from_float<float>(float f) { return f; }

template <>
__device__ __forceinline__ f16 from_float<f16>(float f) {
    f16 r;
    asm("cvt.rn.f16.f32 %0, %1;" : "=h"(r.bits) : "f"(f));  // round to nearest, ties to even
    return r;
}

template <>
__device__ __forceinline__ bf16 from_float<bf16>(float f) {
    bf16 r;
    unsigned int u = __float_as_uint(f);
    if ((u & 0x7fffffffu) > 0x7f800000u) {  // NaN: keep it a quiet NaN
        r.bits = 0x7fc0;
        return r;
    }
    u += 0x7fffu + ((u >> 16) & 1u);  // round to nearest, ties to even
    r.bits = (unsigned short)(u >> 16);
    return r;
}

// ---------------------------------------------------------------------------------------------------------
// Neuron kinds and surrogate gradients (codes shared with eventpipe/snn/cuda/backend.py and surrogate.py).

#define KIND_IF 0
#define KIND_LIF 1
#define KIND_PLIF 2

#define SG_SIGMOID 0
#define SG_ATAN 1
#define SG_PIECEWISE_QUADRATIC 2
#define SG_SOFT_SIGN 3
#define SG_ERF 4
#define SG_PIECEWISE_EXP 5

template <int SG>
__device__ __forceinline__ float surrogate_grad(float x, float alpha) {
    if (SG == SG_SIGMOID) {
        const float sg = 1.0f / (1.0f + expf(-alpha * x));
        return alpha * sg * (1.0f - sg);
    } else if (SG == SG_ATAN) {
        const float z = 1.57079632679489662f * alpha * x;  // pi / 2 * alpha * x
        return 0.5f * alpha / (1.0f + z * z);
    } else if (SG == SG_PIECEWISE_QUADRATIC) {
        const float ax = fabsf(x);
        return ax > 1.0f / alpha ? 0.0f : alpha - alpha * alpha * ax;
    } else if (SG == SG_SOFT_SIGN) {
        const float d = 1.0f / alpha + fabsf(x);
        return 1.0f / (2.0f * alpha * d * d);
    } else if (SG == SG_ERF) {
        const float z = alpha * x;
        return expf(-z * z) * alpha * 0.56418958354775628f;  // 1 / sqrt(pi)
    } else {  // SG_PIECEWISE_EXP
        return 0.5f * alpha * expf(-alpha * fabsf(x));
    }
}

template <int KIND, bool DECAY_INPUT>
__device__ __forceinline__ float charge(float x, float v, float k, float v_reset) {
    if (KIND == KIND_IF) {
        return v + x;
    } else if (DECAY_INPUT) {
        return v + (x - (v - v_reset)) * k;
    } else {
        return (v - (v - v_reset) * k) + x;
    }
}

template <bool HARD_RESET>
__device__ __forceinline__ float reset(float h, float s, float v_threshold, float v_reset) {
    return HARD_RESET ? (s != 0.0f ? v_reset : h) : h - s * v_threshold;
}

// Sum `value` over the block and add the total to *out. Every thread of the block must call it.
__device__ __forceinline__ void block_sum_atomic_add(float value, float* out) {
    __shared__ float warp_sums[32];
    for (int offset = 16; offset > 0; offset >>= 1) {
        value += __shfl_down_sync(0xffffffffu, value, offset);
    }
    const int lane = threadIdx.x & 31;
    const int warp = threadIdx.x >> 5;
    if (lane == 0) {
        warp_sums[warp] = value;
    }
    __syncthreads();
    if (warp == 0) {
        const int warps = (blockDim.x + 31) >> 5;
        value = lane < warps ? warp_sums[lane] : 0.0f;
        for (int offset = 16; offset > 0; offset >>= 1) {
            value += __shfl_down_sync(0xffffffffu, value, offset);
        }
        if (lane == 0) {
            atomicAdd(out, value);
        }
    }
}

// ---------------------------------------------------------------------------------------------------------
// Forward. v_init and v_seq may be null (start from rest; do not store the potential after each reset).
// decay is k for LIF; PLIF reads k from decay_ptr[0]. For a soft reset pass v_reset = 0.

template <typename T, int KIND, bool HARD_RESET, bool DECAY_INPUT>
__global__ void neuron_forward(const T* __restrict__ x_seq, const T* __restrict__ v_init, T* __restrict__ h_seq,
                               T* __restrict__ s_seq, T* __restrict__ v_seq, T* __restrict__ v_last,
                               const float* __restrict__ decay_ptr, const float decay, const float v_threshold,
                               const float v_reset, const int steps, const long long numel) {
    const long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= numel) {
        return;
    }
    const float k = KIND == KIND_PLIF ? decay_ptr[0] : decay;
    float v = v_init != nullptr ? to_float(v_init[i]) : v_reset;
    for (int t = 0; t < steps; ++t) {
        const long long j = (long long)t * numel + i;
        const T h_stored = from_float<T>(charge<KIND, DECAY_INPUT>(to_float(x_seq[j]), v, k, v_reset));
        h_seq[j] = h_stored;
        const float h = to_float(h_stored);
        const float s = (h - v_threshold >= 0.0f) ? 1.0f : 0.0f;
        s_seq[j] = from_float<T>(s);
        v = reset<HARD_RESET>(h, s, v_threshold, v_reset);
        if (v_seq != nullptr) {
            v_seq[j] = from_float<T>(v);
        }
    }
    v_last[i] = from_float<T>(v);
}

// ---------------------------------------------------------------------------------------------------------
// Backward. grad_v_seq, grad_v_last, v_init and grad_v_init may be null; grad_s_seq may be null too (no
// gradient reached the spikes). grad_decay (PLIF only) must be zeroed by the caller and holds dL/dk.

template <typename T, int KIND, bool HARD_RESET, bool DECAY_INPUT, bool DETACH_RESET, int SG>
__global__ void neuron_backward(const T* __restrict__ grad_s_seq, const T* __restrict__ grad_v_seq,
                                const T* __restrict__ grad_v_last, const T* __restrict__ h_seq,
                                const T* __restrict__ v_init, T* __restrict__ grad_x_seq,
                                T* __restrict__ grad_v_init, float* __restrict__ grad_decay,
                                const float* __restrict__ decay_ptr, const float decay, const float v_threshold,
                                const float v_reset, const float alpha, const int steps, const long long numel) {
    const long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    float grad_k = 0.0f;  // this thread's share of dL/dk (PLIF)
    if (i < numel && steps > 0) {
        const float k = KIND == KIND_PLIF ? decay_ptr[0] : decay;
        const float dh_dv = KIND == KIND_IF ? 1.0f : 1.0f - k;
        const float dh_dx = (KIND != KIND_IF && DECAY_INPUT) ? k : 1.0f;
        float grad_v = grad_v_last != nullptr ? to_float(grad_v_last[i]) : 0.0f;
        float grad_h = 0.0f;
        long long j = (long long)(steps - 1) * numel + i;
        float h = to_float(h_seq[j]);
        for (int t = steps - 1; t >= 0; --t, j -= numel) {
            // the charge of step t - 1 (its reset gives V[t-1] for PLIF); loaded once, reused next iteration
            const float h_prev = t > 0 ? to_float(h_seq[j - numel]) : 0.0f;
            const float u = h - v_threshold;
            const float s = u >= 0.0f ? 1.0f : 0.0f;
            const float g = surrogate_grad<SG>(u, alpha);
            if (grad_v_seq != nullptr) {
                grad_v += to_float(grad_v_seq[j]);
            }
            float dv_dh;
            if (HARD_RESET) {
                dv_dh = DETACH_RESET ? 1.0f - s : (1.0f - s) + (v_reset - h) * g;
            } else {
                dv_dh = DETACH_RESET ? 1.0f : 1.0f - v_threshold * g;
            }
            const float grad_s = grad_s_seq != nullptr ? to_float(grad_s_seq[j]) : 0.0f;
            grad_h = grad_s * g + grad_v * dv_dh;
            grad_x_seq[j] = from_float<T>(grad_h * dh_dx);
            if (KIND == KIND_PLIF) {
                float v_before;
                if (t > 0) {
                    const float s_prev = h_prev - v_threshold >= 0.0f ? 1.0f : 0.0f;
                    v_before = reset<HARD_RESET>(h_prev, s_prev, v_threshold, v_reset);
                } else {
                    v_before = v_init != nullptr ? to_float(v_init[i]) : v_reset;
                }
                grad_k += grad_h * (DECAY_INPUT ? (h - v_before) / k : v_reset - v_before);
            }
            grad_v = grad_h * dh_dv;
            h = h_prev;
        }
        if (grad_v_init != nullptr) {
            grad_v_init[i] = from_float<T>(grad_v);
        }
    }
    if (KIND == KIND_PLIF) {
        block_sum_atomic_add(grad_k, grad_decay);
    }
}
