"""Pictures of samples: frames as an animated GIF or a PNG grid, events as an x-y-t scatter.

ON and OFF counts are drawn in two colours (:data:`ON_COLOUR`, :data:`OFF_COLOUR`) on black, with
brightness proportional to the count up to ``vmax`` (by default the 99th percentile of the non-zero
counts of the whole sample, so one hot pixel does not darken everything). Where both polarities
fire, the colours add. Intensities are quantised to :data:`LEVELS` steps so that GIFs keep the exact
colours in their 256-entry palette. Frames of a 1-pixel-high sensor (SHD's 700 channels) are drawn
as one raster image: time down, channel across.

Float representations (voxel grids, time surfaces, exponentially decayed frames, Bina-Rep) are not
counts: they are drawn with a colour scale instead (:func:`save_values_grid`, :func:`save_values_gif`),
a diverging map centred on 0 when the frames hold negative values (a voxel grid's signed
polarities), a sequential one from 0 otherwise, each channel in its own panel.

Matplotlib is used through :class:`matplotlib.figure.Figure` (Agg, no pyplot state), so this runs
on headless machines.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from eventpipe.errors import ConfigError
from eventpipe.events import SensorSize

__all__ = [
    "LEVELS",
    "OFF_COLOUR",
    "ON_COLOUR",
    "frames_to_rgb",
    "render_sample",
    "save_events_scatter",
    "save_frames_gif",
    "save_frames_grid",
    "save_values_gif",
    "save_values_grid",
]

ON_COLOUR = (60, 220, 90)
"""RGB of a saturated ON pixel (brightness increase)."""
OFF_COLOUR = (235, 60, 60)
"""RGB of a saturated OFF pixel (brightness decrease)."""
LEVELS = 15
"""Intensity steps per polarity (0 = no event, ``LEVELS - 1`` = at least ``vmax`` events)."""
_TEXT = LEVELS * LEVELS  # palette index of the title colour
_TEXT_COLOUR = (255, 255, 255)
_FONT_PX = 11
_TARGET_SIDE_PX = 320
DIVERGING = "RdBu_r"
"""Colour map of frames with negative values (centred on 0)."""
SEQUENTIAL = "viridis"
"""Colour map of non-negative float frames."""
_VALUE_LEVELS = 224
"""Palette entries of the colour scale in a GIF (the rest: black and the title colour)."""


def _as_frames(frames: Any) -> np.ndarray:
    arr = frames.detach().cpu().numpy() if hasattr(frames, "detach") else np.asarray(frames)
    if arr.ndim == 3:  # [T, H, W]: a single polarity
        arr = arr[:, None]
    if arr.ndim != 4 or arr.shape[1] not in (1, 2):
        raise ConfigError(f"Expected frames [T, P, H, W] with P in {{1, 2}}. Got shape {arr.shape} instead.")
    if arr.shape[2] == 1:  # 1-D sensor: one raster image, time down, channel across
        arr = arr[:, :, 0].transpose(1, 0, 2)[None]
    return arr


def _levels(frames: np.ndarray, vmax: float | None) -> np.ndarray:
    """Quantised intensities ``[T, P, H, W]`` in ``0 .. LEVELS - 1``."""
    data = np.abs(frames.astype(np.float64))
    if vmax is None:
        nz = data[data > 0]
        vmax = float(np.percentile(nz, 99)) if nz.size else 1.0
    if vmax <= 0:
        raise ConfigError(f"Expected vmax > 0. Got {vmax} instead.")
    return np.rint(np.clip(data / vmax, 0.0, 1.0) * (LEVELS - 1)).astype(np.int64)


def _palette() -> np.ndarray:
    """RGB of every (on level, off level) pair, index ``on * LEVELS + off``, then the title colour."""
    lv = np.arange(LEVELS) / (LEVELS - 1)
    on = lv[:, None, None] * np.array(ON_COLOUR)
    off = lv[None, :, None] * np.array(OFF_COLOUR)
    rgb = np.clip(np.rint(on + off), 0, 255).astype(np.uint8).reshape(-1, 3)
    return np.concatenate([rgb, np.array([_TEXT_COLOUR], dtype=np.uint8)])


def _indices(frames: np.ndarray, vmax: float | None) -> np.ndarray:
    """Palette indices ``[T, H, W]``: ON is channel 1 (channel 0 when there is one polarity)."""
    lv = _levels(frames, vmax)
    if lv.shape[1] == 1:
        return lv[:, 0] * LEVELS
    return lv[:, 1] * LEVELS + lv[:, 0]


def frames_to_rgb(frames: Any, vmax: float | None = None) -> np.ndarray:
    """Colour frames ``[T, P, H, W]`` (counts) as ``uint8 [T, H, W, 3]`` images (ON and OFF colours)."""
    return _palette()[_indices(_as_frames(frames), vmax)]


def _scale(height: int, width: int, scale: int | None) -> int:
    if scale is None:
        return max(1, min(8, math.ceil(_TARGET_SIDE_PX / max(height, width))))
    if int(scale) < 1:
        raise ConfigError(f"Expected scale >= 1. Got {scale} instead.")
    return int(scale)


def save_frames_gif(
    frames: Any,
    path: str | Path,
    *,
    title: str = "",
    fps: float = 10.0,
    scale: int | None = None,
    vmax: float | None = None,
) -> Path:
    """Write frames ``[T, P, H, W]`` as a looping animated GIF, one GIF frame per frame.

    Each GIF frame has a black title band above the image: the first line of ``title``, then
    ``frame i/T``, the rest of ``title`` (wrapped to the image's width) and an ON/OFF colour key. The image is enlarged ``scale`` times (nearest
    neighbour; default: the longer side near 320 pixels).
    """
    from PIL import Image, ImageDraw, ImageFont

    if fps <= 0:
        raise ConfigError(f"Expected fps > 0. Got {fps} instead.")
    arr = _as_frames(frames)
    idx = _indices(arr, vmax)
    n, h, w = idx.shape
    if n == 0:
        raise ConfigError("Cannot draw a GIF of zero frames.")
    s = _scale(h, w, scale)
    palette = _palette().reshape(-1).tolist()
    palette += [0] * (768 - len(palette))
    font = ImageFont.load_default(size=_FONT_PX)
    head, _, rest = title.partition("\n")
    rest = " ".join(rest.split("\n"))
    width = w * s
    rest_lines = _wrap(rest, font, width - 4) if rest else []
    lines = [[f"frame {i + 1}/{n}", *rest_lines] for i in range(n)]
    head_lines = _wrap(head, font, width - 4)
    line = _FONT_PX + 3
    band = (len(head_lines) + len(lines[0]) + 1) * line + 4
    images = []
    for i in range(n):
        body = np.repeat(np.repeat(idx[i].astype(np.uint8), s, axis=0), s, axis=1)
        canvas = np.zeros((band + body.shape[0], body.shape[1]), dtype=np.uint8)
        canvas[band:] = body
        im = Image.fromarray(canvas, mode="P")
        im.putpalette(palette)
        draw = ImageDraw.Draw(im)
        draw.fontmode = "1"  # no anti-aliasing: the title uses one palette colour
        for k, text in enumerate(head_lines + lines[i]):
            draw.text((2, 2 + k * line), text, fill=_TEXT, font=font)
        _legend(draw, font, 2 + (len(head_lines) + len(lines[i])) * line, polarities=arr.shape[1])
        images.append(im)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    images[0].save(
        path, format="GIF", save_all=True, append_images=images[1:], duration=round(1000 / fps), loop=0, optimize=False
    )
    return path


def _wrap(text: str, font: Any, width_px: int) -> list[str]:
    """``text`` broken at spaces into lines no wider than ``width_px`` (a longer word gets a line of its own)."""
    lines: list[str] = []
    for word in text.split():
        if lines and font.getlength(f"{lines[-1]} {word}") <= width_px:
            lines[-1] = f"{lines[-1]} {word}"
        else:
            lines.append(word)
    return lines or [""]


def _legend(draw: Any, font: Any, y: int, polarities: int) -> None:
    """Colour swatches naming the polarities: ON and OFF, or ``events`` for a one-polarity sensor."""
    full = LEVELS - 1
    keys = [("ON", full * LEVELS), ("OFF", full)] if polarities == 2 else [("events", full * LEVELS)]
    x = 2
    for label, colour in keys:
        draw.rectangle((x, y + 2, x + _FONT_PX - 2, y + _FONT_PX), fill=colour)
        x += _FONT_PX + 2
        draw.text((x, y), label, fill=_TEXT, font=font)
        x += int(font.getlength(label)) + 10


def _figure_legend(fig: Any, frames: Any) -> None:
    """The ON/OFF colour key under a figure of frames (one entry for a one-polarity sensor)."""
    from matplotlib.patches import Patch

    two = _as_frames(frames).shape[1] == 2
    keys = [("ON", ON_COLOUR), ("OFF", OFF_COLOUR)] if two else [("events", ON_COLOUR)]
    handles = [Patch(color=tuple(c / 255 for c in colour), label=label) for label, colour in keys]
    fig.legend(handles=handles, loc="outside lower center", ncols=len(handles), frameon=False, fontsize=8)


def _figure(width_in: float, height_in: float) -> Any:
    from matplotlib.figure import Figure

    return Figure(figsize=(width_in, height_in), dpi=100, layout="constrained")


def save_frames_grid(
    frames: Any,
    path: str | Path,
    *,
    title: str = "",
    ncols: int | None = None,
    vmax: float | None = None,
) -> Path:
    """Write frames ``[T, P, H, W]`` as a PNG grid, each panel titled with its frame index."""
    rgb = frames_to_rgb(frames, vmax)
    n, h, w, _ = rgb.shape
    if n == 0:
        raise ConfigError("Cannot draw a grid of zero frames.")
    cols = int(ncols) if ncols else min(n, 8)
    rows = math.ceil(n / cols)
    panel = 1.6 if n > 1 else 6.0
    aspect = h / w if n > 1 else min(1.0, max(0.3, h / w))
    fig = _figure(cols * panel, rows * panel * aspect + 0.6)
    axes = np.atleast_1d(fig.subplots(rows, cols, squeeze=False)).reshape(-1)
    for i, ax in enumerate(axes):
        ax.set_axis_off()
        if i < n:
            ax.imshow(rgb[i], interpolation="nearest", aspect="auto" if n == 1 else "equal")
            ax.set_title(f"frame {i + 1}/{n}" if n > 1 else "time (rows) x channel", fontsize=8)
    if title:
        fig.suptitle(title, wrap=True)
    _figure_legend(fig, frames)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, format="png", facecolor="white")
    return path


def save_events_scatter(
    events: np.ndarray,
    path: str | Path,
    sensor_size: SensorSize | Sequence[int],
    *,
    title: str = "",
    max_points: int = 20_000,
    seed: int = 0,
) -> Path:
    """Write events as a 3-D x-y-t scatter PNG (ON and OFF colours); at most ``max_points`` drawn.

    Large samples are thinned by a seeded uniform choice so the picture keeps its density profile.
    """
    size = SensorSize.parse(sensor_size)
    ev = events
    if len(ev) > max_points:
        keep = np.sort(np.random.default_rng(seed).choice(len(ev), max_points, replace=False))
        ev = ev[keep]
    t_ms = (ev["t"] - (ev["t"][0] if len(ev) else 0)) / 1000.0
    colours = np.where((ev["p"] != 0)[:, None], np.array(ON_COLOUR) / 255, np.array(OFF_COLOUR) / 255)
    fig = _figure(7, 6)
    ax = fig.add_subplot(projection="3d")
    ax.scatter(ev["x"], t_ms, ev["y"], c=colours, s=4, marker="s", depthshade=False, linewidths=0)
    ax.set_xlim(0, size.width)
    ax.set_zlim(size.height, 0)
    ax.set_xlabel("x (px)")
    ax.set_ylabel("t (ms)")
    ax.set_zlabel("y (px)")
    ax.set_title(f"{title}\n{len(events)} events" + (f", {max_points} drawn" if len(events) > max_points else ""))
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, format="png", facecolor="white")
    return path


def render_sample(
    sample: Any,
    path: str | Path,
    *,
    sensor_size: SensorSize | Sequence[int],
    title: str = "",
    events_view: str = "auto",
    bins: int = 8,
    fps: float = 10.0,
    scale: int | None = None,
    values: bool = False,
) -> Path:
    """Draw one sample to ``path``; the suffix picks the picture (``.gif`` animation, ``.png`` grid).

    Frames become a GIF or a PNG grid: counts in the ON/OFF colours, float representations
    (``values``, or frames with negative or fractional values) with a colour scale. Events become an x-y-t scatter (``events_view="scatter"``,
    PNG only) or a montage of ``bins`` frames integrated by time (``"montage"``); ``"auto"`` picks the
    scatter for PNG and the montage for GIF.
    """
    path = Path(path)
    kind = path.suffix.lower()
    if kind not in (".gif", ".png"):
        raise ConfigError(f"Unknown picture type {path.suffix!r} of {path}. Valid suffixes are {{'.gif', '.png'}}.")
    if events_view not in ("auto", "scatter", "montage"):
        raise ConfigError(
            f"Unknown value {events_view!r} for argument events_view. Valid values are {{'auto', 'montage', 'scatter'}}."
        )
    is_events = isinstance(sample, np.ndarray) and sample.dtype.names is not None
    if is_events:
        view = events_view if events_view != "auto" else ("scatter" if kind == ".png" else "montage")
        if view == "scatter":
            if kind == ".gif":
                raise ConfigError("The x-y-t scatter is a still picture; write it to a .png file.")
            return save_events_scatter(sample, path, sensor_size, title=title)
        from eventpipe.frames import integrate

        sample = integrate(sample, SensorSize.parse(sensor_size), frames=bins, split_by="time")
        title = f"{title} ({bins} time bins)".strip()
    arr = _as_frames(sample)
    if values or (arr < 0).any() or (arr != np.round(arr)).any():
        if kind == ".gif":
            return save_values_gif(sample, path, title=title, fps=fps, scale=scale)
        return save_values_grid(sample, path, title=title)
    if kind == ".gif":
        return save_frames_gif(sample, path, title=title, fps=fps, scale=scale)
    return save_frames_grid(sample, path, title=title)


def _value_scale(arr: np.ndarray) -> tuple[str, float, float]:
    """The colour map and its ``(vmin, vmax)`` for float frames ``arr``."""
    top = float(np.abs(arr).max()) if arr.size else 0.0
    top = top if top > 0 else 1.0
    return (DIVERGING, -top, top) if (arr < 0).any() else (SEQUENTIAL, 0.0, top)


def _channel_names(channels: int) -> list[str]:
    return ["OFF", "ON"] if channels == 2 else [""]


def save_values_grid(frames: Any, path: str | Path, *, title: str = "", ncols: int | None = None) -> Path:
    """Write float frames ``[T, C, H, W]`` as a PNG grid, one panel per frame and channel, with a colour bar."""
    arr = _as_frames(frames).astype(np.float32)
    n, c = arr.shape[:2]
    if n == 0:
        raise ConfigError("Cannot draw a grid of zero frames.")
    cmap, vmin, vmax = _value_scale(arr)
    panels = n * c
    cols = int(ncols) if ncols else min(panels, 8)
    rows = math.ceil(panels / cols)
    h, w = arr.shape[2:]
    fig = _figure(cols * 1.6 + 1.0, rows * 1.6 * h / w + 1.2)
    axes = np.atleast_1d(fig.subplots(rows, cols, squeeze=False)).reshape(-1)
    names = _channel_names(c)
    image = None
    for k, ax in enumerate(axes):
        ax.set_axis_off()
        if k < panels:
            i, ch = divmod(k, c)
            image = ax.imshow(arr[i, ch], cmap=cmap, vmin=vmin, vmax=vmax, interpolation="nearest")
            ax.set_title(f"frame {i + 1}/{n} {names[ch]}".strip(), fontsize=8)
    fig.colorbar(image, ax=axes.tolist(), shrink=0.8)
    if title:
        fig.suptitle(title, wrap=True)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, format="png", facecolor="white")
    return path


def save_values_gif(frames: Any, path: str | Path, *, title: str = "", fps: float = 10.0,
                    scale: int | None = None) -> Path:
    """Write float frames ``[T, C, H, W]`` as a looping GIF, channels side by side, with a colour bar
    and its end values in the title band."""
    from matplotlib import colormaps
    from PIL import Image, ImageDraw, ImageFont

    if fps <= 0:
        raise ConfigError(f"Expected fps > 0. Got {fps} instead.")
    arr = _as_frames(frames).astype(np.float32)
    n, c, h, w = arr.shape
    if n == 0:
        raise ConfigError("Cannot draw a GIF of zero frames.")
    cmap, vmin, vmax = _value_scale(arr)
    idx = np.rint((np.clip(arr, vmin, vmax) - vmin) / (vmax - vmin) * (_VALUE_LEVELS - 1)).astype(np.uint8)
    idx = np.concatenate(list(idx.transpose(1, 0, 2, 3)), axis=2)  # channels side by side: [T, H, C * W]
    s = _scale(h, c * w, scale)
    text = _VALUE_LEVELS
    rgb = colormaps[cmap](np.linspace(0, 1, _VALUE_LEVELS))[:, :3] * 255
    palette = [*np.rint(rgb).astype(int).reshape(-1).tolist(), *_TEXT_COLOUR]
    palette += [0] * (768 - len(palette))
    font = ImageFont.load_default(size=_FONT_PX)
    width = idx.shape[2] * s
    line = _FONT_PX + 3
    head = _wrap(title.replace("\n", " "), font, width - 4)
    band = (len(head) + 2) * line + 4
    images = []
    for i in range(n):
        body = np.repeat(np.repeat(idx[i], s, axis=0), s, axis=1)
        canvas = np.full((band + body.shape[0], width), 0, dtype=np.uint8)
        canvas[:band] = text + 1  # black: the first unused palette entry
        canvas[band:] = body
        bar_y = 2 + (len(head) + 1) * line
        bar = slice(40, max(41, width - 40))
        canvas[bar_y + 2:bar_y + _FONT_PX, bar] = np.linspace(0, _VALUE_LEVELS - 1, bar.stop - bar.start).astype(np.uint8)
        im = Image.fromarray(canvas, mode="P")
        im.putpalette(palette)
        draw = ImageDraw.Draw(im)
        draw.fontmode = "1"
        names = " (left OFF, right ON)" if c == 2 else ""
        for k, words in enumerate([*head, f"frame {i + 1}/{n}{names}"]):
            draw.text((2, 2 + k * line), words, fill=text, font=font)
        draw.text((2, bar_y), f"{vmin:.3g}", fill=text, font=font)
        draw.text((bar.stop + 2, bar_y), f"{vmax:.3g}", fill=text, font=font)
        images.append(im)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    images[0].save(path, format="GIF", save_all=True, append_images=images[1:], duration=round(1000 / fps), loop=0,
                   optimize=False)
    return path


def save_image(image: Any, path: str | Path, *, title: str = "") -> Path:
    """Write one static image ``[C, H, W]`` (C = 1: grey, C = 3: RGB; values in [0, 1] or uint8) as a PNG."""
    path = Path(path)
    if path.suffix.lower() != ".png":
        raise ConfigError(f"{path}: a static image is drawn as a PNG; give --out with a .png name.")
    arr = np.asarray(image.numpy() if hasattr(image, "numpy") else image)
    if arr.ndim != 3 or arr.shape[0] not in (1, 3):
        raise ConfigError(f"Expected an image [C, H, W] with C = 1 or 3. Got shape {tuple(arr.shape)} instead.")
    pixels = arr.astype(np.float64) / (255.0 if arr.dtype == np.uint8 else 1.0)
    h, w = arr.shape[1:]
    fig = _figure(4.0, 4.0 * h / w + 0.5)
    ax = fig.subplots()
    ax.set_axis_off()
    if arr.shape[0] == 1:
        ax.imshow(pixels[0], cmap="gray", vmin=0.0, vmax=1.0, interpolation="nearest")
    else:
        ax.imshow(np.clip(pixels.transpose(1, 2, 0), 0.0, 1.0), interpolation="nearest")
    if title:
        fig.suptitle(title, wrap=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, format="png", facecolor="white")
    return path
