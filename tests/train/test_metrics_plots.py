"""Metrics files (CSV/JSONL, rewritten on resume) and the PNG pictures."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from eventpipe.train import plots
from eventpipe.train.metrics import MetricsWriter, flatten, read_jsonl


def _row(epoch: int) -> dict:
    return {"epoch": epoch, "lr": 0.1 / epoch, "train_loss": 1.0 / epoch, "train_accuracy": 0.5 + epoch / 10,
            "test_loss": 1.2 / epoch, "test_accuracy": 0.4 + epoch / 10, "firing_rate": {"sn1": 0.1 * epoch, "sn2": 0.05}}


def test_flatten() -> None:
    assert flatten({"a": 1, "b": {"c": 2, "d": {"e": 3}}}) == {"a": 1, "b/c": 2, "b/d/e": 3}


def test_csv_and_jsonl(tmp_path: Path) -> None:
    w = MetricsWriter(tmp_path, tensorboard=False)
    w.log(_row(1))
    w.log(_row(2))
    w.close()
    rows = list(csv.DictReader((tmp_path / "metrics.csv").open()))
    assert [r["epoch"] for r in rows] == ["1", "2"]
    assert float(rows[1]["firing_rate/sn1"]) == pytest.approx(0.2)
    assert read_jsonl(tmp_path / "metrics.jsonl") == [_row(1), _row(2)]


def test_resume_rewrites_from_history(tmp_path: Path) -> None:
    w = MetricsWriter(tmp_path, tensorboard=False)
    for e in (1, 2, 3):
        w.log(_row(e))
    w.close()
    # the checkpoint being resumed knew only epoch 1: epochs 2 and 3 are dropped, then logging continues
    w = MetricsWriter(tmp_path, history=[_row(1)], tensorboard=False)
    w.log(_row(2))
    w.close()
    assert [r["epoch"] for r in read_jsonl(tmp_path / "metrics.jsonl")] == [1, 2]
    assert len(list(csv.DictReader((tmp_path / "metrics.csv").open()))) == 2


def _is_png(path: Path, min_size: tuple[int, int] = (200, 150)) -> None:
    with Image.open(path) as im:
        assert im.format == "PNG"
        assert im.size[0] >= min_size[0] and im.size[1] >= min_size[1]
        # not a blank canvas
        assert len(set(np.asarray(im.convert("L")).ravel().tolist())) > 2


def test_pictures(tmp_path: Path) -> None:
    history = [_row(e) for e in (1, 2, 3)]
    _is_png(plots.plot_curves(history, tmp_path / "curves.png"))
    cm = np.array([[5, 1, 0], [0, 3, 2], [1, 0, 4]])
    _is_png(plots.plot_confusion(cm, ["a", "b", "c"], tmp_path / "confusion.png"))
    _is_png(plots.plot_firing_rates(history, tmp_path / "rates.png", layer_types={"sn1": "PLIFNode"}))
    rng = np.random.default_rng(0)
    records = {"sn1": rng.random((16, 1000)) < 0.1, "sn2": rng.random((16, 7)) < 0.3}
    _is_png(plots.plot_spike_raster(records, tmp_path / "raster.png", max_neurons=50, title="sample"))


def _green_pixels(path: Path) -> int:
    """Pixels of matplotlib's ``tab:green`` (44, 160, 44), the colour of the best-epoch marker."""
    with Image.open(path) as im:
        rgb = np.asarray(im.convert("RGB")).astype(int)
    return int((np.abs(rgb - np.array([44, 160, 44])).sum(-1) < 30).sum())


def test_curves_mark_the_best_epoch(tmp_path: Path) -> None:
    history = [_row(e) for e in (1, 2, 3)]
    assert _green_pixels(plots.plot_curves(history, tmp_path / "best.png", best_epoch=2)) > 100
    assert _green_pixels(plots.plot_curves(history, tmp_path / "auto.png")) > 100  # from history
    assert _green_pixels(plots.plot_curves(history, tmp_path / "none.png", best_epoch=7)) == 0  # not in history


def test_firing_rate_bars_take_their_layers_line_colours(tmp_path: Path) -> None:
    """Each layer's bar (left panel) has the colour of its line (right panel): tab:blue and tab:orange."""
    path = plots.plot_firing_rates([_row(e) for e in (1, 2)], tmp_path / "rates.png", layer_types={"3": "IFNode"})
    with Image.open(path) as im:
        rgb = np.asarray(im.convert("RGB")).astype(int)
    left = rgb[:, : rgb.shape[1] // 2]
    for colour in ((31, 119, 180), (255, 127, 14)):
        assert (np.abs(left - np.array(colour)).sum(-1) < 30).sum() > 1000, colour


def test_subsample_neurons_is_even_and_bounded() -> None:
    spikes = np.arange(2 * 101).reshape(2, 101)
    idx, sub = plots.subsample_neurons(spikes, 11)
    assert idx.tolist() == list(range(0, 101, 10))
    assert np.array_equal(sub, spikes[:, idx])
    idx, sub = plots.subsample_neurons(spikes[:, :5], 11)
    assert idx.tolist() == [0, 1, 2, 3, 4]


def test_tensorboard_scalars_when_installed(tmp_path: Path) -> None:
    pytest.importorskip("tensorboard")
    w = MetricsWriter(tmp_path)
    w.log(_row(1))
    w.close()
    assert any((tmp_path / "tensorboard").glob("events.out.tfevents.*"))


def test_csv_grows_columns_of_later_rows(tmp_path: Path) -> None:
    # a history row from before NeuroBench's metrics, then a row with them: the CSV gets the new columns
    w = MetricsWriter(tmp_path, history=[_row(1)], tensorboard=False)
    w.log({**_row(2), "test_top5_accuracy": 0.9,
           "neurobench": {"activation_sparsity": 0.8, "synaptic_operations": {"dense": 12.0}}})
    w.close()
    rows = list(csv.DictReader((tmp_path / "metrics.csv").open()))
    assert [r["epoch"] for r in rows] == ["1", "2"]
    assert rows[0]["neurobench/synaptic_operations/dense"] == ""
    assert float(rows[1]["neurobench/synaptic_operations/dense"]) == 12.0
    assert float(rows[1]["neurobench/activation_sparsity"]) == 0.8
    assert read_jsonl(tmp_path / "metrics.jsonl")[1]["neurobench"]["synaptic_operations"] == {"dense": 12.0}
