"""Stage 0: dataset definitions, one module per dataset, in one registry.

>>> from eventpipe.sources import get_dataset
>>> spec = get_dataset("dvs128_gesture")
>>> spec.name, tuple(spec.sensor), len(spec.classes)
('dvs128', (128, 128, 2), 11)

A definition (:class:`DatasetSpec`) knows a dataset's raw layout, sensor, classes and splits; its
name, aliases, title, license, citation and homepage come from its manifest
(:mod:`eventpipe.manifests`). A plugin adds a definition through the entry-point group
``eventpipe.datasets`` whose object is a :class:`DatasetSpec` instance. Importing this package does
not import torch, Dask or Zarr.
"""

from __future__ import annotations

import importlib

from eventpipe.errors import ConfigError
from eventpipe.registry import Registry
from eventpipe.sources.base import DatasetSpec, Part, Unit

DATASETS: Registry[DatasetSpec] = Registry("dataset", group="eventpipe.datasets")

_BUILTIN_MODULES = ("demo", "dvs128", "nmnist", "ncaltech101", "cifar10dvs", "shd", "asl_dvs", "dvs_lip")

__all__ = ["DATASETS", "DatasetSpec", "Part", "Unit", "dataset_names", "get_dataset", "register_dataset"]


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
