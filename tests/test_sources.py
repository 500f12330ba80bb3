"""Unit tests for rnn_sentiment.sources (tables and aclImdb tarballs) and rnn_sentiment.splits."""

import io
import json
import tarfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from helpers import read_source
from rnn_sentiment.core import params
from rnn_sentiment.core.errors import PipelineError
from rnn_sentiment.data import reviews, sources, splits

PARAMS_YAML = Path(__file__).resolve().parents[1] / "params.yaml"


@pytest.fixture(scope="module")
def data() -> params.DataParams:
    return params.load(PARAMS_YAML).data.model_copy(
        update=dict(text_column="text", label_column="label", split_column="split")
    )


def write(path: Path, content: str | bytes) -> Path:
    path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    return path


# --- tables -----------------------------------------------------------------------------------


def test_csv_with_text_and_label_columns(tmp_path, data):
    path = write(
        tmp_path / "reviews.csv", 'text,label\nLoved it,pos\n"Bad, really bad",neg\nMeh but ok,1\n'
    )
    frame = read_source(path, data)
    assert list(frame.columns) == ["text", "label", "split"]
    assert frame["text"].tolist() == ["Loved it", "Bad, really bad", "Meh but ok"]
    assert frame["label"].tolist() == [1, 0, 1]
    assert frame["split"].tolist() == ["", "", ""]


def test_custom_column_names_are_honoured(tmp_path, data):
    path = write(
        tmp_path / "r.csv", "review,sentiment,extra\ngood film,positive,x\nawful,negative,y\n"
    )
    frame = read_source(
        path, data.model_copy(update=dict(text_column="review", label_column="sentiment"))
    )
    assert frame["text"].tolist() == ["good film", "awful"]
    assert frame["label"].tolist() == [1, 0]


@pytest.mark.parametrize(
    "positive, negative",
    [
        ("pos", "neg"),
        ("positive", "negative"),
        ("1", "0"),
        ("POS", "Neg"),
        (" Positive ", "NEGATIVE"),
    ],
)
def test_label_names_map_to_one_and_zero(tmp_path, data, positive, negative):
    path = write(
        tmp_path / "l.csv", f"text,label\na,{negative}\nb,{positive}\nc,{positive}\nd,{negative}\n"
    )
    assert read_source(path, data)["label"].tolist() == [0, 1, 1, 0]


def test_label_dtype_is_small_integer(tmp_path, data):
    frame = read_source(write(tmp_path / "l.csv", "text,label\na,pos\nb,neg\n"), data)
    assert frame["label"].dtype == np.int8


@pytest.mark.parametrize(
    "rows, line",
    [
        (["good,pos", "hmm,maybe"], 3),
        (["hmm,maybe", "good,pos"], 2),
        (["a,pos", "b,neg", "c,1", "d,maybe", "e,0"], 5),
    ],
)
def test_a_bad_label_names_its_csv_line(tmp_path, data, rows, line):
    path = write(tmp_path / "bad.csv", "text,label\n" + "\n".join(rows) + "\n")
    with pytest.raises(PipelineError) as caught:
        read_source(path, data)
    message = str(caught.value)
    assert "bad.csv" in message
    assert f"row {line}" in message
    assert "'maybe'" in message


@pytest.mark.parametrize("blank", ["", "   ", "\t"])
def test_empty_or_whitespace_text_names_its_csv_line(tmp_path, data, blank):
    path = write(tmp_path / "t.csv", f'text,label\ngood,pos\nfine,neg\n"{blank}",neg\nok,pos\n')
    with pytest.raises(PipelineError) as caught:
        read_source(path, data)
    assert "t.csv" in str(caught.value) and "row 4" in str(caught.value)
    assert "empty text" in str(caught.value)


@pytest.mark.parametrize("header, missing", [("review,label", "text"), ("text,sentiment", "label")])
def test_a_missing_column_is_named(tmp_path, data, header, missing):
    path = write(tmp_path / "c.csv", f"{header}\nnice,pos\n")
    with pytest.raises(PipelineError) as caught:
        read_source(path, data)
    assert f"'{missing}'" in str(caught.value)
    assert "c.csv" in str(caught.value)


@pytest.mark.parametrize(
    "suffix, content",
    [
        (".csv", "text,label\ncaf\u00e9 ok,pos\n".encode("latin-1")),
        (".tsv", "text\tlabel\nna\u00efve\tneg\n".encode("latin-1")),
        (".jsonl", '{"text": "caf\u00e9", "label": 1}\n'.encode("latin-1")),
    ],
)
def test_non_utf8_bytes_raise_mentioning_utf8(tmp_path, data, suffix, content):
    path = write(tmp_path / f"latin1{suffix}", content)
    with pytest.raises(PipelineError, match="UTF-8") as caught:
        read_source(path, data)
    assert path.name in str(caught.value)


@pytest.mark.parametrize(
    "name", ["empty.csv", "empty.tsv", "empty.jsonl", "empty.parquet", "empty.tar.gz"]
)
def test_an_empty_file_raises(tmp_path, data, name):
    path = write(tmp_path / name, b"")
    with pytest.raises(PipelineError, match=name.replace(".", r"\.")):
        read_source(path, data)


def test_a_header_without_rows_raises(tmp_path, data):
    with pytest.raises(PipelineError, match="no rows"):
        read_source(write(tmp_path / "h.csv", "text,label\n"), data)


def test_a_missing_source_raises(tmp_path, data):
    with pytest.raises(PipelineError, match="does not exist"):
        read_source(tmp_path / "nope.csv", data)


def test_an_unknown_file_type_raises(tmp_path, data):
    with pytest.raises(PipelineError, match="reviews.xlsx"):
        read_source(write(tmp_path / "reviews.xlsx", b"PK\x03\x04"), data)


TABLE = pd.DataFrame(
    {
        "text": ["great fun", "dull, so dull", 'a "classic"', "meh\twith tab"],
        "label": ["pos", "neg", "positive", "negative"],
    }
)
EXPECTED_LABELS = [1, 0, 1, 0]


def test_tsv_reads(tmp_path, data):
    rows = "\n".join(
        f"{t.replace(chr(9), ' ')}\t{label}"
        for t, label in zip(TABLE["text"], TABLE["label"], strict=True)
    )
    frame = read_source(write(tmp_path / "r.tsv", "text\tlabel\n" + rows + "\n"), data)
    assert frame["text"].tolist() == ["great fun", "dull, so dull", 'a "classic"', "meh with tab"]
    assert frame["label"].tolist() == EXPECTED_LABELS


def test_every_line_of_a_tsv_is_one_review_whatever_quote_characters_it_holds(tmp_path, data):
    texts = [f"review {i} is fine" for i in range(300)]
    texts[5] = (
        '"Best film ever'  # opens a quote that CSV rules would carry over the following lines
    )
    texts[6] = 'a "quoted" word'
    texts[195] = 'ends with a quote"'
    texts[250] = '""'
    rows = "".join(f"{text}\t{i % 2}\n" for i, text in enumerate(texts))
    frame = read_source(write(tmp_path / "r.tsv", "text\tlabel\n" + rows), data)
    assert frame["text"].tolist() == texts
    assert frame["label"].tolist() == [i % 2 for i in range(300)]


def test_a_tsv_row_with_an_extra_field_is_named(tmp_path, data):
    path = write(tmp_path / "r.tsv", "text\tlabel\nfine\t1\nbad\t0\textra\n")
    with pytest.raises(PipelineError, match=r"r\.tsv.*line 3"):
        read_source(path, data)


@pytest.mark.parametrize(
    "name, content",
    [
        ("r.csv", "text,label,text\nfine,1,other\nbad,0,x\n"),
        ("r.tsv", "text\tlabel\tlabel\nfine\t1\t0\n"),
    ],
)
def test_a_repeated_column_name_is_refused_naming_it(tmp_path, data, name, content):
    repeated = "'text'" if name.endswith("csv") else "'label'"
    with pytest.raises(PipelineError, match=f"{repeated} appears 2 times"):
        read_source(write(tmp_path / name, content), data)


def test_a_parquet_file_with_a_repeated_column_is_refused(tmp_path, data):
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / "r.parquet"
    pq.write_table(
        pa.table(
            [pa.array(["fine"]), pa.array([1]), pa.array(["x"])], names=["text", "label", "text"]
        ),
        path,
    )
    with pytest.raises(PipelineError, match="'text' appears 2 times"):
        read_source(path, data)


def test_a_jsonl_record_without_a_label_says_so(tmp_path, data):
    lines = [{"text": "fine", "label": 1}, {"text": "no label here"}]
    path = write(tmp_path / "r.jsonl", "".join(json.dumps(line) + "\n" for line in lines))
    with pytest.raises(PipelineError) as caught:
        read_source(path, data)
    assert "row 2: no label" in str(caught.value) and "nan" not in str(caught.value)


def test_a_folder_of_tables_is_named_as_such(tmp_path, data):
    folder = tmp_path / "mine"
    folder.mkdir()
    write(folder / "a.csv", "text,label\nfine,1\n")
    write(folder / "b.csv", "text,label\nbad,0\n")
    with pytest.raises(PipelineError, match=r"folder of tables \(a\.csv, b\.csv\).*one file"):
        read_source(folder, data)


def test_jsonl_reads_with_string_integer_and_boolean_labels(tmp_path, data):
    lines = [
        {"text": "great fun", "label": "pos"},
        {"text": "dull", "label": 0},
        {"text": "classic", "label": True},
        {"text": "bad", "label": False},
    ]
    path = write(tmp_path / "r.jsonl", "".join(json.dumps(line) + "\n" for line in lines))
    frame = read_source(path, data)
    assert frame["text"].tolist() == ["great fun", "dull", "classic", "bad"]
    assert frame["label"].tolist() == [1, 0, 1, 0]


def test_jsonl_bad_label_is_named_by_one_based_record(tmp_path, data):
    lines = [{"text": "fine", "label": 1}, {"text": "what", "label": "maybe"}]
    path = write(tmp_path / "r.jsonl", "".join(json.dumps(line) + "\n" for line in lines))
    with pytest.raises(PipelineError, match="row 2"):
        read_source(path, data)


def test_parquet_reads(tmp_path, data):
    path = tmp_path / "r.parquet"
    TABLE.to_parquet(path)
    frame = read_source(path, data)
    assert frame["text"].tolist() == TABLE["text"].tolist()
    assert frame["label"].tolist() == EXPECTED_LABELS


def test_parquet_with_integer_labels(tmp_path, data):
    path = tmp_path / "r.parquet"
    pd.DataFrame(
        {"text": ["a", "b", "c"], "label": np.array([0, 1, 1], dtype=np.int64)}
    ).to_parquet(path)
    assert read_source(path, data)["label"].tolist() == [0, 1, 1]


def test_a_split_column_is_read_and_checked(tmp_path, data):
    path = write(tmp_path / "s.csv", "text,label,split\na,pos,train\nb,neg,TEST\nc,neg, train \n")
    assert read_source(path, data)["split"].tolist() == ["train", "test", "train"]
    bad = write(tmp_path / "s2.csv", "text,label,split\na,pos,train\nb,neg,valid\n")
    with pytest.raises(PipelineError, match="row 3"):
        read_source(bad, data)


# --- aclImdb tarballs -------------------------------------------------------------------------


def imdb_tarball(path: Path, reviews: dict[str, list[tuple[int, str]]]) -> Path:
    """``reviews`` maps "train/pos" etc. to (id, text) pairs; ratings follow the polarity."""
    with tarfile.open(path, "w:gz") as archive:
        for folder, items in reviews.items():
            for number, text in items:
                rating = 9 if folder.endswith("pos") else 2
                payload = text.encode("utf-8")
                info = tarfile.TarInfo(f"aclImdb/{folder}/{number}_{rating}.txt")
                info.size = len(payload)
                archive.addfile(info, io.BytesIO(payload))
            info = tarfile.TarInfo(f"aclImdb/{folder}")
            info.type = tarfile.DIRTYPE
            archive.addfile(info)
        extra = b"the vocabulary file is not a review"
        info = tarfile.TarInfo("aclImdb/imdb.vocab")
        info.size = len(extra)
        archive.addfile(info, io.BytesIO(extra))
    return path


FOLDERS = ("train/pos", "train/neg", "test/pos", "test/neg")


def small_reviews(per_folder: int = 3) -> dict[str, list[tuple[int, str]]]:
    return {
        folder: [(i, f"{folder} review {i}<br />caf\u00e9") for i in range(per_folder)]
        for folder in FOLDERS
    }


def test_a_small_aclimdb_tarball_reads_with_labels_and_splits(tmp_path, data):
    path = imdb_tarball(tmp_path / "aclImdb_v1.tar.gz", small_reviews())
    frame = read_source(path, data)
    assert list(frame.columns) == ["text", "label", "split"]
    assert len(frame) == 12
    for text, label, split in frame.itertuples(index=False):
        folder_split, polarity = text.split(" ")[0].split("/")
        assert split == folder_split
        assert label == (1 if polarity == "pos" else 0), text
    counts = frame.groupby(["split", "label"]).size().to_dict()
    assert counts == {("test", 0): 3, ("test", 1): 3, ("train", 0): 3, ("train", 1): 3}
    assert "imdb.vocab" not in " ".join(frame["text"])
    assert any("caf\u00e9" in t for t in frame["text"])


def test_a_tarball_missing_test_neg_names_the_folder(tmp_path, data):
    reviews = small_reviews()
    del reviews["test/neg"]
    path = imdb_tarball(tmp_path / "partial.tar.gz", reviews)
    with pytest.raises(PipelineError) as caught:
        read_source(path, data)
    message = str(caught.value)
    assert "test/neg" in message
    assert "partial.tar.gz" in message
    assert "train/pos" not in message.split("(expected")[0]


def test_a_truncated_tarball_raises(tmp_path, data):
    reviews = {folder: [(i, f"{folder} {i} " * 40) for i in range(20)] for folder in FOLDERS}
    good = imdb_tarball(tmp_path / "good.tar.gz", reviews)
    cut = tmp_path / "cut.tar.gz"
    cut.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    with pytest.raises(PipelineError, match="cut.tar.gz"):
        read_source(cut, data)


def test_a_tarball_review_that_is_not_utf8_raises(tmp_path, data):
    reviews = small_reviews()
    path = tmp_path / "latin.tar.gz"
    imdb_tarball(path, reviews)
    with tarfile.open(path, "r:gz") as archive:
        members = [(m, archive.extractfile(m).read() if m.isreg() else None) for m in archive]
    with tarfile.open(path, "w:gz") as archive:
        for member, payload in members:
            if member.name.endswith("test/neg/1_2.txt"):
                payload = "na\u00efve".encode("latin-1")
                member.size = len(payload)
            archive.addfile(member, io.BytesIO(payload) if payload is not None else None)
    with pytest.raises(PipelineError, match="UTF-8") as caught:
        read_source(path, data)
    assert "test/neg/1_2.txt" in str(caught.value)


# --- splits -----------------------------------------------------------------------------------


def review_frame(train_pos: int, train_neg: int, test_pos: int, test_neg: int) -> pd.DataFrame:
    rows = (
        [("train", 1)] * train_pos
        + [("train", 0)] * train_neg
        + [("test", 1)] * test_pos
        + [("test", 0)] * test_neg
    )
    return pd.DataFrame(
        {
            "text": [f"review {i}" for i in range(len(rows))],
            "label": np.array([label for _, label in rows], dtype=np.int8),
            "split": [split for split, _ in rows],
        }
    )


def split_counts(frame: pd.DataFrame) -> dict:
    return {key: int(n) for key, n in frame.groupby(["split", "label"]).size().items()}


def test_val_split_is_stratified_from_train_only(data):
    frame = review_frame(80, 40, 30, 30)
    result = splits.assign_splits(
        frame,
        data.model_copy(update=dict(val_fraction=0.25, max_train=0, max_test=0)),
        seed=1,
        where="t",
    )
    assert split_counts(result) == {
        ("train", 1): 60,
        ("train", 0): 30,
        ("val", 1): 20,
        ("val", 0): 10,
        ("test", 1): 30,
        ("test", 0): 30,
    }
    # every review is kept exactly once, and test rows are untouched
    assert sorted(result["text"]) == sorted(frame["text"])
    test_before = set(frame.loc[frame["split"] == "test", "text"])
    assert set(result.loc[result["split"] == "test", "text"]) == test_before
    assert frame["split"].isin(["train", "test"]).all()  # input not modified


def test_ingest_in_chunks_writes_what_splitting_the_whole_table_at_once_gives(
    tmp_path, data, monkeypatch
):
    frame = review_frame(30, 25, 20, 22)
    frame.loc[7, "text"] = frame.loc[60, "text"]  # one test review duplicated in train
    path = tmp_path / "all.csv"
    frame.to_csv(path, index=False)
    config = data.model_copy(update=dict(val_fraction=0.2, max_train=40, max_test=0))
    expected = splits.assign_splits(read_source(path, config), config, seed=4, where="t")

    monkeypatch.setattr(sources, "CHUNK_ROWS", 4)
    rows = reviews.spool(sources.iter_source(path, config), tmp_path / "scratch.parquet")
    assert list(rows.columns) == ["row", "label", "split", "text_hash"], (
        "no texts are held between passes"
    )
    chosen = splits.assign_splits(rows, config, seed=4, where="t")
    test = expected["split"] == "test"
    assert (
        splits.count_train_test_duplicates(chosen)
        == expected.loc[test, "text"].isin(expected.loc[~test, "text"]).sum()
    )
    reviews.write(tmp_path / "scratch.parquet", chosen, tmp_path / "reviews.parquet")

    written = pd.read_parquet(tmp_path / "reviews.parquet")
    assert written["text"].tolist() == expected["text"].tolist()
    assert written["label"].tolist() == expected["label"].tolist()
    assert written["split"].tolist() == expected["split"].tolist()
    chunks = list(reviews.chunks(tmp_path / "reviews.parquet", ["split"]))
    assert len(chunks) > 10 and max(map(len, chunks)) <= 4
    assert (
        reviews.split_sizes(tmp_path / "reviews.parquet")
        == expected["split"].value_counts().to_dict()
    )


def test_a_bad_row_in_a_later_chunk_is_named_by_its_line_in_the_file(tmp_path, data, monkeypatch):
    monkeypatch.setattr(sources, "CHUNK_ROWS", 3)
    rows = [f"review {i},pos" for i in range(10)]
    rows[7] = "review 7,maybe"
    path = write(tmp_path / "late.csv", "text,label\n" + "\n".join(rows) + "\n")
    with pytest.raises(PipelineError, match="late.csv: row 9: label 'maybe'"):
        read_source(path, data)


def test_assign_splits_is_deterministic_for_a_seed(data):
    frame = review_frame(50, 50, 10, 10)
    config = data.model_copy(update=dict(val_fraction=0.2, max_train=0, max_test=0))
    first = splits.assign_splits(frame, config, seed=7, where="t")
    again = splits.assign_splits(frame, config, seed=7, where="t")
    other = splits.assign_splits(frame, config, seed=8, where="t")
    pd.testing.assert_frame_equal(first, again)
    assert set(first.loc[first["split"] == "val", "text"]) != set(
        other.loc[other["split"] == "val", "text"]
    )


def test_max_train_limits_train_plus_val_keeping_class_balance(data):
    frame = review_frame(300, 100, 40, 40)
    config = data.model_copy(update=dict(val_fraction=0.1, max_train=200, max_test=20))
    result = splits.assign_splits(frame, config, seed=3, where="t")
    counts = split_counts(result)
    assert counts[("train", 1)] + counts[("val", 1)] == 150
    assert counts[("train", 0)] + counts[("val", 0)] == 50
    assert counts[("val", 1)] == 15 and counts[("val", 0)] == 5
    assert counts[("test", 1)] == 10 and counts[("test", 0)] == 10


def test_a_table_without_splits_gets_a_stratified_test_split(data):
    frame = review_frame(60, 40, 0, 0)
    frame["split"] = ""
    config = data.model_copy(
        update=dict(test_fraction=0.5, val_fraction=0.1, max_train=0, max_test=0)
    )
    counts = split_counts(splits.assign_splits(frame, config, seed=0, where="t"))
    assert counts[("test", 1)] == 30 and counts[("test", 0)] == 20
    assert counts[("val", 1)] == 3 and counts[("val", 0)] == 2
    assert counts[("train", 1)] == 27 and counts[("train", 0)] == 18


@pytest.mark.parametrize(
    "sizes, split, absent",
    [
        ((10, 0, 5, 5), "train", "negative"),
        ((0, 10, 5, 5), "train", "positive"),
        ((10, 10, 0, 5), "test", "positive"),
    ],
)
def test_one_class_absent_raises(data, sizes, split, absent):
    config = data.model_copy(update=dict(val_fraction=0.1, max_train=0, max_test=0))
    with pytest.raises(PipelineError) as caught:
        splits.assign_splits(review_frame(*sizes), config, seed=0, where="reviews.csv")
    message = str(caught.value)
    assert "reviews.csv" in message
    assert f"{split} split has no {absent}" in message


def test_a_val_split_of_one_class_is_refused(data):
    config = data.model_copy(update=dict(val_fraction=0.1, max_train=0, max_test=0))
    with pytest.raises(PipelineError, match="val split holds only negative reviews"):
        splits.assign_splits(review_frame(4, 40, 5, 5), config, seed=0, where="t")


def test_a_skewed_split_is_a_warning_naming_its_counts(data, capsys):
    config = data.model_copy(update=dict(val_fraction=0.2, max_train=0, max_test=0))
    splits.assign_splits(review_frame(10, 190, 50, 50), config, seed=0, where="reviews.csv")
    err = capsys.readouterr().err
    assert "warning: reviews.csv: the train split is skewed, 8 positive and 152 negative" in err
    assert "val split is skewed, 2 positive and 38 negative" in err and "test split" not in err
    splits.assign_splits(review_frame(50, 50, 50, 50), config, seed=0, where="reviews.csv")
    assert capsys.readouterr().err == ""


def test_a_val_fraction_that_empties_val_raises(data):
    config = data.model_copy(update=dict(val_fraction=0.01, max_train=0, max_test=0))
    with pytest.raises(PipelineError, match="val_fraction"):
        splits.assign_splits(review_frame(3, 3, 2, 2), config, seed=0, where="t")
