"""The pipeline's metrics and curves are scikit-learn's, called right: threshold 0.5 inclusive, AUC from
probabilities (ties counted half), both classes known to the loss, curves in the orientation written."""

import math
import warnings

import numpy as np
import pytest
from sklearn import metrics as sk
from sklearn.exceptions import UndefinedMetricWarning

from rnn_sentiment.evaluation import metrics


def test_scores_equal_sklearn_with_tied_scores_and_probabilities_at_the_threshold():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 2, 60)
    # a coarse grid: many ties, some exactly 0.5, 0 and 1
    probabilities = np.round(rng.random(60) * 4) / 4
    assert (probabilities == 0.5).any() and (labels == 0).any() and (labels == 1).any()
    predicted = probabilities >= 0.5
    expected = {
        "accuracy": sk.accuracy_score(labels, predicted),
        "balanced_accuracy": sk.balanced_accuracy_score(labels, predicted),
        "precision": sk.precision_score(labels, predicted),
        "recall": sk.recall_score(labels, predicted),
        "f1": sk.f1_score(labels, predicted),
        "roc_auc": sk.roc_auc_score(labels, probabilities),
        "loss": sk.log_loss(labels, probabilities),
    }
    result = metrics.classification_metrics(labels, probabilities)
    assert result == pytest.approx(expected, abs=1e-12)
    assert all(type(v) is float and math.isfinite(v) for v in result.values())


def test_a_tie_between_a_positive_and_a_negative_counts_half_in_the_auc_and_the_curve():
    labels = np.array([1, 0, 1, 0])
    scores = np.array([0.9, 0.7, 0.7, 0.1])
    assert metrics.roc_auc(labels, scores) == pytest.approx(0.875)  # 3 pairs won, 1 tied, of 4
    curve = metrics.roc_curve(labels, scores)
    assert list(zip(curve["fpr"], curve["tpr"], strict=True)) == [
        (0.0, 0.0),
        (0.0, 0.5),
        (0.5, 1.0),
        (1.0, 1.0),
    ]
    fpr, tpr = curve["fpr"].to_numpy(), curve["tpr"].to_numpy()
    assert float(np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1]) / 2)) == pytest.approx(0.875)


@pytest.mark.parametrize("label", [0, 1])
def test_a_single_class_gives_an_undefined_auc_and_finite_other_scores(label):
    labels = np.full(4, label)
    with pytest.warns(UndefinedMetricWarning, match="Only one class"):
        result = metrics.classification_metrics(labels, np.array([0.1, 0.4, 0.6, 0.9]))
    assert math.isnan(result["roc_auc"])
    assert result["accuracy"] == pytest.approx(0.5)
    assert all(math.isfinite(v) for name, v in result.items() if name != "roc_auc")


def test_no_predicted_positives_gives_zero_precision_without_a_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = metrics.classification_metrics(
            np.array([1, 1, 0, 0]), np.array([0.1, 0.2, 0.3, 0.4])
        )
    assert (result["precision"], result["recall"], result["f1"], result["accuracy"]) == (
        0.0,
        0.0,
        0.0,
        0.5,
    )


def test_curves_are_thinned_numeric_and_run_to_full_recall():
    rng = np.random.default_rng(5)
    labels = rng.integers(0, 2, 1000)
    scores = rng.random(1000)
    roc = metrics.roc_curve(labels, scores)
    assert list(roc.columns) == ["fpr", "tpr", "threshold"] and len(roc) <= metrics.CURVE_POINTS
    assert (roc["fpr"].iloc[0], roc["tpr"].iloc[0], roc["fpr"].iloc[-1], roc["tpr"].iloc[-1]) == (
        0,
        0,
        1,
        1,
    )
    assert np.isfinite(roc["threshold"]).all() and np.all(np.diff(roc["threshold"]) <= 0)
    pr = metrics.precision_recall_curve(labels, scores)
    assert (
        list(pr.columns) == ["recall", "precision", "threshold"] and len(pr) <= metrics.CURVE_POINTS
    )
    assert np.all(np.diff(pr["recall"]) >= 0) and np.all(np.diff(pr["threshold"]) < 0)
    assert pr["threshold"].iloc[0] == round(scores.max(), 6) and pr["recall"].iloc[-1] == 1.0
    full_recall = scores >= pr["threshold"].iloc[-1]
    assert pr["precision"].iloc[-1] == pytest.approx(labels[full_recall].mean(), abs=1e-6)
