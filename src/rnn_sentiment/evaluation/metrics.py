"""Binary classification metrics and curves from scikit-learn, in the shapes the pipeline writes."""

import numpy as np
import pandas as pd
from sklearn import metrics

CURVE_POINTS = 201  # curves are thinned to this many points: enough for a plot, small for git diffs


def classification_metrics(labels: np.ndarray, probabilities: np.ndarray) -> dict[str, float]:
    """Scores at threshold 0.5 (inclusive), ROC AUC and log loss; precision, recall and F1 are 0.0
    where nothing is predicted positive, ROC AUC is NaN where ``labels`` hold one class."""
    labels = labels.astype(int)
    predicted = (probabilities >= 0.5).astype(int)
    scores = {
        "accuracy": metrics.accuracy_score(labels, predicted),
        "balanced_accuracy": metrics.balanced_accuracy_score(labels, predicted),
        "precision": metrics.precision_score(labels, predicted, zero_division=0.0),
        "recall": metrics.recall_score(labels, predicted, zero_division=0.0),
        "f1": metrics.f1_score(labels, predicted, zero_division=0.0),
        "roc_auc": roc_auc(labels, probabilities),
        "loss": metrics.log_loss(labels, probabilities, labels=[0, 1]),
    }
    return {name: float(value) for name, value in scores.items()}


def path_accuracies(
    labels: np.ndarray, path_logits: np.ndarray, names: tuple[str, ...]
) -> dict[str, float]:
    """``{name}_accuracy`` of each path alone, from its logits [reviews, paths] at threshold 0."""
    return {
        f"{name}_accuracy": float(np.mean((path_logits[:, i] > 0) == (labels == 1)))
        for i, name in enumerate(names[: path_logits.shape[1]])
    }


def roc_auc(labels: np.ndarray, scores: np.ndarray) -> float:
    """NaN, with scikit-learn's UndefinedMetricWarning, where ``labels`` hold one class."""
    return float(metrics.roc_auc_score(labels, scores))


def _thin(frame: pd.DataFrame) -> pd.DataFrame:
    if len(frame) <= CURVE_POINTS:
        return frame
    keep = np.unique(np.linspace(0, len(frame) - 1, CURVE_POINTS).round().astype(int))
    return frame.iloc[keep].reset_index(drop=True)


def roc_curve(labels: np.ndarray, probabilities: np.ndarray) -> pd.DataFrame:
    """From (0, 0) to (1, 1), one point per distinct probability before thinning."""
    fpr, tpr, thresholds = metrics.roc_curve(labels, probabilities, drop_intermediate=False)
    # the first threshold, above every score, is inf: 1.0 keeps the CSV numeric for DVC's plots
    frame = pd.DataFrame({"fpr": fpr, "tpr": tpr, "threshold": np.minimum(thresholds, 1.0)})
    return _thin(frame).round(6)


def precision_recall_curve(labels: np.ndarray, probabilities: np.ndarray) -> pd.DataFrame:
    """Thresholds descending, recall ascending up to 1; without scikit-learn's closing point
    (recall 0, precision 1), which has no threshold."""
    precision, recall, thresholds = metrics.precision_recall_curve(labels, probabilities)
    frame = pd.DataFrame(
        {"recall": recall[-2::-1], "precision": precision[-2::-1], "threshold": thresholds[::-1]}
    )
    return _thin(frame).round(6)


def confusion_rows(
    labels: np.ndarray, probabilities: np.ndarray, names: tuple[str, str]
) -> pd.DataFrame:
    """One row per review (actual, predicted): the shape DVC's confusion template expects."""
    named = np.array(names)
    return pd.DataFrame(
        {
            "actual": named[labels.astype(int)],
            "predicted": named[(probabilities >= 0.5).astype(int)],
        }
    )
