"""The 14 surrogate functions against their formulas: finite differences of the primitive, hand-computed
values, integrals of the derivative, and the module behaviour (in-place hyper-parameters, ``spiking``
switch, pickling, names) inside real neurons."""

from __future__ import annotations

import copy
import math
import pickle
from collections.abc import Callable
from typing import Any

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from eventpipe.errors import ConfigError, UnknownNameError
from eventpipe.snn import surrogate as sg
from eventpipe.snn.cuda import backend as cuda_backend
from eventpipe.snn.dynamics import NeuronSpec
from eventpipe.snn.functional import reset_net
from eventpipe.snn.neuron import LIFNode
from eventpipe.snn.triton import backend as triton_backend

# SpikingJelly 0.0.0.0.14's activation_based.surrogate functions
SPIKINGJELLY_NAMES = {
    "PiecewiseQuadratic", "PiecewiseExp", "Sigmoid", "SoftSign", "ATan", "NonzeroSignLogAbs", "Erf",
    "PiecewiseLeakyReLU", "SquarewaveFourierSeries", "S2NN", "QPseudoSpike", "LeakyKReLU",
    "FakeNumericalGradient", "LogTailedReLU",
}  # fmt: skip

# (class, non-default hyper-parameters, points where g' jumps or bends)
CASES: list[tuple[type[sg.Surrogate], dict[str, Any], Callable[[Any], list[float]]]] = [
    (sg.Sigmoid, {"alpha": 2.5}, lambda m: []),
    (sg.ATan, {"alpha": 3.0}, lambda m: []),
    (sg.PiecewiseQuadratic, {"alpha": 2.0}, lambda m: [0.0, 1 / m.alpha, -1 / m.alpha]),
    (sg.SoftSign, {"alpha": 1.5}, lambda m: [0.0]),
    (sg.Erf, {"alpha": 0.7}, lambda m: []),
    (sg.PiecewiseExp, {"alpha": 2.0}, lambda m: [0.0]),
    (sg.NonzeroSignLogAbs, {"alpha": 2.0}, lambda m: [0.0]),
    (sg.PiecewiseLeakyReLU, {"w": 0.5, "c": 0.1}, lambda m: [m.w, -m.w]),
    (sg.SquarewaveFourierSeries, {"n": 4, "T_period": 5.0}, lambda m: []),
    (sg.S2NN, {"alpha": 3.0, "beta": 2.0}, lambda m: [0.0]),
    (sg.QPseudoSpike, {"alpha": 3.5}, lambda m: [0.0]),
    (sg.LeakyKReLU, {"leak": 0.2, "k": 1.5}, lambda m: [0.0]),
    (sg.FakeNumericalGradient, {"alpha": 0.5}, lambda m: [0.0, 1 / m.alpha, -1 / m.alpha]),
    (sg.LogTailedReLU, {"alpha": 0.1}, lambda m: [0.0, 1.0]),
]
CLASSES = [c for c, _, _ in CASES]
IDS = [c.__name__ for c in CLASSES]


def _instances() -> list[tuple[sg.Surrogate, list[float]]]:
    """Every surrogate with its defaults and with the non-default hyper-parameters, and its kinks."""
    out = []
    for cls, params, kinks in CASES:
        for m in (cls(), cls(**params)):
            out.append((m, kinks(m)))
    return out


INSTANCES = _instances()
INSTANCE_IDS = [repr(m) for m, _ in INSTANCES]


def test_all_of_spikingjellys_surrogates_exist() -> None:
    assert {c.__name__ for c in CLASSES} == SPIKINGJELLY_NAMES
    assert all(issubclass(getattr(sg, n), nn.Module) for n in SPIKINGJELLY_NAMES)
    assert len(sg.surrogate_names()) == 14


@pytest.mark.parametrize(("surrogate", "kinks"), INSTANCES, ids=INSTANCE_IDS)
def test_forward_is_heaviside(surrogate: sg.Surrogate, kinks: list[float]) -> None:
    x = torch.tensor([-2.0, -1e-7, 0.0, 1e-7, 3.0])
    assert surrogate(x).tolist() == [0.0, 0.0, 1.0, 1.0, 1.0]


@pytest.mark.parametrize(("surrogate", "kinks"), INSTANCES, ids=INSTANCE_IDS)
def test_derivative_is_finite_difference_of_primitive(surrogate: sg.Surrogate, kinks: list[float]) -> None:
    x = torch.linspace(-4, 4, 801, dtype=torch.float64)
    for k in kinks:
        x = x[(x - k).abs() > 1e-3]
    eps = 1e-6
    numeric = (surrogate.primitive(x + eps) - surrogate.primitive(x - eps)) / (2 * eps)
    torch.testing.assert_close(surrogate.derivative(x), numeric, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize(("surrogate", "kinks"), INSTANCES, ids=INSTANCE_IDS)
def test_autograd_through_the_primitive_gives_the_derivative(
    surrogate: sg.Surrogate, kinks: list[float]
) -> None:
    """``spiking=False`` is differentiable by autograd, also exactly at 0 and at the kinks."""
    surrogate = copy.deepcopy(surrogate)  # the shared instance stays spiking
    surrogate.spiking = False
    x = torch.cat([torch.linspace(-4, 4, 81, dtype=torch.float64), torch.tensor(kinks, dtype=torch.float64)])
    x.requires_grad_(True)
    y = surrogate(x)
    torch.testing.assert_close(y, surrogate.primitive(x.detach()))
    y.sum().backward()
    assert x.grad is not None
    torch.testing.assert_close(x.grad, surrogate.derivative(x.detach()), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(("surrogate", "kinks"), INSTANCES, ids=INSTANCE_IDS)
def test_backward_of_the_spikes_uses_the_derivative(surrogate: sg.Surrogate, kinks: list[float]) -> None:
    x = torch.linspace(-2, 2, 41, requires_grad=True)
    grad_out = torch.linspace(0.5, 1.5, 41)
    surrogate(x).backward(grad_out)
    torch.testing.assert_close(x.grad, grad_out * surrogate.derivative(x.detach()))


@pytest.mark.parametrize(("surrogate", "kinks"), INSTANCES, ids=INSTANCE_IDS)
def test_in_place_derivative_writes_into_its_argument(surrogate: sg.Surrogate, kinks: list[float]) -> None:
    x = torch.linspace(-2, 2, 41)
    y = x.clone()
    out = surrogate.derivative_(y)
    assert out.data_ptr() == y.data_ptr()
    torch.testing.assert_close(out, surrogate.derivative(x))


E = math.e


def _sig(z: float) -> float:
    return 1 / (1 + math.exp(-z))


# (surrogate, x, g(x), g'(x)) worked out by hand from the published formulas
HAND = [
    (sg.Sigmoid(), 0.0, 0.5, 1.0),
    (sg.Sigmoid(alpha=2.0), 0.5, _sig(1.0), 2 * _sig(1.0) * (1 - _sig(1.0))),
    (sg.ATan(), 0.0, 0.5, 1.0),
    (sg.ATan(alpha=2.0), 1.0, math.atan(math.pi) / math.pi + 0.5, 1 / (1 + math.pi**2)),
    (sg.PiecewiseQuadratic(), 0.5, 0.875, 0.5),
    (sg.PiecewiseQuadratic(), -0.5, 0.125, 0.5),
    (sg.PiecewiseQuadratic(), 1.5, 1.0, 0.0),
    (sg.SoftSign(), 0.5, 0.75, 0.25),  # softsign(1) = 1/2; 1 / (2*2*(1/2+1/2)^2)
    (sg.Erf(), 0.0, 0.5, 2 / math.sqrt(math.pi)),
    (sg.PiecewiseExp(), 1.0, 1 - 0.5 / E, 0.5 / E),
    (sg.PiecewiseExp(), -1.0, 0.5 / E, 0.5 / E),
    (sg.NonzeroSignLogAbs(), 1.0, math.log(2), 0.5),
    (sg.NonzeroSignLogAbs(), -1.0, -math.log(2), 0.5),
    (sg.NonzeroSignLogAbs(alpha=3.0), 0.0, 0.0, 3.0),
    (sg.PiecewiseLeakyReLU(), 0.0, 0.5, 0.5),
    (sg.PiecewiseLeakyReLU(), 0.5, 0.75, 0.5),
    (sg.PiecewiseLeakyReLU(), 2.0, 1.01, 0.01),  # 0.01*2 - 0.01 + 1
    (sg.PiecewiseLeakyReLU(), -2.0, -0.01, 0.01),  # 0.01*(-2) + 0.01
    (sg.PiecewiseLeakyReLU(w=0.25, c=0.0), 3.0, 1.0, 0.0),
    (sg.SquarewaveFourierSeries(), 0.0, 0.5, 0.5),  # 4/8 cos(0)
    (sg.SquarewaveFourierSeries(), 2.0, 0.5 + 2 / math.pi, 0.0),  # w x = pi/2
    (sg.SquarewaveFourierSeries(n=3), 0.0, 0.5, 1.0),  # 4/8 (cos 0 + cos 0)
    (sg.S2NN(), -0.5, _sig(-2.0), 4 * _sig(-2.0) * (1 - _sig(-2.0))),
    (sg.S2NN(), 0.0, 0.5, 1.0),
    (sg.S2NN(), 1.0, math.log(2) + 0.5, 0.5),
    (sg.S2NN(beta=3.0), 1.0, 3 * math.log(2) + 0.5, 1.5),
    (sg.QPseudoSpike(), 0.5, 0.75, 0.25),  # 1 - (1/2)(1+1)^-1; (1+1)^-2
    (sg.QPseudoSpike(), -0.5, 0.25, 0.25),
    (sg.QPseudoSpike(alpha=3.0), 1.0, 0.875, 0.125),  # 1 - (1/2) 2^-2; 2^-3
    (sg.LeakyKReLU(), -1.0, 0.0, 0.0),
    (sg.LeakyKReLU(leak=0.1, k=2.0), -1.0, -0.1, 0.1),
    (sg.LeakyKReLU(leak=0.1, k=2.0), 3.0, 6.0, 2.0),
    (sg.FakeNumericalGradient(), 0.0, 0.0, 0.3),
    (sg.FakeNumericalGradient(), 1.0, 0.3, 0.3),
    (sg.FakeNumericalGradient(), 10.0, 1 + math.log(3), 0.1),
    (sg.FakeNumericalGradient(), -10.0, -1 - math.log(3), 0.1),
    (sg.LogTailedReLU(), -2.0, 0.0, 0.0),
    (sg.LogTailedReLU(alpha=0.1), -2.0, -0.2, 0.1),
    (sg.LogTailedReLU(), 0.5, 0.5, 1.0),
    (sg.LogTailedReLU(), 4.0, math.log(4) + 1, 0.25),
]


@pytest.mark.parametrize(("surrogate", "x", "g", "dg"), HAND, ids=[f"{s!r}-{x}" for s, x, _, _ in HAND])
def test_hand_computed_values(surrogate: sg.Surrogate, x: float, g: float, dg: float) -> None:
    t = torch.tensor([x], dtype=torch.float64)
    assert surrogate.primitive(t).item() == pytest.approx(g, rel=1e-12, abs=1e-12)
    assert surrogate.derivative(t).item() == pytest.approx(dg, rel=1e-12, abs=1e-12)


STEPS = [sg.Sigmoid, sg.ATan, sg.PiecewiseQuadratic, sg.SoftSign, sg.Erf, sg.PiecewiseExp, sg.QPseudoSpike]


@pytest.mark.parametrize("cls", STEPS, ids=[c.__name__ for c in STEPS])
def test_primitive_is_a_smooth_step(cls: type[sg.Surrogate]) -> None:
    x = torch.tensor([-1e6, 0.0, 1e6], dtype=torch.float64)  # ATan and SoftSign approach 0 and 1 slowly
    torch.testing.assert_close(
        cls().primitive(x), torch.tensor([0.0, 0.5, 1.0], dtype=torch.float64), atol=1e-5, rtol=0
    )
    assert (cls().derivative(torch.linspace(-5, 5, 101)) >= 0).all()


positive = st.floats(0.2, 6.0)
PARAMETERS = {
    sg.Sigmoid: st.fixed_dictionaries({"alpha": positive}),
    sg.ATan: st.fixed_dictionaries({"alpha": positive}),
    sg.PiecewiseQuadratic: st.fixed_dictionaries({"alpha": positive}),
    sg.SoftSign: st.fixed_dictionaries({"alpha": positive}),
    sg.Erf: st.fixed_dictionaries({"alpha": positive}),
    sg.PiecewiseExp: st.fixed_dictionaries({"alpha": positive}),
    sg.NonzeroSignLogAbs: st.fixed_dictionaries({"alpha": positive}),
    sg.PiecewiseLeakyReLU: st.fixed_dictionaries({"w": positive, "c": st.floats(0.0, 1.0)}),
    sg.SquarewaveFourierSeries: st.fixed_dictionaries({"n": st.integers(2, 6), "T_period": st.floats(2.0, 20.0)}),
    sg.S2NN: st.fixed_dictionaries({"alpha": positive, "beta": positive}),
    sg.QPseudoSpike: st.fixed_dictionaries({"alpha": st.floats(1.1, 8.0)}),
    sg.LeakyKReLU: st.fixed_dictionaries({"leak": st.floats(-1.0, 1.0), "k": st.floats(-2.0, 2.0)}),
    sg.FakeNumericalGradient: st.fixed_dictionaries({"alpha": positive}),
    sg.LogTailedReLU: st.fixed_dictionaries({"alpha": st.floats(0.0, 1.0)}),
}  # fmt: skip
assert set(PARAMETERS) == set(CLASSES)


@st.composite
def surrogates(draw: st.DrawFn) -> sg.Surrogate:
    cls = draw(st.sampled_from(CLASSES))
    params: dict[str, Any] = draw(PARAMETERS[cls])
    return cls(**params)


@given(surrogates(), st.floats(-4.0, 4.0), st.floats(0.01, 4.0))
@settings(max_examples=50, deadline=None)
def test_primitive_is_the_integral_of_the_derivative(surrogate: sg.Surrogate, a: float, width: float) -> None:
    """``g(b) - g(a)`` equals the trapezoid integral of ``g'`` over ``[a, b]`` (across the kinks too)."""
    x = torch.linspace(a, a + width, 8001, dtype=torch.float64)
    integral = torch.trapezoid(surrogate.derivative(x), x).item()
    ends = surrogate.primitive(x[[0, -1]])
    step = width / 8000  # a jump J in g' costs the trapezoid rule at most J step / 2 (J <= 4 here)
    assert (ends[1] - ends[0]).item() == pytest.approx(integral, abs=1e-6 + 2 * step)


@given(surrogates(), st.data())
@settings(max_examples=40, deadline=None)
def test_changing_a_hyperparameter_in_place_equals_a_fresh_instance(
    surrogate: sg.Surrogate, data: st.DataObject
) -> None:
    cls = type(surrogate)
    new: dict[str, Any] = data.draw(PARAMETERS[cls])
    x = torch.linspace(-3, 3, 61, dtype=torch.float64, requires_grad=True)
    for name, value in new.items():
        setattr(surrogate, name, value)
    surrogate(x).sum().backward()
    fresh = cls(**new)
    torch.testing.assert_close(x.grad, fresh.derivative(x.detach()), rtol=0, atol=0)
    torch.testing.assert_close(surrogate.primitive(x.detach()), fresh.primitive(x.detach()), rtol=0, atol=0)


def _net(alpha: float) -> nn.Sequential:
    torch.manual_seed(0)
    return nn.Sequential(
        nn.Linear(6, 5, dtype=torch.float64),
        LIFNode(tau=2.0, surrogate_function=sg.Sigmoid(alpha=alpha), step_mode="m", backend="torch"),
        nn.Linear(5, 3, dtype=torch.float64),
        LIFNode(tau=2.0, surrogate_function=sg.Sigmoid(alpha=alpha), step_mode="m", backend="torch"),
    )


def _input_grad(net: nn.Module) -> torch.Tensor:
    x = (
        torch.rand(8, 4, 6, generator=torch.Generator().manual_seed(1), dtype=torch.float64) * 3
    ).requires_grad_()
    reset_net(net)
    net(x).sum().backward()
    assert x.grad is not None
    return x.grad


def test_alpha_set_through_net_modules_reaches_every_neuron() -> None:
    """SpikingJelly's sweep idiom: ``for m in net.modules(): if isinstance(m, Sigmoid): m.alpha = a``."""
    net = _net(4.0)
    found = [m for m in net.modules() if isinstance(m, sg.Sigmoid)]
    assert len(found) == 2
    before = _input_grad(net)
    for m in net.modules():
        if isinstance(m, sg.Sigmoid):
            m.alpha = 1.5
    after = _input_grad(net)
    torch.testing.assert_close(after, _input_grad(_net(1.5)), rtol=1e-12, atol=1e-14)
    assert not torch.allclose(before, after)


def test_spiking_switch_in_a_neuron() -> None:
    """``spiking=False`` makes the neuron's output the smooth primitive, flipped back it spikes again."""
    torch.manual_seed(0)
    sgf = sg.ATan(spiking=False)
    node = LIFNode(tau=2.0, surrogate_function=sgf, step_mode="m", backend="torch")
    x = torch.rand(6, 3, 4, dtype=torch.float64) * 2
    smooth = node(x)
    assert ((smooth > 0) & (smooth < 1)).any()
    sgf.set_spiking_mode(True)
    reset_net(node)
    assert set(node(x).unique().tolist()) <= {0.0, 1.0}
    for m in node.modules():
        if isinstance(m, sg.Surrogate):
            m.spiking = False
    reset_net(node)
    torch.testing.assert_close(node(x), smooth)


@pytest.mark.parametrize("spiking", [True, False])
@pytest.mark.parametrize("cls", CLASSES, ids=IDS)
def test_every_surrogate_runs_in_the_fused_torch_backend(cls: type[sg.Surrogate], spiking: bool) -> None:
    """The fused multi-step neuron (hand-written backward) against autograd through single steps."""
    params = dict(next(p for c, p, _ in CASES if c is cls))
    node = LIFNode(tau=2.0, v_reset=None, surrogate_function=cls(spiking=spiking, **params), step_mode="m",
                   backend="torch")  # fmt: skip
    x = torch.rand(7, 3, 5, generator=torch.Generator().manual_seed(2), dtype=torch.float64) * 1.6 - 0.2
    x.requires_grad_(True)
    weights = torch.linspace(-1, 1, x[0].numel(), dtype=torch.float64).reshape(x.shape[1:])
    fused = node(x)
    (fused * weights).sum().backward()
    assert x.grad is not None
    grad_fused = x.grad.clone()
    x.grad = None
    reset_net(node)
    state, outs = None, []
    for t in range(x.shape[0]):
        s, state = node.step(x[t], state)
        outs.append(s)
    reference = torch.stack(outs)
    (reference * weights).sum().backward()
    torch.testing.assert_close(fused, reference, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(grad_fused, x.grad, rtol=1e-10, atol=1e-12)


def test_gpu_kernels_run_the_six_and_refuse_the_rest_by_name() -> None:
    """``auto`` falls back to ``torch`` where the CUDA/Triton kernels lack a surrogate; the reason names it."""
    for cls in CLASSES:
        reason = cuda_backend.unsupported_reason(NeuronSpec(surrogate=cls()))
        assert triton_backend.unsupported_reason(NeuronSpec(surrogate=cls())) == reason
        if cls.cuda_code is None:
            assert reason is not None and cls.__name__ in reason
        else:
            assert reason is None and isinstance(cls().alpha, float)
    assert sorted(c.cuda_code for c in CLASSES if c.cuda_code is not None) == list(range(6))


@pytest.mark.parametrize(("cls", "params", "kinks"), CASES, ids=IDS)
def test_pickle_deepcopy_and_state_dict(
    cls: type[sg.Surrogate], params: dict[str, float], kinks: object
) -> None:
    m = cls(spiking=False, **params)
    x = torch.linspace(-2, 2, 9, dtype=torch.float64)
    for clone in (pickle.loads(pickle.dumps(m)), copy.deepcopy(m)):
        assert type(clone) is cls and clone.spiking is False
        assert {k: getattr(clone, k) for k in cls.hyperparameters} == params
        torch.testing.assert_close(clone(x), m(x), rtol=0, atol=0)
    clone = copy.deepcopy(m)
    clone.spiking = True
    assert m.spiking is False  # independent copies
    # hyper-parameters are not state: SpikingJelly's checkpoint keys are unchanged
    assert m.state_dict() == {}
    node = LIFNode(surrogate_function=m, step_mode="m")
    assert not any("surrogate" in k for k in node.state_dict())
    LIFNode(surrogate_function=cls(), step_mode="m").load_state_dict(node.state_dict())


def test_a_pickled_network_keeps_the_changed_alpha() -> None:
    net = _net(4.0)
    for m in net.modules():
        if isinstance(m, sg.Sigmoid):
            m.alpha = 2.0
    clone = pickle.loads(pickle.dumps(net))
    assert [m.alpha for m in clone.modules() if isinstance(m, sg.Sigmoid)] == [2.0, 2.0]


def test_repr_lists_the_hyperparameters() -> None:
    assert repr(sg.S2NN()) == "S2NN(alpha=4.0, beta=1.0, spiking=True)"
    # SpikingJelly's argument order: spiking, leak, k
    assert repr(sg.LeakyKReLU(False, 0.1)) == "LeakyKReLU(leak=0.1, k=1.0, spiking=False)"
    assert "ATan(alpha=2.0, spiking=True)" in repr(LIFNode(surrogate_function=sg.ATan()))


@pytest.mark.parametrize(
    ("build", "match"),
    [
        (lambda: sg.Sigmoid(alpha=0.0), "alpha of Sigmoid"),
        (lambda: sg.ATan(alpha=float("nan")), "alpha of ATan"),
        (lambda: sg.Erf(alpha=True), "alpha of Erf"),
        (lambda: sg.QPseudoSpike(alpha=1.0), r"number > 1 for argument alpha of QPseudoSpike"),
        (lambda: sg.PiecewiseLeakyReLU(w=-1.0), "w of PiecewiseLeakyReLU"),
        (lambda: sg.SquarewaveFourierSeries(n=1), "n of SquarewaveFourierSeries"),
        (lambda: sg.SquarewaveFourierSeries(n=2.5), "integer"),  # type: ignore[arg-type]
        (lambda: sg.SquarewaveFourierSeries(T_period=0), "T_period"),
        (lambda: sg.S2NN(beta=-1.0), "beta of S2NN"),
        (lambda: sg.LeakyKReLU(leak=float("inf")), "leak of LeakyKReLU"),
        (lambda: sg.LogTailedReLU(alpha="0.1"), "alpha of LogTailedReLU"),  # type: ignore[arg-type]
        (lambda: sg.Sigmoid(spiking=1), "spiking of Sigmoid"),  # type: ignore[arg-type]
    ],
)
def test_invalid_hyperparameters_are_refused(build: Callable[[], object], match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        build()


def test_a_refused_assignment_keeps_the_old_value() -> None:
    m = sg.Sigmoid(alpha=3.0)
    with pytest.raises(ConfigError, match="Got -1"):
        m.alpha = -1
    assert m.alpha == 3.0
    m.alpha = 5  # ints are stored as floats, the scalar the CUDA kernels take
    assert m.alpha == 5.0 and isinstance(m.alpha, float)


def test_names() -> None:
    assert set(sg.surrogate_names()) == {
        "atan", "erf", "fake_numerical_gradient", "leaky_k_relu", "log_tailed_relu", "nonzero_sign_log_abs",
        "piecewise_exp", "piecewise_leaky_relu", "piecewise_quadratic", "q_pseudo_spike", "s2nn", "sigmoid",
        "soft_sign", "squarewave_fourier_series",
    }  # fmt: skip
    for cls in CLASSES:  # the configuration name and the class name both work
        assert type(sg.surrogate_from_name(cls.name)) is cls
        assert type(sg.surrogate_from_name(cls.__name__)) is cls
    made = sg.surrogate_from_name("piecewise-leaky-relu", w=0.5, c=0.0, spiking=False)
    assert (made.w, made.c, made.spiking) == (0.5, 0.0, False)
    assert sg.surrogate_from_name("ATan", alpha=3.0).alpha == 3.0
    with pytest.raises(UnknownNameError, match="Valid values"):
        sg.surrogate_from_name("tanh")
    with pytest.raises(ConfigError, match=r"Unknown argument\(s\) \['alpha'\].*'w'"):
        sg.surrogate_from_name("piecewise_leaky_relu", alpha=2.0)


# -- SpikingJelly's functional forms ------------------------------------------------------------------------

FUNCTIONAL_NAMES = {
    "piecewise_quadratic", "piecewise_exp", "sigmoid", "soft_sign", "atan", "nonzero_sign_log_abs", "erf",
    "piecewise_leaky_relu", "squarewave_fourier_series", "s2nn", "q_pseudo_spike", "leaky_k_relu",
    "fake_numerical_gradient", "log_tailed_relu",
}  # fmt: skip


def test_every_surrogate_has_its_functional_form() -> None:
    assert {c.name for c in CLASSES} == FUNCTIONAL_NAMES
    for name in FUNCTIONAL_NAMES:
        assert issubclass(getattr(sg, name), torch.autograd.Function)
        assert callable(getattr(sg, f"{name}_backward"))


@pytest.mark.parametrize(("surrogate", "kinks"), INSTANCES, ids=INSTANCE_IDS)
def test_functional_form_spikes_with_the_finite_difference_gradient(
    surrogate: sg.Surrogate, kinks: list[float]
) -> None:
    params = [getattr(surrogate, h) for h in surrogate.hyperparameters]
    x = torch.linspace(-3, 3, 301, dtype=torch.float64)
    for k in kinks:
        x = x[(x - k).abs() > 1e-3]
    x.requires_grad_(True)
    out = getattr(sg, surrogate.name).apply(x, *params)
    assert torch.equal(out.detach(), (x.detach() >= 0).double())
    weights = torch.linspace(0.5, 1.5, len(x), dtype=torch.float64)
    (out * weights).sum().backward()
    eps = 1e-6
    xd = x.detach()
    numeric = (surrogate.primitive(xd + eps) - surrogate.primitive(xd - eps)) / (2 * eps)
    torch.testing.assert_close(x.grad, weights * numeric, rtol=1e-5, atol=1e-7)
    backward = getattr(sg, f"{surrogate.name}_backward")
    torch.testing.assert_close(backward(weights, xd, *params), weights * numeric, rtol=1e-5, atol=1e-7)


def test_functional_form_hand_values_and_defaults() -> None:
    x = torch.zeros(1, requires_grad=True)
    sg.atan.apply(x, 4.0).backward()
    assert x.grad.item() == 2.0  # alpha / 2 at 0
    x.grad = None
    sg.sigmoid.apply(x).backward()  # default alpha = 4: alpha / 4 at 0
    assert x.grad.item() == 1.0
    one = torch.ones(1)
    # piecewise leaky ReLU: slope 1 / (2w) inside [-w, w], c outside
    assert sg.piecewise_leaky_relu_backward(one, torch.tensor([0.2]), 0.5, 0.1).item() == 1.0
    assert sg.piecewise_leaky_relu_backward(one, torch.tensor([0.7]), 0.5, 0.1).item() == pytest.approx(0.1)
