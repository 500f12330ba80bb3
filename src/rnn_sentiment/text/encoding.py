"""Token lists -> what the two paths read, stored as plain ``.npy`` arrays.

Each split is five arrays: ``ids`` (int32, rows right-padded with ``<pad>`` = 0 up to
``max_len``), ``lengths`` (int32, tokens kept) and ``labels`` (int8) for the recurrent path;
``ngram_ids`` (int32, each review's distinct n-gram ids, flat) and ``ngram_offsets`` (int64,
reviews + 1: review i's are ``ngram_ids[offsets[i]:offsets[i + 1]]``) for the n-gram path, over
the whole review. Encode writes them chunk by chunk; ``load`` memory-maps them (well under a
second for all of IMDB, whatever the size, since nothing is read until used), and loading never
unpickles (``allow_pickle=False``).
"""

import mmap
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from rnn_sentiment.core.errors import PipelineError
from rnn_sentiment.text.ngrams import NgramIndex
from rnn_sentiment.text.vocab import PAD_ID, UNK_ID

SPLITS = ("train", "val", "test")
FIELDS = ("ids", "lengths", "labels", "ngram_ids", "ngram_offsets")
BLOCK_ROWS = 8192  # rows read or computed at a time where a split may not fit in memory
NPY_HEADER = 128  # bytes of a 1-D array's .npy header, whatever its length (numpy pads to 64)


@dataclass
class EncodedSplit:
    ids: np.ndarray
    lengths: np.ndarray
    labels: np.ndarray
    ngram_ids: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int32))
    ngram_offsets: np.ndarray | None = None  # None: every review's bag is empty

    def __post_init__(self) -> None:
        if self.ngram_offsets is None:
            self.ngram_offsets = np.zeros(len(self.lengths) + 1, dtype=np.int64)

    def rows(self, rows: np.ndarray) -> "EncodedSplit":
        """These rows (in this order), n-gram bags included, read into memory."""
        ngram_ids, ngram_offsets = gather_bags(self.ngram_ids, self.ngram_offsets, rows)
        ids = np.empty((len(rows), self.ids.shape[1]), dtype=self.ids.dtype)
        for first, last in row_blocks(len(rows)):
            ids[first:last] = self.ids[rows[first:last]]
            release_pages(self.ids)
        return EncodedSplit(
            ids,
            np.asarray(self.lengths)[rows],
            np.asarray(self.labels)[rows],
            ngram_ids,
            ngram_offsets,
        )


def gather_bags(
    ngram_ids: np.ndarray, ngram_offsets: np.ndarray, rows: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The bags of ``rows`` (in this order): their n-gram ids, flat (int32), and their offsets.

    Read BLOCK_ROWS rows at a time, so picking many rows from a memory-mapped split holds one
    block's positions, not an int64 position for every id picked."""
    starts = np.asarray(ngram_offsets[rows], dtype=np.int64)
    sizes = np.asarray(ngram_offsets[rows + 1], dtype=np.int64) - starts
    offsets = np.zeros(len(rows) + 1, dtype=np.int64)
    np.cumsum(sizes, out=offsets[1:])
    picked = np.empty(offsets[-1], dtype=np.int32)
    for first, last in row_blocks(len(rows)):
        low, high = offsets[first], offsets[last]
        shift = np.repeat(starts[first:last] - offsets[first:last], sizes[first:last])
        picked[low:high] = ngram_ids[shift + np.arange(low, high)]
        release_pages(ngram_ids)
    return picked, offsets


def row_blocks(rows: int) -> Iterator[tuple[int, int]]:
    """(first, last) of each block of BLOCK_ROWS consecutive rows, the last block short."""
    for first in range(0, rows, BLOCK_ROWS):
        yield first, min(first + BLOCK_ROWS, rows)


def release_pages(array: np.ndarray) -> None:
    """Unmap the pages of a memory-mapped array that this process has read (no-op for any other).

    They stay in the page cache, so reading them again costs a minor fault; but while mapped they
    count in the process's resident memory, and the kernel maps up to 16 neighbours of every page
    read (fault-around), so rows read at random from a large split would map most of its file."""
    base = array
    while base is not None and not isinstance(base, mmap.mmap):
        base = getattr(base, "base", None)
    if base is not None:
        base.madvise(mmap.MADV_DONTNEED)


def _keep_mask(position: np.ndarray, length: np.ndarray, max_len: int, policy: str) -> np.ndarray:
    """Which token positions survive truncation, and the column each lands in."""
    if policy == "head":
        return position < max_len
    if policy == "tail":
        return position >= length - max_len
    head = max_len // 2  # head_tail: the opening and the verdict at the end both matter
    tail = max_len - head
    return (position < head) | (position >= length - tail)


def encode(
    tokens: pd.Series,
    labels: np.ndarray,
    vocab: pd.Index,
    max_len: int,
    policy: str,
    ngrams: NgramIndex | None = None,
) -> EncodedSplit:
    """Vectorised: one explode, one hash lookup, one scatter. A text with no tokens becomes ``<unk>``
    for the recurrent path and an empty bag for the n-gram path."""
    counts = np.maximum(tokens.str.len().to_numpy(dtype=np.int64), 1)
    flat = tokens.explode().to_numpy()
    ids = vocab.get_indexer(flat)
    ids[ids < 0] = UNK_ID
    row = np.repeat(np.arange(len(counts)), counts)
    starts = np.cumsum(counts) - counts
    position = np.arange(len(flat)) - starts[row]
    length = counts[row]
    keep = _keep_mask(position, length, max_len, policy)
    kept = np.minimum(counts, max_len)
    # Column of each kept token = its rank among the kept tokens of its row.
    row_first = np.repeat(np.cumsum(kept) - kept, counts)
    column = np.cumsum(keep) - 1 - row_first
    matrix = np.full((len(counts), max_len), PAD_ID, dtype=np.int32)
    matrix[row[keep], column[keep]] = ids[keep]
    split = EncodedSplit(matrix, kept.astype(np.int32), np.asarray(labels, dtype=np.int8))
    if ngrams is not None:
        split.ngram_ids, split.ngram_offsets = ngrams.encode(tokens)
    return split


def _header(handle, dtype: type, shape: tuple) -> None:
    np.lib.format.write_array_header_1_0(
        handle,
        {
            "descr": np.lib.format.dtype_to_descr(np.dtype(dtype)),
            "fortran_order": False,
            "shape": shape,
        },
    )


class SplitWriter:
    """Writes one split chunk by chunk, so no matrix is ever whole in memory: ``ids`` goes to
    disk behind a ``.npy`` header for the split's known shape, ``ngram_ids`` behind a header
    rewritten with its final length at the end; lengths, labels and offsets (a few bytes per
    review) are kept and saved at the end with the split's stats.

    The result is byte for byte what ``np.save`` writes for each whole array.
    """

    def __init__(self, directory: Path, name: str, rows: int, max_len: int):
        self.directory, self.name, self.rows, self.max_len = directory, name, rows, max_len
        self.lengths = np.empty(rows, dtype=np.int32)
        self.labels = np.empty(rows, dtype=np.int8)
        self.ngram_offsets = np.zeros(rows + 1, dtype=np.int64)
        self.token_counts = np.empty(rows, dtype=np.int64)
        self.filled = self.unknown = self.kept = 0
        self.ids = open(directory / f"{name}_ids.npy", "wb")
        _header(self.ids, np.int32, (rows, max_len))
        self.ngram_ids = open(directory / f"{name}_ngram_ids.npy", "wb")
        _header(self.ngram_ids, np.int32, (0,))

    def __enter__(self) -> "SplitWriter":
        return self

    def __exit__(self, *exc) -> None:
        self.ids.close()
        self.ngram_ids.close()

    def append(self, tokens: pd.Series, split: EncodedSplit) -> None:
        """Add the next rows: ``split`` as ``encode`` made it from ``tokens``."""
        end = self.filled + len(split.lengths)
        split.ids.astype(np.int32, copy=False).tofile(self.ids)
        split.ngram_ids.astype(np.int32, copy=False).tofile(self.ngram_ids)
        self.ngram_offsets[self.filled + 1 : end + 1] = (
            self.ngram_offsets[self.filled] + split.ngram_offsets[1:]
        )
        self.lengths[self.filled : end] = split.lengths
        self.labels[self.filled : end] = split.labels
        self.token_counts[self.filled : end] = np.maximum(tokens.str.len().to_numpy(), 1)
        real = split.ids[split.ids != PAD_ID]
        self.unknown += int(np.count_nonzero(real == UNK_ID))
        self.kept += int(real.size)
        self.filled = end

    def close(self) -> dict:
        """Finish the files and return the split's stats (OOV rate, lengths, share truncated, n-grams)."""
        self.ids.close()
        if self.filled != self.rows:
            raise PipelineError(
                f"{self.directory}: {self.name} got {self.filled} rows, expected {self.rows}"
            )
        self.ngram_ids.seek(0)
        _header(self.ngram_ids, np.int32, (int(self.ngram_offsets[-1]),))
        if self.ngram_ids.tell() != NPY_HEADER:
            raise PipelineError(
                f"{self.directory}: {self.name}_ngram_ids.npy header is not {NPY_HEADER} bytes"
            )
        self.ngram_ids.close()
        for part in ("lengths", "labels", "ngram_offsets"):
            np.save(
                self.directory / f"{self.name}_{part}.npy", getattr(self, part), allow_pickle=False
            )
        p50, p90, p99 = (
            np.percentile(self.token_counts, [50, 90, 99]) if self.rows else (0.0, 0.0, 0.0)
        )
        return {
            "reviews": self.rows,
            "oov_rate": round(self.unknown / self.kept, 6) if self.kept else 0.0,
            "length_p50": float(p50),
            "length_p90": float(p90),
            "length_p99": float(p99),
            "truncated_share": round(float(np.mean(self.token_counts > self.max_len)), 6)
            if self.rows
            else 0.0,
            "ngrams_per_review": round(float(self.ngram_offsets[-1] / self.rows), 2)
            if self.rows
            else 0.0,
        }


def load(directory: Path, name: str) -> EncodedSplit:
    """Memory-map one split; a missing, truncated or mismatched file is one clear error."""
    arrays = {}
    for part in FIELDS:
        path = directory / f"{name}_{part}.npy"
        try:
            arrays[part] = np.load(path, mmap_mode="r", allow_pickle=False)
        except FileNotFoundError:
            raise PipelineError(f"{path}: missing; run `dvc repro encode`") from None
        except (ValueError, OSError, EOFError) as error:
            raise PipelineError(f"{path}: unreadable or truncated array ({error})") from None
    split = EncodedSplit(**arrays)
    n = len(split.ids)
    offsets = split.ngram_offsets
    if (
        split.ids.ndim != 2
        or len(split.lengths) != n
        or len(split.labels) != n
        or len(offsets) != n + 1
        or offsets[-1] != len(split.ngram_ids)
    ):
        raise PipelineError(f"{directory}: {name} arrays disagree in shape")
    return split
