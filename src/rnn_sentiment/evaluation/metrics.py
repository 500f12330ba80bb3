"""Binary classification metrics and curves, in numpy (no scikit-learn dependency for six formulas)."""

import numpy as np
import pandas as pd

CURVE_POINTS = 201  # curves are thinned to this many points: enough for a plot, small for git diffs


def classification_metrics(labels: np.ndarray, probabilities: np.ndarray) -> dict[str, float]:
    labels = labels.astype(bool)
    predicted = probabilities >= 0.5
    tp = int(np.sum(predicted & labels))
    fp = int(np.sum(predicted & ~labels))
    fn = int(np.sum(~predicted & labels))
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    clipped = np.clip(probabilities, 1e-7, 1 - 1e-7)
    loss = -np.mean(np.where(labels, np.log(clipped), np.log1p(-clipped)))
    specificity = float(np.mean(~predicted[~labels])) if (~labels).any() else 0.0
    return {
        "accuracy": float(np.mean(predicted == labels)),
        # the mean of the two classes' recalls: a constant prediction scores 0.5 whatever the skew
        "balanced_accuracy": (recall + specificity) / 2,
        "precision": precision,
        "recall": recall,
        "f1": 2 * precision * recall / (precision + recall) if precision + recall else 0.0,
        "roc_auc": roc_auc(labels, probabilities),
        "loss": float(loss),
    }


def roc_auc(labels: np.ndarray, probabilities: np.ndarray) -> float:
    """Mann-Whitney form, ties counted half: the probability a positive outranks a negative."""
    labels = labels.astype(bool)
    positives, negatives = int(labels.sum()), int((~labels).sum())
    if not positives or not negatives:
        return float("nan")
    ranks = pd.Series(probabilities).rank(method="average").to_numpy()
    return float((ranks[labels].sum() - positives * (positives + 1) / 2) / (positives * negatives))


def _thin(frame: pd.DataFrame) -> pd.DataFrame:
    if len(frame) <= CURVE_POINTS:
        return frame
    keep = np.unique(np.linspace(0, len(frame) - 1, CURVE_POINTS).round().astype(int))
    return frame.iloc[keep].reset_index(drop=True)


def _cumulative_counts(labels: np.ndarray, probabilities: np.ndarray):
    order = np.argsort(-probabilities, kind="stable")
    sorted_probs, sorted_labels = probabilities[order], labels[order].astype(bool)
    last_of_threshold = np.r_[np.flatnonzero(np.diff(sorted_probs)), len(sorted_probs) - 1]
    tp = np.cumsum(sorted_labels)[last_of_threshold]
    fp = np.cumsum(~sorted_labels)[last_of_threshold]
    return sorted_probs[last_of_threshold], tp, fp


def roc_curve(labels: np.ndarray, probabilities: np.ndarray) -> pd.DataFrame:
    thresholds, tp, fp = _cumulative_counts(labels, probabilities)
    positives, negatives = max(int(labels.sum()), 1), max(int(len(labels) - labels.sum()), 1)
    frame = pd.DataFrame({"fpr": np.r_[0.0, fp / negatives], "tpr": np.r_[0.0, tp / positives],
                          "threshold": np.r_[1.0, thresholds]})
    return _thin(frame).round(6)


def precision_recall_curve(labels: np.ndarray, probabilities: np.ndarray) -> pd.DataFrame:
    thresholds, tp, fp = _cumulative_counts(labels, probabilities)
    positives = max(int(labels.sum()), 1)
    frame = pd.DataFrame({"recall": tp / positives, "precision": tp / (tp + fp), "threshold": thresholds})
    return _thin(frame).round(6)


def confusion_rows(labels: np.ndarray, probabilities: np.ndarray, names: tuple[str, str]) -> pd.DataFrame:
    """One row per review (actual, predicted): the shape DVC's confusion template expects."""
    named = np.array(names)
    return pd.DataFrame({"actual": named[labels.astype(int)],
                         "predicted": named[(probabilities >= 0.5).astype(int)]})
