"""QIF, EIF, Izhikevich, LIAF and KLIF neurons against their equations, written out again here step by step."""

from __future__ import annotations

import copy
import math
import pickle

import pytest
import torch
from torch import nn

from eventpipe.errors import ConfigError
from eventpipe.snn import functional, monitor, neuron, surrogate
from eventpipe.snn.neuron_extra import AdaptBaseNode, AdaptState
from eventpipe.train.build import neuron_classes, resolve_model_kwargs
from eventpipe.train.config import ModelConfig

ALPHA = 4.0  # the default Sigmoid surrogate's


def _spike(u: torch.Tensor) -> torch.Tensor:
    """Heaviside forward, gradient of sigmoid(ALPHA u) backward (straight-through form)."""
    sg = torch.sigmoid(ALPHA * u)
    return (u >= 0).to(u.dtype) + sg - sg.detach()


def _reference(name: str, p: dict, x_seq: torch.Tensor, k: torch.Tensor | None = None) -> tuple:
    """Outputs, potentials after each reset, adaptation currents and spikes, step by step from the equations."""
    v_th, v_reset, detach = p.get("v_threshold", 1.0), p["v_reset"], p.get("detach_reset", False)
    v = torch.full_like(x_seq[0], 0.0 if v_reset is None else v_reset)
    w = torch.full_like(x_seq[0], p.get("w_rest", 0.0))
    outs, vs, ws, spikes = [], [], [], []
    for x in x_seq:
        tau = p["tau"]
        if name == "qif":
            h = v + (x + p["a0"] * (v - p["v_rest"]) * (v - p["v_c"])) / tau
        elif name == "eif":
            h = (
                v
                + (x - (v - p["v_rest"]) + p["delta_T"] * torch.exp((v - p["theta_rh"]) / p["delta_T"])) / tau
            )
        elif name == "izhikevich":
            h = v + (x + p["a0"] * (v - p["v_rest"]) * (v - p["v_c"]) - w) / tau
            w = w + (p["a"] * (h - p["v_rest"]) - w) / p["tau_w"]
        else:  # liaf, klif: LIF's charge towards v_reset (0 with a soft reset)
            rest = 0.0 if v_reset is None else v_reset
            h = v + (x - (v - rest)) / tau if p["decay_input"] else v - (v - rest) / tau + x
            if name == "klif":
                h = torch.relu(k * h)
        s = _spike(h - v_th)
        sd = s.detach() if detach else s
        if name == "klif" and p["scale_reset"]:
            v = (h - sd * v_th) / k if v_reset is None else h / k * (1 - sd) + v_reset * sd
        elif v_reset is None:
            v = h - sd * v_th
        else:
            v = h * (1 - sd) + v_reset * (s if name == "izhikevich" else sd)
        if name == "izhikevich":
            w = w + p["b"] * s
        if name == "liaf":
            outs.append(torch.relu(h - v_th if p["threshold_related"] else h))
        else:
            outs.append(s)
        vs.append(v)
        ws.append(w)
        spikes.append(s.detach())
    return torch.stack(outs), torch.stack(vs), torch.stack(ws), torch.stack(spikes)


CASES = {
    "qif": [
        {"tau": 2.0, "v_c": 0.8, "a0": 1.0, "v_rest": 0.0, "v_reset": -0.1},
        {"tau": 3.0, "v_c": 0.5, "a0": 2.0, "v_rest": 0.1, "v_reset": None, "detach_reset": True},
    ],
    "eif": [
        {"tau": 2.0, "delta_T": 1.0, "theta_rh": 0.8, "v_rest": 0.0, "v_reset": -0.1},
        {"tau": 4.0, "delta_T": 0.5, "theta_rh": 0.6, "v_rest": -0.2, "v_reset": None, "detach_reset": True},
    ],
    "izhikevich": [
        {"tau": 2.0, "v_c": 0.8, "a0": 1.0, "v_rest": -0.1, "v_reset": 0.0, "tau_w": 3.0, "a": 0.5, "b": 0.3},
        {
            "tau": 3.0,
            "v_c": 0.6,
            "a0": 0.5,
            "v_rest": 0.0,
            "v_reset": None,
            "tau_w": 2.0,
            "a": -0.2,
            "b": 0.1,
            "w_rest": 0.05,
            "detach_reset": True,
        },
        {
            "tau": 2.5,
            "v_c": 0.7,
            "a0": 1.0,
            "v_rest": -0.1,
            "v_reset": -0.1,
            "tau_w": 2.0,
            "a": 0.3,
            "b": 0.2,
            "detach_reset": True,
        },
    ],  # fmt: skip
    "liaf": [
        {"tau": 2.0, "decay_input": True, "v_reset": 0.0, "threshold_related": False},
        {"tau": 3.0, "decay_input": False, "v_reset": None, "threshold_related": True, "detach_reset": True},
    ],
    "klif": [
        {"tau": 2.0, "decay_input": True, "v_reset": 0.0, "scale_reset": False},
        {"tau": 3.0, "decay_input": False, "v_reset": 0.0, "scale_reset": True, "detach_reset": True},
        {"tau": 2.0, "decay_input": True, "v_reset": None, "scale_reset": True},
        {"tau": 2.0, "decay_input": False, "v_reset": None, "scale_reset": False},
    ],
}
PARAMS = [(name, p) for name, ps in CASES.items() for p in ps]
IDS = [f"{name}-{i}" for name, ps in CASES.items() for i in range(len(ps))]


def _make(name: str, p: dict, **kw) -> neuron.BaseNode:
    node = neuron_classes()[name](**p, **kw)
    if name == "klif":
        with torch.no_grad():
            node.k.fill_(1.3)  # a learned k away from its initial 1
    return node.double()


def _x(steps: int = 9, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return (torch.rand(steps, 2, 5, generator=g, dtype=torch.float64) * 1.6 - 0.2).requires_grad_()


@pytest.mark.parametrize(("name", "p"), PARAMS, ids=IDS)
def test_outputs_potentials_and_gradients_match_the_equations(name: str, p: dict) -> None:
    node = _make(name, p, step_mode="m", store_v_seq=True)
    x = _x()
    out = node(x)
    k = node.k if name == "klif" else None
    ref_out, ref_v, ref_w, spikes = _reference(name, p, x, k)
    assert out.dtype == torch.float64 and 0 < float(spikes.mean()) < 1  # both branches of the reset ran
    torch.testing.assert_close(out, ref_out, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(node.v_seq, ref_v, rtol=1e-12, atol=1e-12)
    if name == "izhikevich":
        torch.testing.assert_close(node.w, ref_w[-1], rtol=1e-12, atol=1e-12)
    weights = torch.linspace(-1.0, 1.0, out.numel(), dtype=torch.float64).view_as(out)
    leaves = [x] + ([node.k] if k is not None else [])
    got = torch.autograd.grad((out * weights).sum() + node.v.sum(), leaves)
    want = torch.autograd.grad((ref_out * weights).sum() + ref_v[-1].sum(), leaves)
    for g, r in zip(got, want, strict=True):
        torch.testing.assert_close(g, r, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize(("name", "p"), PARAMS[::2], ids=IDS[::2])
def test_gradients_match_finite_differences(name: str, p: dict) -> None:
    # spiking=False makes the fire step the smooth sigmoid itself, so the whole update is differentiable (and
    # detach_reset, which drops part of the true derivative on purpose, is off)
    p = {**p, "detach_reset": False}
    node = _make(name, p, step_mode="m", surrogate_function=surrogate.Sigmoid(alpha=2.0, spiking=False))
    x = _x(steps=4).detach().requires_grad_()
    inputs = (x, node.k) if name == "klif" else (x,)

    def run(x_seq: torch.Tensor, *_: torch.Tensor) -> torch.Tensor:
        node.reset()
        return node(x_seq)

    assert torch.autograd.gradcheck(run, inputs, eps=1e-6, atol=1e-7)


def test_hand_computed_steps() -> None:
    one = torch.tensor([1.0], dtype=torch.float64)
    qif = neuron.QIFNode()  # starts at v_reset = -0.1
    h1 = -0.1 + (1.0 + (-0.1) * (-0.9)) / 2  # 0.445
    h2 = h1 + (1.0 + h1 * (h1 - 0.8)) / 2
    assert [qif(one).item() for _ in range(2)] == [0.0, 0.0] and qif.v.item() == pytest.approx(h2)
    assert qif(one).item() == 1.0 and qif.v.item() == pytest.approx(-0.1)

    eif = neuron.EIFNode()
    eif(one)
    assert eif.v.item() == pytest.approx(-0.1 + (1.0 + 0.1 + math.exp(-0.9)) / 2)

    izh = neuron.IzhikevichNode(a=0.5, b=0.25)  # v from 0, w from 0, v_rest = -0.1, tau = tau_w = 2
    two = 2 * one
    assert izh(two).item() == 0.0
    assert (izh.v.item(), izh.w.item()) == pytest.approx((0.96, 0.265))  # H = (2 - 0.08) / 2
    assert izh(two).item() == 1.0  # H = 0.96 + (2 + 1.06 * 0.16 - 0.265) / 2 = 1.9123
    assert (izh.v.item(), izh.w.item()) == pytest.approx((0.0, 0.265 + (0.5 * 2.0123 - 0.265) / 2 + 0.25))

    klif = neuron.KLIFNode(scale_reset=True)
    with torch.no_grad():
        klif.k.fill_(2.0)
    x = 0.8 * one
    assert klif(x).item() == 0.0 and klif.v.item() == pytest.approx(0.4)  # F = relu(2 * 0.4), V = F / k
    assert klif(x).item() == 1.0 and klif.v.item() == 0.0  # F = 2 * (0.4 + 0.2) = 1.2: spike
    soft = neuron.KLIFNode(scale_reset=True, v_reset=None)
    with torch.no_grad():
        soft.k.fill_(2.0)
    soft(x)
    assert soft(x).item() == 1.0 and soft.v.item() == pytest.approx((1.2 - 1.0) / 2)

    liaf = neuron.LIAFNode(nn.ReLU(), True)  # SpikingJelly's positional (act, threshold_related)
    assert (
        liaf(3 * one).item() == pytest.approx(0.5) and liaf.v.item() == 0.0
    )  # act(1.5 - 1); reset by the spike
    tanh = neuron.LIAFNode("tanh", step_mode="m")
    assert tanh(torch.full((2, 1), 1.0)).flatten().tolist() == pytest.approx(
        [math.tanh(0.5), math.tanh(0.75)]
    )


class AdaptiveIF(AdaptBaseNode):
    """An adaptive integrate-and-fire neuron a user builds on the base: ``H = V + X - W``."""

    def charge(self, x: torch.Tensor, state: AdaptState) -> torch.Tensor:
        return state.v + x - state.w


def test_adaptive_base_updates_w_with_a_b_and_tau_w() -> None:
    node = AdaptiveIF(v_rest=0.1, w_rest=0.2, tau_w=4.0, a=0.5, b=0.3, step_mode="m").double()
    x = torch.tensor([[0.7], [0.9], [0.2]], dtype=torch.float64)
    out = node(x)
    v, w, spikes = 0.0, 0.2, []
    for xt in x.flatten().tolist():
        h = v + xt - w
        w = w + (0.5 * (h - 0.1) - w) / 4.0
        s = float(h >= 1.0)
        v, w = (0.0 if s else h), w + 0.3 * s
        spikes.append(s)
    assert out.flatten().tolist() == spikes == [0.0, 1.0, 0.0]
    assert (node.v.item(), node.w.item()) == pytest.approx((v, w))
    node.reset()
    assert node.w is None and node.rest_attribute("w", x).flatten().tolist() == [0.2]
    with pytest.raises(TypeError, match="abstract"):
        AdaptBaseNode()


@pytest.mark.parametrize(
    ("name", "p"), [PARAMS[i] for i in (0, 2, 4, 7, 9)], ids=[IDS[i] for i in (0, 2, 4, 7, 9)]
)
def test_chunks_and_steps_equal_one_run(name: str, p: dict) -> None:
    x = _x(steps=7)
    whole = _make(name, p, step_mode="m")
    expected = whole(x)
    grad = torch.autograd.grad(expected.sum() + whole.v.sum(), x)[0]
    for size in (1, 3, 7):
        node = _make(name, p, step_mode="m")
        if name == "klif":
            node.k = whole.k
        out = torch.cat([node(chunk) for chunk in torch.split(x, size)])
        torch.testing.assert_close(out, expected, rtol=0, atol=0)
        torch.testing.assert_close(node.state, whole.state, rtol=0, atol=0)
        torch.testing.assert_close(torch.autograd.grad(out.sum() + node.v.sum(), x)[0], grad)
    functional.set_step_mode(node, "s")
    node.reset()
    torch.testing.assert_close(torch.stack([node(xt) for xt in x]), expected, rtol=0, atol=0)
    with pytest.raises(ConfigError, match="carries state for steps of shape"):
        node(x)  # a sequence after steps, without a reset


def test_state_monitors_store_seq_reset_and_detach() -> None:
    net = nn.Sequential(nn.Linear(4, 3), neuron.IzhikevichNode(a=0.2, b=0.1, store_h_seq=True))
    functional.set_step_mode(net, "m")
    x = torch.rand(5, 2, 4) * 3
    with (
        monitor.AttributeMonitor("v", net, pre_forward=True) as pre,
        monitor.AttributeMonitor("v", net) as post,
    ):
        net(x)
    assert torch.equal(pre["1"][0], torch.zeros(2, 3))  # the rest potential before the first call
    assert torch.equal(post["1"][0], net[1].v.detach())
    assert net[1].h_seq.shape == (5, 2, 3) and torch.equal(net[1].h, net[1].h_seq[-1])
    assert net[1].v.requires_grad and net[1].w.requires_grad
    functional.detach_net(net)
    assert isinstance(net[1].state, AdaptState) and not net[1].w.requires_grad
    functional.reset_net(net)
    assert net[1].state is None and net[1].h_seq is None


@pytest.mark.parametrize("name", ["qif", "eif", "izhikevich", "liaf", "klif"])
def test_selectable_by_the_trainer_copyable_and_described(name: str) -> None:
    kw = {"neuron": name, "in_features": 6, "hidden": 5, "num_classes": 3, "v_reset": "none", "tau": 3.0}
    cls, kwargs = resolve_model_kwargs(ModelConfig(name="SpikingMLP", kwargs=kw))
    model = cls(**kwargs)
    x = torch.rand(4, 2, 6) * 2
    out = model(x)
    assert out.shape == (4, 2, 3)
    functional.reset_net(model)
    for clone in (copy.deepcopy(model), pickle.loads(pickle.dumps(model))):
        functional.reset_net(clone)
        torch.testing.assert_close(clone(x), out)
    node = neuron_classes()[name]()
    assert "backend=torch" in repr(node) and f"{type(node).__name__}" in repr(node)


BAD = [
    (neuron.QIFNode, {"tau": 1.0}, "number > 1 .*tau of QIFNode"),
    (neuron.QIFNode, {"a0": 0.0}, "a0"),
    (neuron.QIFNode, {"v_reset": 1.0}, "v_reset < v_threshold"),
    (neuron.QIFNode, {"v_rest": -0.5}, "v_reset <= v_rest"),
    (neuron.EIFNode, {"delta_T": -1.0}, "delta_T"),
    (neuron.EIFNode, {"tau": float("nan")}, "tau"),
    (neuron.IzhikevichNode, {"tau": 0.5}, "tau"),
    (neuron.IzhikevichNode, {"tau_w": 0.0}, "tau_w"),
    (neuron.IzhikevichNode, {"b": True}, "argument b"),
    (neuron.LIAFNode, {"act": "gelu"}, "Unknown value 'gelu' for argument act"),
    (neuron.LIAFNode, {"act": 3}, "callable"),
    (neuron.LIAFNode, {"threshold_related": 1}, "threshold_related"),
    (neuron.KLIFNode, {"tau": 1}, "tau"),
    (neuron.KLIFNode, {"scale_reset": "yes"}, "scale_reset"),
    (neuron.KLIFNode, {"v_threshold": float("inf")}, "v_threshold"),
    (neuron.EIFNode, {"backend": "cupy"}, "backend of EIFNode"),
    (neuron.QIFNode, {"step_mode": "x"}, "step_mode"),
    (neuron.QIFNode, {"surrogate_function": torch.sigmoid}, "Surrogate"),
]


@pytest.mark.parametrize(
    ("cls", "kwargs", "match"), BAD, ids=[f"{c.__name__}-{next(iter(k))}" for c, k, _ in BAD]
)
def test_bad_arguments_are_one_line_config_errors(cls: type, kwargs: dict, match: str) -> None:
    with pytest.raises(ConfigError, match=match) as err:
        cls(**kwargs)
    assert "\n" not in str(err.value)


def test_recurrent_layer_detaches_every_field_of_an_adaptive_state() -> None:
    from eventpipe.snn.layer import RecurrentSpiking

    torch.manual_seed(0)
    rec = RecurrentSpiking(3, 4, neuron.IzhikevichNode(), step_mode="m")
    x = torch.rand(5, 2, 3, requires_grad=True)
    whole = rec(x)
    rec.reset()
    first = rec(x[:2])
    rec.detach()  # v and w both cut from the graph, the streaming carries on
    assert all(not t.requires_grad for t in rec.state[1])
    assert torch.equal(torch.cat([first, rec(x[2:])]), whole)
