from __future__ import annotations

import pytest
import torch

from eventpipe.errors import ConfigError
from eventpipe.snn import encoding


def test_poisson_rate_matches_input_and_is_reproducible() -> None:
    x = torch.tensor([0.0, 0.2, 0.5, 1.0])
    spikes = encoding.PoissonEncoder(4000, generator=torch.Generator().manual_seed(0))(x)
    assert spikes.shape == (4000, 4)
    assert set(spikes.unique().tolist()) <= {0.0, 1.0}
    torch.testing.assert_close(spikes.mean(0), x, atol=0.03, rtol=0)
    again = encoding.PoissonEncoder(4000, generator=torch.Generator().manual_seed(0))(x)
    assert torch.equal(spikes, again)


@pytest.mark.parametrize("function", ["linear", "log"])
def test_latency_fires_once_earlier_for_larger_inputs(function: str) -> None:
    x = torch.linspace(0, 1, 11).reshape(1, 11)
    spikes = encoding.LatencyEncoder(8, function)(x)
    assert spikes.shape == (8, 1, 11)
    assert torch.equal(spikes.sum(0), torch.ones(1, 11))
    first = spikes.argmax(0).flatten()
    assert first[0] == 7 and first[-1] == 0
    assert (first[1:] <= first[:-1]).all()


def test_latency_linear_golden() -> None:
    t = encoding.LatencyEncoder(5)(torch.tensor([1.0, 0.5, 0.0, 2.0])).argmax(0)
    assert t.tolist() == [0, 2, 4, 0]  # clamped to [0, 1]


def test_repeat_encoder_and_validation() -> None:
    x = torch.rand(2, 3)
    y = encoding.RepeatEncoder(4)(x)
    assert y.shape == (4, 2, 3) and torch.equal(y[3], x)
    with pytest.raises(ConfigError, match="steps"):
        encoding.PoissonEncoder(0)
    with pytest.raises(ConfigError, match="function"):
        encoding.LatencyEncoder(4, "exp")
