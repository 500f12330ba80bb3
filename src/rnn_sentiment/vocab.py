"""Vocabulary built from the training split only: ``<pad>`` = 0, ``<unk>`` = 1, then by frequency."""

from pathlib import Path

import pandas as pd

from rnn_sentiment.atomic import atomic_path
from rnn_sentiment.errors import PipelineError

PAD, UNK = "<pad>", "<unk>"
PAD_ID, UNK_ID = 0, 1
SPECIALS = (PAD, UNK)


def build(tokens: pd.Series, min_freq: int, max_size: int) -> pd.Series:
    """Token -> count, ordered by id. Ties in count are broken alphabetically for determinism."""
    counts = tokens.explode().dropna().value_counts()
    counts = counts[counts >= min_freq]
    counts = counts.rename_axis("token").reset_index(name="count")
    counts = counts.sort_values(["count", "token"], ascending=[False, True], kind="stable")
    counts = counts.head(max_size - len(SPECIALS))
    specials = pd.DataFrame({"token": list(SPECIALS), "count": [0, 0]})
    vocab = pd.concat([specials, counts], ignore_index=True)
    return pd.Series(vocab["count"].to_numpy(), index=pd.Index(vocab["token"], name="token"), name="count")


def write(vocab: pd.Series, path: Path) -> None:
    """One ``token<TAB>count`` line per id, in id order: readable, diffable, no pickle."""
    with atomic_path(path) as tmp:
        vocab.to_frame().to_csv(tmp, sep="\t", header=True, quoting=3, lineterminator="\n")


def read(path: Path) -> pd.Index:
    """The vocabulary as an index of tokens whose positions are the ids."""
    try:
        table = pd.read_csv(path, sep="\t", quoting=3, dtype={"token": str}, keep_default_na=False,
                            encoding="utf-8")
    except (OSError, ValueError) as error:
        raise PipelineError(f"{path}: cannot read vocabulary ({error})") from None
    if list(table.columns[:1]) != ["token"] or list(table["token"].head(2)) != list(SPECIALS):
        raise PipelineError(f"{path}: not a vocabulary file (expects token/count columns, <pad> and <unk> first)")
    return pd.Index(table["token"])


def stats(vocab: pd.Series, tokens: pd.Series) -> dict:
    total = int(tokens.str.len().sum())
    distinct = int(tokens.explode().nunique())
    covered = int(vocab.sum())
    return {
        "size": int(len(vocab)),
        "train_tokens": total,
        "train_distinct_tokens": distinct,
        "train_token_coverage": round(covered / total, 6) if total else 0.0,
    }
