"""Unit tests for rnn_sentiment.metrics against hand counts and brute-force definitions."""

import itertools
import math

import numpy as np
import pytest

from rnn_sentiment.evaluation import metrics


def example(tp: int, fp: int, fn: int, tn: int, rng: np.random.Generator):
    """Labels/probabilities with exactly these confusion counts at threshold 0.5, shuffled."""
    labels = np.array([1] * tp + [0] * fp + [1] * fn + [0] * tn)
    probabilities = np.concatenate([
        rng.uniform(0.5, 1.0, tp), rng.uniform(0.5, 1.0, fp),
        rng.uniform(0.0, 0.4999, fn), rng.uniform(0.0, 0.4999, tn),
    ])
    probabilities[0] = 0.5  # exactly 0.5 counts as positive
    order = rng.permutation(len(labels))
    return labels[order], probabilities[order]


def test_classification_metrics_match_hand_counts():
    tp, fp, fn, tn = 7, 3, 2, 8
    labels, probabilities = example(tp, fp, fn, tn, np.random.default_rng(0))
    result = metrics.classification_metrics(labels, probabilities)
    precision = 7 / 10
    recall = 7 / 9
    assert result["accuracy"] == pytest.approx(15 / 20)
    assert result["precision"] == pytest.approx(precision)
    assert result["recall"] == pytest.approx(recall)
    assert result["f1"] == pytest.approx(2 * 7 / (2 * 7 + 3 + 2))
    assert result["f1"] == pytest.approx(2 * precision * recall / (precision + recall))
    expected_loss = -np.mean([math.log(p) if y else math.log(1 - p) for y, p in zip(labels, probabilities)])
    assert result["loss"] == pytest.approx(expected_loss)
    assert result["balanced_accuracy"] == pytest.approx((7 / 9 + 8 / 11) / 2)
    assert set(result) == {"accuracy", "balanced_accuracy", "precision", "recall", "f1", "roc_auc", "loss"}
    assert all(isinstance(v, float) for v in result.values())


def test_a_constant_prediction_has_a_balanced_accuracy_of_one_half_whatever_the_skew():
    labels = np.array([1] * 99 + [0])
    result = metrics.classification_metrics(labels, np.full(100, 0.9))
    assert result["accuracy"] == pytest.approx(0.99) and result["balanced_accuracy"] == pytest.approx(0.5)


def test_no_predicted_positives_gives_zero_precision_not_an_error():
    labels = np.array([1, 1, 0, 0])
    result = metrics.classification_metrics(labels, np.array([0.1, 0.2, 0.3, 0.4]))
    assert result["precision"] == 0.0 and result["recall"] == 0.0 and result["f1"] == 0.0
    assert result["accuracy"] == pytest.approx(0.5)


def test_loss_is_finite_for_confident_mistakes():
    result = metrics.classification_metrics(np.array([1, 0]), np.array([0.0, 1.0]))
    assert math.isfinite(result["loss"]) and result["loss"] > 10


def brute_force_auc(labels: np.ndarray, scores: np.ndarray) -> float:
    positives, negatives = scores[labels == 1], scores[labels == 0]
    wins = sum(1.0 if p > n else 0.5 if p == n else 0.0 for p, n in itertools.product(positives, negatives))
    return wins / (len(positives) * len(negatives))


@pytest.mark.parametrize("seed", range(6))
def test_roc_auc_equals_the_pairwise_definition(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(5, 80))
    labels = rng.integers(0, 2, n)
    labels[:2] = [0, 1]
    scores = rng.random(n)
    if seed % 2:  # many ties: scores on a coarse grid
        scores = np.round(scores * 4) / 4
    scores = np.where(labels == 1, np.minimum(scores + 0.2 * rng.random(n), 1.0), scores)
    assert metrics.roc_auc(labels, scores) == pytest.approx(brute_force_auc(labels, scores), abs=1e-12)


def test_roc_auc_extremes_and_single_class():
    labels = np.array([0, 0, 1, 1])
    assert metrics.roc_auc(labels, np.array([0.1, 0.2, 0.8, 0.9])) == pytest.approx(1.0)
    assert metrics.roc_auc(labels, np.array([0.9, 0.8, 0.2, 0.1])) == pytest.approx(0.0)
    assert metrics.roc_auc(labels, np.full(4, 0.5)) == pytest.approx(0.5)
    assert math.isnan(metrics.roc_auc(np.ones(3), np.array([0.1, 0.5, 0.9])))


@pytest.mark.parametrize("n", [2, 10, 1000])
def test_roc_curve_runs_from_origin_to_one_one(n):
    rng = np.random.default_rng(n)
    labels = rng.integers(0, 2, n)
    labels[:2] = [0, 1]
    scores = rng.random(n)
    curve = metrics.roc_curve(labels, scores)
    assert list(curve.columns[:2]) == ["fpr", "tpr"]
    assert (curve["fpr"].iloc[0], curve["tpr"].iloc[0]) == (0.0, 0.0)
    assert (curve["fpr"].iloc[-1], curve["tpr"].iloc[-1]) == (1.0, 1.0)
    assert np.all(np.diff(curve["fpr"]) >= 0) and np.all(np.diff(curve["tpr"]) >= 0)
    assert len(curve) <= metrics.CURVE_POINTS


def test_roc_curve_points_on_a_hand_example():
    labels = np.array([1, 0, 1, 0])
    scores = np.array([0.9, 0.7, 0.7, 0.1])  # one tie between a positive and a negative
    curve = metrics.roc_curve(labels, scores)
    points = list(zip(curve["fpr"], curve["tpr"]))
    assert points == [(0.0, 0.0), (0.0, 0.5), (0.5, 1.0), (1.0, 1.0)]
    # trapezoid area under these points equals the rank-based AUC (tie counted half)
    fpr, tpr = curve["fpr"].to_numpy(), curve["tpr"].to_numpy()
    area = float(np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1]) / 2))
    assert area == pytest.approx(metrics.roc_auc(labels, scores)) == pytest.approx(0.875)


def test_precision_recall_curve_ends_at_full_recall():
    rng = np.random.default_rng(5)
    labels = rng.integers(0, 2, 300)
    scores = rng.random(300)
    curve = metrics.precision_recall_curve(labels, scores)
    assert curve["recall"].iloc[-1] == 1.0
    assert curve["precision"].iloc[-1] == pytest.approx(labels.mean(), abs=1e-6)
    assert np.all(np.diff(curve["recall"]) >= 0)
