"""The pixel model against a slow per-pixel oracle, the renderer against hand-computed values."""

from __future__ import annotations

from collections import Counter

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from eventpipe.events import SensorSize
from eventpipe.synth.motion import Look, Pose, Style, pose_track
from eventpipe.synth.pixels import Columns, PixelArray, threshold_for_rate, total_variation
from eventpipe.synth.render import iter_blocks, log_intensity

LOOK = Look(aspect=0.6, texture_cycles=1.2, texture_depth=0.4, texture_phase=(0.3, 1.1))
FLAT = Look(aspect=1.0, texture_cycles=1.0, texture_depth=0.0, texture_phase=(0.0, 0.0))


def _pose(*rows: tuple[float, float, float, float, float]) -> Pose:
    cols = np.array(rows, dtype=np.float64).T
    return Pose(*cols)


def test_log_intensity_golden_disc() -> None:
    # a flat disc of radius 4 at (5, 5): 1 inside, 0.5 on the rim r = 4, 0 beyond r = 4.5
    logi = log_intensity(_pose((5.0, 5.0, 0.0, 4.0, 1.0)), np.arange(12), np.arange(11), FLAT)
    assert logi.shape == (1, 11, 12) and logi.dtype == np.float32
    assert logi[0, 5, 5] == 1.0 and logi[0, 5, 2] == 1.0
    assert logi[0, 5, 9] == 0.5 and logi[0, 1, 5] == 0.5
    assert logi[0, 5, 10] == 0.0 and logi[0, 0, 0] == 0.0
    assert (logi >= 0).all() and (logi <= 1).all()


def test_log_intensity_texture_and_contrast() -> None:
    textured = Look(aspect=1.0, texture_cycles=1.0, texture_depth=0.5, texture_phase=(0.0, 0.0))
    logi = log_intensity(_pose((3.0, 3.0, 0.7, 3.0, 2.0)), np.arange(7), np.arange(7), textured)
    # centre: cos(0) cos(0) = 1, so the texture is 1 - depth = 0.5, times contrast 2
    assert np.isclose(logi[0, 3, 3], 1.0)
    # rotation moves the texture: the same disc at another angle differs off-centre
    other = log_intensity(_pose((3.0, 3.0, 1.5, 3.0, 2.0)), np.arange(7), np.arange(7), textured)
    assert not np.allclose(logi, other)


def test_ellipse_axes_follow_theta() -> None:
    look = Look(aspect=0.4, texture_cycles=1.0, texture_depth=0.0, texture_phase=(0.0, 0.0))
    flat = log_intensity(_pose((10.0, 10.0, 0.0, 6.0, 1.0)), np.arange(21), np.arange(21), look)[0]
    upright = log_intensity(_pose((10.0, 10.0, np.pi / 2, 6.0, 1.0)), np.arange(21), np.arange(21), look)[0]
    assert flat[10, 15] == 1.0 and flat[15, 10] == 0.0  # major axis along x at theta = 0
    assert np.allclose(upright, flat.T, atol=1e-5)


def _oracle(pixels: PixelArray, pose: Pose, look: Look) -> Counter[tuple[int, int, int, int]]:
    """Events per (step, x, y, p) from a full-sensor render and a loop over every pixel and step."""
    w, h = pixels.sensor.width, pixels.sensor.height
    logi = log_intensity(pose, np.arange(w), np.arange(h), look)
    logi *= pixels.inv_threshold
    logi += pixels.offset
    levels = np.floor(logi).astype(np.int64)
    prev = np.floor(pixels.offset).astype(np.int64)
    out: Counter[tuple[int, int, int, int]] = Counter()
    for k in range(len(pose)):
        for y in range(h):
            for x in range(w):
                d = int(levels[k, y, x] - prev[y, x])
                if d:
                    out[(k, x, y, int(d > 0))] += abs(d)
        prev = levels[k]
    return out


def _expose(
    pixels: PixelArray, pose: Pose, look: Look, *, step_us: int = 1000, budget: int = 1 << 16
) -> Counter[tuple[int, int, int, int]]:
    starts = 5_000_000 + np.arange(len(pose), dtype=np.int64) * step_us
    cols = Columns()
    pixels.expose(pose, look, starts, step_us, np.random.default_rng(0), cols, budget=budget)
    t, x, y, p = cols.concat()
    k = (t - starts[0]) // step_us
    assert ((t - starts[0]) >= 0).all() and (k < len(pose)).all()
    return Counter(zip(k.tolist(), x.tolist(), y.tolist(), p.tolist(), strict=True))


steps = st.tuples(
    st.floats(-6, 16),  # cx, may leave the 10-pixel-wide sensor
    st.floats(-6, 14),  # cy
    st.floats(0, 7),  # theta
    st.floats(0.3, 5),  # scale
    st.one_of(st.just(0.0), st.floats(-1.5, 1.5)),  # contrast, often invisible
)


@settings(max_examples=40, deadline=None)
@given(
    rows=st.lists(steps, min_size=1, max_size=25),
    seed=st.integers(0, 2**16),
    budget=st.sampled_from([1, 50, 4096]),
)
def test_expose_matches_per_pixel_oracle(rows: list[tuple[float, ...]], seed: int, budget: int) -> None:
    """Boxes, blocks, carried levels and event emission equal a brute-force loop, for any motion."""
    sensor = SensorSize(10, 8, 2)
    pose = _pose(*rows)  # type: ignore[arg-type]
    pixels = PixelArray(sensor, 0.15, np.random.default_rng(seed))
    reference = PixelArray(sensor, 0.15, np.random.default_rng(seed))
    assert _expose(pixels, pose, LOOK, budget=budget) == _oracle(reference, pose, LOOK)
    # the carried state is the level of the last pose everywhere, also outside the last box
    last = log_intensity(pose.take(slice(-1, None)), np.arange(10), np.arange(8), LOOK)[0]
    last *= reference.inv_threshold
    last += reference.offset
    assert (pixels.level == np.floor(last).astype(np.int32)).all()


def test_blocks_respect_budget_and_skip_invisible() -> None:
    n = 200
    pose = Pose(
        np.linspace(5, 25, n),
        np.full(n, 10.0),
        np.zeros(n),
        np.full(n, 3.0),
        np.r_[np.zeros(50), np.ones(150)],
    )
    blocks = list(iter_blocks(pose, FLAT, SensorSize(32, 20, 2), budget=400))
    assert blocks[0][0] >= 50  # the invisible start needs no rendering
    assert all(box.area * (k1 - k0) <= 800 or k1 - k0 == 1 for k0, k1, box in blocks)
    assert [b[1] for b in blocks[:-1]] == [b[0] for b in blocks[1:]]


def test_bright_shape_fires_on_at_leading_edge_off_at_trailing() -> None:
    sensor = SensorSize(40, 20, 2)
    n = 100
    pose = Pose(np.linspace(10, 30, n), np.full(n, 10.0), np.zeros(n), np.full(n, 5.0), np.ones(n))
    pose.contrast[0] = 0.0
    pixels = PixelArray(sensor, 0.2, np.random.default_rng(1))
    cols = Columns()
    pixels.expose(
        pose.take(slice(1, None)),
        FLAT,
        np.arange(n - 1, dtype=np.int64) * 1000,
        1000,
        np.random.default_rng(2),
        cols,
    )
    t, x, _, p = cols.concat()
    late = t > 10_000  # after the shape has appeared
    assert x[late & (p == 1)].mean() > x[late & (p == 0)].mean() + 5


def test_event_count_matches_total_variation_over_threshold() -> None:
    sensor = SensorSize(32, 32, 2)
    for label in (0, 4, 6, 9):
        rng = np.random.default_rng(label)
        style = Style.draw(rng)
        times = np.arange(1, 501) * 0.002
        pose = pose_track(label, times, 1.0, sensor, style, rng)
        threshold = threshold_for_rate(total_variation(pose, style.look, sensor), 10_000)
        cols = Columns()
        starts = np.arange(500, dtype=np.int64) * 2000
        PixelArray(sensor, threshold, rng).expose(pose, style.look, starts, 2000, rng, cols)
        assert 8_000 < len(cols) < 12_500, (label, len(cols))
