"""Small stores, event arrays and frames for the store tests."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from zarr.codecs import BloscCodec

from eventpipe.events import EVENT_DTYPE, SensorSize
from eventpipe.frames import IntegrationSpec
from eventpipe.store._zarr import blosc_array, write_nodes
from eventpipe.store.events import writer as events_writer
from eventpipe.store.events.encoding import encode
from eventpipe.store.events.layout import StoreHeader
from eventpipe.store.frames import writer as frames_writer
from eventpipe.store.frames.layout import FramesHeader
from eventpipe.store.samples import SampleBatch

SENSOR = SensorSize(16, 12, 2)
CLASSES = ("a", "b", "c")
FRAMES_SENSOR = SensorSize(4, 3, 2)


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
) -> StoreHeader:
    """Write a complete store whose splits hold ``parts`` (one part per batch)."""
    header = StoreHeader("toy", sensor, CLASSES, tuple(parts), {}, plan)
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


def frames_header(spec: IntegrationSpec, blocks: dict[str, list[int]], source: str = "src-fp") -> FramesHeader:
    """The header of a frames store of :data:`FRAMES_SENSOR` frames with the planned ``blocks``."""
    return FramesHeader(
        dataset="demo", sensor=FRAMES_SENSOR, classes=("a", "b", "c"), splits=tuple(blocks), spec=spec,
        source_fingerprint=source, source_location="/nowhere/events.zarr", blocks=blocks,
    )


def random_frames(rng: np.random.Generator, t: int, high: int = 5, dtype: type = np.uint8) -> np.ndarray:
    """``t`` random frames of :data:`FRAMES_SENSOR` with counts below ``high``."""
    return rng.integers(0, high, size=FRAMES_SENSOR.frame_shape(t)).astype(dtype)


def build_frames_store(location: str, spec: IntegrationSpec, samples: dict[str, list[np.ndarray]],
                       bounds: dict[str, list[int]]) -> None:
    """Write a complete frames store whose splits hold ``samples``, in blocks ``bounds``; labels cycle
    through three classes, metadata columns ``user`` (str) and ``take`` (int)."""
    h = frames_header(spec, bounds)
    assert frames_writer.begin(location, h) == "new"
    for split, frames in samples.items():
        b = bounds[split]
        for j in range(len(b) - 1):
            frames_writer.write_block(location, split, j, frames[b[j]:b[j + 1]], FRAMES_SENSOR, spec.fixed_frames)
    labels = {s: np.arange(len(f)) % 3 for s, f in samples.items()}
    meta = {s: {"user": np.array([f"u{i}" for i in range(len(f))]), "take": np.arange(len(f))} for s, f in samples.items()}
    frames_writer.finalize(location, h, labels, meta)
