"""Unit tests for text/ngrams.py: n-grams counted per review and class, kept by document frequency,
named by their tokens on disk, and encoded back to the same ids."""

import numpy as np
import pandas as pd
import pytest

from rnn_sentiment.text import ngrams


def tokens(*texts: str) -> pd.Series:
    return pd.Series([text.split() for text in texts], dtype=object)


def counter_for(*texts: str, order: int = 3, capacity: int = 10_000) -> ngrams.NgramCounter:
    words = sorted({word for text in texts for word in text.split()})
    return ngrams.NgramCounter(pd.Index(words), order, capacity)


def as_dict(table: pd.DataFrame) -> dict[str, tuple[int, int]]:
    return {row.ngram: (row.positive, row.negative) for row in table.itertuples()}


def test_each_review_counts_once_per_ngram_and_class():
    texts = ("i hate it i hate it", "i love it", "i hate it")
    counter = counter_for(*texts)
    counter.add(tokens(*texts), np.array([0, 1, 0]))
    counts = as_dict(counter.table(min_df=1, max_features=100))
    assert counts["i hate it"] == (0, 2) and counts["i hate"] == (0, 2)
    assert counts["i"] == (1, 2) and counts["it"] == (1, 2) and counts["love"] == (1, 0)
    assert counts["it i hate"] == (0, 1), "inside one review"
    assert "it i love" not in counts and "it i" in counts and counts["it i"] == (0, 1), (
        "never across two reviews"
    )


def test_unknown_tokens_break_ngrams_and_order_limits_their_length():
    counter = ngrams.NgramCounter(pd.Index(["good", "film"]), order=2, capacity=100)
    counter.add(tokens("good odd film", "good film film"), np.array([1, 1]))
    counts = as_dict(counter.table(min_df=1, max_features=100))
    assert set(counts) == {"good", "film", "good film", "film film"}
    assert counts["good film"] == (1, 0)


def test_the_table_keeps_the_most_frequent_above_min_df_and_adding_in_chunks_changes_nothing():
    texts = [f"w{i % 7} w{i % 5} w{i % 3}" for i in range(60)]
    labels = np.arange(60) % 2
    whole, chunked = counter_for(*texts), counter_for(*texts)
    whole.add(tokens(*texts), labels)
    for start in range(0, 60, 13):
        chunked.add(tokens(*texts[start : start + 13]), labels[start : start + 13])
    table = whole.table(min_df=3, max_features=15)
    pd.testing.assert_frame_equal(table, chunked.table(min_df=3, max_features=15))
    reviews = table["positive"] + table["negative"]
    assert len(table) == 15 and reviews.min() >= 3 and reviews.is_monotonic_decreasing
    everything = whole.table(min_df=1, max_features=10_000)
    left_out = everything[~everything["ngram"].isin(table["ngram"])]
    assert (left_out["positive"] + left_out["negative"]).max() <= reviews.min()


def test_a_pruned_counter_stays_under_its_capacity_and_misses_at_most_floor_reviews():
    rng = np.random.default_rng(0)
    texts = [" ".join(f"w{i}" for i in rng.zipf(1.6, 12) % 40) for _ in range(400)]
    labels = rng.integers(0, 2, len(texts))
    exact, pruned = counter_for(*texts), counter_for(*texts, capacity=300)
    held = []
    for start in range(0, len(texts), 25):
        for counter in (exact, pruned):
            counter.add(tokens(*texts[start : start + 25]), labels[start : start + 25])
        held.append(len(pruned.keys))
    assert exact.floor == 0 and len(exact.keys) > 1000, "the exact counter never pruned"
    assert max(held) <= 300 and pruned.floor > 0
    truth = as_dict(exact.table(min_df=1, max_features=10**6))
    approx = as_dict(pruned.table(min_df=1, max_features=10**6))
    for ngram, (positive, negative) in truth.items():
        if positive + negative > pruned.floor:
            assert ngram in approx, f"{ngram!r} is in more than floor reviews"
        if ngram in approx:
            kept_pos, kept_neg = approx[ngram]
            assert kept_pos <= positive and kept_neg <= negative
            assert positive + negative - kept_pos - kept_neg <= pruned.floor, ngram
    top = exact.table(min_df=1, max_features=20)
    assert top["ngram"].tolist() == pruned.table(min_df=1, max_features=20)["ngram"].tolist()


def test_the_index_gives_each_table_ngram_its_row_as_id():
    texts = ("a great film", "a dull film", "great great fun")
    counter = counter_for(*texts)
    counter.add(tokens(*texts), np.array([1, 0, 1]))
    table = counter.table(min_df=1, max_features=100)
    index = ngrams.NgramIndex(table["ngram"])
    ids, offsets = index.encode(tokens(*table["ngram"]))
    for row, ngram in enumerate(table["ngram"]):
        bag = ids[offsets[row] : offsets[row + 1]]
        assert row in bag, ngram  # a text made of one n-gram holds it (and its parts)
        assert all(len(table["ngram"][i].split()) <= len(ngram.split()) for i in bag)


def test_encoding_a_review_gives_its_distinct_ngrams_sorted():
    index = ngrams.NgramIndex(["film", "great", "great film", "a great film"])
    ids, offsets = index.encode(tokens("a great film , great film", "", "nothing known"))
    assert offsets.tolist() == [0, 4, 4, 4]
    assert ids.tolist() == [0, 1, 2, 3]


def test_log_count_ratios_follow_nbsvm():
    table = pd.DataFrame({"ngram": ["a", "b"], "positive": [3, 0], "negative": [1, 2]})
    p, q = np.array([4.0, 1.0]), np.array([2.0, 3.0])
    np.testing.assert_allclose(
        ngrams.log_count_ratios(table), np.log((p / p.sum()) / (q / q.sum()))
    )


def test_the_table_round_trips_through_its_file(tmp_path):
    table = pd.DataFrame(
        {"ngram": ["i hate", '"', "it !"], "positive": [1, 2, 3], "negative": [4, 5, 6]}
    )
    ngrams.write(table, tmp_path / "ngrams.tsv")
    pd.testing.assert_frame_equal(ngrams.read(tmp_path / "ngrams.tsv"), table)


def test_a_file_that_is_not_an_ngram_table_is_one_error(tmp_path):
    (tmp_path / "x.tsv").write_text("token\tcount\na\t1\n")
    with pytest.raises(ngrams.PipelineError, match="not an n-gram table"):
        ngrams.read(tmp_path / "x.tsv")
