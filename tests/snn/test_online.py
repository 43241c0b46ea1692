"""FPTT and OTTT (:mod:`eventpipe.snn.online`) against their equations computed by hand, and their
autograd memory against T."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from eventpipe.bench.online import SavedTensorMeter, bench_online
from eventpipe.errors import ConfigError
from eventpipe.snn import functional, layer
from eventpipe.snn.neuron import LIFNode
from eventpipe.snn.online import (
    OTTTTraces,
    fptt_init_running_average,
    fptt_regularizer,
    fptt_sequence,
    ottt_online_training,
    ottt_sequence,
    single_step,
)


def _loss_grad(w: torch.Tensor, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """d/dW of mean((x W^T - y)^2), written out: 2/(N*O) (x W^T - y)^T x."""
    r = x @ w.T - y
    return 2.0 / r.numel() * r.T @ x


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_fptt_follows_the_update_equations(reduction: str) -> None:
    torch.manual_seed(0)
    T, N, n_in, n_out, lr, alpha = 3, 4, 5, 2, 0.1, 0.7
    net = nn.Linear(n_in, n_out, bias=False)
    opt = torch.optim.SGD(net.parameters(), lr=lr)
    x, y = torch.randn(T, N, n_in), torch.randn(T, N, n_out)
    w = net.weight.detach().clone()
    w_ra_expected, prev = w.clone(), torch.zeros_like(w)
    scale = 1.0 / w.numel() if reduction == "mean" else 1.0
    for t in range(T):
        reg_grad = alpha * scale * (w - w_ra_expected - prev / (2 * alpha))  # d/dW alpha/2 d(W, target)
        w = w - lr * (_loss_grad(w, x[t], y[t]) + reg_grad)
        prev = _loss_grad(w, x[t], y[t])
        w_ra_expected = (w_ra_expected + w) / 2 - prev / (2 * alpha)

    w_ra = fptt_init_running_average(opt)
    loss, out = fptt_sequence(net, opt, x, y, F.mse_loss, alpha, w_ra, reduction=reduction)  # type: ignore[arg-type]
    torch.testing.assert_close(net.weight.detach(), w, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(w_ra[0], w_ra_expected, rtol=1e-5, atol=1e-6)
    assert out.shape == (T, N, n_out) and loss.ndim == 0


def test_fptt_regularizer_is_the_formula() -> None:
    w, ra, g = torch.tensor([1.0, 2.0]), torch.tensor([0.5, 0.0]), torch.tensor([1.0, -2.0])
    # the target ra + g / (2 alpha) is [1.5, -2.0]
    expected = 0.5 / 2 * ((1.0 - 1.5) ** 2 + (2.0 + 2.0) ** 2)
    assert fptt_regularizer([w], [ra], [g], 0.5, "sum").item() == pytest.approx(expected)
    assert fptt_regularizer([w], [ra], [g], 0.5, "mean").item() == pytest.approx(expected / 2)
    with pytest.raises(ConfigError, match="positive FPTT alpha"):
        fptt_regularizer([w], [ra], [None], 0.0)


def _spiking_net() -> nn.Sequential:
    net = nn.Sequential(layer.Linear(6, 8), LIFNode(tau=2.0), layer.Linear(8, 3), LIFNode(tau=2.0))
    with torch.no_grad():
        for lin in net.modules():
            if isinstance(lin, nn.Linear):
                lin.weight.uniform_(-0.2, 0.6)  # enough drive for spikes in both layers
    return net


def test_fptt_carries_the_state_of_a_plain_run() -> None:
    """The re-evaluation of each step's loss leaves the network's state as the step left it."""
    torch.manual_seed(1)
    net = _spiking_net()
    x = torch.rand(6, 2, 6) * 3
    with torch.no_grad():
        plain = torch.stack([net(x[t]) for t in range(6)])
    functional.reset_net(net)
    opt = torch.optim.SGD(net.parameters(), lr=0.0)
    _, out = fptt_sequence(net, opt, x, torch.zeros(6, 2, 3), F.mse_loss, 0.5, fptt_init_running_average(opt))
    assert 0 < plain.mean() < 1
    torch.testing.assert_close(out, plain)


def test_ottt_weight_gradient_is_taken_at_the_input_trace() -> None:
    torch.manual_seed(2)
    T, N, n_in, n_out, decay = 4, 3, 5, 2, 0.6
    lin = nn.Linear(n_in, n_out)
    w0, b0 = lin.weight.detach().clone(), lin.bias.detach().clone()
    x, c = torch.rand(T, N, n_in), torch.randn(T, N, n_out)
    opt = torch.optim.SGD(lin.parameters(), lr=1.0)
    _, out = ottt_sequence(lin, opt, x, c, lambda o, ct: (o * ct).sum(), decay=decay, online=False)
    torch.testing.assert_close(out, x @ w0.T + b0)  # forward values: the layer on the input itself
    trace, grad_w = torch.zeros(N, n_in), torch.zeros(n_out, n_in)
    for t in range(T):
        trace = decay * trace + x[t]
        grad_w += c[t].T @ trace
    torch.testing.assert_close(lin.weight.detach(), w0 - grad_w)
    torch.testing.assert_close(lin.bias.detach(), b0 - c.sum((0, 1)))


def test_ottt_passes_the_input_gradient_through() -> None:
    lin = nn.Linear(3, 2)
    x = torch.rand(4, 3, requires_grad=True)
    with OTTTTraces(lin, 0.5):
        lin(x.detach())  # a first step: the trace is no longer the input
        lin(x).sum().backward()
    torch.testing.assert_close(x.grad, lin.weight.detach().sum(0).expand(4, 3))
    assert not lin._forward_hooks  # removed on exit
    with pytest.raises(ConfigError, match="trace decay"):
        OTTTTraces(lin, 1.0)


def test_ottt_online_training_takes_spikingjellys_batch_first_layout() -> None:
    net = _spiking_net()
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    with single_step(net):
        loss, out = ottt_online_training(net, opt, torch.rand(2, 5, 6), torch.rand(2, 5, 3), F.mse_loss, online=True)
    assert out.shape == (2, 5, 3) and loss.ndim == 0


def test_single_step_restores_the_step_modes() -> None:
    net = _spiking_net()
    functional.set_step_mode(net, "m")
    with single_step(net):
        assert {m.step_mode for m in net.modules() if hasattr(m, "step_mode")} == {"s"}
        net(torch.rand(2, 6))
    assert {m.step_mode for m in net.modules() if hasattr(m, "step_mode")} == {"m"}
    assert net[1].state is None  # reset on exit


def test_saved_tensor_meter_counts_what_autograd_keeps() -> None:
    a = torch.ones(1000, requires_grad=True)
    with SavedTensorMeter() as meter:
        (a * a).sum().backward()  # mul saves both operands: 2 x 4000 bytes
    assert meter.peak == 8000 and meter.live == 0


def test_online_autograd_memory_is_constant_in_t() -> None:
    result = bench_online(frames=(2, 4), batch=2, channels=4, size=16, hidden=16)
    peak = {(r["mode"], r["T"]): r["peak_saved_MiB"] for r in result["rows"]}
    assert peak["fptt", 4] == peak["fptt", 2] and peak["ottt", 4] == peak["ottt", 2]
    assert peak["bptt", 4] > 1.8 * peak["bptt", 2]
    assert peak["ottt", 4] < peak["bptt", 4] / 2
