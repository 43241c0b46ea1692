"""Static image datasets from the command line, like the event datasets: ``prepare`` (generated, and
downloaded over real HTTP from 127.0.0.1 with a manifest of the served IDX files), ``convert``,
``verify`` (raw files and the images store's chunks), ``info``, ``datasets``, and the integration
options they refuse."""

from __future__ import annotations

import gzip
import hashlib
import json
import shutil
import struct
import threading
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from eventpipe.cli.main import app
from eventpipe.errors import ConfigError, StoreSchemaError

IDX_NAMES = ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
             "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")


def invoke(*args: str) -> tuple[int, str, BaseException | None]:
    result = CliRunner().invoke(app, ["-q", *args])
    return result.exit_code, result.stdout, result.exception


def run_json(*args: str) -> dict:
    code, out, error = invoke(*args, "--json")
    assert code == 0, (out, error)
    return json.loads(out)


def idx_gz(array: np.ndarray) -> bytes:
    """An array as a gzipped IDX file, byte by byte: magic (unsigned byte, ndim), big-endian dims, data."""
    header = struct.pack(">I", 0x0800 | array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    return gzip.compress(header + array.astype(np.uint8).tobytes())


@pytest.fixture
def served_mnist(tmp_path: Path) -> Iterator[Path]:
    """A manifest for ``mnist`` whose four files (12 + 5 random images) a real HTTP server on 127.0.0.1 serves."""
    folder = tmp_path / "served"
    folder.mkdir()
    rng = np.random.default_rng(5)
    arrays = [rng.integers(0, 256, (12, 28, 28)), rng.integers(0, 10, 12),
              rng.integers(0, 256, (5, 28, 28)), rng.integers(0, 10, 5)]
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(SimpleHTTPRequestHandler, directory=str(folder)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    manifest = tmp_path / "mnist.toml"
    text = 'schema = 1\nname = "mnist"\ntitle = "t"\nhomepage = "https://example.org"\nlicense = "l"\ncitation = "c"\n'
    for name, array in zip(IDX_NAMES, arrays, strict=True):
        body = idx_gz(array)
        (folder / name).write_bytes(body)
        text += (f'[[files]]\nname = "{name}"\nsize = {len(body)}\nmd5 = "{hashlib.md5(body).hexdigest()}"\n'
                 f'urls = ["{url}/{name}"]\n')
    manifest.write_text(text)
    try:
        yield manifest
    finally:
        server.shutdown()
        server.server_close()


def test_prepare_demo_static_then_verify_info_and_datasets(tmp_path: Path) -> None:
    root = str(tmp_path)
    planned = run_json("prepare", "demo-static", "--root", root, "--dry-run")
    assert planned["status"] == "dry-run" and not (tmp_path / "demo-static").exists()
    assert [(s["step"], s["status"]) for s in planned["steps"]] == [("download", "check"), ("convert", "convert")]
    made = run_json("prepare", "demo-static", "--root", root)
    assert (made["status"], made["num_samples"], made["spec"]) == ("prepared", {"train": 6000, "test": 1000}, None)
    assert made["store"] == str(tmp_path / "demo-static" / "images.zarr") and made["steps"][0]["status"] == "generated"
    again = run_json("prepare", "demo-static", "--root", root)
    assert again["status"] == "up-to-date" and again["steps"][1]["status"] == "up-to-date"
    report = run_json("verify", "demo-static", "--root", root)
    assert report["ok"] and [c["target"] for c in report["checks"] if c["kind"] == "store"] == ["images.zarr"]
    info = run_json("info", "demo-static", "--root", root)
    assert (info["shape"], info["images"], info["splits"]["test"]["class_histogram"]["7"]) == ([1, 28, 28], 7000, 100)
    code, out, _ = invoke("info", "demo-static", "--root", root)
    assert code == 0 and "7000 images (train 6000, test 1000) of 1x28x28" in out
    rows = {r["name"]: r for r in run_json("datasets", "--root", root)["datasets"]}
    assert (rows["demo-static"]["store_kind"], rows["demo-static"]["store"]) == ("images", "converted")
    assert (rows["mnist"]["store_kind"], rows["demo"]["store_kind"]) == ("images", "events")
    code, out, _ = invoke("datasets", "--root", root)
    assert code == 0 and "images: converted" in out
    picture = tmp_path / "digit.png"
    code, out, _ = invoke("show", "demo-static", "--root", root, "--split", "test", "--index", "3", "--out",
                          str(picture))
    assert code == 0 and picture.read_bytes().startswith(b"\x89PNG") and "wrote" in out
    code, _, error = invoke("show", "demo-static", "--root", root, "--frames", "4", "--out", str(picture))
    assert code != 0 and "static images" in str(error) and "\n" not in str(error)
    code, _, error = invoke("show", "demo-static", "--root", root, "--out", str(tmp_path / "digit.gif"))
    assert code != 0 and ".png" in str(error)
    code, _, error = invoke("show", "demo-static", "--root", root, "--index", "7000", "--out", str(picture))
    assert code != 0 and "Expected --index in [0, 5999] for demo-static 'train'. Got 7000 instead." in str(error)


def test_prepare_mnist_over_http_convert_and_verify_damage(tmp_path: Path, served_mnist: Path) -> None:
    root, manifest = str(tmp_path / "root"), str(served_mnist)
    made = run_json("prepare", "mnist", "--root", root, "--manifest", manifest)
    assert (made["status"], made["num_samples"]) == ("prepared", {"train": 12, "test": 5})
    assert made["steps"][0]["status"] == "downloaded" and "4 downloaded" in made["steps"][0]["detail"]
    store = tmp_path / "root" / "mnist" / "images.zarr"
    planned = run_json("prepare", "mnist", "--root", root, "--manifest", manifest, "--dry-run")
    assert planned["steps"][1]["status"] == "check"
    shutil.rmtree(store)  # the store gone, the raw files kept
    converted = run_json("convert", "mnist", "--root", root)
    assert (converted["status"], converted["num_samples"]) == ("built", {"train": 12, "test": 5})
    report = run_json("verify", "mnist", "--root", root, "--manifest", manifest)
    assert report["ok"] and {c["target"] for c in report["checks"]} == {f"raw/{n}" for n in IDX_NAMES} | {"images.zarr"}
    chunk = store / "blocks" / "train" / "b00000" / "images" / "c" / "0" / "0" / "0" / "0"
    data = bytearray(chunk.read_bytes())
    data[len(data) // 2] ^= 1
    chunk.write_bytes(bytes(data))
    code, out, error = invoke("verify", "mnist", "--root", root, "--manifest", manifest)
    assert code != 0 and isinstance(error, StoreSchemaError) and "\n" not in str(error)
    assert "array blocks/train/b00000/images, chunk c/0/0/0/0: fails its CRC-32C checksum" in str(error)
    assert "images.zarr" in out and "problem" in out


def test_integration_options_are_refused(tmp_path: Path) -> None:
    for args in (["--frames", "4"], ["--duration", "10ms"], ["--n-time-bins", "3", "--overlap", "0.5"]):
        code, _, error = invoke("prepare", "mnist", "--root", str(tmp_path), *args)
        assert code != 0 and isinstance(error, ConfigError), error
        message = str(error)
        assert "mnist holds static images" in message and args[0] in message and "encoder" in message
        assert "\n" not in message
    assert not (tmp_path / "mnist").exists()
    code, _, error = invoke("convert", "fashion-mnist", "--root", str(tmp_path), "-o", "test_fraction=0.2")
    assert code != 0 and isinstance(error, ConfigError) and "static images" in str(error)
