"""The tokenizer: lowercase, IMDB's ``<br />`` markup removed, punctuation split from words.

The seed notebook split on spaces, so "great!" and "great" were different words. Here words
(keeping inner apostrophes, straight or curly: "don't") and each punctuation mark are separate tokens. Work is done
by pandas' vectorised string methods over whole columns, not a Python loop per token.
"""

import re

import pandas as pd

MARKUP = re.compile(r"<br\s*/?>|<[a-z]+\s*/?>", re.IGNORECASE)
TOKEN = re.compile(r"[^\W_]+(?:['\u2019][^\W_]+)*|[^\w\s]|_")


def tokenize_series(texts: pd.Series) -> pd.Series:
    """Series of str -> Series of token lists."""
    return texts.str.lower().str.replace(MARKUP, " ", regex=True).str.findall(TOKEN)


def tokenize(text: str) -> list[str]:
    """One text, through the very same path as a column (pandas and Python lowercase differently)."""
    return tokenize_series(pd.Series([text], dtype="str")).iloc[0]
