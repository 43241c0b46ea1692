"""The ported programs of ``docs/porting_from_spikingjelly.md``, executed from the guide's own code blocks.

Each program is the ```` ```python ```` block whose first line is ``# porting example: NAME``; the test runs
that text, so the guide cannot drift from what is tested.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import torch

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "porting_from_spikingjelly.md"
_BLOCK = re.compile(r"```python\n# porting example: (?P<name>[\w-]+)\n(?P<code>.*?)```", re.DOTALL)


def _examples() -> dict[str, str]:
    return {m["name"]: m["code"] for m in _BLOCK.finditer(GUIDE.read_text(encoding="utf-8"))}


def _run(name: str, root: Path) -> dict[str, Any]:
    code = _examples()[name]
    namespace: dict[str, Any] = {"__name__": "__main__", "root": str(root)}
    exec(compile(code, f"{GUIDE}:{name}", "exec"), namespace)
    return namespace


def test_guide_has_the_four_programs() -> None:
    assert set(_examples()) == {"fc-lif-poisson", "monitors", "gesture-duration", "custom-neuron"}


def test_fc_lif_classifier_learns_in_a_per_step_loop(tmp_path: Path) -> None:
    ns = _run("fc-lif-poisson", tmp_path)
    losses = ns["losses"]
    assert sum(losses[-4:]) / 4 < 0.8 * sum(losses[:4]) / 4
    assert ns["accuracy"] > 0.3  # 10 classes: chance is 0.1


def test_monitor_walkthrough_records_shapes_and_alpha_changes_gradients(tmp_path: Path) -> None:
    ns = _run("monitors", tmp_path)
    T, N = ns["T"], ns["N"]
    rates, v_seq, grad_out = ns["rates"], ns["v_seq"], ns["grad_out"]
    layers = ["1", "3", "5", "7"]
    assert rates.monitored_layers == v_seq.monitored_layers == grad_out.monitored_layers == layers
    sweeps = len(ns["input_grad_norms"])
    for name in layers:
        assert len(rates[name]) == len(v_seq[name]) == len(grad_out[name]) == sweeps
        assert rates[name][0].shape == (T,)
        assert ((rates[name][0] >= 0) & (rates[name][0] <= 1)).all()
        assert v_seq[name][0].shape == (T, N, 8)
        assert grad_out[name][0].shape == (T, N, 8)
    norms = ns["input_grad_norms"]
    assert all(len(v) == len(layers) for v in norms.values())
    low, mid, high = (torch.tensor(norms[a]) for a in sorted(norms))
    assert not torch.allclose(low, mid) and not torch.allclose(mid, high)


def test_fixed_duration_gesture_run_with_padding_and_custom_integration(tmp_path: Path) -> None:
    ns = _run("gesture-duration", tmp_path)
    recordings, by_duration, custom = ns["recordings"], ns["by_duration"], ns["custom"]
    for events, _ in recordings:
        span = int(events["t"][-1] - events["t"][0])
        assert by_duration(events).shape[0] == max(1, -(-span // 50_000))
        for to_frames in (by_duration, ns["next_event"]):
            assert int(to_frames(events).sum()) == len(events)  # every event in exactly one window
        frames = custom(events)
        assert frames.shape[0] == span // 100_000 + 1
        assert set(frames.unique().tolist()) <= {0.0, 1.0}
    lengths = {x.shape[0] for x, _ in ns["samples"]}
    assert len(lengths) > 1  # the collate had to pad
    losses = ns["losses"]
    assert losses[-1] < losses[0]


def test_custom_neuron_over_latency_steps_equals_lifnode_and_multi_step(tmp_path: Path) -> None:
    ns = _run("custom-neuron", tmp_path)
    outputs, T = ns["outputs"], ns["T"]
    mine = outputs["MyLIF"]
    assert mine.shape == (T, 4, 8) and mine.sum() > 0
    assert mine[0].abs().sum() == 0  # the delay's first step
    assert torch.equal(mine, outputs["LIFNode"])
    assert torch.equal(mine, outputs["multi-step"])


@pytest.mark.parametrize("name", ["fc-lif-poisson", "monitors", "gesture-duration", "custom-neuron"])
def test_programs_use_only_eventpipe(name: str) -> None:
    assert "spikingjelly" not in _examples()[name]
