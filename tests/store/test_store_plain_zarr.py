"""Both stores are plain Zarr v3: ``zarr.open_group`` and ``zarr.open_array``, without eventpipe's
readers, read every array of a built store and get exactly what eventpipe's readers return."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import zarr
from store_helpers import build_frames_store, build_store, random_batch, random_frames

from eventpipe.frames import IntegrationSpec
from eventpipe.store import EventsStore, FramesStore
from eventpipe.store.events.reader import read_sources


def _arrays(root: zarr.Group) -> dict[str, np.ndarray]:
    """Every array of the store, by path, read whole through Zarr."""
    return {path: np.asarray(node[...]) for path, node in root.members(max_depth=None) if isinstance(node, zarr.Array)}


def test_events_store_reads_as_plain_zarr(tmp_path: Path) -> None:
    location = str(tmp_path / "events.zarr")
    rng = np.random.default_rng(0)
    build_store(location, {"train": [random_batch(rng, [5, 0, 17]), random_batch(rng, [3, 8])],
                           "test": [random_batch(rng, [9])]})
    arrays = _arrays(zarr.open_group(location, mode="r"))
    store = EventsStore.open(location)
    seen = set()
    for name in store.splits:
        split = store.split(name)
        index = {k: arrays[f"{name}/{k}"] for k in ("offsets", "labels", "t0", "t1", "part_samples", "part_events")}
        for k in ("offsets", "labels", "t0", "t1"):
            np.testing.assert_array_equal(index[k], getattr(split, k), err_msg=f"{name}/{k}")
        for column, values in split.meta_columns.items():
            assert arrays[f"{name}/meta/{column}"].tolist() == values.tolist()
            seen.add(f"{name}/meta/{column}")
        parts = [str(k) for k in zarr.open_group(location, mode="r", path=name).attrs["parts"]]
        columns = {c: np.concatenate([zarr.open_array(location, mode="r", path=f"parts/{name}/{key}/{c}")[...]
                                      for key in parts]) for c in ("dt", "x", "y", "p")}
        assert index["part_events"][-1] == len(columns["dt"]) and index["part_samples"][-1] == len(split)
        for i in range(len(split)):
            a, b = int(index["offsets"][i]), int(index["offsets"][i + 1])
            events = split.events(i)
            # t is stored as deltas within each sample (dt[a] = 0), from the sample's first timestamp t0
            t = index["t0"][i] + np.cumsum(columns["dt"][a:b].astype(np.int64))
            np.testing.assert_array_equal(t, events["t"])
            for c in ("x", "y", "p"):
                np.testing.assert_array_equal(columns[c][a:b], events[c])
            if b > a:
                assert t[-1] == index["t1"][i]
        seen |= {f"{name}/{k}" for k in index} | {f"parts/{name}/{key}/{c}" for key in parts for c in columns}
    sources = read_sources(location)
    assert arrays["sources/path"].tolist() == [s["path"] for s in sources]
    assert arrays["sources/size"].tolist() == [s["size"] for s in sources]
    assert arrays["sources/checksum"].tolist() == [s["checksum"] for s in sources]
    seen |= {"sources/path", "sources/size", "sources/checksum"}
    assert seen == set(arrays)


def test_frames_store_reads_as_plain_zarr(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    for spec, samples, bounds in (
        (IntegrationSpec(frames=3), [random_frames(rng, 3, high=h) for h in (5, 1, 400, 3)], [0, 2, 4]),
        (IntegrationSpec(events_per_frame=10), [random_frames(rng, t) for t in (2, 0, 5, 1)], [0, 1, 4]),
    ):
        location = str(tmp_path / f"{spec.name}.zarr")
        build_frames_store(location, spec, {"train": samples, "test": samples[:1]},
                           {"train": bounds, "test": [0, 1]})
        arrays = _arrays(zarr.open_group(location, mode="r"))
        store = FramesStore.open(location)
        seen = set()
        for name in store.splits:
            split = store.split(name)
            index = {k: arrays[f"{name}/{k}"] for k in ("offsets", "labels", "block_samples", "block_frames")}
            np.testing.assert_array_equal(index["offsets"], split.offsets)
            np.testing.assert_array_equal(index["labels"], split.labels)
            for column, values in split.meta_columns.items():
                assert arrays[f"{name}/meta/{column}"].tolist() == values.tolist()
                seen.add(f"{name}/meta/{column}")
            blocks = index["block_samples"]
            for j in range(len(blocks) - 1):
                path = f"blocks/{name}/b{j:05d}/frames"
                data = zarr.open_array(location, mode="r", path=path)[...]
                frames = data.reshape(-1, *data.shape[-3:])  # fixed T: [n, T, P, H, W] -> frames
                assert int(index["block_frames"][j + 1] - index["block_frames"][j]) == len(frames)
                for i in range(int(blocks[j]), int(blocks[j + 1])):
                    a = int(index["offsets"][i] - index["block_frames"][j])
                    b = a + int(index["offsets"][i + 1] - index["offsets"][i])
                    got = split.frames(i)
                    assert got.dtype == store.dtype
                    np.testing.assert_array_equal(frames[a:b], got)
                seen.add(path)
            seen |= {f"{name}/{k}" for k in index}
        assert seen == set(arrays)
