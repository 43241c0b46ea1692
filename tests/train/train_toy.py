"""A small learnable problem for trainer tests: class-specific spike patterns in noise, and a tiny SNN.

Kept in its own module so that subprocess scripts (torchrun, signal tests) import the same fixture.
"""

from __future__ import annotations

import time
from typing import Any

import torch
from torch.utils.data import Dataset

from eventpipe.snn import functional, layer, neuron
from eventpipe.train.config import TrainConfig
from eventpipe.train.data import DataBundle

CLASSES = ("a", "b", "c", "d")


class PatternFrames(Dataset):
    """``n`` samples ``([T, 1, 4, 4] float32, label)``: a class prototype firing with probability
    ``p_signal`` per step, plus background spikes. ``lengths`` gives per-sample T (variable-T batches);
    ``delay_s`` slows ``__getitem__`` down (for signal tests)."""

    def __init__(self, n: int, *, seed: int, T: int = 6, p_signal: float = 0.5, p_noise: float = 0.15,
                 variable_t: bool = False, delay_s: float = 0.0) -> None:
        g = torch.Generator().manual_seed(seed)
        protos = torch.rand(len(CLASSES), 1, 4, 4, generator=torch.Generator().manual_seed(1234)) < 0.35
        self.y = torch.randint(0, len(CLASSES), (n,), generator=g)
        lengths = torch.randint(max(2, T // 2), T + 1, (n,), generator=g) if variable_t else torch.full((n,), T)
        self.x = []
        for i in range(n):
            t = int(lengths[i])
            noise = torch.rand(t, 1, 4, 4, generator=g) < p_noise
            signal = protos[self.y[i]].unsqueeze(0) & (torch.rand(t, 1, 4, 4, generator=g) < p_signal)
            self.x.append((noise | signal).float())
        self.delay_s = delay_s

    def __len__(self) -> int:
        return len(self.y)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, int]:
        if self.delay_s:
            time.sleep(self.delay_s)
        return self.x[i], int(self.y[i])


def bundle(n_train: int = 96, n_test: int = 48, **kwargs: Any) -> DataBundle:
    return DataBundle(PatternFrames(n_train, seed=0, **kwargs), PatternFrames(n_test, seed=1, **kwargs), CLASSES)


def tiny_net(seed: int = 0, dropout: float = 0.2, batch_norm: bool = False) -> torch.nn.Module:
    """Flatten -> Linear(16, 32) [-> BatchNorm1d] -> IF -> Dropout -> Linear(32, 4) -> IF."""
    torch.manual_seed(seed)
    norm = [layer.BatchNorm1d(32)] if batch_norm else []
    net = torch.nn.Sequential(
        layer.Flatten(),
        layer.Linear(16, 32),
        *norm,
        neuron.IFNode(backend="torch"),
        layer.Dropout(dropout),
        layer.Linear(32, len(CLASSES)),
        neuron.IFNode(backend="torch"),
    )
    functional.set_step_mode(net, "m")  # the trainer feeds whole sequences [T, N, ...]
    return net


def config(output: str, **overrides: Any) -> TrainConfig:
    base = TrainConfig.from_dict({
        "name": "toy",
        "data": {"dataset": "demo", "frames": 6, "batch_size": 8},
        "model": {"name": "toy"},
        "optimizer": {"lr": 0.02},
        "train": {"epochs": 3, "output": output, "seed": 0, "plots": False},
    })
    return base.replace_from(overrides) if overrides else base


def comparable(history: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """History rows without wall-clock fields."""
    drop = {"train_seconds", "test_seconds", "samples_per_s"}
    return [{k: v for k, v in row.items() if k not in drop} for row in history]
