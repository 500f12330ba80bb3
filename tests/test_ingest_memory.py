"""Ingest holds a few bytes per review between its two passes, whatever the texts (data/reviews.py).

The peak of the whole stage is measured by `benchmarks/scale_memory.py --ingest-rows`; here, the
tables it keeps for every review, counted by pandas itself (deep, so Python strings count).
"""

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from conftest import PROJECT
from rnn_sentiment.core import params
from rnn_sentiment.data import reviews, sources, splits

ROWS = 50_000


def source_chunks(with_splits: bool):
    """What a source yields: text, label and the source's split ("" for a table without one), one
    string object per row as `str.strip` makes them."""
    for start in range(0, ROWS, 5000):
        ids = np.arange(start, start + 5000)
        split = [("train " if i % 3 else "test ") if with_splits else "" for i in ids]
        yield pd.DataFrame(
            {
                "text": [f"review {i} was {'good' if i % 2 else 'bad'}" for i in ids],
                "label": ids % 2,
                "split": pd.Series(split).str.strip(),
            }
        )


def bytes_per_row(frame: pd.DataFrame) -> float:
    return frame.memory_usage(deep=True, index=True).sum() / len(frame)


def test_the_tables_kept_per_review_cost_14_bytes_a_row(tmp_path):
    data = params.load(PROJECT / "params.yaml").data
    for with_splits in (False, True):
        rows = reviews.spool(source_chunks(with_splits), tmp_path / "scratch.parquet")
        assert len(rows) == ROWS
        assert bytes_per_row(rows) <= 14.1, rows.dtypes
        chosen = splits.assign_splits(
            rows, data.model_copy(update=dict(max_train=0, max_test=0)), 0, "t"
        )
        assert bytes_per_row(chosen) <= 14.1, chosen.dtypes
        assert set(chosen["split"]) == {"train", "val", "test"}


def test_spooled_columns_hold_every_review_in_order_across_blocks(tmp_path, monkeypatch):
    monkeypatch.setattr(reviews, "BLOCK_ROWS", 3000)  # chunks of 5000 straddle blocks
    rows = reviews.spool(source_chunks(True), tmp_path / "scratch.parquet")
    source = pd.concat(source_chunks(True), ignore_index=True)
    assert rows["row"].tolist() == list(range(ROWS))
    assert rows["label"].tolist() == source["label"].tolist()
    assert rows["split"].tolist() == source["split"].tolist()
    assert (
        rows["text_hash"].to_numpy() == pd.util.hash_array(source["text"].to_numpy(dtype=object))
    ).all()


def anonymous_mib() -> float:
    status = Path("/proc/self/status").read_text()
    return int(re.search(r"^RssAnon:\s+(\d+) kB", status, re.MULTILINE).group(1)) / 1024


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads Linux's /proc")
def test_a_parquet_source_is_read_holding_one_row_group_not_all_it_has_read(tmp_path):
    groups, rows, length = 32, sources.CHUNK_ROWS, 1000  # 160 MB that compression cannot shrink
    letters = np.random.default_rng(0).integers(97, 123, groups * rows * length, dtype=np.uint8)
    path = tmp_path / "reviews.parquet"
    with pq.ParquetWriter(path, pa.schema([("text", pa.large_string())])) as writer:
        for group in range(groups):
            block = letters[group * rows * length : (group + 1) * rows * length].tobytes()
            texts = [block[i : i + length].decode() for i in range(0, len(block), length)]
            writer.write_table(pa.table({"text": pa.array(texts, pa.large_string())}))
    del letters
    chunks = sources.parquet_chunks(path, ["text"])
    for _ in range(4):
        next(chunks)
    before = anonymous_mib()
    assert sum(len(chunk) for chunk in chunks) == (groups - 4) * rows
    assert anonymous_mib() - before < 40, "the 140 MB read since must not stay in memory"
