"""95 % intervals for test accuracy and ROC AUC: the percentile bootstrap, with a fixed seed.

A resample draws n reviews with replacement from the n test reviews. It is held as a vector of
counts over the reviews, so every statistic of a resample is a weighted one over the reviews, which
are sorted by score once: the resamples are scored a block at a time in numpy, without Python loops
over reviews. ROC AUC is undefined on a resample that holds one class only: such resamples are
skipped (NaN, left out of the percentiles), and where every resample is skipped the interval is NaN,
like the ROC AUC of a test split of one class.
"""

from collections.abc import Iterator

import numpy as np

RESAMPLES = 1000
SEED = 0
TAILS = (2.5, 97.5)  # percentiles of the resampled statistic that bound the 95 % interval
BLOCK = 50  # resamples drawn and scored together: 50 x 25,000 counts is 10 MB


def resample_counts(n: int, resamples: int, seed: int) -> Iterator[np.ndarray]:
    """Blocks of resamples, each row how often each of the n reviews was drawn (summing to n)."""
    if n < 1 or resamples < 1:
        raise ValueError(f"need reviews and resamples, got n={n}, resamples={resamples}")
    rng = np.random.default_rng(seed)
    for start in range(0, resamples, BLOCK):
        rows = min(BLOCK, resamples - start)
        picks = rng.integers(0, n, size=(rows, n)) + (np.arange(rows) * n)[:, None]
        yield np.bincount(picks.ravel(), minlength=rows * n).reshape(rows, n)


class RankedScores:
    """Labels and scores sorted once, for the ROC AUC of any weighting of the reviews."""

    def __init__(self, labels: np.ndarray, scores: np.ndarray):
        self.order = np.argsort(scores, kind="stable")
        ranked = np.asarray(scores)[self.order]
        # each run of tied scores is one group: its pairs with the other class count half
        self.starts = np.flatnonzero(np.r_[True, ranked[1:] != ranked[:-1]])
        self.positive = np.asarray(labels)[self.order] == 1

    def roc_auc(self, weights: np.ndarray) -> np.ndarray:
        """ROC AUC of each row of ``weights`` [resamples, reviews]; NaN where a row weighs one class
        only. Equals scikit-learn's ``roc_auc_score`` with ``sample_weight``."""
        weights = np.atleast_2d(weights)[:, self.order].astype(float)
        positives = np.add.reduceat(np.where(self.positive, weights, 0.0), self.starts, axis=1)
        negatives = np.add.reduceat(np.where(self.positive, 0.0, weights), self.starts, axis=1)
        below = np.cumsum(negatives, axis=1) - negatives
        pairs = positives.sum(axis=1) * negatives.sum(axis=1)
        won = (positives * (below + 0.5 * negatives)).sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(pairs > 0, won / pairs, np.nan)


def percentile_interval(values: np.ndarray) -> tuple[float, float]:
    """The 95 % percentile interval of the resampled values that are not NaN; NaN if none is."""
    values = np.asarray(values, dtype=float)
    kept = values[~np.isnan(values)]
    if kept.size == 0:
        return float("nan"), float("nan")
    low, high = np.percentile(kept, TAILS)
    return float(low), float(high)


def correct(labels: np.ndarray, probabilities: np.ndarray) -> np.ndarray:
    """Whether each review is classified right at threshold 0.5 (inclusive), as the metrics do."""
    return (np.asarray(probabilities) >= 0.5) == (np.asarray(labels) == 1)


def bootstrap_intervals(
    labels: np.ndarray, probabilities: np.ndarray, resamples: int = RESAMPLES, seed: int = SEED
) -> dict[str, float]:
    """95 % percentile-bootstrap intervals of test accuracy and ROC AUC."""
    labels = np.asarray(labels).astype(int)
    probabilities = np.asarray(probabilities, dtype=float)
    if labels.shape != probabilities.shape:
        raise ValueError(f"{labels.size} labels but {probabilities.size} probabilities")
    right = correct(labels, probabilities).astype(float)
    ranked = RankedScores(labels, probabilities)
    accuracy, roc_auc = [], []
    for counts in resample_counts(labels.size, resamples, seed):
        accuracy.append(counts @ right / labels.size)
        roc_auc.append(ranked.roc_auc(counts))
    accuracy_low, accuracy_high = percentile_interval(np.concatenate(accuracy))
    roc_low, roc_high = percentile_interval(np.concatenate(roc_auc))
    return {
        "accuracy_ci_low": accuracy_low,
        "accuracy_ci_high": accuracy_high,
        "roc_auc_ci_low": roc_low,
        "roc_auc_ci_high": roc_high,
    }
