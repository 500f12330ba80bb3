"""The tokenizer: lowercase, IMDB's ``<br />`` markup removed, then words, punctuation and characters.

A word is a run of letters and digits, keeping inner apostrophes (straight or curly: "don't");
each punctuation mark is a token. Scripts written without spaces between words (Han ideographs,
Hiragana, Katakana, Thai) are cut into one token per character, with any combining marks: no
word boundaries are guessed, and the n-gram path pairs neighbouring characters into the bigrams
and trigrams that carry their words. Work is done by pandas' vectorised string methods over
whole columns, not a Python loop per token.
"""

import re

import pandas as pd

MARKUP = re.compile(r"<br\s*/?>|<[a-z]+\s*/?>", re.IGNORECASE)
# Letters of the scripts written without spaces: Han (CJK blocks, compatibility ideographs, planes 2-3 and 々〆〇),
# Hiragana, Katakana (with its extensions and half-width forms) and Thai's consonants and vowels.
UNSPACED = (
    r"\u3005-\u3007\u3040-\u30ff\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff66-\uff9f"
    r"\U00020000-\U0003ffff\u0e01-\u0e30\u0e32\u0e33\u0e40-\u0e46"
)
MARKS = r"\u3099\u309a\u0e31\u0e34-\u0e3a\u0e47-\u0e4e"  # combining marks that belong to the letter before them
WORD = rf"[^\W_{UNSPACED}]"  # a letter or digit of any other script
TOKEN = re.compile(rf"[{UNSPACED}][{MARKS}]*|{WORD}+(?:['\u2019]{WORD}+)*|[^\w\s]|_")


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
