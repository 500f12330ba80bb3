"""A candidate against the champion on the same reviews: the paired differences with their
intervals, and McNemar's exact p-value, where the answer is known by construction."""

import numpy as np
import pytest
from sklearn import metrics as sk

from rnn_sentiment.evaluation.paired import Paired, compare, mcnemar_exact


def models(n: int = 1000, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 2, n)
    return labels, np.clip(labels * 0.3 + rng.random(n) * 0.7, 0.0, 1.0)


def test_identical_predictions_differ_by_nothing_and_have_p_one():
    labels, probabilities = models()
    found = compare(labels, probabilities, probabilities.copy())
    assert found == Paired(0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0, 0, 1.0)


def test_a_candidate_right_on_ten_more_reviews_and_wrong_on_none_has_the_exact_binomial_p():
    labels, champion = models()
    wrong = np.flatnonzero((champion >= 0.5) != (labels == 1))[:10]
    candidate = champion.copy()
    candidate[wrong] = np.where(labels[wrong] == 1, 0.9, 0.1)
    found = compare(labels, candidate, champion)
    assert (found.candidate_only_right, found.champion_only_right) == (10, 0)
    assert found.mcnemar_p == pytest.approx(2 * 0.5**10)
    assert found.accuracy_diff == pytest.approx(10 / len(labels))
    assert found.accuracy_diff_ci_low <= found.accuracy_diff <= found.accuracy_diff_ci_high
    assert found.accuracy_diff_ci_low >= 0.0, "no resample can make the candidate worse"
    expected = sk.roc_auc_score(labels, candidate) - sk.roc_auc_score(labels, champion)
    assert found.roc_auc_diff == pytest.approx(expected, abs=1e-12) and expected > 0


def test_swapping_the_models_negates_the_differences_and_keeps_the_p_value():
    labels, champion = models()
    _, candidate = models(seed=1)
    forward, backward = compare(labels, candidate, champion), compare(labels, champion, candidate)
    assert (forward.candidate_only_right, forward.champion_only_right) == (
        backward.champion_only_right,
        backward.candidate_only_right,
    )
    assert forward.mcnemar_p == pytest.approx(backward.mcnemar_p)
    assert forward.accuracy_diff == pytest.approx(-backward.accuracy_diff)
    assert forward.accuracy_diff_ci_low == pytest.approx(-backward.accuracy_diff_ci_high)
    assert forward.roc_auc_diff_ci_high == pytest.approx(-backward.roc_auc_diff_ci_low)


def test_mcnemar_counts_only_discordant_reviews():
    assert mcnemar_exact(0, 0) == 1.0
    assert mcnemar_exact(5, 5) == 1.0
    assert mcnemar_exact(0, 10) == mcnemar_exact(10, 0) == pytest.approx(2 * 0.5**10)
    assert mcnemar_exact(60, 40) == pytest.approx(0.0569, abs=1e-4)  # binomial tables


def test_as_metrics_is_flat_and_numeric():
    labels, probabilities = models(200)
    found = compare(labels, probabilities, 1 - probabilities, resamples=100).as_metrics()
    assert set(found) == {
        "accuracy_diff",
        "accuracy_diff_ci_low",
        "accuracy_diff_ci_high",
        "roc_auc_diff",
        "roc_auc_diff_ci_low",
        "roc_auc_diff_ci_high",
        "candidate_only_right",
        "champion_only_right",
        "mcnemar_p",
    }
    assert all(isinstance(value, float) for value in found.values())


def test_predictions_for_other_reviews_are_refused():
    with pytest.raises(ValueError, match="3 labels, 3 and 2 probabilities"):
        compare(np.array([0, 1, 1]), np.array([0.1, 0.8, 0.7]), np.array([0.1, 0.8]))
