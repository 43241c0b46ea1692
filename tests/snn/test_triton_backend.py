"""The Triton kernels run on the CPU through Triton's interpreter and are compared with the torch backend.

The contract is that of test_cuda_kernels_host.py: float32 spikes, ``h_seq``, ``v_seq`` and ``v_last``
bit-identical (same operation order, float32 arithmetic, one rounding of H per step), gradients within the
torch backend's own tolerance (the surrogates' ``exp`` comes from another library), 16-bit dtypes within a
tolerance. ``TRITON_INTERPRET=1`` must be set before Triton is imported, so this file runs itself once in a
subprocess with it (all cases, both backends, results saved with ``torch.save``) and the tests compare.
"""

from __future__ import annotations

import importlib.util
import inspect
import itertools
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import torch
from amp_recipe import amp_step, check_amp

from eventpipe.errors import ConfigError
from eventpipe.snn import backends
from eventpipe.snn import surrogate as sg
from eventpipe.snn.dynamics import NeuronSpec
from eventpipe.snn.fused import fused_multistep
from eventpipe.snn.triton import backend as triton_backend

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("triton") is None, reason="needs Triton (pip install 'eventpipe[triton]')"
)

SPECS = [
    NeuronSpec(
        kind=kind, tau=3.0, decay_input=decay, v_reset=v_reset, detach_reset=detach, surrogate=surrogate
    )
    for kind, decay, v_reset, (detach, surrogate) in itertools.product(
        ("if", "lif", "plif"), (True, False), (0.0, None, -0.25), ((False, sg.Sigmoid()), (True, sg.ATan()))
    )
    if not (kind == "if" and not decay)
] + [
    NeuronSpec(kind="plif", surrogate=surrogate)
    for surrogate in (sg.PiecewiseQuadratic(), sg.SoftSign(), sg.Erf(), sg.PiecewiseExp())
]
HALF_SPECS = [spec for spec in SPECS if spec.decay_input and spec.v_reset in (0.0, None)] + SPECS[-4:]
"""In 16 bits: every neuron kind, hard and soft reset, detached or not, every surrogate."""
STEPS, NEURONS = 4, 37


def _spec_id(spec: NeuronSpec) -> str:
    return f"{spec.kind}-{spec.v_reset}-{spec.decay_input}-{spec.detach_reset}-{spec.surrogate.name}"


def _inputs(
    seed: int, dtype: torch.dtype
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, list[torch.Tensor]]:
    gen = torch.Generator().manual_seed(seed)
    x = (torch.randn(STEPS, NEURONS, generator=gen) * 0.9 + 0.45).to(dtype)
    v0 = (torch.randn(NEURONS, generator=gen) * 0.3).to(dtype)
    grads = [torch.randn(STEPS, NEURONS, generator=gen) for _ in range(2)] + [
        torch.randn(NEURONS, generator=gen)
    ]
    return x, v0, torch.tensor(0.4), [g.to(dtype) for g in grads]


def _run(fn: Any, spec: NeuronSpec, seed: int, dtype: torch.dtype, with_state: bool) -> dict[str, Any]:
    """Outputs, saved ``h_seq`` and the gradients of x, v_init and w of one backend."""
    x, v0, w, grads = _inputs(seed, dtype)
    x.requires_grad_()
    v0 = v0.requires_grad_() if with_state else None
    w.requires_grad_()
    k = torch.sigmoid(w) if spec.kind == "plif" else None
    spikes, v_seq, v_last = fn(x, spec, v0, k, True)
    h_seq = spikes.grad_fn.saved_tensors[0].reshape(x.shape)
    torch.autograd.backward([spikes, v_seq, v_last], grads)
    return {"spikes": spikes, "v_seq": v_seq, "v_last": v_last, "h_seq": h_seq, "grad_x": x.grad,
            "grad_v_init": None if v0 is None else v0.grad, "grad_w": w.grad}  # fmt: skip


def _spikes_only(fn: Any) -> dict[str, Any]:
    """Only the spikes get a gradient (null v_seq / v_last gradients); v_init in float64."""
    spec = NeuronSpec(kind="plif", v_reset=None)
    x, v0, w, (gs, _, _) = _inputs(3, torch.float32)
    x, v0, w = x.requires_grad_(), v0.double().requires_grad_(), w.requires_grad_()
    spikes, _, _ = fn(x, spec, v0, torch.sigmoid(w), False)
    (spikes * gs).sum().backward()
    return {"spikes": spikes, "grad_x": x.grad, "grad_v_init": v0.grad, "grad_w": w.grad}


def _all_runs() -> dict[str, Any]:
    """Every case for both backends (run under the interpreter, in the subprocess)."""
    fns = {"torch": fused_multistep, "triton": triton_backend.triton_multistep}
    out: dict[str, Any] = {}
    for (i, spec), with_state in itertools.product(enumerate(SPECS), (False, True)):
        out[f"f32-{i}-{with_state}"] = {n: _run(fn, spec, i * 2 + with_state, torch.float32, with_state)
                                        for n, fn in fns.items()}  # fmt: skip
    for (i, spec), dtype in itertools.product(enumerate(HALF_SPECS), (torch.float16, torch.bfloat16)):
        out[f"{dtype}-{i}"] = {n: _run(fn, spec, 7, dtype, True) for n, fn in fns.items()}
    out["spikes-only"] = {n: _spikes_only(fn) for n, fn in fns.items()}
    x = torch.rand(STEPS, NEURONS)
    out["run_multistep"] = {
        "triton": backends.run_multistep(x, NeuronSpec(), backend="triton")[0],
        "torch": fused_multistep(x, NeuronSpec())[0],
        "auto": backends.select_backend("auto", x, NeuronSpec()),
        # an int threshold (2, and 1, which Triton would specialize as a constant) reaches the kernel as a float
        "int_threshold": [
            (triton_backend.triton_multistep(x * 3, NeuronSpec(v_threshold=t))[0],
             fused_multistep(x * 3, NeuronSpec(v_threshold=t))[0])
            for t in (1, 2)
        ],  # fmt: skip
    }
    out["chunked"] = {_spec_id(spec): _chunked(spec) for spec in (SPECS[4], SPECS[-1])}
    out["amp"] = {
        "triton": amp_step(lambda x, spec: triton_backend.triton_multistep(x, spec)[0], amp=True),
        "torch": amp_step(lambda x, spec: fused_multistep(x, spec)[0], amp=True),
        "float32": amp_step(lambda x, spec: fused_multistep(x, spec)[0], amp=False),
    }
    return out


def _chunked(spec: NeuronSpec) -> dict[str, Any]:
    """Triton run over the whole sequence, and in chunks of 1 and 3 steps passing v_last on as v_init."""
    out: dict[str, Any] = {}
    for name, sizes in (("whole", [STEPS]), ("chunks", [1, STEPS - 1])):
        x, _, w, (gs, _, gl) = _inputs(11, torch.float32)
        x, w = x.requires_grad_(), w.requires_grad_()
        k = torch.sigmoid(w) if spec.kind == "plif" else None
        spikes, v = [], None
        for part in torch.split(x, sizes):
            s, _, v = triton_backend.triton_multistep(part, spec, v, k, False)
            spikes.append(s)
        spikes_all = torch.cat(spikes)
        torch.autograd.backward([spikes_all, v], [gs, gl])
        out[name] = {"spikes": spikes_all, "v_last": v, "grad_x": x.grad, "grad_w": w.grad}
    return out


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    path = tmp_path_factory.mktemp("triton") / "runs.pt"
    env = {**os.environ, "TRITON_INTERPRET": "1"}
    env.pop(backends.ENV_VAR, None)
    result = subprocess.run(
        [sys.executable, __file__, str(path)], env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr[-4000:]
    return torch.load(path)


@pytest.mark.parametrize("spec", SPECS, ids=_spec_id)
@pytest.mark.parametrize("with_state", [False, True])
def test_float32_matches_torch_backend(runs: dict[str, Any], spec: NeuronSpec, with_state: bool) -> None:
    case = runs[f"f32-{SPECS.index(spec)}-{with_state}"]
    ref, got = case["torch"], case["triton"]
    for name in ("spikes", "v_seq", "v_last", "h_seq"):
        assert torch.equal(got[name], ref[name]), name
    torch.testing.assert_close(got["grad_x"], ref["grad_x"], rtol=1e-5, atol=1e-5)
    if with_state:
        torch.testing.assert_close(got["grad_v_init"], ref["grad_v_init"], rtol=1e-5, atol=1e-5)
    if spec.kind == "plif":
        torch.testing.assert_close(got["grad_w"], ref["grad_w"], rtol=1e-4, atol=1e-4)
    else:
        assert got["grad_w"] is None


@pytest.mark.parametrize("spec", HALF_SPECS, ids=_spec_id)
def test_float16_matches_torch_backend(runs: dict[str, Any], spec: NeuronSpec) -> None:
    case = runs[f"{torch.float16}-{HALF_SPECS.index(spec)}"]
    ref, got = case["torch"], case["triton"]
    for name in ("spikes", "v_seq", "v_last", "h_seq"):
        assert got[name].dtype == torch.float16 and torch.equal(got[name], ref[name]), name
    for name in ("grad_x", "grad_v_init", "grad_w"):
        if ref[name] is not None:
            torch.testing.assert_close(got[name], ref[name], rtol=1e-3, atol=1e-3)


@pytest.mark.parametrize("spec", HALF_SPECS, ids=_spec_id)
def test_bfloat16_close_to_torch_backend(runs: dict[str, Any], spec: NeuronSpec) -> None:
    """Triton's interpreter rounds float32 to bfloat16 toward zero (compiled kernels and PyTorch round to
    nearest even), so each stored H may differ by one bfloat16 step (2**-8 relative) and that carries on."""
    case = runs[f"{torch.bfloat16}-{HALF_SPECS.index(spec)}"]
    ref, got = case["torch"], case["triton"]
    for name in ("spikes", "v_seq", "v_last", "h_seq", "grad_x", "grad_v_init", "grad_w"):
        if ref[name] is not None:
            assert got[name].dtype == ref[name].dtype, name
            torch.testing.assert_close(got[name].float(), ref[name].float(), rtol=2**-4, atol=2**-4)


def test_gradient_reaching_only_the_spikes(runs: dict[str, Any]) -> None:
    ref, got = runs["spikes-only"]["torch"], runs["spikes-only"]["triton"]
    assert torch.equal(got["spikes"], ref["spikes"])
    assert got["grad_v_init"].dtype == torch.float64
    for name in ("grad_x", "grad_v_init", "grad_w"):
        torch.testing.assert_close(got[name], ref[name], rtol=1e-4, atol=1e-5)


def test_explicit_triton_runs_cpu_tensors_only_under_the_interpreter(
    runs: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert torch.equal(runs["run_multistep"]["triton"], runs["run_multistep"]["torch"])
    assert runs["run_multistep"]["auto"] == "numba"  # auto never picks triton for CPU tensors
    for got, ref in runs["run_multistep"]["int_threshold"]:
        assert torch.equal(got, ref) and bool(ref.any())
    monkeypatch.delenv("TRITON_INTERPRET", raising=False)
    with pytest.raises(ConfigError, match="backend='triton' needs CUDA tensors"):
        triton_backend.triton_multistep(torch.zeros(2, 3), NeuronSpec())


def test_chunked_runs_carry_the_state_exactly(runs: dict[str, Any]) -> None:
    for name, case in runs["chunked"].items():
        whole, chunks = case["whole"], case["chunks"]
        assert torch.equal(chunks["spikes"], whole["spikes"]), name
        assert torch.equal(chunks["v_last"], whole["v_last"]), name
        torch.testing.assert_close(chunks["grad_x"], whole["grad_x"], rtol=1e-5, atol=1e-6)
        if whole["grad_w"] is not None and whole["grad_w"] != 0:
            torch.testing.assert_close(chunks["grad_w"], whole["grad_w"], rtol=1e-5, atol=1e-6)


def test_amp_recipe_through_the_triton_kernels(runs: dict[str, Any]) -> None:
    """float16 autocast + GradScaler + an SGD step through the triton backend (its float16 kernels)."""
    amp = runs["amp"]
    check_amp(amp["triton"], amp["float32"], amp["torch"])


def test_rejects_what_the_kernels_lack() -> None:
    with pytest.raises(ConfigError, match="backend='triton' cannot run this neuron: .*spiking=False"):
        triton_backend.triton_multistep(torch.zeros(2, 3), NeuronSpec(surrogate=sg.ATan(spiking=False)))
    with pytest.raises(ConfigError, match="float64"):
        triton_backend.triton_multistep(torch.zeros(2, 3, dtype=torch.float64), NeuronSpec())


_PTR = {torch.float32: "*fp32", torch.bfloat16: "*bf16"}


def _ptx(kernel: Any, types: list[str], constants: dict[str, Any]) -> str:
    """PTX of one kernel instance compiled for an sm_90 GPU (no device needed), launched as the backend does."""
    from triton import compile as triton_compile
    from triton.backends.compiler import GPUTarget
    from triton.compiler import ASTSource

    signature = {**dict(zip(kernel.arg_names, types, strict=False)), **dict.fromkeys(constants, "constexpr")}
    constexprs = {(kernel.arg_names.index(name),): value for name, value in constants.items()}
    source = ASTSource(kernel, signature, constexprs=constexprs)
    target = GPUTarget("cuda", 90, 32)
    return triton_compile(source, target=target, options=dict(triton_backend._LAUNCH_OPTIONS)).asm["ptx"]


def test_kernels_compile_for_a_gpu_without_fused_multiply_adds(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The compiled path, which the interpreter skips: each neuron kind, reset and surrogate and the 16-bit
    stores type-check and lower to PTX, with no contracted multiply-add (the charge must round like torch's)."""
    if os.environ.get("TRITON_INTERPRET") == "1":
        pytest.skip("TRITON_INTERPRET=1 is set in this process: the kernels are interpreted")
    from triton.compiler import ASTSource

    if "constexprs" not in inspect.signature(ASTSource).parameters:
        pytest.skip("this Triton version has another ahead-of-time compile API")
    monkeypatch.setenv("TRITON_CACHE_DIR", str(tmp_path))
    kernels = importlib.import_module("eventpipe.snn.triton.kernels")
    ptx = []
    instances = [(torch.float32, kind, hard) for kind, hard in itertools.product((0, 1, 2), (True, False))]
    for dtype, kind, hard in [*instances, (torch.bfloat16, 2, True)]:
        ptr = _PTR[dtype]
        flags = {"KIND": kind, "HARD_RESET": hard, "DECAY_INPUT": kind != 1, "BLOCK": 256}
        forward = [ptr, "*fp32", ptr, ptr, ptr, ptr, "*fp32", "fp32", "fp32", "fp32", "i32", "i64"]
        ptx.append(_ptx(kernels.neuron_forward, forward, {**flags, "HAS_V_INIT": True, "STORE_V_SEQ": True}))
        # all six surrogates over the float32 instances
        surrogate = kind + 3 * (not hard) if dtype == torch.float32 else 0
        backward = [ptr] * 4 + ["*fp32", ptr] + ["*fp32"] * 3 + ["fp32"] * 4 + ["i32", "i64"]
        optional = ("HAS_GRAD_S", "HAS_GRAD_V_SEQ", "HAS_GRAD_V_LAST", "HAS_V_INIT", "STORE_GRAD_V_INIT")
        constants = {**flags, **dict.fromkeys(optional, True), "DETACH_RESET": not hard, "SG": surrogate}
        ptx.append(_ptx(kernels.neuron_backward, backward, constants))
    assert not any("fma" in text for text in ptx)
    assert any("cvt.rn.bf16.f32" in text for text in ptx)  # float32 -> bfloat16 rounds to nearest even


if __name__ == "__main__":
    torch.save(_all_runs(), sys.argv[1])
