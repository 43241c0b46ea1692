"""The numba backend against the torch backend: every neuron configuration, all surrogates, chunked runs
(the carried state), shapes drawn by hypothesis, and the inputs it refuses."""

from __future__ import annotations

import itertools
from concurrent.futures import ThreadPoolExecutor

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from eventpipe.errors import ConfigError
from eventpipe.snn import surrogate as sg
from eventpipe.snn.backends import run_multistep, run_step, select_backend
from eventpipe.snn.cpu import kernels
from eventpipe.snn.cpu.backend import numba_multistep
from eventpipe.snn.dynamics import NeuronSpec
from eventpipe.snn.fused import fused_multistep

CONFIGS = [
    NeuronSpec(kind=kind, tau=3.0, decay_input=decay, v_reset=v_reset, detach_reset=detach)
    for kind, decay, v_reset, detach in itertools.product(
        ("if", "lif", "plif"), (True, False), (0.0, None, -0.3), (False, True)
    )
    if not (kind == "if" and not decay)
]

SURROGATES = [
    sg.Sigmoid(alpha=3.0), sg.ATan(alpha=1.5), sg.PiecewiseQuadratic(alpha=0.8), sg.SoftSign(alpha=1.5),
    sg.Erf(alpha=1.5), sg.PiecewiseExp(alpha=1.5), sg.NonzeroSignLogAbs(alpha=1.5),
    sg.PiecewiseLeakyReLU(w=0.7, c=0.05), sg.SquarewaveFourierSeries(n=4, T_period=6.0), sg.S2NN(),
    sg.QPseudoSpike(alpha=2.5), sg.LeakyKReLU(leak=0.1, k=0.9), sg.FakeNumericalGradient(alpha=0.4),
    sg.LogTailedReLU(alpha=0.1),
]  # fmt: skip


def _name(spec: NeuronSpec) -> str:
    return f"{spec.kind}-vr{spec.v_reset}-di{int(spec.decay_input)}-dr{int(spec.detach_reset)}"


def _both(spec: NeuronSpec, x: torch.Tensor, v0: torch.Tensor | None, w: torch.Tensor | None, seed: int = 1):
    """Outputs and gradients (x, v_init, w) of the numba and the torch backend for the same loss."""
    gen = torch.Generator().manual_seed(seed)
    gs, gv = (torch.randn(x.shape, generator=gen, dtype=x.dtype) for _ in range(2))
    gl = torch.randn(x.shape[1:], generator=gen, dtype=x.dtype)
    leaves = [t for t in (x, v0, w) if t is not None]
    results = []
    for run in (numba_multistep, fused_multistep):
        k = torch.sigmoid(w) if w is not None else None
        s, v_seq, v_last = run(x, spec, v0, k, need_v_seq=True)
        loss = (s * gs).sum() + (v_seq * gv).sum() + (v_last * gl).sum()
        results.append(((s, v_seq, v_last), torch.autograd.grad(loss, leaves)))
    return results


def _inputs(spec: NeuronSpec, dtype: torch.dtype, shape=(7, 5, 3), seed: int = 0):
    gen = torch.Generator().manual_seed(seed)
    x = (torch.randn(shape, generator=gen, dtype=dtype) * 1.2 + 0.5).requires_grad_()
    v0 = (torch.randn(shape[1:], generator=gen, dtype=dtype) * 0.3).requires_grad_()
    w = torch.tensor(0.3, dtype=dtype, requires_grad=True) if spec.kind == "plif" else None
    return x, v0, w


def _assert_same(numba_out, torch_out) -> None:
    (outs, grads), (ref_outs, ref_grads) = numba_out, torch_out
    for name, a, b in zip(("spikes", "v_seq", "v_last"), outs, ref_outs, strict=True):
        assert torch.equal(a, b), name  # bit-identical: the same operation order
    for a, b in zip(grads, ref_grads, strict=True):
        if a.dim() == 0:  # PLIF's decay gradient: a sum over every neuron, in per-block order here
            torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5)  # fp32 rounding of a long sum
        else:
            torch.testing.assert_close(a, b)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("spec", CONFIGS, ids=_name)
def test_matches_the_torch_backend(spec: NeuronSpec, dtype: torch.dtype) -> None:
    _assert_same(*_both(spec, *_inputs(spec, dtype)))


@pytest.mark.parametrize("surrogate", SURROGATES, ids=lambda s: s.name)
@pytest.mark.parametrize("detach", [False, True])
def test_every_surrogate_derivative(surrogate: sg.Surrogate, detach: bool) -> None:
    spec = NeuronSpec(kind="plif", v_reset=None, detach_reset=detach, surrogate=surrogate)
    _assert_same(*_both(spec, *_inputs(spec, torch.float64, shape=(9, 4, 6))))
    assert set(kernels.SURROGATE_CODES) == set(sg.surrogate_names())


@pytest.mark.parametrize("chunk", [1, 3, 8])
@pytest.mark.parametrize("spec", [NeuronSpec(kind="plif", v_reset=None), NeuronSpec(kind="lif", tau=2.5)], ids=_name)
def test_chunked_runs_equal_one_run(spec: NeuronSpec, chunk: int) -> None:
    x, v0, w = _inputs(spec, torch.float32, shape=(8, 3, 5))
    s_all, _, v_all = numba_multistep(x, spec, v0, torch.sigmoid(w) if w is not None else None)
    leaves = [t for t in (x, v0, w) if t is not None]
    ref = torch.autograd.grad(s_all.sum() * 0.5 + v_all.sum(), leaves)
    pieces, v = [], v0
    k = torch.sigmoid(w) if w is not None else None
    for start in range(0, x.shape[0], chunk):
        s, _, v = numba_multistep(x[start : start + chunk], spec, v, k)
        pieces.append(s)
    assert torch.equal(torch.cat(pieces), s_all) and torch.equal(v, v_all)
    got = torch.autograd.grad(torch.cat(pieces).sum() * 0.5 + v.sum(), leaves)
    for a, b in zip(got, ref, strict=True):
        torch.testing.assert_close(a, b)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    shape=st.lists(st.integers(1, 9), min_size=2, max_size=4),
    wide=st.booleans(),
    spec=st.sampled_from(CONFIGS),
    seed=st.integers(0, 2**16),
)
def test_any_shape(shape: list[int], wide: bool, spec: NeuronSpec, seed: int) -> None:
    if wide:  # more neurons than one parallel block, and a partial last block
        shape = [shape[0], kernels.BLOCK + 37]
    _assert_same(*_both(spec, *_inputs(spec, torch.float32, shape=tuple(shape), seed=seed), seed=seed))


def test_without_gradients_nothing_is_kept_and_the_result_is_the_same() -> None:
    spec = NeuronSpec(kind="lif")
    x = torch.randn(6, 4, 5) + 0.6
    with torch.no_grad():
        s, v_seq, v_last = numba_multistep(x, spec, need_v_seq=True)
    ref = fused_multistep(x, spec, need_v_seq=True)
    assert all(torch.equal(a, b) for a, b in zip((s, v_seq, v_last), ref, strict=True))
    assert not s.requires_grad


def test_plif_decay_gradient_does_not_depend_on_the_thread_count() -> None:
    spec = NeuronSpec(kind="plif")
    x, v0, w = _inputs(spec, torch.float32, shape=(5, 3 * kernels.BLOCK + 11))
    threads = torch.get_num_threads()
    grads = []
    try:
        for n in (1, 2):
            torch.set_num_threads(n)
            s, _, _ = numba_multistep(x, spec, v0, torch.sigmoid(w))
            grads.append(torch.autograd.grad(s.sum(), w)[0])
    finally:
        torch.set_num_threads(threads)
    assert torch.equal(grads[0], grads[1])


def test_non_contiguous_and_mixed_dtype_inputs() -> None:
    spec = NeuronSpec(kind="lif")
    base = (torch.randn(5, 6, 4) + 0.6).requires_grad_()
    x = base.transpose(1, 2)  # [5, 4, 6], not contiguous
    v0 = torch.zeros(6, 4, dtype=torch.float64).t().requires_grad_()
    s, _, v_last = numba_multistep(x, spec, v0)
    ref_s, _, ref_v = fused_multistep(x.contiguous(), spec, v0.detach().float())
    assert torch.equal(s, ref_s) and torch.equal(v_last, ref_v)
    assert v_last.dtype == torch.float32
    gx, gv = torch.autograd.grad(s.sum() + v_last.sum(), [base, v0])
    assert gx.shape == base.shape and gv.dtype == torch.float64


def test_empty_inputs() -> None:
    s, _, v_last = numba_multistep(torch.zeros(0, 3), NeuronSpec())
    assert s.shape == (0, 3) and torch.equal(v_last, torch.zeros(3))
    s, _, _ = numba_multistep(torch.zeros(4, 0), NeuronSpec())
    assert s.shape == (4, 0)


class _MySurrogate(sg.Sigmoid):
    def derivative_(self, x: torch.Tensor) -> torch.Tensor:
        return x.fill_(1.0)


@pytest.mark.parametrize(
    ("x", "spec", "match"),
    [
        (torch.zeros(3, 2, dtype=torch.float16), NeuronSpec(), "float32 or float64, not float16"),
        (torch.zeros(3, 2, dtype=torch.bfloat16), NeuronSpec(), "not bfloat16"),
        (torch.zeros(3, 2), NeuronSpec(surrogate=sg.Sigmoid(spiking=False)), "spiking=False"),
        (torch.zeros(3, 2), NeuronSpec(surrogate=_MySurrogate()), "no derivative for surrogate _MySurrogate"),
        (torch.zeros(3, 2), NeuronSpec(v_threshold=torch.ones(2)), "a number for v_threshold"),
    ],
)
def test_what_it_cannot_run_is_a_clear_error_and_auto_falls_back(x, spec, match) -> None:
    with pytest.raises(ConfigError, match=match):
        run_multistep(x, spec, backend="numba")
    if not spec.tensor_threshold:
        with pytest.raises(ConfigError, match=r"backend='numba' cannot run this neuron: .*'torch' or 'auto'\."):
            numba_multistep(x, spec)
        assert select_backend("auto", x, spec) == "torch"
    s, _, _ = run_multistep(x, spec)  # auto runs it on the torch path
    assert s.shape == x.shape


def test_integer_input_is_rejected() -> None:
    with pytest.raises(ConfigError, match="floating-point input"):
        run_multistep(torch.zeros(3, 2, dtype=torch.int64), NeuronSpec(), backend="numba")


@pytest.mark.parametrize("spec", CONFIGS, ids=_name)
def test_run_step_is_one_kernel_call_equal_to_the_torch_step(spec: NeuronSpec) -> None:
    x, v0, w = _inputs(spec, torch.float32, shape=(1, 4, 6))
    x = x[0]
    leaves = [t for t in (x, v0, w) if t is not None]
    out = []
    for backend in ("numba", "torch"):
        k = torch.sigmoid(w) if w is not None else None
        s, v = run_step(x, spec, v0, k=k, backend=backend)
        out.append((s, v, torch.autograd.grad(s.sum() * 0.7 + (v * v).sum(), leaves)))
    (s, v, grads), (s_ref, v_ref, ref) = out
    assert torch.equal(s, s_ref) and torch.equal(v, v_ref)
    for a, b in zip(grads, ref, strict=True):
        torch.testing.assert_close(a, b)
    s_rest, v_rest = run_step(x, spec, k=torch.sigmoid(w) if w is not None else None)  # from rest
    assert s_rest.shape == x.shape and v_rest.shape == x.shape


def test_concurrent_calls_from_two_threads() -> None:
    spec = NeuronSpec(kind="plif")
    x, v0, w = _inputs(spec, torch.float32, shape=(4, 2 * kernels.BLOCK + 3))
    k = torch.sigmoid(w).detach()
    expected = numba_multistep(x.detach(), spec, v0.detach(), k)
    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(lambda _: numba_multistep(x.detach(), spec, v0.detach(), k), range(4)))
    for got in results:
        assert torch.equal(got[0], expected[0]) and torch.equal(got[2], expected[2])
