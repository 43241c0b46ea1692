"""Spiking neural networks on time-first tensors ``[T, N, ...]``.

Submodules: :mod:`~eventpipe.snn.neuron` (IF, LIF, parametric LIF), :mod:`~eventpipe.snn.surrogate`
(surrogate gradients), :mod:`~eventpipe.snn.functional` (reset, step modes, backends, TET loss, conv-BN
fusion, ...), :mod:`~eventpipe.snn.monitor` (hooks recording spikes, potentials and gradients),
:mod:`~eventpipe.snn.encoding` (Poisson, latency and direct encoders), :mod:`~eventpipe.snn.layer`
(multi-step layers, voting) and :mod:`~eventpipe.snn.models` (reference networks). The neuron equations
are pure functions in :mod:`~eventpipe.snn.dynamics`; the fused backends are :mod:`~eventpipe.snn.fused`
(torch) and :mod:`eventpipe.snn.cuda.backend` (CuPy, optional).

Submodules load on first access, so ``import eventpipe.snn`` stays cheap.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ["dynamics", "encoding", "functional", "layer", "models", "monitor", "neuron", "surrogate"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
