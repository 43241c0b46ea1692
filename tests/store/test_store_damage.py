"""Damaged stores are never read as data: a chunk that is missing, cut short or altered fails on read
and in ``eventpipe verify`` with one line naming the store, the array and the chunk; and a store
copied elsewhere reads and verifies the same."""

from __future__ import annotations

import json
import os
import shutil
import struct
from collections.abc import Callable
from pathlib import Path

import google_crc32c
import numpy as np
import pytest
from store_helpers import FRAMES_SENSOR, build_frames_store, build_store, random_batch, random_frames
from typer.testing import CliRunner

from eventpipe.cli.main import app
from eventpipe.datasets import Demo
from eventpipe.errors import StoreCorruptError, StoreSchemaError
from eventpipe.fetch import verify_raw, verify_stores
from eventpipe.frames import IntegrationSpec
from eventpipe.pipeline.prepare import prepare
from eventpipe.store import EventsStore, FramesStore

SPEC = IntegrationSpec(frames=3)
EVENTS = "events.zarr"
FRAMES = f"frames/{SPEC.name}.zarr"
X_CHUNK = f"{EVENTS}/parts/train/p00000/x/c/0"
DT_CHUNK = f"{EVENTS}/parts/train/p00000/dt/c/0"
LABELS_CHUNK = f"{EVENTS}/train/labels/c/0"
FRAMES_CHUNK = f"{FRAMES}/blocks/train/b00000/frames/c/0/0/0/0/0"


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data root whose ``demo`` folder holds a small events store and a small frames store."""
    root = tmp_path_factory.mktemp("small")
    rng = np.random.default_rng(0)
    build_store(str(root / "demo" / EVENTS), {"train": [random_batch(rng, [40, 7, 300]), random_batch(rng, [9])],
                                              "test": [random_batch(rng, [12, 5])]})
    samples = [random_frames(rng, 3, high=h) for h in (5, 1, 400, 3)]
    build_frames_store(str(root / "demo" / FRAMES), SPEC, {"train": samples, "test": samples[:1]},
                       {"train": [0, 2, 4], "test": [0, 1]})
    return root


def _copy(source: Path, to: Path) -> Path:
    """A new data root at ``to`` with copies of the stores of ``source/demo`` (its raw files, if any,
    linked rather than copied)."""
    folder = to / "demo"
    folder.mkdir(parents=True)
    if (source / "demo" / "raw").exists():
        os.symlink(source / "demo" / "raw", folder / "raw")
    shutil.copytree(source / "demo" / EVENTS, folder / EVENTS)
    shutil.copytree(source / "demo" / "frames", folder / "frames")
    return to


def _delete(path: Path) -> None:
    path.unlink()


def _flip(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))


def _truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[:len(data) // 2])


def _blosc_size_mutation(data: bytes) -> bytes:
    """The sparse counts chunk ``data`` (payload only) with the top byte of its first Blosc value
    stream's size set: numcodecs used to raise SystemError decoding it."""
    header, sizes = struct.Struct("<4sBBBxQQ"), struct.Struct("<8Q")
    streams = sizes.unpack_from(data, header.size)
    first = next(i for i, n in enumerate(streams[1:], 1) if n)
    at = header.size + sizes.size + sum(streams[:first]) + 7
    return data[:at] + b"\xff" + data[at + 1:]


def _mutate_frames(path: Path) -> None:
    path.write_bytes(_blosc_size_mutation(path.read_bytes()[:-4]) + path.read_bytes()[-4:])


def _read_events(root: Path) -> None:
    store = EventsStore.open(root / "demo" / EVENTS)
    for name in store.splits:
        split = store.split(name)
        for i in range(len(split)):
            split[i]


def _read_frames(root: Path) -> None:
    store = FramesStore.open(root / "demo" / FRAMES)
    for name in store.splits:
        split = store.split(name)
        for i in range(len(split)):
            split.frames(i, out=np.empty((3, *FRAMES_SENSOR.frame_shape(0)[1:]), np.float32))
            split[i]


CASES: list[tuple[str, str, Callable[[Path], None], Callable[[Path], None]]] = [
    ("labels chunk deleted", LABELS_CHUNK, _delete, _read_events),
    ("x chunk deleted", X_CHUNK, _delete, _read_events),
    ("x chunk byte flipped", X_CHUNK, _flip, _read_events),
    ("dt chunk byte flipped", DT_CHUNK, _flip, _read_events),
    ("events chunk truncated", DT_CHUNK, _truncate, _read_events),
    ("frames chunk deleted", FRAMES_CHUNK, _delete, _read_frames),
    ("frames chunk byte flipped", FRAMES_CHUNK, _flip, _read_frames),
    ("frames chunk truncated", FRAMES_CHUNK, _truncate, _read_frames),
    ("frames chunk mutated", FRAMES_CHUNK, _mutate_frames, _read_frames),
]


def _names(chunk: str) -> str:
    """What the error must say about ``chunk`` (a path under ``demo/``): its array and chunk key."""
    store, rest = chunk.split(".zarr/", 1)
    array, key = rest.split("/c/", 1)
    return f"{store}.zarr: array {array}, chunk c/{key}"


@pytest.mark.parametrize(("case", "chunk", "damage", "read"), CASES, ids=[c[0] for c in CASES])
def test_damage_fails_verify_and_read_naming_the_chunk(
    small: Path, tmp_path: Path, case: str, chunk: str, damage: Callable[[Path], None], read: Callable[[Path], None],
) -> None:
    root = _copy(small, tmp_path / "root")
    assert verify_stores("demo", root).ok
    damage(root / "demo" / chunk)
    where = _names(chunk)

    (problem,) = verify_stores("demo", root).problems
    assert problem.target == chunk.split(".zarr/")[0] + ".zarr" and where in problem.detail, problem.detail
    with pytest.raises(StoreSchemaError, match="chunk") as verified:
        (verify_raw("demo", root, progress=False) + verify_stores("demo", root)).raise_for_problems()
    assert where in str(verified.value) and "\n" not in str(verified.value)
    with pytest.raises(StoreCorruptError) as raised:
        read(root)
    message = str(raised.value)
    assert where in message and "\n" not in message and "build it again" in message, message


def test_quick_verify_reads_no_chunk(small: Path, tmp_path: Path) -> None:
    root = _copy(small, tmp_path / "root")
    _flip(root / "demo" / X_CHUNK)
    assert verify_stores("demo", root, quick=True).ok
    assert not verify_stores("demo", root).ok


def test_a_chunk_with_a_valid_checksum_that_does_not_decode_is_corrupt(small: Path, tmp_path: Path) -> None:
    """Damage the checksum cannot see (bytes altered before it was computed) still gives the one-line
    error, never the decoder's own SystemError."""
    root = _copy(small, tmp_path / "root")
    path = root / "demo" / FRAMES_CHUNK
    payload = _blosc_size_mutation(path.read_bytes()[:-4])
    path.write_bytes(payload + struct.pack("<I", google_crc32c.value(payload)))
    with pytest.raises(StoreCorruptError, match="cannot be decoded") as raised:
        _read_frames(root)
    assert _names(FRAMES_CHUNK) in str(raised.value)


def test_stores_of_an_older_schema_ask_to_be_rebuilt(small: Path, tmp_path: Path) -> None:
    root = _copy(small, tmp_path / "root")
    for store, cls, command in ((EVENTS, EventsStore, "eventpipe convert toy"),
                                (FRAMES, FramesStore, "eventpipe prepare demo --overwrite")):
        meta_path = root / "demo" / store / "zarr.json"
        meta = json.loads(meta_path.read_text())
        meta["attributes"]["schema_version"] = 2
        meta_path.write_text(json.dumps(meta))
        with pytest.raises(StoreSchemaError, match=f"schema version 2; this eventpipe reads version 3.*{command}"):
            cls.open(root / "demo" / store)
        (problem,) = [c for c in verify_stores("demo", root).problems if c.target == store]
        assert command in problem.detail


@pytest.mark.slow
def test_demo_copied_elsewhere_reads_and_verifies_and_damage_stops_the_dataset(tmp_path: Path) -> None:
    """End to end on the demo dataset: built, its root copied elsewhere and the original deleted, the
    copy verifies and reads (no path of the first folder is recorded in a store); then a damaged
    chunk of each store fails ``eventpipe verify`` and the torch dataset with the one-line error."""
    spec = IntegrationSpec(frames=8)
    frames = f"frames/{spec.name}.zarr"
    original = tmp_path / "original"
    prepare("demo", original, spec, scheduler="synchronous", progress=False)
    expected = Demo(original, "test", frames=8)[3]
    root = tmp_path / "elsewhere" / "root"
    shutil.copytree(original, root)
    shutil.rmtree(original)
    for store in (EVENTS, frames):
        text = b"".join(p.read_bytes() for p in (root / "demo" / store).rglob("zarr.json"))
        assert str(original).encode() not in text
    runner = CliRunner()
    result = runner.invoke(app, ["verify", "demo", "--root", str(root)])
    assert result.exit_code == 0, result.output
    got = Demo(root, "test", frames=8)[3]
    np.testing.assert_array_equal(np.asarray(got[0]), np.asarray(expected[0]))
    assert got[1] == expected[1]

    for chunk, dataset in ((f"{frames}/blocks/train/b00000/frames/c/0/0/0/0/0", lambda: Demo(root, "train", frames=8)),
                           (X_CHUNK, lambda: Demo(root, "train"))):
        _flip(root / "demo" / chunk)
        result = runner.invoke(app, ["verify", "demo", "--root", str(root)])
        assert result.exit_code != 0 and _names(chunk) in result.output and "Traceback" not in result.output
        with pytest.raises(StoreCorruptError, match="chunk c/0") as raised:
            data = dataset()
            for i in range(len(data)):
                data[i]
        assert _names(chunk) in str(raised.value) and "\n" not in str(raised.value)
