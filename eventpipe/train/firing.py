"""Per-layer spiking activity through :mod:`eventpipe.snn.monitor` output monitors.

:class:`FiringRateRecorder` keeps, for every spiking layer, the number of spikes and of neuron-steps
over the valid (unpadded) time steps of each batch, so the rate is exact for variable-length samples.
:func:`record_spikes` captures the spikes of one sample for a raster plot.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from eventpipe.train.ddp import DistContext, all_reduce_tensor


def _spiking_types() -> tuple[type, ...]:
    from eventpipe.snn import neuron

    return (neuron.BaseNode,)


def spiking_layers(model: torch.nn.Module) -> list[str]:
    """Names of the spiking neuron modules of ``model`` in forward-definition order."""
    types = _spiking_types()
    return [name for name, m in model.named_modules() if isinstance(m, types)]


class FiringRateRecorder:
    """Accumulate masked spike counts of every spiking layer while it is attached.

    Call :meth:`set_mask` with each batch's ``[T, N]`` padding mask before the forward pass, read
    :meth:`rates` at the end, and :meth:`remove` the hooks.
    """

    def __init__(self, model: torch.nn.Module) -> None:
        from eventpipe.snn import monitor

        self._mask: torch.Tensor | None = None
        self._monitor = monitor.OutputMonitor(model, _spiking_types(), function_on_output=self._reduce)

    def set_mask(self, mask: torch.Tensor) -> None:
        self._mask = mask

    def _reduce(self, spikes: torch.Tensor) -> torch.Tensor:
        """``[T, N, ...]`` spikes -> ``[spikes, neuron-steps]`` over the valid steps (float64, same device)."""
        s = spikes.detach()
        per_step = s.reshape(s.shape[0], s.shape[1], -1).double()
        neurons = per_step.shape[-1]
        if self._mask is not None and self._mask.shape == per_step.shape[:2]:
            m = self._mask.to(per_step.device, torch.float64)
            total = (per_step.sum(-1) * m).sum()
            count = m.sum() * neurons
        else:
            total = per_step.sum()
            count = torch.tensor(float(per_step.numel()), dtype=torch.float64, device=per_step.device)
        return torch.stack([total, count])

    def rates(self, ctx: DistContext, device: torch.device) -> dict[str, float]:
        """Spikes per neuron per valid step for each layer, summed over batches and ranks."""
        names = list(self._monitor.monitored_layers)
        if not names:
            return {}
        sums = torch.zeros(len(names), 2, dtype=torch.float64, device=device)
        for i, name in enumerate(names):
            for rec in self._monitor[name]:
                sums[i] += rec.to(device)
        all_reduce_tensor(sums, ctx)
        return {name: float(sums[i, 0] / sums[i, 1]) if sums[i, 1] > 0 else 0.0 for i, name in enumerate(names)}

    def remove(self) -> None:
        self._monitor.remove_hooks()


def record_spikes(model: torch.nn.Module, x: torch.Tensor) -> dict[str, np.ndarray]:
    """Spikes of every spiking layer for one sample ``x [T, 1, ...]``: ``{layer: bool [T, neurons]}``."""
    from eventpipe.snn import monitor

    def first_sample(s: torch.Tensor) -> torch.Tensor:
        return (s.detach()[:, 0].reshape(s.shape[0], -1) != 0).cpu()

    mon = monitor.OutputMonitor(model, _spiking_types(), function_on_output=first_sample)
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            model(x)
        out: dict[str, Any] = {}
        for name in mon.monitored_layers:
            recs = mon[name]
            if recs:
                out[name] = recs[0].numpy()
        return out
    finally:
        mon.remove_hooks()
        model.train(was_training)
