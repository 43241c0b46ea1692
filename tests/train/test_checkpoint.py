"""Checkpoints: safe loading, random-state round trip, atomic writes, clear errors."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest
import torch

from eventpipe.errors import DataNotFoundError, StoreSchemaError
from eventpipe.train.checkpoint import (
    load_checkpoint,
    new_checkpoint,
    resolve_checkpoint,
    rng_state,
    save_checkpoint,
    set_rng_state,
)


def _draws() -> tuple[float, float, float]:
    return random.random(), float(np.random.rand()), float(torch.rand(()))


def test_rng_round_trip_through_a_weights_only_file(tmp_path: Path) -> None:
    random.seed(1)
    np.random.seed(2)
    np.random.randn()  # leaves a cached gaussian in NumPy's legacy state
    torch.manual_seed(3)
    path = save_checkpoint(tmp_path / "c.pt", new_checkpoint(rng=rng_state()))
    expected = _draws()
    _draws()
    set_rng_state(load_checkpoint(path)["rng"])
    assert _draws() == expected


def test_model_and_optimizer_state_survive(tmp_path: Path) -> None:
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4))
    opt = torch.optim.Adam(model.parameters(), lr=0.1)
    model(torch.randn(5, 3)).sum().backward()
    opt.step()
    ck = new_checkpoint(model=model.state_dict(), optimizer=opt.state_dict(), config={"a": {"b": [1, 2.5, "x"]}},
                        history=[{"epoch": 1, "firing_rate": {"sn1": 0.1}}], epoch=1)
    save_checkpoint(tmp_path / "run" / "checkpoints" / "latest.pt", ck)
    loaded = load_checkpoint(tmp_path / "run")  # a run folder resolves to checkpoints/latest.pt
    assert loaded["path"].endswith("latest.pt")
    assert loaded["format_version"] == 1 and loaded["eventpipe_version"]
    assert loaded["config"] == {"a": {"b": [1, 2.5, "x"]}}
    model2 = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4))
    model2.load_state_dict(loaded["model"])
    for a, b in zip(model.state_dict().values(), model2.state_dict().values(), strict=True):
        assert torch.equal(a, b)
    opt2 = torch.optim.Adam(model2.parameters(), lr=0.1)
    opt2.load_state_dict(loaded["optimizer"])
    assert opt2.state_dict()["state"][0]["step"] == opt.state_dict()["state"][0]["step"]


def test_errors(tmp_path: Path) -> None:
    with pytest.raises(DataNotFoundError, match="no checkpoint"):
        resolve_checkpoint(tmp_path / "nothing")
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"not a pickle")
    with pytest.raises(StoreSchemaError, match="not a readable checkpoint"):
        load_checkpoint(bad)
    torch.save({"model": {}}, tmp_path / "foreign.pt")
    with pytest.raises(StoreSchemaError, match="not an eventpipe checkpoint"):
        load_checkpoint(tmp_path / "foreign.pt")
    save_checkpoint(tmp_path / "new.pt", {**new_checkpoint(), "format_version": 99})
    with pytest.raises(StoreSchemaError, match="newer"):
        load_checkpoint(tmp_path / "new.pt")


class Evil:
    """Not on torch's weights-only allow list: loading must refuse it rather than unpickle it."""


def test_arbitrary_objects_are_refused(tmp_path: Path) -> None:
    torch.save(new_checkpoint(obj=Evil()), tmp_path / "evil.pt")
    with pytest.raises(StoreSchemaError, match="not a readable checkpoint"):
        load_checkpoint(tmp_path / "evil.pt")


def test_atomic_write_leaves_no_temporary(tmp_path: Path) -> None:
    save_checkpoint(tmp_path / "a.pt", new_checkpoint(epoch=1))
    save_checkpoint(tmp_path / "a.pt", new_checkpoint(epoch=2))
    assert [p.name for p in tmp_path.iterdir()] == ["a.pt"]
    assert load_checkpoint(tmp_path / "a.pt")["epoch"] == 2
