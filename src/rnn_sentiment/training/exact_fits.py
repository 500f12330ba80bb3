"""The two parts fitted exactly rather than by the epoch loop: the n-gram path, once, on the
training bags; and the combiner, after every epoch, on the paths' validation logits."""

import warnings

import numpy as np
import pandas as pd
import torch

from rnn_sentiment.model.network import SentimentClassifier
from rnn_sentiment.text.encoding import EncodedSplit, row_blocks
from rnn_sentiment.text.ngrams import log_count_ratios
from rnn_sentiment.training import linear

COMBINER_C = 100.0  # the combiner's three weights barely need regularising; this keeps them finite
NORM_FLOOR = 1e-12


def bag_matrix(split: EncodedSplit, ratios: np.ndarray) -> torch.Tensor:
    """A split's n-gram bags as a sparse CSR matrix [reviews, features]: each present n-gram holds
    its ratio, and each row has unit L2 norm (what NgramPath computes).

    Eight bytes per entry (int32 column, float32 value): the float64 arithmetic runs BLOCK_ROWS
    reviews at a time."""
    offsets = np.asarray(split.ngram_offsets, dtype=np.int64)
    index = np.int32 if max(offsets[-1], len(ratios)) < 2**31 else np.int64
    columns = np.require(split.ngram_ids, index, ["C", "W"])  # a copy of a read-only memory map
    values = np.empty(len(columns), dtype=np.float32)
    reviews = len(offsets) - 1
    for first, last in row_blocks(reviews):
        low, high = offsets[first], offsets[last]
        sizes = np.diff(offsets[first : last + 1])
        part = ratios[columns[low:high]]
        row = np.repeat(np.arange(last - first), sizes)
        norms = np.sqrt(np.bincount(row, weights=part**2, minlength=last - first))
        values[low:high] = part / np.maximum(norms, NORM_FLOOR)[row]
    warnings.filterwarnings("ignore", message="Sparse CSR tensor support is in beta")
    return torch.sparse_csr_tensor(
        torch.from_numpy(offsets.astype(index)),
        torch.from_numpy(columns),
        torch.from_numpy(values),
        size=(reviews, len(ratios)),
        check_invariants=False,
    )


def sample(split: EncodedSplit, most: int, seed: int) -> EncodedSplit:
    """The split if it has at most ``most`` reviews, else a seeded random ``most`` of them (in
    split order), read into memory."""
    if len(split.lengths) <= most:
        return split
    rows = np.random.default_rng(seed).choice(len(split.lengths), most, replace=False)
    return split.rows(np.sort(rows))


def fit_ngram_path(
    model: SentimentClassifier,
    table: pd.DataFrame,
    train: EncodedSplit,
    val: EncodedSplit,
    grid: list[float],
    priors: list[float],
    most_reviews: int,
    seed: int,
) -> tuple[tuple[float, float], dict[tuple[float, float], float]]:
    """Logistic regression, without a bias, on the training bags scaled by NB ratios and
    normalised per review, its penalty pulling each weight toward a prior (0: plain ridge; 1: the
    weights of naive Bayes itself, which NBSVM interpolates toward); prior and C chosen on
    validation ROC AUC. Stored in ``model.ngrams``. Returns the (prior, C) kept and each pair's
    validation AUC.

    The fit holds its bags as one sparse matrix (and the training one's transpose), so each split
    is cut to a seeded sample of ``most_reviews``: the fit's memory is bounded however large the
    corpus (the NB ratios still come from every training review's counts)."""
    ratios = log_count_ratios(table)
    train, val = sample(train, most_reviews, seed), sample(val, most_reviews, seed)
    fitted, scores = linear.fit_on_grid(
        bag_matrix(train, ratios),
        np.asarray(train.labels),
        bag_matrix(val, ratios),
        np.asarray(val.labels),
        grid,
        priors,
        intercept=False,
    )
    model.ngrams.set(torch.from_numpy(ratios), fitted.weight)
    return (fitted.prior, fitted.C), scores


def fit_combiner(model: SentimentClassifier, logits: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Fit ``model.combine`` on the paths' validation logits [reviews, paths]; return its logits.

    A path's weight is never negative: on a small validation split a path that has learned little
    (one epoch on a few thousand reviews) can get a large negative weight that only fits noise.
    Such a path is left out (weight 0) and the others refitted."""
    kept = list(range(logits.shape[1]))
    while True:
        fitted = linear.fit(torch.from_numpy(logits[:, kept]), labels, COMBINER_C)
        if (fitted.weight >= 0).all() or len(kept) == 1:
            break
        kept.pop(int(fitted.weight.argmin()))
    weights = np.zeros(logits.shape[1])
    weights[kept] = fitted.weight.numpy()
    with torch.no_grad():
        model.combine.weight.copy_(torch.from_numpy(weights).float().unsqueeze(0))
        model.combine.bias.fill_(fitted.bias)
    return logits @ weights + fitted.bias
