"""The CUDA kernels run on the CPU: neuron.cu compiled as host C++ and compared with the torch backend.

Without a GPU this is what checks the kernel arithmetic and the autograd function of the cupy backend
(argument order and types against the kernel signatures, null pointers, gradient plumbing): every template
instance the backend can launch (:func:`eventpipe.snn.cuda.backend.kernel_names`, all neurons, resets,
``decay_input``, ``detach_reset``, surrogates and storage dtypes) runs forward and backward over several
blocks of threads, PLIF's dL/dk reduced over each block; float32 spikes, ``h`` and potentials are bit-exact
and gradients within the torch backend tests' tolerance. Only the launch itself is replaced by a call into the
host build of the package's own neuron.cu (host_shim.h, itself checked by test_host_shim.py), compiled once
per module. test_cupy_backend.py repeats the comparison on a GPU with CuPy.
"""

from __future__ import annotations

import ctypes
import itertools
import re
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from amp_recipe import amp_step, check_amp

from eventpipe.snn import surrogate as sg
from eventpipe.snn.cuda import backend as cuda_backend
from eventpipe.snn.dynamics import NEURON_KINDS, NeuronSpec
from eventpipe.snn.fused import fused_multistep
from eventpipe.snn.kernel_io import run_kernels

SHIM = Path(__file__).with_name("host_shim.h")

SPECS = [
    NeuronSpec(
        kind=kind, tau=3.0, decay_input=decay, v_reset=v_reset, detach_reset=detach, surrogate=surrogate
    )
    for kind, decay, v_reset, detach, surrogate in itertools.product(
        ("if", "lif", "plif"), (True, False), (0.0, None, -0.25), (False, True), (sg.Sigmoid(), sg.ATan())
    )
    if not (kind == "if" and not decay)
] + [
    NeuronSpec(kind="lif", surrogate=surrogate)
    for surrogate in (sg.PiecewiseQuadratic(), sg.SoftSign(), sg.Erf(), sg.PiecewiseExp())
]

# the 16-bit instances: each kind with a hard, a soft and a nonzero-rest reset, decay_input both ways,
# detach_reset and two surrogates
HALF_SPECS = [
    NeuronSpec(kind="if", v_reset=0.0),
    NeuronSpec(kind="if", v_reset=None, detach_reset=True, surrogate=sg.ATan()),
    NeuronSpec(kind="lif", tau=3.0, v_reset=-0.25),
    NeuronSpec(kind="lif", tau=3.0, decay_input=False, v_reset=None, surrogate=sg.ATan()),
    NeuronSpec(kind="plif", v_reset=0.0, detach_reset=True),
    NeuronSpec(kind="plif", decay_input=False, v_reset=-0.25, surrogate=sg.ATan()),
    NeuronSpec(kind="plif", v_reset=None, surrogate=sg.ATan()),
]
HALF_DTYPES = {"f16": torch.float16, "bf16": torch.bfloat16}

# kernel parameter type -> (numpy type the backend must pass, ctypes type for the host call)
_ARG_TYPES = {"ptr": (np.uint64, ctypes.c_void_p), "float": (np.float32, ctypes.c_float),
              "int": (np.int32, ctypes.c_int), "long long": (np.int64, ctypes.c_longlong)}  # fmt: skip


def _spec_id(spec: NeuronSpec) -> str:
    return f"{spec.kind}-{spec.v_reset}-{spec.decay_input}-{spec.detach_reset}-{spec.surrogate.name}"


def _names(spec: NeuronSpec, dtype: str = "float") -> tuple[str, str]:
    fwd = cuda_backend.forward_kernel_name(dtype, spec.kind, spec.hard_reset, spec.decay_input)
    code = spec.surrogate.cuda_code
    bwd = cuda_backend.backward_kernel_name(
        dtype, spec.kind, spec.hard_reset, spec.decay_input, spec.detach_reset, code
    )
    return fwd, bwd


def _signatures(source: str) -> dict[str, list[tuple[str, str, str]]]:
    """``{kernel: [(kind, C declaration in terms of T, name), ...]}`` parsed from the .cu source."""
    out = {}
    for kernel, params in re.findall(r"__global__ void (\w+)\(([^)]*)\)", source):
        parsed = []
        for param in params.split(","):
            decl = " ".join(param.replace("__restrict__", "").split())
            name = decl.split()[-1]
            ctype = decl[: -len(name)].strip()
            kind = "ptr" if "*" in ctype else ctype.replace("const", "").strip()
            parsed.append((kind, ctype, name))
        out[kernel] = parsed
    return out


class HostKernels:
    """The kernel instances ``names`` built for the CPU, launched with backend-style arguments."""

    def __init__(self, names: list[str], folder: Path, cxx: str, neuron_cu: Path) -> None:
        self.signatures = _signatures(neuron_cu.read_text(encoding="utf-8"))
        lines = [f'#include "{SHIM}"', f'#include "{neuron_cu}"']
        for name in names:
            params = self.signatures[name.split("<")[0]]
            storage = name.split("<")[1].split(",")[0].strip()
            decls = ", ".join(f"{ctype} {pname}" for _, ctype, pname in params)
            decls = re.sub(r"\bT\b", storage, decls)
            call = ", ".join(pname for _, _, pname in params)
            lines.append(
                f'extern "C" void {self.symbol(name)}(int threads, {decls}) {{\n'
                f"    host_launch((numel + threads - 1) / threads, threads, [&] {{ {name}({call}); }});\n}}"
            )
        (folder / "host.cpp").write_text("\n".join(lines) + "\n")
        library = folder / "libneuron_host.so"
        # -O0: the hundreds of instances build in seconds; float32 rounds the same at every level (SSE, no
        # contraction)
        result = subprocess.run(
            [cxx, "-x", "c++", "-std=c++14", "-O0", "-ffp-contract=off", "-w", "-shared", "-fPIC", "-pthread",
             str(folder / "host.cpp"), "-o", str(library)],
            capture_output=True, text=True, timeout=240,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr[-4000:]
        self.lib = ctypes.CDLL(str(library))

    @staticmethod
    def symbol(name: str) -> str:
        return "k_" + "".join(c if c.isalnum() else "_" for c in name)

    def launch(self, name: str, args: tuple[Any, ...], threads: int = 1) -> None:
        """Run kernel ``name`` over every neuron in blocks of ``threads``; ``args`` typed exactly as the
        backend passes them to CuPy."""
        params = self.signatures[name.split("<")[0]]
        assert len(args) == len(params), f"{name}: {len(args)} arguments for {len(params)} parameters"
        converted = []
        for arg, (kind, _, pname) in zip(args, params, strict=True):
            np_type, c_type = _ARG_TYPES[kind]
            assert type(arg) is np_type, f"{name}: parameter {pname} ({kind}) got {type(arg).__name__}"
            converted.append(c_type(int(arg) or None) if kind == "ptr" else c_type(arg))
        getattr(self.lib, self.symbol(name))(ctypes.c_int(threads), *converted)


@pytest.fixture(scope="module")
def host(tmp_path_factory: pytest.TempPathFactory, cxx: str, neuron_cu: Path) -> HostKernels:
    """Every instance the backend can launch, in one library built once for the module."""
    return HostKernels(cuda_backend.kernel_names(), tmp_path_factory.mktemp("host_kernels"), cxx, neuron_cu)


def _p(a: np.ndarray | None) -> np.uint64:
    return np.uint64(0 if a is None else a.ctypes.data)


def _reference(spec: NeuronSpec, seed: int, with_state: bool):
    gen = torch.Generator().manual_seed(seed)
    steps, shape = 9, (3, 7)  # odd neuron count
    x = (torch.randn(steps, *shape, generator=gen) * 0.9 + 0.45).requires_grad_()
    v0 = (torch.randn(shape, generator=gen) * 0.3).requires_grad_() if with_state else None
    w = torch.tensor(0.4, requires_grad=True)
    grads = [torch.randn(steps, *shape, generator=gen) for _ in range(2)] + [
        torch.randn(shape, generator=gen)
    ]
    k = torch.sigmoid(w) if spec.kind == "plif" else None
    outputs = fused_multistep(x, spec, v0, k, need_v_seq=True)
    torch.autograd.backward(list(outputs), grads)
    return x, v0, w, grads, outputs


@pytest.mark.parametrize("spec", SPECS, ids=_spec_id)
@pytest.mark.parametrize("with_state", [False, True])
def test_host_kernels_match_torch_backend(host: HostKernels, spec: NeuronSpec, with_state: bool) -> None:
    x, v0, w, (gs, gv, gvl), (s_ref, v_seq_ref, v_last_ref) = _reference(
        spec, SPECS.index(spec) * 2 + with_state, with_state
    )
    xn = x.detach().numpy().copy()
    v0n = None if v0 is None else v0.detach().numpy().copy()
    k = float(torch.sigmoid(w.detach())) if spec.kind == "plif" else 0.0
    decay = np.array([k], dtype=np.float32)
    lif_k = np.float32(1.0 / spec.tau if spec.kind == "lif" else 1.0)
    common = (np.float32(spec.v_threshold), np.float32(spec.v_rest))
    steps, numel = np.int32(xn.shape[0]), np.int64(xn[0].size)

    h, s, v_seq = (np.empty_like(xn) for _ in range(3))
    v_last = np.empty_like(xn[0])
    fwd, bwd = _names(spec)
    host.launch(
        fwd, (_p(xn), _p(v0n), _p(h), _p(s), _p(v_seq), _p(v_last), _p(decay), lif_k, *common, steps, numel)
    )
    np.testing.assert_array_equal(s, s_ref.detach().numpy())
    np.testing.assert_array_equal(v_seq, v_seq_ref.detach().numpy())
    np.testing.assert_array_equal(v_last, v_last_ref.detach().numpy())

    gx, gvi, gk = np.empty_like(h), np.empty_like(h[0]), np.zeros(1, dtype=np.float32)
    gsn, gvn, gvln = gs.numpy(), gv.numpy(), gvl.numpy()
    alpha = np.float32(spec.surrogate.alpha)
    host.launch(bwd, (_p(gsn), _p(gvn), _p(gvln), _p(h), _p(v0n), _p(gx), _p(gvi), _p(gk), _p(decay), lif_k,
                      *common, alpha, steps, numel))  # fmt: skip
    np.testing.assert_allclose(gx, x.grad.numpy(), rtol=1e-5, atol=1e-5)
    if v0 is not None:
        np.testing.assert_allclose(gvi, v0.grad.numpy(), rtol=1e-5, atol=1e-5)
    if spec.kind == "plif":  # the kernel returns dL/dk; autograd applied dk/dw = k (1 - k)
        np.testing.assert_allclose(gk[0], float(w.grad) / (k * (1 - k)), rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("spec", [s for s in SPECS if not s.detach_reset], ids=_spec_id)
def test_cupy_autograd_function_on_host_kernels(
    host: HostKernels, spec: NeuronSpec, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The backend's autograd function, with each launch executed by the host build on CPU tensors."""
    monkeypatch.setattr(cuda_backend, "_launch", lambda name, device, numel, args: host.launch(name, args))
    for with_state in (False, True):
        x_ref, v0_ref, w_ref, grads, ref = _reference(spec, SPECS.index(spec), with_state)
        x = x_ref.detach().clone().requires_grad_()
        v0 = None if v0_ref is None else v0_ref.detach().clone().requires_grad_()
        w = w_ref.detach().clone().requires_grad_()
        k = torch.sigmoid(w) if spec.kind == "plif" else None
        got = cuda_backend._CupyNeuron.apply(x, v0, k, spec, True)
        for a, b in zip(ref, got, strict=True):
            assert torch.equal(a, b)
        torch.autograd.backward(list(got), grads)
        torch.testing.assert_close(x.grad, x_ref.grad, rtol=1e-5, atol=1e-5)
        if v0 is not None:
            torch.testing.assert_close(v0.grad, v0_ref.grad, rtol=1e-5, atol=1e-5)
        if spec.kind == "plif":
            torch.testing.assert_close(w.grad, w_ref.grad, rtol=1e-4, atol=1e-4)
        else:
            assert w.grad is None


def _t(a: torch.Tensor | None) -> np.uint64:
    return np.uint64(0 if a is None else a.data_ptr())


@pytest.mark.parametrize("spec", HALF_SPECS, ids=_spec_id)
@pytest.mark.parametrize("dtype", list(HALF_DTYPES))
def test_half_kernels_match_torch_backend(host: HostKernels, spec: NeuronSpec, dtype: str) -> None:
    """fp16 / bf16 instances against the torch backend on the same 16-bit tensors.

    Both integrate in float32 and round H to the storage type once per step, so the forward outputs are
    identical; gradients are computed in float32 by both and rounded once to the storage type (dL/dk stays
    float32), so they agree within the storage type's tolerance. Blocks of 32 threads run the real
    reduction of dL/dk over a block, with idle threads past the last neuron.
    """
    tdtype = HALF_DTYPES[dtype]
    gen = torch.Generator().manual_seed(HALF_SPECS.index(spec))
    steps, shape = 9, (3, 7)
    x = (torch.randn(steps, *shape, generator=gen) * 0.9 + 0.45).to(tdtype).requires_grad_()
    v0 = (torch.randn(shape, generator=gen) * 0.3).to(tdtype).requires_grad_()
    w = torch.tensor(0.4, requires_grad=True)
    gs, gv = (torch.randn(steps, *shape, generator=gen).to(tdtype) for _ in range(2))
    gvl = torch.randn(shape, generator=gen).to(tdtype)
    k_ref = torch.sigmoid(w) if spec.kind == "plif" else None
    s_ref, v_seq_ref, v_last_ref = fused_multistep(x, spec, v0, k_ref, need_v_seq=True)
    torch.autograd.backward([s_ref, v_seq_ref, v_last_ref], [gs, gv, gvl])

    k = float(torch.sigmoid(w.detach())) if spec.kind == "plif" else 0.0
    decay = torch.tensor([k], dtype=torch.float32)
    lif_k = np.float32(1.0 / spec.tau if spec.kind == "lif" else 1.0)
    common = (np.float32(spec.v_threshold), np.float32(spec.v_rest))
    steps_arg, numel = np.int32(steps), np.int64(x[0].numel())
    xd, v0d = x.detach().contiguous(), v0.detach().contiguous()
    h, s, v_seq = (torch.empty_like(xd) for _ in range(3))
    v_last = torch.empty_like(xd[0])
    fwd, bwd = _names(spec, dtype)
    host.launch(
        fwd,
        (_t(xd), _t(v0d), _t(h), _t(s), _t(v_seq), _t(v_last), _t(decay), lif_k, *common, steps_arg, numel),
        threads=32,
    )
    assert torch.equal(s, s_ref) and torch.equal(v_seq, v_seq_ref) and torch.equal(v_last, v_last_ref)

    gx, gvi, gk = torch.empty_like(xd), torch.empty_like(xd[0]), torch.zeros(1, dtype=torch.float32)
    alpha = np.float32(spec.surrogate.alpha)
    host.launch(bwd, (_t(gs), _t(gv), _t(gvl), _t(h), _t(v0d), _t(gx), _t(gvi), _t(gk), _t(decay), lif_k,
                      *common, alpha, steps_arg, numel), threads=32)  # fmt: skip
    torch.testing.assert_close(gx, x.grad)
    torch.testing.assert_close(gvi, v0.grad)
    if spec.kind == "plif":  # the kernel returns dL/dk; autograd applied dk/dw = k (1 - k)
        torch.testing.assert_close(float(gk[0]), float(w.grad) / (k * (1 - k)), rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("spec", [s for s in HALF_SPECS if not s.detach_reset], ids=_spec_id)
@pytest.mark.parametrize("dtype", list(HALF_DTYPES.values()), ids=str)
def test_cupy_autograd_function_on_half_host_kernels(
    host: HostKernels, spec: NeuronSpec, dtype: torch.dtype, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The backend's autograd function on 16-bit tensors, launched in the backend's own block size."""
    monkeypatch.setattr(
        cuda_backend,
        "_launch",
        lambda name, device, numel, args: host.launch(name, args, cuda_backend._THREADS),
    )
    gen = torch.Generator().manual_seed(HALF_SPECS.index(spec))
    x_ref = (torch.randn(9, 3, 7, generator=gen) * 0.9 + 0.45).to(dtype).requires_grad_()
    v0_ref = (torch.randn(3, 7, generator=gen) * 0.3).to(dtype).requires_grad_()
    w_ref = torch.tensor(0.4, requires_grad=True)
    grads = [torch.randn(9, 3, 7, generator=gen).to(dtype) for _ in range(2)] + [
        torch.randn(3, 7, generator=gen).to(dtype)
    ]
    ref = fused_multistep(x_ref, spec, v0_ref, torch.sigmoid(w_ref) if spec.kind == "plif" else None, True)
    torch.autograd.backward(list(ref), grads)
    x, v0, w = (t.detach().clone().requires_grad_() for t in (x_ref, v0_ref, w_ref))
    got = cuda_backend._CupyNeuron.apply(x, v0, torch.sigmoid(w) if spec.kind == "plif" else None, spec, True)
    for a, b in zip(ref, got, strict=True):
        assert a.dtype == b.dtype == dtype and torch.equal(a, b)
    torch.autograd.backward(list(got), grads)
    assert x.grad.dtype == v0.grad.dtype == dtype
    torch.testing.assert_close(x.grad, x_ref.grad)
    torch.testing.assert_close(v0.grad, v0_ref.grad)
    if spec.kind == "plif":
        torch.testing.assert_close(w.grad, w_ref.grad, rtol=1e-4, atol=1e-4)
    else:
        assert w.grad is None


# ---------------------------------------------------------------------------------------------------------
# The full cross product: one configuration per backward instance (each also runs its forward instance).

_SURROGATE_BY_CODE = {
    code: sg.surrogate_from_name(name)
    for name in reversed(sg.surrogate_names())
    if (code := type(sg.surrogate_from_name(name)).cuda_code) is not None
}
_DTYPES = {"float": torch.float32, "f16": torch.float16, "bf16": torch.bfloat16}


def _every_configuration() -> list[tuple[str, NeuronSpec]]:
    out = []
    for dtype, kind, hard, decay, detach, code in itertools.product(
        _DTYPES, NEURON_KINDS, (True, False), (True, False), (False, True), sorted(_SURROGATE_BY_CODE)
    ):
        if kind == "if" and not decay:  # IF ignores decay_input: one instance
            continue
        v_reset = (-0.25 if (code + detach) % 2 else 0.0) if hard else None  # hard resets at two rests
        spec = NeuronSpec(kind=kind, tau=3.0, decay_input=decay, v_reset=v_reset, detach_reset=detach,
                          surrogate=_SURROGATE_BY_CODE[code])  # fmt: skip
        out.append((dtype, spec))
    return out


CONFIGURATIONS = _every_configuration()


def test_configurations_cover_every_kernel_instance() -> None:
    launched = {n for dtype, spec in CONFIGURATIONS for n in _names(spec, dtype)}
    assert launched == set(cuda_backend.kernel_names())
    assert len(CONFIGURATIONS) == len([n for n in launched if n.startswith("neuron_backward<")])


@pytest.mark.parametrize(
    ("dtype", "spec"), CONFIGURATIONS, ids=[f"{d}-{_spec_id(s)}" for d, s in CONFIGURATIONS]
)
def test_every_instance_matches_torch_backend(
    host: HostKernels, dtype: str, spec: NeuronSpec, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One instance pair through the backend's autograd function, 45 neurons in two blocks of 32 threads
    (idle threads in the second): outputs identical to the torch backend, gradients within tolerance."""
    launched: list[str] = []

    def launch(name: str, device: torch.device, numel: int, args: tuple[Any, ...]) -> None:
        launched.append(name)
        host.launch(name, args, threads=32)

    monkeypatch.setattr(cuda_backend, "_launch", launch)
    tdtype = _DTYPES[dtype]
    gen = torch.Generator().manual_seed(CONFIGURATIONS.index((dtype, spec)))
    steps, shape = 7, (3, 15)
    x_ref = (torch.randn(steps, *shape, generator=gen) * 0.9 + 0.45).to(tdtype).requires_grad_()
    v0_ref = (torch.randn(shape, generator=gen) * 0.3).to(tdtype).requires_grad_()
    w_ref = torch.tensor(0.4, requires_grad=True)
    grads = [torch.randn(steps, *shape, generator=gen).to(tdtype) for _ in range(2)]
    grads.append(torch.randn(shape, generator=gen).to(tdtype))
    plif = spec.kind == "plif"
    ref = fused_multistep(x_ref, spec, v0_ref, torch.sigmoid(w_ref) if plif else None, need_v_seq=True)
    x, v0, w = (t.detach().clone().requires_grad_() for t in (x_ref, v0_ref, w_ref))
    got = cuda_backend._CupyNeuron.apply(x, v0, torch.sigmoid(w) if plif else None, spec, True)
    h_ref, h_got = (out[0].grad_fn.saved_tensors[0].reshape(x.shape) for out in (ref, got))  # the saved H
    for name, a, b in zip(("spikes", "v_seq", "v_last", "h_seq"), (*ref, h_ref), (*got, h_got), strict=True):
        assert b.dtype == tdtype and torch.equal(a, b), f"{name} differ at {(a != b).sum().item()} positions"
    torch.autograd.backward(list(ref), grads)
    torch.autograd.backward(list(got), grads)
    assert launched == list(_names(spec, dtype))
    tol = {"rtol": 1e-5, "atol": 1e-5} if tdtype == torch.float32 else {}  # 16-bit: the dtype's defaults
    torch.testing.assert_close(x.grad, x_ref.grad, **tol)
    torch.testing.assert_close(v0.grad, v0_ref.grad, **tol)
    if plif:
        torch.testing.assert_close(w.grad, w_ref.grad, rtol=1e-4, atol=1e-4)
    else:
        assert w.grad is None


def test_amp_recipe_through_the_cupy_kernels(host: HostKernels, monkeypatch: pytest.MonkeyPatch) -> None:
    """float16 autocast + GradScaler + an SGD step through the cupy autograd function and its f16 kernels."""
    launched: list[str] = []

    def launch(name: str, device: torch.device, numel: int, args: tuple[Any, ...]) -> None:
        launched.append(name)
        host.launch(name, args, cuda_backend._THREADS)

    monkeypatch.setattr(cuda_backend, "_launch", launch)

    def cupy_spikes(x: torch.Tensor, spec: NeuronSpec) -> torch.Tensor:
        return run_kernels(cuda_backend._CupyNeuron.apply, x, spec, None, None, False)[0]

    def torch_spikes(x: torch.Tensor, spec: NeuronSpec) -> torch.Tensor:
        return fused_multistep(x, spec)[0]

    got = amp_step(cupy_spikes, amp=True)
    assert launched and all(n.split("<")[1].startswith("f16,") for n in launched)
    check_amp(got, amp_step(torch_spikes, amp=False), amp_step(torch_spikes, amp=True))
