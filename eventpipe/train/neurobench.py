"""NeuroBench's efficiency metrics of a network, with NeuroBench's definitions.

Static, from the weights (:func:`static_metrics`):

* ``footprint_bytes``: bytes of every parameter and buffer.
* ``connection_sparsity``: zero weights over all weights of the connection layers (``Linear``,
  ``Conv1d/2d/3d``, the step-mode layers of :mod:`eventpipe.snn.layer` included; biases left out).

Workload, counted by forward hooks during a pass (:class:`WorkloadRecorder`):

* ``activation_sparsity``: zero outputs over all outputs of the activation modules (spiking neurons,
  ``ReLU``, ``Sigmoid``), over every valid step of every sample.
* ``synaptic_operations`` per sample, on the connection layers (biases are no synaptic operation):
  ``dense`` counts every weight against every input, zeros included (the layer run with all inputs and
  weights set to one); ``effective_macs`` and ``effective_acs`` count only pairs of a non-zero input and a
  non-zero weight, as accumulates (ACs) when that call's input holds only 0 and ±1 (spikes), else as
  multiply-accumulates (MACs).

Counts are per call, so a multi-step call ``[T, N, ...]``, a merged one ``[T * N, ...]``
(:class:`~eventpipe.snn.layer.SeqToANNContainer`) and T single-step calls ``[N, ...]`` give the same totals.
Padded steps (past a sample's length, ``mask`` False) are left out, so a sample's numbers do not depend on
the other samples of its batch; activation sparsity is the fraction over all valid outputs of the split,
which is NeuroBench's batch-weighted mean whenever the samples have the same length. A convolution's
count is one extra convolution of one summed input map, not of the batch.

>>> from eventpipe.train.ddp import DistContext
>>> net = nn.Sequential(nn.Linear(3, 2, bias=False), nn.ReLU())
>>> rec = WorkloadRecorder(net)
>>> rec.begin_batch(torch.ones(1, 4, dtype=torch.bool))  # T = 1 step of N = 4 samples
>>> _ = net(torch.tensor([[1.0, 0.0, 1.0]]).expand(4, 3))  # 2 of 3 inputs spike, into 2 outputs
>>> rec.result(DistContext(), torch.device("cpu"))["synaptic_operations"]
{'dense': 6.0, 'effective_macs': 0.0, 'effective_acs': 4.0}
"""

from __future__ import annotations

from typing import Any, cast

import torch
from torch import nn

from eventpipe.train.ddp import DistContext, all_reduce_tensor

CONNECTION_TYPES: tuple[type[nn.Module], ...] = (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d)
"""Layers whose weights make synapses (NeuroBench's stateless connection layers)."""

_ZEROS, _MACS, _ACS = range(3)  # device-side sums; outputs and dense operations are known on the host


def activation_types() -> tuple[type[nn.Module], ...]:
    """Modules whose outputs count in the activation sparsity: spiking neurons, ``ReLU``, ``Sigmoid``."""
    from eventpipe.snn.neuron import BaseNode

    return (BaseNode, nn.ReLU, nn.Sigmoid)


def footprint(model: nn.Module) -> int:
    """Bytes of the parameters and buffers of ``model`` (each shared tensor once)."""
    tensors = list(model.parameters()) + list(model.buffers())
    return sum(t.numel() * t.element_size() for t in tensors)


def connection_sparsity(model: nn.Module) -> float:
    """Fraction of zero weights over the weights of every connection layer (0.0 without any)."""
    zeros = total = 0
    for m in model.modules():
        if isinstance(m, CONNECTION_TYPES):
            w = cast(torch.Tensor, m.weight).detach()
            zeros += int(w.numel() - torch.count_nonzero(w).item())
            total += w.numel()
    return zeros / total if total else 0.0


def static_metrics(model: nn.Module) -> dict[str, Any]:
    """``{"footprint_bytes": int, "connection_sparsity": float}`` of ``model``."""
    return {"footprint_bytes": footprint(model), "connection_sparsity": connection_sparsity(model)}


def _hooked(model: nn.Module, types: tuple[type[nn.Module], ...]) -> list[nn.Module]:
    """Modules of ``types`` in ``model``, not looking inside a match (as NeuroBench)."""
    if isinstance(model, types):
        return [model]
    return [m for child in model.children() for m in _hooked(child, types)]


class WorkloadRecorder:
    """Count activation sparsity and synaptic operations of ``model`` while attached.

    Call :meth:`begin_batch` with each batch's ``[T, N]`` padding mask before its forward pass, read
    :meth:`result` at the end, and :meth:`remove` the hooks.
    """

    def __init__(self, model: nn.Module) -> None:
        self._sums: torch.Tensor | None = None
        self._outputs = 0
        self._dense = 0
        self._samples = 0
        self._mask: torch.Tensor | None = None  # None while every step of the batch is valid
        self._shape: tuple[int, int] = (0, 0)
        self._calls: dict[int, int] = {}  # single-step calls per module since begin_batch
        self._dense_rows: dict[tuple[int, tuple[int, ...]], int] = {}
        self._handles: list[Any] = []
        for m in _hooked(model, CONNECTION_TYPES):
            self._handles.append(m.register_forward_hook(self._connection_hook))
        for m in _hooked(model, activation_types()):
            self._handles.append(m.register_forward_hook(self._activation_hook))

    def begin_batch(self, mask: torch.Tensor) -> None:
        """Count the next forward pass as one batch of ``N`` samples with valid steps ``mask [T, N]``."""
        self._shape = (int(mask.shape[0]), int(mask.shape[1]))
        self._samples += self._shape[1]
        self._mask = None if bool(mask.all()) else mask.bool()
        self._calls.clear()

    # -- hooks ---------------------------------------------------------------------------------------------
    def _add(self, index: int, value: torch.Tensor) -> None:
        if self._sums is None:
            self._sums = torch.zeros(3, dtype=torch.float64, device=value.device)
        self._sums[index] += value.to(self._sums.device, torch.float64)

    def _valid_rows(self, module: nn.Module, x: torch.Tensor, feature_dims: int) -> torch.Tensor:
        """``x`` as ``[rows, *features]`` (the last ``feature_dims`` axes), without padded steps' rows."""
        lead = tuple(x.shape[:x.dim() - feature_dims])
        flat = x.reshape(-1, *x.shape[len(lead):])
        rows = self._row_mask(module, lead, self._mask) if self._mask is not None and lead else None
        return flat if rows is None else flat[rows]

    def _row_mask(self, module: nn.Module, lead: tuple[int, ...], m: torch.Tensor) -> torch.Tensor | None:
        """Which rows of a call with leading axes ``lead`` belong to valid steps (None: all).

        A step-mode module says its layout; for a plain module it is read from the shape: ``[T * N, ...]``
        (merged), else ``[T, N, ...]``, else one step ``[N, ...]`` (the module's k-th call of the batch).
        """
        T, N = self._shape
        rest = [1] * (len(lead) - 1)
        mode = getattr(module, "step_mode", None)
        if mode != "s" and lead[0] == T * N:
            valid = m.reshape(T * N, *rest)
        elif mode != "s" and lead[:2] == (T, N):
            valid = m.view(T, N, *rest[1:])
        elif mode != "m" and lead[0] == N:
            k = self._calls.get(id(module), 0)
            self._calls[id(module)] = k + 1
            if k >= T:
                return None
            valid = m[k].view(N, *rest)
        else:
            return None
        return valid.expand(lead).reshape(-1)

    def _connection_hook(self, module: nn.Module, args: tuple[Any, ...], output: Any) -> None:
        x = args[0] if args else None
        if isinstance(x, torch.Tensor):
            with torch.no_grad(), torch.autocast(x.device.type, enabled=False):
                self._count_connection(module, x.detach())

    def _count_connection(self, module: nn.Module, x: torch.Tensor) -> None:
        weight = cast(torch.Tensor, module.weight).detach()
        nonzero_weight = (weight != 0).to(torch.float64)
        conv: Any = None if isinstance(module, nn.Linear) else module
        rows = self._valid_rows(module, x, 1 if conv is None else len(conv.kernel_size) + 1)
        # x == sign(x) exactly when x holds only 0 and ±1 (spikes); |sign(x)| marks the non-zero inputs
        sign = torch.sign(rows)
        is_spike = torch.ne(rows, sign).any().logical_not().to(torch.float64)
        # non-zero inputs per input element, summed over the rows by one matrix-vector product (in float32,
        # exact for fewer than 2**24 rows)
        dtype = torch.float32 if rows.shape[0] < 2**24 else torch.float64
        nonzero = sign.abs_().to(dtype).reshape(rows.shape[0], -1)
        ones = torch.ones(1, nonzero.shape[0], dtype=dtype, device=nonzero.device)
        counts = (ones @ nonzero).reshape(rows.shape[1:]).to(torch.float64)
        if conv is None:
            effective = counts @ nonzero_weight.sum(0)
            dense = rows.shape[0] * weight.numel()
        else:  # the convolution is linear in its input: one pass over the summed map counts every row
            effective = conv._conv_forward(counts.unsqueeze(0), nonzero_weight, None).sum()
            dense = rows.shape[0] * self._dense_per_row(conv, (1, *counts.shape), counts.device)
        self._dense += dense
        self._add(_ACS, effective * is_spike)
        self._add(_MACS, effective * (1.0 - is_spike))

    def _dense_per_row(self, conv: Any, shape: tuple[int, ...], device: torch.device) -> int:
        """Operations of one input map of ``shape`` with every input and weight one (padding excluded)."""
        key = (id(conv), shape)
        if key not in self._dense_rows:
            ones = torch.ones(shape, dtype=torch.float64, device=device)
            w = torch.ones(conv.weight.shape, dtype=torch.float64, device=device)
            self._dense_rows[key] = round(conv._conv_forward(ones, w, None).sum().item())
        return self._dense_rows[key]

    def _activation_hook(self, module: nn.Module, args: tuple[Any, ...], output: Any) -> None:
        y = output[0] if isinstance(output, tuple) else output
        if isinstance(y, torch.Tensor):
            with torch.no_grad():
                rows = self._valid_rows(module, y.detach(), 0)
                self._add(_ZEROS, rows.numel() - torch.count_nonzero(rows))
                self._outputs += rows.numel()

    # -- results -------------------------------------------------------------------------------------------
    def result(self, ctx: DistContext, device: torch.device) -> dict[str, Any]:
        """Activation sparsity and synaptic operations per sample, summed over batches and ranks."""
        sums = torch.zeros(6, dtype=torch.float64, device=device)
        if self._sums is not None:
            sums[:3] = self._sums.to(device)
        sums[3:] = torch.tensor([self._outputs, self._dense, self._samples], dtype=torch.float64)
        all_reduce_tensor(sums, ctx)
        v = sums.tolist()
        outputs, dense, samples = v[3], v[4], max(v[5], 1.0)
        return {
            "activation_sparsity": v[_ZEROS] / outputs if outputs > 0 else 0.0,
            "synaptic_operations": {
                "dense": dense / samples,
                "effective_macs": v[_MACS] / samples,
                "effective_acs": v[_ACS] / samples,
            },
        }

    def remove(self) -> None:
        for h in self._handles:
            h.remove()
        self._handles.clear()


def summary_text(metrics: dict[str, Any]) -> str:
    """One line of the metrics of :func:`static_metrics` and :meth:`WorkloadRecorder.result` together."""
    ops = metrics["synaptic_operations"]
    return (f"activation sparsity {metrics['activation_sparsity']:.4f}; synaptic operations per sample: dense "
            f"{ops['dense']:.4g}, effective MACs {ops['effective_macs']:.4g}, effective ACs "
            f"{ops['effective_acs']:.4g}; connection sparsity {metrics['connection_sparsity']:.4f}; "
            f"footprint {metrics['footprint_bytes']:,} bytes")
