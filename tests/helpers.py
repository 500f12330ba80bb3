"""Test-side counterparts of the pipeline's column-wise code: one text tokenized, a split saved
whole, a source read whole."""

from pathlib import Path

import numpy as np
import pandas as pd

from rnn_sentiment.core.params import DataParams
from rnn_sentiment.data import sources
from rnn_sentiment.text import encoding
from rnn_sentiment.text.tokenizer import tokenize_series


def tokenize(text: str) -> list[str]:
    """One text, through the very same path as a column (pandas and Python lowercase differently)."""
    return tokenize_series(pd.Series([text], dtype="str")).iloc[0]


def save_split(split: encoding.EncodedSplit, directory: Path, name: str) -> None:
    """The ``.npy`` files ``encoding.SplitWriter`` writes chunk by chunk, from a whole split at once."""
    for part in encoding.FIELDS:
        np.save(directory / f"{name}_{part}.npy", getattr(split, part), allow_pickle=False)


def read_source(path: Path, data: DataParams) -> pd.DataFrame:
    """Every chunk ``sources.iter_source`` yields, as one frame."""
    return pd.concat(sources.iter_source(path, data), ignore_index=True)
