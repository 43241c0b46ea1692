"""The host shim that runs neuron.cu on the CPU, checked against known values.

test_cuda_kernels_host.py trusts the shim's 16-bit conversions and its block of threads (barriers, warp
shuffles, shared memory, atomics); here they meet NumPy's float16, torch's bfloat16 and a plain sum. The
entry points call the functions of neuron.cu itself (``to_float``, ``from_float``, ``block_sum_atomic_add``).
"""

from __future__ import annotations

import ctypes
import subprocess
from pathlib import Path

import numpy as np
import pytest
import torch

SHIM = Path(__file__).with_name("host_shim.h")

ENTRY_POINTS = """
extern "C" void f16_from_float(const float* in, unsigned short* out, long long n) {
    for (long long i = 0; i < n; ++i) out[i] = from_float<f16>(in[i]).bits;
}
extern "C" void f16_to_float(const unsigned short* in, float* out, long long n) {
    for (long long i = 0; i < n; ++i) out[i] = to_float(f16{in[i]});
}
extern "C" void bf16_from_float(const float* in, unsigned short* out, long long n) {
    for (long long i = 0; i < n; ++i) out[i] = from_float<bf16>(in[i]).bits;
}
extern "C" void bf16_to_float(const unsigned short* in, float* out, long long n) {
    for (long long i = 0; i < n; ++i) out[i] = to_float(bf16{in[i]});
}
// values[b * threads + t] is thread t of block b; every thread of every block calls the reduction
extern "C" float block_sum(const float* values, long long blocks, int threads) {
    float total = 0.0f;
    host_launch(blocks, threads, [&] {
        block_sum_atomic_add(values[blockIdx.x * blockDim.x + threadIdx.x], &total);
    });
    return total;
}
"""


@pytest.fixture(scope="module")
def shim(tmp_path_factory: pytest.TempPathFactory, cxx: str, neuron_cu: Path) -> ctypes.CDLL:
    folder = tmp_path_factory.mktemp("host_shim")
    (folder / "entry.cpp").write_text(f'#include "{SHIM}"\n#include "{neuron_cu}"\n{ENTRY_POINTS}')
    library = folder / "libshim.so"
    result = subprocess.run(
        [cxx, "-x", "c++", "-std=c++14", "-O1", "-ffp-contract=off", "-w", "-shared", "-fPIC", "-pthread",
         str(folder / "entry.cpp"), "-o", str(library)],
        capture_output=True, text=True, timeout=240,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-4000:]
    lib = ctypes.CDLL(str(library))
    lib.block_sum.restype = ctypes.c_float
    return lib


def _call(lib: ctypes.CDLL, name: str, values: np.ndarray, out_dtype: type) -> np.ndarray:
    values = np.ascontiguousarray(values)
    out = np.empty(values.shape, dtype=out_dtype)
    getattr(lib, name)(
        ctypes.c_void_p(values.ctypes.data), ctypes.c_void_p(out.ctypes.data), ctypes.c_longlong(values.size)
    )
    return out


def _probe_floats() -> np.ndarray:
    """Hand-picked float32 values: ties, subnormal edges, overflow, signed zero, inf and NaN."""
    hand = [0.0, -0.0, 1.0, -1.0, 1 + 2**-11, 1 + 3 * 2**-11, 1 + 2**-11 + 2**-23, 65504.0, 65519.99,
            65520.0, -65520.0, 1e6, 2**-14, 2**-14 - 2**-25, 2**-24, 2**-25, 2**-25 + 2**-40, 1.5 * 2**-24,
            2.5 * 2**-24, 3 * 2**-25, 2**-30, 2**-149, 3.4e38, float("inf"), float("-inf"), float("nan"),
            -float("nan"), 0.1, 1 / 3, np.pi]  # fmt: skip
    floats = np.array(hand, dtype=np.float32)
    # every half value, the midpoints between neighbours (ties) and the floats either side of each midpoint
    halves = np.arange(1 << 16, dtype=np.uint16).view(np.float16).astype(np.float32)
    finite = np.sort(halves[np.isfinite(halves)])
    mid = ((finite[:-1].astype(np.float64) + finite[1:]) / 2).astype(np.float32)
    beside = np.concatenate([np.nextafter(mid, np.float32(np.inf)), np.nextafter(mid, np.float32(-np.inf))])
    # and random bit patterns over the whole float32 range
    random = np.random.default_rng(0).integers(0, 1 << 32, 200_000, dtype=np.uint32).view(np.float32)
    return np.concatenate([floats, halves, mid, beside, random])


def _same_bits(got: np.ndarray, want: np.ndarray, inputs: np.ndarray) -> None:
    """``got`` (half bits) equals ``want`` (float16) bit for bit, except that any NaN matches any NaN."""
    nan = np.isnan(want)
    assert np.array_equal(np.isnan(got.view(np.float16)), nan), inputs[np.isnan(got.view(np.float16)) != nan][
        :5
    ]
    bad = (got != want.view(np.uint16)) & ~nan
    assert not bad.any(), f"{inputs[bad][:5]!r} -> {got[bad][:5]!r}, want {want.view(np.uint16)[bad][:5]!r}"


def test_float_to_half_matches_numpy(shim: ctypes.CDLL) -> None:
    values = _probe_floats()
    with np.errstate(over="ignore", invalid="ignore"):
        want = values.astype(np.float16)
    _same_bits(_call(shim, "f16_from_float", values, np.uint16), want, values)


def test_half_to_float_matches_numpy(shim: ctypes.CDLL) -> None:
    bits = np.arange(1 << 16, dtype=np.uint16)
    got = _call(shim, "f16_to_float", bits, np.float32)
    want = bits.view(np.float16).astype(np.float32)
    nan = np.isnan(want)
    assert np.array_equal(np.isnan(got), nan)
    assert np.array_equal(got[~nan].view(np.uint32), want[~nan].view(np.uint32))  # -0.0 and subnormals too


def test_float_to_bfloat16_matches_torch(shim: ctypes.CDLL) -> None:
    values = _probe_floats()
    values = np.concatenate([values, (np.arange(1 << 16, dtype=np.uint32) << 16).view(np.float32)])
    # ties: the float halfway between neighbouring bfloat16 values, and one ulp either side of it
    tie = (np.random.default_rng(1).integers(0, 1 << 16, 20_000, dtype=np.uint32) << 16) | 0x8000
    values = np.concatenate(
        [values, tie.view(np.float32), (tie + 1).view(np.float32), (tie - 1).view(np.float32)]
    )
    want = torch.from_numpy(values).to(torch.bfloat16).view(torch.int16).numpy().view(np.uint16)
    got = _call(shim, "bf16_from_float", values, np.uint16)
    as_float = (want.astype(np.uint32) << 16).view(np.float32)
    nan = np.isnan(as_float)
    assert np.array_equal(np.isnan((got.astype(np.uint32) << 16).view(np.float32)), nan)
    bad = (got != want) & ~nan
    assert not bad.any(), f"{values[bad][:5]!r} -> {got[bad][:5]!r}, want {want[bad][:5]!r}"


def test_bfloat16_to_float_matches_torch(shim: ctypes.CDLL) -> None:
    bits = np.arange(1 << 16, dtype=np.uint16)
    got = _call(shim, "bf16_to_float", bits, np.float32)
    want = torch.from_numpy(bits.view(np.int16)).view(torch.bfloat16).float().numpy()
    nan = np.isnan(want)
    assert np.array_equal(np.isnan(got), nan)
    assert np.array_equal(got[~nan].view(np.uint32), want[~nan].view(np.uint32))


@pytest.mark.parametrize(
    ("blocks", "threads"), [(3, 1), (1, 8), (1, 32), (2, 64), (1, 96), (3, 256), (1, 1024)]
)
def test_block_sum_matches_plain_sum(shim: ctypes.CDLL, blocks: int, threads: int) -> None:
    """Integers sum exactly in any order; random values within float32 rounding of the float64 sum."""
    rng = np.random.default_rng(threads)
    ints = rng.integers(-1000, 1000, blocks * threads).astype(np.float32)
    assert shim.block_sum(ctypes.c_void_p(ints.ctypes.data), ctypes.c_longlong(blocks), threads) == ints.sum()
    values = rng.standard_normal(blocks * threads).astype(np.float32)
    got = shim.block_sum(ctypes.c_void_p(values.ctypes.data), ctypes.c_longlong(blocks), threads)
    assert got == pytest.approx(values.astype(np.float64).sum(), rel=1e-5, abs=1e-4)
