from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from fake_raw import write_gesture_tree
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from eventpipe.cli.main import app
from eventpipe.errors import ConfigError, UnknownNameError
from eventpipe.sources import DATASETS, dataset_names, get_dataset, register_dataset
from eventpipe.sources.catalogue import catalogue, human_bytes
from eventpipe.sources.splits import hash_split

BUILTINS = ["demo", "dvs128", "nmnist", "ncaltech101", "cifar10dvs", "shd", "asl-dvs", "dvs-lip"]


def test_builtins_and_aliases() -> None:
    assert dataset_names()[:8] == BUILTINS
    for alias, name in [("dvs128_gesture", "dvs128"), ("n-mnist", "nmnist"), ("asl_dvs", "asl-dvs"),
                        ("cifar10-dvs", "cifar10dvs"), ("synthetic", "demo"), ("dvslip", "dvs-lip")]:
        assert get_dataset(alias).name == name
    with pytest.raises(UnknownNameError, match=r"Unknown dataset 'emnist'. Valid values are \{'asl-dvs', "):
        get_dataset("emnist")
    for name in BUILTINS:
        spec = get_dataset(name)
        assert spec.citation and spec.license and len(set(spec.classes)) == len(spec.classes)
        assert spec.options() == dict(spec.defaults)


def test_registering_twice_is_an_error() -> None:
    with pytest.raises(ConfigError, match="already registered"):
        register_dataset(replace(get_dataset("demo"), aliases=()))


def test_import_is_light() -> None:
    code = ("import sys, eventpipe.sources as d; d.get_dataset('dvs128');"
            "print([m for m in ('dask', 'distributed', 'zarr', 'torch', 'typer', 'cupy', 'h5py') if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_torch_classes_read_stores_and_build_on_demand() -> None:
    import eventpipe.datasets as d
    from eventpipe.loading import StoreDataset

    for name in ("DVS128Gesture", "NMNIST", "CIFAR10DVS", "NCaltech101", "SHD", "ASLDVS", "DVSLip", "Demo"):
        assert name in d.__all__ and issubclass(getattr(d, name), d.NeuromorphicDataset)
    assert issubclass(d.NeuromorphicDataset, StoreDataset)


@given(st.lists(st.text(min_size=1, max_size=8), unique=True, max_size=40), st.sampled_from([0.0, 0.1, 0.25, 0.5]))
def test_hash_split_is_exact_and_order_free(names: list[str], fraction: float) -> None:
    mask = hash_split(names, fraction, "salt")
    assert mask.sum() == round(fraction * len(names))
    shuffled = list(reversed(names))
    again = dict(zip(shuffled, hash_split(shuffled, fraction, "salt"), strict=True))
    assert all(again[n] == m for n, m in zip(names, mask, strict=True))


def test_hash_split_golden() -> None:
    # sha256("demo/a") = 37220eeb..., "demo/b" = d2bf74fc..., "demo/c" = c03d8467..., "demo/d" = e959a437...
    assert hash_split(["a", "b", "c", "d"], 0.5, salt="demo").tolist() == [True, False, True, False]


def test_catalogue_local_status(tmp_path: Path) -> None:
    rows = {r["name"]: r for r in catalogue(tmp_path)}
    assert rows["dvs128"]["raw"] is False and rows["dvs128"]["store"] == "-"
    assert rows["cifar10dvs"]["size"] == "8.4 GB"  # sum of the manifest's sizes
    write_gesture_tree(get_dataset("dvs128").raw_dir(tmp_path))
    store = get_dataset("dvs128").events_store_path(tmp_path)
    from eventpipe.store.location import open_group

    open_group(str(store), "w")
    rows = {r["name"]: r for r in catalogue(tmp_path)}
    assert rows["dvs128"]["raw"] is True and rows["dvs128"]["store"] == "partial"
    assert human_bytes(999) == "999 B" and human_bytes(1_234_567) == "1.2 MB"


def test_cli_datasets_and_info(tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["datasets", "--root", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "dvs128" in result.output and "128x128x2" in result.output and "CC BY 4.0" in result.output
    listed = json.loads(runner.invoke(app, ["datasets", "--root", str(tmp_path), "--json"]).output)
    assert [r["name"] for r in listed["datasets"]][:8] == BUILTINS

    write_gesture_tree(get_dataset("dvs128").raw_dir(tmp_path))
    from eventpipe.pipeline.convert import convert

    convert("dvs128", tmp_path, scheduler="synchronous", progress=False)
    info = json.loads(runner.invoke(app, ["info", "dvs128", "--root", str(tmp_path), "--json"]).output)
    assert info["splits"]["train"]["samples"] == 6 and info["splits"]["test"]["samples"] == 2
    assert info["splits"]["train"]["class_histogram"]["arm_roll"] == 2
    text = runner.invoke(app, ["info", "dvs128", "--root", str(tmp_path)])
    assert text.exit_code == 0 and "events/sample min/median/max" in text.output and "arm_roll" in text.output

    recording = get_dataset("dvs128").raw_dir(tmp_path) / "DvsGesture" / "user01_natural.aedat"
    raw = json.loads(runner.invoke(app, ["info", str(recording), "--json"]).output)
    assert raw["format"] == "aedat3" and raw["events"] == 400 and raw["x_range"][1] < 128
    assert "M events/s" in runner.invoke(app, ["info", str(recording)]).output
    store_path = get_dataset("dvs128").events_store_path(tmp_path)
    assert json.loads(runner.invoke(app, ["info", str(store_path), "--json"]).output)["dataset"] == "dvs128"


def test_cli_info_errors(tmp_path: Path) -> None:
    runner = CliRunner()
    missing = runner.invoke(app, ["info", "nmnist", "--root", str(tmp_path)])
    assert missing.exit_code != 0 and "run `eventpipe convert nmnist` first" in str(missing.exception)
    assert "no such file" in str(runner.invoke(app, ["info", "nope.aedat"]).exception)
    assert "Unknown dataset" in str(runner.invoke(app, ["info", "nope"]).exception)


def test_entry_point_plugins_are_loaded() -> None:
    assert DATASETS.group == "eventpipe.datasets"
    assert np.all([isinstance(get_dataset(n).classes, tuple) for n in dataset_names()])
