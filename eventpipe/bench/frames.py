"""Frame integration benchmarks: kernel throughput per mode, and events store -> frames store.

Everything is measured in the same run on the same generated DVS128-Gesture-like samples
(128x128, ~6 s, 0.3-1 M events, bursty; :func:`eventpipe.synth.gesture_like_sample`):

- ``eventpipe``: integration end to end (slicing, counting) as ``prepare`` does it on events read
  from an events store: ``spec(events, sensor, validated=True)``, since the store's writer checked
  them sorted and inside the sensor (only the coordinates of counted events are checked again).
  The ratios to the baselines, SpikingJelly and the read bound are of this path.
- ``eventpipe checked``: the same with every event checked (sorted ``t``, coordinates), as
  :func:`eventpipe.frames.integrate` does it on a user's arrays; timed in the same rounds.
- ``bincount``: SpikingJelly's method: per frame and polarity, ``np.bincount`` of ``y*W + x``
  into a float64 frame.
- ``numpy_vectorised``: the fastest plain NumPy we know: one ``np.bincount`` of every event's flat
  ``(frame, p, y, x)`` index (shown for context).
- ``spikingjelly``: SpikingJelly's own ``integrate_events_by_fixed_frames_number`` and
  ``integrate_events_by_fixed_duration`` (:mod:`eventpipe.bench.spikingjelly_frames`), when it is
  installed, on the events as its dict of columns.
- read bound: the bytes of the events every mode reads (whole 13-byte records: t, x, y, p) over
  the machine's memory read bandwidth, measured in the same run by a NumPy sum over an array larger
  than the last-level cache.

Targets are ratios, so they hold on any machine: integrating by count (``frames=20``,
``split_by="number"``) >= 2.5x the bincount baseline, >= 3x SpikingJelly and >= 25 % of the read
bound; fixed duration 10 ms >= 5x the baseline and >= 6x SpikingJelly. The store section (:func:`store_bench`) times the ``prepare`` integration
step for 1 and 2 workers, next to the machine's own 1 -> 2 core scaling for the same compute
(:func:`compute_probe`), and compares store bytes to SpikingJelly's float64 ``.npz`` files.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from functools import lru_cache, partial
from typing import Any

import numpy as np

from eventpipe.events import EVENT_DTYPE, Events, SensorSize
from eventpipe.frames import IntegrationSpec, integrate

GESTURE = SensorSize(128, 128, 2)

MODES: dict[str, dict[str, Any]] = {
    "frames_number_20_split_by_number": {"frames": 20},
    "frames_number_20_split_by_time": {"frames": 20, "split_by": "time"},
    "duration_10000us": {"duration_us": 10_000},
    "events_per_frame_5000": {"events_per_frame": 5000},
    "n_time_bins_20": {"n_time_bins": 20},
    "event_count_5000": {"event_count": 5000},
    "time_window_10000us": {"time_window": 10_000},
}
"""Benchmarked modes by store name; all have ordered, non-overlapping frames."""

TARGETS: dict[str, tuple[str, str, float]] = {
    "by_count_vs_bincount": ("frames_number_20_split_by_number", "speedup_vs_bincount", 2.5),
    "by_count_vs_read_bound": ("frames_number_20_split_by_number", "fraction_of_read_bound", 0.25),
    "duration_10ms_vs_bincount": ("duration_10000us", "speedup_vs_bincount", 5.0),
    "by_count_vs_spikingjelly": ("frames_number_20_split_by_number", "speedup_vs_spikingjelly", 3.0),
    "duration_10ms_vs_spikingjelly": ("duration_10000us", "speedup_vs_spikingjelly", 6.0),
}

SPIKINGJELLY_CALLS: dict[str, tuple[str, tuple[Any, ...]]] = {
    "frames_number_20_split_by_number": ("integrate_events_by_fixed_frames_number", ("number", 20)),
    "duration_10000us": ("integrate_events_by_fixed_duration", (10_000,)),
}
"""Modes SpikingJelly integrates itself: its function and the arguments between the events and H, W."""

BANDWIDTH_BYTES = 64 << 20
"""Size of the array summed to measure the memory read bandwidth: larger than the last-level cache."""


def make_samples(n_samples: int, events: tuple[int, int], seed: int = 0, sensor: SensorSize = GESTURE) -> list[Events]:
    """``n_samples`` Gesture-like samples of ~6 s with event counts spread evenly over ``events``."""
    from eventpipe.synth import gesture_like_sample

    rng = np.random.default_rng(seed)
    counts = np.linspace(events[0], events[1], n_samples).astype(int) if n_samples > 1 else [events[1]]
    return [gesture_like_sample(rng, int(n), sensor, 6_000_000) for n in counts]


def bincount_frames(events: Events, sensor: SensorSize, spec: IntegrationSpec) -> np.ndarray:
    """SpikingJelly's method: per frame and polarity one ``np.bincount`` of ``y*W + x``; float64 frames."""
    w, h, _ = sensor
    starts, stops = spec.slices(events["t"])
    frames = np.zeros((len(starts), 2, h, w))
    for f, (a, b) in enumerate(zip(starts, stops, strict=True)):
        x = events["x"][a:b].astype(int)
        y = events["y"][a:b].astype(int)
        on = events["p"][a:b] != 0
        frame = np.zeros((2, h * w))
        for c, mask in enumerate((~on, on)):
            counts = np.bincount(y[mask] * w + x[mask])
            frame[c][: counts.size] += counts
        frames[f] = frame.reshape(2, h, w)
    return frames


def vectorised_frames(events: Events, sensor: SensorSize, spec: IntegrationSpec) -> np.ndarray:
    """One ``np.bincount`` over every event's flat ``(frame, p, y, x)`` index (ordered, disjoint frames)."""
    w, h, p = sensor
    starts, stops = spec.slices(events["t"])
    lengths = stops - starts
    first = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    index = np.arange(int(lengths.sum())) - np.repeat(first - starts, lengths)
    frame = np.repeat(np.arange(len(starts)), lengths)
    ev = events[index]
    flat = ((frame * p + (ev["p"] != 0)) * h + ev["y"].astype(np.int64)) * w + ev["x"]
    return np.bincount(flat, minlength=len(starts) * p * h * w).reshape(len(starts), p, h, w)


def memory_read_bandwidth(data: np.ndarray) -> float:
    """Seconds of one NumPy sum over ``data`` (uint64, larger than the last-level cache)."""
    start = time.perf_counter()
    np.add.reduce(data)
    return time.perf_counter() - start


def _once(fn: Callable[[Events], Any], samples: Sequence[Events]) -> float:
    start = time.perf_counter()
    for ev in samples:
        fn(ev)
    return time.perf_counter() - start


def _warm_time(run: Callable[[], Any]) -> float:
    """Seconds of ``run()`` right after an untimed call: every method starts with its input (and its
    output's pages) in cache, as in ``prepare``, where a sample has just been decoded from the store."""
    run()
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


def _median_time(fn: Callable[[Events], Any], samples: Sequence[Events], repeat: int) -> float:
    return float(np.median([_once(fn, samples) for _ in range(max(1, repeat))]))


def _spikingjelly_runs(
    samples: Sequence[Events], names: Sequence[str], specs: dict[str, IntegrationSpec],
) -> tuple[dict[str, Callable[[], Any]], str | None]:
    """Per mode SpikingJelly integrates itself, a call integrating every sample with its function (on
    its dict of columns, made beforehand), checked to give our frames; and its version."""
    from eventpipe.bench.spikingjelly_frames import load

    loaded = load()
    if loaded is None:
        return {}, None
    functions, version = loaded
    columns = [{k: np.ascontiguousarray(ev[k]) for k in "txyp"} for ev in samples]
    w, h, _ = GESTURE
    runs: dict[str, Callable[[], Any]] = {}
    for name in names:
        if name not in SPIKINGJELLY_CALLS:
            continue
        fn_name, args = SPIKINGJELLY_CALLS[name]
        call = functions[fn_name]

        def run(call: Callable[..., np.ndarray] = call, args: tuple[Any, ...] = args) -> list[np.ndarray]:
            return [call(c, *args, h, w) for c in columns]

        if not np.array_equal(run()[0], specs[name](samples[0], GESTURE)):
            raise RuntimeError(f"{version} and eventpipe disagree for {name}")
        runs[name] = run
    return runs, version


def kernel_bench(
    n_samples: int = 3, events: tuple[int, int] = (300_000, 1_000_000), repeat: int = 5, seed: int = 0,
    modes: Sequence[str] | None = None, bandwidth_bytes: int = BANDWIDTH_BYTES,
) -> dict[str, Any]:
    """Per mode: M events/s of the ``prepare`` path (validated events) and of the checked path,
    SpikingJelly's functions, the bincount baseline and vectorised NumPy, and the fraction of the
    read bound; the ratios without ``_checked`` are of the ``prepare`` path.

    The methods are checked to produce the same frames before timing. ``repeat`` rounds go over
    every mode, SpikingJelly's functions and the bandwidth sum in turn, and each keeps its median
    round: a burst of load from other processes then slows one round of every method, not every
    round of one method. Each timed call follows an untimed one, so every method starts warm, and a
    ratio to SpikingJelly is the median of the per-round ratios (both sides timed in the same round).
    """
    samples = make_samples(n_samples, events, seed)
    total = sum(len(ev) for ev in samples)
    names = list(modes or MODES)
    specs = {name: IntegrationSpec(**MODES[name]) for name in names}
    for name, spec in specs.items():
        ours = spec(samples[0], GESTURE, validated=True)
        if not (np.array_equal(ours, spec(samples[0], GESTURE))
                and np.array_equal(ours, bincount_frames(samples[0], GESTURE, spec))
                and np.array_equal(ours, vectorised_frames(samples[0], GESTURE, spec))):
            raise RuntimeError(f"benchmark methods disagree for {name}")
    sj_runs, sj_version = _spikingjelly_runs(samples, names, specs)
    data = np.ones(max(1, bandwidth_bytes // 8), dtype=np.uint64)
    read_s: list[float] = []
    ours_s: dict[str, list[float]] = {name: [] for name in names}
    checked_s: dict[str, list[float]] = {name: [] for name in names}
    sj_s: dict[str, list[float]] = {name: [] for name in sj_runs}
    for _ in range(max(1, repeat)):
        read_s.append(memory_read_bandwidth(data))
        for name, spec in specs.items():
            ours_s[name].append(_warm_time(partial(_once, partial(spec.__call__, sensor_size=GESTURE,
                                                                   validated=True), samples)))
            checked_s[name].append(_warm_time(partial(_once, partial(spec.__call__, sensor_size=GESTURE), samples)))
            if name in sj_runs:
                sj_s[name].append(_warm_time(sj_runs[name]))
    bandwidth = data.nbytes / float(np.median(read_s))
    bound_s = total * EVENT_DTYPE.itemsize / bandwidth
    rows: list[dict[str, Any]] = []
    for name, spec in specs.items():
        ours = float(np.median(ours_s[name]))
        checked = float(np.median(checked_s[name]))
        base_s = _median_time(partial(bincount_frames, sensor=GESTURE, spec=spec), samples, max(1, repeat // 2))
        vec_s = _median_time(partial(vectorised_frames, sensor=GESTURE, spec=spec), samples, max(1, repeat // 2))
        sj = float(np.median(sj_s[name])) if name in sj_s else None
        paired = (float(np.median(np.divide(sj_s[name], ours_s[name]))),
                  float(np.median(np.divide(sj_s[name], checked_s[name])))) if sj else (None, None)
        rows.append({
            "mode": name,
            "frames": int(sum(len(spec.slices(ev["t"])[0]) for ev in samples)),
            "eventpipe_M_events_per_s": total / ours / 1e6,
            "eventpipe_checked_M_events_per_s": total / checked / 1e6,
            "spikingjelly_M_events_per_s": total / sj / 1e6 if sj else None,
            "bincount_M_events_per_s": total / base_s / 1e6,
            "numpy_vectorised_M_events_per_s": total / vec_s / 1e6,
            "speedup_vs_spikingjelly": paired[0],
            "speedup_vs_spikingjelly_checked": paired[1],
            "speedup_vs_bincount": base_s / ours,
            "speedup_vs_numpy_vectorised": vec_s / ours,
            "fraction_of_read_bound": bound_s / ours,
            "fraction_of_read_bound_checked": bound_s / checked,
        })
    by_mode = {r["mode"]: r for r in rows}
    targets = {
        key: {"mode": mode, "metric": metric, "target": goal, "value": by_mode[mode][metric],
              "met": bool(by_mode[mode][metric] >= goal)}
        for key, (mode, metric, goal) in TARGETS.items()
        if mode in by_mode and by_mode[mode][metric] is not None
    }
    return {
        "samples": n_samples,
        "events": total,
        "sensor": list(GESTURE),
        "repeat": repeat,
        "spikingjelly": sj_version,
        "memory_read_GB_per_s": bandwidth / 1e9,
        "read_bound_M_events_per_s": total / bound_s / 1e6,
        "read_bound_GB_per_s": total * EVENT_DTYPE.itemsize / bound_s / 1e9,
        "modes": rows,
        "targets": targets,
    }


def write_bench_events_store(location: str, samples: Sequence[Events], per_part: int = 8) -> None:
    """``samples`` as the ``train`` split of an events store, through the store's own writer (one part
    per ``per_part`` samples, like a converted recording)."""
    from eventpipe.store.events.encoding import encode
    from eventpipe.store.events.layout import StoreHeader
    from eventpipe.store.events.writer import begin, finalize, write_part
    from eventpipe.store.samples import SampleBatch
    from eventpipe.synth import GESTURE_CLASSES

    header = StoreHeader(dataset="bench", sensor=GESTURE, classes=GESTURE_CLASSES, splits=("train",), options={},
                         plan=f"bench-{len(samples)}")
    begin(location, header)
    keys = []
    for j, start in enumerate(range(0, len(samples), per_part)):
        batch = SampleBatch.concat([SampleBatch.single(ev, (start + i) % len(GESTURE_CLASSES))
                                    for i, ev in enumerate(samples[start:start + per_part])])
        key = f"p{j:05d}"
        write_part(location, "train", key, encode(batch, GESTURE, key), sources=[])
        keys.append(key)
    finalize(location, header, {"train": keys})


def _warm_up() -> None:
    """Compile the kernels in this process (Numba compiles on first call, once per process): the
    integration modes, the events store's column decoder and the frames codec."""
    from eventpipe.store._zarr import compile_counts_codec
    from eventpipe.store.events.encoding import decode
    from eventpipe.synth import gesture_like_sample

    decode(0, np.zeros(2, np.uint32), np.zeros(2, np.uint8), np.zeros(2, np.uint8), np.zeros(2, np.uint8))
    ev = gesture_like_sample(np.random.default_rng(0), 20_000, GESTURE, 200_000)
    for kwargs in MODES.values():
        integrate(ev, GESTURE, **kwargs)
    hot = ev.copy()
    hot["x"], hot["y"] = 3, 4
    integrate(hot, GESTURE, frames=1)  # the uint16 and uint32 resumes
    compile_counts_codec()


def spikingjelly_builder(events_files: Sequence[str], out_dir: str, spec: IntegrationSpec, workers: int) -> float:
    """SpikingJelly's npz -> npz builder: load each events ``.npz``, integrate by bincount into float64
    frames, ``np.savez_compressed`` them, ``workers`` threads. Returns seconds."""
    import os
    from concurrent.futures import ThreadPoolExecutor

    def one(path: str) -> None:
        with np.load(path) as data:
            ev = np.empty(len(data["t"]), dtype=EVENT_DTYPE)
            for k in "txyp":
                ev[k] = data[k]
        np.savez_compressed(os.path.join(out_dir, os.path.basename(path)), frames=bincount_frames(ev, GESTURE, spec))

    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(one, events_files))
    return time.perf_counter() - start


PROBE_SAMPLES = 16
"""Samples each worker reads and integrates in memory for the machine's own 1 -> 2 core scaling."""


@lru_cache(maxsize=1)
def _probe_split(location: str) -> Any:
    from eventpipe.store.events.reader import EventsStore

    return EventsStore.open(location).split("train")


def compute_probe(events_location: str, spec: IntegrationSpec, n_samples: int = PROBE_SAMPLES) -> float:
    """Seconds this process takes to read (decompress) and integrate the first ``n_samples`` of the
    bench events store, writing nothing: the compute of a frames task without Dask or files.

    Run on one worker and then on two at once, it measures how far the machine itself scales from
    one core to two for this work. A virtual machine's two cores are not always two: in some phases
    the same integration runs slower on both cores at once than on either alone, or slower on one
    core than on the other, and no program gets the 1.7x target from 2 workers then. The store
    section of ``docs/benchmarks.md`` shows both ratios of one run.
    """
    split = _probe_split(events_location)
    start = time.perf_counter()
    for i in range(n_samples):
        spec(split.events(i), split.sensor, validated=True)  # as integrate_block does
    return time.perf_counter() - start


def store_bench(
    n_samples: int = 50, events: tuple[int, int] = (300_000, 1_000_000), workers: Sequence[int] = (1, 2),
    seed: int = 0, spec: IntegrationSpec | None = None, baseline: bool = True, repeat: int = 5,
) -> dict[str, Any]:
    """Events store -> frames store for ``n_samples`` Gesture-like samples with 1 and 2 workers.

    Every run writes a fresh frames store with :func:`eventpipe.pipeline.prepare.integrate_store`
    on one local cluster of ``max(workers)`` single-threaded worker processes (the one ``prepare``
    starts, :func:`eventpipe.pipeline.dask.local_cluster`), started, connected to and with its
    kernels compiled before the clock starts. A run with fewer workers pins every task to the first
    ones (``dask.annotate(workers=...)``), so the scheduler, the client and the code path are the
    same and the ratio is the scaling. Runs go in rounds over the worker counts, ``repeat`` rounds,
    the fastest run of each count kept (as for the kernels: a run lasts under a second, and a burst
    of other load then slows one round, not every run of one count). Each run also reports
    ``cores_busy`` (the worker processes' CPU time / wall time): on a machine shared with other
    work the wall-clock speedup understates the scaling, and ``cores_busy`` says by how much.
    Every round also times :func:`compute_probe` on the first worker alone and on both at once:
    ``machine_speedup_1_to_2`` is the best rate of two (each worker's rate, summed: the blocks are
    balanced dynamically, so a slowed core still adds its share) over the best of one, what the
    machine gives this compute, the bound for ``speedup_1_to_2_workers``; ``scaling_efficiency`` is
    their quotient. The stores must be byte-identical. ``baseline`` also runs SpikingJelly's
    npz -> npz builder on the same samples with the most workers and compares bytes.
    """
    import os
    import shutil
    import tempfile

    import dask
    from distributed import Client

    from eventpipe.bench.cluster import warm_cluster
    from eventpipe.pipeline.prepare import integrate_store
    from eventpipe.store.location import size_on_disk

    spec = spec or IntegrationSpec(frames=20)
    samples = make_samples(n_samples, events, seed)
    total_events = sum(len(ev) for ev in samples)
    result: dict[str, Any] = {"samples": n_samples, "events": total_events, "spec": spec.name, "runs": []}
    with tempfile.TemporaryDirectory(prefix="eventpipe-bench-") as tmp:
        events_loc = os.path.join(tmp, "events.zarr")
        write_bench_events_store(events_loc, samples)
        stores = [os.path.join(tmp, f"frames_{w}.zarr") for w in workers]
        runs: dict[int, list[Any]] = {w: [] for w in workers}
        probes: dict[int, list[float]] = {1: [], 2: []}  # probe rates per round
        probe_samples = min(PROBE_SAMPLES, n_samples)
        with warm_cluster(max(workers), _warm_up) as address, Client(address) as client:  # as prepare's own
            names = sorted(client.scheduler_info()["workers"])
            for _ in range(max(1, repeat)):  # rounds over the worker counts: a burst of load slows one round
                if len(names) >= 2:  # the machine's own scaling, now: one worker's probe, then two at once
                    for k in (1, 2):
                        times = client.run(compute_probe, events_loc, spec, probe_samples, workers=names[:k]).values()
                        probes[k].append(sum(1 / t for t in times))  # probes per second
                for w, frames_loc in zip(workers, stores, strict=True):
                    shutil.rmtree(frames_loc, ignore_errors=True)
                    # fewer workers than the cluster's: every task pinned to the first w (restricted tasks
                    # skip the scheduler's queue, so the full count runs unrestricted, queued as in prepare)
                    pinned = {"workers": names[:w], "allow_other_workers": False} if w < len(names) else {}
                    cpu = client.run(time.process_time)
                    with dask.annotate(**pinned):
                        seconds = integrate_store(events_loc, frames_loc, spec, scheduler=client, progress=False).seconds
                    cpu_seconds = sum(client.run(time.process_time).values()) - sum(cpu.values())
                    runs[w].append((seconds, cpu_seconds))
        for w in workers:
            seconds, cpu_seconds = min(runs[w])
            result["runs"].append({"workers": w, "seconds": seconds, "samples_per_s": n_samples / seconds,
                                   "M_events_per_s": total_events / seconds / 1e6,
                                   "samples_per_cpu_s": n_samples / max(cpu_seconds, 1e-9),
                                   "cores_busy": cpu_seconds / seconds})
        result["frames_store_bytes"] = size_on_disk(stores[0])
        result["identical_stores"] = all(_same_files(stores[0], s) for s in stores[1:])
        by_w = {r["workers"]: r for r in result["runs"]}
        if 1 in by_w and 2 in by_w:
            result["speedup_1_to_2_workers"] = by_w[1]["seconds"] / by_w[2]["seconds"]
        if probes[2]:
            result["machine_speedup_1_to_2"] = max(probes[2]) / max(probes[1])
            if "speedup_1_to_2_workers" in result:
                result["scaling_efficiency"] = result["speedup_1_to_2_workers"] / result["machine_speedup_1_to_2"]
        if baseline:
            sj_dir, out_dir = os.path.join(tmp, "sj_events"), os.path.join(tmp, "sj_frames")
            os.makedirs(sj_dir)
            os.makedirs(out_dir)
            files = []
            for i, ev in enumerate(samples):
                files.append(os.path.join(sj_dir, f"{i:04d}.npz"))
                columns: dict[str, Any] = {k: ev[k] for k in "txyp"}
                np.savez_compressed(files[-1], **columns)
            w = max(workers)
            seconds = spikingjelly_builder(files, out_dir, spec, w)
            npz_bytes = size_on_disk(out_dir)
            result["spikingjelly_builder"] = {"workers": w, "seconds": seconds, "samples_per_s": n_samples / seconds,
                                              "npz_bytes": npz_bytes}
            result["bytes_ratio_to_npz"] = result["frames_store_bytes"] / npz_bytes
    two = {r["workers"]: r for r in result["runs"]}.get(2, {})
    result["targets"] = {
        "samples_per_s_2_workers": {"target": 60.0, "value": two.get("samples_per_s"),
                                    "met": bool(two.get("samples_per_s", 0) >= 60)},
        "speedup_1_to_2_workers": {"target": 1.7, "value": result.get("speedup_1_to_2_workers"),
                                   "met": bool(result.get("speedup_1_to_2_workers", 0) >= 1.7)},
        "bytes_ratio_to_npz": {"target": 0.5, "value": result.get("bytes_ratio_to_npz"), "at_most": True,
                               "met": bool(result.get("bytes_ratio_to_npz", 1) <= 0.5)},
    }
    return result


def _same_files(a: str, b: str) -> bool:
    from pathlib import Path

    fa = {p.relative_to(a): p.read_bytes() for p in Path(a).rglob("*") if p.is_file()}
    fb = {p.relative_to(b): p.read_bytes() for p in Path(b).rglob("*") if p.is_file()}
    return fa == fb
