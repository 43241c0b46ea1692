"""Golden trajectories written by hand (threshold 1): the step function, both backends and the modules."""

from __future__ import annotations

import math

import pytest
import torch

from eventpipe.errors import ConfigError
from eventpipe.snn.dynamics import NeuronSpec, NeuronState, multistep_loop, neuron_step
from eventpipe.snn.fused import fused_multistep
from eventpipe.snn.neuron import IFNode, LIFNode, ParametricLIFNode

# (spec, plif init_tau or None, inputs, expected spikes, expected potential after each reset)
GOLDEN = [
    # IF, hard reset to 0: H = V + X
    (NeuronSpec(kind="if"), None, [0.6, 0.6, 0.6, 0.3, 1.2], [0, 1, 0, 0, 1], [0.6, 0.0, 0.6, 0.9, 0.0]),
    # IF, soft reset: V = H - 1 after a spike
    (NeuronSpec(kind="if", v_reset=None), None, [0.6, 0.6, 0.6, 0.5, 1.2], [0, 1, 0, 1, 1],
     [0.6, 0.2, 0.8, 0.3, 0.5]),
    # LIF tau 2, decay_input: H = V + (X - V) / 2
    (NeuronSpec(kind="lif", tau=2.0), None, [1.5, 1.5, 1.5, 0.5, 3.0], [0, 1, 0, 0, 1],
     [0.75, 0.0, 0.75, 0.625, 0.0]),
    # LIF tau 2 without decay_input: H = V - V / 2 + X
    (NeuronSpec(kind="lif", tau=2.0, decay_input=False), None, [0.6, 0.6, 0.6, 0.3, 1.2], [0, 0, 1, 0, 1],
     [0.6, 0.9, 0.0, 0.3, 0.0]),
    # LIF tau 2, soft reset
    (NeuronSpec(kind="lif", tau=2.0, v_reset=None), None, [1.5, 1.5, 1.5, 0.5, 3.0], [0, 1, 0, 0, 1],
     [0.75, 0.125, 0.8125, 0.65625, 0.828125]),
    # LIF tau 2, hard reset to -0.5 (rest is -0.5 too): H = V + (X - (V + 0.5)) / 2
    (NeuronSpec(kind="lif", tau=2.0, v_reset=-0.5), None, [1.5, 1.5, 2.5], [0, 0, 1], [0.25, 0.625, -0.5]),
    # PLIF, init_tau 4: k = sigmoid(-log 3) = 1/4
    (NeuronSpec(kind="plif"), 4.0, [2.0, 2.0, 2.0, 2.0], [0, 0, 1, 0], [0.5, 0.875, 0.0, 0.5]),
    # PLIF, init_tau 2, soft reset: k = 1/2
    (NeuronSpec(kind="plif", v_reset=None), 2.0, [1.5, 1.5, 1.5, 0.5, 3.0], [0, 1, 0, 0, 1],
     [0.75, 0.125, 0.8125, 0.65625, 0.828125]),
]  # fmt: skip
IDS = [
    "if-hard",
    "if-soft",
    "lif-hard",
    "lif-no-decay-input",
    "lif-soft",
    "lif-reset-minus",
    "plif-4",
    "plif-soft",
]


def _k(init_tau: float | None) -> torch.Tensor | None:
    return None if init_tau is None else torch.sigmoid(torch.tensor(-math.log(init_tau - 1.0)))


@pytest.mark.parametrize(("spec", "init_tau", "x", "spikes", "v"), GOLDEN, ids=IDS)
def test_step_function_golden(spec, init_tau, x, spikes, v) -> None:
    state = None
    for xt, st, vt in zip(x, spikes, v, strict=True):
        s, state = neuron_step(torch.tensor([xt]), state, spec, _k(init_tau))
        assert s.item() == st
        assert state.v.item() == pytest.approx(vt, abs=1e-6)


@pytest.mark.parametrize(("spec", "init_tau", "x", "spikes", "v"), GOLDEN, ids=IDS)
def test_fused_backend_golden(spec, init_tau, x, spikes, v) -> None:
    s, v_seq, v_last = fused_multistep(torch.tensor(x)[:, None], spec, None, _k(init_tau), need_v_seq=True)
    assert s.flatten().tolist() == spikes
    torch.testing.assert_close(v_seq.flatten(), torch.tensor(v), atol=1e-6, rtol=0)
    assert v_last.item() == pytest.approx(v[-1], abs=1e-6)


@pytest.mark.parametrize(("spec", "init_tau", "x", "spikes", "v"), GOLDEN, ids=IDS)
def test_modules_golden(spec, init_tau, x, spikes, v) -> None:
    common = {"v_reset": spec.v_reset, "store_v_seq": True, "backend": "torch", "step_mode": "m"}
    if spec.kind == "if":
        node = IFNode(**common)
    elif spec.kind == "lif":
        node = LIFNode(tau=spec.tau, decay_input=spec.decay_input, **common)
    else:
        node = ParametricLIFNode(init_tau=init_tau, **common)
    out = node(torch.tensor(x)[:, None])
    assert out.flatten().tolist() == spikes
    torch.testing.assert_close(node.v_seq.flatten(), torch.tensor(v), atol=1e-6, rtol=0)


def test_multistep_loop_from_state() -> None:
    spec = NeuronSpec(kind="if")
    s, v = multistep_loop(torch.tensor([[0.3], [0.3]]), spec, NeuronState(torch.tensor([0.5])))
    assert s.flatten().tolist() == [0.0, 1.0]
    assert v.flatten().tolist() == pytest.approx([0.8, 0.0])


def test_spec_validation() -> None:
    with pytest.raises(ConfigError, match="Valid values"):
        NeuronSpec(kind="izhikevich")
    with pytest.raises(ConfigError, match="tau"):
        NeuronSpec(kind="lif", tau=0.5)
    with pytest.raises(ConfigError, match="v_threshold"):
        NeuronSpec(v_threshold=float("nan"))
    with pytest.raises(ConfigError, match="surrogate"):
        NeuronSpec(surrogate=torch.sigmoid)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="weight w"):
        NeuronSpec(kind="plif").decay()
    assert NeuronSpec(v_reset=None).v_rest == 0.0 and not NeuronSpec(v_reset=None).hard_reset
