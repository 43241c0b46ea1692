from __future__ import annotations

import pytest

from eventpipe.errors import ConfigError, UnknownNameError
from eventpipe.registry import Registry


def test_register_get_alias_and_errors() -> None:
    r: Registry[int] = Registry("widget")
    r.register("a", 1, aliases=("alpha",))
    assert r.get("alpha") == 1 and r.canonical("alpha") == "a"
    assert "alpha" in r and list(r) == ["a"]
    with pytest.raises(ConfigError, match="already registered"):
        r.register("alpha", 2)
    with pytest.raises(UnknownNameError, match=r"Unknown widget 'b'. Valid values are \{'a'\}"):
        r.get("b")
