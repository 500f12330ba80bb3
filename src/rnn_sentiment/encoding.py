"""Token lists -> fixed-width id matrices with true lengths, stored as plain ``.npy`` arrays.

Each split is three arrays: ``ids`` (int32, rows right-padded with ``<pad>`` = 0 up to
``max_len``), ``lengths`` (int32, tokens kept) and ``labels`` (int8). ``np.load`` maps them in
well under a second for all of IMDB, and loading never unpickles (``allow_pickle=False``).
"""

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from rnn_sentiment.errors import PipelineError
from rnn_sentiment.vocab import PAD_ID, UNK_ID

SPLITS = ("train", "val", "test")


@dataclass
class EncodedSplit:
    ids: np.ndarray
    lengths: np.ndarray
    labels: np.ndarray


def _keep_mask(position: np.ndarray, length: np.ndarray, max_len: int, policy: str) -> np.ndarray:
    """Which token positions survive truncation, and the column each lands in."""
    if policy == "head":
        return position < max_len
    if policy == "tail":
        return position >= length - max_len
    head = max_len // 2  # head_tail: the opening and the verdict at the end both matter
    tail = max_len - head
    return (position < head) | (position >= length - tail)


def encode(tokens: pd.Series, labels: np.ndarray, vocab: pd.Index, max_len: int, policy: str) -> EncodedSplit:
    """Vectorised: one explode, one hash lookup, one scatter. A text with no tokens becomes ``<unk>``."""
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
    return EncodedSplit(matrix, kept.astype(np.int32), np.asarray(labels, dtype=np.int8))


def stats(tokens: pd.Series, split: EncodedSplit, max_len: int) -> dict:
    lengths = np.maximum(tokens.str.len().to_numpy(), 1)
    kept = split.ids[split.ids != PAD_ID]
    p50, p90, p99 = np.percentile(lengths, [50, 90, 99])
    return {
        "reviews": int(len(lengths)),
        "oov_rate": round(float(np.mean(kept == UNK_ID)) if kept.size else 0.0, 6),
        "length_p50": float(p50),
        "length_p90": float(p90),
        "length_p99": float(p99),
        "truncated_share": round(float(np.mean(lengths > max_len)), 6),
    }


def save(split: EncodedSplit, directory: Path, name: str) -> None:
    for field in ("ids", "lengths", "labels"):
        np.save(directory / f"{name}_{field}.npy", getattr(split, field), allow_pickle=False)


def load(directory: Path, name: str, mmap: bool = True) -> EncodedSplit:
    """Memory-map one split; a missing, truncated or mismatched file is one clear error."""
    arrays = {}
    for field in ("ids", "lengths", "labels"):
        path = directory / f"{name}_{field}.npy"
        try:
            arrays[field] = np.load(path, mmap_mode="r" if mmap else None, allow_pickle=False)
        except FileNotFoundError:
            raise PipelineError(f"{path}: missing; run `dvc repro encode`") from None
        except (ValueError, OSError, EOFError) as error:
            raise PipelineError(f"{path}: unreadable or truncated array ({error})") from None
    split = EncodedSplit(**arrays)
    n = len(split.ids)
    if split.ids.ndim != 2 or len(split.lengths) != n or len(split.labels) != n:
        raise PipelineError(f"{directory}: {name} arrays disagree in shape")
    return split
