"""The reviews table (``data/interim/reviews.parquet``), written and read in chunks.

Ingest streams the source twice over, never holding its texts: pass 1 copies every chunk into
a scratch Parquet file and keeps only what splitting needs per row (label, source split and a
64-bit hash of the text: 14 bytes a review). Splits are assigned on those columns; pass 2 then
copies the chosen rows, with their split, into the table. Later stages read it back chunk by
chunk, one Parquet row group at a time. With the passing copies that building and splitting
make, the stage's peak memory grows by about 32 bytes a review (0.6 GB more for 20M reviews;
``benchmarks/scale_memory.py --ingest-rows``).
"""

from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from rnn_sentiment.data import sources, splits

SCHEMA = pa.schema([("text", pa.large_string()), ("label", pa.int8()), ("split", pa.string())])
BLOCK_ROWS = 1 << 20  # reviews per block of pass 1's per-review columns


def spool(chunks: Iterable[pd.DataFrame], scratch: Path) -> pd.DataFrame:
    """Pass 1: texts to ``scratch``; returns one small row per review: row, label, split, text_hash.

    14 bytes a review: ``row`` uint32 (int64 past 4 billion), ``label`` int8, ``split`` an int8
    categorical of splits.SPLITS (missing where the source has none), ``text_hash`` uint64."""
    columns = {"label": [], "split": [], "text_hash": []}
    total = 0
    with pq.ParquetWriter(scratch, pa.schema([SCHEMA.field("text")])) as writer:
        for chunk in chunks:
            texts = chunk["text"].to_numpy(dtype=object)
            writer.write_table(pa.table({"text": pa.array(texts, pa.large_string())}))
            _append(
                columns,
                total,
                {
                    "label": chunk["label"].to_numpy(dtype=np.int8),
                    "split": splits.split_codes(chunk["split"]),
                    "text_hash": pd.util.hash_array(texts),
                },
            )
            total += len(texts)
    return pd.DataFrame(
        {
            "row": np.arange(total, dtype=np.uint32 if total < 2**32 else np.int64),
            "label": _join(columns["label"], total, np.int8),
            "split": pd.Categorical.from_codes(
                _join(columns["split"], total, np.int8), splits.SPLITS
            ),
            "text_hash": _join(columns["text_hash"], total, np.uint64),
        },
        copy=False,
    )


def _append(
    columns: dict[str, list[np.ndarray]], total: int, values: dict[str, np.ndarray]
) -> None:
    """Copy a chunk's ``values`` into each column's blocks of BLOCK_ROWS. Large blocks, not one
    small array per chunk: those would stay scattered among the chunks' freed memory, which the
    process then cannot give back."""
    rows = len(values["label"])
    done = 0
    while done < rows:
        at = (total + done) % BLOCK_ROWS
        step = min(BLOCK_ROWS - at, rows - done)
        for name, blocks in columns.items():
            if at == 0:
                blocks.append(np.empty(BLOCK_ROWS, values[name].dtype))
            blocks[-1][at : at + step] = values[name][done : done + step]
        done += step


def _join(blocks: list[np.ndarray], total: int, dtype: type) -> np.ndarray:
    """One array of a column's ``total`` rows; the blocks are freed as soon as they are copied."""
    if blocks:
        blocks[-1] = blocks[-1][: total - BLOCK_ROWS * (len(blocks) - 1)]
    joined = np.concatenate(blocks) if blocks else np.empty(0, dtype)
    blocks.clear()
    return joined


def write(scratch: Path, chosen: pd.DataFrame, target: Path) -> None:
    """Pass 2: the rows of ``chosen`` (by their ``row`` in the scratch file), in file order, with
    ``chosen``'s label and split."""
    total, chosen_rows = pq.ParquetFile(scratch).metadata.num_rows, chosen["row"].to_numpy()
    keep = np.zeros(total, dtype=bool)
    keep[chosen_rows] = True
    split = np.zeros(total, dtype=np.int8)
    split[chosen_rows] = splits.split_codes(chosen["split"])
    label = np.zeros(total, dtype=np.int8)
    label[chosen_rows] = chosen["label"].to_numpy()
    names = pa.array(splits.SPLITS, pa.string())
    start = 0
    with pq.ParquetWriter(target, SCHEMA) as writer:
        for batch in sources.parquet_batches(scratch):
            rows = slice(start, start + batch.num_rows)
            start += batch.num_rows
            mask = keep[rows]
            if mask.any():
                writer.write_table(
                    pa.table(
                        {
                            "text": batch.column("text").filter(pa.array(mask)),
                            "label": pa.array(label[rows][mask], pa.int8()),
                            "split": names.take(pa.array(split[rows][mask])),
                        },
                        schema=SCHEMA,
                    )
                )


def chunks(path: Path, columns: list[str]) -> Iterator[pd.DataFrame]:
    """The table's ``columns``, at most CHUNK_ROWS reviews at a time."""
    return sources.parquet_chunks(path, columns)


def split_sizes(path: Path) -> dict[str, int]:
    """Reviews per split, counted by Arrow on the split column alone (as Python strings it would
    cost some 60 bytes a review)."""
    counts = pq.read_table(path, columns=["split"]).column("split").value_counts()
    return {item["values"].as_py(): item["counts"].as_py() for item in counts}
