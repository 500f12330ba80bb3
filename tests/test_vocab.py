"""Unit tests for rnn_sentiment.vocab: ids, frequency limits, ordering and the TSV file."""

from collections import Counter

import pandas as pd
import pytest

from rnn_sentiment.core.errors import PipelineError
from rnn_sentiment.text import vocab

# Counts: the 5, a 4, movie 3, b 3, good 2, zzz 1, bad 1
DOCS = [
    ["the", "movie", "a", "good"],
    ["the", "the", "a", "b", "movie"],
    ["a", "b", "b", "the", "zzz"],
    ["the", "movie", "a", "good", "bad"],
    [],
]


def tokens(docs=DOCS) -> pd.Series:
    return pd.Series(docs, dtype=object)


def counts(docs=DOCS) -> pd.Series:
    return vocab.count([tokens(docs)])


def expected_order(docs, min_freq, max_size):
    counts = Counter(t for doc in docs for t in doc)
    kept = sorted(
        ((t, c) for t, c in counts.items() if c >= min_freq), key=lambda tc: (-tc[1], tc[0])
    )
    return kept[: max_size - 2]


def test_specials_come_first():
    built = vocab.build(counts(), min_freq=1, max_size=100)
    assert vocab.PAD_ID == 0 and vocab.UNK_ID == 1
    assert list(built.index[:2]) == ["<pad>", "<unk>"]
    assert built.index.get_loc("<pad>") == vocab.PAD_ID
    assert built.index.get_loc("<unk>") == vocab.UNK_ID


def test_order_is_count_descending_then_alphabetical():
    built = vocab.build(counts(), min_freq=1, max_size=100)
    assert list(built.index[2:]) == ["the", "a", "b", "movie", "good", "bad", "zzz"]
    assert list(built.to_numpy()[2:]) == [5, 4, 3, 3, 2, 1, 1]
    assert list(zip(built.index[2:], built.to_numpy()[2:], strict=True)) == expected_order(
        DOCS, 1, 100
    )


def test_order_does_not_depend_on_document_order():
    shuffled = [list(reversed(doc)) for doc in reversed(DOCS)]
    assert list(vocab.build(counts(shuffled), 1, 100).index) == list(
        vocab.build(counts(), 1, 100).index
    )


@pytest.mark.parametrize("min_freq", [1, 2, 3, 4, 5, 6])
def test_min_freq_drops_rare_tokens(min_freq):
    built = vocab.build(counts(), min_freq=min_freq, max_size=100)
    occurrences = Counter(t for doc in DOCS for t in doc)
    assert set(built.index[2:]) == {t for t, c in occurrences.items() if c >= min_freq}
    assert (built.to_numpy()[2:] >= min_freq).all()


@pytest.mark.parametrize("max_size", [3, 4, 5, 9, 50])
def test_max_size_counts_the_specials(max_size):
    built = vocab.build(counts(), min_freq=1, max_size=max_size)
    assert len(built) == min(max_size, 2 + 7)
    assert list(zip(built.index[2:], built.to_numpy()[2:], strict=True)) == expected_order(
        DOCS, 1, max_size
    )


def test_min_freq_and_max_size_together():
    built = vocab.build(counts(), min_freq=2, max_size=5)
    assert list(built.index) == ["<pad>", "<unk>", "the", "a", "b"]


def test_write_then_read_round_trips(tmp_path):
    docs = DOCS + [['"', "#", "\\", ",", ";", "nan", "null", "na", "true", "'", "don't", "café"]]
    built = vocab.build(counts(docs), min_freq=1, max_size=1000)
    path = tmp_path / "nested" / "vocab.tsv"
    vocab.write(built, path)
    index = vocab.read(path)
    assert isinstance(index, pd.Index)
    assert list(index) == list(built.index)
    assert all(isinstance(t, str) for t in index)
    for token in ("nan", "null", '"', "café"):
        assert index.get_loc(token) == built.index.get_loc(token)
    assert not list(tmp_path.glob("nested/*.tmp"))  # no temporary file left behind


def test_written_file_is_token_tab_count_lines(tmp_path):
    built = vocab.build(counts(), min_freq=3, max_size=100)
    path = tmp_path / "vocab.tsv"
    vocab.write(built, path)
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "token\tcount"
    assert lines[1:] == ["<pad>\t0", "<unk>\t0", "the\t5", "a\t4", "b\t3", "movie\t3"]


@pytest.mark.parametrize(
    "content",
    [
        b"text,label\nhello,1\n",
        b"token\tcount\nthe\t5\n<pad>\t0\n<unk>\t0\n",
        b"word\tcount\n<pad>\t0\n<unk>\t0\n",
        b"",
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00",
    ],
    ids=["other-table", "specials-not-first", "wrong-header", "empty", "binary"],
)
def test_read_refuses_a_file_that_is_not_a_vocabulary(tmp_path, content):
    path = tmp_path / "not_vocab.tsv"
    path.write_bytes(content)
    with pytest.raises(PipelineError, match="not_vocab.tsv"):
        vocab.read(path)


def test_read_of_a_missing_file_raises_pipeline_error(tmp_path):
    with pytest.raises(PipelineError, match="absent.tsv"):
        vocab.read(tmp_path / "absent.tsv")


def test_counting_in_chunks_equals_counting_at_once():
    chunked = vocab.count(tokens(DOCS[i : i + 2]) for i in range(0, len(DOCS), 2))
    assert chunked.sort_index().to_dict() == dict(
        sorted(Counter(t for d in DOCS for t in d).items())
    )
    assert chunked.dtype == "int64"
    assert list(vocab.build(chunked, 1, 100).index) == list(vocab.build(counts(), 1, 100).index)


def test_stats_counts_and_coverage():
    built = vocab.build(counts(), min_freq=2, max_size=100)
    result = vocab.stats(built, counts())
    total = sum(len(d) for d in DOCS)
    covered = sum(1 for d in DOCS for t in d if t in set(built.index))
    assert result["size"] == len(built)
    assert result["train_tokens"] == total
    assert result["train_distinct_tokens"] == len({t for d in DOCS for t in d})
    assert result["train_token_coverage"] == pytest.approx(covered / total, abs=1e-6)
