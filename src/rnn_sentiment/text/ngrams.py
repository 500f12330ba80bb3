"""Word n-grams for the NB-weighted linear path: counted in training reviews, kept by document
frequency, and encoded as each review's set of n-gram ids (a binary bag over the whole review).

An n-gram is held as an integer key over a token index of size ``U``: a unigram ``a`` is ``a``,
a bigram ``U + a*U + b``, a trigram ``U + U^2 + (a*U + b)*U + c``, so orders never collide. Keys
are built for a whole chunk of reviews at once (never across two reviews) and looked up with a
hash index: no Python loop per token. The table on disk (``ngrams.tsv``) names each n-gram by
its tokens joined with a space, with the training reviews holding it per class.
"""

from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from rnn_sentiment.core.errors import PipelineError
from rnn_sentiment.core.files import read_tsv, write_tsv

MAX_ORDER = 3
MAX_TOKENS = 2_090_000  # U + U^2 + U^3 stays below 2^63
COLUMNS = ["ngram", "positive", "negative"]


def run_starts(ordered: np.ndarray) -> np.ndarray:
    """Index of the first element of each run of equal values in a sorted array."""
    first = np.empty(len(ordered), dtype=bool)
    first[:1] = True
    np.not_equal(ordered[1:], ordered[:-1], out=first[1:])
    return np.flatnonzero(first)


def sorted_unique(values: np.ndarray) -> np.ndarray:
    """Distinct values of an int64 array, sorted: a sort and a neighbour comparison, several
    times faster than ``np.unique`` on tens of millions of keys."""
    ordered = np.sort(values)
    return ordered[run_starts(ordered)]


def ngram_keys(
    ids: np.ndarray, rows: np.ndarray, base: int, order: int
) -> tuple[np.ndarray, np.ndarray]:
    """Keys of every 1..``order``-gram of known tokens (id >= 0) inside one row, and their rows.

    ``ids``/``rows``: a chunk's tokens, flat, rows contiguous and non-decreasing."""
    keys, key_rows = [], []
    known = ids >= 0
    key, ok, offset = ids.copy(), known.copy(), 0
    for n in range(1, order + 1):
        if n > 1:
            length = len(ids) - n + 1
            if length <= 0:
                break
            key = key[:length] * base + ids[n - 1 :]
            ok = ok[:length] & known[n - 1 :] & (rows[:length] == rows[n - 1 :])
        keys.append(key[ok] + offset)
        key_rows.append(rows[: len(ok)][ok])
        offset += base**n
    return np.concatenate(keys), np.concatenate(key_rows)


def flatten(tokens: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Token lists -> (tokens as one flat object array, the row of each)."""
    counts = tokens.str.len().to_numpy(dtype=np.int64)
    rows = np.repeat(np.arange(len(counts), dtype=np.int64), counts)
    filled = tokens[counts > 0]
    flat = filled.explode().to_numpy(dtype=object) if len(filled) else np.empty(0, dtype=object)
    return flat, rows


def _token_index(tokens: pd.Index) -> pd.Index:
    if len(tokens) >= MAX_TOKENS:
        raise PipelineError(
            f"ngrams: {len(tokens)} distinct tokens; n-gram keys need under {MAX_TOKENS}"
        )
    return tokens


class NgramCounter:
    """Training reviews holding each n-gram, per class, added chunk by chunk, in bounded memory.

    Only n-grams of ``tokens`` (those frequent enough to reach ``min_df``) are counted. The
    running totals are sorted key arrays, merged after each chunk. When they pass ``capacity``
    n-grams they are pruned to the half held by the most reviews, as lossy counting does (Manku &
    Motwani 2002): an n-gram that comes back after a prune may miss at most ``floor`` reviews
    (its ``slack``, the floor when it came back), so every n-gram in more than ``floor`` reviews
    is kept and its count is at most ``floor`` short. Until the first prune the counts are exact
    (``floor`` 0)."""

    def __init__(self, tokens: pd.Index, order: int, capacity: int):
        self.tokens, self.order, self.capacity = _token_index(tokens), order, capacity
        self.keys = np.empty(0, dtype=np.int64)
        self.counts = np.empty((0, 2), dtype=np.int32)  # [negative, positive] reviews per key
        self.slack = np.empty(0, dtype=np.int32)
        self.floor = 0

    def add(self, tokens: pd.Series, labels: np.ndarray) -> None:
        flat, rows = flatten(tokens.reset_index(drop=True))
        keys, key_rows = ngram_keys(
            self.tokens.get_indexer(flat).astype(np.int64), rows, len(self.tokens), self.order
        )
        key_labels = np.asarray(labels)[key_rows]
        chunk_keys, chunk_counts = [self.keys], [self.counts]
        for label in (0, 1):
            distinct, reviews = _count_documents(
                keys[key_labels == label], key_rows[key_labels == label]
            )
            counts = np.zeros((len(distinct), 2), dtype=np.int32)
            counts[:, label] = reviews
            chunk_keys.append(distinct)
            chunk_counts.append(counts)
        self._merge(np.concatenate(chunk_keys), np.concatenate(chunk_counts))
        if len(self.keys) > self.capacity:
            self._prune()

    def _merge(self, keys: np.ndarray, counts: np.ndarray) -> None:
        """Sum the counts of equal keys; a key new to the totals gets the current floor as slack."""
        slack = np.full(len(keys), self.floor, dtype=np.int32)
        slack[: len(self.slack)] = self.slack
        order = np.argsort(keys, kind="stable")
        keys, counts, slack = keys[order], counts[order], slack[order]
        starts = run_starts(keys)
        self.keys = keys[starts]
        self.counts = np.add.reduceat(counts, starts, axis=0) if len(keys) else counts
        self.slack = slack[starts]  # stable: an existing key's own slack comes first

    def _prune(self) -> None:
        """Keep the ``capacity // 2`` n-grams whose reviews (counted plus slack) are most; ties at
        the cut go together. The floor rises to the most any dropped n-gram could have had."""
        bound = self.counts.sum(axis=1, dtype=np.int64) + self.slack
        cut = np.partition(bound, len(bound) - self.capacity // 2)[len(bound) - self.capacity // 2]
        kept = bound > cut
        self.floor = max(self.floor, int(cut))
        self.keys, self.counts, self.slack = self.keys[kept], self.counts[kept], self.slack[kept]

    def table(self, min_df: int, max_features: int) -> pd.DataFrame:
        """The ``max_features`` n-grams in most reviews (at least ``min_df``), most frequent first,
        ties by key: columns ngram, positive, negative."""
        df = self.counts.sum(axis=1)
        candidates = np.flatnonzero(df >= min_df)
        chosen = candidates[np.lexsort((self.keys[candidates], -df[candidates]))[:max_features]]
        return pd.DataFrame(
            {
                "ngram": self._strings(self.keys[chosen]),
                "positive": self.counts[chosen, 1],
                "negative": self.counts[chosen, 0],
            }
        )

    def _strings(self, keys: np.ndarray) -> np.ndarray:
        """Keys back to their tokens joined by spaces."""
        base, out = len(self.tokens), np.empty(len(keys), dtype=object)
        tokens = self.tokens.to_numpy(dtype=object)
        offset = 0
        for n in range(1, self.order + 1):
            in_order = (keys >= offset) & (keys < offset + base**n)
            rest = keys[in_order] - offset
            parts = []
            for _ in range(n):
                parts.append(tokens[rest % base])
                rest = rest // base
            words = parts[::-1]
            joined = words[0]
            for word in words[1:]:
                joined = joined + " " + word
            out[in_order] = joined
            offset += base**n
        return out


def _count_documents(keys: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct keys and the number of distinct rows holding each."""
    if not len(keys):
        return keys, np.empty(0, dtype=np.int64)
    codes, uniques = pd.factorize(keys)
    pairs = sorted_unique(rows * len(uniques) + codes)
    return uniques, np.bincount(pairs % len(uniques), minlength=len(uniques))


class NgramIndex:
    """Feature ids of the n-grams of a table, in table order: what the n-gram path reads."""

    def __init__(self, ngrams: Iterable[str]):
        ngrams = pd.Series(list(ngrams), dtype=object)
        parts = ngrams.str.split(" ")
        sizes = parts.str.len().to_numpy(dtype=np.int64)
        self.order = int(sizes.max()) if len(sizes) else 1
        flat, rows = flatten(parts)
        self.tokens = _token_index(pd.Index(pd.unique(flat)))
        keys, key_rows = ngram_keys(
            self.tokens.get_indexer(flat).astype(np.int64), rows, len(self.tokens), self.order
        )
        whole = _whole_ngram_keys(keys, key_rows, sizes, len(self.tokens))
        self.keys = pd.Index(whole)
        self.size = len(ngrams)

    def encode(self, tokens: pd.Series) -> tuple[np.ndarray, np.ndarray]:
        """Each review's distinct n-gram ids as CSR: (ids int32, sorted per review; offsets int64, reviews + 1)."""
        flat, rows = flatten(tokens.reset_index(drop=True))
        offsets = np.zeros(len(tokens) + 1, dtype=np.int64)
        if not self.size or not len(flat):
            return np.empty(0, dtype=np.int32), offsets
        keys, key_rows = ngram_keys(
            self.tokens.get_indexer(flat).astype(np.int64), rows, len(self.tokens), self.order
        )
        features = self.keys.get_indexer(keys).astype(np.int64)
        found = features >= 0
        pairs = sorted_unique(key_rows[found] * self.size + features[found])
        np.cumsum(np.bincount(pairs // self.size, minlength=len(tokens)), out=offsets[1:])
        return (pairs % self.size).astype(np.int32), offsets


def _whole_ngram_keys(
    keys: np.ndarray, rows: np.ndarray, sizes: np.ndarray, base: int
) -> np.ndarray:
    """Of the keys ``ngram_keys`` gives for each table row, the one spanning the whole row."""
    offset_of = np.cumsum([0] + [base**n for n in range(1, MAX_ORDER + 1)])
    whole = np.empty(len(sizes), dtype=np.int64)
    for n in np.unique(sizes):
        low, high = offset_of[n - 1], offset_of[n]
        mine = (keys >= low) & (keys < high) & (sizes[rows] == n)
        whole[rows[mine]] = keys[mine]
    return whole


def log_count_ratios(table: pd.DataFrame, alpha: float = 1.0) -> np.ndarray:
    """NB log-count ratios r = log((p/|p|_1) / (q/|q|_1)), p and q the per-class review counts
    plus ``alpha`` (Wang & Manning 2012)."""
    p = alpha + table["positive"].to_numpy(dtype=np.float64)
    q = alpha + table["negative"].to_numpy(dtype=np.float64)
    return np.log((p / p.sum()) / (q / q.sum()))


def stats(table: pd.DataFrame, counter: NgramCounter) -> dict:
    reviews = table["positive"] + table["negative"]
    return {
        "ngrams_counted": int(len(counter.keys)),
        # 0: exact; else the reviews a kept n-gram's count may miss after the counter was pruned
        "ngram_count_floor": counter.floor,
        "ngrams_kept": int(len(table)),
        "ngram_min_reviews_kept": int(reviews.min()) if len(table) else 0,
    }


def write(table: pd.DataFrame, path: Path) -> None:
    write_tsv(table, path)


def read(path: Path) -> pd.DataFrame:
    table = read_tsv(path, "ngram", "the n-gram table")
    if list(table.columns) != COLUMNS:
        raise PipelineError(f"{path}: not an n-gram table (expects columns {', '.join(COLUMNS)})")
    return table
