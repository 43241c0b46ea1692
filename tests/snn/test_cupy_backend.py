"""Parity of the GPU kernel backends (CuPy's CUDA kernels and the compiled Triton kernels) with the torch
backend on a GPU: spikes and potentials equal, gradients allclose, for every neuron configuration,
float32 / float16 / bfloat16, odd neuron counts and T = 1; ``auto``'s choice, a whole model and AMP."""

from __future__ import annotations

import itertools
import zlib

import pytest
import torch

from eventpipe.errors import ConfigError
from eventpipe.snn import backends, functional, models, surrogate
from eventpipe.snn.cuda import backend as cuda_backend
from eventpipe.snn.dynamics import NeuronSpec
from eventpipe.snn.fused import fused_multistep
from eventpipe.snn.neuron import LIFNode, ParametricLIFNode
from eventpipe.snn.triton import backend as triton_backend

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device"),
]

_MODULES = {"cupy": cuda_backend, "triton": triton_backend}
MULTISTEP = {"cupy": cuda_backend.cupy_multistep, "triton": triton_backend.triton_multistep}


@pytest.fixture(params=list(_MODULES))
def gpu_backend(request: pytest.FixtureRequest) -> str:
    """Each GPU backend; skipped with its reason (e.g. CuPy not installed) where it cannot run."""
    reason = _MODULES[request.param].unavailable_reason()
    if reason is not None:
        pytest.skip(f"backend {request.param!r}: {reason}")
    return request.param


SPECS = [
    NeuronSpec(kind=kind, tau=3.0, decay_input=decay, v_reset=v_reset, detach_reset=detach, surrogate=sg)
    for kind, decay, v_reset, detach, sg in itertools.product(
        ("if", "lif", "plif"),
        (True, False),
        (0.0, None, -0.25),
        (False, True),
        (surrogate.Sigmoid(), surrogate.ATan()),
    )
    if not (kind == "if" and not decay)
] + [
    NeuronSpec(kind="plif", surrogate=sg)
    for sg in (
        surrogate.PiecewiseQuadratic(),
        surrogate.SoftSign(),
        surrogate.Erf(),
        surrogate.PiecewiseExp(),
    )
]
SHAPES = [(1, 1), (1, 257), (7, 3, 5), (16, 33, 129)]  # T = 1, odd and multi-block neuron counts
TOLERANCE = {torch.float32: (1e-5, 1e-5), torch.float16: (1e-2, 2e-3), torch.bfloat16: (5e-2, 2e-2)}


def _name(spec: NeuronSpec) -> str:
    return f"{spec.kind}-vr{spec.v_reset}-di{int(spec.decay_input)}-dr{int(spec.detach_reset)}-{spec.surrogate.name}"


def _run(fn, spec, x, v0, w):
    x = x.detach().requires_grad_()
    v0 = v0.detach().requires_grad_()
    w = w.detach().requires_grad_()
    k = torch.sigmoid(w) if spec.kind == "plif" else None
    s, v_seq, v_last = fn(x, spec, v0, k, need_v_seq=True)
    gen = torch.Generator(device=x.device).manual_seed(7)
    gs, gv = (torch.randn(s.shape, generator=gen, device=x.device).to(x.dtype) for _ in range(2))
    gl = torch.randn(v_last.shape, generator=gen, device=x.device).to(x.dtype)
    torch.autograd.backward([s, v_seq, v_last], [gs, gv, gl])
    return s, v_seq, v_last, x.grad, v0.grad, w.grad


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16, torch.bfloat16], ids=str)
@pytest.mark.parametrize("spec", SPECS, ids=_name)
def test_gpu_backend_matches_torch_backend(gpu_backend: str, spec: NeuronSpec, dtype: torch.dtype) -> None:
    gen = torch.Generator(device="cuda").manual_seed(zlib.crc32(_name(spec).encode()))
    rtol, atol = TOLERANCE[dtype]
    for shape in SHAPES:
        x = (torch.randn(shape, generator=gen, device="cuda") * 0.9 + 0.45).to(dtype)
        v0 = (torch.randn(shape[1:], generator=gen, device="cuda") * 0.3).to(dtype)
        w = torch.tensor(0.4, device="cuda")
        ref = _run(fused_multistep, spec, x, v0, w)
        got = _run(MULTISTEP[gpu_backend], spec, x, v0, w)
        for name, a, b in zip(("spikes", "v_seq", "v_last"), ref[:3], got[:3], strict=True):
            assert torch.equal(a, b), f"shape {shape}: {name} differ at {(a != b).sum().item()} positions"
        for name, a, b in zip(("x", "v_init", "w"), ref[3:], got[3:], strict=True):
            if name == "w" and spec.kind != "plif":
                assert a is None and b is None
                continue
            assert b.dtype == a.dtype
            # dL/dw sums over every neuron and step, so its error grows with the count
            scale = 1.0 if name != "w" else float(x.numel()) ** 0.5
            torch.testing.assert_close(
                b.float(),
                a.float(),
                rtol=rtol,
                atol=atol * scale,
                msg=lambda m, n=name, s=shape: f"{s} grad {n}: {m}",
            )


def test_forward_without_gradients_and_without_initial_state(gpu_backend: str) -> None:
    x = torch.rand(9, 1001, device="cuda") * 1.5
    spec = NeuronSpec(kind="lif", tau=2.0)
    with torch.no_grad():
        a = fused_multistep(x, spec)
        b = MULTISTEP[gpu_backend](x, spec)
    assert torch.equal(a[0], b[0]) and torch.equal(a[2], b[2]) and b[1] is None


def test_large_index_and_many_blocks(gpu_backend: str) -> None:
    """More than 65535 blocks and T * N past 2**31 elements: the int64 offsets of both kernels."""
    steps, numel = 9, 2**28  # float16: x, h, spikes, their gradient and dL/dx, 4.5 GiB each
    need = 6 * steps * numel * 2
    if torch.cuda.mem_get_info()[0] < need:
        pytest.skip(f"needs {need / 2**30:.0f} GiB of free GPU memory for a [9, 2**28] float16 sequence")
    spec = NeuronSpec(kind="lif", tau=2.0)
    x = torch.full((steps, numel), 0.6, dtype=torch.float16, device="cuda")  # 9 * 2**28 > 2**31
    x[:, -1] = 2.5  # H = 1.25 from rest: the last neuron spikes at every step; the others never reach 1
    x.requires_grad_()
    s, _, v_last = MULTISTEP[gpu_backend](x, spec)
    assert bool(s[:, -1].all()) and not bool(s[:, :-1].any())
    s[-1, -1].backward()
    assert x.grad[-1, -1] != 0 and x.grad[:, :-1].abs().max() == 0
    del x, s, v_last
    torch.cuda.empty_cache()


def test_auto_picks_the_first_available_gpu_backend(monkeypatch: pytest.MonkeyPatch) -> None:
    x = torch.rand(4, 10, device="cuda")
    available = [n for n in backends.AUTO_ORDER if _MODULES[n].is_available()]
    if not available:
        pytest.skip("no GPU kernel backend installed (pip install 'eventpipe[cuda,triton]')")
    assert backends.select_backend("auto", x, NeuronSpec()) == available[0]
    calls = []
    module = _MODULES[available[0]]
    name = f"{available[0]}_multistep"
    original = getattr(module, name)
    monkeypatch.setattr(module, name, lambda *a, **k: calls.append(1) or original(*a, **k))
    node = LIFNode().cuda()
    node(x)
    assert calls == [1]
    node(torch.rand(4, 10, device="cuda", dtype=torch.float64))  # no float64 kernels: torch
    assert calls == [1]
    backends.set_backend("torch")
    try:
        assert backends.select_backend("auto", x, NeuronSpec()) == "torch"
    finally:
        backends.set_backend(None)
    with pytest.raises(ConfigError, match="float64"):
        LIFNode(backend=available[0])(torch.rand(4, 10, device="cuda", dtype=torch.float64))


def test_model_parity_and_amp(gpu_backend: str) -> None:
    torch.manual_seed(0)
    net = models.DVSGestureNet(channels=16, blocks=3, input_size=32, dropout=0.0).cuda()
    x = (torch.rand(6, 4, 2, 32, 32, device="cuda") < 0.2).float()
    functional.set_backend(net, "torch")
    ref = net(x)
    ref.sum().backward()
    grads_ref = [p.grad.clone() for p in net.parameters()]
    net.zero_grad()
    functional.set_backend(net, gpu_backend)
    out = net(x)
    out.sum().backward()
    assert torch.equal(out, ref)
    for p, g in zip(net.parameters(), grads_ref, strict=True):
        torch.testing.assert_close(p.grad, g, rtol=1e-4, atol=1e-5)
    with torch.autocast("cuda", dtype=torch.float16):
        out16 = net(x)
        out16.float().sum().backward()
    assert out16.shape == (6, 4, 11)


def test_plif_module_gradient_on_gpu(gpu_backend: str) -> None:
    node = ParametricLIFNode(backend=gpu_backend).cuda()
    ref = ParametricLIFNode(backend="torch").cuda()
    x = torch.rand(8, 3, 77, device="cuda") * 2
    node(x).sum().backward()
    ref(x).sum().backward()
    torch.testing.assert_close(node.w.grad, ref.w.grad, rtol=1e-4, atol=1e-4)
