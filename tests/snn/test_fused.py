"""The torch backend against autograd through an explicit step loop, and gradcheck in float64."""

from __future__ import annotations

import itertools

import pytest
import torch

from eventpipe.snn import fused
from eventpipe.snn import surrogate as sg
from eventpipe.snn.dynamics import NeuronSpec, NeuronState, multistep_loop
from eventpipe.snn.fused import fused_multistep

CONFIGS = [
    NeuronSpec(
        kind=kind, tau=3.0, decay_input=decay, v_reset=v_reset, detach_reset=detach, surrogate=surrogate
    )
    for kind, decay, v_reset, detach, surrogate in itertools.product(
        ("if", "lif", "plif"), (True, False), (0.0, None, -0.3), (False, True), (sg.Sigmoid(), sg.ATan())
    )
    if not (kind == "if" and not decay)
] + [
    NeuronSpec(kind="plif", surrogate=s)
    for s in (sg.PiecewiseQuadratic(), sg.SoftSign(), sg.Erf(), sg.PiecewiseExp())
]


def _name(spec: NeuronSpec) -> str:
    return f"{spec.kind}-vr{spec.v_reset}-di{int(spec.decay_input)}-dr{int(spec.detach_reset)}-{spec.surrogate.name}"


def _inputs(spec: NeuronSpec, dtype: torch.dtype, shape=(7, 5, 3), seed: int = 0):
    gen = torch.Generator().manual_seed(seed)
    x = (torch.randn(shape, generator=gen, dtype=dtype) * 1.2 + 0.5).requires_grad_()
    v0 = (torch.randn(shape[1:], generator=gen, dtype=dtype) * 0.3).requires_grad_()
    w = torch.tensor(0.3, dtype=dtype, requires_grad=True)
    return x, v0, w


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
@pytest.mark.parametrize("spec", CONFIGS, ids=_name)
def test_matches_autograd_through_step_loop(spec: NeuronSpec, dtype: torch.dtype) -> None:
    x, v0, w = _inputs(spec, dtype)
    k = torch.sigmoid(w) if spec.kind == "plif" else None
    s_ref, v_ref = multistep_loop(x, spec, NeuronState(v0), k)
    gen = torch.Generator().manual_seed(1)
    gs, gv, gl = (torch.randn(s_ref.shape, generator=gen, dtype=dtype) for _ in range(3))
    loss_ref = (s_ref * gs).sum() + (v_ref * gv).sum() + (v_ref[-1] * gl[0]).sum()
    ref = torch.autograd.grad(loss_ref, [x, v0, w], allow_unused=True)

    k = torch.sigmoid(w) if spec.kind == "plif" else None
    s, v_seq, v_last = fused_multistep(x, spec, v0, k, need_v_seq=True)
    assert torch.equal(s, s_ref)
    torch.testing.assert_close(v_seq, v_ref)
    torch.testing.assert_close(v_last, v_ref[-1])
    got = torch.autograd.grad(
        (s * gs).sum() + (v_seq * gv).sum() + (v_last * gl[0]).sum(), [x, v0, w], allow_unused=True
    )
    for name, a, b in zip(("x", "v_init", "w"), ref, got, strict=True):
        if spec.kind != "plif" and name == "w":
            assert a is None and b is None
            continue
        torch.testing.assert_close(b, a, msg=lambda m, n=name: f"grad {n}: {m}")


@pytest.mark.parametrize(
    "spec",
    [
        NeuronSpec(kind=kind, v_reset=v_reset, decay_input=decay, detach_reset=detach, surrogate=surrogate)
        for kind, v_reset, decay, detach, surrogate in [
            ("if", 0.0, True, False, sg.Sigmoid(spiking=False)),
            ("if", None, True, False, sg.ATan(spiking=False)),
            ("lif", 0.0, True, False, sg.ATan(spiking=False)),
            ("lif", -0.2, False, False, sg.Erf(spiking=False)),
            ("lif", None, True, False, sg.Sigmoid(spiking=False)),
            ("plif", 0.0, True, False, sg.Sigmoid(spiking=False)),
            ("plif", None, False, False, sg.ATan(spiking=False)),
            ("plif", 0.1, True, False, sg.SoftSign(spiking=False)),
        ]
    ],
    ids=_name,
)
def test_gradcheck_float64(spec: NeuronSpec) -> None:
    """With ``spiking=False`` the forward is the smooth primitive, so finite differences must agree exactly
    with the hand-written backward (all inputs: x, v_init and the PLIF weight; all outputs). detach_reset
    deliberately drops part of the true gradient, so it is covered by the step-loop comparison instead."""
    x, v0, w = _inputs(spec, torch.float64, shape=(4, 3, 2), seed=3)

    def run(x: torch.Tensor, v0: torch.Tensor, w: torch.Tensor):
        return fused_multistep(
            x, spec, v0, torch.sigmoid(w) if spec.kind == "plif" else None, need_v_seq=True
        )

    assert torch.autograd.gradcheck(run, (x, v0, w), eps=1e-6, atol=1e-6)


@pytest.mark.parametrize("shape", [(1, 1), (1, 7), (3, 1), (5, 3, 7, 2)])
def test_odd_shapes_and_single_step(shape: tuple[int, ...]) -> None:
    spec = NeuronSpec(kind="plif")
    x = (torch.rand(shape) * 2).requires_grad_()
    w = torch.tensor(0.0, requires_grad=True)
    s, _, v_last = fused_multistep(x, spec, None, torch.sigmoid(w))
    s_ref, v_ref = multistep_loop(x, spec, None, torch.sigmoid(w))
    assert torch.equal(s, s_ref) and torch.allclose(v_last, v_ref[-1])
    g_ref = torch.autograd.grad(s_ref.sum(), [x, w])
    g = torch.autograd.grad(s.sum(), [x, w])
    for a, b in zip(g, g_ref, strict=True):
        torch.testing.assert_close(a, b)


def test_empty_sequence_returns_initial_state() -> None:
    v0 = torch.full((2, 3), 0.25)
    s, v_seq, v_last = fused_multistep(torch.empty(0, 2, 3), NeuronSpec(), v0, need_v_seq=True)
    assert s.shape == (0, 2, 3) and v_seq.shape == (0, 2, 3)
    assert torch.equal(v_last, v0)


def test_saves_only_the_charge_for_backward() -> None:
    x = torch.rand(6, 4, 5, requires_grad=True)
    s, v_seq, _ = fused_multistep(x, NeuronSpec(kind="lif"))
    assert v_seq is None
    saved = [t for t in s.grad_fn.saved_tensors if t is not None]
    assert [tuple(t.shape) for t in saved] == [(6, 20), (20,)]  # h_seq and the initial potential, flattened
    with torch.no_grad():
        s2, _, _ = fused_multistep(x, NeuronSpec(kind="lif"))
    assert s2.grad_fn is None and torch.equal(s, s2)


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_half_precision_integrates_in_float32(dtype: torch.dtype) -> None:
    """16-bit inputs: outputs and gradients keep the input dtype; H is rounded once per step."""
    spec = NeuronSpec(kind="lif", tau=2.0)
    x = (torch.rand(8, 16, generator=torch.Generator().manual_seed(0)) * 1.5).to(dtype).requires_grad_()
    s, v_seq, v_last = fused_multistep(x, spec, need_v_seq=True)
    assert s.dtype == v_seq.dtype == v_last.dtype == dtype
    s.float().sum().backward()
    assert x.grad.dtype == dtype and torch.isfinite(x.grad.float()).all()
    # the same recurrence written out: float32 charge, H rounded to the storage dtype before fire and reset
    v = torch.zeros(16)
    for t in range(8):
        h = (v + (x[t].detach().float() - v) * 0.5).to(dtype).float()
        fired = h >= 1.0
        assert torch.equal(s[t], fired.to(dtype))
        v = torch.where(fired, torch.zeros(()), h)
        assert torch.equal(v_seq[t], v.to(dtype))


def test_cpu_chunks_give_the_same_result(monkeypatch: pytest.MonkeyPatch) -> None:
    """Neurons are processed in chunks on the CPU; a partial last chunk must not change anything."""
    spec = NeuronSpec(kind="plif", v_reset=None)
    x, v0, w = _inputs(spec, torch.float32, shape=(6, 5, 9))
    results = []
    for chunk in (1 << 16, 7, 1):
        monkeypatch.setattr(fused, "_CPU_CHUNK", chunk)
        xi, v0i, wi = (t.detach().clone().requires_grad_() for t in (x, v0, w))
        s, v_seq, v_last = fused_multistep(xi, spec, v0i, torch.sigmoid(wi), need_v_seq=True)
        (s.sum() + (v_seq * 0.5).sum() + v_last.sum()).backward()
        results.append((s, v_seq, v_last, xi.grad, v0i.grad, wi.grad))
    for other in results[1:]:
        for a, b in zip(results[0], other, strict=True):
            torch.testing.assert_close(a, b)


def test_cpu_threads_give_identical_results(monkeypatch: pytest.MonkeyPatch) -> None:
    """Chunks are shared out over PyTorch's thread count on the CPU; the results are bit-identical."""
    spec = NeuronSpec(kind="plif", v_reset=None)
    x, v0, w = _inputs(spec, torch.float32, shape=(6, 5, 9))
    monkeypatch.setattr(fused, "_CPU_CHUNK", 4)
    threads = torch.get_num_threads()
    results = []
    try:
        for n in (1, 3):
            torch.set_num_threads(n)
            xi, v0i, wi = (t.detach().clone().requires_grad_() for t in (x, v0, w))
            s, v_seq, v_last = fused_multistep(xi, spec, v0i, torch.sigmoid(wi), need_v_seq=True)
            (s.sum() + (v_seq * 0.5).sum() + v_last.sum()).backward()
            results.append((s, v_seq, v_last, xi.grad, v0i.grad, wi.grad))
    finally:
        torch.set_num_threads(threads)
    for a, b in zip(*results, strict=True):
        assert torch.equal(a, b)
