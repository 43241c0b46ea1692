"""The frames store: the integer count frames of every sample of a dataset, for one integration spec.

One store per :class:`~eventpipe.frames.IntegrationSpec`, at ``root/<dataset>/frames/<spec.name>.zarr``
(``frames_number_20_split_by_number.zarr``, ``duration_10000us.zarr``, ``plugin_<name>_<hash>.zarr``)::

    <spec.name>.zarr/              attrs: eventpipe_store="frames", schema_version, dataset, sensor,
    │                                     classes, splits, spec, plugin, source_fingerprint,
    │                                     source_location, fixed_t, blocks, fingerprint,
    │                                     eventpipe_version; when finished also num_samples,
    │                                     num_frames, dtype, max_count, complete
    ├── blocks/<split>/b00000/frames  fixed T: uint [n_b, T, P, H, W], one chunk per sample;
    │                                 variable T: uint [F_b, P, H, W], the block's samples' frames
    │                                 one after the other; attrs n_frames, dtype, max_count,
    │                                 complete (written last, in one metadata write)
    └── <split>/                      written once every block is complete
        ├── offsets  int64 [n+1]      sample i is frames [offsets[i], offsets[i+1]) of the split
        ├── labels   int64 [n]
        ├── block_samples, block_frames  int64 [k+1]  first sample / frame of each block
        └── meta/<column>             per-sample metadata copied from the events store

A block is a run of consecutive samples written by one task into its own array, so parallel tasks
never touch the same chunk, and each block carries its own completion flag: a killed run redoes
only unfinished blocks. Blocks are planned from the events store's offsets alone (about
:data:`BLOCK_EVENTS` events each), so the store is the same for any number of workers.

Counts are unsigned integers. Each block is stored in the smallest dtype that holds its counts;
readers widen every sample to the store's ``dtype`` (the widest block), so all samples of a store
share one dtype. Chunks are encoded by :mod:`eventpipe.store.sparse_counts` (gaps between non-zero
counts, and the counts in streams by context, each zstd). Measured on 12 DVS128-Gesture-like
samples (20 frames, uint8; ``eventpipe bench frames``), bytes relative to SpikingJelly's float64
``np.savez_compressed`` files of the same frames, and time per sample to encode / to decode into
the float32 array a DataLoader returns:

================================================  ======  ======  ===============
codecs                                            bytes   encode  decode (float32)
================================================  ======  ======  ===============
sparse counts (chosen)                            0.47x   1.3 ms  0.75 ms
transpose H,W,P,T + Blosc zstd 1 bit shuffle      0.60x   1.2 ms  1.7 ms
transpose H,W,P,T + Blosc zstd 9 bit shuffle      0.56x   ~300 ms 1.9 ms
Blosc zstd 1 bit shuffle (T,P,H,W)                0.63x   1.1 ms  1.3 ms
================================================  ======  ======  ===============

Plain LZ codecs stall near 0.56-0.60x: the counts carry ~0.9 bits of order-0 entropy per pixel,
and a count is better predicted by the count before it than by any repeated string. The sparse
codec touches only the non-zero counts when decoding and writes them straight into the output
array (any dtype), so the float32 frames of a sample come out of one pass.

Samples are read by fetching their chunks directly (:func:`~eventpipe.store.chunks.fetch_chunks`)
rather than through ``array[i]`` (Zarr's path costs ~1 ms more per sample); any Zarr reader with
eventpipe installed opens the arrays too, through the ``zarr.codecs`` entry point.

The fingerprint covers the spec, the plugin's identity, the events store's fingerprint, the
sensor and the schema version. A store whose fingerprint differs from the one a run would write
is never reused: :func:`begin` refuses it with :class:`~eventpipe.errors.StoreSchemaError`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from eventpipe._version import __version__
from eventpipe.errors import StoreSchemaError, UnknownNameError
from eventpipe.events import SensorSize
from eventpipe.store.base import FinishedStore, IndexedSplit
from eventpipe.store.chunks import fetch_chunks, read_whole, write_split_index
from eventpipe.store.events_layout import KIND_ATTR
from eventpipe.store.integrity import check_fingerprint, check_offsets, register_integrity_check
from eventpipe.store.location import (
    StoreLike,
    exists,
    filesystem,
    is_local,
    join,
    normalize,
    open_group,
    remove,
    remove_partial_writes,
)
from eventpipe.store.markers import COMPLETE, fingerprint, mark_complete, read_attrs
from eventpipe.store.nodes import array_metadata, create_store, open_array, write_nodes

if TYPE_CHECKING:
    from eventpipe.frames import IntegrationSpec

KIND = "frames"
SCHEMA_VERSION = 2
BLOCKS = "blocks"
BLOCK_EVENTS = 4_000_000
"""Target events per block: about six Gesture-sized samples (~0.65 M events each), enough to hide a
block's fixed cost (about ten Zarr metadata round trips, measured ~2 ms each) and few enough to
balance 50 such samples over two workers."""
BLOCK_MAX_SAMPLES = 256
"""Most samples per block (tiny samples such as N-MNIST digits)."""
CHUNK_BYTES = 1 << 20
"""Uncompressed bytes per chunk of a variable-T block (whole frames)."""

Status = Literal["new", "resume", "complete"]
_IDENTITY = ("schema_version", "sensor", "spec", "plugin", "source_fingerprint")


def frames_fingerprint(attrs: Mapping[str, Any]) -> str:
    """Fingerprint of a frames store from its identity attributes (see the module docstring)."""
    return fingerprint({k: attrs.get(k) for k in _IDENTITY})


def plan_blocks(offsets: np.ndarray, target_events: int = BLOCK_EVENTS, max_samples: int = BLOCK_MAX_SAMPLES) -> list[int]:
    """Sample boundaries ``[0, ..., n]`` of blocks (at least one sample each): about ``target_events``
    events each, then smaller towards the end, each a third of the events left but at least a
    quarter of ``target_events``.

    Blocks run largest first (:func:`eventpipe.pipeline.dask.run_tasks` with a cost), so the short
    blocks come last and fill in whichever worker is free: the workers finish within a short block of
    each other for any number of workers, where equal blocks leave one worker a whole block behind
    when their count is not a multiple of the workers'. 50 Gesture-like samples make 13 blocks.

    >>> plan_blocks(np.array([0, 5, 10, 30, 31, 32]), target_events=10)
    [0, 2, 3, 5]
    >>> plan_blocks(np.arange(0, 13, 1), target_events=4)
    [0, 4, 6, 8, 9, 10, 11, 12]
    """
    offsets = np.asarray(offsets, dtype=np.int64)
    n = len(offsets) - 1
    bounds = [0]
    while bounds[-1] < n:
        start = bounds[-1]
        size = min(target_events, max(int(offsets[n] - offsets[start]) // 3, target_events // 4))
        stop = int(np.searchsorted(offsets, offsets[start] + size, side="right")) - 1
        bounds.append(min(max(stop, start + 1), start + max_samples, n))
    return bounds


@dataclass(frozen=True)
class FramesHeader:
    """What a frames store holds, known before any sample is integrated."""

    dataset: str
    sensor: SensorSize
    classes: tuple[str, ...]
    splits: tuple[str, ...]
    spec: IntegrationSpec
    source_fingerprint: str
    source_location: str
    blocks: Mapping[str, Sequence[int]]

    def identity(self) -> dict[str, Any]:
        """The attributes the fingerprint covers."""
        parts = self.spec.fingerprint_parts()
        return {
            "schema_version": SCHEMA_VERSION,
            "sensor": list(self.sensor),
            "spec": parts["spec"],
            "plugin": parts["plugin"],
            "source_fingerprint": self.source_fingerprint,
        }

    @property
    def fingerprint(self) -> str:
        return frames_fingerprint(self.identity())

    def to_attrs(self) -> dict[str, Any]:
        """Root attributes of a new store."""
        return {
            KIND_ATTR: KIND,
            **self.identity(),
            "dataset": self.dataset,
            "classes": list(self.classes),
            "splits": list(self.splits),
            "source_location": self.source_location,
            "fixed_t": self.spec.fixed_frames,
            "blocks": {s: list(map(int, b)) for s, b in self.blocks.items()},
            "fingerprint": self.fingerprint,
            "eventpipe_version": __version__,
        }


def _differences(attrs: Mapping[str, Any], header: FramesHeader) -> str:
    want = header.identity()
    reasons = {
        "schema_version": "it was written by another schema version",
        "sensor": "its sensor size differs",
        "spec": "its integration spec differs",
        "plugin": "the integration plugin's source changed",
        "source_fingerprint": "the events store was converted again since",
    }
    found = [reasons[k] for k in _IDENTITY if attrs.get(k) != want[k]]
    return "; ".join(found) or "its fingerprint differs"


def _is_empty_folder(location: str) -> bool:
    if is_local(location):
        from pathlib import Path

        folder = Path(location)
        return not folder.exists() or (folder.is_dir() and not any(folder.iterdir()))
    fs, path = filesystem(location)
    return not fs.exists(path) or not fs.ls(path)


def begin(location: StoreLike, header: FramesHeader, overwrite: bool = False) -> Status:
    """Create the store, or find it resumable or complete. Call under the store lock.

    A store left unreadable by a run killed while creating it is recreated.

    Raises
    ------
    StoreSchemaError
        Something else is at ``location``: a frames store with another fingerprint (the message says
        why and what to do) or a folder that is not a frames store. ``overwrite=True`` replaces it.
    """
    loc = normalize(location)
    if exists(loc):
        attrs = read_attrs(loc)
        created = attrs is not None and attrs.get(KIND_ATTR) == KIND and "fingerprint" in attrs
        if created and attrs["fingerprint"] == header.fingerprint:  # type: ignore[index]
            if attrs.get(COMPLETE):  # type: ignore[union-attr]
                return "complete"
            remove_partial_writes(loc)  # what the interrupted run was writing when it was killed
            return "resume"
        if created and not overwrite:
            raise StoreSchemaError(
                f"{loc} holds frames that this run would not write ({_differences(attrs, header)}); "  # type: ignore[arg-type]
                f"frames stores are never reused across fingerprints. Delete it (rm -r {loc}) or run "
                "again with --overwrite (prepare(..., overwrite=True))."
            )
        if attrs is not None and attrs.get(KIND_ATTR) not in (KIND, None) and not overwrite:
            raise StoreSchemaError(
                f"{loc} is a {attrs.get(KIND_ATTR)!r} store, not a frames store; move it away or use --overwrite."
            )
    elif not _is_empty_folder(loc) and not overwrite:
        raise StoreSchemaError(f"{loc} exists and is not a Zarr store; move it away or use --overwrite.")
    remove(loc)
    create_store(loc, header.to_attrs(), [BLOCKS, *(f"{BLOCKS}/{split}" for split in header.splits)])
    return "new"


def block_path(split: str, block: int) -> str:
    """Path of a block's group inside the store: ``blocks/<split>/b00000``."""
    return f"{BLOCKS}/{split}/b{block:05d}"


def completed_blocks(location: StoreLike, split: str, n_blocks: int) -> set[int]:
    """Indices of the blocks of ``split`` that carry their completion flag."""
    loc = normalize(location)
    done = set()
    for j in range(n_blocks):
        attrs = read_attrs(loc, block_path(split, j))
        if attrs is not None and attrs.get(COMPLETE):
            done.add(j)
    return done


def _codecs() -> list[Any]:
    """The frames arrays' codec chain: :class:`~eventpipe.store.sparse_counts.SparseCountsCodec` alone."""
    from eventpipe.store.sparse_counts import SparseCountsCodec

    return [SparseCountsCodec()]


def _encode_chunks(path: str, metadata: Any, data: np.ndarray) -> list[tuple[str, bytes]]:
    """The chunks of ``data`` for the array at ``path`` with ``metadata`` (chunked along axis 0
    only), each ``(key, bytes)`` encoded here as its codec does it.

    Zarr's own ``arr[...] = data`` copies every chunk several times and hops threads per chunk
    (measured 4x the time of the whole block write here). As with Zarr, a chunk of zeros is not
    stored at all; an edge chunk needs no padding since trailing zeros are not encoded.
    """
    from eventpipe.store.sparse_counts import encode

    step = metadata.chunk_grid.chunk_shape[0]
    rest = (0,) * (data.ndim - 1)
    level = metadata.codecs[0].level
    writes = []
    for i, start in enumerate(range(0, len(data), step)):
        block = data[start:start + step]
        if block.any():
            writes.append((f"{path}/{metadata.encode_chunk_key((i, *rest))}", encode(block, level)))
    return writes


def write_block(
    location: StoreLike, split: str, block: int, frames: Sequence[np.ndarray], sensor: SensorSize, fixed_t: int | None
) -> None:
    """Write the frames of one block (one ``[T, P, H, W]`` array per sample) and mark it complete,
    with its summary (frames per sample, dtype, max count, bytes before compression) in the block's
    attributes, where :func:`finalize` reads it."""
    shape = sensor.frame_shape(0)[1:]
    n_frames = [int(len(f)) for f in frames]
    dtype = np.result_type(np.uint8, *(f.dtype for f in frames))
    if fixed_t is not None:
        data = np.stack(frames).astype(dtype, copy=False) if frames else np.zeros((0, fixed_t, *shape), dtype)
        chunks: tuple[int, ...] = (1, fixed_t, *shape)
    else:
        data = np.concatenate([f.astype(dtype, copy=False) for f in frames]) if sum(n_frames) else np.zeros((0, *shape), dtype)
        per_chunk = max(1, CHUNK_BYTES // max(1, int(np.prod(shape)) * dtype.itemsize))
        chunks = (max(1, min(per_chunk, len(data))), *shape)
    path = block_path(split, block)
    remove(join(location, path))  # what an interrupted attempt left, if anything
    metadata = array_metadata(data.shape, dtype, chunks, _codecs())
    write_nodes(location, [(f"{path}/frames", metadata)], _encode_chunks(f"{path}/frames", metadata, data))
    summary = {
        "n_frames": n_frames,
        "dtype": dtype.name,
        "max_count": int(data.max()) if data.size else 0,
        "nbytes": int(data.nbytes),
    }
    mark_complete(normalize(location), path, summary)


def _array(group: Any, name: str) -> Any:
    """The array ``name`` of ``group`` (Zarr types it as array-or-group)."""
    return group[name]


def finalize(
    location: StoreLike,
    header: FramesHeader,
    labels: Mapping[str, np.ndarray],
    meta: Mapping[str, Mapping[str, np.ndarray]],
) -> dict[str, Any]:
    """Index every split from its blocks and mark the store complete; return the root attributes.

    ``labels`` and ``meta`` (per split) are copied from the events store. Raises
    :class:`StoreSchemaError` if a block is not complete.
    """
    loc = normalize(location)
    root_attrs = read_attrs(loc)
    if root_attrs is None:
        raise StoreSchemaError(f"{loc}: the frames store's root metadata is missing or unreadable; run prepare again.")
    num_samples: dict[str, int] = {}
    num_frames: dict[str, int] = {}
    itemsize, max_count = 1, 0
    for split in header.splits:
        bounds = list(header.blocks[split])
        counts: list[int] = []
        block_frames = [0]
        for j in range(len(bounds) - 1):
            attrs = read_attrs(loc, block_path(split, j))
            if attrs is None or not attrs.get(COMPLETE):
                raise StoreSchemaError(f"{loc}: block {split}/{j} is not complete; run prepare again.")
            counts += attrs["n_frames"]
            block_frames.append(block_frames[-1] + sum(attrs["n_frames"]))
            itemsize = max(itemsize, np.dtype(attrs["dtype"]).itemsize)
            max_count = max(max_count, int(attrs["max_count"]))
        offsets = np.zeros(len(counts) + 1, dtype=np.int64)
        np.cumsum(counts, out=offsets[1:])
        index = {
            "offsets": offsets,
            "labels": np.asarray(labels[split], dtype=np.int64),
            "block_samples": np.asarray(bounds, dtype=np.int64),
            "block_frames": np.asarray(block_frames, dtype=np.int64),
        }
        for name, values in sorted(meta.get(split, {}).items()):
            column = np.asarray(values)
            if column.dtype.kind in "UTO":  # variable-length strings: Zarr v3's "string" data type
                column = column.astype(np.dtypes.StringDType())
            index[f"meta/{name}"] = column
        write_split_index(loc, split, index)
        num_samples[split] = len(counts)
        num_frames[split] = int(offsets[-1])
    return mark_complete(loc, "", {**root_attrs, "num_samples": num_samples, "num_frames": num_frames,
                                   "dtype": np.dtype(f"u{itemsize}").name, "max_count": max_count})


class FramesStore(FinishedStore):
    """A finished frames store. Open with :meth:`open`."""

    KIND = KIND
    SCHEMA_VERSION = SCHEMA_VERSION
    WHAT = "a frames store"
    BUILD = "eventpipe prepare"
    STEP = "integration"
    REBUILD_HINT = "Run `eventpipe prepare` again with --overwrite."

    @property
    def spec(self) -> IntegrationSpec:
        """The integration spec the frames were made with (a plugin is imported only when called)."""
        from eventpipe.frames import IntegrationSpec

        return IntegrationSpec.from_dict(self.attrs["spec"])

    @property
    def fixed_t(self) -> bool:
        """True when every sample has the same number of frames (:attr:`frames_per_sample`)."""
        return self.attrs.get("fixed_t") is not None

    @property
    def frames_per_sample(self) -> int | None:
        """T for fixed-T stores, else None."""
        t = self.attrs.get("fixed_t")
        return None if t is None else int(t)

    @property
    def dtype(self) -> np.dtype[Any]:
        """The unsigned dtype every sample is returned in."""
        return np.dtype(self.attrs["dtype"])

    @property
    def fingerprint(self) -> str:
        return str(self.attrs["fingerprint"])

    def split(self, name: str) -> FramesSplit:
        """The samples of split ``name``."""
        if name not in self.splits:
            valid = ", ".join(repr(s) for s in self.splits)
            raise UnknownNameError(f"Unknown value {name!r} for argument split. Valid values are {{{valid}}}.")
        return FramesSplit(self.location, name, self.frames_per_sample, self.dtype.name)

    def __repr__(self) -> str:
        counts = ", ".join(f"{s}={n}" for s, n in self.attrs.get("num_samples", {}).items())
        return f"FramesStore({self.dataset!r}, {self.location!r}, {counts})"


class FramesSplit(IndexedSplit):
    """The samples of one split; index arrays load on first use, block arrays on first read."""

    def __init__(self, location: str, name: str, fixed_t: int | None, dtype: str) -> None:
        self.location = location
        self.name = name
        self.fixed_t = fixed_t
        self.dtype = np.dtype(dtype)
        self._index: dict[str, np.ndarray] | None = None
        self._meta: dict[str, np.ndarray] | None = None
        self._arrays: dict[int, Any] = {}

    def __getstate__(self) -> dict[str, Any]:
        return {"location": self.location, "name": self.name, "fixed_t": self.fixed_t, "dtype": self.dtype.name}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["location"], state["name"], state["fixed_t"], state["dtype"])  # type: ignore[misc]

    def _load(self) -> dict[str, np.ndarray]:
        if self._index is None:
            self._index = {k: read_whole(open_array(self.location, f"{self.name}/{k}")).astype(np.int64, copy=False)
                           for k in ("offsets", "labels", "block_samples", "block_frames")}
        return self._index

    def num_frames(self, i: int) -> int:
        """Number of frames T of sample ``i``."""
        i = self._check(i)
        return int(self.offsets[i + 1] - self.offsets[i])

    def _block(self, j: int) -> Any:
        arr = self._arrays.get(j)
        if arr is None:
            arr = open_array(self.location, f"{block_path(self.name, j)}/frames")
            self._arrays[j] = arr
        return arr

    def frames(self, i: int, out: np.ndarray | None = None) -> np.ndarray:
        """Frames ``[T, P, H, W]`` of sample ``i``: unsigned counts in the store's dtype, or written
        into ``out`` (C-contiguous, that shape; a float dtype, e.g. a float32 tensor's array, or an
        integer dtype that holds the store's counts)."""
        i = self._check(i)
        index = self._load()
        j = int(np.searchsorted(index["block_samples"], i, side="right")) - 1
        arr = self._block(j)
        if self.fixed_t is not None:
            start = (i - int(index["block_samples"][j])) * self.fixed_t
            stop = start + self.fixed_t
        else:
            start = int(index["offsets"][i] - index["block_frames"][j])
            stop = start + self.num_frames(i)
        if out is None:
            out = np.empty((stop - start, *arr.shape[-3:]), dtype=self.dtype)
        elif out.shape != (stop - start, *arr.shape[-3:]):
            raise ValueError(f"out has shape {out.shape}; sample {i} has shape {(stop - start, *arr.shape[-3:])}")
        elif not np.can_cast(self.dtype, out.dtype, "safe") and out.dtype.kind != "f":
            raise ValueError(f"out has dtype {out.dtype}, too narrow for counts stored as {self.dtype}")
        _read_frames(arr, start, stop, out)
        return out

    def __getitem__(self, i: int) -> tuple[np.ndarray, int]:
        """``(frames, label)`` of sample ``i``."""
        return self.frames(i), int(self.labels[self._check(i)])

    def __repr__(self) -> str:
        return f"FramesSplit({self.name!r}, {self.location!r})"


def _read_frames(arr: Any, start: int, stop: int, out: np.ndarray) -> None:
    """Frames ``[start, stop)`` of a block's frames array (counted over its ``[.., P, H, W]`` frames,
    whatever its number of dimensions) into ``out``: the chunks read directly
    (:func:`~eventpipe.store.chunks.fetch_chunks`) and decoded straight into ``out``, through
    Zarr when the array has other codecs (e.g. rewritten by another tool) or ``out`` is not a
    C-contiguous integer, float32 or float64 array."""
    from eventpipe.store.sparse_counts import SparseCountsCodec, decode_into

    frame_shape = arr.shape[-3:]
    direct = out.dtype.kind in "iu" or out.dtype in (np.float32, np.float64)  # what the codec writes (not float16)
    if not isinstance(arr.metadata.codecs[0], SparseCountsCodec) or not out.flags.c_contiguous or not direct:
        per_row = int(np.prod(arr.shape[1:-3], dtype=np.int64))  # frames per row: T, or 1 for variable T
        first = start // per_row
        rows = np.asarray(arr[first:-(-stop // per_row)]).reshape(-1, *frame_shape)  # only the sample's rows
        out[...] = rows[start - first * per_row:stop - first * per_row]
        return
    frame = int(np.prod(frame_shape))
    per_chunk = int(np.prod(arr.chunks)) // frame  # frames per chunk
    first, last = start // per_chunk, (stop - 1) // per_chunk
    rest = (0,) * (arr.ndim - 1)
    keys = [f"{arr.path}/{arr.metadata.encode_chunk_key((c, *rest))}" for c in range(first, last + 1)]
    flat = out.reshape(-1)
    for c, buf in zip(range(first, last + 1), fetch_chunks(arr.store, keys), strict=True):
        lo = max(start, c * per_chunk)
        hi = min(stop, (c + 1) * per_chunk)
        target = flat[(lo - start) * frame:(hi - start) * frame]
        if buf is None:  # never written: all zeros
            target[:] = 0
        else:
            decode_into(buf, target, per_chunk * frame, (lo - c * per_chunk) * frame)


def check_frames_store(location: str, attrs: dict[str, Any]) -> list[str]:
    """The frames store checker for :func:`eventpipe.store.check_integrity` (no frame data is read)."""
    if attrs.get("schema_version") != SCHEMA_VERSION:
        return [f"{location}: schema version {attrs.get('schema_version')}, expected {SCHEMA_VERSION}."]
    if not attrs.get(COMPLETE):
        return [f"{location}: not complete (the integration was interrupted); run `eventpipe prepare` again."]
    problems = check_fingerprint(attrs, frames_fingerprint(attrs), location)
    for split in attrs.get("splits", []):
        problems += _check_split(location, split, attrs)
    return problems


def _check_split(location: str, split: str, attrs: Mapping[str, Any]) -> list[str]:
    what = f"{location} split {split!r}"
    try:
        group = open_group(location, "r", path=split)
        index = {k: np.asarray(_array(group, k)[:]) for k in ("offsets", "labels", "block_samples", "block_frames")}
    except (OSError, KeyError, ValueError) as exc:
        return [f"{what}: index unreadable ({exc})."]
    n = len(index["labels"])
    problems = check_offsets(index["offsets"], int(index["block_frames"][-1]) if len(index["block_frames"]) else 0, what)
    if len(index["offsets"]) != n + 1:
        problems.append(f"{what}: {len(index['offsets'])} offsets for {n} labels (expected n + 1).")
    n_classes = len(attrs.get("classes", []))
    if n and (index["labels"].min() < 0 or index["labels"].max() >= n_classes):
        problems.append(f"{what}: labels outside [0, {n_classes - 1}].")
    if list(index["block_samples"]) != list(attrs.get("blocks", {}).get(split, [])):
        problems.append(f"{what}: block_samples disagree with the planned blocks.")
    problems += check_offsets(index["block_samples"], n, f"{what} block samples")
    fixed_t = attrs.get("fixed_t")
    shape = tuple(SensorSize(*attrs["sensor"]).frame_shape(0)[1:])
    bounds = index["block_samples"]
    for j in range(len(bounds) - 1):
        block = read_attrs(location, block_path(split, j))
        where = f"{location} block {split}/{j}"
        if block is None or not block.get(COMPLETE):
            problems.append(f"{where}: missing or not complete.")
            continue
        s0, s1 = int(bounds[j]), int(bounds[j + 1])
        counts = np.asarray(block["n_frames"], dtype=np.int64)
        if len(counts) != s1 - s0 or not np.array_equal(counts, np.diff(index["offsets"][s0:s1 + 1])):
            problems.append(f"{where}: its frame counts disagree with the split offsets.")
        expected = (s1 - s0, fixed_t, *shape) if fixed_t is not None else (int(counts.sum()), *shape)
        try:
            found = tuple(_array(open_group(location, "r", path=block_path(split, j)), "frames").shape)
        except (OSError, KeyError, ValueError):
            found = None
        if found != expected:
            problems.append(f"{where}: frames array has shape {found}, expected {expected}.")
    return problems


register_integrity_check(KIND, check_frames_store)
