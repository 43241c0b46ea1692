from __future__ import annotations

import pytest
import torch
from torch import nn

from eventpipe.errors import ConfigError
from eventpipe.snn import layer, neuron


@pytest.mark.parametrize(
    ("multi", "plain", "shape"),
    [
        (lambda: layer.Conv2d(2, 3, 3, padding=1), lambda m, x: nn.Conv2d.forward(m, x), (4, 5, 2, 6, 6)),
        (lambda: layer.Conv1d(2, 3, 3), lambda m, x: nn.Conv1d.forward(m, x), (4, 5, 2, 7)),
        (lambda: layer.MaxPool2d(2), lambda m, x: nn.MaxPool2d.forward(m, x), (4, 5, 2, 6, 6)),
        (lambda: layer.AvgPool2d(2), lambda m, x: nn.AvgPool2d.forward(m, x), (4, 5, 2, 6, 6)),
        (
            lambda: layer.AdaptiveAvgPool2d(1),
            lambda m, x: nn.AdaptiveAvgPool2d.forward(m, x),
            (4, 5, 2, 6, 6),
        ),
        (lambda: layer.Flatten(), lambda m, x: nn.Flatten.forward(m, x), (4, 5, 2, 3, 3)),
        (lambda: layer.Linear(3, 2), lambda m, x: nn.Linear.forward(m, x), (4, 5, 3)),
    ],
)
def test_multi_step_layers_equal_per_step_application(multi, plain, shape) -> None:
    module = multi()
    x = torch.randn(shape)
    y = module(x)
    for t in range(shape[0]):
        torch.testing.assert_close(y[t], plain(module, x[t]))
    module.step_mode = "s"
    torch.testing.assert_close(module(x[0]), y[0])


def test_batch_norm_statistics_span_time_and_batch() -> None:
    bn = layer.BatchNorm2d(2)
    x = torch.randn(3, 4, 2, 5, 5) * 2 + 1
    y = bn(x)
    torch.testing.assert_close(y.mean(dim=(0, 1, 3, 4)), torch.zeros(2), atol=1e-5, rtol=0)
    torch.testing.assert_close(bn.running_mean, 0.1 * x.mean(dim=(0, 1, 3, 4)), atol=1e-5, rtol=0)
    assert "step_mode=m" in repr(bn)


def test_seq_to_ann_container() -> None:
    block = layer.SeqToANNContainer(nn.Conv2d(2, 3, 1), nn.ReLU())
    x = torch.randn(4, 2, 2, 3, 3)
    y = block(x)
    assert y.shape == (4, 2, 3, 3, 3)
    torch.testing.assert_close(y[1], nn.Sequential.forward(block, x[1]))
    with pytest.raises(ConfigError, match=r"\[T, N, \.\.\.\]"):
        block(torch.zeros(3))


def test_dropout_shares_one_mask_over_time() -> None:
    torch.manual_seed(0)
    drop = layer.Dropout(0.5)
    y = drop(torch.ones(6, 3, 40))
    assert torch.equal(y, y[0].expand_as(y))
    assert set(y.unique().tolist()) == {0.0, 2.0}
    drop.step_mode = "s"
    first = drop(torch.ones(3, 40))
    assert torch.equal(drop(torch.ones(3, 40)), first)  # kept until reset
    drop.reset()
    assert drop.mask is None
    drop.eval()
    assert torch.equal(drop(torch.ones(6, 3, 40)), torch.ones(6, 3, 40))
    with pytest.raises(ConfigError):
        layer.Dropout(1.0)


def test_voting_layer_averages_groups() -> None:
    vote = layer.VotingLayer(3)
    x = torch.tensor([[1.0, 0.0, 1.0, 0.0, 0.0, 1.0]])
    torch.testing.assert_close(vote(x), torch.tensor([[2 / 3, 1 / 3]]))
    with pytest.raises(ConfigError, match="multiple of voting_size=3"):
        vote(torch.zeros(1, 4))
    with pytest.raises(ConfigError):
        layer.VotingLayer(0)


def test_recurrent_spiking_layer_streams_and_learns() -> None:
    torch.manual_seed(0)
    rec = layer.RecurrentSpiking(5, 7, neuron.LIFNode(step_mode="s"))
    with torch.no_grad():
        rec.recurrent.weight.fill_(0.3)
    x = (torch.rand(9, 2, 5) < 0.5).float().requires_grad_()
    y = rec(x)
    assert y.shape == (9, 2, 7)
    y.sum().backward()
    assert rec.recurrent.weight.grad is not None and x.grad is not None
    rec.step_mode = "s"
    streamed = torch.stack([rec(xt) for xt in x.detach()])
    assert torch.equal(streamed, y.detach())
    rec.detach()
    rec.reset()
    assert rec.state is None
