"""Step modes as in SpikingJelly: single-step by default, state carried across calls in both modes until reset.

For every stateful module and for whole networks: one multi-step call on a sequence, the same sequence fed in
chunks of 1, 3 and T steps, and fed one step per call in single-step mode give identical outputs, and the
gradients through the carried state equal those of the single call. Inputs in the wrong mode are errors.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
import torch
from torch import nn

from eventpipe.errors import ConfigError
from eventpipe.snn import functional, layer, models, neuron, surrogate

T = 7
CHUNKS = (1, 3, T)


def _x(shape: tuple[int, ...] = (T, 3, 5), seed: int = 0, scale: float = 1.4) -> torch.Tensor:
    return torch.rand(shape, generator=torch.Generator().manual_seed(seed)) * scale


def _spikes(shape: tuple[int, ...] = (T, 3, 5), seed: int = 0) -> torch.Tensor:
    return (_x(shape, seed) < 0.6).float()


def _strong() -> torch.Tensor:
    """Input scaled up so that modules behind a random linear layer spike too."""
    return _x(scale=6.0) - 2.0


STATEFUL: dict[str, tuple[Callable[[], nn.Module], Callable[[], torch.Tensor]]] = {
    "if": (lambda: neuron.IFNode(), _x),
    "lif": (lambda: neuron.LIFNode(tau=3.0), _strong),
    "lif-soft-no-decay-input": (lambda: neuron.LIFNode(decay_input=False, v_reset=None), _x),
    "plif": (lambda: neuron.ParametricLIFNode(init_tau=2.5, surrogate_function=surrogate.ATan()), _x),
    "delay-0": (lambda: layer.Delay(0), _x),
    "delay-2": (lambda: layer.Delay(2), _x),
    "delay-9": (lambda: layer.Delay(9), _x),  # longer than the sequence
    "dropout": (lambda: layer.Dropout(0.4), _x),
    "recurrent-spiking": (lambda: layer.RecurrentSpiking(5, 4, neuron.LIFNode()), _strong),
    "element-wise-recurrent": (lambda: layer.ElementWiseRecurrentContainer(neuron.IFNode(), torch.add), _x),
    "linear-recurrent": (lambda: layer.LinearRecurrentContainer(neuron.LIFNode(), 5, 5), _strong),
    "synapse-filter": (lambda: layer.SynapseFilter(tau=3.0), _spikes),
    "synapse-filter-learnable": (lambda: layer.SynapseFilter(tau=4.0, learnable=True), _spikes),
    "multi-step-container": (lambda: layer.MultiStepContainer(nn.Linear(5, 5), neuron.IFNode()), _strong),
    "step-mode-container": (
        lambda: layer.StepModeContainer(True, nn.Linear(5, 5), neuron.LIFNode()),
        _strong,
    ),
}


def _build(make: Callable[[], nn.Module], mode: str) -> nn.Module:
    torch.manual_seed(0)  # same parameters and the same dropout mask for every build
    module = make()
    if mode == "m" or not isinstance(module, layer.MultiStepContainer):
        functional.set_step_mode(module, mode)
    torch.manual_seed(1)
    return module


def _run(module: nn.Module, x_seq: torch.Tensor, chunk: int | None) -> torch.Tensor:
    """One call (``None``), chunks of ``chunk`` steps (multi-step) or one step per call (``0``)."""
    if chunk == 0:
        return torch.stack([module(x) for x in x_seq])
    if chunk is None:
        return module(x_seq)
    return functional.chunk_multi_step_forward(chunk, x_seq, module)


def _grads(
    module: nn.Module, x_seq: torch.Tensor, chunk: int | None
) -> tuple[torch.Tensor, list[torch.Tensor]]:
    x = x_seq.clone().requires_grad_()
    out = _run(module, x, chunk)
    (out * torch.linspace(-1.0, 1.0, out[0].numel()).reshape(out[0].shape)).sum().backward()
    return x.grad, [p.grad.clone() for p in module.parameters() if p.grad is not None]


@pytest.mark.parametrize("name", STATEFUL)
def test_chunked_and_streamed_runs_equal_one_multi_step_call(name: str) -> None:
    make, data = STATEFUL[name]
    x_seq = data()
    whole = _build(make, "m")
    expected = _run(whole, x_seq, None)
    assert name == "delay-9" or expected.abs().sum() > 0
    for chunk in CHUNKS:
        torch.testing.assert_close(_run(_build(make, "m"), x_seq, chunk), expected, rtol=0, atol=0)
    if not isinstance(whole, layer.MultiStepContainer):  # multi-step only
        streamed = _build(make, "s")
        torch.testing.assert_close(_run(streamed, x_seq, 0), expected, rtol=0, atol=0)
    # the state is kept until reset: a second sample continues, a reset starts from rest again
    if name not in ("delay-0", "dropout"):
        assert not torch.equal(_run(whole, x_seq, None), expected)
    functional.reset_net(whole)
    torch.manual_seed(1)
    torch.testing.assert_close(_run(whole, x_seq, None), expected, rtol=0, atol=0)


@pytest.mark.parametrize("name", STATEFUL)
def test_gradients_flow_through_the_carried_state(name: str) -> None:
    make, data = STATEFUL[name]
    x_seq = data()
    grad_x, grad_params = _grads(_build(make, "m"), x_seq, None)
    for chunk in (0, 1, 3):
        module = _build(make, "s" if chunk == 0 else "m")
        if chunk == 0 and isinstance(module, layer.MultiStepContainer):
            continue
        got_x, got_params = _grads(module, x_seq, chunk)
        torch.testing.assert_close(got_x, grad_x, rtol=1e-5, atol=1e-6)
        assert len(got_params) == len(grad_params)
        for got, ref in zip(got_params, grad_params, strict=True):
            torch.testing.assert_close(got, ref, rtol=1e-5, atol=1e-6)


def test_carried_state_gradient_matches_finite_differences() -> None:
    """dL/dx[0] of a loss on the second chunk only: it reaches x[0] only through the carried potential."""
    node = neuron.LIFNode(tau=2.0, surrogate_function=surrogate.Sigmoid(spiking=False), step_mode="m")
    x = _x((4, 2, 3), scale=0.9).double().requires_grad_()

    def loss(x_seq: torch.Tensor) -> torch.Tensor:
        node.reset()
        node(x_seq[:2])
        return node(x_seq[2:]).sum()

    loss(x).backward()
    eps = 1e-6
    for i in range(3):
        bump = torch.zeros_like(x)
        bump[0, 1, i] = eps
        numeric = (loss(x.detach() + bump) - loss(x.detach() - bump)) / (2 * eps)
        assert x.grad[0, 1, i].item() == pytest.approx(numeric.item(), rel=1e-5, abs=1e-8)
    assert x.grad[0].abs().sum() > 0


def _conv_net() -> nn.Module:
    net = models.DVSGestureNet(
        channels=4,
        blocks=2,
        input_size=8,
        hidden=32,
        dropout=0.3,
        backend="torch",
        neuron_kwargs={"v_threshold": 0.3},
    )
    functional.kaiming_init(net, a=0.0, nonlinearity="relu")  # enough drive for every layer to spike
    return net


def _mlp() -> nn.Module:
    net = nn.Sequential(
        layer.Flatten(),
        layer.Linear(2 * 4 * 4, 16),
        neuron.LIFNode(),
        layer.Dropout(0.3),
        layer.Delay(1),
        layer.Linear(16, 16),
        layer.SynapseFilter(tau=2.0),
        layer.Linear(16, 6),
        neuron.ParametricLIFNode(),
        layer.VotingLayer(2),
    )
    functional.kaiming_init(net, a=0.0, nonlinearity="relu")
    return net


@pytest.mark.parametrize(
    ("make", "shape", "train"),
    [(_conv_net, (T, 2, 2, 8, 8), False), (_mlp, (T, 3, 2, 4, 4), True)],
    ids=["gesture-net-eval", "mlp-train"],
)
def test_a_whole_network_fed_in_chunks_equals_one_call(make, shape, train) -> None:
    """Batch norm uses batch statistics in training, so the conv net is compared in eval mode."""

    def build(mode: str) -> nn.Module:
        torch.manual_seed(0)
        net = make().train(train)
        functional.set_step_mode(net, mode)
        torch.manual_seed(1)
        return net

    x_seq = _x(shape, scale=3.0)
    grad_x, grad_params = _grads(build("m"), x_seq, None)
    expected = _run(build("m"), x_seq, None)
    assert expected.abs().sum() > 0
    for chunk in (0, *CHUNKS):
        net = build("s" if chunk == 0 else "m")
        torch.testing.assert_close(_run(net, x_seq, chunk), expected, rtol=0, atol=0)
        if chunk == T:  # the same single call as the reference
            continue
        got_x, got_params = _grads(build("s" if chunk == 0 else "m"), x_seq, chunk)
        torch.testing.assert_close(got_x, grad_x, rtol=1e-5, atol=1e-6)
        for got, ref in zip(got_params, grad_params, strict=True):
            torch.testing.assert_close(got, ref, rtol=1e-5, atol=1e-5)


def test_spikingjelly_per_step_loop_is_correct_by_default() -> None:
    """The classic loop ``for t in range(T): out += net(x)`` on a network built with the defaults."""
    torch.manual_seed(0)
    net = nn.Sequential(
        layer.Flatten(), layer.Linear(16, 8), neuron.LIFNode(), layer.Linear(8, 3), neuron.IFNode()
    )
    assert all(m.step_mode == "s" for m in net.modules() if hasattr(m, "step_mode"))
    img = torch.rand(4, 1, 4, 4) * 2
    rate = sum(net(img) for _ in range(T)) / T
    functional.reset_net(net)
    functional.set_step_mode(net, "m")
    expected = net(img.expand(T, *img.shape)).mean(0)
    torch.testing.assert_close(rate, expected, rtol=0, atol=0)


def test_a_step_of_another_shape_is_an_error_naming_the_fix() -> None:
    node = neuron.LIFNode()
    node(torch.rand(3, 5))
    with pytest.raises(ConfigError, match=r"LIFNode.*\(3, 5\).*\(7, 3, 5\).*reset_net.*step_mode='m'"):
        node(torch.rand(7, 3, 5))  # a sequence fed in single-step mode after a step
    node.reset()
    node(torch.rand(7, 3, 5))  # after a reset any shape starts a new state
    multi = neuron.IFNode(step_mode="m")
    multi(torch.rand(T, 3, 5))
    with pytest.raises(ConfigError, match=r"IFNode\(step_mode='m'\).*\(3, 5\).*\(5,\)"):
        multi(torch.rand(3, 5))  # one step fed in multi-step mode: read as T=3 steps of 5
    for module in (
        layer.Delay(1),
        layer.Dropout(0.5),
        layer.SynapseFilter(),
        layer.RecurrentSpiking(5, 4, neuron.IFNode()),
    ):
        module(torch.rand(3, 5))
        with pytest.raises(ConfigError, match="reset_net"):
            module(torch.rand(2, 5))


def test_multi_step_inputs_need_time_and_batch_axes() -> None:
    for module in (
        neuron.LIFNode(step_mode="m"),
        layer.Delay(1, step_mode="m"),
        layer.Linear(4, 2, step_mode="m"),
    ):
        with pytest.raises(ConfigError, match=r"step_mode='m'.*\[T, N, \.\.\.\].*\(4,\)"):
            module(torch.rand(4))


def test_layers_check_the_axes_of_each_mode() -> None:
    conv = layer.Conv2d(2, 3, 3)
    with pytest.raises(ConfigError, match=r"Conv2d\(step_mode='s'\).*\(4, 2, 2, 8, 8\).*step_mode='m'"):
        conv(torch.rand(4, 2, 2, 8, 8))
    conv.step_mode = "m"
    with pytest.raises(ConfigError, match=r"Conv2d\(step_mode='m'\).*\(2, 2, 8, 8\).*step_mode='s'"):
        conv(torch.rand(2, 2, 8, 8))
    with pytest.raises(ConfigError, match="BatchNorm1d"):
        layer.BatchNorm1d(4, step_mode="m")(torch.rand(3, 4))
    assert layer.BatchNorm1d(4, step_mode="m")(torch.rand(5, 3, 4)).shape == (5, 3, 4)


def test_reset_net_resets_custom_modules_and_set_step_mode_keeps_container_children() -> None:
    class Counter(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.count = 0

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            self.count += 1
            return x

        def reset(self) -> None:
            self.count = 0

    counter = Counter()
    inner = neuron.IFNode()
    net = nn.Sequential(counter, layer.ElementWiseRecurrentContainer(inner, torch.add), neuron.LIFNode())
    net(torch.rand(2, 3))
    functional.reset_net(net)
    assert counter.count == 0 and inner.state is None
    functional.set_step_mode(net, "m")
    assert net[1].step_mode == "m" and net[2].step_mode == "m" and inner.step_mode == "s"
    assert net(torch.rand(T, 2, 3)).shape == (T, 2, 3)
    with pytest.raises(ConfigError, match="step_mode='s'"):
        layer.MultiStepContainer(neuron.IFNode(step_mode="m"))


def test_models_are_built_multi_step() -> None:
    net = models.SHDNet(in_features=8, hidden=6, recurrent=True, backend="torch")
    assert {m.step_mode for m in net.modules() if hasattr(m, "step_mode")} == {"m"}
    x = (torch.rand(T, 2, 8) < 0.5).float()
    first = net.eval()(x)
    functional.reset_net(net)
    torch.testing.assert_close(functional.chunk_multi_step_forward(3, x, net), first, rtol=0, atol=0)
