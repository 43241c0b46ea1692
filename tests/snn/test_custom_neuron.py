"""Custom neurons written as in SpikingJelly: a BaseNode subclass overriding neuronal_charge/fire/reset."""

from __future__ import annotations

from typing import Any

import pytest
import torch

from eventpipe.errors import ConfigError
from eventpipe.snn import base, functional, neuron, surrogate
from eventpipe.snn.neuron_extra import QIFNode


class MyLIF(neuron.BaseNode):
    """LIF from its equation H = V + (X - (V - V_reset)) / tau, written on self.v."""

    def __init__(self, tau: float = 2.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.tau = tau

    def neuronal_charge(self, x: torch.Tensor) -> None:
        v_rest = 0.0 if self.v_reset is None else self.v_reset
        self.v = self.v + (x - (self.v - v_rest)) / self.tau


class DoubleThresholdIF(neuron.IFNode):
    """IF that fires at twice its threshold and resets to v_reset (overrides fire and reset only)."""

    def neuronal_fire(self) -> torch.Tensor:
        return self.surrogate_function(self.v - 2 * self.v_threshold)

    def neuronal_reset(self, spike: torch.Tensor) -> None:
        self.v = self.v * (1.0 - spike) + self.v_reset * spike


def _run(node: neuron.BaseNode, x: torch.Tensor, chunk: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Spikes for ``x`` [T, N, F] fed step by step (mode 's') or in chunks (mode 'm'), and the last v."""
    if node.step_mode == "s":
        out = torch.stack([node(step) for step in x])
    else:
        out = torch.cat([node(part) for part in x.split(chunk)])
    return out, node.v


@pytest.mark.parametrize("v_reset", [0.0, None])
@pytest.mark.parametrize("detach_reset", [False, True])
@pytest.mark.parametrize(("step_mode", "chunk"), [("s", 1), ("m", 1), ("m", 3), ("m", 10)])
def test_custom_lif_equals_lifnode(v_reset: float | None, detach_reset: bool, step_mode: str, chunk: int) -> None:
    torch.manual_seed(0)
    x = torch.rand(10, 4, 6) * 1.5
    runs = []
    for make in (MyLIF, neuron.LIFNode):
        node = make(tau=2.0, v_reset=v_reset, detach_reset=detach_reset, step_mode=step_mode,
                    surrogate_function=surrogate.ATan(), store_h_seq=step_mode == "s")
        xi = x.clone().requires_grad_(True)
        spikes, v = _run(node, xi, chunk)
        (spikes * torch.linspace(0.5, 1.5, 6)).sum().add(v.square().sum()).backward()
        runs.append((spikes, v, xi.grad, node.h))
    (s_mine, v_mine, g_mine, h_mine), (s_ref, v_ref, g_ref, h_ref) = runs
    assert MyLIF().custom_dynamics and not neuron.LIFNode().custom_dynamics
    assert s_ref.sum() > 0 and torch.equal(s_mine, s_ref)
    torch.testing.assert_close(v_mine, v_ref)
    torch.testing.assert_close(g_mine, g_ref, rtol=1e-5, atol=1e-6)
    if step_mode == "s":
        torch.testing.assert_close(h_mine, h_ref)


def test_custom_neuron_state_is_carried_until_reset_net_and_recorded() -> None:
    torch.manual_seed(1)
    x = torch.rand(6, 2, 3) * 2
    node = MyLIF(step_mode="m", store_v_seq=True, store_h_seq=True)
    whole = node(x)
    v_seq, h_seq = node.v_seq, node.h_seq
    functional.reset_net(node)
    assert node.v is None
    parts = [node(part) for part in x.split([2, 4])]
    assert torch.equal(torch.cat(parts), whole)
    functional.reset_net(node)
    node(x)
    torch.testing.assert_close(node.v_seq, v_seq)
    torch.testing.assert_close(node.h_seq, h_seq)
    # by hand: H = V + (X - V) / 2, spike at H >= 1, hard reset to 0
    v = torch.zeros(2, 3)
    for t in range(6):
        h = v + (x[t] - v) / 2
        torch.testing.assert_close(h_seq[t], h)
        v = torch.where(h >= 1, torch.zeros_like(h), h)
        torch.testing.assert_close(v_seq[t], v)


def test_overriding_fire_and_reset_only() -> None:
    x = torch.full((5, 1), 0.9)
    # IF with threshold 2 by hand: V = 0.9, 1.8, 2.7 -> spike, reset 0, 0.9, 1.8
    out = DoubleThresholdIF(step_mode="m")(x).flatten().tolist()
    assert out == [0.0, 0.0, 1.0, 0.0, 0.0]
    assert torch.equal(neuron.IFNode(v_threshold=2.0, step_mode="m")(x).flatten(), torch.tensor(out))


def test_overriding_hooks_of_a_per_step_neuron_is_an_error() -> None:
    class MyQIF(QIFNode):
        def neuronal_charge(self, x: torch.Tensor) -> None:
            self.v = self.v + x

    with pytest.raises(ConfigError, match="subclass neuron.BaseNode"):
        MyQIF()


# -- custom stateful modules with SpikingJelly's MemoryModule API ---------------------------------------------


class ExpFilter(base.MemoryModule):
    """y[t] = decay y[t-1] + x[t], with y kept as a registered memory (at rest: 0.0)."""

    def __init__(self, decay: float, step_mode: str = "s") -> None:
        super().__init__()
        self.decay = decay
        self.step_mode = step_mode
        self.register_memory("y", 0.0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        steps = x if self.step_mode == "m" else x.unsqueeze(0)
        outs = []
        for step in steps:
            self.y = self.decay * self.y + step
            outs.append(self.y)
        return torch.stack(outs) if self.step_mode == "m" else outs[0]


def test_memory_module_state_resets_detaches_and_chunks() -> None:
    x = torch.rand(7, 2, requires_grad=True)
    by_hand = [x[0]]
    for t in range(1, 7):
        by_hand.append(0.5 * by_hand[-1] + x[t])
    expected = torch.stack(by_hand)
    single, multi = ExpFilter(0.5), ExpFilter(0.5, step_mode="m")
    assert isinstance(single, torch.nn.Module) and isinstance(single, base.StepModule)
    torch.testing.assert_close(torch.stack([single(v) for v in x]), expected)
    torch.testing.assert_close(torch.cat([multi(c) for c in x.split([1, 3, 3])]), expected)
    assert dict(multi.named_memories()).keys() == {"y"} and list(multi.memories())[0] is multi.y
    functional.detach_net(torch.nn.Sequential(multi))
    assert not multi.y.requires_grad
    functional.reset_net(torch.nn.Sequential(single, multi))
    assert single.y == 0.0 and multi.y == 0.0
    torch.testing.assert_close(multi(x), expected)
    with pytest.raises(ConfigError, match="already has an attribute 'decay'"):
        multi.register_memory("decay", 1.0)


def test_registered_tensor_memory_is_restored_as_a_copy() -> None:
    module = base.MemoryModule()
    module.register_memory("v", torch.zeros(2))
    module.v.add_(1.0)  # in place on the current value only
    module.reset()
    assert torch.equal(module.v, torch.zeros(2))
    # existing modules register nothing: their reset and detach behave as before
    assert list(neuron.LIFNode().named_memories()) == []
