"""Dataset definitions, one module per dataset, and the PyTorch dataset classes.

>>> from eventpipe.datasets import get_dataset
>>> spec = get_dataset("dvs128_gesture")
>>> spec.name, tuple(spec.sensor), len(spec.classes)
('dvs128', (128, 128, 2), 11)

Definitions live in a :class:`~eventpipe.registry.Registry`; a plugin adds one through the
entry-point group ``eventpipe.datasets`` whose object is a :class:`DatasetSpec` instance. The torch
classes (``DVS128Gesture``, ``NMNIST``, ``CIFAR10DVS``, ``NCaltech101``, ``SHD``, ``ASLDVS``,
``Demo``) load on first access, so importing this package stays light (no torch, Dask or Zarr).
"""

from __future__ import annotations

import importlib
from typing import Any

from eventpipe.datasets.base import DatasetSpec, Part, Unit
from eventpipe.errors import ConfigError
from eventpipe.registry import Registry

DATASETS: Registry[DatasetSpec] = Registry("dataset", group="eventpipe.datasets")

_BUILTIN_MODULES = ("demo", "dvs128", "nmnist", "ncaltech101", "cifar10dvs", "shd", "asl_dvs")

_TORCH_CLASSES = ("DVS128Gesture", "NMNIST", "CIFAR10DVS", "NCaltech101", "SHD", "ASLDVS", "Demo")

__all__ = [
    "DATASETS",
    "DatasetSpec",
    "Part",
    "Unit",
    "dataset_names",
    "get_dataset",
    "register_dataset",
    *_TORCH_CLASSES,
]


def register_dataset(spec: DatasetSpec) -> None:
    """Add ``spec`` under its name and aliases; a name already taken is an error."""
    DATASETS.register(spec.name, spec, aliases=spec.aliases)


def get_dataset(name: str) -> DatasetSpec:
    """The definition registered as ``name`` (or one of its aliases); the error lists valid names."""
    spec = DATASETS.get(name)
    if not isinstance(spec, DatasetSpec):
        raise ConfigError(f"Dataset plugin {name!r} is a {type(spec).__name__}, not a DatasetSpec.")
    return spec


def dataset_names() -> list[str]:
    """Registered dataset names (built-ins first, then plugins), aliases excluded."""
    return DATASETS.names()


for _module in _BUILTIN_MODULES:
    register_dataset(importlib.import_module(f"{__name__}.{_module}").SPEC)


def __getattr__(name: str) -> Any:
    if name in _TORCH_CLASSES:
        from eventpipe.datasets import torch_datasets

        return getattr(torch_datasets, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_TORCH_CLASSES))
