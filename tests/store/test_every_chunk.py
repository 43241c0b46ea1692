"""Every chunk of every array of every kind of store carries a CRC-32C, and each one, deleted or with
one byte flipped, fails ``check_integrity`` and the store's reader with the one line that names the
store, the array and the chunk: events, count frames (fixed and variable T), float frames and images,
their per-sample labels, offsets, metadata and source arrays included."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from store_helpers import (
    FRAMES_SENSOR,
    build_frames_store,
    build_store,
    frames_header,
    random_batch,
    random_frames,
)

from eventpipe.errors import StoreCorruptError
from eventpipe.frames import IntegrationSpec
from eventpipe.store import EventsStore, FramesStore, check_integrity
from eventpipe.store import images as images_store
from eventpipe.store.events import read_sources
from eventpipe.store.frames import layout as frames_layout
from eventpipe.store.frames import writer as frames_writer


def _events(location: Path) -> None:
    rng = np.random.default_rng(0)
    build_store(str(location), {"train": [random_batch(rng, [40, 7, 300]), random_batch(rng, [9])],
                                "test": [random_batch(rng, [12, 5])]})


def _counts_fixed(location: Path) -> None:
    rng = np.random.default_rng(1)
    samples = [random_frames(rng, 3, high=h) for h in (5, 1, 400, 3)]
    build_frames_store(str(location), IntegrationSpec(frames=3), {"train": samples, "test": samples[:1]},
                       {"train": [0, 2, 4], "test": [0, 1]})


def _counts_variable(location: Path) -> None:
    rng = np.random.default_rng(2)
    samples = [random_frames(rng, t) for t in (4, 0, 1, 20, 2)]
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(frames_layout, "CHUNK_BYTES", 8 * FRAMES_SENSOR.polarities * FRAMES_SENSOR.height * FRAMES_SENSOR.width)
        build_frames_store(str(location), IntegrationSpec(events_per_frame=100), {"train": samples},
                           {"train": [0, 3, 5]})


def _floats(location: Path) -> None:
    rng = np.random.default_rng(3)
    spec = IntegrationSpec(exp_decay=3, tau=5000)
    h = frames_header(spec, {"train": [0, 2, 3]})
    frames_writer.begin(str(location), h)
    frames = [rng.random(FRAMES_SENSOR.frame_shape(3)).astype(np.float32) for _ in range(3)]
    frames_writer.write_block(str(location), "train", 0, frames[:2], FRAMES_SENSOR, spec.fixed_frames)
    frames_writer.write_block(str(location), "train", 1, frames[2:], FRAMES_SENSOR, spec.fixed_frames)
    frames_writer.finalize(str(location), h, {"train": np.arange(3) % 3}, {"train": {"user": np.array(["a", "b", "c"])}})


def _images(location: Path) -> None:
    rng = np.random.default_rng(4)
    n = {"train": 300, "test": 20}
    h = images_store.ImagesHeader(
        dataset="toy", shape=(1, 4, 3), classes=("a", "b"), splits=tuple(n),
        blocks={s: images_store.plan_blocks(k, per_block=200) for s, k in n.items()},
        sources=[{"path": "x.bin", "size": 1, "checksum": "sha256:00"}],
    )
    images_store.begin(location, h)
    for split, k in n.items():
        bounds = h.blocks[split]
        data = rng.integers(0, 256, (k, 1, 4, 3), dtype=np.uint8)
        for j in range(len(bounds) - 1):
            images_store.write_block(location, split, j, data[bounds[j]:bounds[j + 1]])
    images_store.finalize(location, h, {s: rng.integers(0, 2, k) for s, k in n.items()})


def _read_events(location: Path) -> None:
    store = EventsStore.open(location)
    read_sources(location)
    for name in store.splits:
        split = store.split(name)
        split.t0, split.t1, split.meta_columns  # noqa: B018
        for i in range(len(split)):
            split[i]


def _read_frames(location: Path) -> None:
    store = FramesStore.open(location)
    for name in store.splits:
        split = store.split(name)
        split.meta_columns  # noqa: B018
        for i in range(len(split)):
            split[i]


def _read_images(location: Path) -> None:
    store = images_store.ImagesStore.open(location)
    for name in store.splits:
        split = store.split(name)
        split.images()
        for i in range(len(split)):
            split[i]


KINDS: dict[str, tuple[Callable[[Path], None], Callable[[Path], None]]] = {
    "events": (_events, _read_events),
    "count frames, fixed T": (_counts_fixed, _read_frames),
    "count frames, variable T": (_counts_variable, _read_frames),
    "float frames": (_floats, _read_frames),
    "images": (_images, _read_images),
}


def _arrays(location: Path) -> dict[str, dict]:
    """``{array path: metadata}`` of every array in the store at ``location``."""
    found = {}
    for meta in location.rglob("zarr.json"):
        doc = json.loads(meta.read_text())
        if doc.get("node_type") == "array":
            found[meta.parent.relative_to(location).as_posix()] = doc
    return found


def _chunks(location: Path) -> list[tuple[str, str]]:
    """``(array, chunk key)`` of every stored chunk file of the store at ``location``."""
    found = []
    for path in sorted(p for p in location.rglob("*") if p.is_file() and p.name != "zarr.json"):
        array, key = path.relative_to(location).as_posix().split("/c/", 1)
        found.append((array, f"c/{key}"))
    return found


def _flip(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x10
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("kind", KINDS)
def test_every_chunk_is_checksummed_and_its_damage_is_named(kind: str, tmp_path: Path) -> None:
    build, read = KINDS[kind]
    template = tmp_path / "template.zarr"
    build(template)
    assert check_integrity(template) == []
    read(template)
    arrays = _arrays(template)
    chunks = _chunks(template)
    assert {a for a, _ in chunks} == set(arrays)  # every array stores its chunks, empty ones too
    for path, meta in arrays.items():
        assert meta["codecs"][-1]["name"] == "crc32c", f"{kind}: array {path} has no checksum: {meta['codecs']}"
        assert str(template) not in json.dumps(meta)
    assert str(template.parent) not in (template / "zarr.json").read_text()

    for array, key in chunks:
        for damage in (Path.unlink, _flip):
            store = tmp_path / "damaged.zarr"
            shutil.rmtree(store, ignore_errors=True)
            shutil.copytree(template, store)
            damage(store / array / key)
            where = f"{store}: array {array}, chunk {key}: "
            problems = check_integrity(store)
            assert len(problems) == 1 and where in problems[0], (kind, array, key, damage.__name__, problems)
            with pytest.raises(StoreCorruptError) as raised:
                read(store)
            message = str(raised.value)
            assert where in message and "\n" not in message, (kind, array, key, damage.__name__, message)
