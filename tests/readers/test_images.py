"""The static image readers: IDX (MNIST family, gzipped or plain) and CIFAR-10 binary records, on files
written byte by byte here; every bad input is a one-line error naming the file."""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np
import pytest

from eventpipe.errors import CorruptRecordingError, FormatError
from eventpipe.readers.images import (
    IDX_IMAGES,
    IDX_LABELS,
    read_cifar_batches,
    read_cifar_binary,
    read_idx,
    read_idx_pair,
    write_idx,
)

RNG = np.random.default_rng(7)


def idx_bytes(magic: int, dims: tuple[int, ...], payload: bytes) -> bytes:
    return struct.pack(">I", magic) + struct.pack(f">{len(dims)}I", *dims) + payload


def write_pair(folder: Path, images: np.ndarray, labels: np.ndarray, *, gz: bool = True) -> tuple[Path, Path]:
    im = idx_bytes(IDX_IMAGES, images.shape, images.astype(np.uint8).tobytes())
    lb = idx_bytes(IDX_LABELS, labels.shape, labels.astype(np.uint8).tobytes())
    suffix = ".gz" if gz else ""
    ip, lp = folder / f"images-idx3-ubyte{suffix}", folder / f"labels-idx1-ubyte{suffix}"
    ip.write_bytes(gzip.compress(im) if gz else im)
    lp.write_bytes(gzip.compress(lb) if gz else lb)
    return ip, lp


def one_line_naming(exc: pytest.ExceptionInfo[BaseException], path: Path) -> None:
    text = str(exc.value)
    assert "\n" not in text and str(path) in text, text


@pytest.mark.parametrize("gz", [True, False])
def test_idx_pair_reads_images_and_labels(tmp_path: Path, gz: bool) -> None:
    images = RNG.integers(0, 256, (5, 28, 28), dtype=np.uint8)
    labels = np.array([0, 9, 3, 3, 1], dtype=np.uint8)
    ip, lp = write_pair(tmp_path, images, labels, gz=gz)
    got, got_labels = read_idx_pair(ip, lp, 10)
    assert got.shape == (5, 1, 28, 28) and got.dtype == np.uint8
    assert np.array_equal(got[:, 0], images) and got_labels.tolist() == [0, 9, 3, 3, 1]
    assert got_labels.dtype == np.int64


def test_write_idx_writes_what_read_idx_reads(tmp_path: Path) -> None:
    images = RNG.integers(0, 256, (3, 4, 5), dtype=np.uint8)
    write_idx(tmp_path / "a.gz", images)
    assert np.array_equal(read_idx(tmp_path / "a.gz", IDX_IMAGES), images)
    raw = gzip.decompress((tmp_path / "a.gz").read_bytes())
    assert raw[:16] == bytes.fromhex("00000803 00000003 00000004 00000005".replace(" ", ""))


def test_wrong_magic_names_the_file_and_both_kinds(tmp_path: Path) -> None:
    ip, lp = write_pair(tmp_path, np.zeros((2, 3, 3)), np.zeros(2))
    with pytest.raises(FormatError, match=r"magic number 0x00000801 \(IDX labels\); expected 0x00000803") as exc1:
        read_idx_pair(lp, ip, 10)  # swapped
    one_line_naming(exc1, lp)
    junk = tmp_path / "junk.gz"
    junk.write_bytes(gzip.compress(b"PK\x03\x04" + bytes(20)))
    with pytest.raises(FormatError, match="not an IDX file") as exc2:
        read_idx(junk, IDX_IMAGES)
    one_line_naming(exc2, junk)


def test_truncated_data_and_header(tmp_path: Path) -> None:
    data = idx_bytes(IDX_IMAGES, (3, 4, 4), bytes(3 * 16))
    cut = tmp_path / "cut-idx3-ubyte.gz"
    cut.write_bytes(gzip.compress(data[:-5]))
    with pytest.raises(CorruptRecordingError, match="need 48 data bytes, found 43 \\(missing bytes") as exc1:
        read_idx(cut, IDX_IMAGES)
    one_line_naming(exc1, cut)
    header = tmp_path / "header"
    header.write_bytes(data[:9])
    with pytest.raises(CorruptRecordingError, match="the header needs 16 bytes") as exc2:
        read_idx(header, IDX_IMAGES)
    one_line_naming(exc2, header)
    tiny = tmp_path / "tiny"
    tiny.write_bytes(b"\x00\x00")
    with pytest.raises(FormatError, match="too short for an IDX header") as exc3:
        read_idx(tiny, IDX_LABELS)
    one_line_naming(exc3, tiny)


def test_cut_gzip_stream(tmp_path: Path) -> None:
    whole = gzip.compress(idx_bytes(IDX_LABELS, (100,), bytes(range(100))))
    path = tmp_path / "labels.gz"
    path.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(CorruptRecordingError, match="gzip stream is damaged or cut short") as exc:
        read_idx(path, IDX_LABELS)
    one_line_naming(exc, path)


def test_count_mismatch_and_label_out_of_range(tmp_path: Path) -> None:
    ip, lp = write_pair(tmp_path, np.zeros((3, 2, 2)), np.array([1, 2]))
    with pytest.raises(FormatError, match=f"2 labels for the 3 images of {ip}") as exc1:
        read_idx_pair(ip, lp, 10)
    one_line_naming(exc1, lp)
    ip, lp = write_pair(tmp_path, np.zeros((3, 2, 2)), np.array([1, 10, 2]))
    with pytest.raises(FormatError, match="label 10 of sample 1 is out of range; expected 0 to 9") as exc2:
        read_idx_pair(ip, lp, 10)
    one_line_naming(exc2, lp)


def cifar_records(labels: list[int], pixels: np.ndarray) -> bytes:
    return b"".join(bytes([y]) + p.tobytes() for y, p in zip(labels, pixels, strict=True))


def test_cifar_binary_records(tmp_path: Path) -> None:
    pixels = RNG.integers(0, 256, (4, 3, 32, 32), dtype=np.uint8)
    a, b = tmp_path / "data_batch_1.bin", tmp_path / "data_batch_2.bin"
    a.write_bytes(cifar_records([6, 9, 0], pixels[:3]))
    b.write_bytes(cifar_records([4], pixels[3:]))
    images, labels = read_cifar_batches([a, b])
    assert images.shape == (4, 3, 32, 32) and np.array_equal(images, pixels)
    assert labels.tolist() == [6, 9, 0, 4]
    # channel planes: the first 1024 pixel bytes are red, row by row
    assert images[0, 0, 0, 1] == a.read_bytes()[2] and images[0, 2, 31, 31] == a.read_bytes()[3072]


def test_cifar_bad_files(tmp_path: Path) -> None:
    pixels = np.zeros((2, 3, 32, 32), dtype=np.uint8)
    cut = tmp_path / "test_batch.bin"
    cut.write_bytes(cifar_records([1, 2], pixels)[:-100])
    with pytest.raises(CorruptRecordingError, match=r"at byte 3073: 6046 bytes is not a whole number of 3073-byte") as exc1:
        read_cifar_binary(cut)
    one_line_naming(exc1, cut)
    bad = tmp_path / "data_batch_3.bin"
    bad.write_bytes(cifar_records([3, 12], pixels))
    with pytest.raises(FormatError, match="label 12 of sample 1 is out of range; expected 0 to 9") as exc2:
        read_cifar_binary(bad)
    one_line_naming(exc2, bad)
    empty = tmp_path / "data_batch_4.bin"
    empty.write_bytes(b"")
    with pytest.raises(FormatError, match="empty file") as exc3:
        read_cifar_binary(empty)
    one_line_naming(exc3, empty)
    with pytest.raises(FormatError, match="no such file"):
        read_cifar_binary(tmp_path / "data_batch_5.bin")
