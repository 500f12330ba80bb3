"""95 % intervals for test accuracy and ROC AUC: the percentile bootstrap, with a fixed seed.

A resample draws n reviews with replacement from the n test reviews (numpy's default generator,
seeded). Blocks of resamples are scored at once in numpy, with no Python loop over reviews: the
scores are ranked once, and a resample's ROC AUC comes from counting its reviews per tied score.
ROC AUC is undefined on a resample that holds one class only: such resamples are skipped (NaN, left
out of the percentiles), and where every resample is skipped the interval is NaN, like the ROC AUC
of a test split of one class.
"""

from collections.abc import Iterator

import numpy as np

RESAMPLES = 1000
SEED = 0
TAILS = (2.5, 97.5)  # percentiles of the resampled statistic that bound the 95 % interval
BLOCK = 50  # resamples drawn and scored together: 50 x 25,000 indices are 10 MB


def resamples_of(n: int, resamples: int, seed: int) -> Iterator[np.ndarray]:
    """Blocks of resamples, each row the indices of the n reviews drawn with replacement."""
    if n < 1 or resamples < 1:
        raise ValueError(f"need reviews and resamples, got n={n}, resamples={resamples}")
    rng = np.random.default_rng(seed)
    for start in range(0, resamples, BLOCK):
        yield rng.integers(0, n, size=(min(BLOCK, resamples - start), n))


class RankedScores:
    """Each review's group of tied scores, groups in ascending order of score, computed once; then
    the ROC AUC of a resample is a count of (group, label) pairs and a cumulative sum over groups."""

    def __init__(self, labels: np.ndarray, scores: np.ndarray):
        distinct, self.group = np.unique(np.asarray(scores), return_inverse=True)
        self.groups = distinct.size
        self.positive = (np.asarray(labels) == 1).astype(np.int64)

    def roc_auc(self, picks: np.ndarray) -> np.ndarray:
        """ROC AUC of each row of ``picks`` [resamples, reviews drawn]: scikit-learn's
        ``roc_auc_score`` of the drawn reviews (a tie with the other class counts half); NaN where a
        row drew one class only."""
        picks = np.atleast_2d(picks)
        rows = picks.shape[0]
        cells = np.arange(rows)[:, None] * self.groups + self.group[picks]
        keys = cells * 2 + self.positive[picks]
        counts = np.bincount(keys.ravel(), minlength=rows * self.groups * 2)
        counts = counts.reshape(rows, self.groups, 2).astype(float)
        negatives, positives = counts[..., 0], counts[..., 1]
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
    for picks in resamples_of(labels.size, resamples, seed):
        accuracy.append(right[picks].mean(axis=1))
        roc_auc.append(ranked.roc_auc(picks))
    accuracy_low, accuracy_high = percentile_interval(np.concatenate(accuracy))
    roc_low, roc_high = percentile_interval(np.concatenate(roc_auc))
    return {
        "accuracy_ci_low": accuracy_low,
        "accuracy_ci_high": accuracy_high,
        "roc_auc_ci_low": roc_low,
        "roc_auc_ci_high": roc_high,
    }
