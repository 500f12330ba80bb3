"""Per-review test predictions (``reports/predictions.csv``), and the digest of the test rows that
says whether two models' predictions are for the same reviews and so can be compared review by
review."""

import hashlib
from collections.abc import Iterable

import numpy as np
import pandas as pd

COLUMNS = ["id", "label", "probability"]


def frame(labels: np.ndarray, probabilities: np.ndarray) -> pd.DataFrame:
    """One row per test review; ``id`` is its position in the test split."""
    labels = np.asarray(labels).astype(int)
    return pd.DataFrame(
        {
            "id": np.arange(labels.size),
            "label": labels,
            "probability": np.asarray(probabilities, dtype=float).round(6),
        }
    )


def same_rows(theirs: pd.DataFrame, ours: pd.DataFrame) -> bool:
    """Whether ``theirs`` holds predictions for the reviews of ``ours``: the same ids and labels."""
    return (
        list(theirs.columns) == COLUMNS
        and len(theirs) == len(ours)
        and np.array_equal(theirs["id"].to_numpy(), ours["id"].to_numpy())
        and np.array_equal(theirs["label"].to_numpy(), ours["label"].to_numpy())
    )


def digest(texts: Iterable[str], labels: Iterable[int]) -> str:
    """sha256 over the test reviews' texts and labels, in order (each text length-prefixed, so no
    two different splits give the same bytes)."""
    hashed = hashlib.sha256()
    for text, label in zip(texts, labels, strict=True):
        encoded = text.encode("utf-8", "surrogatepass")
        hashed.update(f"{int(label)}\t{len(encoded)}\t".encode())
        hashed.update(encoded)
    return hashed.hexdigest()
