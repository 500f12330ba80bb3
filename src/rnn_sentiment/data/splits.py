"""Seeded, stratified splitting: test (for tables without one), validation, and size limits."""

import sys

import numpy as np
import pandas as pd

from rnn_sentiment.core.errors import PipelineError
from rnn_sentiment.core.params import DataParams

SKEWED = 0.1  # minority-class share under which a split is reported as skewed
SPLITS = ("train", "val", "test")  # the categories of an assigned split column, in this order
DUPLICATE_BLOCK = 1 << 16  # rows whose test hashes are looked up at a time


def stratified_pick(labels: np.ndarray, fraction: float, rng: np.random.Generator) -> np.ndarray:
    """Boolean mask choosing round(fraction * n_class) rows of each class."""
    chosen = np.zeros(len(labels), dtype=bool)
    for label in np.unique(labels):
        rows = np.flatnonzero(labels == label)
        take = int(round(fraction * len(rows)))
        chosen[rng.permutation(rows)[:take]] = True
    return chosen


def split_codes(split: pd.Series) -> np.ndarray:
    """A split column (text or categorical) as a new array of int8 codes into SPLITS; "" or
    missing is negative. An assigned column's own codes are copied as they are: recoding
    would go through int64, 8 bytes a review."""
    if isinstance(split.dtype, pd.CategoricalDtype) and tuple(split.cat.categories) == SPLITS:
        return split.cat.codes.to_numpy().astype(np.int8)
    return (pd.Categorical(split, categories=("", *SPLITS)).codes - 1).astype(np.int8)


def _limit(
    codes: np.ndarray,
    labels: np.ndarray,
    kept: np.ndarray,
    split: str,
    limit: int,
    rng: np.random.Generator,
) -> None:
    """Clear ``kept`` for the rows of ``split`` beyond ``limit``, stratified by label."""
    rows = np.flatnonzero((codes == SPLITS.index(split)) & kept)
    if limit == 0 or limit >= len(rows):
        return
    keep = stratified_pick(labels[rows], limit / len(rows), rng)
    kept[rows[~keep]] = False


def _labels_in(codes: np.ndarray, labels: np.ndarray, kept: np.ndarray, split: str) -> set[int]:
    return set(np.unique(labels[(codes == SPLITS.index(split)) & kept]).tolist())


def assign_splits(frame: pd.DataFrame, data: DataParams, seed: int, where: str) -> pd.DataFrame:
    """Return the kept rows, their ``split`` train / val / test (categorical), limited and checked.

    ``frame`` needs only ``label`` and ``split`` (the source's, "" where it has none); other
    columns ride along. Rows are chosen on int8 codes and a keep mask: the table is copied at
    most once, for the rows a limit keeps."""
    rng = np.random.default_rng(seed)
    labels = frame["label"].to_numpy()
    codes = split_codes(frame["split"])
    train, val, test = range(len(SPLITS))
    if (codes < 0).any():
        codes = np.where(
            stratified_pick(labels, data.test_fraction, rng), np.int8(test), np.int8(train)
        )
    kept = np.ones(len(frame), dtype=bool)
    _limit(codes, labels, kept, "train", data.max_train, rng)
    _limit(codes, labels, kept, "test", data.max_test, rng)
    for split in ("train", "test"):
        present = _labels_in(codes, labels, kept, split)
        if present != {0, 1}:
            absent = "positive" if 1 not in present else "negative"
            raise PipelineError(
                f"{where}: the {split} split has no {absent} reviews; both classes are needed"
            )
    in_train = (codes == train) & kept  # a mask, not row numbers: 1 byte a review, not 8
    codes[in_train] = np.where(
        stratified_pick(labels[in_train], data.val_fraction, rng), np.int8(val), np.int8(train)
    )
    for name in ("train", "val"):
        if not ((codes == SPLITS.index(name)) & kept).any():
            raise PipelineError(
                f"data.val_fraction: {data.val_fraction} leaves the {name} split empty"
            )
    val_labels = _labels_in(codes, labels, kept, "val")
    if val_labels != {0, 1}:
        only = "positive" if 1 in val_labels else "negative"
        raise PipelineError(
            f"data.val_fraction: the val split holds only {only} reviews, so epochs cannot be "
            "chosen on it; use more data or a larger data.val_fraction"
        )
    # copy-on-write: frame stays as it is
    chosen = frame[kept] if not kept.all() else frame.copy(deep=False)
    chosen["split"] = pd.Categorical.from_codes(codes[kept], SPLITS)
    chosen.index = pd.RangeIndex(len(chosen))
    warn_if_skewed(chosen, where)
    return chosen


def warn_if_skewed(frame: pd.DataFrame, where: str) -> None:
    """A split with under SKEWED of its reviews in one class: accuracy there says little."""
    counts = class_counts(frame)
    for name in SPLITS:
        negative, positive = counts.get((name, 0), 0), counts.get((name, 1), 0)
        if negative + positive and min(positive, negative) < SKEWED * (negative + positive):
            warn(
                f"{where}: the {name} split is skewed, {positive} positive and {negative} "
                "negative reviews; judge models by ROC AUC or balanced accuracy, not accuracy"
            )


def class_counts(frame: pd.DataFrame) -> dict[tuple[str, int], int]:
    """Reviews per (split, label), for the pairs that occur. Counted split by split on the one-byte
    columns: a groupby would factorize both into int64 codes, 16 bytes a review."""
    labels = frame["label"].to_numpy()
    counts = {}
    for name in SPLITS:
        rows = (frame["split"] == name).to_numpy()
        positive, total = int(labels[rows].sum()), int(rows.sum())
        counts.update(
            {(name, label): n for label, n in ((0, total - positive), (1, positive)) if n}
        )
    return counts


def count_train_test_duplicates(frame: pd.DataFrame) -> int:
    """Test reviews whose exact text also appears in train or val, compared by the 64-bit
    ``text_hash`` so no text is held: reported, not removed. Looked up block by block in the
    sorted train/val hashes, so it needs memory for those alone."""
    test = split_codes(frame["split"]) == SPLITS.index("test")
    hashes = frame["text_hash"].to_numpy()
    seen = hashes[~test]
    seen.sort()
    if not len(seen):
        return 0
    found = 0
    for start in range(0, len(hashes), DUPLICATE_BLOCK):
        block = hashes[start : start + DUPLICATE_BLOCK][test[start : start + DUPLICATE_BLOCK]]
        found += int((seen[np.minimum(np.searchsorted(seen, block), len(seen) - 1)] == block).sum())
    return found


def warn(message: str) -> None:
    print(f"warning: {message}", file=sys.stderr)
