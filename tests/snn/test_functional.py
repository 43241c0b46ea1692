from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from eventpipe.errors import ConfigError
from eventpipe.snn import functional, layer, models, neuron


def _net() -> nn.Sequential:
    return nn.Sequential(
        layer.Linear(4, 6), neuron.LIFNode(), layer.Dropout(0.3), layer.Linear(6, 3), neuron.IFNode()
    )


def test_set_step_mode_and_reset_net_stream_a_whole_network() -> None:
    net = _net().eval()
    x = torch.rand(10, 2, 4) * 2
    expected = net(x)
    functional.set_step_mode(net, "s")
    assert all(m.step_mode == "s" for m in net.modules() if hasattr(m, "step_mode"))
    streamed = torch.stack([net(xt) for xt in x])
    assert torch.equal(streamed, expected)
    functional.reset_net(net)
    assert net[1].state is None and net[4].state is None
    with pytest.raises(ConfigError, match="step_mode"):
        functional.set_step_mode(net, "multi")


def test_detach_net_cuts_carried_state() -> None:
    net = _net()
    functional.set_step_mode(net, "s")
    net(torch.rand(2, 4, requires_grad=True))
    assert net[1].v.requires_grad
    functional.detach_net(net)
    assert not net[1].v.requires_grad


def test_set_backend_reaches_every_neuron() -> None:
    net = _net()
    functional.set_backend(net, "torch")
    assert [m.backend for m in net.modules() if isinstance(m, neuron.BaseNode)] == ["torch", "torch"]
    functional.set_backend(net, "auto", instance=neuron.IFNode)
    assert net[1].backend == "torch" and net[4].backend == "auto"
    with pytest.raises(ConfigError):
        functional.set_backend(net, "gpu")


def test_tet_loss_is_the_mean_of_per_step_cross_entropies() -> None:
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(5, 4, 3, generator=gen)
    y = torch.tensor([0, 2, 1, 2])
    loop = sum(F.cross_entropy(x[t], y) for t in range(5)) / 5
    torch.testing.assert_close(functional.tet_loss(x, y), loop)
    reg = F.mse_loss(x, torch.full_like(x, 1.0))
    torch.testing.assert_close(functional.tet_loss(x, y, lamb=0.25), 0.75 * loop + 0.25 * reg)


def test_tet_loss_masks_padded_steps() -> None:
    gen = torch.Generator().manual_seed(1)
    x = torch.randn(6, 2, 4, generator=gen)
    y = torch.tensor([3, 1])
    mask = torch.tensor([[1, 1], [1, 1], [1, 0], [1, 0], [0, 0], [0, 0]], dtype=torch.bool)
    terms = [F.cross_entropy(x[t, n : n + 1], y[n : n + 1]) for t in range(6) for n in range(2) if mask[t, n]]
    torch.testing.assert_close(functional.tet_loss(x, y, mask=mask), torch.stack(terms).mean())
    with pytest.raises(ConfigError, match="target"):
        functional.tet_loss(x, torch.tensor([1, 2, 3]))


def test_delay_shifts_in_time() -> None:
    x = torch.arange(1.0, 6.0)[:, None]
    assert functional.delay(x, 2).flatten().tolist() == [0, 0, 1, 2, 3]
    assert torch.equal(functional.delay(x, 0), x)
    assert functional.delay(x, 9).abs().sum() == 0
    with pytest.raises(ConfigError):
        functional.delay(x, -1)
    d = layer.Delay(2, step_mode="s")
    assert [d(v).item() for v in x] == [0, 0, 1, 2, 3]


def test_conv_bn_fusion_is_exact_in_eval_mode() -> None:
    torch.manual_seed(0)
    for conv, bn in [
        (nn.Conv2d(3, 5, 3, padding=1, bias=False), nn.BatchNorm2d(5)),
        (nn.Conv1d(2, 4, 3, bias=True), nn.BatchNorm1d(4)),
        (layer.Conv2d(3, 5, 3, stride=2), layer.BatchNorm2d(5)),
    ]:

        def batch(n: int, conv: nn.Module = conv) -> torch.Tensor:
            x = torch.randn(n, conv.in_channels, *([9] * (conv.weight.dim() - 2)))
            return x.unsqueeze(0).expand(3, *x.shape) if isinstance(conv, layer.Conv2d) else x  # [T, N, ...]

        bn.train()
        for _ in range(3):  # non-trivial running statistics
            bn(conv(batch(8)) * 3 + 1)
        with torch.no_grad():
            bn.weight.uniform_(0.5, 2.0)
            bn.bias.uniform_(-1, 1)
        bn.eval()
        fused = functional.fuse_conv_bn(conv, bn)
        assert type(fused) is type(conv)
        x = batch(2)
        with torch.no_grad():
            torch.testing.assert_close(fused(x), bn(conv(x)), rtol=1e-5, atol=1e-5)


def test_fuse_conv_bn_in_net_keeps_eval_outputs() -> None:
    torch.manual_seed(1)
    net = models.DVSGestureNet(channels=4, blocks=2, input_size=8, backend="torch")
    net.train()
    net(torch.rand(3, 2, 2, 8, 8))
    net.eval()
    x = (torch.rand(4, 2, 2, 8, 8) < 0.3).float()
    with torch.no_grad():
        before = net.features[:3](x)  # the first block's spikes
        functional.fuse_conv_bn_in_net(net)
        after = net.features[:3](x)
    assert isinstance(net.features[1], nn.Identity)
    assert (before != after).float().mean() < 1e-3  # identical up to float rounding at the threshold


def test_kaiming_init_scales_with_fan_in() -> None:
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(64, 256, 3), nn.Linear(512, 512))
    functional.kaiming_init(net, a=0.0, nonlinearity="relu", zero_bias=True)
    conv, linear = net
    assert conv.weight.std().item() == pytest.approx(math.sqrt(2 / (64 * 9)), rel=0.05)
    assert linear.weight.std().item() == pytest.approx(math.sqrt(2 / 512), rel=0.05)
    assert conv.bias.abs().sum() == 0
    with pytest.raises(ConfigError, match="mode"):
        functional.kaiming_init(net, mode="fan")


def test_firing_rate() -> None:
    assert functional.firing_rate(torch.tensor([[1.0, 0.0], [1.0, 1.0]])).item() == 0.75
