"""Seeded, stratified splitting: test (for tables without one), validation, and size limits."""

import sys

import numpy as np
import pandas as pd

from rnn_sentiment.core.errors import PipelineError
from rnn_sentiment.core.params import DataParams

SKEWED = 0.1  # minority-class share under which a split is reported as skewed


def stratified_pick(labels: np.ndarray, fraction: float, rng: np.random.Generator) -> np.ndarray:
    """Boolean mask choosing round(fraction * n_class) rows of each class."""
    chosen = np.zeros(len(labels), dtype=bool)
    for label in np.unique(labels):
        rows = np.flatnonzero(labels == label)
        take = int(round(fraction * len(rows)))
        chosen[rng.permutation(rows)[:take]] = True
    return chosen


def _limit(frame: pd.DataFrame, split: str, limit: int, rng: np.random.Generator) -> pd.DataFrame:
    rows = np.flatnonzero(frame["split"].to_numpy() == split)
    if limit == 0 or limit >= len(rows):
        return frame
    keep = stratified_pick(frame["label"].to_numpy()[rows], limit / len(rows), rng)
    return frame.drop(index=frame.index[rows[~keep]])


def assign_splits(frame: pd.DataFrame, data: DataParams, seed: int, where: str) -> pd.DataFrame:
    """Return a copy whose ``split`` is train / val / test, limited and checked.

    ``frame`` needs only ``label`` and ``split`` (the source's, "" where it has none); other
    columns ride along."""
    rng = np.random.default_rng(seed)
    frame = frame.copy()
    if (frame["split"] == "").any():
        test = stratified_pick(frame["label"].to_numpy(), data.test_fraction, rng)
        frame["split"] = np.where(test, "test", "train")
    frame = _limit(frame, "train", data.max_train, rng)
    frame = _limit(frame, "test", data.max_test, rng)
    for split in ("train", "test"):
        present = set(frame.loc[frame["split"] == split, "label"].tolist())
        if present != {0, 1}:
            absent = "positive" if 1 not in present else "negative"
            raise PipelineError(f"{where}: the {split} split has no {absent} reviews; "
                                "both classes are needed")
    train_rows = np.flatnonzero(frame["split"].to_numpy() == "train")
    val = stratified_pick(frame["label"].to_numpy()[train_rows], data.val_fraction, rng)
    split = frame["split"].to_numpy().copy()
    split[train_rows[val]] = "val"
    frame["split"] = split
    for name in ("train", "val"):
        if not (frame["split"] == name).any():
            raise PipelineError(f"data.val_fraction: {data.val_fraction} leaves the {name} split empty")
    val_labels = set(frame.loc[frame["split"] == "val", "label"].tolist())
    if val_labels != {0, 1}:
        only = "positive" if 1 in val_labels else "negative"
        raise PipelineError(f"data.val_fraction: the val split holds only {only} reviews, so epochs cannot be "
                            "chosen on it; use more data or a larger data.val_fraction")
    warn_if_skewed(frame, where)
    return frame.reset_index(drop=True)


def warn_if_skewed(frame: pd.DataFrame, where: str) -> None:
    """A split with under SKEWED of its reviews in one class: accuracy there says little."""
    for name in ("train", "val", "test"):
        labels = frame.loc[frame["split"] == name, "label"].to_numpy()
        positive = int(labels.sum())
        if len(labels) and min(positive, len(labels) - positive) < SKEWED * len(labels):
            warn(f"{where}: the {name} split is skewed, {positive} positive and {len(labels) - positive} "
                 "negative reviews; judge models by ROC AUC or balanced accuracy, not accuracy")


def count_train_test_duplicates(frame: pd.DataFrame) -> int:
    """Test reviews whose exact text also appears in train or val, compared by the 64-bit
    ``text_hash`` so no text is held: reported, not removed."""
    test = (frame["split"] == "test").to_numpy()
    hashes = frame["text_hash"].to_numpy()
    return int(np.isin(hashes[test], hashes[~test]).sum())


def warn(message: str) -> None:
    print(f"warning: {message}", file=sys.stderr)
