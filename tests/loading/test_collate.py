"""pad_sequence_collate, padded_sequence_mask and BucketBatchSampler against hand-computed cases."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch.utils.data import DataLoader, Dataset

from eventpipe.collate import (
    BucketBatchSampler,
    pad_sequence_collate,
    pad_sequence_collate_time_first,
    padded_sequence_mask,
    padding_fraction,
)
from eventpipe.errors import ConfigError
from eventpipe.events import make_events


def test_mask_of_lengths_2_3_4() -> None:
    x1, x2, x3 = torch.rand(2, 6), torch.rand(3, 6), torch.rand(4, 6)
    x = torch.nn.utils.rnn.pad_sequence([x1, x2, x3])  # [T, N, *]
    assert x.shape == (4, 3, 6)
    mask = padded_sequence_mask(torch.as_tensor([2, 3, 4]))
    expected = torch.tensor(
        [[True, True, True], [True, True, True], [False, True, True], [False, False, True]]
    )
    assert mask.dtype == torch.bool
    assert torch.equal(mask, expected)


def test_collate_hand_computed() -> None:
    batch = [
        (torch.tensor([[1.0, 2.0], [3.0, 4.0]]), 7),
        (torch.tensor([[5.0, 6.0], [7.0, 8.0], [9.0, 10.0]]), 0),
        (torch.tensor([[11.0, 12.0], [13.0, 14.0], [15.0, 16.0], [17.0, 18.0]]), 3),
    ]
    x, y, lengths = pad_sequence_collate(batch)
    expected = torch.tensor(
        [
            [[1, 2], [3, 4], [0, 0], [0, 0]],
            [[5, 6], [7, 8], [9, 10], [0, 0]],
            [[11, 12], [13, 14], [15, 16], [17, 18]],
        ],
        dtype=torch.float32,
    )
    assert torch.equal(x, expected)
    assert y.dtype == torch.long and y.tolist() == [7, 0, 3]
    assert lengths.dtype == torch.long and lengths.tolist() == [2, 3, 4]
    assert lengths.device.type == "cpu"


def test_collate_matches_torch_pad_sequence_on_frames() -> None:
    gen = torch.Generator().manual_seed(0)
    xs = [torch.rand(t, 2, 5, 4, generator=gen) for t in (3, 1, 6, 6)]
    batch = [(x, i) for i, x in enumerate(xs)]
    x, y, lengths = pad_sequence_collate(batch)
    assert x.shape == (4, 6, 2, 5, 4)
    assert torch.equal(x, torch.nn.utils.rnn.pad_sequence(xs, batch_first=True))
    assert lengths.tolist() == [3, 1, 6, 6]
    assert y.tolist() == [0, 1, 2, 3]


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.float16, np.float32, np.float64])
def test_collate_keeps_dtype_and_accepts_numpy(dtype: type) -> None:
    batch = [(np.full((t, 2, 3, 3), 2, dtype=dtype), np.int32(t)) for t in (2, 4)]
    x, y, lengths = pad_sequence_collate(batch)
    assert x.dtype == torch.from_numpy(np.zeros(1, dtype=dtype)).dtype
    assert y.dtype == torch.long
    assert int(x[0, 2:].sum()) == 0 and int(x[0, :2].sum()) == 2 * 2 * 9 * 2
    xt, _, mask = pad_sequence_collate_time_first(batch)
    assert xt.dtype == x.dtype and mask.shape == (4, 2)


def test_float_representations_collate_with_their_signs_and_fractions() -> None:
    from eventpipe.transforms import ToFrames

    rng = np.random.default_rng(0)
    samples = []
    for n in (50, 80):
        ev = make_events(t=np.sort(rng.integers(0, 10_000, n)), x=rng.integers(0, 5, n), y=rng.integers(0, 4, n),
                         p=rng.integers(0, 2, n))
        samples.append((ToFrames((5, 4, 2), voxel_grid=3, dtype=None)(ev), 0))
        samples.append((ToFrames((5, 4, 2), exp_decay=2_000, tau=500, dtype=None)(ev)[:, :1], 1))
    x, _, lengths = pad_sequence_collate(samples)
    assert x.dtype == torch.float16 and x.shape[1:] == (max(lengths.tolist()), 1, 4, 5)
    for i, (frames, _) in enumerate(samples):
        assert torch.equal(x[i, : len(frames)], torch.from_numpy(frames))
        assert not x[i, len(frames):].any()
    assert (x < 0).any() and (x != x.round()).any()  # the voxel grids' signs, the fractions of both


def test_time_first_is_transpose_and_mask() -> None:
    gen = torch.Generator().manual_seed(1)
    batch = [(torch.rand(t, 3, generator=gen), t % 2) for t in (4, 2, 3)]
    x, y, lengths = pad_sequence_collate(batch)
    xt, yt, mask = pad_sequence_collate_time_first(batch)
    assert xt.shape == (4, 3, 3)
    assert torch.equal(xt, x.transpose(0, 1))
    assert xt.is_contiguous()
    assert torch.equal(yt, y)
    assert torch.equal(mask, padded_sequence_mask(lengths))


def test_tensor_labels_are_stacked() -> None:
    batch = [(torch.zeros(1, 2), torch.tensor([1.0, 0.0])), (torch.zeros(2, 2), torch.tensor([0.0, 1.0]))]
    _, y, _ = pad_sequence_collate(batch)
    assert y.shape == (2, 2) and y.dtype == torch.float32


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(min_value=1, max_value=7), min_size=1, max_size=6), st.integers(0, 2**31 - 1))
def test_masked_mean_over_time_equals_unpadded_mean(lengths: list[int], seed: int) -> None:
    gen = torch.Generator().manual_seed(seed)
    xs = [torch.randn(t, 3, 2, generator=gen, dtype=torch.float64) for t in lengths]
    x, _, mask = pad_sequence_collate_time_first([(v, 0) for v in xs])  # x [T, N, 3, 2], mask [T, N]
    m = mask.to(x.dtype).view(*mask.shape, 1, 1)
    masked_mean = (x * m).sum(0) / m.sum(0)
    for n, v in enumerate(xs):
        torch.testing.assert_close(masked_mean[n], v.mean(0))
    xb, _, lens = pad_sequence_collate([(v, 0) for v in xs])
    mb = padded_sequence_mask(lens).t().to(xb.dtype).view(len(xs), -1, 1, 1)
    torch.testing.assert_close((xb * mb).sum(1) / lens.view(-1, 1, 1).to(xb.dtype), torch.stack([v.mean(0) for v in xs]))


def test_mask_with_explicit_T_and_devices() -> None:
    lengths = torch.tensor([1, 3])
    assert padded_sequence_mask(lengths, T=4).int().tolist() == [[1, 1], [0, 1], [0, 1], [0, 0]]
    assert padded_sequence_mask(lengths, T=2).int().tolist() == [[1, 1], [0, 1]]
    assert padded_sequence_mask([0, 2]).int().tolist() == [[0, 1], [0, 1]]
    assert padded_sequence_mask(torch.tensor([], dtype=torch.long)).shape == (0, 0)
    if torch.cuda.is_available():
        mask = padded_sequence_mask(lengths.cuda())
        assert mask.device.type == "cuda"


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_collate_on_cuda_keeps_device() -> None:
    batch = [(torch.ones(t, 2, device="cuda"), 1) for t in (1, 3)]
    x, y, lengths = pad_sequence_collate(batch)
    assert x.device.type == "cuda" and lengths.device.type == "cpu"
    xt, _, mask = pad_sequence_collate_time_first(batch)
    assert xt.device.type == "cuda" and mask.device.type == "cuda"


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: pad_sequence_collate([]), "non-empty batch"),
        (lambda: pad_sequence_collate([(torch.zeros(2, 3), 0, "extra")]), r"\(x, y\) pair"),
        (lambda: pad_sequence_collate([(torch.zeros(2, 3), 0), (torch.zeros(2, 4), 1)]), "trailing shape"),
        (lambda: pad_sequence_collate([(torch.zeros(2, 3), 0), (torch.zeros(2, 3, dtype=torch.int32), 1)]), "batch index 1"),
        (lambda: pad_sequence_collate([(make_events(t=[0, 1], x=[0, 1], y=[0, 0], p=[1, 0]), 0)]),
         "Got raw events .* integration mode"),
        (lambda: padded_sequence_mask(torch.tensor([1.5, 2.0])), "integer tensor"),
        (lambda: padded_sequence_mask(torch.tensor([2, -1])), "lengths >= 0"),
        (lambda: padded_sequence_mask(torch.tensor([2]), T=-1), "T >= 0"),
    ],
)
def test_bad_input_is_named(call, match: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ConfigError, match=match):
        call()


# ---------------------------------------------------------------- bucketing


def _lengths(n: int = 103, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(5, 60, size=n)


def test_bucket_sampler_is_a_partition_and_deterministic() -> None:
    lengths = _lengths()
    s = BucketBatchSampler(lengths, batch_size=8, seed=3, pool_batches=4)
    batches = list(s)
    assert len(batches) == len(s) == 13
    assert sorted(i for b in batches for i in b) == list(range(len(lengths)))
    assert list(BucketBatchSampler(lengths, batch_size=8, seed=3, pool_batches=4)) == batches
    s.set_epoch(1)
    assert list(s) != batches
    s.set_epoch(0)
    assert list(s) == batches


def test_bucket_sampler_reduces_padding() -> None:
    lengths = _lengths(400)
    random_batches = [list(range(i, i + 16)) for i in range(0, 400, 16)]  # dataset order is random already
    bucketed = list(BucketBatchSampler(lengths, batch_size=16, seed=0))
    assert padding_fraction(bucketed, lengths) < 0.25 * padding_fraction(random_batches, lengths)
    assert padding_fraction([[0, 1]], [3, 3]) == 0.0
    assert padding_fraction([[0, 1]], [1, 3]) == pytest.approx(1 / 3)


def test_bucket_sampler_without_shuffle_is_length_sorted() -> None:
    assert list(BucketBatchSampler([5, 1, 4, 2, 3, 6], batch_size=2, shuffle=False)) == [[1, 3], [4, 2], [0, 5]]
    assert list(BucketBatchSampler([5, 1, 4, 2, 3], batch_size=2, shuffle=False, drop_last=True)) == [[1, 3], [4, 2]]


@pytest.mark.parametrize("drop_last", [False, True])
@pytest.mark.parametrize("n", [40, 45])
def test_bucket_sampler_shards_evenly(drop_last: bool, n: int) -> None:
    lengths = _lengths(n)
    shards = [
        list(BucketBatchSampler(lengths, batch_size=4, seed=5, num_replicas=3, rank=r, drop_last=drop_last))
        for r in range(3)
    ]
    sizes = {len(s) for s in shards}
    assert len(sizes) == 1
    assert len(BucketBatchSampler(lengths, batch_size=4, num_replicas=3, drop_last=drop_last)) == sizes.pop()
    covered = {i for s in shards for b in s for i in b}
    whole = list(BucketBatchSampler(lengths, batch_size=4, seed=5, drop_last=drop_last))
    if drop_last:
        assert all(len(b) == 4 for s in shards for b in s)
        flat = [i for s in shards for b in s for i in b]
        assert len(flat) == len(set(flat))  # disjoint
    else:
        assert covered == set(range(n))
    assert all(b in whole for s in shards for b in s)


def test_bucket_sampler_bad_arguments() -> None:
    with pytest.raises(ConfigError, match="batch_size >= 1"):
        BucketBatchSampler([1, 2], batch_size=0)
    with pytest.raises(ConfigError, match="rank in the range"):
        BucketBatchSampler([1, 2], batch_size=1, num_replicas=2, rank=2)
    with pytest.raises(ConfigError, match="integers"):
        BucketBatchSampler([1.5, 2.0], batch_size=1)


class _Seqs(Dataset):
    def __init__(self, lengths: np.ndarray) -> None:
        self.lengths = lengths

    def __len__(self) -> int:
        return len(self.lengths)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, int]:
        return torch.full((int(self.lengths[i]), 2), float(i)), i


def test_bucket_sampler_with_dataloader() -> None:
    lengths = _lengths(37)
    ds = _Seqs(lengths)
    loader = DataLoader(ds, batch_sampler=BucketBatchSampler(lengths, batch_size=5, seed=1), collate_fn=pad_sequence_collate)
    seen = []
    for x, y, lens in loader:
        assert torch.equal(lens, torch.as_tensor(lengths[y.numpy()]))
        assert x.shape[1] == int(lens.max())
        seen.extend(y.tolist())
    assert sorted(seen) == list(range(37))
