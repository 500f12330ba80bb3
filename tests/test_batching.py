"""Unit tests for rnn_sentiment.batching: bucketed batches, shards, and reading through the memory map."""

import numpy as np
import pandas as pd
import torch

from helpers import save_split
from rnn_sentiment.model.batching import Batcher, bucketed_batches
from rnn_sentiment.text import encoding

VOCAB = pd.Index(["<pad>", "<unk>"] + [f"t{i}" for i in range(50)])


def written_split(directory, rows: int = 137) -> encoding.EncodedSplit:
    rng = np.random.default_rng(3)
    docs = [[f"t{i}" for i in rng.integers(0, 50, n)] for n in rng.integers(1, 30, rows)]
    split = encoding.encode(
        pd.Series(docs, dtype=object), rng.integers(0, 2, rows), VOCAB, 20, "head"
    )
    save_split(split, directory, "train")
    return split


def test_every_row_is_in_exactly_one_batch_and_batches_hold_similar_lengths():
    lengths = np.random.default_rng(0).integers(1, 400, 1000)
    batches = bucketed_batches(lengths, 16, seed=5, shuffle=True)
    assert sorted(np.concatenate(batches).tolist()) == list(range(1000))
    spread = np.mean([np.ptp(lengths[b]) for b in batches])
    random_spread = np.mean(
        [np.ptp(lengths[b]) for b in np.array_split(np.arange(1000), len(batches))]
    )
    assert spread < random_spread / 4
    assert [b.tolist() for b in bucketed_batches(lengths, 16, 5, True)] == [
        b.tolist() for b in batches
    ]
    assert [b.tolist() for b in bucketed_batches(lengths, 16, 6, True)] != [
        b.tolist() for b in batches
    ]


def test_shards_split_one_epoch_between_ranks_with_equal_counts():
    batcher = Batcher(
        encoding.EncodedSplit(
            np.ones((103, 4), np.int32), np.full(103, 4, np.int32), np.zeros(103, np.int8)
        )
    )
    whole = [batch.rows.tolist() for batch in batcher.batches(10, seed=1, shuffle=True)]
    shards = [
        [
            batch.rows.tolist()
            for batch in batcher.batches(10, seed=1, shuffle=True, shard=r, shards=3)
        ]
        for r in range(3)
    ]
    # 11 batches: the last two are dropped so ranks stay in step
    assert [len(s) for s in shards] == [
        3,
        3,
        3,
    ]
    assert sorted(b for s in shards for b in s) == sorted(whole[:9])


def test_on_cpu_batches_read_through_the_memory_map_and_match_an_in_memory_split(tmp_path):
    in_memory = written_split(tmp_path)
    mapped = encoding.load(tmp_path, "train")
    batcher = Batcher(mapped)
    assert isinstance(batcher.ids, np.memmap), "the id matrix is not loaded, only mapped"
    reference = Batcher(
        encoding.EncodedSplit(np.array(in_memory.ids), in_memory.lengths, in_memory.labels)
    )
    pairs = zip(
        batcher.batches(8, seed=2, shuffle=True),
        reference.batches(8, seed=2, shuffle=True),
        strict=True,
    )
    for batch, ref in pairs:
        assert batch.rows.tolist() == ref.rows.tolist()
        assert batch.ids.dtype == torch.int64 and batch.ids.shape == (
            len(batch.rows),
            int(batch.lengths.max()),
        )
        for mine, theirs in (
            (batch.ids, ref.ids),
            (batch.lengths, ref.lengths),
            (batch.labels, ref.labels),
        ):
            assert torch.equal(mine, theirs)
        assert batch.tokens == ref.tokens == int(batch.lengths.sum())
        assert torch.equal(
            batch.ids, torch.from_numpy(in_memory.ids[batch.rows, : batch.ids.shape[1]]).long()
        )
