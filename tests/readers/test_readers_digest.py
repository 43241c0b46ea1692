"""Digests recorded while reading equal a separate hash of the whole file, for any read-buffer size."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest

from eventpipe.errors import CorruptRecordingError
from eventpipe.events import make_events
from eventpipe.readers import read_events
from eventpipe.readers._digest import FileHasher, digest_key, record_digests
from eventpipe.readers._stream import ChunkDecoder, decode_file
from eventpipe.readers.aedat3 import _ERRORS, _decode_packets, read_header, write_aedat3
from eventpipe.readers.atis import write_atis
from eventpipe.store.markers import file_sha256


def _recording(tmp_path: Path, n: int = 1000) -> Path:
    rng = np.random.default_rng(1)
    ev = make_events(np.cumsum(rng.integers(0, 9, n)), rng.integers(0, 128, n), rng.integers(0, 128, n),
                     rng.integers(0, 2, n))
    return write_aedat3(tmp_path / "rec.aedat", ev, packet_size=97)


@pytest.mark.parametrize("chunk", [29, 64, 1000, 1 << 20])
def test_digest_equals_file_sha256(tmp_path: Path, chunk: int) -> None:
    path = _recording(tmp_path)
    _, start = read_header(path)
    with record_digests() as digests:
        decoder = ChunkDecoder(_decode_packets, record="packet", bytes_per_event=8, errors=_ERRORS, words=True)
        events = decode_file(path, start, decoder, chunk_bytes=chunk)
    assert len(events) == 1000
    digest = digests[digest_key(path)]
    assert digest.sha256 == file_sha256(str(path)) == hashlib.sha256(path.read_bytes()).hexdigest()
    assert digest.size == path.stat().st_size


def test_headerless_format_and_relative_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_atis(tmp_path / "a.bin", make_events([1, 5, 9], [1, 2, 3], [4, 5, 6], [0, 1, 1]))
    monkeypatch.chdir(tmp_path)
    with record_digests() as digests:
        read_events("a.bin")
    assert digests == {str(path.absolute()): digests[digest_key(path)]}
    assert digests[digest_key("a.bin")].sha256 == file_sha256(str(path))


def test_nothing_recorded_outside_the_block_or_for_a_corrupt_file(tmp_path: Path) -> None:
    path = _recording(tmp_path)
    read_events(path)  # no block: nothing to record into, nothing happens
    assert FileHasher.if_recording(path) is None
    cut = tmp_path / "cut.aedat"
    cut.write_bytes(path.read_bytes()[:-5])
    with record_digests() as digests:
        with pytest.raises(CorruptRecordingError) as info:
            read_events(cut)
        read_events(path)
    assert info.value.offset is not None and str(cut) in str(info.value)
    assert list(digests) == [digest_key(path)]


def test_nested_blocks_collect_separately(tmp_path: Path) -> None:
    path = _recording(tmp_path)
    with record_digests() as outer:
        with record_digests() as inner:
            read_events(path)
        assert FileHasher.if_recording(path) is not None
    assert list(inner) == [digest_key(path)] and outer == {}
