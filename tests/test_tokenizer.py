"""Unit tests for rnn_sentiment.tokenizer: the same tokens for training, evaluation and prediction."""

import pandas as pd
import pytest

from helpers import tokenize
from rnn_sentiment.text.tokenizer import tokenize_series


def test_lowercases_every_token():
    assert tokenize("GREAT Movie, TeRRiBle Ending") == ["great", "movie", ",", "terrible", "ending"]


@pytest.mark.parametrize("markup", ["<br />", "<br/>", "<br>", "<BR />", "<Br/>", "<br  />"])
def test_line_break_markup_is_removed(markup):
    tokens = tokenize(f"First line.{markup}{markup}Second line")
    assert tokens == ["first", "line", ".", "second", "line"]
    assert "br" not in tokens and "<" not in tokens and ">" not in tokens


def test_markup_between_words_still_separates_them():
    # "<br />" glued to words on both sides must not fuse them into one token.
    assert tokenize("good<br />bad") == ["good", "bad"]


def test_punctuation_is_split_from_words():
    assert tokenize("This is great!") == ["this", "is", "great", "!"]
    assert tokenize("Wait... what?!") == ["wait", ".", ".", ".", "what", "?", "!"]
    assert tokenize('(really) 10/10, "wow"') == [
        "(",
        "really",
        ")",
        "10",
        "/",
        "10",
        ",",
        '"',
        "wow",
        '"',
    ]


def test_great_and_great_bang_share_the_word_token():
    assert tokenize("great!")[0] == tokenize("great")[0] == "great"


def test_inner_apostrophes_are_kept():
    assert tokenize("I don't think it's Rock'n'Roll") == [
        "i",
        "don't",
        "think",
        "it's",
        "rock'n'roll",
    ]


def test_outer_apostrophes_are_punctuation():
    assert tokenize("'quoted' the actors' work") == [
        "'",
        "quoted",
        "'",
        "the",
        "actors",
        "'",
        "work",
    ]


def test_unicode_words_stay_whole_and_are_lowercased():
    assert tokenize("Café NAÏVE Über déjà-vu") == ["café", "naïve", "über", "déjà", "-", "vu"]
    assert tokenize("Фильм ОТЛИЧНЫЙ!") == ["фильм", "отличный", "!"]
    # written without spaces: one token per character
    assert tokenize("映画 最高") == [
        "映",
        "画",
        "最",
        "高",
    ]


def test_whitespace_and_empty_text_give_no_tokens():
    assert tokenize("") == []
    assert tokenize("   \t\n ") == []
    assert tokenize("<br /><br />") == []


def test_underscore_is_its_own_token():
    assert tokenize("snake_case") == ["snake", "_", "case"]


AGREEMENT_TEXTS = [
    "This is great!",
    "I don't like it.<br /><br />Not at ALL...",
    "Café naïve Über; 10/10 would watch again",
    "",
    "   ",
    "<br/>only markup<br />",
    "Rock'n'Roll isn't 'dead' -- it's (mostly) fine?!",
    "Фильм ОТЛИЧНЫЙ, 映画 最高",
    "tabs\tand\nnewlines",
    'under_score and "quotes"',
]


@pytest.mark.parametrize("dtype", [object, "str"])
def test_tokenize_and_tokenize_series_agree(dtype):
    series = pd.Series(AGREEMENT_TEXTS, dtype=dtype)
    result = tokenize_series(series)
    assert len(result) == len(AGREEMENT_TEXTS)
    assert list(result.index) == list(series.index)
    for text, tokens in zip(AGREEMENT_TEXTS, result, strict=True):
        assert list(tokens) == tokenize(text), text


def test_tokenize_series_keeps_the_index():
    series = pd.Series(["b a", "c"], index=[10, 3])
    result = tokenize_series(series)
    assert list(result.index) == [10, 3]
    assert result.loc[10] == ["b", "a"] and result.loc[3] == ["c"]


@pytest.mark.parametrize(
    "text", ["ΟΔΟΣ ΣΑΣ", "İstanbul"], ids=["greek_final_sigma", "dotted_capital_i"]
)
def test_case_folding_agrees_between_tokenize_and_the_pipeline_series(text):
    """The pipeline tokenizes pandas' default ``str`` (pyarrow) columns; tokenize() uses str.lower.

    Both are documented as the same tokenizer, so their tokens must match even where Python's
    and Arrow's lowercasing rules differ (Greek final sigma, dotted capital I).
    """
    from_series = tokenize_series(pd.Series([text], dtype="str")).iloc[0]
    assert list(from_series) == tokenize(text)
