"""Stage 0: dataset definitions, one module per dataset, in one registry.

>>> from eventpipe.sources import get_dataset
>>> spec = get_dataset("dvs128_gesture")
>>> spec.name, tuple(spec.sensor), len(spec.classes)
('dvs128', (128, 128, 2), 11)

A definition (:class:`DatasetSpec`) knows a dataset's raw layout, sensor, classes and splits; its
name, aliases, title, license, citation and homepage come from its manifest
(:mod:`eventpipe.manifests`). A plugin adds a definition through the entry-point group
``eventpipe.datasets`` whose object is a :class:`DatasetSpec` instance. A name that is neither is
looked up as a user dataset, ``<root>/<name>/dataset.toml`` (:mod:`eventpipe.sources.user`), which
therefore never shadows a registered name. Importing this package does not import torch, Dask or Zarr.
"""

from __future__ import annotations

import importlib
import os
from pathlib import Path

from eventpipe.errors import ConfigError, UnknownNameError
from eventpipe.paths import resolve_root
from eventpipe.registry import Registry
from eventpipe.sources.base import DatasetSpec, Part, Unit
from eventpipe.sources.user import find_user_dataset, user_dataset_folders

DATASETS: Registry[DatasetSpec] = Registry("dataset", group="eventpipe.datasets")

_BUILTIN_MODULES = ("demo", "dvs128", "nmnist", "ncaltech101", "cifar10dvs", "shd", "asl_dvs", "dvs_lip",
                    "demo_static", "mnist", "fashion_mnist", "cifar10")

_USER_ROOTS: list[Path] = []
"""Data roots opened in this process (latest first), where :func:`get_dataset` looks for user datasets."""

__all__ = [
    "DATASETS", "DatasetSpec", "Part", "Unit", "dataset_names", "get_dataset", "is_registered", "register_dataset",
    "use_root", "user_dataset_names",
]


def register_dataset(spec: DatasetSpec) -> None:
    """Add ``spec`` under its name and aliases; a name already taken is an error."""
    DATASETS.register(spec.name, spec, aliases=spec.aliases)


def get_dataset(name: str, root: str | os.PathLike[str] | None = None) -> DatasetSpec:
    """The definition registered as ``name`` (or one of its aliases), else the user dataset ``name``
    under ``root`` (by default: the roots passed to :func:`use_root`, then the default data root).

    The error for an unknown name lists the registered names.
    """
    try:
        spec = DATASETS.get(name)
    except UnknownNameError:
        roots = [Path(root).expanduser()] if root is not None else [*_USER_ROOTS, resolve_root()]
        user = find_user_dataset(name, roots)
        if user is None:
            raise
        return user
    if not isinstance(spec, DatasetSpec):
        raise ConfigError(f"Dataset plugin {name!r} is a {type(spec).__name__}, not a DatasetSpec.")
    return spec


def is_registered(name: str) -> bool:
    """True when ``name`` is a registered name or alias (built-in or plugin): no user dataset may take it."""
    try:
        DATASETS.canonical(name)
    except UnknownNameError:
        return False
    return True


def use_root(root: str | os.PathLike[str]) -> None:
    """Let :func:`get_dataset` find the user datasets under data root ``root`` by name alone (the
    command line and the dataset classes call this with the root they are given)."""
    path = Path(root).expanduser()
    if path in _USER_ROOTS:
        _USER_ROOTS.remove(path)
    _USER_ROOTS.insert(0, path)


def dataset_names() -> list[str]:
    """Registered dataset names (built-ins first, then plugins), aliases excluded."""
    return DATASETS.names()


def user_dataset_names(root: str | os.PathLike[str]) -> list[str]:
    """The user datasets defined under data root ``root``, sorted; a folder that has a registered name
    is left out (that name resolves to the registered dataset, never to the folder's definition)."""
    return [name for name in user_dataset_folders(root) if not is_registered(name)]


for _module in _BUILTIN_MODULES:
    register_dataset(importlib.import_module(f"{__name__}.{_module}").SPEC)
