"""Vocabulary built from the training split only: ``<pad>`` = 0, ``<unk>`` = 1, then by frequency."""

from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from rnn_sentiment.core.errors import PipelineError
from rnn_sentiment.core.files import read_tsv, write_tsv

PAD, UNK = "<pad>", "<unk>"
PAD_ID, UNK_ID = 0, 1
SPECIALS = (PAD, UNK)


def count(token_chunks: Iterable[pd.Series]) -> pd.Series:
    """Token -> occurrences over chunks of token lists, merged chunk by chunk so only the
    counts (one row per distinct token) are ever held, not the tokens."""
    total = pd.Series(dtype="int64")
    for tokens in token_chunks:
        counts = tokens.explode().dropna().value_counts()
        total = total.add(counts, fill_value=0).astype("int64")
    return total


def build(counts: pd.Series, min_freq: int, max_size: int) -> pd.Series:
    """Token -> count, ordered by id. Ties in count are broken alphabetically for determinism."""
    tokens = frequent(counts, min_freq)[: max_size - len(SPECIALS)]
    return pd.concat(
        [pd.Series(0, index=pd.Index(SPECIALS, name="token")), counts.reindex(tokens)]
    ).rename("count")


def frequent(counts: pd.Series, min_count: int) -> pd.Index:
    """Tokens seen at least ``min_count`` times, most frequent first (ties alphabetical)."""
    kept = counts[counts >= min_count].rename_axis("token").reset_index(name="count")
    return pd.Index(
        kept.sort_values(["count", "token"], ascending=[False, True], kind="stable")["token"],
        name="token",
    )


def write(vocab: pd.Series, path: Path) -> None:
    """One ``token<TAB>count`` line per id, in id order: readable, diffable, no pickle."""
    write_tsv(vocab.to_frame(), path, index=True)


def read(path: Path) -> pd.Index:
    """The vocabulary as an index of tokens whose positions are the ids."""
    table = read_tsv(path, "token", "vocabulary")
    if list(table.columns[:1]) != ["token"] or list(table["token"].head(2)) != list(SPECIALS):
        raise PipelineError(
            f"{path}: not a vocabulary file (expects token/count columns, <pad> and <unk> first)"
        )
    return pd.Index(table["token"])


def stats(vocab: pd.Series, counts: pd.Series) -> dict:
    total = int(counts.sum())
    covered = int(vocab.sum())
    return {
        "size": int(len(vocab)),
        "train_tokens": total,
        "train_distinct_tokens": int(len(counts)),
        "train_token_coverage": round(covered / total, 6) if total else 0.0,
    }
