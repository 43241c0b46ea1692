"""Convert a fake raw tree and read every sample back, for comparing with what the tree must yield."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

Samples = dict[str, list[tuple[np.ndarray, int, dict[str, Any]]]]


def _convert_and_read(name: str, root: Path, **options: Any) -> Samples:
    from eventpipe.pipeline.convert import convert
    from eventpipe.sources import get_dataset
    from eventpipe.store import EventsStore, check_integrity

    convert(name, root, scheduler="synchronous", progress=False, **options)
    location = get_dataset(name).events_store_path(root)
    assert check_integrity(location) == []
    store = EventsStore.open(location)
    out: Samples = {}
    for split_name in store.splits:
        split = store.split(split_name)
        out[split_name] = [(split.events(i), int(split.labels[i]), split.meta(i)) for i in range(len(split))]
    return out


@pytest.fixture
def convert_and_read() -> Callable[..., Samples]:
    return _convert_and_read
