"""Neuron modules: state carried in both modes until reset, streaming equals multi-step, chunked runs compose."""

from __future__ import annotations

import copy
import pickle

import pytest
import torch

from eventpipe.errors import ConfigError
from eventpipe.snn import functional, surrogate
from eventpipe.snn.dynamics import NeuronState
from eventpipe.snn.neuron import BaseNode, IFNode, LIFNode, ParametricLIFNode

NODES = [
    lambda **kw: IFNode(**kw),
    lambda **kw: LIFNode(tau=3.0, **kw),
    lambda **kw: LIFNode(decay_input=False, v_reset=None, **kw),
    lambda **kw: ParametricLIFNode(
        init_tau=2.5, surrogate_function=surrogate.ATan(), detach_reset=True, **kw
    ),
]
IDS = ["if", "lif", "lif-soft", "plif"]


def _x(shape=(12, 3, 4), seed=0) -> torch.Tensor:
    return torch.rand(shape, generator=torch.Generator().manual_seed(seed)) * 1.4


@pytest.mark.parametrize("make", NODES, ids=IDS)
def test_multi_step_carries_state_until_reset(make) -> None:
    node: BaseNode = make(step_mode="m")
    x = _x()
    first = node(x)
    assert node.state is not None and node.state.v.shape == x.shape[1:]
    node(_x(seed=1) * 3)  # the same sample continues from where the first call ended
    node.reset()
    assert node.state is None
    assert torch.equal(node(x), first)  # from rest again


@pytest.mark.parametrize("make", NODES, ids=IDS)
def test_single_step_streaming_equals_multi_step(make) -> None:
    node: BaseNode = make(step_mode="m")
    x = _x()
    expected = node(x)
    functional.set_step_mode(node, "s")
    streamed = torch.stack([node(xt) for xt in x])
    assert torch.equal(streamed, expected)
    assert node.v is not None
    functional.reset_net(node)
    assert node.v is None
    assert torch.equal(node(x[0]), expected[0])  # starts from rest again


@pytest.mark.parametrize("make", NODES, ids=IDS)
def test_chunked_run_with_explicit_state_equals_one_run(make) -> None:
    node: BaseNode = make()
    x = _x().requires_grad_()
    whole, state_whole = node.run(x)
    (whole.sum() + state_whole.v.sum()).backward()
    grad_whole = x.grad.clone()
    x.grad = None

    first, state = node.run(x[:5])
    assert isinstance(state, NeuronState)
    second, state = node.run(x[5:], state)
    assert torch.equal(torch.cat([first, second]), whole)
    assert torch.equal(state.v, state_whole.v)
    (first.sum() + second.sum() + state.v.sum()).backward()  # gradients flow through the carried state
    torch.testing.assert_close(x.grad, grad_whole)


def test_pure_step_function() -> None:
    node = LIFNode(tau=2.0)
    s, state = node.step(torch.tensor([1.5]))
    assert s.item() == 0.0 and state.v.item() == 0.75
    s, state = node.step(torch.tensor([1.5]), state)
    assert s.item() == 1.0 and state.v.item() == 0.0
    assert node.state is None  # step() is pure


def test_store_v_seq_and_detach() -> None:
    node = LIFNode(store_v_seq=True, step_mode="m")
    x = _x(shape=(5, 2)).requires_grad_()
    node(x)
    assert node.v_seq.shape == (5, 2) and node.v_seq.requires_grad
    node.step_mode = "s"
    node(x[0])
    assert node.v.requires_grad
    node.detach()
    assert not node.v.requires_grad
    node.reset()
    assert node.v_seq is None and node.state is None


def test_parametric_lif_learns_tau() -> None:
    node = ParametricLIFNode(init_tau=2.0, step_mode="m")
    assert node.tau == pytest.approx(2.0)
    assert float(node.w.detach()) == pytest.approx(0.0)
    node(_x()).sum().backward()
    assert node.w.grad is not None and node.w.grad != 0
    assert "w" in node.state_dict()
    with pytest.raises(ConfigError, match="init_tau"):
        ParametricLIFNode(init_tau=1.0)


def test_configuration_errors_and_repr() -> None:
    with pytest.raises(ConfigError, match="step_mode"):
        LIFNode(step_mode="x")
    with pytest.raises(ConfigError, match="tau"):
        LIFNode(tau=0.5)(torch.zeros(2, 2))
    node = LIFNode(tau=4.0, v_reset=None, surrogate_function=surrogate.ATan())
    text = repr(node)
    assert "tau=4.0" in text and "v_reset=None" in text and "ATan" in text and "backend=auto" in text


def test_modules_copy_and_pickle() -> None:
    node = ParametricLIFNode(init_tau=3.0, surrogate_function=surrogate.Erf(alpha=1.5), step_mode="m")
    x = _x()
    out = node(x)
    node.reset()  # the carried state is part of the autograd graph, which cannot be copied
    for clone in (copy.deepcopy(node), pickle.loads(pickle.dumps(node))):
        assert torch.equal(clone(x), out)
        sg = clone.surrogate_function
        assert type(sg) is surrogate.Erf and sg.alpha == 1.5
