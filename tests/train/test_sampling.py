"""Sample order: per-epoch seeded, shards that add up to the single-process batches, resumable."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from eventpipe.errors import ConfigError
from eventpipe.train.sampling import ShardSampler


def test_order_depends_only_on_seed_and_epoch() -> None:
    a, b = ShardSampler(50, seed=3), ShardSampler(50, seed=3)
    a.set_epoch(4)
    list(b)  # consuming other epochs first changes nothing
    b.set_epoch(4)
    assert list(a) == list(b)
    assert sorted(a) == list(range(50))
    b.set_epoch(5)
    assert list(a) != list(b)


@given(n=st.integers(0, 60), world=st.integers(1, 4), batch=st.integers(1, 5), epoch=st.integers(0, 3))
def test_shards_reassemble_the_single_process_batches(n: int, world: int, batch: int, epoch: int) -> None:
    single = ShardSampler(n, seed=1)
    single.set_epoch(epoch)
    order = list(single)
    shards = []
    for r in range(world):
        s = ShardSampler(n, seed=1, num_replicas=world, rank=r)
        s.set_epoch(epoch)
        shards.append(list(s))
        assert len(s) == len(shards[-1]) == s.share()
    assert len({len(x) for x in shards}) <= 1  # padded: equal step counts
    steps = len(shards[0]) // batch + (len(shards[0]) % batch > 0)
    for k in range(steps):
        together = sorted(i for sh in shards for i in sh[k * batch:(k + 1) * batch])
        ref = sorted(order[k * batch * world:(k + 1) * batch * world])
        # beyond the dataset end the padded indices wrap to the start of the order
        pad = [order[j % n] for j in range(n, (k + 1) * batch * world)] if (k + 1) * batch * world > n else []
        assert together == sorted(ref + pad[: len(together) - len(ref)])


@given(n=st.integers(0, 40), world=st.integers(1, 4))
def test_unpadded_shards_count_every_sample_once(n: int, world: int) -> None:
    seen = []
    for r in range(world):
        s = ShardSampler(n, shuffle=False, num_replicas=world, rank=r, pad=False)
        seen += list(s)
        assert len(s) == len(list(s))
    assert sorted(seen) == list(range(n))


def test_start_skips_finished_batches() -> None:
    s = ShardSampler(10, seed=0)
    s.set_epoch(2)
    full = list(s)
    s.set_epoch(2, start=4)
    assert list(s) == full[4:] and len(s) == 6


def test_bad_arguments() -> None:
    with pytest.raises(ConfigError, match="rank"):
        ShardSampler(4, num_replicas=2, rank=2)
    with pytest.raises(ConfigError, match="length"):
        ShardSampler(-1)
