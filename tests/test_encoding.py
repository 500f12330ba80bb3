"""Unit tests for text/encoding.py: padding, truncation, OOV, n-gram bags, and the .npy files."""

import random
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from helpers import save_split
from rnn_sentiment.core.errors import PipelineError
from rnn_sentiment.text import encoding
from rnn_sentiment.text.ngrams import NgramIndex
from rnn_sentiment.text.vocab import PAD_ID, UNK_ID

# "t0" .. "t29" have ids 2 .. 31.
VOCAB = pd.Index(["<pad>", "<unk>"] + [f"t{i}" for i in range(30)])
# n-gram ids: "t0".."t29" are 0..29, then the bigrams "t{i} t{i+1}" are 30..58
NGRAMS = NgramIndex([f"t{i}" for i in range(30)] + [f"t{i} t{i + 1}" for i in range(29)])


def tid(i: int) -> int:
    return i + 2


def toks(*docs) -> pd.Series:
    return pd.Series(list(docs), dtype=object)


def seq(n: int, start: int = 0) -> list[str]:
    return [f"t{start + i}" for i in range(n)]


def test_rows_are_right_padded_with_true_lengths():
    split = encoding.encode(toks(seq(3), seq(1, 5), seq(6)), np.array([1, 0, 1]), VOCAB, 6, "head")
    assert split.ids.shape == (3, 6)
    assert (
        split.ids.dtype == np.int32
        and split.lengths.dtype == np.int32
        and split.labels.dtype == np.int8
    )
    assert split.ids.tolist() == [
        [tid(0), tid(1), tid(2), PAD_ID, PAD_ID, PAD_ID],
        [tid(5), PAD_ID, PAD_ID, PAD_ID, PAD_ID, PAD_ID],
        [tid(i) for i in range(6)],
    ]
    assert split.lengths.tolist() == [3, 1, 6]
    assert split.labels.tolist() == [1, 0, 1]


@pytest.mark.parametrize(
    "policy, kept",
    [
        ("head", [0, 1, 2, 3]),
        ("tail", [6, 7, 8, 9]),
        ("head_tail", [0, 1, 8, 9]),
    ],
)
def test_truncation_policy_keeps_the_right_tokens(policy, kept):
    split = encoding.encode(toks(seq(10)), np.array([1]), VOCAB, 4, policy)
    assert split.ids.tolist() == [[tid(i) for i in kept]]
    assert split.lengths.tolist() == [4]


def test_head_tail_with_odd_max_len_gives_the_extra_slot_to_the_tail():
    split = encoding.encode(toks(seq(10)), np.array([0]), VOCAB, 5, "head_tail")
    assert split.ids.tolist() == [[tid(0), tid(1), tid(7), tid(8), tid(9)]]


@pytest.mark.parametrize("policy", ["head", "tail", "head_tail"])
def test_truncation_in_a_mixed_batch_matches_list_slicing(policy):
    """Rows of many lengths, some truncated and some not, against a plain-Python reference."""
    rng = random.Random(7)
    max_len = 7
    docs = [
        [
            f"t{rng.randrange(30)}" if rng.random() < 0.8 else "oov"
            for _ in range(rng.randint(0, 20))
        ]
        for _ in range(60)
    ]
    split = encoding.encode(toks(*docs), np.zeros(len(docs)), VOCAB, max_len, policy)
    for row, doc in enumerate(docs):
        ids = [VOCAB.get_loc(t) if t in VOCAB else UNK_ID for t in doc] or [UNK_ID]
        if len(ids) > max_len:
            head = max_len // 2
            ids = {
                "head": ids[:max_len],
                "tail": ids[-max_len:],
                "head_tail": ids[:head] + ids[len(ids) - (max_len - head) :],
            }[policy]
        assert split.lengths[row] == len(ids)
        assert split.ids[row].tolist() == ids + [PAD_ID] * (max_len - len(ids)), (row, doc)


def test_short_rows_are_never_truncated_by_tail_or_head_tail():
    for policy in ("head", "tail", "head_tail"):
        split = encoding.encode(toks(seq(3)), np.array([1]), VOCAB, 8, policy)
        assert split.ids[0, :3].tolist() == [tid(0), tid(1), tid(2)]
        assert split.lengths.tolist() == [3]


def test_out_of_vocabulary_tokens_become_unk():
    split = encoding.encode(
        toks(["t3", "never-seen", "t4", "also-new"]), np.array([0]), VOCAB, 5, "head"
    )
    assert split.ids.tolist() == [[tid(3), UNK_ID, tid(4), UNK_ID, PAD_ID]]
    assert UNK_ID == 1


def test_a_text_with_no_tokens_becomes_one_unk():
    split = encoding.encode(toks(seq(2), [], seq(1)), np.array([1, 0, 1]), VOCAB, 4, "head_tail")
    assert split.ids[1].tolist() == [UNK_ID, PAD_ID, PAD_ID, PAD_ID]
    assert split.lengths.tolist() == [2, 1, 1]
    # its neighbours are untouched by the placeholder
    assert split.ids[0].tolist() == [tid(0), tid(1), PAD_ID, PAD_ID]
    assert split.ids[2].tolist() == [tid(0), PAD_ID, PAD_ID, PAD_ID]


def test_non_default_index_is_ignored():
    series = pd.Series([seq(2), seq(1, 4)], index=[17, 3], dtype=object)
    split = encoding.encode(series, np.array([0, 1]), VOCAB, 3, "head")
    assert split.ids.tolist() == [[tid(0), tid(1), PAD_ID], [tid(4), PAD_ID, PAD_ID]]


def test_the_ngram_bag_covers_the_whole_review_not_only_what_the_recurrent_path_keeps():
    split = encoding.encode(
        toks(seq(6), [], ["t3", "oov", "t4", "t3"]), np.array([1, 0, 1]), VOCAB, 2, "head", NGRAMS
    )
    assert split.ids[0].tolist() == [tid(0), tid(1)] and split.lengths[0] == 2
    bags = [
        split.ngram_ids[split.ngram_offsets[i] : split.ngram_offsets[i + 1]].tolist()
        for i in range(3)
    ]
    assert bags[0] == [0, 1, 2, 3, 4, 5, 30, 31, 32, 33, 34]  # all six words and five bigrams
    assert bags[1] == []
    assert bags[2] == [3, 4], "each n-gram once; none across an unknown word"
    assert split.ngram_ids.dtype == np.int32 and split.ngram_offsets.dtype == np.int64


@pytest.mark.parametrize("block", [1, 2, 8192])
def test_rows_picks_those_reviews_with_their_own_bags_from_a_loaded_split(
    tmp_path, monkeypatch, block
):
    monkeypatch.setattr(encoding, "BLOCK_ROWS", block)  # the same bags, read in blocks of rows
    split = encoding.encode(
        toks(seq(3), [], ["t7", "t8"], seq(2, 20)), np.array([1, 0, 1, 0]), VOCAB, 4, "head", NGRAMS
    )
    save_split(split, tmp_path, "train")
    picked = encoding.load(tmp_path, "train").rows(np.array([3, 1, 2]))
    assert picked.lengths.tolist() == [2, 1, 2] and picked.labels.tolist() == [0, 0, 1]
    assert picked.ids.tolist() == [
        split.ids[3].tolist(),
        split.ids[1].tolist(),
        split.ids[2].tolist(),
    ]
    bags = [
        picked.ngram_ids[picked.ngram_offsets[i] : picked.ngram_offsets[i + 1]].tolist()
        for i in range(3)
    ]
    assert bags == [[20, 21, 50], [], [7, 8, 37]]
    assert picked.ngram_ids.dtype == np.int32 and picked.ngram_offsets.dtype == np.int64


def resident_file_mib() -> float:
    status = Path("/proc/self/status").read_text()
    return int(re.search(r"^RssFile:\s+(\d+) kB", status, re.MULTILINE).group(1)) / 1024


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads Linux's /proc")
def test_released_pages_of_a_mapped_array_leave_the_process_and_read_back_the_same(tmp_path):
    np.save(tmp_path / "ids.npy", np.arange(8_000_000, dtype=np.int32))  # 32 MB
    mapped = np.load(tmp_path / "ids.npy", mmap_mode="r")
    before = resident_file_mib()
    total = int(mapped[::1024].sum())  # one read a page: every page mapped
    read = resident_file_mib()
    encoding.release_pages(mapped[::2])  # through a view, as rows() and batches hold them
    assert read - before > 24 and resident_file_mib() < read - 24
    assert int(mapped[::1024].sum()) == total
    encoding.release_pages(np.arange(3))  # an array in memory: nothing to release


def test_save_then_load_round_trips(tmp_path):
    split = encoding.encode(
        toks(seq(5), [], seq(2, 9)), np.array([1, 0, 1]), VOCAB, 4, "tail", NGRAMS
    )
    save_split(split, tmp_path, "val")
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        f"val_{part}.npy" for part in sorted(encoding.FIELDS)
    ]
    loaded = encoding.load(tmp_path, "val")
    for part in encoding.FIELDS:
        np.testing.assert_array_equal(getattr(loaded, part), getattr(split, part))
        assert getattr(loaded, part).dtype == getattr(split, part).dtype


def test_load_of_a_missing_split_raises_pipeline_error(tmp_path):
    with pytest.raises(PipelineError, match="test_ids.npy"):
        encoding.load(tmp_path, "test")


@pytest.mark.parametrize("keep", ["all_but_one", "half", "header_only", "ten_bytes", "zero"])
def test_load_of_a_truncated_npy_names_the_file(tmp_path, keep):
    split = encoding.encode(toks(*[seq(8, i) for i in range(20)]), np.ones(20), VOCAB, 8, "head")
    save_split(split, tmp_path, "train")
    path = tmp_path / "train_ids.npy"
    data = path.read_bytes()
    cut = {
        "all_but_one": len(data) - 1,
        "half": len(data) // 2,
        "header_only": 128,
        "ten_bytes": 10,
        "zero": 0,
    }[keep]
    assert cut < len(data)
    path.write_bytes(data[:cut])
    with pytest.raises(PipelineError, match="train_ids.npy"):
        encoding.load(tmp_path, "train")


def test_load_refuses_arrays_that_disagree_in_length(tmp_path):
    split = encoding.encode(toks(seq(3), seq(2)), np.array([1, 0]), VOCAB, 4, "head")
    save_split(split, tmp_path, "train")
    np.save(tmp_path / "train_labels.npy", np.array([1], dtype=np.int8))
    with pytest.raises(PipelineError, match="disagree"):
        encoding.load(tmp_path, "train")


def write_in_chunks(directory, docs, labels, max_len, policy, chunk):
    with encoding.SplitWriter(directory, "train", len(docs), max_len) as writer:
        for start in range(0, len(docs), chunk):
            tokens = toks(*docs[start : start + chunk])
            writer.append(
                tokens,
                encoding.encode(
                    tokens, labels[start : start + chunk], VOCAB, max_len, policy, NGRAMS
                ),
            )
        return writer.close()


@pytest.mark.parametrize("chunk", [1, 3, 100])
def test_writing_in_chunks_gives_the_same_bytes_as_saving_at_once(tmp_path, chunk):
    docs = [seq(n % 11, n) for n in range(23)]
    labels = np.arange(23) % 2
    (tmp_path / "chunked").mkdir()
    (tmp_path / "whole").mkdir()
    write_in_chunks(tmp_path / "chunked", docs, labels, 6, "head_tail", chunk)
    save_split(
        encoding.encode(toks(*docs), labels, VOCAB, 6, "head_tail", NGRAMS),
        tmp_path / "whole",
        "train",
    )
    for part in encoding.FIELDS:
        name = f"train_{part}.npy"
        assert (tmp_path / "chunked" / name).read_bytes() == (
            tmp_path / "whole" / name
        ).read_bytes(), name


def test_stats_keys_and_values(tmp_path):
    docs = [seq(2), ["t1", "oov"], [], seq(10)]
    result = write_in_chunks(tmp_path, docs, np.array([0, 1, 0, 1]), 4, "head", chunk=3)
    assert set(result) == {
        "reviews",
        "oov_rate",
        "length_p50",
        "length_p90",
        "length_p99",
        "truncated_share",
        "ngrams_per_review",
    }
    assert result["ngrams_per_review"] == pytest.approx((3 + 1 + 0 + 19) / 4)
    assert result["reviews"] == 4
    # kept ids: 2 + 2 + 1 + 4 = 9, of which 2 are <unk> (the OOV word and the empty review)
    assert result["oov_rate"] == pytest.approx(2 / 9, abs=1e-6)
    assert result["truncated_share"] == pytest.approx(0.25)
    assert result["length_p50"] == pytest.approx(np.percentile([2, 2, 1, 10], 50))
    assert result["length_p50"] <= result["length_p90"] <= result["length_p99"] <= 10
