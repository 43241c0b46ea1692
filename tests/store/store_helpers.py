"""Small stores and event arrays for the store tests."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from zarr.codecs import BloscCodec

from eventpipe.events import EVENT_DTYPE, SensorSize
from eventpipe.store import events_writer
from eventpipe.store.chunks import blosc_array
from eventpipe.store.events_layout import encode
from eventpipe.store.nodes import write_nodes
from eventpipe.store.samples import SampleBatch

SENSOR = SensorSize(16, 12, 2)
CLASSES = ("a", "b", "c")


def random_sample(rng: np.random.Generator, n: int, sensor: SensorSize = SENSOR, t0: int | None = None) -> np.ndarray:
    """``n`` sorted random events inside ``sensor``."""
    ev = np.zeros(n, dtype=EVENT_DTYPE)
    start = int(rng.integers(0, 10**9)) if t0 is None else t0
    ev["t"] = start + np.cumsum(rng.integers(0, 50, n))
    ev["x"] = rng.integers(0, sensor.width, n)
    ev["y"] = rng.integers(0, sensor.height, n)
    ev["p"] = rng.integers(0, sensor.polarities, n)
    return ev


def random_batch(rng: np.random.Generator, sizes: Sequence[int], first_label: int = 0) -> SampleBatch:
    """One sample per entry of ``sizes`` with labels cycling through :data:`CLASSES`."""
    batches = [
        SampleBatch.single(random_sample(rng, n), (first_label + i) % len(CLASSES), {"user": f"u{i % 2}", "seg": i})
        for i, n in enumerate(sizes)
    ]
    return SampleBatch.concat(batches)


def build_store(
    location: str, parts: dict[str, list[SampleBatch]], sensor: SensorSize = SENSOR, plan: str = "plan"
) -> events_writer.StoreHeader:
    """Write a complete store whose splits hold ``parts`` (one part per batch)."""
    header = events_writer.StoreHeader("toy", sensor, CLASSES, tuple(parts), {}, plan)
    events_writer.begin(location, header)
    keys = {}
    for split, batches in parts.items():
        keys[split] = []
        for i, batch in enumerate(batches):
            key = f"p{i:05d}"
            events_writer.write_part(
                location, split, key, encode(batch, sensor, key),
                sources=[{"path": f"{split}/{key}.bin", "size": len(batch.events), "checksum": f"sha256:{i}"}],
            )
            keys[split].append(key)
    events_writer.finalize(location, header, keys)
    return header


def write_array(location: str, path: str, data: np.ndarray, compressor: BloscCodec, chunk: int) -> None:
    """The 1-D array ``path`` holding ``data``, written as the stores write theirs."""
    metadata, chunks = blosc_array(path, data, compressor, chunk)
    write_nodes(location, [(path, metadata)], chunks)
