"""Static image datasets in their original binary formats: IDX (the MNIST family) and CIFAR-10's binary version.

These readers return arrays, not events: ``images`` uint8 ``[N, C, H, W]`` and ``labels`` int64 ``[N]``.
Nothing is unpickled.

IDX (``train-images-idx3-ubyte.gz``, ...): a big-endian header ``0x00 0x00 <type> <ndim>`` (type
``0x08`` = unsigned byte), then ``ndim`` big-endian uint32 dimensions, then the data in C order.
Images are ``ndim = 3`` (magic ``0x00000803``: N, rows, columns), labels ``ndim = 1`` (magic
``0x00000801``: N). Files are read gzipped, as downloaded, or plain.

CIFAR-10 binary (``data_batch_1.bin`` ... ``data_batch_5.bin``, ``test_batch.bin``): records of one
label byte and 3072 pixel bytes (1024 red, then green, then blue, each 32x32 in row order); nothing
else, no header.

Every problem is a :class:`~eventpipe.errors.FormatError` (or its subclass
:class:`~eventpipe.errors.CorruptRecordingError` for a file cut short) naming the file.
"""

from __future__ import annotations

import gzip
import struct
import zlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from eventpipe.errors import CorruptRecordingError, FormatError

IDX_FILES = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}
"""MNIST's file names: the images file and the labels file of each split (its look-alikes reuse them)."""

IDX_IMAGES = 0x00000803
IDX_LABELS = 0x00000801
_IDX_UBYTE = 0x08
GZIP_MAGIC = b"\x1f\x8b"
CIFAR_SHAPE = (3, 32, 32)
CIFAR_RECORD = 1 + int(np.prod(CIFAR_SHAPE))

__all__ = [
    "CIFAR_RECORD",
    "CIFAR_SHAPE",
    "IDX_IMAGES",
    "IDX_LABELS",
    "read_cifar_batches",
    "read_cifar_binary",
    "read_idx",
    "read_idx_pair",
    "write_idx",
]


def _read_bytes(path: Path) -> bytes:
    """The file's bytes, un-gzipped when it starts with the gzip magic."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise FormatError(f"{path}: no such file") from None
    if raw[:2] != GZIP_MAGIC:
        return raw
    try:
        return gzip.decompress(raw)
    except (OSError, EOFError, zlib.error) as exc:
        raise CorruptRecordingError(path, None, f"the gzip stream is damaged or cut short ({exc})") from None


def read_idx(path: str | Path, magic: int) -> np.ndarray:
    """The uint8 array of the IDX file ``path`` (gzipped or plain) whose magic number must be ``magic``
    (:data:`IDX_IMAGES` or :data:`IDX_LABELS`).

    Raises
    ------
    FormatError
        Another magic number (the message says which file kind it is), or a header cut short.
    CorruptRecordingError
        Fewer data bytes than the dimensions promise, bytes after them, or a damaged gzip stream.
    """
    path = Path(path)
    data = _read_bytes(path)
    if len(data) < 4:
        raise FormatError(f"{path}: {len(data)} bytes, too short for an IDX header (expected magic 0x{magic:08x})")
    found = struct.unpack(">I", data[:4])[0]
    if found != magic:
        kinds = {IDX_IMAGES: "IDX images", IDX_LABELS: "IDX labels"}
        what = kinds.get(found, "not an IDX file of unsigned bytes")
        raise FormatError(f"{path}: magic number 0x{found:08x} ({what}); expected 0x{magic:08x} ({kinds[magic]})")
    ndim = magic & 0xFF
    end = 4 + 4 * ndim
    if len(data) < end:
        raise CorruptRecordingError(path, len(data), f"the header needs {end} bytes for {ndim} dimensions")
    dims = struct.unpack(f">{ndim}I", data[4:end])
    expected = int(np.prod(dims, dtype=np.int64))
    if len(data) - end != expected:
        side = "missing" if len(data) - end < expected else "extra"
        raise CorruptRecordingError(
            path, len(data), f"dimensions {'x'.join(map(str, dims))} need {expected} data bytes, found "
            f"{len(data) - end} ({side} bytes: truncated or not this file's header)")
    return np.frombuffer(data, dtype=np.uint8, offset=end).reshape(dims)


def read_idx_pair(images_path: str | Path, labels_path: str | Path, n_classes: int) -> tuple[np.ndarray, np.ndarray]:
    """Images ``[N, 1, H, W]`` uint8 and labels ``[N]`` int64 of an IDX images file and its labels file.

    Raises
    ------
    FormatError
        Either file is bad (see :func:`read_idx`), their counts differ, or a label is not below ``n_classes``.
    """
    images = read_idx(images_path, IDX_IMAGES)
    labels = read_idx(labels_path, IDX_LABELS)
    if len(images) != len(labels):
        raise FormatError(f"{labels_path}: {len(labels)} labels for the {len(images)} images of {images_path}")
    _check_labels(Path(labels_path), labels, n_classes)
    return images[:, None], labels.astype(np.int64)


def read_cifar_binary(path: str | Path, n_classes: int = 10) -> tuple[np.ndarray, np.ndarray]:
    """Images ``[N, 3, 32, 32]`` uint8 and labels ``[N]`` int64 of one CIFAR-10 binary batch file.

    Raises
    ------
    FormatError
        An empty file, or a label byte not below ``n_classes``.
    CorruptRecordingError
        A size that is not a whole number of :data:`CIFAR_RECORD`-byte records (truncated).
    """
    path = Path(path)
    try:
        raw = np.fromfile(path, dtype=np.uint8)
    except FileNotFoundError:
        raise FormatError(f"{path}: no such file") from None
    if raw.size == 0:
        raise FormatError(f"{path}: empty file; expected records of {CIFAR_RECORD} bytes (1 label + 3072 pixels)")
    if raw.size % CIFAR_RECORD:
        whole = raw.size // CIFAR_RECORD
        raise CorruptRecordingError(path, whole * CIFAR_RECORD,
                                    f"{raw.size} bytes is not a whole number of {CIFAR_RECORD}-byte records "
                                    f"({whole} whole records, then {raw.size % CIFAR_RECORD} bytes: truncated)")
    records = raw.reshape(-1, CIFAR_RECORD)
    labels = records[:, 0]
    _check_labels(path, labels, n_classes)
    return records[:, 1:].reshape(-1, *CIFAR_SHAPE), labels.astype(np.int64)


def read_cifar_batches(paths: Sequence[str | Path], n_classes: int = 10) -> tuple[np.ndarray, np.ndarray]:
    """The records of several CIFAR-10 binary batch files, one after the other."""
    parts = [read_cifar_binary(p, n_classes) for p in paths]
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])


def _check_labels(path: Path, labels: np.ndarray, n_classes: int) -> None:
    if len(labels) and int(labels.max()) >= n_classes:
        at = int(np.argmax(labels >= n_classes))
        raise FormatError(f"{path}: label {int(labels[at])} of sample {at} is out of range; "
                          f"expected 0 to {n_classes - 1}")


def write_idx(path: str | Path, array: np.ndarray, *, compress: bool = True) -> None:
    """Write the uint8 ``array`` (1-D labels or 3-D images) as an IDX file, gzipped unless ``compress=False``."""
    array = np.ascontiguousarray(array, dtype=np.uint8)
    if array.ndim not in (1, 3):
        raise FormatError(f"{path}: IDX files here hold 1-D labels or 3-D images, not {array.ndim}-D arrays")
    header = struct.pack(">BBBB", 0, 0, _IDX_UBYTE, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    data = header + array.tobytes()
    Path(path).write_bytes(gzip.compress(data, compresslevel=6, mtime=0) if compress else data)
