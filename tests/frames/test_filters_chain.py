"""The declarative filter chain of a frames spec: one parser, a stable identity, the filters' results."""

from __future__ import annotations

import numpy as np
import pytest

from eventpipe.errors import ConfigError
from eventpipe.events import SensorSize
from eventpipe.frames import filters as F
from eventpipe.frames.filter_chain import FilterChain, filter_chain
from eventpipe.synth import gesture_like_sample


def test_chain_applies_filters_in_order() -> None:
    ev = gesture_like_sample(np.random.default_rng(0), 5000, SensorSize(16, 16, 2), 200_000)
    chain = filter_chain([
        {"name": "denoise", "filter_time": 2000},
        {"name": "refractory_period", "period": 500},
        {"name": "drop_pixel", "coordinates": [[1, 2]], "hot_pixel_frequency": 2000},
        {"name": "crop_time", "t_min": int(ev["t"][100])},
        {"name": "time_skew", "coefficient": 0.5, "offset": 10},
    ])
    expected = F.refractory_period(F.denoise(ev, 2000), 500)
    expected = F.drop_pixel(F.drop_pixel(expected, F.hot_pixels(expected, 2000)), [(1, 2)])
    expected = F.time_skew(F.crop_time(expected, int(ev["t"][100])), 0.5, 10)
    np.testing.assert_array_equal(chain(ev), expected)
    assert filter_chain(chain) is chain and filter_chain(chain.describe()) == chain
    assert not filter_chain(None) and filter_chain([]).identity == "" and filter_chain([])(ev) is ev


def test_identity_is_stable_and_complete() -> None:
    a = filter_chain([{"name": "denoise", "filter_time": 10000}, {"name": "refractory_period", "period": 1e3}])
    b = filter_chain([{"filter_time": 1e4, "name": "denoise"}, {"period": 1000, "name": "refractory_period"}])
    assert a == b and a.identity == b.identity == "denoise(filter_time=10000);refractory_period(period=1000)"
    assert filter_chain([{"name": "crop_time"}]).identity == "crop_time(t_min=0,t_max=None)"
    assert filter_chain([{"name": "denoise", "filter_time": 10001}]).identity != a.identity
    assert isinstance(a, FilterChain) and hash(a) == hash(b)


@pytest.mark.parametrize(("description", "message"), [
    ("denoise", "Expected filters as a list of tables like {name = 'denoise', ...}. Got 'denoise' instead."),
    ([{"filter_time": 1}], "filters[0]: expected a table with a 'name' key."),
    ([{"name": "blur"}], "filters[0]: unknown filter 'blur'. Valid filters are ['crop_time', 'denoise'"),
    ([{"name": "denoise"}], "filters[0]: denoise needs argument 'filter_time'."),
    ([{"name": "denoise", "filter_time": 5, "radius": 2}], "filters[0]: unknown argument 'radius' for denoise."),
    ([{"name": "crop_time"}, {"name": "denoise", "filter_time": -10}],
     "filters[1]: denoise: expected filter_time >= 0. Got -10 instead."),
    ([{"name": "refractory_period", "period": "1ms"}], "filters[0]: refractory_period: expected period as a number."),
    ([{"name": "time_skew", "coefficient": -1}], "filters[0]: time_skew: expected coefficient > 0. Got -1 instead."),
])
def test_bad_descriptions(description: object, message: str) -> None:
    with pytest.raises(ConfigError) as err:
        filter_chain(description)  # type: ignore[arg-type]
    assert str(err.value).startswith(message) and "\n" not in str(err.value)
