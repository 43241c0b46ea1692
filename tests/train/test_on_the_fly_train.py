"""``[data] on_the_fly = true``: a run reads events, integrates each batch on the device, and trains
exactly as the run that reads the frames store."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import torch

from eventpipe.errors import ConfigError
from eventpipe.frames import IntegrationSpec
from eventpipe.pipeline.prepare import prepare
from eventpipe.train.checkpoint import load_checkpoint
from eventpipe.train.config import TrainConfig
from eventpipe.train.data import build_data, to_device
from eventpipe.train.ddp import DistContext
from eventpipe.train.loop import train

SPEC = {"duration_us": "150ms"}
"""Variable T per sample: the batches are padded and masked."""
FILTERED = {"events_per_frame": 400, "filters": [{"name": "refractory_period", "period": 2000}]}
"""A spec with a pre-integration filter, which the on-the-fly datasets run per sample."""


@pytest.fixture(scope="module")
def demo_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("demo_root")
    prepare("demo", root, IntegrationSpec(duration_us=150_000), scheduler="synchronous", progress=False)
    return root


def _config(root: Path, out: Path, on_the_fly: bool, spec: dict[str, Any] = SPEC) -> TrainConfig:
    data: dict[str, Any] = {"dataset": "demo", **spec, "batch_size": 4, "limit_train": 8, "limit_test": 4,
                            "root": str(root), "on_the_fly": on_the_fly}
    return TrainConfig.from_dict({
        "data": data,
        "model": {"name": "DVSGestureNet", "channels": 4, "blocks": 2, "hidden": 16, "dropout": 0.0},
        "train": {"epochs": 1, "seed": 3, "device": "cpu", "deterministic": True, "output": str(out),
                  "plots": False},
    })


@pytest.mark.parametrize("spec", [SPEC, FILTERED])
def test_batches_equal_the_frames_store(demo_root: Path, tmp_path: Path, spec: dict[str, Any]) -> None:
    stored = build_data(_config(demo_root, tmp_path, False, spec), DistContext(), progress=False, workers=1)
    fly = build_data(_config(demo_root, tmp_path, True, spec), DistContext(), progress=False)
    assert fly.train.spec is None and len(fly.train) == len(stored.train)
    cpu, padded = torch.device("cpu"), False
    for split in ("train", "test"):
        a, b = getattr(stored, split), getattr(fly, split)
        idx = list(range(len(a)))
        for start in range(0, len(idx), 5):
            want = to_device(stored.collate([a[i] for i in idx[start:start + 5]]), cpu, stored.transform)
            got = to_device(fly.collate([b[i] for i in idx[start:start + 5]]), cpu, fly.transform, 7)
            assert all(torch.equal(g, w) for g, w in zip(got, want, strict=True))
            padded |= not bool(want[2].all())
    assert padded  # the samples' frame counts differ: the padding and the mask are compared too


def test_one_epoch_trains_the_same_model(demo_root: Path, tmp_path: Path) -> None:
    runs = {}
    for on_the_fly in (False, True):
        out = tmp_path / str(on_the_fly)
        result = train(_config(demo_root, out, on_the_fly), progress=False, log=lambda _m: None)
        runs[on_the_fly] = (result.history, load_checkpoint(out)["model"])
    (h0, m0), (h1, m1) = runs[False], runs[True]
    assert [r["train_loss"] for r in h0] == [r["train_loss"] for r in h1]
    assert [r["test_accuracy"] for r in h0] == [r["test_accuracy"] for r in h1]
    assert m0.keys() == m1.keys() and all(torch.equal(m0[k], m1[k]) for k in m0)


@pytest.mark.parametrize(("data", "match"), [
    ({"voxel_grid": 4, "on_the_fly": True}, "count modes"),
    ({"encoder": "poisson", "steps": 4, "on_the_fly": True}, "not with an encoder"),
    ({"frames": 4, "on_the_fly": "yes"}, "true or false"),
    ({"duration_us": 1000, "duration_rule": "next-event", "on_the_fly": True}, "aligned"),
])
def test_bad_on_the_fly_names_the_key(data: dict[str, Any], match: str) -> None:
    with pytest.raises(ConfigError, match=match) as info:
        TrainConfig.from_dict({"data": {"dataset": "demo", **data}, "model": {"name": "DVSGestureNet"}})
    assert "on_the_fly" in str(info.value)


def test_table_round_trip() -> None:
    cfg = TrainConfig.from_dict({"data": {"dataset": "demo", "frames": 4, "on_the_fly": True},
                                 "model": {"name": "DVSGestureNet"}})
    table = cfg.data.to_table()
    assert table["on_the_fly"] is True
    off = TrainConfig.from_dict({"data": {"dataset": "demo", "frames": 4}, "model": {"name": "DVSGestureNet"}})
    assert "on_the_fly" not in off.data.to_table()
