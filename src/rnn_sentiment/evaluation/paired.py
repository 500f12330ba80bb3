"""A candidate against the champion on the same test reviews, review by review.

The differences (candidate minus champion) in accuracy and ROC AUC get 95 % percentile-bootstrap
intervals, both models scored on the same resamples (``intervals``). McNemar's exact test looks
only at the discordant reviews, those exactly one model gets right: under "equally good" the
candidate is the one right on each with probability 1/2, so its count is Binomial(b + c, 1/2);
the p-value is two-sided, and 1 when there is no discordant review.
"""

from dataclasses import asdict, dataclass

import numpy as np
from scipy.stats import binomtest

from rnn_sentiment.evaluation.intervals import (
    RESAMPLES,
    SEED,
    RankedScores,
    correct,
    percentile_interval,
    resample_counts,
)


@dataclass(frozen=True)
class Paired:
    accuracy_diff: float
    accuracy_diff_ci_low: float
    accuracy_diff_ci_high: float
    roc_auc_diff: float
    roc_auc_diff_ci_low: float
    roc_auc_diff_ci_high: float
    candidate_only_right: int  # b: reviews the candidate gets right and the champion wrong
    champion_only_right: int  # c
    mcnemar_p: float

    def as_metrics(self) -> dict[str, float]:
        return {name: float(value) for name, value in asdict(self).items()}


def mcnemar_exact(candidate_only_right: int, champion_only_right: int) -> float:
    discordant = candidate_only_right + champion_only_right
    if discordant == 0:
        return 1.0
    return float(binomtest(candidate_only_right, discordant, 0.5).pvalue)


def compare(
    labels: np.ndarray,
    candidate: np.ndarray,
    champion: np.ndarray,
    resamples: int = RESAMPLES,
    seed: int = SEED,
) -> Paired:
    """``candidate`` and ``champion``: each model's positive-class probabilities for the same
    reviews, in the same order as ``labels``."""
    labels = np.asarray(labels).astype(int)
    candidate, champion = (np.asarray(p, dtype=float) for p in (candidate, champion))
    if not labels.shape == candidate.shape == champion.shape:
        raise ValueError(
            f"{labels.size} labels, {candidate.size} and {champion.size} probabilities"
        )
    candidate_right, champion_right = correct(labels, candidate), correct(labels, champion)
    gained = candidate_right.astype(float) - champion_right
    ranked = RankedScores(labels, candidate), RankedScores(labels, champion)
    accuracy, roc_auc = [], []
    for counts in resample_counts(labels.size, resamples, seed):
        accuracy.append(counts @ gained / labels.size)
        roc_auc.append(ranked[0].roc_auc(counts) - ranked[1].roc_auc(counts))
    ones = np.ones(labels.size)
    b = int(np.sum(candidate_right & ~champion_right))
    c = int(np.sum(champion_right & ~candidate_right))
    return Paired(
        float(gained.mean()),
        *percentile_interval(np.concatenate(accuracy)),
        float(ranked[0].roc_auc(ones)[0] - ranked[1].roc_auc(ones)[0]),
        *percentile_interval(np.concatenate(roc_auc)),
        candidate_only_right=b,
        champion_only_right=c,
        mcnemar_p=mcnemar_exact(b, c),
    )
