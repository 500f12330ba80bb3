"""The tokenizer: lowercase, IMDB's ``<br />`` markup removed, punctuation split from words.

The seed notebook split on spaces, so "great!" and "great" were different words. Here words
(keeping inner apostrophes, straight or curly: "don't") and each punctuation mark are separate tokens. Work is done
by pandas' vectorised string methods over whole columns, not a Python loop per token.
"""

import re

import pandas as pd

MARKUP = re.compile(r"<br\s*/?>|<[a-z]+\s*/?>", re.IGNORECASE)
TOKEN = re.compile(r"[^\W_]+(?:['\u2019][^\W_]+)*|[^\w\s]|_")


CHARS_PER_TOKEN = 64  # clip budget per kept token: far above any real word


def clip(texts: pd.Series, max_tokens: int) -> pd.Series:
    """Keep the first and last ``max_tokens * CHARS_PER_TOKEN`` characters of longer texts.

    Encoding keeps at most ``max_tokens`` tokens from the head and/or tail anyway, so this
    changes no real review (IMDB's longest is ~14k characters) but bounds the memory a 5 MB
    hostile text can take to a fixed multiple of ``max_len``.
    """
    budget = max_tokens * CHARS_PER_TOKEN
    long = texts.str.len() > 2 * budget
    if not long.any():
        return texts
    clipped = texts.copy()
    clipped[long] = texts[long].str.slice(0, budget) + " " + texts[long].str.slice(-budget)
    return clipped


def tokenize_series(texts: pd.Series, max_tokens: int | None = None) -> pd.Series:
    """Series of str -> Series of token lists; with ``max_tokens``, long texts are clipped first."""
    if max_tokens is not None:
        texts = clip(texts, max_tokens)
    return texts.str.lower().str.replace(MARKUP, " ", regex=True).str.findall(TOKEN)


def tokenize(text: str) -> list[str]:
    """One text, through the very same path as a column (pandas and Python lowercase differently)."""
    return tokenize_series(pd.Series([text], dtype="str")).iloc[0]
