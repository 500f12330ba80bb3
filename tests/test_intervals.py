"""95 % bootstrap intervals of test accuracy and ROC AUC: right where the answer is known, the
same for the same seed, and as wide as the binomial standard error says."""

import math

import numpy as np
import pytest
from sklearn import metrics as sk

from rnn_sentiment.evaluation.intervals import RankedScores, bootstrap_intervals, resamples_of


def noisy_scores(n: int, accuracy: float, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Balanced labels and probabilities right on exactly ``accuracy`` of them, at spread scores."""
    rng = np.random.default_rng(seed)
    labels = np.arange(n) % 2
    right = rng.permutation(n) < round(accuracy * n)
    confidence = 0.5 + rng.random(n) * 0.49
    return labels, np.where(right == (labels == 1), confidence, 1 - confidence)


def test_a_perfect_classifier_has_intervals_of_one_point():
    labels = np.array([0, 1] * 50)
    assert bootstrap_intervals(labels, labels * 0.8 + 0.1) == {
        "accuracy_ci_low": 1.0,
        "accuracy_ci_high": 1.0,
        "roc_auc_ci_low": 1.0,
        "roc_auc_ci_high": 1.0,
    }


def test_the_accuracy_interval_is_as_wide_as_the_binomial_standard_error_and_holds_the_estimate():
    labels, probabilities = noisy_scores(4000, 0.8)
    found = bootstrap_intervals(labels, probabilities)
    half_width = 1.96 * math.sqrt(0.8 * 0.2 / 4000)
    assert found["accuracy_ci_low"] < 0.8 < found["accuracy_ci_high"]
    width = found["accuracy_ci_high"] - found["accuracy_ci_low"]
    assert width == pytest.approx(2 * half_width, rel=0.12)
    roc_auc = sk.roc_auc_score(labels, probabilities)
    assert found["roc_auc_ci_low"] < roc_auc < found["roc_auc_ci_high"]


def test_the_same_seed_gives_the_same_interval_and_another_seed_another():
    labels, probabilities = noisy_scores(500, 0.7)
    first = bootstrap_intervals(labels, probabilities, resamples=200, seed=3)
    assert bootstrap_intervals(labels, probabilities, resamples=200, seed=3) == first
    assert bootstrap_intervals(labels, probabilities, resamples=200, seed=4) != first


def test_more_reviews_give_a_narrower_interval():
    widths = []
    for n in (400, 6400):
        found = bootstrap_intervals(*noisy_scores(n, 0.75), resamples=300)
        widths.append(found["accuracy_ci_high"] - found["accuracy_ci_low"])
    assert widths[1] == pytest.approx(widths[0] / 4, rel=0.3), "a standard error ~ 1/sqrt(n)"


def test_roc_auc_of_each_resample_equals_sklearn_on_the_drawn_reviews_ties_included():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 2, 300)
    scores = np.round(rng.random(300) * 8) / 8  # many ties
    picks = next(resamples_of(300, 5, seed=0))
    assert picks.shape == (5, 300) and len(np.unique(picks[0])) < 300, "drawn with replacement"
    expected = [sk.roc_auc_score(labels[row], scores[row]) for row in picks]
    assert RankedScores(labels, scores).roc_auc(picks) == pytest.approx(expected, abs=1e-12)


def test_resamples_of_one_class_are_skipped_and_a_test_split_of_one_class_has_no_roc_auc_interval():
    # three reviews: a resample holds one class only with probability 2/27, and many do in 400
    labels, probabilities = np.array([0, 1, 1]), np.array([0.2, 0.9, 0.4])
    picks = np.concatenate(list(resamples_of(3, 400, seed=0)))
    negatives = (picks == 0).sum(axis=1)
    one_class = (negatives == 0) | (negatives == 3)
    assert one_class.any()
    values = RankedScores(labels, probabilities).roc_auc(picks)
    assert np.isnan(values[one_class]).all() and not np.isnan(values[~one_class]).any()
    found = bootstrap_intervals(labels, probabilities, resamples=400)
    assert 0.0 <= found["roc_auc_ci_low"] <= found["roc_auc_ci_high"] <= 1.0

    alone = bootstrap_intervals(np.ones(10), np.linspace(0.1, 0.9, 10), resamples=50)
    assert math.isnan(alone["roc_auc_ci_low"]) and math.isnan(alone["roc_auc_ci_high"])
    assert alone["accuracy_ci_low"] <= 0.6 <= alone["accuracy_ci_high"]


def test_labels_and_probabilities_of_different_lengths_are_refused():
    with pytest.raises(ValueError, match="3 labels but 2 probabilities"):
        bootstrap_intervals(np.array([0, 1, 1]), np.array([0.2, 0.9]))
