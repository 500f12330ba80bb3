"""Length-bucketed batches: similar lengths together, so little padding is computed.

Measured on this project's CPU (benchmarks/train_throughput.py): bucketed padded batches beat
pad-to-longest random batches and ``pack_padded_sequence`` by a wide margin.
"""

from collections.abc import Iterator
from dataclasses import dataclass, replace

import numpy as np
import torch

from rnn_sentiment.text.encoding import EncodedSplit, gather_bags, release_pages
from rnn_sentiment.text.vocab import PAD_ID

BUCKET_BATCHES = 50  # batches per sorting window: wider = less padding, less randomness
CROP_MAX_TOKENS = 24  # longest window that short-text augmentation cuts


@dataclass(frozen=True)
class Batch:
    """Rows of a split, ready for the network: tensors on the device, counts on the host."""

    rows: np.ndarray  # indices into the split
    ids: torch.Tensor  # [rows, longest], right-padded
    lengths: torch.Tensor  # [rows]
    labels: torch.Tensor  # [rows], float
    tokens: int  # real tokens in the batch, known without a device sync
    ngram_ids: torch.Tensor | None = (
        None  # the rows' n-gram ids, flat (when the Batcher serves them)
    )
    ngram_offsets: torch.Tensor | None = None  # [rows + 1]

    @property
    def inputs(self) -> tuple[torch.Tensor, ...]:
        """What SentimentClassifier takes."""
        return self.ids, self.lengths, self.ngram_ids, self.ngram_offsets


def crop_windows(
    batch: Batch, lengths: np.ndarray, share: float, rng: np.random.Generator
) -> Batch:
    """Short-text augmentation: each row, with probability ``share``, becomes a random window of
    1 to CROP_MAX_TOKENS of its own tokens, keeping its label.

    IMDB reviews run to hundreds of tokens; without this, a three-word text such as "I hate it"
    is far outside what the pooled features were trained on. ``lengths`` are the rows' lengths on
    the host. Randomness comes from ``rng`` only, so runs stay reproducible.
    """
    ids = batch.ids
    count = len(lengths)
    chosen = rng.random(count) < share
    window = np.minimum(rng.integers(1, CROP_MAX_TOKENS + 1, count), lengths)
    start = (rng.random(count) * (lengths - window + 1)).astype(np.int64)
    new_lengths = np.where(chosen, window, lengths)
    steps = torch.arange(ids.size(1), device=ids.device)
    offset = torch.from_numpy(np.where(chosen, start, 0)).to(ids.device)
    on_device = torch.from_numpy(new_lengths).to(ids.device)
    source = (steps + offset[:, None]).clamp(max=ids.size(1) - 1)
    cropped = ids.gather(1, source).masked_fill(steps >= on_device[:, None], PAD_ID)
    return replace(batch, ids=cropped, lengths=on_device, tokens=int(new_lengths.sum()))


def bucketed_batches(
    lengths: np.ndarray, batch_size: int, seed: int, shuffle: bool
) -> list[np.ndarray]:
    """Index arrays, one per batch. Shuffled: sort within random windows, shuffle batch order."""
    n = len(lengths)
    if not shuffle:
        order = np.argsort(-lengths, kind="stable")
        return [order[i : i + batch_size] for i in range(0, n, batch_size)]
    rng = np.random.default_rng(seed)
    order = rng.permutation(n)
    window = batch_size * BUCKET_BATCHES
    for start in range(0, n, window):
        chunk = order[start : start + window]
        order[start : start + window] = chunk[np.argsort(-lengths[chunk], kind="stable")]
    batches = [order[i : i + batch_size] for i in range(0, n, batch_size)]
    return [batches[i] for i in rng.permutation(len(batches))]


class Batcher:
    """Serves a split's batches; each batch is one gather of its rows and a trim to the longest.

    On CPU the id matrix stays where ``encoding.load`` put it, a memory map: a batch reads just
    its rows from the page cache, so a split larger than memory trains without being loaded.
    On CUDA the matrix is copied to the device once, and the only per-batch host-to-device copy
    is the row index. Lengths and labels (a few bytes per review) are held in memory. With
    ``with_ngrams`` each batch also carries its rows' n-gram bags, read from the flat array.
    """

    def __init__(
        self,
        split: EncodedSplit,
        device: torch.device = torch.device("cpu"),
        with_ngrams: bool = False,
    ):
        self.device = device
        self.on_host = device.type == "cpu"
        self.ids = (
            split.ids
            if self.on_host
            else torch.from_numpy(np.array(split.ids, dtype=np.int32)).to(device)
        )
        self.lengths = torch.from_numpy(np.array(split.lengths, dtype=np.int64)).to(device)
        self.labels = torch.from_numpy(np.array(split.labels, dtype=np.float32)).to(device)
        self.length_array = np.asarray(split.lengths, dtype=np.int64)
        self.ngrams = (
            (split.ngram_ids, np.asarray(split.ngram_offsets, dtype=np.int64))
            if with_ngrams
            else None
        )

    def __len__(self) -> int:
        return len(self.length_array)

    def batch_count(self, batch_size: int, shards: int = 1) -> int:
        """Batches one of ``shards`` ranks gets: every rank the same count, the remainder dropped."""
        return -(-len(self) // batch_size) // shards

    def batches(
        self, batch_size: int, seed: int = 0, shuffle: bool = False, shard: int = 0, shards: int = 1
    ) -> Iterator[Batch]:
        """Yield the split's batches in bucketed order (longest first unless ``shuffle``).

        With ``shards`` > 1 (data-parallel ranks) every rank draws the same seeded batch order
        and keeps every ``shards``-th batch from ``shard`` on, so the ranks split one epoch.
        """
        order = bucketed_batches(self.length_array, batch_size, seed, shuffle)
        for index in order[shard : self.batch_count(batch_size, shards) * shards : shards]:
            yield self.gather(index)

    def gather(self, index: np.ndarray) -> Batch:
        """Rows ``index`` as one batch on the device."""
        host_lengths = self.length_array[index]
        longest = int(host_lengths.max())
        if self.on_host:
            rows = torch.from_numpy(index)
            ids = torch.from_numpy(np.asarray(self.ids[index, :longest])).long()
            release_pages(self.ids)
        else:
            rows = torch.from_numpy(index).to(self.device, non_blocking=True)
            ids = self.ids[rows, :longest].long()
        batch = Batch(index, ids, self.lengths[rows], self.labels[rows], int(host_lengths.sum()))
        return replace(batch, **self._bags(index)) if self.ngrams is not None else batch

    def _bags(self, index: np.ndarray) -> dict[str, torch.Tensor]:
        """The rows' n-gram ids, one flat tensor, and their offsets."""
        bag_ids, bag_offsets = gather_bags(*self.ngrams, index)
        return {
            "ngram_ids": torch.from_numpy(bag_ids.astype(np.int64)).to(self.device),
            "ngram_offsets": torch.from_numpy(bag_offsets).to(self.device),
        }
