"""Training pictures (PNG): curves, confusion matrix, per-layer firing rates and a spike raster.

Figures are built with :class:`matplotlib.figure.Figure` directly (no pyplot state, no display
needed), so plotting works on headless machines and inside training processes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.ticker import MaxNLocator


def _figure(width: float, height: float) -> Any:
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=100, layout="constrained")


def _save(fig: Any, path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, format="png")
    return path


def plot_curves(history: Sequence[Mapping[str, Any]], path: str | Path, *, best_epoch: int | None = None) -> Path:
    """Loss and accuracy per epoch, train and test, side by side.

    ``best_epoch`` (default: the epoch of the highest test accuracy) is marked on both panels: it is the
    epoch saved as ``best.pt``.
    """
    fig = _figure(10, 4)
    ax_loss, ax_acc = fig.subplots(1, 2)
    epochs = [int(r["epoch"]) for r in history]
    if best_epoch is None:
        scored = [r for r in history if r.get("test_accuracy") is not None]
        best_epoch = int(max(scored, key=lambda r: float(r["test_accuracy"]))["epoch"]) if scored else None
    for ax, metric in ((ax_loss, "loss"), (ax_acc, "accuracy")):
        for split in ("train", "test"):
            key = f"{split}_{metric}"
            values = [float(r[key]) if r.get(key) is not None else np.nan for r in history]
            ax.plot(epochs, values, marker="o", markersize=3, label=split)
        if best_epoch is not None and best_epoch in epochs:
            ax.axvline(best_epoch, color="tab:green", linestyle="--", linewidth=1,
                       label=f"best.pt (epoch {best_epoch})")
        ax.set_xlabel("epoch")
        ax.set_ylabel(f"{metric} (mean over samples)" if metric == "loss" else "accuracy (fraction correct)")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_title(metric)
        ax.grid(alpha=0.3)
        ax.legend()
    ax_acc.set_ylim(0.0, 1.02)
    return _save(fig, path)


def plot_confusion(confusion: np.ndarray, classes: Sequence[str], path: str | Path, *,
                   title: str = "confusion matrix (test)") -> Path:
    """Confusion matrix (rows: true class, columns: predicted), colour by row-normalised rate, counts written."""
    cm = np.asarray(confusion, dtype=np.int64)
    k = cm.shape[0]
    rates = cm / np.maximum(cm.sum(1, keepdims=True), 1)
    size = max(4.0, 0.5 * k + 2.0)
    fig = _figure(size + 1.0, size)
    ax = fig.subplots()
    im = ax.imshow(rates, vmin=0.0, vmax=1.0, cmap="Blues")
    fig.colorbar(im, ax=ax, fraction=0.046, label="fraction of true class")
    names = list(classes) if len(classes) == k else [str(i) for i in range(k)]
    ax.set_xticks(range(k), names, rotation=60, ha="right", fontsize=8)
    ax.set_yticks(range(k), names, fontsize=8)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    if k <= 30:
        for i in range(k):
            for j in range(k):
                if cm[i, j]:
                    colour = "white" if rates[i, j] > 0.5 else "black"
                    ax.text(j, i, str(cm[i, j]), ha="center", va="center", fontsize=7, color=colour)
    accuracy = np.trace(cm) / max(cm.sum(), 1)
    ax.set_title(f"{title}\naccuracy {accuracy:.3f}", fontsize=10)
    return _save(fig, path)


def plot_firing_rates(history: Sequence[Mapping[str, Any]], path: str | Path, *,
                      layer_types: Mapping[str, str] | None = None) -> Path:
    """Mean firing rate of every spiking layer: the last epoch as bars, and its course over epochs.

    ``layer_types`` maps a layer name to its module's class name, shown next to the name
    (``features.2 (PLIFNode)``), since a bare position in the network says little. Each layer has one
    colour in both panels, so a bar and its line read together.
    """
    rows = [r for r in history if r.get("firing_rate")]
    types = layer_types or {}

    def label(name: str) -> str:
        shown = f"layer {name}" if name.replace(".", "").isdigit() else name  # "3" of a Sequential
        return f"{shown} ({types[name]})" if name in types else shown

    fig = _figure(11, 4)
    ax_bar, ax_line = fig.subplots(1, 2)
    if rows:
        layers = list(rows[-1]["firing_rate"])
        last = [float(rows[-1]["firing_rate"][name]) for name in layers]
        colours = [f"C{i % 10}" for i in range(len(layers))]
        ax_bar.barh(range(len(layers)), last, color=colours)
        ax_bar.set_yticks(range(len(layers)), [label(name) for name in layers], fontsize=8)
        ax_bar.invert_yaxis()
        epochs = [int(r["epoch"]) for r in rows]
        for name, colour in zip(layers, colours, strict=True):
            ax_line.plot(epochs, [float(r["firing_rate"].get(name, np.nan)) for r in rows], marker="o",
                         markersize=3, label=label(name), color=colour)
        if len(layers) <= 12:
            ax_line.legend(fontsize=7)
    ax_bar.set_xlabel("spikes per neuron per step")
    ax_bar.set_title(f"firing rate per layer (test, epoch {rows[-1]['epoch']})" if rows else "no spiking layers")
    ax_line.set_title("firing rate per layer over epochs (test)")
    ax_line.set_xlabel("epoch")
    ax_line.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax_line.set_ylabel("spikes per neuron per step")
    ax_line.grid(alpha=0.3)
    return _save(fig, path)


def subsample_neurons(spikes: np.ndarray, max_neurons: int) -> tuple[np.ndarray, np.ndarray]:
    """Evenly spaced neuron columns of ``spikes [T, neurons]``: (their indices, ``[T, k]``)."""
    n = spikes.shape[1]
    idx = np.unique(np.linspace(0, n - 1, num=min(n, max_neurons)).round().astype(np.int64)) if n else np.zeros(0, np.int64)
    return idx, spikes[:, idx]


def plot_spike_raster(records: Mapping[str, np.ndarray], path: str | Path, *, max_neurons: int = 128,
                      title: str = "") -> Path:
    """One raster per spiking layer: time step on x, (evenly subsampled) neuron on y, a dot per spike.

    ``records`` maps a layer name to its spikes for one sample, ``[T, neurons]`` (any numeric or bool dtype).
    """
    n = max(len(records), 1)
    fig = _figure(9, 1.9 * n + 0.6)
    axes = np.atleast_1d(fig.subplots(n, 1, sharex=True, squeeze=False)[:, 0])
    for ax, (name, spikes) in zip(axes, records.items(), strict=False):
        s = np.asarray(spikes).reshape(spikes.shape[0], -1)
        idx, sub = subsample_neurons(s, max_neurons)
        ax.imshow((sub != 0).T, aspect="auto", cmap="Greys", vmin=0, vmax=1, interpolation="nearest",
                  origin="lower", extent=(-0.5, s.shape[0] - 0.5, -0.5, max(len(idx), 1) - 0.5))
        rate = float(s.astype(np.float64).mean()) if s.size else 0.0
        ax.set_title(f"{name}: {s.shape[1]} neurons ({len(idx)} shown), rate {rate:.3f}", fontsize=9, loc="left")
        ax.set_ylabel("neuron")
    axes[-1].set_xlabel("time step")
    axes[-1].xaxis.set_major_locator(MaxNLocator(integer=True))
    if title:
        fig.suptitle(title)
    return _save(fig, path)
