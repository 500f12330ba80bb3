"""The tokenizer: lowercase, IMDB's ``<br />`` markup removed, punctuation split from words.

The seed notebook split on spaces, so "great!" and "great" were different words. Here words
(keeping inner apostrophes: "don't") and each punctuation mark are separate tokens. Work is done
by pandas' vectorised string methods over whole columns, not a Python loop per token.
"""

import re

import pandas as pd

MARKUP = re.compile(r"<br\s*/?>|<[a-z]+\s*/?>", re.IGNORECASE)
TOKEN = re.compile(r"[^\W_]+(?:'[^\W_]+)*|[^\w\s]|_")


def tokenize_series(texts: pd.Series) -> pd.Series:
    """Series of str -> Series of token lists."""
    return texts.str.lower().str.replace(MARKUP, " ", regex=True).str.findall(TOKEN)


def tokenize(text: str) -> list[str]:
    return TOKEN.findall(MARKUP.sub(" ", text.lower()))
