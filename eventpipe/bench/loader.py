"""Data loading benchmark: samples/s through a DataLoader from the frames store, from SpikingJelly-style
``.npz`` files and by integrating the events store on the fly.

Everything is measured in the same run on the same data: a synthetic DVS128-Gesture-like dataset
(128x128, 6 s gestures of ~0.4 M events, :func:`eventpipe.synth.write_gesture_raw`) converted and
integrated by the real pipeline into 20 frames per sample (``frames=20, split_by="number"``). Sources, all yielding
``Tensor[20, 2, 128, 128]`` float32 per sample but the uint8 one:

- ``frames_store``: :class:`eventpipe.datasets.DVS128Gesture` in frames mode (integer counts in Zarr).
- ``frames_store_uint8``: the same dataset with ``dtype=torch.uint8``: the counts as they are stored,
  ``Tensor[20, 2, 128, 128]`` uint8, to be made float where they are used (on the GPU, say).
- ``npz_float64``: the same frames saved as SpikingJelly saves them, ``np.savez_compressed`` of a
  float64 array per sample, read with ``np.load(...)["frames"].astype(np.float32)``.
- ``to_frames``: the events store with :class:`eventpipe.transforms.ToFrames` integrating every sample
  on the fly (what event-level augmentation per epoch costs).

On the device (a GPU when one is available, else the CPU), in the same run, two more sources feed a
model's input ``[T, N, 2, 128, 128]`` float32 there, each counted up to the device's last kernel:

- ``frames_store``: the frames store's float32 items, padded time first
  (:func:`eventpipe.collate.pad_sequence_collate_time_first`) and moved to the device.
- ``on_the_fly``: the events store's raw events, packed per batch with their offsets
  (:func:`eventpipe.loading.event_batches.pack_events_collate`), moved to the device and integrated
  there (:class:`eventpipe.loading.torch_frames.TorchFrames`): what ``[data] on_the_fly = true``
  costs, with no frames store at all.

With worker processes, a DataLoader passes every batch through new shared memory, which the
worker faults in page by page: 2.6 MB per float32 sample. Where page faults are dear (on virtual
machines, say), that transfer can cost more than decoding the sample, and the uint8 counts pass a
quarter of the bytes.

Each source runs through ``DataLoader(batch_size, num_workers=w)`` with persistent workers; one
untimed epoch warms caches and compiles kernels, then the sources take turns for ``epochs`` timed
epochs and the best epoch of each counts. An epoch reads the dataset :data:`PASSES` times over.
Run through the ``eventpipe`` command, torch puts CPU tensors of 2 MB and more on transparent huge
pages (:func:`eventpipe.memory.use_huge_pages`; the result says whether they were on), for every
source alike; the eventpipe datasets also keep freed memory in DataLoader workers
(:mod:`eventpipe.memory`).
Target: the frames store >= 3x the npz files at every worker count, for float32 and for uint8 items.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

TARGET_SPEEDUP = 3.0
FRAMES_SOURCES = ("frames_store", "frames_store_uint8")
"""The sources read from the frames store, each compared with the npz files."""
FRAMES = 20
GESTURE_SECONDS = 6.0
"""Gesture length of the synthetic samples, as in DVS128 Gesture."""
PASSES = 4
"""Times each timed epoch reads the dataset (a sampler of its indices repeated)."""
EVENTS_PER_SECOND = 60_000.0
"""Default event rate: ~0.4 M events per 6 s sample, the density of DVS128 Gesture samples."""


class NpzFramesDataset(Dataset[tuple[torch.Tensor, int]]):
    """SpikingJelly's frame loading: one compressed float64 ``.npz`` per sample, cast to float32."""

    def __init__(self, files: Sequence[Path], labels: Sequence[int]) -> None:
        self.files = [str(f) for f in files]
        self.labels = [int(y) for y in labels]

    def __len__(self) -> int:
        return len(self.files)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, int]:
        with np.load(self.files[i], allow_pickle=True) as npz:
            frames = npz["frames"].astype(np.float32)
        return torch.from_numpy(frames), self.labels[i]


def _folder_bytes(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def build_data(
    root: Path, users: int, events_per_second: float, progress: bool, prepare_workers: int | None = None
) -> dict[str, Any]:
    """Generate and convert the events store (unless complete), integrate it, write the npz copies.

    Returns the three datasets, their sizes on disk and the mean events per sample.
    """
    from eventpipe.datasets import DVS128Gesture, get_dataset
    from eventpipe.frames import IntegrationSpec
    from eventpipe.pipeline.convert import convert
    from eventpipe.pipeline.prepare import prepare
    from eventpipe.store.events.writer import is_store_complete
    from eventpipe.synth import write_gesture_raw
    from eventpipe.transforms import ToFrames

    info = get_dataset("dvs128")
    events_store = info.events_store_path(root)
    if not is_store_complete(str(events_store)):
        raw = info.raw_dir(root)
        write_gesture_raw(raw, users=users, lightings=2, test_users=1, sensor=(128, 128, 2),
                          events_per_second=events_per_second, gesture_seconds=GESTURE_SECONDS, time_step_us=2000,
                          progress=progress)
        convert("dvs128", root, workers=prepare_workers, progress=progress)
        # the synthetic raw files are not the published ones: without them prepare skips the download check
        shutil.rmtree(raw)
    prepare("dvs128", root, IntegrationSpec(frames=FRAMES), workers=prepare_workers, progress=progress)
    frames_ds = DVS128Gesture(root, split="train", frames=FRAMES)
    counts_ds = DVS128Gesture(root, split="train", frames=FRAMES, dtype=torch.uint8)
    events_ds = DVS128Gesture(root, split="train", transform=ToFrames(info.sensor, frames=FRAMES))
    npz_dir = root / "npz_float64"
    files = [npz_dir / f"{i:05d}.npz" for i in range(len(frames_ds))]
    if not all(f.exists() for f in files):
        npz_dir.mkdir(parents=True, exist_ok=True)
        for i, f in enumerate(files):
            np.savez_compressed(f, frames=frames_ds.load(i).numpy().astype(np.float64))
    npz_ds = NpzFramesDataset(files, frames_ds.labels.tolist())
    return {
        "raw_events": DVS128Gesture(root, split="train"),
        "datasets": {"frames_store": frames_ds, "frames_store_uint8": counts_ds, "npz_float64": npz_ds,
                     "to_frames": events_ds},
        "bytes": {
            "frames_store": _folder_bytes(frames_ds.store_path),
            "npz_float64": _folder_bytes(npz_dir),
            "events_store": _folder_bytes(info.events_store_path(root)),
        },
        "events_per_sample": float(events_ds.lengths.mean()),
    }


def _epoch_seconds(loader: DataLoader[Any], finish: Callable[[Any], Any] | None = None,
                   device: torch.device | None = None) -> float:
    """Seconds to read every batch of ``loader`` and pass it to ``finish``, up to ``device``'s last kernel."""
    start = time.perf_counter()
    for batch in loader:
        if finish is not None:
            finish(batch)
    if device is not None and device.type == "cuda":
        torch.cuda.synchronize(device)
    return time.perf_counter() - start


def bench_device() -> torch.device:
    """Where the device sources end: the first GPU when torch sees one, else the CPU."""
    return torch.device("cuda") if torch.cuda.is_available() else torch.device("cpu")


def device_rates(frames_ds: Dataset[Any], events_ds: Any, device: torch.device, workers: int, batch_size: int,
                 epochs: int, passes: int = PASSES) -> dict[str, float]:
    """Samples per second of the model's input on ``device``: read from the frames store (``frames_store``)
    against integrated there from raw events (``on_the_fly``); timed as :func:`loader_rates` times."""
    from eventpipe.collate import pad_sequence_collate_time_first
    from eventpipe.frames import IntegrationSpec
    from eventpipe.loading.event_batches import pack_events_collate
    from eventpipe.loading.torch_frames import TorchFrames
    from eventpipe.train.data import to_device

    integrate = TorchFrames(IntegrationSpec(frames=FRAMES), events_ds.sensor_size)
    sources: dict[str, tuple[Dataset[Any], Callable[..., Any], Any]] = {
        "frames_store": (frames_ds, pad_sequence_collate_time_first, None),
        "on_the_fly": (events_ds, pack_events_collate, integrate),
    }
    runs = {}
    for name, (ds, collate, transform) in sources.items():
        loader = DataLoader(ds, batch_size=batch_size, num_workers=workers, persistent_workers=workers > 0,
                            collate_fn=collate, sampler=list(range(len(ds))) * max(1, passes))  # type: ignore[arg-type]

        def finish(batch: Any, transform: Any = transform) -> Any:
            return to_device(batch, device, transform)

        runs[name] = (loader, finish)
    for loader, finish in runs.values():  # warm-up
        _epoch_seconds(loader, finish, device)
    best = dict.fromkeys(runs, float("inf"))
    for _ in range(max(1, epochs)):
        for name, (loader, finish) in runs.items():
            best[name] = min(best[name], _epoch_seconds(loader, finish, device))
    return {name: len(runs[name][0].sampler) / best[name] for name in runs}  # type: ignore[arg-type]


def loader_rates(datasets: dict[str, Dataset[Any]], workers: int, batch_size: int, epochs: int,
                 passes: int = PASSES) -> dict[str, float]:
    """Samples per second of each dataset: the best of ``epochs`` timed epochs after one warm-up
    epoch, each epoch reading the dataset ``passes`` times over (in order).

    Several passes per epoch keep a small dataset from measuring the start and end of an epoch
    rather than its reading: with 3 batches per epoch and 2 workers, one worker reads two batches
    and the other one. The sources take turns epoch by epoch, so a burst of load from elsewhere on
    the machine does not fall on one source only.
    """
    loaders = {name: DataLoader(ds, batch_size=batch_size, num_workers=workers, persistent_workers=workers > 0,
                                sampler=list(range(len(ds))) * max(1, passes))  # type: ignore[arg-type]
               for name, ds in datasets.items()}
    for loader in loaders.values():  # warm-up: workers started, page cache filled, kernels compiled
        _epoch_seconds(loader)
    best = dict.fromkeys(loaders, float("inf"))
    for _ in range(max(1, epochs)):
        for name, loader in loaders.items():
            best[name] = min(best[name], _epoch_seconds(loader))
    return {name: len(loaders[name].sampler) / best[name] for name in loaders}  # type: ignore[arg-type]


def run(
    *,
    users: int = 3,
    events_per_second: float = EVENTS_PER_SECOND,
    workers: Sequence[int] = (0, 2),
    batch_size: int = 16,
    epochs: int = 5,
    root: str | os.PathLike[str] | None = None,
    prepare_workers: int | None = None,
    progress: bool = False,
) -> dict[str, Any]:
    """Run the benchmark; returns a plain dict (see the module docstring).

    Parameters
    ----------
    users
        Synthetic users (one is the test user; the train split has ``(users - 1) * 2 * 11`` samples).
    events_per_second
        Event rate of the synthetic gestures (6 s each).
    workers
        DataLoader worker counts to measure.
    batch_size, epochs
        DataLoader batch size and timed passes per configuration (best counts).
    root
        Data folder kept between runs; a temporary folder (deleted afterwards) when None.
    prepare_workers
        Parallel tasks converting and integrating the data (default: all cores); not timed.
    """
    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory(prefix="eventpipe-bench-loader-") as tmp:
        data_root = Path(root) if root is not None else Path(tmp)
        data = build_data(data_root, users, events_per_second, progress, prepare_workers)
        datasets = data["datasets"]
        rows: list[dict[str, Any]] = []
        device_rows: list[dict[str, Any]] = []
        device = bench_device()
        for w in workers:
            rates = loader_rates(datasets, int(w), batch_size, epochs)
            rows += [{"source": source, "workers": int(w), "samples_per_s": rate} for source, rate in rates.items()]
            rates = device_rates(datasets["frames_store"], data["raw_events"], device, int(w), batch_size, epochs)
            device_rows += [{"source": source, "workers": int(w), "samples_per_s": rate}
                            for source, rate in rates.items()]
        n_samples = len(datasets["frames_store"])
    rate: dict[tuple[str, int], float] = {(r["source"], r["workers"]): r["samples_per_s"] for r in rows}
    speedup = {source: {str(w): rate[(source, int(w))] / rate[("npz_float64", int(w))] for w in workers}
               for source in FRAMES_SOURCES}
    return {
        "benchmark": "loader",
        "config": {"huge_pages": os.environ.get("THP_MEM_ALLOC_ENABLE") == "1", "samples": n_samples, "frames": FRAMES,
                   "sensor": [128, 128, 2], "batch_size": batch_size, "epochs": epochs, "passes_per_epoch": PASSES,
                   "workers": [int(w) for w in workers], "events_per_sample": data["events_per_sample"]},
        "rows": rows,
        "speedup_vs_npz": speedup,
        "target_speedup": TARGET_SPEEDUP,
        "meets_target": {source: all(s >= TARGET_SPEEDUP for s in by_w.values()) for source, by_w in speedup.items()},
        "disk_bytes": data["bytes"],
        "device": {"name": torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu",
                   "rows": device_rows},
    }


def device_table_rows(result: dict[str, Any]) -> list[dict[str, Any]]:
    """Rows of the device sources for :func:`eventpipe.bench.report.markdown_table`, with on-the-fly
    integration as a multiple of reading the frames store."""
    stored = {r["workers"]: r["samples_per_s"] for r in result["device"]["rows"] if r["source"] == "frames_store"}
    return [{"source": r["source"], "workers": r["workers"], "samples/s": r["samples_per_s"],
             "x frames store": r["samples_per_s"] / stored[r["workers"]]} for r in result["device"]["rows"]]


def table_rows(result: dict[str, Any]) -> list[dict[str, Any]]:
    """Rows for :func:`eventpipe.bench.report.markdown_table`."""
    npz = {r["workers"]: r["samples_per_s"] for r in result["rows"] if r["source"] == "npz_float64"}
    return [
        {"source": r["source"], "workers": r["workers"], "samples/s": r["samples_per_s"],
         "x npz": r["samples_per_s"] / npz[r["workers"]]}
        for r in result["rows"]
    ]
