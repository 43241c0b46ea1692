"""Static image datasets end to end on small files in their real formats: manifests, a verified download
over real HTTP into the archive layout the manifest describes, conversion into the images store,
damage, the torch classes and their encoders."""

from __future__ import annotations

import gzip
import hashlib
import io
import pickle
import struct
import tarfile
import threading
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest
import torch

from eventpipe.datasets.static import (
    CIFAR10,
    MNIST,
    DemoStatic,
    FashionMNIST,
    StaticImageDataset,
    build_images_store,
    convert_images,
)
from eventpipe.errors import ConfigError, DataNotFoundError, FormatError, StoreCorruptError
from eventpipe.loading.encode import ENCODERS, make_encoder
from eventpipe.manifests import load_manifest
from eventpipe.sources import get_dataset
from eventpipe.sources.catalogue import catalogue
from eventpipe.synth.digits import draw_digits

RNG = np.random.default_rng(11)
IDX_NAMES = {"train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
             "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")}


def idx_file(path: Path, array: np.ndarray) -> None:
    magic = 0x00000800 | array.ndim
    header = struct.pack(">I", magic) + struct.pack(f">{array.ndim}I", *array.shape)
    path.write_bytes(gzip.compress(header + array.astype(np.uint8).tobytes()))


def fake_idx_raw(raw: Path, n: dict[str, int]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    raw.mkdir(parents=True, exist_ok=True)
    data = {}
    for split, (images_name, labels_name) in IDX_NAMES.items():
        images = RNG.integers(0, 256, (n[split], 28, 28), dtype=np.uint8)
        labels = RNG.integers(0, 10, n[split])
        idx_file(raw / images_name, images)
        idx_file(raw / labels_name, labels)
        data[split] = (images, labels)
    return data


def cifar_archive(n_per_batch: int) -> tuple[bytes, dict[str, tuple[np.ndarray, np.ndarray]]]:
    """``cifar-10-binary.tar.gz`` as the CIFAR page serves it: ``cifar-10-batches-bin/`` with 6 batch files."""
    buf = io.BytesIO()
    found: dict[str, list[tuple[np.ndarray, np.ndarray]]] = {"train": [], "test": []}
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        names = [f"data_batch_{i}.bin" for i in range(1, 6)] + ["test_batch.bin", "batches.meta.txt"]
        for name in names:
            if name.endswith(".txt"):
                body = b"airplane\nautomobile\n"
            else:
                labels = RNG.integers(0, 10, n_per_batch)
                pixels = RNG.integers(0, 256, (n_per_batch, 3072), dtype=np.uint8)
                body = b"".join(bytes([int(y)]) + p.tobytes() for y, p in zip(labels, pixels, strict=True))
                found["test" if name.startswith("test") else "train"].append((pixels.reshape(-1, 3, 32, 32), labels))
            info = tarfile.TarInfo(f"cifar-10-batches-bin/{name}")
            info.size = len(body)
            tar.addfile(info, io.BytesIO(body))
    data = {s: (np.concatenate([p[0] for p in v]), np.concatenate([p[1] for p in v])) for s, v in found.items()}
    return buf.getvalue(), data


@pytest.fixture
def http_folder(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    folder = tmp_path / "served"
    folder.mkdir()
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(SimpleHTTPRequestHandler, directory=str(folder)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield folder, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_manifests_publish_urls_mirrors_sizes_and_checksums() -> None:
    mnist = load_manifest("mnist")
    assert [f.name for f in mnist.files] == [n for pair in IDX_NAMES.values() for n in pair]
    train = mnist.file("train-images-idx3-ubyte.gz")
    assert train.checksums == {"md5": "f68b3c2dcbeaaa9fbdd348bbdeb94873"} and train.size == 9_912_422
    assert len(train.urls) == 3 and not train.extract  # read gzipped, never unpacked
    fashion = load_manifest("fashion-mnist").file("t10k-labels-idx1-ubyte.gz")
    assert fashion.checksums == {"md5": "bb300cfdad3c16e7a12a480ee83cd310"} and fashion.size == 5148
    assert len(fashion.urls) == 2
    cifar = load_manifest("cifar-10").file("cifar-10-binary.tar.gz")
    assert cifar.checksums == {"md5": "c32a1d4ab5d03f1284b67883e8d87530"} and cifar.size == 170_052_171
    assert cifar.extract and cifar.provides == ("cifar-10-batches-bin",) and len(cifar.urls) == 2
    assert load_manifest("demo-static").generator == "eventpipe.synth.digits:write_demo_static_raw"
    rows = {r["name"]: r for r in catalogue(Path("/nonexistent"))}
    assert rows["mnist"]["size"] == "11.6 MB" and rows["cifar10"]["sensor"] == "32x32x3"


def test_mnist_and_fashion_convert_into_images_stores(tmp_path: Path) -> None:
    for name, cls in (("mnist", MNIST), ("fashion-mnist", FashionMNIST)):
        data = fake_idx_raw(get_dataset(name).raw_dir(tmp_path), {"train": 30, "test": 12})
        result = convert_images(name, tmp_path)
        assert (result.status, result.num_samples) == ("built", {"train": 30, "test": 12})
        assert convert_images(name, tmp_path).status == "up-to-date"
        test = cls(tmp_path, split="test")
        image, label = test[3]
        assert image.shape == (1, 28, 28) and image.dtype == torch.float32
        assert torch.equal(image[0], torch.from_numpy(data["test"][0][3]).float() / 255) and label == data["test"][1][3]
        assert test.classes == get_dataset(name).classes and len(cls(tmp_path)) == 30
    rows = {r["name"]: r for r in catalogue(tmp_path)}
    assert (rows["mnist"]["store"], rows["fashion-mnist"]["raw"], rows["cifar10"]["store"]) == ("converted", True, "-")


def test_cifar10_downloads_verified_unpacks_and_converts(tmp_path: Path, http_folder: tuple[Path, str]) -> None:
    folder, url = http_folder
    archive, data = cifar_archive(n_per_batch=4)
    (folder / "cifar-10-binary.tar.gz").write_bytes(archive)
    manifest = tmp_path / "cifar10.toml"
    manifest.write_text(
        'schema = 1\nname = "cifar10"\ntitle = "t"\nhomepage = "https://example.org"\nlicense = "l"\ncitation = "c"\n'
        f'[[files]]\nname = "cifar-10-binary.tar.gz"\nsize = {len(archive)}\n'
        f'md5 = "{hashlib.md5(archive).hexdigest()}"\nurls = ["{url}/cifar-10-binary.tar.gz"]\n'
        'provides = ["cifar-10-batches-bin"]\n')
    root = tmp_path / "root"
    with pytest.raises(DataNotFoundError, match=r"no complete images store .* eventpipe prepare cifar10 --root"):
        CIFAR10(root, split="train")
    result = build_images_store("cifar10", root, manifest=manifest, progress=False)
    assert result.num_samples == {"train": 20, "test": 4}
    assert (root / "cifar10" / "raw" / "cifar-10-batches-bin" / "test_batch.bin").is_file()
    train = CIFAR10(root, split="train")
    assert np.array_equal(train.images(), data["train"][0]) and np.array_equal(train.labels, data["train"][1])
    image, _ = train[19]
    assert image.shape == (3, 32, 32) and float(image.max()) <= 1.0


def test_damage_is_a_store_corrupt_error(tmp_path: Path) -> None:
    fake_idx_raw(get_dataset("mnist").raw_dir(tmp_path), {"train": 10, "test": 5})
    store = Path(convert_images("mnist", tmp_path).store)
    chunk = next(p for p in (store / "blocks" / "test").rglob("c/*/*/*/*") if p.is_file())
    chunk.write_bytes(chunk.read_bytes()[:-3] + b"\x00\x00\x00")
    with pytest.raises(StoreCorruptError, match="fails its CRC-32C checksum") as exc:
        MNIST(tmp_path, split="test")[0]
    assert "\n" not in str(exc.value) and "b00000/images" in str(exc.value)


def test_bad_raw_file_names_it(tmp_path: Path) -> None:
    raw = get_dataset("mnist").raw_dir(tmp_path)
    fake_idx_raw(raw, {"train": 10, "test": 5})
    idx_file(raw / "t10k-labels-idx1-ubyte.gz", np.arange(4))  # 4 labels for 5 images
    with pytest.raises(FormatError, match="t10k-labels-idx1-ubyte.gz: 4 labels for the 5 images of"):
        convert_images("mnist", tmp_path)
    (raw / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(DataNotFoundError, match="no folder under .* holds train-images-idx3-ubyte.gz"):
        convert_images("mnist", tmp_path)


def test_demo_static_is_generated_locally_and_prepared_on_demand(tmp_path: Path) -> None:
    test = DemoStatic(tmp_path, split="test", prepare=True, progress=False)
    train = DemoStatic(tmp_path, split="train")
    assert (len(train), len(test)) == (6000, 1000)
    assert np.bincount(test.labels, minlength=10).tolist() == [100] * 10
    labels = np.arange(20) % 10
    assert np.array_equal(draw_digits(labels, np.random.default_rng(1)), draw_digits(labels, np.random.default_rng(1)))


@pytest.mark.parametrize("encoder", ENCODERS)
def test_encoders_on_the_fly(tmp_path: Path, encoder: str) -> None:
    fake_idx_raw(get_dataset("mnist").raw_dir(tmp_path), {"train": 6, "test": 2})
    convert_images("mnist", tmp_path)
    plain = MNIST(tmp_path, split="train")
    encoded = MNIST(tmp_path, split="train", encoder=make_encoder(encoder, 16))
    x, y = encoded[2]
    image, label = plain[2]
    assert x.shape == (16, 1, 28, 28) and y == label
    if encoder == "repeat":
        assert torch.equal(x[5], image)
    elif encoder == "latency":
        assert torch.equal(x.sum(0), torch.ones_like(image))
    elif encoder == "weighted_phase":
        error = image - x[:8].sum(0)  # the pixel's binary digits after the 8th are dropped
        assert bool(((error >= 0) & (error <= 2 ** -8 + 1e-6)).all()) and torch.equal(x[:8], x[8:])
        assert set(x[3].unique().tolist()) <= {0.0, 2 ** -4}
    else:
        torch.manual_seed(0)
        a = encoded[2][0]
        torch.manual_seed(0)
        assert torch.equal(a, encoded[2][0]) and set(a.unique().tolist()) <= {0.0, 1.0}


def test_event_datasets_are_not_static(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="nmnist is an event dataset"):
        StaticImageDataset(tmp_path, dataset="nmnist")
    with pytest.raises(ConfigError, match=r"mnist holds static images, not events: .*eventpipe prepare mnist"):
        get_dataset("mnist").plan(tmp_path, {})
    with pytest.raises(ConfigError, match="Unknown value 'rate' for argument encoder"):
        make_encoder("rate", 8)
    with pytest.raises(ConfigError, match="whole number of periods of 8 phases"):
        make_encoder("weighted_phase", 12)


def test_dataloader_workers_read_the_same_items(tmp_path: Path) -> None:
    from torch.utils.data import DataLoader

    fake_idx_raw(get_dataset("mnist").raw_dir(tmp_path), {"train": 8, "test": 2})
    convert_images("mnist", tmp_path)
    dataset = MNIST(tmp_path, encoder=make_encoder("repeat", 3))
    dataset.images()  # loaded here: workers get the paths, not the array
    assert pickle.loads(pickle.dumps(dataset))._images is None
    batches = list(DataLoader(dataset, batch_size=4, num_workers=2))
    assert torch.equal(torch.cat([x for x, _ in batches]), torch.stack([dataset[i][0] for i in range(8)]))
    assert torch.cat([y for _, y in batches]).tolist() == dataset.labels.tolist()
