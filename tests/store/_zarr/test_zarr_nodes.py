"""Node metadata written directly: Zarr's own documents, byte for byte, and read back as Zarr reads them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import zarr

from eventpipe.errors import DataNotFoundError, StoreSchemaError
from eventpipe.store._zarr.nodes import (
    array_metadata,
    child_arrays,
    create_store,
    group_metadata,
    open_array,
    read_group_attrs,
    write_nodes,
)
from eventpipe.store.codecs import index_compressor
from eventpipe.store.index import write_index

ATTRS = {"kind": "frames", "n": [1, 2, 3], "nested": {"a": None, "b": 1.5}, "text": "ü"}


def test_group_document_is_zarrs(tmp_path: Path) -> None:
    zarr.open_group(str(tmp_path / "theirs.zarr"), mode="w", zarr_format=3).create_group("g", attributes=ATTRS)
    write_nodes(str(tmp_path / "ours.zarr"), [("g", group_metadata(ATTRS))])
    assert (tmp_path / "ours.zarr/g/zarr.json").read_bytes() == (tmp_path / "theirs.zarr/g/zarr.json").read_bytes()


@pytest.mark.parametrize("dtype", [np.int64, np.uint8, np.uint16, np.float32])
def test_array_document_is_zarrs(tmp_path: Path, dtype: type) -> None:
    theirs = zarr.open_group(str(tmp_path / "theirs.zarr"), mode="w", zarr_format=3)
    theirs.create_array("a", shape=(10, 3), dtype=dtype, chunks=(4, 3), compressors=index_compressor(), fill_value=0)
    codecs = [zarr.codecs.BytesCodec(), index_compressor()]
    write_nodes(str(tmp_path / "ours.zarr"), [("a", array_metadata((10, 3), np.dtype(dtype), (4, 3), codecs))])
    assert (tmp_path / "ours.zarr/a/zarr.json").read_bytes() == (tmp_path / "theirs.zarr/a/zarr.json").read_bytes()


@pytest.mark.parametrize("location", ["local", "memory"])
def test_store_created_and_indexed(tmp_path: Path, location: str) -> None:
    loc = str(tmp_path / "s.zarr") if location == "local" else f"memory://nodes-{tmp_path.name}/s.zarr"
    create_store(loc, ATTRS, ["parts", "parts/train", "train", "train/meta"])
    offsets = np.array([0, 3, 3, 10], np.int64)
    names = np.array(["a", "bb", "ccc"], dtype=np.dtypes.StringDType())
    write_index(loc, {"train/offsets": offsets, "train/meta/user": names, "train/empty": np.zeros(0, np.int64)})
    root = zarr.open_group(loc, mode="r", zarr_format=3)
    assert dict(root.attrs) == ATTRS and read_group_attrs(loc) == ATTRS
    assert read_group_attrs(loc, "parts/train") == {}
    np.testing.assert_array_equal(root["train/offsets"][:], offsets)
    assert list(root["train/meta/user"][:]) == ["a", "bb", "ccc"]
    assert root["train/empty"].shape == (0,)
    assert read_group_attrs(loc, "train/offsets") is None  # an array, not a group
    assert read_group_attrs(loc, "missing") is None
    if location == "local":  # documents are renamed into place: no temporary file stays behind
        assert not list((tmp_path / "s.zarr").rglob("*.partial"))


def test_unreadable_group_metadata(tmp_path: Path) -> None:
    loc = tmp_path / "s.zarr"
    create_store(str(loc), ATTRS, [])
    for text in ('{"zarr_format": 3, "node_ty', "[1, 2]", '{"zarr_format": 2, "node_type": "group"}',
                 '{"zarr_format": 3, "node_type": "group", "attributes": [1]}'):
        (loc / "zarr.json").write_text(text)
        assert read_group_attrs(str(loc)) is None, text
    (loc / "zarr.json").unlink()
    (loc / "zarr.json").mkdir()  # not a file at all
    assert read_group_attrs(str(loc)) is None


@pytest.mark.parametrize("location", ["local", "memory"])
def test_open_array_reads_as_zarr(tmp_path: Path, location: str) -> None:
    loc = str(tmp_path / "a.zarr") if location == "local" else f"memory://nodes-open-{tmp_path.name}/a.zarr"
    group = zarr.open_group(loc, mode="w", zarr_format=3)
    data = np.arange(30, dtype=np.uint16).reshape(10, 3)
    group.create_array("g/a", shape=data.shape, dtype=data.dtype, chunks=(4, 3))[...] = data
    arr = open_array(loc, "g/a")
    np.testing.assert_array_equal(arr[...], data)
    assert arr.metadata == group["g/a"].metadata
    with pytest.raises(DataNotFoundError):
        open_array(loc, "g/missing")
    with pytest.raises(StoreSchemaError):
        open_array(loc, "g")  # a group


def test_open_array_refuses_bad_metadata(tmp_path: Path) -> None:
    loc = tmp_path / "a.zarr"
    zarr.open_group(str(loc), mode="w", zarr_format=3).create_array("a", shape=(4,), dtype=np.int64)
    for text in ('{"zarr_format": 3, "node_ty', '{"zarr_format": 3, "node_type": "array"}',
                 '{"zarr_format": 2, "node_type": "array"}'):
        (loc / "a" / "zarr.json").write_text(text)
        with pytest.raises(StoreSchemaError):
            open_array(str(loc), "a")


@pytest.mark.parametrize("location", ["local", "memory"])
def test_child_arrays(tmp_path: Path, location: str) -> None:
    loc = str(tmp_path / "c.zarr") if location == "local" else f"memory://nodes-children-{tmp_path.name}/c.zarr"
    create_store(loc, {}, ["meta", "meta/sub"])
    write_index(loc, {"meta/b": np.arange(3), "meta/a": np.array(["x", "y", "z"], dtype=np.dtypes.StringDType())})
    assert child_arrays(loc, "meta") == ["a", "b"]  # sorted; the sub-group is not an array
    assert child_arrays(loc, "meta/sub") == []
    with pytest.raises(DataNotFoundError):
        child_arrays(loc, "nothing")
