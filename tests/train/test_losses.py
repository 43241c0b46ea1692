"""Losses and predictions on [T, N, C] outputs with a padding mask, against hand-computed values."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from eventpipe.errors import ConfigError
from eventpipe.train.config import LossConfig
from eventpipe.train.losses import compute_loss, firing_rate, predict


def _out_and_mask() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    # T=3, N=2, C=2; sample 1 has length 2, so its last step (a padded step) must not count
    out = torch.tensor([[[1.0, 0.0], [0.0, 1.0]],
                        [[1.0, 1.0], [0.0, 1.0]],
                        [[0.0, 1.0], [1.0, 1.0]]])
    mask = torch.tensor([[True, True], [True, True], [True, False]])
    y = torch.tensor([0, 1])
    return out, mask, y


def test_firing_rate_ignores_padding() -> None:
    out, mask, _ = _out_and_mask()
    assert torch.allclose(firing_rate(out, mask), torch.tensor([[2 / 3, 2 / 3], [0.0, 1.0]]))
    assert predict(out, mask).tolist() == [0, 1]  # ties go to the first class


def test_mse_is_on_the_rate_against_one_hot() -> None:
    out, mask, y = _out_and_mask()
    loss = compute_loss(LossConfig(name="mse"), out, y, mask)
    expected = ((2 / 3 - 1) ** 2 + (2 / 3) ** 2 + 0 + 0) / 4
    assert loss.item() == pytest.approx(expected)


def test_cross_entropy_of_the_rate() -> None:
    out, mask, y = _out_and_mask()
    loss = compute_loss(LossConfig(name="cross_entropy"), out, y, mask)
    ref = F.cross_entropy(torch.tensor([[2 / 3, 2 / 3], [0.0, 1.0]]), y)
    assert loss.item() == pytest.approx(ref.item())


def test_tet_by_hand() -> None:
    out, mask, y = _out_and_mask()
    lam, phi = 0.25, 1.0
    loss = compute_loss(LossConfig(name="tet", tet_lambda=lam, tet_phi=phi), out, y, mask)

    def ce(logits: list[float], target: int) -> float:
        return F.cross_entropy(torch.tensor([logits], dtype=torch.float32), torch.tensor([target])).item()

    ce0 = (ce([1, 0], 0) + ce([1, 1], 0) + ce([0, 1], 0)) / 3
    ce1 = (ce([0, 1], 1) + ce([0, 1], 1)) / 2  # padded step excluded
    reg0 = (((1 - 1) ** 2 + (0 - 1) ** 2) / 2 + 0 + ((0 - 1) ** 2 + 0) / 2) / 3
    reg1 = (((0 - 1) ** 2 + 0) / 2 + ((0 - 1) ** 2 + 0) / 2) / 2
    expected = (1 - lam) * (ce0 + ce1) / 2 + lam * (reg0 + reg1) / 2
    assert loss.item() == pytest.approx(expected, rel=1e-6)


def test_padding_does_not_change_a_sample() -> None:
    torch.manual_seed(0)
    out = torch.rand(4, 1, 3)
    y = torch.tensor([2])
    full = torch.ones(4, 1, dtype=torch.bool)
    padded_out = torch.cat([out, torch.rand(3, 1, 3)])
    padded_mask = torch.cat([full, torch.zeros(3, 1, dtype=torch.bool)])
    for name in ("mse", "cross_entropy", "tet"):
        cfg = LossConfig(name=name)
        assert compute_loss(cfg, out, y, full).item() == pytest.approx(
            compute_loss(cfg, padded_out, y, padded_mask).item())


def test_shape_errors() -> None:
    with pytest.raises(ConfigError, match=r"\[T, N, classes\]"):
        compute_loss(LossConfig(), torch.zeros(2, 3), torch.zeros(3, dtype=torch.long), torch.ones(2, 3, dtype=torch.bool))
