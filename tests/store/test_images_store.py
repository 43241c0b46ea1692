"""The images store: written in blocks, read back exactly, resumed after a kill, refused under another
fingerprint, and a damaged or missing chunk is a StoreCorruptError naming it."""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from eventpipe.errors import StoreCorruptError, StoreSchemaError
from eventpipe.store import images as images_store
from eventpipe.store._zarr import DAMAGED
from eventpipe.store.images.integrity import check_images_store
from eventpipe.store.images.layout import CHUNK_IMAGES
from eventpipe.store.integrity import check_all_chunks, check_integrity
from eventpipe.store.markers import read_attrs

RNG = np.random.default_rng(3)
N = {"train": 700, "test": 90}
IMAGES = {s: RNG.integers(0, 256, (n, 3, 8, 6), dtype=np.uint8) for s, n in N.items()}
LABELS = {s: RNG.integers(0, 4, n) for s, n in N.items()}


def header(**changes: object) -> images_store.ImagesHeader:
    fields: dict[str, object] = dict(
        dataset="toy", shape=(3, 8, 6), classes=("a", "b", "c", "d"), splits=("train", "test"),
        blocks={s: images_store.plan_blocks(n, per_block=300) for s, n in N.items()},
        sources=[{"path": "x.bin", "size": 1, "checksum": "sha256:00"}],
    )
    fields.update(changes)
    return images_store.ImagesHeader(**fields)  # type: ignore[arg-type]


def write(location: Path, h: images_store.ImagesHeader, *, skip: tuple[str, int] | None = None) -> None:
    for split in h.splits:
        bounds = h.blocks[split]
        for j in range(len(bounds) - 1):
            if (split, j) != skip:
                images_store.write_block(location, split, j, IMAGES[split][bounds[j]:bounds[j + 1]])


def build(location: Path) -> images_store.ImagesStore:
    h = header()
    assert images_store.begin(location, h) == "new"
    write(location, h)
    images_store.finalize(location, h, LABELS)
    return images_store.ImagesStore.open(location)


def test_round_trip(tmp_path: Path) -> None:
    store = build(tmp_path / "s.zarr")
    assert store.shape == (3, 8, 6) and store.attrs["num_samples"] == N
    train = store.split("train")
    assert np.array_equal(train.images(), IMAGES["train"]) and np.array_equal(train.labels, LABELS["train"])
    out = np.empty((50, 3, 8, 6), dtype=np.float32)
    train.images(280, 330, out=out)  # across the boundary of blocks 0 and 1
    assert np.array_equal(out, IMAGES["train"][280:330].astype(np.float32))
    image, label = pickle.loads(pickle.dumps(store.split("test")))[-1]
    assert np.array_equal(image, IMAGES["test"][-1]) and label == LABELS["test"][-1]
    location = str(tmp_path / "s.zarr")
    assert check_images_store(location, read_attrs(location) or {}) == [] and check_all_chunks(location) == []


def test_damaged_chunk_is_store_corrupt(tmp_path: Path) -> None:
    build(tmp_path / "s.zarr")
    chunk = tmp_path / "s.zarr" / "blocks" / "train" / "b00001" / "images" / "c" / "0" / "0" / "0" / "0"
    data = bytearray(chunk.read_bytes())
    data[len(data) // 2] ^= 0xFF
    chunk.write_bytes(bytes(data))
    split = images_store.ImagesStore.open(tmp_path / "s.zarr").split("train")
    assert np.array_equal(split.images(0, 300), IMAGES["train"][:300])  # block 0 is sound
    with pytest.raises(StoreCorruptError, match=r"array blocks/train/b00001/images, chunk c/0/0/0/0: fails its CRC-32C"):
        split.images(300, 310)
    problems = check_all_chunks(str(tmp_path / "s.zarr"))
    assert len(problems) == 1 and "b00001/images, chunk c/0/0/0/0" in problems[0]
    # `eventpipe verify` knows the images kind, and says what to do once
    assert check_integrity(tmp_path / "s.zarr") == [f"{problems[0].rstrip('.')}; {DAMAGED}"]
    assert check_integrity(tmp_path / "s.zarr", quick=True) == []  # the metadata is sound
    chunk.unlink()
    with pytest.raises(StoreCorruptError, match="chunk c/0/0/0/0: missing"):
        split.images(300, 310)


def test_killed_build_resumes_and_other_fingerprint_is_refused(tmp_path: Path) -> None:
    location = tmp_path / "s.zarr"
    h = header()
    images_store.begin(location, h)
    write(location, h, skip=("train", 1))
    with pytest.raises(StoreSchemaError, match="block train/1 is not complete"):
        images_store.finalize(location, h, LABELS)
    with pytest.raises(StoreSchemaError, match="the conversion did not finish"):
        images_store.ImagesStore.open(location)
    assert images_store.begin(location, h) == "resume"
    assert images_store.completed_blocks(location, "train", 3) == {0, 2}
    images_store.write_block(location, "train", 1, IMAGES["train"][300:600])
    images_store.finalize(location, h, LABELS)
    assert images_store.begin(location, h) == "complete"
    other = header(sources=[{"path": "x.bin", "size": 2, "checksum": "sha256:11"}])
    with pytest.raises(StoreSchemaError, match="holds images that this run would not write") as exc:
        images_store.begin(location, other)
    assert "\n" not in str(exc.value) and str(location) in str(exc.value)
    assert images_store.begin(location, other, overwrite=True) == "new"


def test_chunks_hold_a_batch_of_images(tmp_path: Path) -> None:
    store = build(tmp_path / "s.zarr")
    from eventpipe.store._zarr import open_array

    arr = open_array(store.location, "blocks/train/b00000/images")
    assert arr.chunks == (min(CHUNK_IMAGES, 300), 3, 8, 6) and arr.dtype == np.uint8


def test_plain_zarr_reads_every_array(tmp_path: Path) -> None:
    """``zarr.open_group`` with no eventpipe code reads the same images, labels and block bounds, and
    every array of the store is one of those."""
    import zarr

    location = tmp_path / "s.zarr"
    store = build(location)
    group = zarr.open_group(str(location), mode="r")
    arrays: dict[str, Any] = dict(_all_arrays(group))
    seen = set()
    for split in ("train", "test"):
        bounds = arrays[f"{split}/block_samples"][...]
        images = np.concatenate([arrays[f"blocks/{split}/b{j:05d}/images"][...] for j in range(len(bounds) - 1)])
        assert np.array_equal(images, store.split(split).images())
        assert np.array_equal(arrays[f"{split}/labels"][...], store.split(split).labels)
        seen |= {f"{split}/block_samples", f"{split}/labels"} | {
            f"blocks/{split}/b{j:05d}/images" for j in range(len(bounds) - 1)}
    assert seen == set(arrays)


def _all_arrays(group: Any, prefix: str = "") -> list[tuple[str, Any]]:
    """Every array below ``group`` with its path relative to it."""
    found = [(f"{prefix}{name}", array) for name, array in group.arrays()]
    for name, sub in group.groups():
        found += _all_arrays(sub, f"{prefix}{name}/")
    return found
