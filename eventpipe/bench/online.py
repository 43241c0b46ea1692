"""Autograd memory and time of online training (FPTT, OTTT) against backpropagation through time, per ``T``.

The memory is the peak of the bytes autograd holds for the backward pass (every tensor saved by an
operation, counted while its graph is alive, through ``torch.autograd.graph.saved_tensors_hooks``): exact
and deterministic, and the part of the memory that grows with the number of time steps under BPTT. All
three run the same network one step per call (single-step mode); BPTT keeps every step's graph for one
backward pass over the summed step losses, FPTT and OTTT backpropagate each step's loss at once.
"""

from __future__ import annotations

import time
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["MODES", "SavedTensorMeter", "bench_online"]

MODES = ("bptt", "fptt", "ottt")


class _Held:
    """A saved tensor; the meter counts its bytes until autograd drops it."""

    __slots__ = ("meter", "nbytes", "tensor")

    def __init__(self, tensor: torch.Tensor, meter: SavedTensorMeter) -> None:
        self.tensor = tensor
        self.meter = meter
        self.nbytes = tensor.numel() * tensor.element_size()
        meter.live += self.nbytes
        meter.peak = max(meter.peak, meter.live)

    def __del__(self) -> None:
        self.meter.live -= self.nbytes


class SavedTensorMeter:
    """``with SavedTensorMeter() as m: ...``: ``m.peak``, the most bytes autograd held for backward at once."""

    def __init__(self) -> None:
        self.live = 0
        self.peak = 0
        self._hooks = torch.autograd.graph.saved_tensors_hooks(lambda t: _Held(t, self), lambda h: h.tensor)

    def __enter__(self) -> SavedTensorMeter:
        self._hooks.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self._hooks.__exit__(*exc)


def _model(channels: int, size: int, hidden: int) -> nn.Module:
    from eventpipe.snn.models import DVSGestureNet

    return DVSGestureNet(channels, blocks=3, input_size=size, hidden=hidden, dropout=0.0, backend="torch")


def _bptt(model: nn.Module, optimizer: torch.optim.Optimizer, x: torch.Tensor, y: torch.Tensor) -> None:
    optimizer.zero_grad(set_to_none=True)
    loss = sum(F.cross_entropy(model(x[t]), y[t]) for t in range(x.shape[0]))
    loss.backward()  # type: ignore[union-attr]
    optimizer.step()


def _run(mode: str, model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> tuple[int, float]:
    from eventpipe.snn.online import fptt_init_running_average, fptt_sequence, ottt_sequence, single_step

    optimizer = torch.optim.SGD(model.parameters(), lr=1e-3)
    w_ra = fptt_init_running_average(optimizer)
    start = time.perf_counter()
    with single_step(model), SavedTensorMeter() as meter:
        if mode == "bptt":
            _bptt(model, optimizer, x, y)
        elif mode == "fptt":
            fptt_sequence(model, optimizer, x, y, F.cross_entropy, 0.5, w_ra)
        else:
            ottt_sequence(model, optimizer, x, y, F.cross_entropy, decay=0.5)
    return meter.peak, time.perf_counter() - start


def bench_online(*, frames: tuple[int, ...] = (8, 32), batch: int = 8, channels: int = 16, size: int = 32,
                 hidden: int = 128, modes: tuple[str, ...] = MODES, threads: int | None = None,
                 seed: int = 0) -> dict[str, Any]:
    """Peak autograd bytes and seconds of one training sequence per mode and ``T`` (random input spikes)."""
    if threads:
        torch.set_num_threads(threads)
    rows = []
    for mode in modes:
        for T in frames:
            torch.manual_seed(seed)
            model = _model(channels, size, hidden)
            x = (torch.rand(T, batch, 2, size, size) < 0.1).float()
            y = torch.randint(0, 11, (batch,)).expand(T, batch)
            peak, seconds = _run(mode, model, x, y)
            rows.append({"mode": mode, "T": T, "peak_saved_MiB": round(peak / 2**20, 3), "seconds": round(seconds, 3)})
    return {"frames": list(frames), "batch": batch, "channels": channels, "size": size, "hidden": hidden,
            "threads": torch.get_num_threads(), "rows": rows}
