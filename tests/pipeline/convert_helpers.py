"""Raw trees, a deliberately slow dataset and store comparison for the convert tests."""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from dataclasses import fields
from pathlib import Path
from typing import Any

import numpy as np
import zarr

from eventpipe.sources import DATASETS, get_dataset, register_dataset
from eventpipe.sources.base import Unit
from eventpipe.sources.dvs128 import GestureLayoutSpec
from eventpipe.store.samples import SampleBatch

SLOW_ENV = "EVENTPIPE_TEST_SLOW_S"


def write_tree(raw_dir: Path) -> list[Path]:
    """Six small recordings (users 1-3, two lightings each) in the DVS128 Gesture layout, 32x32."""
    from eventpipe.synth import write_gesture_raw

    return write_gesture_raw(raw_dir, users=3, lightings=2, sensor=(32, 32, 2), events_per_second=5_000,
                             gesture_seconds=0.5, time_step_us=5000)


class SlowGestureSpec(GestureLayoutSpec):
    """The demo layout, sleeping ``$EVENTPIPE_TEST_SLOW_S`` seconds per recording (to be killed mid-run)."""

    def read_unit(self, raw_dir: Path, unit: Unit, options: Mapping[str, Any]) -> SampleBatch:
        time.sleep(float(os.environ.get(SLOW_ENV, "0")))
        return super().read_unit(raw_dir, unit, options)


def register_slow_dataset(name: str = "slowdemo") -> str:
    """Register :class:`SlowGestureSpec` as ``name`` (once per process)."""
    if name not in DATASETS:
        demo = get_dataset("demo")
        values = {f.name: getattr(demo, f.name) for f in fields(demo)}
        register_dataset(SlowGestureSpec(**{**values, "name": name, "aliases": ()}))
    return name


def store_contents(location: str | Path) -> dict[str, tuple[dict, Any]]:
    """Every node of a store: path -> (attributes, array data or None for groups)."""
    root = zarr.open_group(str(location), mode="r")
    out: dict[str, tuple[dict, Any]] = {"": (dict(root.attrs), None)}
    for path, node in root.members(max_depth=None):
        data = node[:] if isinstance(node, zarr.Array) else None
        out[path] = (dict(node.attrs), data)
    return out


def assert_same_store(a: str | Path, b: str | Path) -> None:
    """Array by array and attribute by attribute, the two stores hold the same."""
    left, right = store_contents(a), store_contents(b)
    assert sorted(left) == sorted(right)
    for path in left:
        (attrs_a, data_a), (attrs_b, data_b) = left[path], right[path]
        assert attrs_a == attrs_b, path
        if data_a is None:
            assert data_b is None, path
        else:
            assert data_a.dtype == data_b.dtype and np.array_equal(data_a, data_b), path
