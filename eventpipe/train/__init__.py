"""The bundled SNN trainer: pipeline configs, the training loop, checkpoints, metrics and pictures.

>>> from eventpipe.train import load_config, train                       # doctest: +SKIP
>>> result = train(load_config("pipelines/demo.toml", {"train.epochs": 5}))  # doctest: +SKIP
>>> result.best_accuracy, result.output                                  # doctest: +SKIP

Modules: :mod:`~eventpipe.train.config` (frozen, validated sections; TOML; overrides),
:mod:`~eventpipe.train.loop` (:func:`train`), :mod:`~eventpipe.train.evaluation` (evaluation passes and
:func:`evaluate_checkpoint`), :mod:`~eventpipe.train.checkpoint`, :mod:`~eventpipe.train.metrics`,
:mod:`~eventpipe.train.plots`, :mod:`~eventpipe.train.ddp` (``torchrun``), :mod:`~eventpipe.train.build`
(models from config), :mod:`~eventpipe.train.data`, :mod:`~eventpipe.train.losses`,
:mod:`~eventpipe.train.sampling`, :mod:`~eventpipe.train.optim`, :mod:`~eventpipe.train.runtime`,
:mod:`~eventpipe.train.firing`, :mod:`~eventpipe.train.pipelines` (bundled pipeline files).

Names load on first access, so importing this package does not import torch.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "TrainConfig": "eventpipe.train.config",
    "load_config": "eventpipe.train.config",
    "train": "eventpipe.train.loop",
    "TrainResult": "eventpipe.train.loop",
    "evaluate_checkpoint": "eventpipe.train.evaluation",
    "load_checkpoint": "eventpipe.train.checkpoint",
    "resolve_pipeline": "eventpipe.train.pipelines",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
