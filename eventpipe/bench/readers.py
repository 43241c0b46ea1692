"""Reader throughput: AEDAT 3.1, ATIS, text and HDF5 decode speed next to bounds measured in the same run.

For each format a file of about ``size_mb`` MB is generated in a temporary folder (the text file in the
ETH datasets' ``t x y p`` layout with times in seconds, the HDF5 file in DSEC's ``events/{t,x,y,p}``
layout with ``t_offset``), then timed:

- ``eventpipe``: :func:`eventpipe.readers.read_events` end to end (file read from the page cache,
  header parse, Numba decode, sort check), single-threaded. A fresh output array is part of it: the OS
  zeroes its pages on first touch, work that a memcpy of the output would also do.
- ``kernel``: the same Numba kernel decoding the bytes already in memory into an output array that is
  already mapped: the decoding work alone (not for HDF5, which h5py decodes).
- ``numpy``: a loop-free-per-event NumPy decoder of the same bytes (a Python loop per AEDAT packet,
  vectorised field extraction), the usual way these formats are read in Python; for text
  :func:`numpy.loadtxt`, for HDF5 whole h5py datasets cast into the event array.
- ``memcpy``: ``np.copyto`` of the file's bytes (already in memory) into another buffer: the rate at
  which one core can merely move the input, expressed as events/s for the same file.
- ``file read``: reading the file into a preallocated buffer (page-cache bandwidth).

Rates come from the thread's CPU time (see :func:`cpu_best_time`); wall times are reported too.
Decoding writes 16 bytes of output per event of 8 (AEDAT), 5 (ATIS), about 21 (text) or 9 (HDF5)
input bytes, so a decoder reaching the memcpy rate is at the memory-bandwidth limit.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from eventpipe.events import EVENT_DTYPE, Events, make_events
from eventpipe.progress import bar_disabled

_MB = 1 << 20


def synthetic_events(n: int, seed: int = 0, *, width: int = 128, height: int = 128, rate_hz: float = 2e6) -> Events:
    """``n`` events with Poisson arrival times at ``rate_hz`` (µs timestamps), uniform pixels and polarity."""
    rng = np.random.default_rng(seed)
    t = np.cumsum(rng.exponential(1e6 / rate_hz, n)).astype(np.int64)
    return make_events(t, rng.integers(0, width, n), rng.integers(0, height, n), rng.integers(0, 2, n))


def numpy_aedat3(path: Path) -> Events:
    """A NumPy AEDAT 3.1 polarity decoder: Python loop per packet, vectorised per event (baseline)."""
    from eventpipe.readers.aedat3 import read_header

    _, start = read_header(path)
    raw = np.fromfile(path, dtype=np.uint8, offset=start)
    parts = []
    i = 0
    while i + 28 <= len(raw):
        head = raw[i : i + 28].view("<i4")
        etype = int(raw[i : i + 2].view("<i2")[0])
        size, number = int(head[1]), int(head[5])
        overflow = int(head[3])
        body = raw[i + 28 : i + 28 + size * number]
        if etype == 1:
            rec = body.view([("data", "<u4"), ("ts", "<i4")])
            parts.append((rec, overflow))
        i += 28 + size * number
    data = np.concatenate([r["data"] for r, _ in parts])
    ts = np.concatenate([(np.int64(o) << 31) | r["ts"] for r, o in parts])
    keep = (data & 1).astype(bool)
    data, ts = data[keep], ts[keep]
    return make_events(ts, (data >> 17) & 0x7FFF, (data >> 2) & 0x7FFF, (data >> 1) & 1)


def numpy_atis(path: Path) -> Events:
    """A NumPy ATIS 40-bit decoder with the overflow markers handled by a cumulative sum (baseline)."""
    raw = np.fromfile(path, dtype=np.uint8).reshape(-1, 5)
    marker = raw[:, 1] == 240
    offset = np.cumsum(marker, dtype=np.int64) << 13
    ts = ((raw[:, 2].astype(np.int64) & 0x7F) << 16) | (raw[:, 3].astype(np.int64) << 8) | raw[:, 4]
    keep = ~marker
    return make_events((ts + offset)[keep], raw[keep, 0], raw[keep, 1], raw[keep, 2] >> 7)


def numpy_text(path: Path) -> Events:
    """:func:`numpy.loadtxt` of a ``t x y p`` file with times in seconds (baseline)."""
    cols = np.loadtxt(path, dtype=np.float64, ndmin=2)
    return make_events(np.rint(cols[:, 0] * 1e6).astype(np.int64), cols[:, 1], cols[:, 2], cols[:, 3])


def numpy_hdf5(path: Path) -> Events:
    """Whole h5py datasets of a DSEC-layout file cast into the event array (baseline)."""
    import h5py

    with h5py.File(path, "r") as f:
        g = f["events"]
        return make_events(g["t"][()].astype(np.int64) + int(f["t_offset"][()]), g["x"][()], g["y"][()], g["p"][()])


def write_dsec(path: Path, events: Events, t_offset: int = 0) -> Path:
    """``events`` as a DSEC ``events.h5``: ``events/{t,x,y,p}`` (t uint32 µs after ``t_offset``), chunked."""
    import h5py

    with h5py.File(path, "w") as f:
        for name, dtype in (("t", "<u4"), ("x", "<u2"), ("y", "<u2"), ("p", "u1")):
            col = events[name] - t_offset if name == "t" else events[name]
            f.create_dataset(f"events/{name}", data=col.astype(dtype), chunks=True)
        f["t_offset"] = np.int64(t_offset)
    return path


def cpu_best_time(fn: Any, repeat: int) -> tuple[float, float]:
    """Best (wall, CPU) seconds of ``repeat`` calls; CPU time is this thread's user + system time.

    Rates per core come from the CPU time, so a benchmark sharing its cores with other processes still
    measures the work itself (wall time would count the time the thread waited for a core).
    """
    best_wall = best_cpu = float("inf")
    for _ in range(max(1, repeat)):
        w0, c0 = time.perf_counter(), time.thread_time()
        fn()
        best_cpu = min(best_cpu, time.thread_time() - c0)
        best_wall = min(best_wall, time.perf_counter() - w0)
    return best_wall, best_cpu


def _rates(n: int, nbytes: int, wall: float, cpu: float) -> dict[str, float]:
    return {"wall_s": wall, "cpu_s": cpu, "M_events_per_s": n / cpu / 1e6, "GB_per_s_in": nbytes / cpu / 1e9}


def _kernel(fmt: str, path: Path, out: Events) -> Any:
    """The decoding work alone: the format's Numba kernel over the file's bytes already in memory."""
    from eventpipe.readers import _ascii, aedat3, atis
    from eventpipe.readers._stream import ChunkDecoder

    src = np.fromfile(path, dtype=np.uint8)
    if fmt == "text":
        fields = np.array([_ascii.T, _ascii.X, _ascii.Y, _ascii.P], dtype=np.int64)
        state = np.zeros(3, dtype=np.int64)
        return lambda: _ascii.parse_lines(src, out, 0, state, fields, _ascii.WHITESPACE, 6, 0)
    if fmt == "aedat3":
        payload = np.array(src[aedat3.read_header(path)[1] :])  # a copy starts at an aligned address, as the read buffer
        decoder = ChunkDecoder(aedat3._decode_packets, record="packet", bytes_per_event=8, errors={}, words=True)
    else:
        payload = src
        decoder = ChunkDecoder(atis._decode_atis, record="40-bit event", bytes_per_event=5, errors={}, n_state=3)
    return lambda: decoder.decode(payload, out, 0)


def _bench_file(fmt: str, path: Path, expected: Events, numpy_decoder: Any, repeat: int) -> dict[str, Any]:
    from eventpipe.readers import read_events

    nbytes = path.stat().st_size
    n = len(expected)
    if not np.array_equal(read_events(path, format=fmt), expected):  # also warms the page cache
        raise AssertionError(f"{fmt}: the decoded events differ from the generated ones")
    if not np.array_equal(numpy_decoder(path), expected):
        raise AssertionError(f"{fmt}: the NumPy baseline differs from the generated events")
    src = np.fromfile(path, dtype=np.uint8)
    dst = np.empty_like(src)
    buf = np.empty_like(src)
    out = np.zeros(len(expected), dtype=EVENT_DTYPE)

    def read_into() -> None:
        with path.open("rb") as f:
            f.readinto(buf.data)

    measured = {"eventpipe": cpu_best_time(lambda: read_events(path, format=fmt), repeat)}
    if fmt != "hdf5":
        measured["kernel"] = cpu_best_time(_kernel(fmt, path, out), repeat)
    measured.update({
        "numpy": cpu_best_time(lambda: numpy_decoder(path), max(1, repeat - 1)),
        "memcpy": cpu_best_time(lambda: np.copyto(dst, src), repeat),
        "file read": cpu_best_time(read_into, repeat),
    })
    rows = {name: _rates(n, nbytes, wall, cpu) for name, (wall, cpu) in measured.items()}
    timings = {name: cpu for name, (_, cpu) in measured.items()}
    return {
        "format": fmt,
        "file_mb": nbytes / _MB,
        "events": n,
        "rows": rows,
        "ratio_to_memcpy": timings["memcpy"] / timings["eventpipe"],
        "kernel_ratio_to_memcpy": timings["memcpy"] / timings["kernel"] if "kernel" in timings else None,
        "speedup_vs_numpy": timings["numpy"] / timings["eventpipe"],
    }


def run(size_mb: float = 100.0, repeat: int = 3, workdir: str | Path | None = None,
        progress: bool = True) -> dict[str, Any]:
    """Generate ~``size_mb`` MB AEDAT 3.1, ATIS, text and HDF5 files and time their decoding.

    Returns
    -------
    A plain dict: ``{"size_mb", "threads": 1, "formats": [per-format dict]}``; each per-format dict has
    ``events``, ``file_mb``, ``rows`` (``eventpipe``, ``kernel`` (not for HDF5), ``numpy``, ``memcpy``,
    ``file read`` with best wall and CPU seconds, M events/s per core and input GB/s, both from CPU
    time), ``ratio_to_memcpy``, ``kernel_ratio_to_memcpy`` (None for HDF5) and ``speedup_vs_numpy``
    (CPU-time ratios).
    """
    from tqdm.auto import tqdm

    from eventpipe.readers.aedat3 import write_aedat3
    from eventpipe.readers.atis import write_atis
    from eventpipe.readers.text import write_text

    warm = synthetic_events(1000)
    results = []
    with tempfile.TemporaryDirectory(dir=workdir) as tmp:
        folder = Path(tmp)
        # compile the Numba kernels before timing
        from eventpipe.readers import read_events

        read_events(write_aedat3(folder / "warm.aedat", warm))
        read_events(write_atis(folder / "warm.bin", warm))
        read_events(write_text(folder / "warm.txt", warm))
        jobs = [
            ("aedat3", "gesture.aedat", 8, write_aedat3, numpy_aedat3, 128),
            ("atis", "nmnist.bin", 5, write_atis, numpy_atis, 34),
            ("text", "events.txt", 21, write_text, numpy_text, 346),
            ("hdf5", "events.h5", 9, write_dsec, numpy_hdf5, 640),
        ]
        for fmt, name, bytes_per_event, writer, baseline, side in tqdm(jobs, desc="readers bench",
                                                                       disable=bar_disabled(progress)):
            events = synthetic_events(int(size_mb * _MB / bytes_per_event), seed=1, height=side, width=side)
            path = writer(folder / name, events)
            results.append(_bench_file(fmt, path, events, baseline, repeat))
            path.unlink()
            del events
    return {"size_mb": size_mb, "threads": 1, "event_bytes_out": EVENT_DTYPE.itemsize, "formats": results}


def table_rows(result: dict[str, Any]) -> list[dict[str, Any]]:
    """Flatten :func:`run`'s result into rows for :func:`eventpipe.bench.report.markdown_table`."""
    rows = []
    for fmt in result["formats"]:
        for name, r in fmt["rows"].items():
            rows.append({
                "format": fmt["format"], "method": name, "file MB": round(fmt["file_mb"], 1),
                "events": fmt["events"], "wall s": r["wall_s"], "cpu s": r["cpu_s"],
                "M events/s/core": r["M_events_per_s"], "GB/s in": r["GB_per_s_in"],
            })
    return rows
